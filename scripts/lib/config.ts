/**
 * Every path, port and environment knob of the Docker-less stack in one place, so the scripts
 * and the README agree. Defaults mirror `supabase start` where one exists.
 */
import { fileURLToPath } from 'node:url';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { RallyError } from './errors.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** State of the dev stack (git-ignored): data dir, lock file. */
export const RALLY_DIR = join(REPO_ROOT, '.rally');
export const STACK_LOCK_FILE = join(RALLY_DIR, 'stack.pid');

/** The bootstrap superuser, as on the platform (initdb -U supabase_admin). */
export const ADMIN_ROLE = 'supabase_admin';
/** Migrations, seed and the app's server-side code connect as `postgres` (not a superuser). */
export const APP_ROLE = 'postgres';
/** `supabase start` uses "postgres" as the local password for both roles; so do we. */
export const LOCAL_PASSWORD = 'postgres';
export const DATABASE = 'postgres';
/** The schemas Rally's migrations create objects in (lint, the API-exposure comparison). */
export const RALLY_SCHEMAS: readonly string[] = ['public', 'private', 'admin'];

/** The CLI claims these for its Docker DB, shadow DB and pooler; using them confuses `--db-url`. */
export const FORBIDDEN_DB_PORTS: readonly number[] = [54322, 54320, 54329];
export const DEFAULT_DB_PORT = 54330;
export const DEFAULT_FUNCTIONS_PORT = 54321;
/** The CLI's local default secret, so keys minted here match the ones `supabase start` prints. */
export const DEFAULT_JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';

export const PATHS = {
  platformDir: () => envPath('RALLY_PLATFORM_DIR') ?? join(REPO_ROOT, 'sql', 'platform'),
  seed: join(REPO_ROOT, 'supabase', 'seed.sql'),
  /** the first pgTAP file: creates pgTAP and the `tests` helpers, as `supabase test db` would run it */
  testHelpers: join(REPO_ROOT, 'tests', 'db', '000-setup-tests-helpers.test.sql'),
  pgTapTests: join(REPO_ROOT, 'tests', 'db'),
  smokeTests: join(REPO_ROOT, 'tests', 'smoke'),
  vitestConfig: join(REPO_ROOT, 'tests', 'vitest.config.ts'),
  vitestConsoleSummary: join(REPO_ROOT, 'tests', 'support', 'console-summary-reporter.ts'),
  e2eVitestConfig: join(REPO_ROOT, 'tests', 'e2e', 'vitest.config.ts'),
  functionsDir: join(REPO_ROOT, 'functions'),
  denoConfig: join(REPO_ROOT, 'functions', 'deno.json'),
  gateway: join(REPO_ROOT, 'scripts', 'functions-gateway.ts'),
  typesFile: join(REPO_ROOT, 'types', 'database.ts'),
  supabaseBin: join(REPO_ROOT, 'node_modules', '.bin', 'supabase'),
  denoBin: join(REPO_ROOT, 'node_modules', '.bin', 'deno'),
  vitestBin: join(REPO_ROOT, 'node_modules', '.bin', 'vitest'),
  postgresMetaServer: join(REPO_ROOT, 'node_modules', '@supabase', 'postgres-meta', 'dist', 'server', 'server.js'),
} as const;

function envPath(name: string): string | undefined {
  const value = process.env[name];
  if (!value) return undefined;
  return isAbsolute(value) ? value : resolve(REPO_ROOT, value);
}

export function devDataDir(): string {
  return envPath('RALLY_DB_DIR') ?? join(RALLY_DIR, 'db');
}

export function devDbPort(): number {
  return parsePort('RALLY_DB_PORT', DEFAULT_DB_PORT);
}

export function functionsPort(): number {
  return parsePort('RALLY_FUNCTIONS_PORT', DEFAULT_FUNCTIONS_PORT);
}

/**
 * The platform's per-project "default privileges for new entities" setting
 * (RALLY_API_AUTO_EXPOSE=on|off, default off, as every project since 2026-10-30).
 */
export type ApiExposure = 'on' | 'off';

export function apiAutoExpose(): ApiExposure {
  const raw = process.env.RALLY_API_AUTO_EXPOSE;
  if (raw === undefined || raw === '' || raw === 'off') return 'off';
  if (raw === 'on') return 'on';
  throw new RallyError('USAGE', `RALLY_API_AUTO_EXPOSE=${raw} must be on or off`);
}

export function jwtSecret(): string {
  return process.env.SUPABASE_JWT_SECRET || DEFAULT_JWT_SECRET;
}

function parsePort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RallyError('USAGE', `${name}=${raw} is not a TCP port`);
  }
  return port;
}

export function assertAllowedDbPort(port: number): void {
  if (FORBIDDEN_DB_PORTS.includes(port)) {
    throw new RallyError(
      'PORT_FORBIDDEN',
      `port ${port} belongs to the Supabase CLI's Docker stack (54322 db, 54320 shadow, 54329 pooler); ` +
        'the CLI would treat --db-url on it as its own container. Pick another RALLY_DB_PORT.',
    );
  }
}

/** Connection URL for `role`; sslmode=disable because the local cluster has no TLS. */
export function dbUrl(role: string, port: number): string {
  return `postgresql://${role}:${LOCAL_PASSWORD}@127.0.0.1:${port}/${DATABASE}?sslmode=disable`;
}

/** libpq environment for psql/pg_prove, so the password never appears on a command line. */
export function libpqEnv(role: string, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHOST: '127.0.0.1',
    PGPORT: String(port),
    PGUSER: role,
    PGPASSWORD: LOCAL_PASSWORD,
    PGDATABASE: DATABASE,
    PGSSLMODE: 'disable',
  };
}
