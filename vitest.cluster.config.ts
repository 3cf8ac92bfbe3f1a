import { defineConfig } from 'vitest/config';

/** `npm run test:cluster`: the black-box suite against Paso's production topology (test/cluster/). */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['test/cluster/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 600_000,
    teardownTimeout: 60_000,
  },
});
