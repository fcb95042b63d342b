/**
 * A cheap, exact-enough fingerprint of everything the database holds, for the fuzzers' "nothing
 * was partially written" check:
 *
 *   const snap = await databaseSnapshot();
 *   …a request that was refused…
 *   expect(diffSnapshots(snap, await databaseSnapshot())).toEqual([]);
 *
 * Per table: the row count and an order-independent hash of every row (the sum of
 * `hashtextextended(row::text, 0)` over the rows), read as the superuser so RLS hides nothing.
 * Any insert, delete or update of any column changes the count or (with overwhelming
 * probability) the hash; reading every row keeps it correct without trusting statistics, which
 * PostgreSQL flushes asynchronously and which count rolled-back work too.
 *
 * Which tables: every ordinary and partitioned table (partitions through their parent) in every
 * schema but PostgreSQL's own, `cron` (pg_cron's run log — the fuzzers pause the scheduler,
 * see `pauseScheduler`), `extensions` (PostGIS's static reference data), `supabase_migrations`
 * (the CLI's history) and `tests` (pgTAP helpers). A schema or table a later migration adds is
 * included without a change here. Sequences are left out on purpose: `nextval` is not
 * transactional in PostgreSQL, so a rolled-back insert still advances them, on the platform too.
 */
import { ownerQuery } from "../db.ts";

/** Schemas whose contents are not application state. */
export const SNAPSHOT_EXCLUDED_SCHEMAS = ["cron", "extensions", "supabase_migrations", "tests", "information_schema"] as const;

export type DatabaseSnapshot = Map<string, string>;

let statement: string | null = null;

/** The union-all query over the current set of tables (built once per process). */
async function snapshotStatement(): Promise<string> {
  if (statement !== null) return statement;
  const { rows } = await ownerQuery<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name
       from pg_catalog.pg_class c
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and not c.relispartition
        and n.nspname not like 'pg\\_%' and n.nspname <> all ($1::text[])
      order by 1`,
    [[...SNAPSHOT_EXCLUDED_SCHEMAS]],
  );
  if (rows.length === 0) throw new Error("no tables to snapshot: is the database migrated?");
  statement = rows
    .map((r) => `select '${r.name.replaceAll("'", "''")}' as t, count(*)::text || ':' || coalesce(sum(hashtextextended(x::text, 0)), 0)::text as v from ${r.name} x`)
    .join("\nunion all ");
  return statement;
}

export async function databaseSnapshot(): Promise<DatabaseSnapshot> {
  const { rows } = await ownerQuery<{ t: string; v: string }>(await snapshotStatement());
  return new Map(rows.map((r) => [r.t, r.v]));
}

/** Tables whose contents differ, as `schema.table (count:hash → count:hash)`; empty when equal. */
export function diffSnapshots(before: DatabaseSnapshot, after: DatabaseSnapshot): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  const changed: string[] = [];
  for (const name of [...names].sort()) {
    const a = before.get(name);
    const b = after.get(name);
    if (a !== b) changed.push(`${name} (${a ?? "absent"} → ${b ?? "absent"})`);
  }
  return changed;
}

/**
 * Pauses pg_cron's jobs (they run in test clusters too, and would write between two snapshots)
 * and waits for a running one to finish; returns the function that restores them.
 */
export async function pauseScheduler(): Promise<() => Promise<void>> {
  // cron.job is read-only for postgres, as on the platform: jobs are paused through pg_cron's API.
  const { rows } = await ownerQuery<{ jobid: string }>(
    "select jobid, cron.alter_job(jobid, active := false) from cron.job where active and username = current_user",
  );
  const paused = rows.map((r) => r.jobid);
  for (let i = 0; i < 100; i += 1) {
    const running = await ownerQuery(
      `select 1 from pg_catalog.pg_stat_activity
        where backend_type = 'pg_cron' or (application_name = 'pg_cron' and state = 'active')`,
    );
    const jobs = await ownerQuery("select 1 from cron.job_run_details where status in ('starting', 'running')");
    if (running.rows.length === 0 && jobs.rows.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return async () => {
    if (paused.length > 0) await ownerQuery("select cron.alter_job(jobid, active := true) from unnest($1::bigint[]) as jobid", [paused]);
  };
}
