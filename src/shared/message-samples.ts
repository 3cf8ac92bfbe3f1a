/**
 * A good payload of every message kind, each using every field its schema has. The workflow threads parse
 * them once before anything is shared and frozen (`workflows/preload.ts`), so zod sets up everything it
 * sets up on first use; a test parses them again after freezing the modules as the SDK does
 * (test/unit/shared-workflow-modules.test.ts). A new kind of message needs its sample here: the test says so.
 */
import type { PipelineDefinitionInput } from './definition.js';
import type { MessageName } from './message-schemas.js';

const AT = '2026-12-02T10:00:00.000Z';
const step = { stage: 'Deploy', action: 'ok' };
const decider = { by: 'alice', groups: ['ops'], roles: ['operator'] };

/** A definition with every feature the format has. */
export const SAMPLE_DEFINITION = {
  name: 'sample',
  description: 'every field',
  executionMode: 'QUEUED',
  variables: { VERSION: '1' },
  rollbackOnFailure: true,
  retryWindowSeconds: 3600,
  check: [{ name: 'lint', type: 'command', run: 'true' }],
  triggers: [{ type: 'schedule', cron: '0 3 * * 1-5' }],
  freezes: [{ from: '2026-12-24T00:00:00Z', to: '2026-12-27T00:00:00Z', reason: 'holidays' }],
  stages: [
    {
      name: 'Deploy',
      concurrency: 2,
      locks: ['env:prod', { name: 'db', mode: 'shared' }],
      windows: [{ days: ['Mon'], from: '09:00', to: '17:00', timeZone: 'Europe/Madrid', holidays: ['2026-12-25'] }],
      actions: [
        {
          name: 'run',
          type: 'command',
          run: 'true',
          rollback: 'true',
          onError: 'trap',
          trapTimeoutSeconds: 60,
          onWorkerLoss: 'rerun',
          timeoutSeconds: 60,
          secrets: ['TOKEN'],
        },
        {
          name: 'ok',
          type: 'approval',
          approvers: { users: ['alice'], groups: ['ops'] },
          required: 1,
          allowSelfApproval: true,
          message: 'go?',
          url: 'https://example.com/release',
        },
        { name: 'hold', type: 'pause', runOrder: 2, allowed: { users: ['bob'] }, message: 'check' },
        { name: 'sleep', type: 'wait', seconds: 1, runOrder: 3 },
      ],
    },
  ],
} satisfies PipelineDefinitionInput;

export const MESSAGE_SAMPLES: Record<MessageName, unknown> = {
  approve: { ...step, ...decider, decision: 'approve', comment: 'fine' },
  resume: { ...step, ...decider, comment: 'go on' },
  trap: { ...step, ...decider, decision: 'retry', comment: 'again' },
  stop: { abandon: false, reason: 'wrong build', by: 'bob', abandonAfterSeconds: 60 },
  retry: { stage: 'Deploy', mode: 'FAILED_ACTIONS', by: 'bob' },
  bindChannel: { channel: 'C0123', name: '#deploys', by: 'bob' },
  runTalkback: { name: 'restart', run: 'true', timeoutSeconds: 60, by: 'bob', secrets: ['TOKEN'] },
  stageGranted: { stage: 'Deploy', pass: { by: 'bob', reason: 'hotfix', at: AT } },
  stageWait: { stage: 'Deploy', for: 'WINDOW', opensAt: AT },
  superseded: { stage: 'Deploy', by: 'sample-3' },
  overtaken: { stage: 'Deploy', by: 'sample-3' },
  transitionClosed: { stage: 'Deploy' },
  putDefinition: { definition: SAMPLE_DEFINITION, by: 'bob' },
  allocateExecution: { by: 'bob', idempotencyKey: 'k-1', requestDigest: 'd-1' },
  allocateExecutions: {
    requests: [
      { by: 'bob', idempotencyKey: 'k-1', requestDigest: 'd-1' },
      { by: 'ann', requestDigest: 'd-2' },
    ],
  },
  deletePipeline: { by: 'bob' },
  advanceExecutions: { atLeast: 3 },
  setTransition: { stage: 'Deploy', enabled: false, reason: 'freeze', by: 'bob' },
  setConfigFreezes: { freezes: SAMPLE_DEFINITION.freezes, by: 'paso' },
  passWindow: { executionId: 'sample-1', stage: 'Deploy', reason: 'hotfix', by: 'bob' },
  requestStage: {
    executionId: 'sample-1',
    stage: 'Deploy',
    retry: true,
    leaving: { stage: 'Build', outcome: 'Succeeded' },
  },
  leaveStage: { executionId: 'sample-1', stage: 'Deploy', outcome: 'Succeeded' },
  withdraw: { executionId: 'sample-1' },
  acquireLocks: {
    executionId: 'sample-1',
    stage: 'Deploy',
    createdAt: AT,
    locks: [
      { name: 'env:prod', mode: 'exclusive', order: 'fifo' },
      { name: 'db', mode: 'shared', order: 'newest-first' },
    ],
  },
  releaseLocks: { executionId: 'sample-1', stage: 'Deploy' },
  locksGranted: { stage: 'Deploy', tokens: { 'env:prod': 3 } },
  locksWait: { stage: 'Deploy', lock: 'env:prod', heldBy: ['sample-0'] },
  lockSuperseded: { stage: 'Deploy', lock: 'env:prod', by: 'sample-4' },
};
