/** The worker's `workflowsPath`: every workflow Paso registers. */
export { coordinator } from './coordinator.js';
export type { CoordinatorInput } from './coordinator.js';
export { execution } from './execution.js';
export { scheduledTrigger } from './scheduled-trigger.js';
