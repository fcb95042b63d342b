/**
 * The environment the test runner (`npm test`, scripts/test.ts) gives every suite:
 *
 *   SUPABASE_DB_URL      the throwaway cluster as role `postgres` (what edge functions get; the
 *                        fault tests point it at their proxy)
 *   RALLY_DB_URL         the same, never redirected: test fixtures
 *   RALLY_ADMIN_DB_URL   the same cluster as the superuser `supabase_admin` (what GoTrue and
 *                        the platform do: insert auth users, run the access-token hook)
 *   SUPABASE_JWT_SECRET  the secret JWTs are signed with (as `supabase start` uses)
 *
 * A missing variable fails the test with a message saying how to run it, rather than
 * skipping: a suite that silently skips its database tests proves nothing.
 *
 * Reads through the functions' `readEnv`, so these helpers also work under `deno test`.
 */
import { readEnv } from "../../functions/_shared/env.ts";

export type TestEnvName = "SUPABASE_DB_URL" | "RALLY_DB_URL" | "RALLY_ADMIN_DB_URL" | "SUPABASE_JWT_SECRET";

export function testEnv(name: TestEnvName): string {
  const value = readEnv(name);
  if (value === undefined) {
    throw new Error(`${name} is not set: run this suite through \`npm test\`, which starts a throwaway database.`);
  }
  return value;
}

export interface EnvOverride {
  /** Sets each variable (`undefined` unsets it), remembering its value from before the first set. */
  set(values: Record<string, string | undefined>): void;
  /** Puts back every variable set since the last restore. */
  restore(): void;
}

/**
 * Environment variables a test file changes for the code under test, put back afterwards:
 *
 *   const env = envOverride();
 *   beforeAll(() => env.set({ STRIPE_API_BASE: standin.url, STRIPE_SECRET_KEY: undefined }));
 *   afterAll(() => env.restore());
 *
 * Scoped, unlike `vi.stubEnv` / `vi.unstubAllEnvs` (which put back every variable the file
 * stubbed): a harness (support/payments.ts) and a test running inside it each restore only
 * their own variables.
 */
export function envOverride(): EnvOverride {
  const saved = new Map<string, string | undefined>();
  const put = (name: string, value: string | undefined): void => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  return {
    set(values) {
      for (const [name, value] of Object.entries(values)) {
        if (!saved.has(name)) saved.set(name, process.env[name]);
        put(name, value);
      }
    },
    restore() {
      for (const [name, value] of saved) put(name, value);
      saved.clear();
    },
  };
}
