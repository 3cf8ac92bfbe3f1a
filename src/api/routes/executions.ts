/** `/executions/:id`: reading an execution and its actions' logs. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Router } from 'express';
import type { Request } from 'express';
import { actionLogPath } from '../../data-dir.js';
import { currentUser, requireRole } from '../auth.js';
import type { Paso } from '../paso.js';
import { HttpProblem } from '../problem.js';
import { approvalBody, executionParams, logParams, resumeBody, retryBody, stopBody, trapBody } from '../schemas.js';
import { parse } from '../validate.js';

export function executionsRouter(paso: Paso, dataDir: string): Router {
  const router = Router();

  router.get('/:id', requireRole('viewer'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    res.json(await paso.getExecution(id));
  });

  router.post('/:id/stop', requireRole('operator'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(stopBody, req.body ?? {}, 'body');
    const view = await paso.stop(id, body, currentUser(req).name);
    res.status(202).json({ executionId: view.executionId, status: view.status });
  });

  router.post('/:id/retry', requireRole('operator'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(retryBody, req.body, 'body');
    const view = await paso.retry(id, body, currentUser(req).name);
    res.status(202).json({ executionId: view.executionId, status: view.status });
  });

  // Manual steps: who may decide is the action's business (approvers, a pause's `allowed`), checked by the
  // execution itself; the gateway vouches for the person's name, groups and roles.
  const decider = (req: Request) => {
    const user = currentUser(req);
    return { by: user.name, groups: [...user.groups], roles: [...user.roles] };
  };
  router.post('/:id/approvals', requireRole('viewer'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(approvalBody, req.body, 'body');
    const view = await paso.approve(id, { ...body, ...decider(req) });
    res.json({ executionId: view.executionId, status: view.status });
  });
  router.post('/:id/resume', requireRole('viewer'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(resumeBody, req.body, 'body');
    const view = await paso.resume(id, { ...body, ...decider(req) });
    res.json({ executionId: view.executionId, status: view.status });
  });
  router.post('/:id/trap', requireRole('operator'), async (req, res) => {
    const { id } = parse(executionParams, req.params, 'params');
    const body = parse(trapBody, req.body, 'body');
    const view = await paso.decideTrap(id, { ...body, ...decider(req) });
    res.json({ executionId: view.executionId, status: view.status });
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
