// The e2e suite: tests/e2e/**/*.test.ts through @supabase/supabase-js against an API URL.
// `npm test` starts the local stack and sets SUPABASE_URL, SUPABASE_ANON_KEY and
// SUPABASE_SERVICE_ROLE_KEY; against `supabase start` or a hosted project set them yourself and
// run `npx vitest run --config tests/e2e/vitest.config.ts` (docs/local-stack.md, "The e2e suite").
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['tests/e2e/**/*.test.ts'],
    environment: 'node',
    // Files share one project; each signs up its own users, so they could run in parallel, but
    // the machine has 2 cores and the stack runs in the same process tree.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
