/**
 * Operating Paso (issue 13): one Paso process of its own (worker + gateway, `node dist/src/main.js`) with a
 * worker metrics port and traces sent to a small OTLP/HTTP receiver in this test. One execution runs a command
 * with a secret, waits for an approval and succeeds; meanwhile the test makes requests with bad tokens and a
 * signed Slack request. Then:
 * - every metric the Grafana dashboard and the Prometheus rules query exists on the live `/metrics`, and the
 *   histograms the run exercised have samples;
 * - the logs are JSON lines with the request id, pipeline, execution, stage and action, and hold no secret;
 * - the HTTP trigger, the start of its workflow and the workflow's activities share one trace id.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueName } from '../support/api.js';
import { FAKE_SLACK_BOT_TOKEN } from '../support/fake-slack.js';
import { PasoProcess } from '../support/paso-process.js';
import { freePort } from '../support/ports.js';
import { sign } from '../support/slack.js';
import {
  TEST_SECRET_ENV,
  TEST_SECRET_VALUES,
  TEST_SLACK_SIGNING_SECRET,
  TEST_USERS,
  tokenOf,
  type TestUser,
} from '../support/users.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/** An OTLP/HTTP receiver (JSON, what `@opentelemetry/exporter-trace-otlp-http` sends): keeps every span. */
async function startOtlpReceiver(): Promise<{ url: string; spans: Span[]; close(): Promise<void> }> {
  const spans: Span[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: { scopeSpans?: { spans?: Span[] }[] }[];
        };
        for (const rs of body.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, spans, close: () => new Promise((r) => server.close(() => r())) };
}

