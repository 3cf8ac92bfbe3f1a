/**
 * Finds the `temporal` CLI, or builds it once. Order: `$TEMPORAL_CLI`, `temporal` on PATH, the project's
 * own build in `.tools/bin`, else `go install` of the pinned tag into `.tools/bin` (DESIGN.md explains the
 * tag). The SDK's own download of the CLI cannot work on machines without internet access.
 */
import { execa } from 'execa';
import { accessSync, constants, existsSync, mkdirSync, rmSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';
const VERSION_LDFLAG = `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`;

/** The project's root: three levels above this file both as `src/temporal/cli.ts` and `dist/src/temporal/cli.js`. */
export function projectRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = path.resolve(here, '..', '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

export class TemporalCliError extends Error {
  override name = 'TemporalCliError';
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  return (env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, command))
    .find(isExecutable);
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  root?: string;
  log?: (line: string) => void;
  /** Where to look for Go when it is not on PATH (the Go tarball's usual place); null to look nowhere else. */
  goFallback?: string | null;
}

export async function resolveTemporalCli(options: ResolveOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const root = options.root ?? projectRoot();
  const log = options.log ?? ((line: string) => console.error(line));

  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) {
      throw new TemporalCliError(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file`);
    }
    return env.TEMPORAL_CLI;
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;

  const binDir = path.join(root, '.tools', 'bin');
  const own = path.join(binDir, 'temporal');
  if (isExecutable(own)) return own;

  const go = findGo(env, options.goFallback === undefined ? '/usr/local/go/bin/go' : options.goFallback);
  if (!go) {
    throw new TemporalCliError(
      'The Temporal CLI was not found and Go is not installed to build it. Either install Go (https://go.dev/dl/) ' +
        `and run again, or install the CLI v${TEMPORAL_CLI_VERSION} (https://docs.temporal.io/cli#install) and put ` +
        '`temporal` on PATH or set TEMPORAL_CLI to its path.',
    );
  }
  await buildCli(go, binDir, env, log);
  return own;
}

/** Builds into a private folder and renames into place, so a concurrent or interrupted build never leaves half a binary. */
async function buildCli(go: string, binDir: string, env: NodeJS.ProcessEnv, log: (line: string) => void) {
  try {
    await goInstall(go, {
      pkg: `${CLI_PACKAGE}@v${TEMPORAL_CLI_VERSION}`,
      ldflags: VERSION_LDFLAG,
      builds: 'temporal',
      binDir,
      as: 'temporal',
      env,
      log,
      what: `the Temporal CLI v${TEMPORAL_CLI_VERSION}`,
    });
  } catch (err) {
    throw new TemporalCliError(`building the Temporal CLI failed: ${(err as Error).message}`);
  }
}

export interface GoInstall {
  /** `module/path/cmd@version`. */
  pkg: string;
  ldflags?: string;
  /** The binary `go install` writes (the package's last path element). */
  builds: string;
  /** Its name in `binDir`. */
  as: string;
  binDir: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  what: string;
}

/**
 * `go install` of a pinned version into a private folder, then a rename into `binDir`: a concurrent or
 * interrupted build never leaves half a binary, and two packages whose binaries share a name never collide.
 */
export async function goInstall(go: string, o: GoInstall): Promise<string> {
  const staging = path.join(o.binDir, `.build-${process.pid}-${o.as}`);
  mkdirSync(staging, { recursive: true });
  o.log(`Building ${o.what} with ${go} (first time only, a few minutes)...`);
  const started = Date.now();
  const target = path.join(o.binDir, o.as);
  try {
    await execa(go, ['install', ...(o.ldflags ? ['-ldflags', o.ldflags] : []), o.pkg], {
      env: { ...o.env, GOBIN: staging, GOFLAGS: o.env.GOFLAGS ?? '-buildvcs=false' },
      stdout: 'ignore',
      stderr: ['pipe', 'inherit'],
    });
    if (!existsSync(target)) renameSync(path.join(staging, o.builds), target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  o.log(`${o.what} built in ${Math.round((Date.now() - started) / 1000)}s: ${target}`);
  return target;
}

/** Go from PATH, or from where its tarball usually goes; undefined when there is none. */
export function findGo(env: NodeJS.ProcessEnv, fallback: string | null = '/usr/local/go/bin/go'): string | undefined {
  return onPath('go', env) ?? (fallback && isExecutable(fallback) ? fallback : undefined);
}
