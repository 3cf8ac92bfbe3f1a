/** `/executions/:id`: reading an execution and its actions' logs. */
import { Router, type Response } from 'express';
import { actionLogKey } from '../../data-dir.js';
import { currentUser, requireRole } from '../auth.js';
import type { Paso } from '../paso.js';
import { HttpProblem } from '../problem.js';
import {
  annotationBody,
  annotationFileParams,
  approvalBody,
  attachmentFields,
  executionParams,
  logParams,
  logQuery,
  resumeBody,
  retryBody,
  stopBody,
  windowPassBody,
  talkbackBody,
  trapBody,
} from '../schemas.js';
import type { Annotation } from '../../annotations.js';
import type { LogStore, OpenAttachment, PasoStore } from '../../store/store.js';
import { parseExecutionId } from '../../shared/execution.js';
import type { ExecutionView } from '../../shared/execution-view.js';
import { timeline } from '../timeline.js';
import multer from 'multer';
import { parse } from '../validate.js';

/** The largest file one annotation may attach. */
export const ATTACHMENT_LIMIT_BYTES = 10 * 1024 * 1024;

export function executionsRouter(paso: Paso, store: PasoStore): Router {
  const router = Router();
  const { annotations, logs } = store;
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: ATTACHMENT_LIMIT_BYTES, files: 1, fields: 5 },
  });
  const fileUrl = (id: string, a: Annotation) => `/executions/${id}/annotations/${a.id}/file`;
  const present = (id: string, a: Annotation) => ({
    id: a.id,
    kind: a.kind,
    ...(a.text !== undefined ? { text: a.text } : {}),
    ...(a.file ? { file: { name: a.file.name, size: a.file.size, sha256: a.file.sha256, url: fileUrl(id, a) } } : {}),
    by: a.by,
    at: a.at,
    ...(a.slack ? { slack: a.slack } : {}),
  });

  router.post('/:id/annotations', requireRole('operator'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    // Before reading an upload: no execution can have this id.
    if (!parseExecutionId(id)) throw new HttpProblem(404, `no execution "${id}"`);
    const by = currentUser(req).name;
    let annotation: Annotation;
    if (req.is('multipart/form-data')) {
      await new Promise<void>((resolve, reject) =>
        upload.single('file')(req, res, (err: unknown) =>
          err ? reject(err instanceof Error ? err : new Error('upload failed')) : resolve(),
        ),
      );
      if (!req.file)
        throw new HttpProblem(400, 'send the file in the form field "file"', [{ path: 'file', message: 'required' }]);
      const { text } = parse(attachmentFields, req.body ?? {}, 'body');
      await paso.getExecution(id);
      annotation = await annotations.add(
        id,
        { kind: 'attachment', by, ...(text ? { text } : {}) },
        { name: req.file.originalname, contentType: req.file.mimetype, content: req.file.buffer },
      );
    } else {
      const body = parse(annotationBody, req.body, 'body');
      await paso.getExecution(id);
      annotation = await annotations.add(id, { ...body, by });
    }
    res.status(201).location(`/executions/${id}/annotations`).json({ id: annotation.id });
  });

  router.get('/:id/annotations', requireRole('viewer'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    await paso.getExecution(id);
    res.json((await annotations.list(id)).map((a) => present(id, a)));
  });

  router.get('/:id/annotations/:annotationId/file', requireRole('viewer'), async (req, res, next) => {
    const params = annotationFileParams.safeParse(req.params);
    const found = params.success ? await annotations.openFile(params.data.id, params.data.annotationId) : null;
    if (!found) throw new HttpProblem(404, 'no such attachment');
    sendAttachment(found, res, next);
  });

  router.get('/:id/timeline', requireRole('viewer'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const view = await paso.getExecution(id);
    res.json(timeline(view, await annotations.list(id), (a) => fileUrl(id, a)));
  });

  router.get('/:id', requireRole('viewer'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    res.json(await paso.getExecution(id));
  });

  // Rights over an execution are checked by `Paso` (one code path with ChatOps), from the token's user.
  router.post('/:id/stop', async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(stopBody, req.body ?? {}, 'body');
    const view = await paso.stop(id, body, currentUser(req));
    res.status(202).json({ executionId: view.executionId, status: view.status });
  });

  // Admins only (checked by `Paso`): lets an execution held by a shut deployment window or freeze in.
  router.post('/:id/window-pass', async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(windowPassBody, req.body, 'body');
    const outcome = await paso.passWindow(id, body.stage, body.reason, currentUser(req));
    res.status(202).json({ executionId: outcome.executionId, status: outcome.status });
  });

  router.post('/:id/retry', async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(retryBody, req.body, 'body');
    const view = await paso.retry(id, body, currentUser(req));
    res.status(202).json({ executionId: view.executionId, status: view.status });
  });

  router.post('/:id/approvals', async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(approvalBody, req.body, 'body');
    const view = await paso.approve(id, body, currentUser(req));
    res.json({ executionId: view.executionId, status: view.status });
  });
  router.post('/:id/resume', async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(resumeBody, req.body, 'body');
    const view = await paso.resume(id, body, currentUser(req));
    res.json({ executionId: view.executionId, status: view.status });
  });
  router.post('/:id/trap', async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(trapBody, req.body, 'body');
    const view = await paso.decideTrap(id, body, currentUser(req));
    res.json({ executionId: view.executionId, status: view.status });
  });
  router.post('/:id/talkback', async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const { name } = parse(talkbackBody, req.body, 'body');
    const run = await paso.runTalkback(id, name, currentUser(req));
    res.status(202).json(run);
  });

  router.get('/:id/logs/:stage/:action', requireRole('viewer'), async (req, res) => {
    const params = logParams.safeParse(req.params);
    // These name a file: anything Paso cannot have written is simply not there.
    if (!params.success) throw new HttpProblem(404, 'no such log');
    const { id, stage, action } = params.data;
    const view = await paso.getExecution(id);
    const s = view.stages.find((x) => x.name === stage);
    if (!s) throw new HttpProblem(404, `execution ${id} has no stage "${stage}"`);
    // `<action>.rollback` is the output of that action's rollback script.
    const base = action.endsWith('.rollback') ? action.slice(0, -'.rollback'.length) : action;
    if (!s.actions.some((a) => a.name === action || a.name === base)) {
      throw new HttpProblem(404, `stage "${stage}" has no action "${action}"`);
    }
    const key = actionLogKey(id, stage, action);
    const { follow } = parse(logQuery, req.query, 'query');
    const writing = async () => stillWriting(await paso.getExecution(id), stage, action);
    await sendLog(logs, key, res, follow === 'true' ? writing : null);
  });

  return router;
}

