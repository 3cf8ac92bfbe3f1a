/** `/pipelines`: definitions (admin writes, viewers read) and triggering executions (operators). */
import { Router } from 'express';
import YAML from 'yaml';
import { definitionSchemas } from '../../shared/definition.js';
import { currentUser, requireRole } from '../auth.js';
import type { Paso } from '../paso.js';
import { HttpProblem } from '../problem.js';
import { listExecutionsQuery, pipelineParams, transitionBody, transitionParams, triggerBody } from '../schemas.js';
import { parse } from '../validate.js';

export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

export function pipelinesRouter(paso: Paso): Router {
  const router = Router();

  router.get('/', requireRole('viewer'), async (_req, res) => {
    const pipelines = await paso.listPipelines();
    res.json(
      pipelines.map((p) => ({
        name: p.name,
        version: p.version,
        executionMode: p.definition.executionMode,
        updatedAt: p.updatedAt,
        updatedBy: p.updatedBy,
      })),
    );
  });

  router.put('/:name', requireRole('admin'), async (req, res) => {
    const { name } = parse(pipelineParams, req.params, 'params');
    const raw = definitionBody(req.body, typeof req.is(YAML_TYPES) === 'string');
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      const bodyName = (raw as { name?: unknown }).name;
      if (bodyName === undefined) (raw as { name?: unknown }).name = name;
      else if (bodyName !== name) {
        throw new HttpProblem(400, 'the name in the body differs from the one in the path', [
          { path: 'name', message: `expected "${name}", the name in the path` },
        ]);
      }
    }
    const definition = parse(definitionSchemas().pipelineDefinition, raw, 'body');
    paso.checkSecrets(definition);
    paso.checkLocks(definition);
    const result = await paso.putPipeline(definition, currentUser(req).name);
    res.status(result.created ? 201 : 200).json({ name: result.name, version: result.version });
  });

  router.get('/:name', requireRole('viewer'), async (req, res) => {
    const { name } = parse(pipelineParams, req.params, 'params');
    const p = await paso.getPipeline(name);
    res.json({ definition: p.definition, version: p.version, updatedAt: p.updatedAt, updatedBy: p.updatedBy });
  });

  router.get('/:name/state', requireRole('viewer'), async (req, res) => {
    const { name } = parse(pipelineParams, req.params, 'params');
    res.json(await paso.pipelineState(name));
  });

  router.put('/:name/transitions/:stage', requireRole('operator'), async (req, res) => {
    const { name, stage } = parse(transitionParams, req.params, 'params');
    const body = parse(transitionBody, req.body, 'body');
    // Unknown or deleted pipelines and stages are refused by the coordinator itself (404).
    res.json(await paso.setTransition(name, stage, body.enabled, body.reason, currentUser(req).name));
  });

  router.delete('/:name', requireRole('admin'), async (req, res) => {
    const { name } = parse(pipelineParams, req.params, 'params');
    await paso.deletePipeline(name, currentUser(req).name);
    res.status(204).end();
  });

  router.post('/:name/executions', requireRole('operator'), async (req, res) => {
    const { name } = parse(pipelineParams, req.params, 'params');
    const body = parse(triggerBody, req.body ?? {}, 'body');
    const result = await paso.trigger(name, body, currentUser(req).name);
    res
      .status(result.created ? 201 : 200)
      .location(`/executions/${result.executionId}`)
      .json({ executionId: result.executionId, status: result.status });
  });

  router.get('/:name/executions', requireRole('viewer'), async (req, res) => {
    const { name } = parse(pipelineParams, req.params, 'params');
    const query = parse(listExecutionsQuery, req.query, 'query');
    res.json(await paso.listExecutions(name, query));
  });

  return router;
}

/** A definition arrives as JSON (already parsed) or as YAML text. */
function definitionBody(body: unknown, isYaml: boolean): unknown {
  if (body === undefined) throw new HttpProblem(415, 'send the definition as application/json or application/yaml');
  if (!isYaml) return body;
  try {
    return YAML.parse(body as string);
  } catch (err) {
    throw new HttpProblem(400, `the request body is not valid YAML: ${(err as Error).message}`);
  }
}
