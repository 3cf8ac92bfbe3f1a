/**
 * Errors as `application/problem+json` (RFC 9457), and the one mapping from every error Paso meets
 * (validation, Temporal, body parsing) to an HTTP status. Bad input never becomes a 500.
 */
import { StoreUnavailableError } from '../store/store.js';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import {
  isGrpcServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  QueryNotRegisteredError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MulterError } from 'multer';
import { ErrorTypes } from '../shared/messages.js';
import { logger } from '../log.js';
import type { FieldError } from '../shared/validation.js';
import { toFieldErrors } from '../shared/validation.js';

const TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Refused',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly errors?: FieldError[],
    readonly extra: Record<string, unknown> = {},
    /** Seconds, sent as Retry-After. */
    readonly retryAfter?: number,
  ) {
    super(detail);
  }

  static invalid(error: z.ZodError, prefix: PropertyKey[] = []): HttpProblem {
    return new HttpProblem(400, 'the request is not valid', toFieldErrors(error, prefix));
  }
}

/** Business failures raised by workflows, by their type. */
const STATUS_OF_FAILURE: Record<string, number> = {
  [ErrorTypes.IdempotencyConflict]: 409,
  [ErrorTypes.PipelineDeleted]: 404,
  [ErrorTypes.InvalidRequest]: 400,
  [ErrorTypes.NotFound]: 404,
  [ErrorTypes.WrongState]: 409,
  [ErrorTypes.Forbidden]: 403,
  [ErrorTypes.Unavailable]: 503,
};

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_NOT_FOUND = 5;
export const GRPC_RESOURCE_EXHAUSTED = 8;
export const GRPC_FAILED_PRECONDITION = 9;
export const GRPC_INVALID_ARGUMENT = 3;

/** The gRPC status code of a Temporal service error, whether the SDK throws it bare or wrapped as a cause. */
export function grpcCode(err: unknown): number | undefined {
  for (const e of [err, (err as { cause?: unknown })?.cause]) if (isGrpcServiceError(e)) return Number(e.code);
  return undefined;
}

/** Turns any error into the problem users see. Unknown errors are 500s: they are bugs, and are logged. */
export function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof WorkflowNotFoundError) return new HttpProblem(404, 'not found');
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const status = err.cause.type ? STATUS_OF_FAILURE[err.cause.type] : undefined;
    if (status) return new HttpProblem(status, err.cause.message);
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new HttpProblem(503, 'Temporal did not answer in time; is a worker running?');
  }
  if (err instanceof QueryNotRegisteredError) return new HttpProblem(404, 'not found');
  const code = grpcCode(err);
  if (code !== undefined) {
    if (code === GRPC_NOT_FOUND) return new HttpProblem(404, 'not found');
    if (code === GRPC_UNAVAILABLE) return new HttpProblem(503, 'Temporal is unreachable');
    if (code === GRPC_RESOURCE_EXHAUSTED) {
      return new HttpProblem(503, 'Temporal is busy with this pipeline; try again in a moment', undefined, {}, 1);
    }
    if (code === GRPC_FAILED_PRECONDITION) {
      return new HttpProblem(
        503,
        'Temporal cannot take this now (the workflow task failed); try again',
        undefined,
        {},
        1,
      );
    }
    if (code === GRPC_DEADLINE_EXCEEDED)
      return new HttpProblem(503, 'Temporal did not answer in time; is a worker running?');
  }
  if (err instanceof StoreUnavailableError) return new HttpProblem(503, err.message, undefined, {}, 5);
  if (err instanceof MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE')
      return new HttpProblem(413, `the file is larger than the limit (${err.message})`);
    return new HttpProblem(400, `the form is not valid: ${err.message}`, [
      { path: err.field ?? '', message: err.message },
    ]);
  }
  if (isFormParserError(err)) return new HttpProblem(400, `the form is not valid: ${err.message}`);
  if (isBodyParserError(err)) {
    if (err.type === 'entity.too.large') return new HttpProblem(413, 'the request body is too large');
    if (err.type === 'entity.parse.failed')
      return new HttpProblem(400, `the request body is not valid JSON: ${err.message}`);
    if (err.type === 'charset.unsupported' || err.type === 'encoding.unsupported')
      return new HttpProblem(415, err.message);
    return new HttpProblem(400, err.message);
  }
  const status = requestErrorStatus(err);
  if (status !== undefined) return new HttpProblem(status, describeRequestError(err as Error));
  return new HttpProblem(500, 'internal error');
}

function isBodyParserError(err: unknown): err is Error & { type: string; status: number } {
  return err instanceof Error && typeof (err as { type?: unknown }).type === 'string' && 'status' in err;
}

/**
 * What busboy (under multer) raises for a form it cannot read: plain Errors, known only by their messages.
 * A truncated upload ends as "Unexpected end of form"; a client that goes away mid-upload as "Request …".
 */
const FORM_ERRORS = [
  /^Unexpected end of (form|file)$/,
  /^Malformed (part header|content type|urlencoded form)$/,
  /^Multipart: Boundary not found$/,
  /^Unsupported content type: /,
  /^Missing Content-Type$/,
  /^Request (aborted|closed|error)$/,
];

function isFormParserError(err: unknown): err is Error {
  return err instanceof Error && err.constructor === Error && FORM_ERRORS.some((re) => re.test(err.message));
}

/**
 * The status of an error express's router or body-parser raised for a bad request, if it is one. Both carry a
 * 4xx `status`: http-errors marks its client errors `expose` (a body that does not inflate under its
 * Content-Encoding arrives so, wrapping zlib's error); the router's failure to decode a %-escape in a path
 * segment is a URIError with only a status. Errors of other origins with a `status` are not believed.
 */
function requestErrorStatus(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const { status, expose } = err as { status?: unknown; expose?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  return expose === true || err instanceof URIError ? status : undefined;
}

function describeRequestError(err: Error): string {
  if (err instanceof URIError) return `the path is not valid: ${err.message}`;
  // zlib's errors carry an errno: the body is not in the Content-Encoding the request declares.
  if (typeof (err as { errno?: unknown }).errno === 'number') {
    return `the request body cannot be decoded with its Content-Encoding: ${err.message}`;
  }
  return err.message;
}

export const problemHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const problem = toProblem(err);
  if (problem.status >= 500 && problem.status !== 503) {
    logger.error({ err, reqId: res.locals.requestId as unknown, method: req.method, path: req.path }, 'request failed');
  }
  // Too late for a problem (a download failed half-way): cut the response, so the client sees it is short.
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (problem.retryAfter !== undefined) res.set('Retry-After', String(problem.retryAfter));
  res
    .status(problem.status)
    .type('application/problem+json')
    .json({
      type: problem.status === 400 && problem.errors ? 'https://paso.dev/problems/validation' : 'about:blank',
      title: TITLES[problem.status] ?? 'Error',
      status: problem.status,
      detail: problem.message,
      ...(problem.errors ? { errors: problem.errors } : {}),
      ...problem.extra,
    });
};

export const notFoundHandler: RequestHandler = (req, _res, next) =>
  next(new HttpProblem(404, `no route ${req.method} ${req.path}`));
