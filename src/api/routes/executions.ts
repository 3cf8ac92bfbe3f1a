/** `/executions/:id`: reading an execution and its actions' logs. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Router } from 'express';
import { actionLogPath } from '../../data-dir.js';
import { currentUser, requireRole } from '../auth.js';
import type { Paso } from '../paso.js';
import { HttpProblem } from '../problem.js';
import {
  annotationBody,
  approvalBody,
  attachmentFields,
  executionParams,
  logParams,
  resumeBody,
  retryBody,
  stopBody,
  talkbackBody,
  trapBody,
} from '../schemas.js';
import type { Annotation } from '../../annotations.js';
import { AnnotationStore } from '../../annotations.js';
import { timeline } from '../timeline.js';
import multer from 'multer';
import { parse } from '../validate.js';

/** The largest file one annotation may attach. */
export const ATTACHMENT_LIMIT_BYTES = 10 * 1024 * 1024;

export function executionsRouter(paso: Paso, dataDir: string): Router {
  const router = Router();
  const annotations = new AnnotationStore(dataDir);
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

  router.get('/:id/annotations/:annotationId/file', requireRole('viewer'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const found = await annotations.file(id, String(req.params.annotationId));
    if (!found) throw new HttpProblem(404, 'no such attachment');
    const { file } = found.annotation;
    res.type(file!.contentType).set('Content-Length', String(file!.size)).attachment(file!.name);
    found.stream.pipe(res);
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
    const { id, stage, action } = parse(logParams, req.params, 'params');
    const view = await paso.getExecution(id);
    const s = view.stages.find((x) => x.name === stage);
    if (!s) throw new HttpProblem(404, `execution ${id} has no stage "${stage}"`);
    // `<action>.rollback` is the output of that action's rollback script.
    const base = action.endsWith('.rollback') ? action.slice(0, -'.rollback'.length) : action;
    if (!s.actions.some((a) => a.name === action || a.name === base)) {
      throw new HttpProblem(404, `stage "${stage}" has no action "${action}"`);
    }
    const file = actionLogPath(dataDir, id, stage, action);
    const size = await stat(file).then(
      (st) => st.size,
      () => 0, // nothing written yet: the action has not started, or writes no output
    );
    res.type('text/plain; charset=utf-8').set('Content-Length', String(size));
    if (size === 0) return res.end();
    createReadStream(file, { start: 0, end: size - 1 }).pipe(res);
  });

  return router;
}
