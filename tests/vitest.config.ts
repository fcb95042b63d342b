// vitest for Rally: every tests/**/*.test.ts except the Deno smoke tests, run by `npm test`
// against a throwaway database (SUPABASE_DB_URL, RALLY_DB_URL, RALLY_ADMIN_DB_URL and the keys come from
// scripts/test.ts). Files run one at a time because they share that database.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['tests/**/*.test.ts'],
    // tests/e2e runs in its own suite, against the API stack (tests/e2e/vitest.config.ts).
    exclude: ['tests/smoke/**', 'tests/e2e/**', '**/node_modules/**'],
    environment: 'node',
    fileParallelism: false,
    // A passing test's console output (the errors the fault and fuzz gates provoke) is held back
    // and counted by tests/support/console-summary-reporter.ts; a failing test shows its own.
    silent: 'passed-only',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
