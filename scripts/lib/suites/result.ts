/** What every test suite reports back to scripts/test.ts. */
export interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  /** why a suite ran nothing, or what failed outside any single test */
  note?: string;
  durationMs: number;
}

/** Environment every suite's tests receive: the throwaway database and the minted keys. */
export interface TestEnv {
  port: number;
  appUrl: string;
  adminUrl: string;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  functionsPort: number;
  /** `npm test -- --files <text>`: run only test files whose path contains it */
  fileFilter?: string;
}

export function testProcessEnv(env: TestEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SUPABASE_DB_URL: env.appUrl,
    RALLY_DB_URL: env.appUrl,
    RALLY_ADMIN_DB_URL: env.adminUrl,
    SUPABASE_JWT_SECRET: env.jwtSecret,
    SUPABASE_ANON_KEY: env.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: env.serviceRoleKey,
    RALLY_FUNCTIONS_PORT: String(env.functionsPort),
    SUPABASE_URL: `http://127.0.0.1:${env.functionsPort}`,
  };
}

/**
 * Colour codes only on a terminal: CI sets CI=true, which makes vitest and Deno colour their
 * output even into a log file; NO_COLOR (no-color.org) turns that off for both.
 */
export function withoutColourOffTerminal(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (process.stdout.isTTY) return env;
  const { FORCE_COLOR: _forced, ...rest } = env;
  return { ...rest, NO_COLOR: '1' };
}

export function timed(start: number): number {
  return Date.now() - start;
}
