import { describe, expect, it } from 'vitest';
import { maskText, StreamMasker } from '../../src/mask.js';

/** Streams `text` through a masker in the given pieces and returns what came out. */
function streamed(values: string[], pieces: string[]): string {
  const masker = new StreamMasker(values);
  const out = pieces.map((p) => masker.push(Buffer.from(p, 'utf8')));
  return Buffer.concat([...out, masker.flush()]).toString('utf8');
}

describe('StreamMasker', () => {
  it('masks every occurrence in one chunk', () => {
    expect(maskText('token=hunter2 and hunter2.', ['hunter2'])).toBe('token=*** and ***.');
  });

  it('masks a value split across two chunks, at every split point', () => {
    const text = 'before s3cr3t-value after';
    for (let cut = 0; cut <= text.length; cut++) {
      expect(streamed(['s3cr3t-value'], [text.slice(0, cut), text.slice(cut)]), `cut at ${cut}`).toBe(
        'before *** after',
      );
    }
  });

  it('masks a value that arrives one byte at a time, and multibyte values', () => {
    const masker = new StreamMasker(['pässwörd']);
    const bytes = Buffer.from('x pässwörd y', 'utf8');
    const out = [...bytes].map((b) => masker.push(Buffer.from([b])));
    expect(Buffer.concat([...out, masker.flush()]).toString('utf8')).toBe('x *** y');
  });

  it('passes output on at once when it cannot be the start of a value, and holds back only what can', () => {
    const masker = new StreamMasker(['abcdef']);
    expect(masker.push(Buffer.from('hello ab')).toString()).toBe('hello ');
    expect(masker.push(Buffer.from('cx')).toString()).toBe('abcx'); // not the value after all
    expect(masker.push(Buffer.from('abc')).toString()).toBe('');
    expect(masker.flush().toString()).toBe('abc'); // the stream ended: it was not a value
  });

  it('masks the longer of two values that overlap, and several values', () => {
    expect(maskText('key=abc123456 short=abc', ['abc', 'abc123456'])).toBe('key=*** short=***');
    expect(streamed(['one', 'two'], ['a on', 'e b t', 'wo c'])).toBe('a *** b *** c');
  });

  it('leaves output alone without values (and ignores empty ones)', () => {
    expect(maskText('nothing to hide', [])).toBe('nothing to hide');
    expect(maskText('nothing to hide', [''])).toBe('nothing to hide');
  });
});
