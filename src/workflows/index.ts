/** The worker's `workflowsPath`: every workflow Paso registers. */
export { check } from './check.js';
export { coordinator } from './coordinator.js';
export type { CoordinatorInput } from './coordinator.js';
export { execution } from './execution.js';
export { namedLocks } from './named-locks.js';
export { scheduledTrigger } from './scheduled-trigger.js';
