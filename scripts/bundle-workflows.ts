/** `npm run build` step: bundles the workflow code once, so workers start fast and all run the same code. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE, WORKFLOW_BUNDLER_OPTIONS, WORKFLOW_INTERCEPTOR_MODULES } from '../src/temporal/worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { code } = await bundleWorkflowCode({
  workflowsPath: path.resolve(here, '..', 'src', 'workflows', 'index.js'),
  ...WORKFLOW_BUNDLER_OPTIONS,
  workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
  logger: { info() {}, warn: console.warn, error: console.error, debug() {}, trace() {}, log() {} },
});
await writeFile(WORKFLOW_BUNDLE, code);
console.log(`workflow bundle: ${WORKFLOW_BUNDLE} (${Math.round(code.length / 1024)} KiB)`);
