/**
 * Loaded once per workflow thread, before any workflow runs (the bundle's `preloadModules`), so that the
 * modules it imports are shared by every workflow of that thread instead of evaluated again for each
 * cached workflow: zod, the message and definition schemas, cron-parser. Without this each cached workflow
 * held its own copy, about 1.3 MB, and a worker's memory grew by a gigabyte with a thousand executions
 * waiting for approvals (README, "Tests and figures").
 *
 * What makes sharing safe: these modules keep no per-workflow state (schemas parse, nothing more), and the
 * SDK deep-freezes what a shared module exports once this has run. So every schema is built here, before
 * the freeze, and parses a good payload of its kind and a bad one, so that zod sets up here whatever it
 * sets up on first use. test/unit/shared-workflow-modules.test.ts freezes these modules as the SDK does and
 * parses every kind again. Cron expressions are not read here: cron-parser reads the clock, which outside a
 * workflow the SDK refuses; it and luxon keep their caches in module-scoped maps, which stay writable.
 */
import { checkMessage, MESSAGE_NAMES } from '../shared/message-schemas.js';
import { MESSAGE_SAMPLES, SAMPLE_DEFINITION } from '../shared/message-samples.js';

const samples = {
  ...MESSAGE_SAMPLES,
  putDefinition: { definition: { ...SAMPLE_DEFINITION, triggers: [] }, by: 'paso' },
};
for (const name of MESSAGE_NAMES) {
  const good = checkMessage(name, samples[name]);
  if (!good.ok) throw new Error(`workflow thread warm-up: its own ${name} sample is refused: ${good.problems}`);
  checkMessage(name, {});
}
checkMessage('putDefinition', {
  by: 'paso',
  definition: { name: 'Not A Name', stages: [{ name: 'a', actions: [{ name: 'x', type: 'nope' }] }] },
});
