/**
 * `npm run build` step: builds the native command supervisor (`supervisor/`, Go, no dependencies) into
 * `dist/paso-supervisor`. Without Go it says so and workers use the Node supervisor (`src/supervisor.ts`), which
 * speaks the same protocol and costs ~100 ms and ~40 MB per command instead of ~2 ms and ~2 MB.
 */
import { execa } from 'execa';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { NATIVE_SUPERVISOR } from '../src/process-runner.js';
import { findGo, projectRoot } from '../src/temporal/cli.js';

const go = findGo(process.env);
if (!go) {
  rmSync(NATIVE_SUPERVISOR, { force: true });
  console.log('native supervisor: Go not found, commands will run under the Node supervisor');
} else {
  await execa(go, ['build', '-trimpath', '-o', NATIVE_SUPERVISOR, '.'], {
    cwd: path.join(projectRoot(), 'supervisor'),
    env: { ...process.env, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false', CGO_ENABLED: '0' },
    stdio: 'inherit',
  });
  console.log(`native supervisor: ${NATIVE_SUPERVISOR}`);
}
