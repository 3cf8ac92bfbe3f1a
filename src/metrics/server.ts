/**
 * Serving `/metrics`: Paso's registry, plus (in a process that runs a worker) Temporal's SDK metrics, which
 * the SDK runtime serves on its own loopback port (`PASO_SDK_METRICS_PORT`) and which are copied in here, so
 * that one scrape of a worker gets both. The gateway serves it on its own port (`GET /metrics`, like
 * `/healthz` without a token); a worker on `PASO_METRICS_PORT`.
 */
import { createServer, type Server } from 'node:http';
import type { RequestHandler } from 'express';
import { logger } from '../log.js';
import { registry } from './metrics.js';
import type { StateCollector } from './state-collector.js';

const log = logger.child({ component: 'metrics' });
let sdkMetricsUrl: string | null = null;

/** Where this process's SDK runtime serves its Prometheus metrics (set when a worker role installs it). */
export function setSdkMetricsUrl(url: string | null): void {
  sdkMetricsUrl = url;
}

async function sdkMetrics(): Promise<string> {
  if (!sdkMetricsUrl) return '';
  try {
    const response = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? await response.text() : '';
  } catch (err) {
    log.debug({ err }, 'the SDK metrics endpoint did not answer');
    return '';
  }
}

/** The whole text a scrape gets. */
export async function metricsText(collector?: StateCollector): Promise<string> {
  await collector?.refresh();
  const [own, sdk] = await Promise.all([registry.metrics(), sdkMetrics()]);
  return sdk ? `${own.trimEnd()}\n${sdk}` : own;
}

export function metricsHandler(collector?: StateCollector): RequestHandler {
  return async (_req, res) => {
    res.type(registry.contentType).send(await metricsText(collector));
  };
}

/** A worker's own metrics server: `GET /metrics` on `host:port`, nothing else. */
export async function startMetricsServer(host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    metricsText().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => {
        log.error({ err }, 'metrics failed');
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => server.listen(port, host, resolve).once('error', reject));
  return server;
}
