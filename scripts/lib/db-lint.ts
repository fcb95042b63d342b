/**
 * The database quality gates of ARCHITECTURE §7, run with the Supabase CLI itself (both work
 * with --db-url and no Docker): `db lint` (plpgsql_check) and `db advisors` (splinter).
 */
import { PATHS, RALLY_SCHEMAS, REPO_ROOT } from './config.ts';
import { cliEnv } from './apply.ts';
import { run } from './process.ts';

export interface CheckResult {
  name: string;
  ok: boolean;
}

/**
 * Fails on any plpgsql_check finding at level warning or above, in Rally's schemas. Without
 * `--schema` the CLI lints every schema the connecting role owns; on the platform (and in the
 * contract) `postgres` owns `extensions`, so it would lint PostGIS's own PL/pgSQL, which is not
 * Rally's to fix.
 */
export async function dbLint(dbUrl: string): Promise<CheckResult> {
  const args = ['db', 'lint', '--db-url', dbUrl, '--schema', RALLY_SCHEMAS.join(','), '--level', 'warning', '--fail-on', 'warning'];
  return cliCheck('supabase db lint (level warning)', args);
}

/** Fails on any Security/Performance Advisor finding at level WARN or ERROR. */
export async function dbAdvisors(dbUrl: string): Promise<CheckResult> {
  const args = ['db', 'advisors', '--db-url', dbUrl, '--type', 'all', '--level', 'warn', '--fail-on', 'warn'];
  return cliCheck('supabase db advisors (level warn)', args);
}

async function cliCheck(name: string, args: string[]): Promise<CheckResult> {
  process.stderr.write(`\n=== ${name} ===\n`);
  const result = await run(PATHS.supabaseBin, args, { cwd: REPO_ROOT, env: cliEnv(), output: 'tee' });
  return { name, ok: result.code === 0 };
}
