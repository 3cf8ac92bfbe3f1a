import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTemporalCli, TemporalCliError } from '../../src/temporal/cli.js';

const fakeBinary = (dir: string, name: string) => {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
};

describe('finding the Temporal CLI', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'paso-cli-'));
  const log = () => {};

  it('takes $TEMPORAL_CLI first, and refuses one that is not executable', async () => {
    const explicit = fakeBinary(path.join(root, 'explicit'), 'temporal');
    const onPath = fakeBinary(path.join(root, 'path'), 'temporal');
    expect(await resolveTemporalCli({ env: { TEMPORAL_CLI: explicit, PATH: path.dirname(onPath) }, root, log })).toBe(
      explicit,
    );
    await expect(resolveTemporalCli({ env: { TEMPORAL_CLI: '/nonexistent/temporal' }, root, log })).rejects.toThrow(
      /not an executable/,
    );
  });

  it('then `temporal` on PATH, then the project build in .tools/bin', async () => {
    const onPath = fakeBinary(path.join(root, 'path2'), 'temporal');
    const own = fakeBinary(path.join(root, '.tools', 'bin'), 'temporal');
    expect(await resolveTemporalCli({ env: { PATH: path.dirname(onPath) }, root, log })).toBe(onPath);
    expect(await resolveTemporalCli({ env: { PATH: path.join(root, 'empty') }, root, log })).toBe(own);
  });

  it('says how to install the CLI when there is no Go to build it', async () => {
    const bare = mkdtempSync(path.join(os.tmpdir(), 'paso-cli-bare-'));
    const env = { PATH: path.join(bare, 'empty') };
    const attempt = resolveTemporalCli({ env, root: bare, log, goFallback: null });
    await expect(attempt).rejects.toThrow(TemporalCliError);
    await expect(resolveTemporalCli({ env, root: bare, log, goFallback: null })).rejects.toThrow(
      /install Go.*TEMPORAL_CLI/s,
    );
  });
});
