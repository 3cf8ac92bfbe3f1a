/**
 * The HTTP gateway: `createApp({ client, config })` builds the express app. Bodies are size-limited, every
 * input is validated with zod at the edge, and every error is problem+json.
 */
import express from 'express';
import type { Client } from '@temporalio/client';
import type { PasoConfig } from '../config.js';
import { fileStore } from '../store/files.js';
import type { PasoStore } from '../store/store.js';
import { slackClient } from '../slack.js';
import { AuthFailureLimiter, authenticate } from './auth.js';
import { ChatButtons } from './chatops/buttons.js';
import { ChatOps } from './chatops/chatops.js';
import { consoleRouter } from './console/router.js';
import { slackEventsRouter } from './chatops/router.js';
import { openApiDocument } from './openapi.js';
import { Paso } from './paso.js';
import { HttpProblem, notFoundHandler, problemHandler } from './problem.js';
import { executionsRouter } from './routes/executions.js';
import { locksRouter } from './routes/locks.js';
import { peopleRouter } from './routes/people.js';
import { pipelinesRouter, YAML_TYPES } from './routes/pipelines.js';
import { observeRequests, requestIds, routeOf } from '../metrics/http.js';
import { metricsHandler } from '../metrics/server.js';
import { StateCollector } from '../metrics/state-collector.js';
import { traceRequests } from '../tracing.js';

/** The largest request body accepted; larger ones get 413 before they are read whole. */
export const BODY_LIMIT = '1mb';

export interface AppDeps {
  client: Client;
  config: Pick<PasoConfig, 'users' | 'taskQueue' | 'dataDir' | 'notificationUrl' | 'publicUrl' | 'talkback' | 'slack'> &
    Partial<
      Pick<
        PasoConfig,
        'secrets' | 'authFailuresPerMinute' | 'trustProxy' | 'sessionSecret' | 'temporalUiUrl' | 'namespace'
      >
    >;
  /** Logs, annotations, attachments: PostgreSQL or the data directory's files (the default). */
  store?: PasoStore;
  /** A client on this process's own worker's connection, when it has one: executions start eagerly on it. */
  starter?: Client;
}

export function createApp({ client, config, store = fileStore(config.dataDir), starter }: AppDeps): express.Express {
  const paso = new Paso(client, config.taskQueue, { ...config, starter });
  const app = express();
  app.disable('x-powered-by');
  // Behind a load balancer, the client's address (for the limit on failed authentications) comes from
  // X-Forwarded-For, trusted only from the proxies PASO_TRUST_PROXY names.
  if (config.trustProxy) app.set('trust proxy', trustProxyValue(config.trustProxy));
  app.set('query parser', 'simple');
  // Operations: a request id (X-Request-Id, echoed), one log event and the HTTP metrics per request, a span.
  app.use(requestIds(), observeRequests(), traceRequests(routeOf));
  // Before the JSON parser: Slack's signature is over the raw body. Signed by Slack, not a bearer token.
  const slack = config.slack && slackClient(config.slack, 'gateway');
  const chatops = config.slack &&
    slack && {
      signingSecret: config.slack.signingSecret,
      handler: new ChatOps({
        paso,
        slack,
        annotations: store.annotations,
        users: config.users,
        publicUrl: config.publicUrl,
      }),
      buttons: new ChatButtons({ paso, slack, users: config.users }),
    };
  app.use('/chatops/slack', slackEventsRouter(chatops ?? null, BODY_LIMIT));
  app.use(express.json({ limit: BODY_LIMIT, strict: false }));
  app.use(express.text({ limit: BODY_LIMIT, type: YAML_TYPES }));

  app.get('/healthz', async (_req, res) => {
    try {
      await client.connection.withDeadline(Date.now() + 2_000, () => client.workflowService.getSystemInfo({}));
    } catch {
      throw new HttpProblem(503, 'Temporal is unreachable');
    }
    res.json({ status: 'ok' });
  });
  // Prometheus, without a token like /healthz (names of pipelines and stages only; see README).
  app.get('/metrics', metricsHandler(new StateCollector(client, config.taskQueue)));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });

  const perMinute = config.authFailuresPerMinute ?? 30;
  const limiter = perMinute > 0 ? new AuthFailureLimiter(perMinute) : null;
  // The web console: its pages and `/ui/api` authenticate by a session cookie, not a bearer token.
  app.use(
    consoleRouter({
      paso,
      store,
      users: config.users,
      limiter,
      sessionSecret: config.sessionSecret,
      secureCookies: config.publicUrl.startsWith('https:'),
      temporalUiUrl: config.temporalUiUrl ?? null,
      namespace: config.namespace ?? 'default',
    }),
  );
  app.use(authenticate(config.users, limiter));
  app.use(peopleRouter(paso));
  app.use('/pipelines', pipelinesRouter(paso));
  app.use('/executions', executionsRouter(paso, store));
  app.use('/locks', locksRouter(paso));
  app.use(notFoundHandler);
  app.use(problemHandler);
  return app;
}

/** `PASO_TRUST_PROXY` as Express takes it: a hop count, `true`, or addresses and subnets (comma-separated). */
function trustProxyValue(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