/** How often a followed log is read for new output and its action checked for its end. */
const FOLLOW_INTERVAL_MS = 500;
const READ_BYTES = 256 * 1024;

/**
 * Sends a log (`text/plain`). Followed (`writing` given): chunked, as it grows, until `writing()` says its
 * action has ended; then what was written until then, and the end. A client that goes away stops it.
 */
async function sendLog(
  logs: LogStore,
  key: string,
  res: Response,
  writing: (() => Promise<boolean>) | null,
): Promise<void> {
  res.type('text/plain; charset=utf-8').set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  let closed = false;
  res.on('close', () => (closed = true));
  let offset = 0;
  const sendNew = async () => {
    for (;;) {
      const chunk = await logs.read(key, offset, READ_BYTES);
      if (chunk.length === 0 || closed) return;
      offset += chunk.length;
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
  };
  if (!writing) {
    await sendNew();
    res.end();
    return;
  }
  res.flushHeaders();
  while (!closed) {
    // Asked before reading, so that what the action wrote before it ended is always sent.
    const more = await writing().catch(() => true);
    await sendNew();
    if (!more || closed) break;
    await new Promise((r) => setTimeout(r, FOLLOW_INTERVAL_MS));
  }
  res.end();
}

/** Whether a log may still grow: its action (or its rollback) runs, or has not run yet in a running execution. */
function stillWriting(view: ExecutionView, stage: string, action: string): boolean {
  if (action.endsWith('.rollback')) {
    const step = view.rollback?.steps.find((s) => s.stage === stage && `${s.action}.rollback` === action);
    if (step) return step.status === 'InProgress';
  } else {
    const status = view.stages.find((s) => s.name === stage)?.actions.find((a) => a.name === action)?.status;
    if (status) return status === 'InProgress';
  }
  return view.status === 'InProgress' || view.status === 'Stopping';
}

/** A well-formed media type: what the uploader declared is sent only if it is one. */
const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=(?:[\w.+-]+|"[^"\\\r\n]*"))*$/;

/**
 * Streams an attachment as a download the browser does not sniff. A read error before any byte is sent
 * answers 404; after, the response is cut short. Either way the process carries on.
 */
function sendAttachment({ annotation, size, stream }: OpenAttachment, res: Response, next: (err: unknown) => void) {
  const { file } = annotation;
  // `attachment` types the response by the name's extension; a well-formed declared type overrides it.
  res
    .attachment(typeof file.name === 'string' ? file.name : 'attachment')
    .set({ 'Content-Length': String(size), 'X-Content-Type-Options': 'nosniff' });
  if (typeof file.contentType === 'string' && MEDIA_TYPE.test(file.contentType)) res.type(file.contentType);
  stream.on('error', (err) => {
    if (res.headersSent) {
      res.destroy(err);
    } else {
      res.removeHeader('Content-Disposition');
      next(new HttpProblem(404, 'no such attachment'));
    }
  });
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}
