/**
 * Masks secret values in a stream of output, as it streams: each occurrence becomes `***`, also when a value
 * arrives split across two chunks (or more). Bytes that might begin a value are held back until the next chunk
 * says whether they do; everything else passes at once, so a log stays live.
 */
export const MASK = '***';

export class StreamMasker {
  private readonly values: Buffer[];
  private readonly firstBytes: Set<number>;
  private carry = Buffer.alloc(0);

  constructor(values: readonly string[]) {
    // Longest first: of two values where one contains the other, the longer is masked whole.
    this.values = [...new Set(values.filter((v) => v.length > 0))]
      .map((v) => Buffer.from(v, 'utf8'))
      .sort((a, b) => b.length - a.length);
    this.firstBytes = new Set(this.values.map((v) => v[0]!));
  }

  get active(): boolean {
    return this.values.length > 0;
  }

  /** The part of `chunk` (with what was held back before it) that can be written now, masked. */
  push(chunk: Buffer): Buffer {
    return this.scan(chunk, false);
  }

  /** What was held back, at the end of the stream, masked: no more bytes will come to complete a value. */
  flush(): Buffer {
    return this.scan(Buffer.alloc(0), true);
  }

  private scan(chunk: Buffer, final: boolean): Buffer {
    if (!this.active) return chunk;
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const out: Buffer[] = [];
    let from = 0; // start of the bytes not yet emitted
    let i = 0;
    scan: while (i < data.length) {
      if (!this.firstBytes.has(data[i]!)) {
        i++;
        continue;
      }
      for (const value of this.values) {
        if (data.length - i >= value.length) {
          if (data.compare(value, 0, value.length, i, i + value.length) === 0) {
            out.push(data.subarray(from, i), Buffer.from(MASK));
            i += value.length;
            from = i;
            continue scan;
          }
        } else if (!final && data.compare(value, 0, data.length - i, i, data.length) === 0) {
          // The rest of the data is the start of this value: wait for the next chunk to decide.
          out.push(data.subarray(from, i));
          this.carry = Buffer.from(data.subarray(i));
          return Buffer.concat(out);
        }
      }
      i++;
    }
    out.push(data.subarray(from));
    this.carry = Buffer.alloc(0);
    return Buffer.concat(out);
  }
}

/** Masks a whole text at once (messages that did not stream). */
export function maskText(text: string, values: readonly string[]): string {
  const masker = new StreamMasker(values);
  if (!masker.active) return text;
  return Buffer.concat([masker.push(Buffer.from(text, 'utf8')), masker.flush()]).toString('utf8');
}
