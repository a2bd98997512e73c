import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests that spawn worker threads and the CLI are CPU-heavy; two files at a time fits 2 cores.
    maxWorkers: 2,
  },
});