/** The metric names a PromQL expression uses (Paso's and the SDK's). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:paso|temporal)_[a-zA-Z0-9_]+)\b/g)].map((m) => m[1]!);
}

/** Every family a `/metrics` text declares (`# TYPE`), with the series names a histogram adds. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
}

/** The value of one series (the sum over series whose labels include all of `labels`). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [, series, value] of text.matchAll(/^(\S+?(?:\{[^}]*\})?) (\S+)$/gm)) {
    if (series!.split('{')[0] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => series!.includes(`${k}="${v}"`))) sum += Number(value);
  }
  return sum;
}

let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
let paso: PasoProcess;
let logFile: string;
let metricsPort: number;

/** Headers with a test user's token, or with `token` as given (a wrong one). */
const as = (who: { user: TestUser } | { token: string }, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${'user' in who ? tokenOf(who.user) : who.token}`,
  'content-type': 'application/json',
  ...extra,
});

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-ops-'));
  logFile = path.join(workDir, 'paso.log');
  metricsPort = await freePort();
  paso = await PasoProcess.start({
    temporalAddress: inject('temporalAddress'),
    dataDir: path.join(workDir, 'data'),
    configFile: inject('configFile'),
    taskQueue: uniqueName('paso-ops'),
    logFile,
    env: {
      ...TEST_SECRET_ENV,
      PASO_LOG_LEVEL: 'debug',
      PASO_METRICS_PORT: String(metricsPort),
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_SERVICE_NAME: 'paso-test',
    },
  });
}, 90_000);

afterAll(async () => {
  await paso?.stop();
  await otlp?.close();
});

describe('operating Paso', () => {
  it('exposes the metrics the dashboard and alerts use, logs JSON without secrets, and traces a trigger', async () => {
    const name = uniqueName('ops');
    const put = await fetch(`${paso.url}/pipelines/${name}`, {
      method: 'PUT',
      headers: as({ user: 'alice' }),
      body: JSON.stringify({
        name,
        stages: [
          {
            name: 'Build',
            actions: [
              {
                name: 'compile',
                type: 'command',
                run: 'echo "building with $DEPLOY_TOKEN"',
                secrets: ['DEPLOY_TOKEN'],
              },
            ],
          },
          {
            name: 'Release',
            actions: [
              { name: 'go', type: 'approval', runOrder: 1, approvers: { users: ['dave'], groups: [] } },
              { name: 'ship', type: 'command', run: 'true', runOrder: 2 },
            ],
          },
        ],
      }),
    });
    expect(put.status).toBeLessThan(300);

    // A trigger with a request id of the caller's: echoed, logged.
    const triggered = await fetch(`${paso.url}/pipelines/${name}/executions`, {
      method: 'POST',
      headers: as({ user: 'bob' }, { 'x-request-id': 'ops-trigger-1' }),
      body: '{}',
    });
    expect(triggered.status).toBe(201);
    expect(triggered.headers.get('x-request-id')).toBe('ops-trigger-1');
    const { executionId } = (await triggered.json()) as { executionId: string };
    // Without one, the gateway makes one.
    const anonymous = await fetch(`${paso.url}/healthz`);
    expect(anonymous.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    // Failed authentications, one with a real token and more after it; a signed Slack request.
    for (const token of [`${tokenOf('bob')}x`, 'not-a-token-at-all']) {
      expect((await fetch(`${paso.url}/pipelines`, { headers: as({ token }) })).status).toBe(401);
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const slackBody = JSON.stringify({ type: 'url_verification', challenge: 'ops-challenge' });
    const slack = await fetch(`${paso.url}/chatops/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': sign(slackBody, timestamp),
      },
      body: slackBody,
    });
    expect(slack.status).toBe(200);

    // The approval waits: the state gauges see it.
    await expect
      .poll(
        async () => {
          const view = (await (
            await fetch(`${paso.url}/executions/${executionId}`, { headers: as({ user: 'carol' }) })
          ).json()) as {
            stages: { actions: { waitingFor: string | null }[] }[];
          };
          return view.stages.flatMap((s) => s.actions).some((a) => a.waitingFor === 'approval');
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBe(true);
    await new Promise((r) => setTimeout(r, 10_500)); // the state gauges are cached for 10 s
    const waiting = await (await fetch(`${paso.url}/metrics`)).text();
    expect(sample(waiting, 'paso_executions_waiting', { pipeline: name, kind: 'approval' })).toBe(1);
    expect(sample(waiting, 'paso_approval_next_expiry_timestamp_seconds', { pipeline: name })).toBeGreaterThan(
      Date.now() / 1000,
    );
    expect(sample(waiting, 'paso_stage_locked', { pipeline: name, stage: 'Release' })).toBe(1);
    expect(sample(waiting, 'paso_stage_lock_held_seconds', { pipeline: name, stage: 'Release' })).toBeGreaterThan(0);

    const approved = await fetch(`${paso.url}/executions/${executionId}/approvals`, {
      method: 'POST',
      headers: as({ user: 'dave' }),
      body: JSON.stringify({ stage: 'Release', action: 'go', decision: 'approve' }),
    });
    expect(approved.status).toBe(200);
    await expect
      .poll(
        async () =>
          (
            (await (
              await fetch(`${paso.url}/executions/${executionId}`, { headers: as({ user: 'carol' }) })
            ).json()) as {
              status: string;
            }
          ).status,
        { timeout: 30_000, interval: 250 },
      )
      .toBe('Succeeded');

    // Metrics: every name the dashboard and the alerts query is on the gateway's /metrics.
    const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/paso-dashboard.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
      templating: { list: { query?: unknown }[] };
    };
    const rules = YAML.parse(readFileSync(path.join(ROOT, 'deploy/prometheus/paso-alerts.yml'), 'utf8')) as {
      groups: { rules: { expr: string }[] }[];
    };
    const queried = new Set([
      ...dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => metricNames(t.expr)),
      ...dashboard.templating.list.flatMap((v) => (typeof v.query === 'string' ? metricNames(v.query) : [])),
      ...rules.groups.flatMap((g) => g.rules).flatMap((r) => metricNames(r.expr)),
    ]);
    expect(queried.size).toBeGreaterThan(20);
    expect([...queried].some((n) => n.startsWith('temporal_'))).toBe(true);
    let text = '';
    await expect
      .poll(
        async () => {
          text = await (await fetch(`${paso.url}/metrics`)).text();
          // The SDK's counters of this run and the end of the execution are in.
          return sample(text, 'paso_executions_ended_total', { pipeline: name, status: 'Succeeded' });
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    const exposed = exposedNames(text);
    expect([...queried].filter((n) => !exposed.has(n))).toEqual([]);

    // The run left samples in the histograms it exercised; nothing is labelled with the execution id.
    expect(sample(text, 'paso_executions_started_total', { pipeline: name, trigger: 'manual' })).toBe(1);
    expect(sample(text, 'paso_execution_duration_seconds_count', { pipeline: name, status: 'Succeeded' })).toBe(1);
    expect(sample(text, 'paso_command_duration_seconds_count', { pipeline: name, result: 'succeeded' })).toBe(2);
    expect(sample(text, 'paso_stage_handoff_seconds_count', { pipeline: name })).toBe(2);
    expect(sample(text, 'paso_manual_step_decision_seconds_count', { pipeline: name, kind: 'approval' })).toBe(1);
    expect(
      sample(text, 'paso_http_request_duration_seconds_count', {
        route: '/pipelines/:name/executions',
        status: '201',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'paso_http_requests_total', { status: '401' })).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain(executionId);
    // The worker's own port: Paso's worker-side metrics and the SDK's.
    const worker = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(sample(worker, 'paso_command_duration_seconds_count', { pipeline: name })).toBe(2);
    expect(worker).toMatch(/^temporal_long_request\{.*operation="PollWorkflowTaskQueue"/m);

    // Traces: the trigger's HTTP span, the start of its workflow and its activities in one trace.
    let trace: Span[] = [];
    await expect
      .poll(
        () => {
          const http = otlp.spans.find((s) => s.name === 'POST /pipelines/:name/executions');
          trace = http ? otlp.spans.filter((s) => s.traceId === http.traceId) : [];
          return trace
            .map((s) => s.name)
            .filter((n) => /^(StartWorkflow:execution|RunActivity:runCommand)$/.test(n))
            .sort();
        },
        { timeout: 15_000 },
      )
      .toEqual(['RunActivity:runCommand', 'RunActivity:runCommand', 'StartWorkflow:execution']);
    const http = trace.find((s) => s.name === 'POST /pipelines/:name/executions')!;
    const start = trace.find((s) => s.name === 'StartWorkflow:execution')!;
    expect(start.parentSpanId).toBe(http.spanId);
    const activities = trace.filter((s) => s.name === 'RunActivity:runCommand');
    expect(activities.length).toBe(2);
    for (const a of activities) expect(a.parentSpanId).toBe(start.spanId);

    // Logs: one JSON event per line, with the request id and where each event belongs.
    await paso.stop();
    const raw = readFileSync(logFile, 'utf8');
    const lines = raw.split('\n').filter((l) => l.trim() !== '');
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.some((e) => String(e.msg).includes('Paso is ready'))).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({
        msg: 'http request',
        reqId: 'ops-trigger-1',
        route: '/pipelines/:name/executions',
        pipeline: name,
        status: 201,
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ pipeline: name, executionId, stage: 'Build', action: 'compile' }),
    );
    expect(events).toContainEqual(expect.objectContaining({ msg: 'http request', status: 401 }));

    // No secret in any line: secret values, tokens (also a wrong one that begins with a real one), Slack's.
    const forbidden = [
      ...Object.values(TEST_SECRET_VALUES),
      ...TEST_USERS.map((u) => u.token),
      TEST_SLACK_SIGNING_SECRET,
      FAKE_SLACK_BOT_TOKEN,
      sign(slackBody, timestamp),
    ];
    for (const value of forbidden) expect(raw.includes(value), `the log contains ${value.slice(0, 4)}…`).toBe(false);
  }, 120_000);
});
