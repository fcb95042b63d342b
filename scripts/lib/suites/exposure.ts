/**
 * The "default privileges for new entities" setting, both ways (issue 11 part 3). `npm test`
 * builds its main cluster in one mode (RALLY_API_AUTO_EXPOSE, default off); this suite builds a
 * second throwaway cluster in the other mode, runs the RLS matrix (tests/db/90-rls-matrix) there
 * as `postgres`, and compares the table, sequence and column privileges `anon` and
 * `authenticated` hold in Rally's schemas on both clusters. Any difference fails, listed one per
 * line: a privilege that depends on the project's setting is one a migration forgot to revoke.
 */
import pg from 'pg';
import { withThrowawayDb } from '../throwaway.ts';
import { runPgTap } from './pgtap.ts';
import { timed, type SuiteResult } from './result.ts';
import { RALLY_SCHEMAS, type ApiExposure } from '../config.ts';

export const RLS_MATRIX_FILE = '90-rls-matrix';

const API_ROLES = ['anon', 'authenticated'];

export interface Privilege {
  object: string;
  role: string;
  privilege: string;
}

/** Every table-level (relation, sequence) and column-level privilege anon/authenticated hold. */
const PRIVILEGES_SQL = `
  with relations as (
    select c.oid, n.nspname || '.' || c.relname as name, c.relkind, c.relowner, c.relacl
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1) and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S'))
  select r.name as object, a.grantee::regrole::text as role, a.privilege_type as privilege
    from relations r
   cross join lateral aclexplode(coalesce(r.relacl, acldefault((case r.relkind when 'S' then 's' else 'r' end)::"char", r.relowner))) a
   where a.grantee::regrole::text = any($2)
  union all
  select r.name || '.' || att.attname, a.grantee::regrole::text, a.privilege_type
    from relations r
    join pg_attribute att on att.attrelid = r.oid and att.attnum > 0 and not att.attisdropped and att.attacl is not null
   cross join lateral aclexplode(att.attacl) a
   where a.grantee::regrole::text = any($2)`;

export async function apiRolePrivileges(dbUrl: string): Promise<Privilege[]> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const result = await client.query<Privilege>(PRIVILEGES_SQL, [RALLY_SCHEMAS, API_ROLES]);
    return result.rows;
  } finally {
    await client.end();
  }
}

/** Lines `+ object role PRIVILEGE` (only in `other`) and `- …` (only in `base`), sorted. */
export function privilegeDifferences(base: Privilege[], other: Privilege[]): string[] {
  const key = (p: Privilege): string => `${p.object} ${p.role} ${p.privilege}`;
  const baseKeys = new Set(base.map(key));
  const otherKeys = new Set(other.map(key));
  const onlyOther = [...otherKeys].filter((k) => !baseKeys.has(k)).map((k) => `+ ${k}`);
  const onlyBase = [...baseKeys].filter((k) => !otherKeys.has(k)).map((k) => `- ${k}`);
  return [...onlyOther, ...onlyBase].sort((a, b) => a.slice(2).localeCompare(b.slice(2)));
}

export function otherMode(mode: ApiExposure): ApiExposure {
  return mode === 'on' ? 'off' : 'on';
}

export interface ExposureOptions {
  mainMode: ApiExposure;
  mainPrivileges: Privilege[];
  log: (line: string) => void;
}

export async function runExposureSuite(options: ExposureOptions): Promise<SuiteResult[]> {
  const start = Date.now();
  const mode = otherMode(options.mainMode);
  const name = `API exposure: ${RLS_MATRIX_FILE} and privileges with new-entity defaults ${mode}`;
  return withThrowawayDb({ testHelpers: true, apiExposure: mode, log: options.log }, async (db) => {
    const matrix = await runPgTap(db.port, RLS_MATRIX_FILE, `pgTAP ${RLS_MATRIX_FILE} (default privileges ${mode})`);
    const differences = privilegeDifferences(options.mainPrivileges, await apiRolePrivileges(db.appUrl));
    if (differences.length > 0) {
      options.log(`\nanon/authenticated privileges differ between default privileges ${options.mainMode} and ${mode} ` +
        `(+ only with ${mode}, - only with ${options.mainMode}); each needs a revoke before its grant in the migration that creates it:`);
      for (const line of differences) options.log(`  ${line}`);
    }
    const comparison: SuiteResult = {
      name,
      passed: differences.length === 0 ? 1 : 0,
      failed: differences.length === 0 ? 0 : 1,
      ...(differences.length > 0 ? { note: `${differences.length} privileges differ (listed above)` } : {}),
      durationMs: timed(start),
    };
    return [matrix, comparison];
  });
}
