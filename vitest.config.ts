import { defineConfig } from 'vitest/config';

// Tests run from the compiled output (npm test builds first), so the worker
// threads and child processes they start are the same JavaScript that ships.
export default defineConfig({
  test: {
    include: ['dist/test/**/*.test.js'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    globalSetup: ['dist/test/support/global-setup.js'],
    reporters: ['default'],
  },
});
