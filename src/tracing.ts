/**
 * OpenTelemetry traces, on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans go to that collector over OTLP/HTTP
 * (JSON; the exporter reads the other `OTEL_EXPORTER_OTLP_*` variables itself), named by `OTEL_SERVICE_NAME`
 * (default `paso`). An HTTP request at the gateway opens a server span; Temporal's OpenTelemetry client
 * interceptor opens a span for each workflow it starts, signals, queries or updates and puts its context in the
 * workflow's headers; Paso's workflow interceptor (`metrics/workflow-interceptors.ts`) copies it into the
 * headers of the workflow's activities; Temporal's activity interceptor opens their spans under it. So a
 * trigger, the start of its execution and the commands it runs share one trace id. Workflows themselves have
 * no span (see `WORKFLOW_INTERCEPTOR_MODULES`).
 */
import type { RequestHandler } from 'express';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

export interface Tracing {
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Sends the spans still buffered. */
  shutdown(): Promise<void>;
}

let active: Tracing | null | undefined;

/** Starts tracing once per process when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; null when it is not. */
export function startTracing(env: NodeJS.ProcessEnv = process.env): Tracing | null {
  if (active !== undefined) return active;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return (active = null);
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME ?? 'paso' });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1_000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The global provider, context manager (AsyncLocalStorage) and W3C propagator, which the interceptors use.
  provider.register();
  active = { spanProcessor, resource, shutdown: () => provider.shutdown() };
  return active;
}

/** Sends the spans still buffered; a process calls it as it stops. */
export async function stopTracing(): Promise<void> {
  await active?.shutdown().catch(() => undefined);
}

/** The client interceptors of a traced process (none when tracing is off). */
export function tracingClientInterceptors(): WorkflowClientInterceptor[] {
  return startTracing() ? [new OpenTelemetryWorkflowClientInterceptor()] : [];
}

/** The worker's activity interceptors for traces (none when tracing is off). */
export function tracingActivityInterceptors(): ActivityInterceptorsFactory[] {
  if (!startTracing()) return [];
  return [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
  ];
}

/**
 * A server span per HTTP request, parent of what the request does (the workflow it starts), continuing a
 * caller's `traceparent` when it sends one. Named by method and route template once the route is known.
 */
export function traceRequests(routeOf: (req: Parameters<RequestHandler>[0]) => string): RequestHandler {
  return (req, res, next) => {
    if (!startTracing()) return next();
    const parent = propagation.extract(context.active(), req.headers);
    const tracer = trace.getTracer('paso-gateway');
    const span = tracer.startSpan(
      `${req.method} ${req.path}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
      parent,
    );
    res.once('finish', () => {
      const route = routeOf(req);
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => next());
  };
}
