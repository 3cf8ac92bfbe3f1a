import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/api/chatops/commands.js';

const BOT = 'U0PASO';
const say = (text: string) => parseCommand(text, BOT);

describe('chat commands', () => {
  it('are only what follows a mention of Paso', () => {
    expect(say('approve this please')).toBeNull();
    expect(say('<@U0OTHER> status')).toBeNull();
    expect(say(`<@${BOT}> status`)).toEqual({ verb: 'status' });
    expect(say(`hey <@${BOT}>   STATUS  `)).toEqual({ verb: 'status' });
    expect(say(`<@${BOT}>`)).toEqual({ verb: 'help' });
  });

  it('bind a channel named after an execution, typed or linked by Slack', () => {
    expect(say(`<@${BOT}> add #job-web-42`)).toEqual({
      verb: 'add',
      executionId: 'web-42',
      name: 'job-web-42',
      channel: null,
    });
    expect(say(`<@${BOT}> add <#C0123ABC|job-web-42>`)).toEqual({
      verb: 'add',
      executionId: 'web-42',
      name: 'job-web-42',
      channel: 'C0123ABC',
    });
    expect(say(`<@${BOT}> add job-Web-7`)).toMatchObject({ verb: 'add', executionId: 'web-7' });
  });

  it('refuse a channel that names no execution, with the reason', () => {
    expect(say(`<@${BOT}> add`)).toMatchObject({ verb: 'invalid', message: expect.stringMatching(/add #job-/) });
    expect(say(`<@${BOT}> add #general`)).toMatchObject({
      verb: 'invalid',
      message: expect.stringMatching(/starts with "job-"/),
    });
    expect(say(`<@${BOT}> add #job-web`)).toMatchObject({
      verb: 'invalid',
      message: expect.stringMatching(/not an execution id/),
    });
    expect(say(`<@${BOT}> add #job-${'a'.repeat(63)}-1234567890123456`)).toMatchObject({
      verb: 'invalid',
      message: expect.stringMatching(/longer than Slack's 80/),
    });
  });

  it('carry decisions with an optional action name and comment', () => {
    expect(say(`<@${BOT}> approve looks good`)).toEqual({ verb: 'approve', rest: 'looks good' });
    expect(say(`<@${BOT}> reject`)).toEqual({ verb: 'reject', rest: '' });
    expect(say(`<@${BOT}> resume`)).toEqual({ verb: 'resume', rest: '' });
    expect(say(`<@${BOT}> skip probe`)).toEqual({ verb: 'skip', rest: 'probe' });
    expect(say(`<@${BOT}> retry all`)).toEqual({ verb: 'retry', rest: 'all' });
  });

  it('stop and wait, or stop and abandon, with a reason', () => {
    expect(say(`<@${BOT}> stop`)).toEqual({ verb: 'stop', abandon: false, reason: '' });
    expect(say(`<@${BOT}> stop abandon db is on fire`)).toEqual({
      verb: 'stop',
      abandon: true,
      reason: 'db is on fire',
    });
    expect(say(`<@${BOT}> stop wrong build`)).toEqual({ verb: 'stop', abandon: false, reason: 'wrong build' });
  });

  it('run exactly one Talkback command, and say what is wrong otherwise', () => {
    expect(say(`<@${BOT}> run restart-web`)).toEqual({ verb: 'run', name: 'restart-web' });
    expect(say(`<@${BOT}> run`)).toMatchObject({ verb: 'invalid' });
    expect(say(`<@${BOT}> run a b`)).toMatchObject({ verb: 'invalid' });
    expect(say(`<@${BOT}> deploy prod`)).toMatchObject({
      verb: 'invalid',
      message: expect.stringMatching(/do not know `deploy`/),
    });
  });
});
