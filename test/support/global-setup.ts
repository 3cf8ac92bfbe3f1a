/**
 * One Temporal dev server for the whole run, on free ports, with its state in a fresh directory; a fake
 * Slack Web API and a notification-hook recorder; and one Paso process (worker + gateway, configured to use
 * both) that the tests drive over HTTP. Tests that need their own Paso process
 * (restarts) start one with `PasoProcess` on their own task queue.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { resolveTemporalCli } from '../../src/temporal/cli.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { MAIN, PasoProcess } from './paso-process.js';
import { startHookRecorder } from './hook-recorder.js';
import { freePort } from './ports.js';
import { FAKE_SLACK_BOT_TOKEN, startFakeSlack } from './fake-slack.js';
import {
  TEST_SECRET_ENV,
  TEST_SECRET_VALUES,
  TEST_SLACK_SIGNING_SECRET,
  TEST_TALKBACK,
  TEST_USERS,
  testSecrets,
  TEST_LOCKS,
} from './users.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    pasoUrl: string;
    dataDir: string;
    configFile: string;
    workDir: string;
    hookUrl: string;
    slackUrl: string;
  }
}

let server: DevServer | undefined;
let paso: PasoProcess | undefined;
let hooks: Awaited<ReturnType<typeof startHookRecorder>> | undefined;
let slack: Awaited<ReturnType<typeof startFakeSlack>> | undefined;

export async function setup(project: TestProject) {
  if (!existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does it).');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-test-'));
  const cli = await resolveTemporalCli({ log: (line) => console.log(line) });
  server = await startDevServer({
    cli,
    dbFile: path.join(workDir, 'temporal.db'),
    logFile: path.join(workDir, 'temporal.log'),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    startTimeoutMs: 120_000,
    // Coordinators continue-as-new every few hundred events here, so tests exercise it under load.
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 300 },
  });

  hooks = await startHookRecorder();
  slack = await startFakeSlack();
  const configFile = path.join(workDir, 'paso.config.yaml');
  const registryPasswordFile = path.join(workDir, 'registry-password');
  writeFileSync(registryPasswordFile, `${TEST_SECRET_VALUES.REGISTRY_PASSWORD}\n`, { mode: 0o600 });
  writeFileSync(
    configFile,
    JSON.stringify({
      users: TEST_USERS,
      notifications: { url: `${hooks.url}/hook` },
      slack: { signingSecret: TEST_SLACK_SIGNING_SECRET, botToken: FAKE_SLACK_BOT_TOKEN, apiUrl: `${slack.url}/api` },
      talkback: TEST_TALKBACK,
      secrets: testSecrets(registryPasswordFile),
      locks: TEST_LOCKS,
    }),
  );
  const dataDir = path.join(workDir, 'data');
  paso = await PasoProcess.start({
    temporalAddress: server.address,
    dataDir,
    configFile,
    taskQueue: 'paso-test',
    logFile: path.join(workDir, 'paso.log'),
    // Many tests send wrong tokens on purpose, all from 127.0.0.1; the limit has a test of its own
    // (hardening.test.ts) with a gateway of its own.
    env: { ...TEST_SECRET_ENV, PASO_AUTH_FAILURES_PER_MINUTE: '1000000' },
  });

  project.provide('temporalAddress', server.address);
  project.provide('pasoUrl', paso.url);
  project.provide('dataDir', dataDir);
  project.provide('configFile', configFile);
  project.provide('workDir', workDir);
  project.provide('hookUrl', hooks.url);
  project.provide('slackUrl', slack.url);
  console.log(`test Temporal server ${server.address}, Paso ${paso.url}, files in ${workDir}`);
}

export async function teardown() {
  await paso?.stop();
  await server?.stop();
  await hooks?.close();
  await slack?.close();
}
