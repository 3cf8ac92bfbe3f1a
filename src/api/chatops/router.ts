/**
 * `POST /chatops/slack/events`, the Slack Events API endpoint. The raw body is checked against Slack's
 * signature before anything in it is believed (401 otherwise); `url_verification` is answered; an event is
 * acknowledged at once and handled afterwards, as Slack wants an answer within 3 seconds.
 */
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { HttpProblem } from '../problem.js';
import { logger } from '../../log.js';
import { parse } from '../validate.js';
import { blockActionsSchema, type ChatButtons } from './buttons.js';
import type { ChatOps } from './chatops.js';
import { slackSignatureProblem } from './verify.js';

const envelopeSchema = z.looseObject({
  type: z.string(),
  challenge: z.string().optional(),
  event_id: z.string().optional(),
  event: z
    .looseObject({
      type: z.string(),
      subtype: z.string().optional(),
      user: z.string().optional(),
      bot_id: z.string().optional(),
      text: z.string().optional(),
      channel: z.string().optional(),
      ts: z.string().optional(),
      thread_ts: z.string().optional(),
    })
    .optional(),
});

type SlackEndpoints = { handler: ChatOps; buttons: ChatButtons; signingSecret: string };

/** The raw body of a request Slack signed; 404 without ChatOps, 401 when the signature does not hold. */
function verified(chatops: SlackEndpoints | null, req: Request): { chatops: SlackEndpoints; body: string } {
  if (!chatops) throw new HttpProblem(404, 'ChatOps is not configured: the config file has no `slack` section');
  const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  const problem = slackSignatureProblem(chatops.signingSecret, {
    body,
    timestamp: req.get('x-slack-request-timestamp'),
    signature: req.get('x-slack-signature'),
  });
  if (problem) throw new HttpProblem(401, problem);
  return { chatops, body };
}

export function slackEventsRouter(chatops: SlackEndpoints | null, bodyLimit: string): Router {
  const router = Router();
  // Interactions (button clicks): form-encoded `payload=<json>`, signed like events. Acknowledged at once; the
  // post is updated (or the clicker told why not) through the Web API afterwards.
  router.post('/interactions', express.raw({ type: () => true, limit: bodyLimit }), (req, res) => {
    const { chatops: ops, body } = verified(chatops, req);
    let json: unknown;
    try {
      json = JSON.parse(new URLSearchParams(body).get('payload') ?? '');
    } catch {
      throw new HttpProblem(400, 'the request has no JSON `payload` field');
    }
    const type = (json as { type?: unknown } | null)?.type;
    if (type !== 'block_actions') return void res.status(200).end(); // other interactions: nothing to do
    const payload = parse(blockActionsSchema, json, 'body');
    res.status(200).end();
    ops.buttons.handle(payload).catch((err: unknown) => logger.error({ err }, 'chatops: a button click failed'));
  });
  router.post('/events', express.raw({ type: () => true, limit: bodyLimit }), (req, res) => {
    const { chatops: ops, body } = verified(chatops, req);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new HttpProblem(400, 'the request body is not valid JSON');
    }
    const envelope = parse(envelopeSchema, json, 'body');
    if (envelope.type === 'url_verification') {
      if (!envelope.challenge) {
        throw new HttpProblem(400, 'the request is not valid', [{ path: 'challenge', message: 'required' }]);
      }
      res.json({ challenge: envelope.challenge });
      return;
    }
    res.status(200).end();
    ops.handler.handle(envelope).catch((err: unknown) => logger.error({ err }, 'chatops: an event failed'));
  });
  return router;
}
