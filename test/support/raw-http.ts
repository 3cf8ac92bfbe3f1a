/**
 * Requests sent exactly as written: the path unnormalised (bad %-escapes, `..`), any headers, a body that need
 * not match them. `fetch` would fix some of these up, so tests of the gateway's edge use this instead.
 */
import http from 'node:http';

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface RawReply {
  status: number;
  contentType: string;
  text: string;
}

/** Sends one request on a connection of its own; rejects only when no response came back. */
export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawReply> {
  const url = new URL(baseUrl);
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        agent: false,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...req.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    // A server may answer (401, 413) before reading the whole body and close: the answer is what counts.
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
