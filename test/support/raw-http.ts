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
  headers: http.IncomingHttpHeaders;
}

/** Sends one request on a connection of its own; rejects only when no response came back. */
export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawReply> {
  const url = new URL(baseUrl);
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise<RawReply>((resolve, reject) => {
    const outgoing = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        // Keep-alive, as browsers and curl's HTTP/1.1 do: a server that answers before reading the whole body
        // then reads and drops the rest instead of closing on it (which can lose its answer to a reset).
        agent,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...req.headers },
      },
      (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', done);
        // The server closed while we were still sending the body: what it answered is complete or cut.
        res.on('close', done);
        res.on('error', done);
      },
    );
    // A server may answer (401, 404, 413) before reading the whole body and close the connection, so the rest
    // of the body fails to send (EPIPE, ECONNRESET): the answer is what counts. Only no answer is an error.
    let responded = false;
    outgoing.on('error', (err) => {
      if (!responded) reject(err);
    });
    outgoing.end(body);
  }).finally(() => agent.destroy());
}
