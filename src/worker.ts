/** `npm run worker`: one worker process against `TEMPORAL_ADDRESS` (or the local dev server). */
import { loadConfig } from './config.js';
import { fail, setUpProcess, startWorkerRole, stopOnSignal } from './roles.js';

try {
  const config = loadConfig();
  setUpProcess(config);
  const worker = await startWorkerRole(config, config.temporalAddress ?? `127.0.0.1:${config.temporalPort}`);
  stopOnSignal(() => worker.stop());
} catch (err) {
  fail(err);
}
