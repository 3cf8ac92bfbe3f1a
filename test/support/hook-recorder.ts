/**
 * A stand-in for whatever a team wires to Paso's notification hook (mail, chat): it records the JSON
 * documents POSTed to it, and tests read them back with GET /received.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startHookRecorder(): Promise<{ url: string; close: () => Promise<void> }> {
  const received: unknown[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
