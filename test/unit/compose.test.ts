import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ENV_VARIABLES } from '../../src/config.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  deploy?: { replicas?: number };
}

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const compose = YAML.parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('docker-compose.yml', () => {
  const s = compose.services;

  it('has the production topology', () => {
    expect(Object.keys(s).sort()).toEqual(['gateway', 'postgresql', 'temporal', 'temporal-ui', 'worker']);
    expect(s.temporal!.image).toMatch(/^temporalio\/auto-setup:1\.29/);
    expect(s.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(s['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(s.worker!.deploy!.replicas).toBeGreaterThanOrEqual(2);
  });

  it('runs the same entry points as npm run worker / gateway', () => {
    const entry = (script: string) => pkg.scripts[script]!.replace(/^node /, '');
    expect(s.worker!.command).toEqual(['node', entry('worker')]);
    expect(s.gateway!.command).toEqual(['node', entry('gateway')]);
  });

  it('sets only variables Paso reads, with the values a cluster needs', () => {
    for (const name of ['worker', 'gateway']) {
      const env = s[name]!.environment!;
      for (const key of Object.keys(env)) expect(ENV_VARIABLES, `${name}: ${key}`).toContain(key);
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      // With TEMPORAL_ADDRESS set, the gateway refuses the built-in dev users: a config file is required.
      expect(env.PASO_CONFIG).toBeTruthy();
      expect(s[name]!.volumes).toContain(`./paso.config.yaml:${env.PASO_CONFIG}:ro`);
      expect(s[name]!.volumes).toContain(`paso-data:${env.PASO_DATA_DIR}`);
    }
    expect(s.worker!.environment!.PASO_TASK_QUEUE).toBe(s.gateway!.environment!.PASO_TASK_QUEUE);
    expect(s.gateway!.environment!.PASO_HOST).toBe('0.0.0.0');
    expect(s.gateway!.ports).toContain(`${s.gateway!.environment!.PASO_PORT}:${s.gateway!.environment!.PASO_PORT}`);
  });
});
