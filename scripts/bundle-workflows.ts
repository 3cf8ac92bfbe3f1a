/**
 * `npm run build` step: bundles the workflow code once, so workers start fast and all run the same code. Two
 * bundles of the same workflows: the default one, whose workflow code takes no stack traces, and one that does,
 * for a worker run with `PASO_WORKFLOW_STACK_TRACES=on` (see `src/workflows/no-stack-traces.ts`).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import {
  WORKFLOW_BUNDLE,
  WORKFLOW_BUNDLE_WITH_STACK_TRACES,
  WORKFLOW_INTERCEPTOR_MODULES,
  workflowBundlerOptions,
} from '../src/temporal/worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
for (const [file, stackTraces] of [
  [WORKFLOW_BUNDLE, false],
  [WORKFLOW_BUNDLE_WITH_STACK_TRACES, true],
] as const) {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(here, '..', 'src', 'workflows', 'index.js'),
    ...workflowBundlerOptions(stackTraces),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { info() {}, warn: console.warn, error: console.error, debug() {}, trace() {}, log() {} },
  });
  await writeFile(file, code);
  console.log(`workflow bundle: ${file} (${Math.round(code.length / 1024)} KiB)`);
}
