import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../../scripts/cluster/temporal-server.js';
import { ENV_VARIABLES } from '../../src/config.js';
import { LOW_LATENCY_DYNAMIC_CONFIG } from '../../src/temporal/latency.js';

interface Service {
  image?: string;
  depends_on?: string[] | Record<string, { condition: string }>;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  deploy?: { replicas?: number };
}

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const compose = YAML.parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('docker-compose.yml', () => {
  const s = compose.services;

  it('has the production topology', () => {
    expect(Object.keys(s).sort()).toEqual([
      'gateway',
      'postgresql',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
    // The server image (not the deprecated auto-setup one), at the version `npm run cluster` builds and tests.
    expect(s.temporal!.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    expect(s['temporal-schema']!.image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    expect(s['temporal-ui']!.image).toBe(`temporalio/ui:${TEMPORAL_UI_VERSION}`);
    expect(s.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(s.temporal!.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    // The server gets the latency settings the servers Paso starts itself get.
    const [file, mounted] = s.temporal!.volumes![0]!.replace(/:ro$/, '').split(':');
    expect(mounted).toBe(`/etc/temporal/${s.temporal!.environment!.DYNAMIC_CONFIG_FILE_PATH}`);
    const dynamic = YAML.parse(readFileSync(path.join(ROOT, file!), 'utf8')) as Record<string, [{ value: unknown }]>;
    expect(Object.fromEntries(Object.entries(dynamic).map(([k, v]) => [k, v[0].value]))).toEqual(
      LOW_LATENCY_DYNAMIC_CONFIG,
    );
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
      expect(s[name]!.volumes).toEqual([`./paso.config.yaml:${env.PASO_CONFIG}:ro`]); // no shared volume
      expect(env.PASO_DATABASE_URL).toMatch(/^postgres:\/\/\w+:\w+@postgresql:5432\/\w+$/);
      expect(s[name]!.depends_on).toEqual({ 'temporal-namespace': { condition: 'service_completed_successfully' } });
    }
    expect(s.worker!.environment!.PASO_DATABASE_URL).toBe(s.gateway!.environment!.PASO_DATABASE_URL);
    expect(s.worker!.environment!.PASO_TASK_QUEUE).toBe(s.gateway!.environment!.PASO_TASK_QUEUE);
    expect(s.gateway!.environment!.PASO_HOST).toBe('0.0.0.0');
    expect(s.gateway!.ports).toContain(`${s.gateway!.environment!.PASO_PORT}:${s.gateway!.environment!.PASO_PORT}`);
  });
});
