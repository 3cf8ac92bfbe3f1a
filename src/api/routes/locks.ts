/** `/locks`: the named locks shared by every pipeline, with their holders, waiters and fencing tokens. */
import { Router } from 'express';
import { requireRole } from '../auth.js';
import type { Paso } from '../paso.js';
import { HttpProblem } from '../problem.js';
import { lockParams } from '../schemas.js';
import { parse } from '../validate.js';

export function locksRouter(paso: Paso): Router {
  const router = Router();
  router.get('/', requireRole('viewer'), async (_req, res) => {
    res.json({ locks: await paso.locks() });
  });
  router.get('/:name', requireRole('viewer'), async (req, res) => {
    const { name } = parse(lockParams, req.params, 'params');
    const lock = (await paso.locks()).find((l) => l.name === name);
    if (!lock) throw new HttpProblem(404, `no lock "${name}" is declared or in use`);
    res.json(lock);
  });
  return router;
}
