import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/cluster/**', 'node_modules/**'], // the cluster suite has its own config (vitest.cluster.config.ts)
    pool: 'forks',
    // Two test files at a time, on 2 cores too: most integration tests wait on Temporal's timers and on the
    // processes they start, not on the CPU (the suite takes 12 min this way, 18 min one file at a time).
    maxWorkers: 2,
    // "Within moments" for a person: a poll waits up to 10 s (vitest's default is 1 s) for what a user would
    // see happen, so a machine busy with two test files at once does not fail a check that holds.
    expect: { poll: { timeout: 10_000, interval: 100 } },
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
  },
});
