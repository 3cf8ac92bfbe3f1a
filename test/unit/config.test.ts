import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, sha256Hex } from '../../src/config.js';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'paso-config-'));

describe('configuration', () => {
  it('uses the built-in dev users and defaults without a config file', () => {
    const c = loadConfig({}, dir());
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      namespace: 'default',
      taskQueue: 'paso',
      temporalAddress: undefined,
    });
    expect(c.devUsers!.map((u) => u.name)).toEqual(['alice', 'bob', 'carol']);
  });

  it('reads users from a YAML file, keeping only token hashes', () => {
    const d = dir();
    const file = path.join(d, 'paso.config.yaml');
    writeFileSync(
      file,
      `users:\n  - { name: ann, token: secret-token-1, roles: [operator], groups: [ops] }\n  - { name: ben, tokenSha256: ${sha256Hex('other-token')}, roles: [viewer] }\n`,
    );
    const c = loadConfig({ PASO_CONFIG: file, TEMPORAL_ADDRESS: 'temporal:7233' }, d);
    expect(c.devUsers).toBeNull();
    expect(c.users).toEqual([
      { name: 'ann', tokenSha256: sha256Hex('secret-token-1'), roles: ['operator'], groups: ['ops'] },
      { name: 'ben', tokenSha256: sha256Hex('other-token'), roles: ['viewer'], groups: [] },
    ]);
    expect(JSON.stringify(c)).not.toContain('secret-token-1');
  });

  it('reads named locks with their order (fifo unless said), refusing duplicates and names that share a token variable', () => {
    const d = dir();
    const file = path.join(d, 'locks.yaml');
    const users = 'users:\n  - { name: ann, token: secret-token-1, roles: [admin] }\n';
    writeFileSync(file, `${users}locks:\n  - { name: "env:prod", order: newest-first }\n  - { name: db }\n`);
    expect(loadConfig({ PASO_CONFIG: file }, d).locks).toEqual([
      { name: 'env:prod', order: 'newest-first' },
      { name: 'db', order: 'fifo' },
    ]);
    expect(loadConfig({}, d).locks).toBeNull(); // no config file: any lock name, fifo
    writeFileSync(
      file,
      `${users}locks:\n  - { name: db }\n  - { name: db }\n  - { name: "env:prod" }\n  - { name: env.prod }\n`,
    );
    expect(() => loadConfig({ PASO_CONFIG: file }, d)).toThrow(/locks\[1\]\.name: duplicate lock/);
    expect(() => loadConfig({ PASO_CONFIG: file }, d)).toThrow(
      /locks\[3\]\.name: "env:prod" and "env.prod" would both give PASO_LOCK_TOKEN_ENV_PROD/,
    );
  });

  it('refuses an invalid file with the path of each problem', () => {
    const d = dir();
    const file = path.join(d, 'c.json');
    writeFileSync(file, JSON.stringify({ users: [{ name: 'x', roles: ['wizard'] }] }));
    expect(() => loadConfig({ PASO_CONFIG: file }, d)).toThrow(ConfigError);
    expect(() => loadConfig({ PASO_CONFIG: file }, d)).toThrow(/users\[0\]\.roles\[0\]/);
    expect(() => loadConfig({ PASO_PORT: 'eighty' }, d)).toThrow(/PASO_PORT/);
  });

  it('refuses a PASO_DATABASE_URL that is not a postgres:// URL, with the reason, and takes one that is', () => {
    const d = dir();
    for (const url of ['mysql://db/paso', 'postgres://', 'localhost:5432/paso', 'postgres://db/ paso']) {
      expect(() => loadConfig({ PASO_DATABASE_URL: url }, d)).toThrow(/PASO_DATABASE_URL: a postgres:\/\/ URL/);
    }
    expect(loadConfig({ PASO_DATABASE_URL: 'postgresql://paso:s3cret@db:5432/paso' }, d).databaseUrl).toBe(
      'postgresql://paso:s3cret@db:5432/paso',
    );
    expect(loadConfig({}, d).databaseUrl).toBeUndefined();
  });

  it('reads the operations settings: log level, metrics ports', () => {
    const d = dir();
    expect(loadConfig({}, d)).toMatchObject({ logLevel: 'info', metricsPort: undefined, sdkMetricsPort: undefined });
    expect(
      loadConfig({ PASO_LOG_LEVEL: 'DEBUG', PASO_METRICS_PORT: '9464', PASO_SDK_METRICS_PORT: '9465' }, d),
    ).toMatchObject({ logLevel: 'debug', metricsPort: 9464, sdkMetricsPort: 9465 });
    expect(() => loadConfig({ PASO_LOG_LEVEL: 'loud' }, d)).toThrow(/PASO_LOG_LEVEL: one of trace, debug, info/);
    expect(() => loadConfig({ PASO_METRICS_PORT: '0' }, d)).toThrow(/PASO_METRICS_PORT/);
  });

  it('turns stack traces in workflow code on only when asked (PASO_WORKFLOW_STACK_TRACES)', () => {
    const d = dir();
    expect(loadConfig({}, d).workflowStackTraces).toBe(false);
    for (const on of ['on', 'ON', 'true', '1']) {
      expect(loadConfig({ PASO_WORKFLOW_STACK_TRACES: on }, d).workflowStackTraces).toBe(true);
    }
    for (const off of ['off', 'false', '0']) {
      expect(loadConfig({ PASO_WORKFLOW_STACK_TRACES: off }, d).workflowStackTraces).toBe(false);
    }
    expect(() => loadConfig({ PASO_WORKFLOW_STACK_TRACES: 'yes please' }, d)).toThrow(
      /PASO_WORKFLOW_STACK_TRACES: one of on, off, true, false, 1, 0/,
    );
  });

  it('reads Slack and Talkback settings, with their defaults, and refuses a Talkback name given twice', () => {
    const d = dir();
    const file = path.join(d, 'c.json');
    const users = [{ name: 'ann', token: 'secret-token-1', roles: ['operator'], slack: 'U0ANN' }];
    const talkback = [{ name: 'restart-web', run: './restart.sh', allowed: { users: ['ann'] } }];
    writeFileSync(file, JSON.stringify({ users, slack: { signingSecret: 's', botToken: 'xoxb-1' }, talkback }));
    const c = loadConfig({ PASO_CONFIG: file }, d);
    expect(c.users[0]!.slack).toBe('U0ANN');
    expect(c.slack).toEqual({ signingSecret: 's', botToken: 'xoxb-1', apiUrl: 'https://slack.com/api' });
    expect(c.talkback).toEqual([
      { name: 'restart-web', run: './restart.sh', allowed: { users: ['ann'], groups: [] }, timeoutSeconds: 600 },
    ]);

    writeFileSync(file, JSON.stringify({ users, talkback: [...talkback, { ...talkback[0], run: 'rm -rf /' }] }));
    expect(() => loadConfig({ PASO_CONFIG: file }, d)).toThrow(/talkback\[1\]\.name: duplicate Talkback name/);
  });

  it('treats an empty environment variable as unset, as container platforms pass them', () => {
    const c = loadConfig({ TEMPORAL_ADDRESS: '', PASO_PORT: '', PASO_DATABASE_URL: '', PASO_WAITING_SCAN: '' }, dir());
    expect(c.temporalAddress).toBeUndefined();
    expect(c.port).toBe(8080);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.waitingScan).toBe(500); // not 0: an empty value does not turn the scan off
  });

  it('reads how many executions without PasoWaiting GET /waiting also reads (0 turns the scan off)', () => {
    const d = dir();
    expect(loadConfig({ PASO_WAITING_SCAN: '0' }, d).waitingScan).toBe(0);
    expect(loadConfig({ PASO_WAITING_SCAN: '2000' }, d).waitingScan).toBe(2000);
    expect(() => loadConfig({ PASO_WAITING_SCAN: '-1' }, d)).toThrow(/PASO_WAITING_SCAN/);
    expect(() => loadConfig({ PASO_WAITING_SCAN: 'lots' }, d)).toThrow(/PASO_WAITING_SCAN/);
  });

  it('reads secrets with exactly one source each, and refuses Talkback items naming unknown ones', () => {
    const d = dir();
    const file = path.join(d, 'paso.config.json');
    const users = [{ name: 'ann', token: 'secret-token-1', roles: ['admin'] }];
    const secrets = [
      { name: 'DEPLOY_TOKEN', value: 'v' },
      { name: 'KUBECONFIG_DATA', file: 'kube.conf', pipelines: ['web'] },
      { name: 'CLOUD', env: 'CLOUD_TOKEN' },
    ];
    writeFileSync(file, JSON.stringify({ users, secrets }));
    expect(loadConfig({ PASO_CONFIG: file }, d).secrets.map((x) => x.name)).toEqual([
      'DEPLOY_TOKEN',
      'KUBECONFIG_DATA',
      'CLOUD',
    ]);

    writeFileSync(
      file,
      JSON.stringify({
        users,
        secrets: [{ name: 'TWO', value: 'v', env: 'X' }, { name: 'LD_PRELOAD', value: 'v' }, { name: 'NONE' }],
        talkback: [{ name: 'tb', run: 'true', allowed: { users: ['ann'] }, secrets: ['MISSING'] }],
      }),
    );
    let message = '';
    try {
      loadConfig({ PASO_CONFIG: file }, d);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('secrets[0]: give exactly one of value, file, env');
    expect(message).toMatch(/secrets\[1\]\.name: /); // LD_PRELOAD changes how programs load
    expect(message).toContain('secrets[2]: give exactly one of value, file, env');
    expect(message).toContain('talkback[0].secrets[0]: no secret "MISSING" is configured');
  });
});
