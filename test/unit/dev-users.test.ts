/** The built-in development users are for this machine only: refused on any bind others can reach. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDevUsers, ConfigError, isLoopback, loadConfig } from '../../src/config.js';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'paso-devusers-'));

describe('the development users', () => {
  it('serve the default bind, and any loopback address', () => {
    expect(() => checkDevUsers(loadConfig({}, dir()))).not.toThrow();
    for (const host of ['127.0.0.1', '127.10.0.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopback(host), host).toBe(true);
      expect(() => checkDevUsers(loadConfig({ PASO_HOST: host }, dir())), host).not.toThrow();
    }
  });

  it('are refused on a bind others can reach, saying to set PASO_CONFIG', () => {
    for (const host of [
      '0.0.0.0',
      '::',
      '[::]',
      '192.168.1.20',
      '10.0.0.1',
      '128.0.0.1',
      'paso.example.com',
      '127.1',
    ]) {
      expect(isLoopback(host), host).toBe(false);
      const config = loadConfig({ PASO_HOST: host }, dir());
      expect(() => checkDevUsers(config), host).toThrow(ConfigError);
      expect(() => checkDevUsers(config), host).toThrow(
        new RegExp(`PASO_HOST=${host.replace(/[[\]]/g, '\\$&')}.*PASO_CONFIG`),
      );
    }
  });

  it('are refused against a real cluster, as before', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }, dir());
    expect(() => checkDevUsers(config)).toThrow(/TEMPORAL_ADDRESS.*PASO_CONFIG/);
  });

  it('do not exist with a config file, which may bind anywhere', () => {
    const d = dir();
    const file = path.join(d, 'paso.config.yaml');
    writeFileSync(file, 'users:\n  - { name: ann, token: secret-token-1, roles: [admin] }\n');
    const config = loadConfig({ PASO_CONFIG: file, PASO_HOST: '0.0.0.0', TEMPORAL_ADDRESS: 'temporal:7233' }, d);
    expect(config.devUsers).toBeNull();
    expect(() => checkDevUsers(config)).not.toThrow();
  });
});
