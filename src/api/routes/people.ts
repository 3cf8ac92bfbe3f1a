/** `/me` and `/waiting`: who the caller is, and what they may decide now. */
import { Router } from 'express';
import { currentUser, requireRole } from '../auth.js';
import type { Paso } from '../paso.js';
import { waitingFor } from '../waiting.js';

export function peopleRouter(paso: Paso): Router {
  const router = Router();
  router.get('/me', requireRole('viewer'), (req, res) => {
    const { name, roles, groups } = currentUser(req);
    res.json({ name, roles, groups });
  });
  router.get('/waiting', requireRole('viewer'), async (req, res) => {
    const decisions = await waitingFor(paso, currentUser(req));
    res.json({ decisions: decisions.map(({ refusal: _refusal, ...decision }) => decision) });
  });
  return router;
}
