/**
 * The apply order of ARCHITECTURE §2, for every cluster we start:
 *   1. sql/platform/*.sql, file-name order, as the superuser supabase_admin (what the platform
 *      provides), in the API-exposure mode RALLY_API_AUTO_EXPOSE selects; then the Realtime
 *      server's daily `realtime.messages` partitions (tools/realtime-standin/maintenance.ts)
 *   2. `supabase migration up` as role postgres, exactly as a deploy would run them
 *   3. supabase/seed.sql as role postgres (fresh clusters only)
 *   4. tests/db/000-setup-tests-helpers.test.sql as role postgres (test clusters only; pg_prove
 *      runs it again as the suite's first file, as `supabase test db` would)
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ADMIN_ROLE, APP_ROLE, PATHS, REPO_ROOT, apiAutoExpose, dbUrl, libpqEnv, type ApiExposure } from './config.ts';
import { RallyError, type RallyErrorCode } from './errors.ts';
import { findPgBinaries } from './pg-binaries.ts';
import { run } from './process.ts';
import { maintainMessagePartitions } from '../../tools/realtime-standin/maintenance.ts';

export interface ApplyOptions {
  port: number;
  seed: boolean;
  testHelpers: boolean;
  /** defaults to RALLY_API_AUTO_EXPOSE */
  apiExposure?: ApiExposure;
  log?: (line: string) => void;
}

export async function applyAll(options: ApplyOptions): Promise<void> {
  const log = options.log ?? defaultLog;
  await applyPlatform(options.port, log, options.apiExposure ?? apiAutoExpose());
  // The Realtime server creates `realtime.messages`' day partitions when it connects to a project;
  // its stand-in's janitor does the same here, so every database has them before anything runs.
  await maintainMessagePartitions(dbUrl(ADMIN_ROLE, options.port), log);
  await applyMigrations(options.port, log);
  if (options.seed) await applySeed(options.port, log);
  if (options.testHelpers) await applyTestHelpers(options.port, log);
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function platformFiles(): string[] {
  const dir = PATHS.platformDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => join(dir, name));
}

export async function applyPlatform(port: number, log: (line: string) => void, apiExposure: ApiExposure): Promise<void> {
  const files = platformFiles();
  if (files.length === 0) log(`warning: no platform files in ${PATHS.platformDir()}`);
  log(`platform: default privileges for new entities ${apiExposure} (RALLY_API_AUTO_EXPOSE)`);
  for (const file of files) {
    log(`platform: ${basename(file)}`);
    await psqlFile('APPLY_PLATFORM', ADMIN_ROLE, port, file, { api_auto_expose: apiExposure });
  }
}

/** The CLI itself applies migrations, so local runs record them in supabase_migrations like a deploy. */
export async function applyMigrations(port: number, log: (line: string) => void = defaultLog): Promise<void> {
  log('migrations: supabase migration up');
  // --include-all: a teammate's migration may carry an older timestamp than one already applied
  // to a reused dev database; apply it instead of refusing.
  const args = ['migration', 'up', '--db-url', dbUrl(APP_ROLE, port), '--include-all', '--yes'];
  const result = await run(PATHS.supabaseBin, args, { cwd: REPO_ROOT, output: 'capture', env: cliEnv() });
  if (result.code !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim();
    // A reused dev database remembers migrations that were since renamed or deleted in the repo.
    const hint = /versions not found in local migrations/i.test(output)
      ? '\nhint: the database has migrations this checkout lacks; `npm run db:reset` rebuilds it from the repo'
      : '';
    throw new RallyError('APPLY_MIGRATIONS', `supabase migration up failed:\n${output}${hint}`);
  }
  const applied = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => /Applying migration/i.test(line));
  for (const line of applied) log(`  ${line.trim()}`);
}

/** Environment for the Supabase CLI: no telemetry, no update checks from local tooling. */
export function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DO_NOT_TRACK: '1', SUPABASE_TELEMETRY_DISABLED: '1' };
}

export async function applySeed(port: number, log: (line: string) => void = defaultLog): Promise<void> {
  if (!existsSync(PATHS.seed)) {
    log('seed: supabase/seed.sql not found, skipped');
    return;
  }
  log('seed: supabase/seed.sql');
  await psqlFile('APPLY_SEED', APP_ROLE, port, PATHS.seed);
}

export async function applyTestHelpers(port: number, log: (line: string) => void = defaultLog): Promise<void> {
  if (!existsSync(PATHS.testHelpers)) return;
  log('test helpers: tests/db/000-setup-tests-helpers.test.sql');
  await psqlFile('APPLY_TEST_HELPERS', APP_ROLE, port, PATHS.testHelpers);
}

/** psql stops at the first error (ON_ERROR_STOP) and ignores ~/.psqlrc (-X) so runs are reproducible. */
export async function psqlFile(
  code: RallyErrorCode, role: string, port: number, file: string, variables: Record<string, string> = {},
): Promise<void> {
  const bins = await findPgBinaries();
  const settings = Object.entries(variables).flatMap(([name, value]) => ['-v', `${name}=${value}`]);
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...settings, '-f', file];
  const result = await run(bins.path('psql'), args, { env: { ...libpqEnv(role, port), PGOPTIONS: '-c client_min_messages=warning' }, output: 'capture' });
  if (result.code !== 0) {
    throw new RallyError(code, `${basename(file)} failed as ${role}:\n${`${result.stdout}\n${result.stderr}`.trim()}`);
  }
}
