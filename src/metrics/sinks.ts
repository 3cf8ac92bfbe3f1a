/**
 * The worker's side of the metrics workflow interceptors (`workflow-interceptors.ts`): their sink calls, made
 * after each activation completes and never during replay, become Paso's execution metrics.
 */
import type { InjectedSinks } from '@temporalio/worker';
import { executionDuration, executionsEnded, executionsStarted, stageEntryWait, stageHandoff } from './metrics.js';
import type { PasoMetricsSinks } from './workflow-interceptors.js';

export function metricsSinks(): InjectedSinks<PasoMetricsSinks> {
  return {
    pasoMetrics: {
      executionStarted: {
        fn: (_info, { pipeline, trigger }) => executionsStarted.inc({ pipeline, trigger }),
      },
      executionEnded: {
        fn: (_info, { pipeline, status, seconds }) => {
          executionsEnded.inc({ pipeline, status });
          executionDuration.observe({ pipeline, status }, seconds);
        },
      },
      stageGranted: {
        fn: (_info, { pipeline, stage, seconds, waitedFor }) => {
          if (waitedFor) stageEntryWait.observe({ pipeline, stage, kind: waitedFor }, seconds);
          else stageHandoff.observe({ pipeline, stage }, seconds);
        },
      },
    },
  };
}
