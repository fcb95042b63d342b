/**
 * Where a path's time goes, per statement: a profiled pass of the path, separate from the timed
 * runs (profiling slows what it watches), on connections the benchmark already uses.
 *
 * - pg_stat_statements with `track = all` (preloaded on every Rally cluster, as on the platform):
 *   every statement the path ran, nested ones inside functions and triggers included, with calls,
 *   rows and time. A statement's time includes whatever it calls, so the "slowest statements" are
 *   the leaf ones: those that call no Rally PL/pgSQL function (a `perform private.take_seats(…)`
 *   would otherwise hide the update inside it).
 * - plprofiler (Debian's postgresql-15-plprofiler; optional, the pass says so when it is missing):
 *   self time per PL/pgSQL function (its own statements, callees excluded) and the time of each
 *   line, in local mode on each profiled connection, then summed.
 *
 * `track` is switched to `all` for the pass only (ALTER SYSTEM, reload) and back to the
 * cluster's default afterwards, so the timed runs pay for nothing they would not pay in production.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export interface StatementCost {
  query: string;
  calls: number;
  rows: number;
  totalMs: number;
  meanMs: number;
  /** calls no Rally PL/pgSQL function (its time is its own) */
  leaf: boolean;
}

export interface FunctionCost {
  name: string;
  calls: number;
  selfMs: number;
  totalMs: number;
}

export interface LineCost {
  name: string;
  line: number;
  source: string;
  calls: number;
  totalMs: number;
}

export interface PathProfile {
  path: string;
  /** path calls made during the pass (the per-call figures divide by this) */
  calls: number;
  statements: StatementCost[];
  /** null when plprofiler is not installed */
  functions: FunctionCost[] | null;
  lines: LineCost[] | null;
}

export interface Profiler {
  readonly plprofiler: boolean;
  /** Runs `body` profiled: statements on the whole cluster, PL/pgSQL lines on `clients`. */
  profile(path: string, calls: number, clients: readonly pg.ClientBase[], body: () => Promise<void>): Promise<PathProfile>;
}

/**
 * Rally's PL/pgSQL function names, for the leaf test. SQL-language helpers do not count: a query
 * calling one (search_events' main query checks blocks per row) is still the statement whose
 * plan does the work.
 */
async function rallyFunctionNames(admin: pg.ClientBase): Promise<Set<string>> {
  const { rows } = await admin.query<{ name: string }>(
    `select distinct p.proname as name from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private', 'admin', 'realtime') and p.prolang in
            (select oid from pg_catalog.pg_language where lanname = 'plpgsql')`,
  );
  return new Set(rows.map((r) => r.name));
}

function callsRallyFunction(query: string, names: ReadonlySet<string>): boolean {
  for (const match of query.matchAll(/(?:private|public|admin|realtime)\s*\.\s*([a-z_][a-z0-9_]*)\s*\(/gi)) {
    if (names.has((match[1] ?? '').toLowerCase())) return true;
  }
  return false;
}

const SET_TRACK = (value: string): string =>
  value === 'default' ? 'alter system reset pg_stat_statements.track' : `alter system set pg_stat_statements.track = '${value}'`;

async function setTrack(admin: pg.ClientBase, value: 'all' | 'default'): Promise<void> {
  await admin.query(SET_TRACK(value));
  await admin.query('select pg_catalog.pg_reload_conf()');
  // Backends take the new setting when they next read a command; give the signal time to land.
  await sleep(300);
}

/**
 * Prepares the cluster for profiled passes (as the superuser, once): plprofiler's extension when
 * the package is installed. Returns the profiler.
 */
export async function createProfiler(admin: pg.ClientBase): Promise<Profiler> {
  const { rows } = await admin.query<{ n: number }>(
    "select count(*)::int as n from pg_catalog.pg_available_extensions where name = 'plprofiler'",
  );
  const plprofiler = (rows[0]?.n ?? 0) > 0;
  if (plprofiler) await admin.query('create extension if not exists plprofiler with schema extensions');
  const names = await rallyFunctionNames(admin);
  return {
    plprofiler,
    async profile(path, calls, clients, body) {
      await setTrack(admin, 'all');
      try {
        await admin.query('select extensions.pg_stat_statements_reset()');
        if (plprofiler) {
          for (const client of clients) {
            await client.query('select extensions.pl_profiler_reset_local(), extensions.pl_profiler_set_enabled_local(true)');
          }
        }
        await body();
        const lineRows: { func_oid: number; line_number: string; exec_count: string; total_time: string }[] = [];
        const graphRows: { stack: number[]; call_count: string; us_total: string; us_self: string }[] = [];
        if (plprofiler) {
          for (const client of clients) {
            await client.query('select extensions.pl_profiler_set_enabled_local(false)');
            const lines = await client.query<(typeof lineRows)[number]>(
              'select func_oid, line_number, exec_count, total_time from extensions.pl_profiler_linestats_local()',
            );
            const graph = await client.query<(typeof graphRows)[number]>(
              'select stack, call_count, us_total, us_self from extensions.pl_profiler_callgraph_local()',
            );
            lineRows.push(...lines.rows);
            graphRows.push(...graph.rows);
            await client.query('select extensions.pl_profiler_reset_local()');
          }
        }
        const statements = await readStatements(admin, names);
        if (!plprofiler) return { path, calls, statements, functions: null, lines: null };
        return { path, calls, statements, ...(await summarisePl(admin, lineRows, graphRows)) };
      } finally {
        await setTrack(admin, 'default');
      }
    },
  };
}

async function readStatements(admin: pg.ClientBase, names: ReadonlySet<string>): Promise<StatementCost[]> {
  const { rows } = await admin.query<{ query: string; calls: string; rows: string; total: number; mean: number }>(
    `select s.query, sum(s.calls) as calls, sum(s.rows) as rows, sum(s.total_exec_time) as total,
            sum(s.total_exec_time) / nullif(sum(s.calls), 0) as mean
       from extensions.pg_stat_statements s
      where s.dbid = (select oid from pg_catalog.pg_database where datname = current_database())
        and s.query !~* '(pl_profiler|pg_stat_statements|pg_stat_activity|pg_reload_conf|^\\s*(begin|commit|rollback)\\s*$)'
      group by s.query
      order by total desc
      limit 200`,
  );
  return rows.map((r) => ({
    query: r.query.replace(/\s+/g, ' ').trim(),
    calls: Number(r.calls),
    rows: Number(r.rows),
    totalMs: Number(r.total),
    meanMs: Number(r.mean),
    leaf: !callsRallyFunction(r.query, names),
  }));
}

async function summarisePl(
  admin: pg.ClientBase,
  lineRows: readonly { func_oid: number; line_number: string; exec_count: string; total_time: string }[],
  graphRows: readonly { stack: number[]; call_count: string; us_total: string; us_self: string }[],
): Promise<{ functions: FunctionCost[]; lines: LineCost[] }> {
  const oids = [...new Set([...lineRows.map((r) => Number(r.func_oid)), ...graphRows.flatMap((r) => r.stack.map(Number))])];
  const { rows: procs } = await admin.query<{ oid: number; name: string; src: string }>(
    `select p.oid::int as oid, p.oid::regprocedure::text as name, p.prosrc as src
       from pg_catalog.pg_proc p where p.oid = any ($1::oid[])`,
    [oids],
  );
  const byOid = new Map(procs.map((p) => [p.oid, p]));
  const functions = new Map<string, FunctionCost>();
  for (const row of graphRows) {
    const oid = Number(row.stack[row.stack.length - 1]);
    const name = byOid.get(oid)?.name ?? String(oid);
    const cost = functions.get(name) ?? { name, calls: 0, selfMs: 0, totalMs: 0 };
    cost.calls += Number(row.call_count);
    cost.selfMs += Number(row.us_self) / 1000;
    // A recursive stack would count twice; Rally's hot paths do not recurse.
    cost.totalMs += Number(row.us_total) / 1000;
    functions.set(name, cost);
  }
  const lines = new Map<string, LineCost>();
  for (const row of lineRows) {
    const line = Number(row.line_number);
    if (line === 0) continue; // line 0 is the whole function
    const proc = byOid.get(Number(row.func_oid));
    const name = proc?.name ?? String(row.func_oid);
    const key = `${name}:${line}`;
    const cost = lines.get(key) ?? { name, line, source: (proc?.src.split('\n')[line - 1] ?? '').trim(), calls: 0, totalMs: 0 };
    cost.calls += Number(row.exec_count);
    cost.totalMs += Number(row.total_time) / 1000;
    lines.set(key, cost);
  }
  return {
    functions: [...functions.values()].sort((a, b) => b.selfMs - a.selfMs),
    lines: [...lines.values()].sort((a, b) => b.totalMs - a.totalMs),
  };
}

const clip = (text: string, width: number): string => (text.length <= width ? text : `${text.slice(0, width - 1)}…`);
const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3));

/**
 * The profile as text: the slowest leaf statements (per path call), and with plprofiler the
 * functions by self time and the costliest lines.
 */
export function formatProfile(profile: PathProfile, top = 5): string {
  const per = (value: number): string => `${ms(value / profile.calls)} ms/call`;
  const out: string[] = [`profile of ${profile.path} (${profile.calls} calls, pg_stat_statements track = all${profile.functions ? ' + plprofiler' : ''}):`];
  const leaves = profile.statements.filter((s) => s.leaf).slice(0, top);
  out.push('  slowest statements (leaf: calling no Rally function), total time per path call:');
  for (const s of leaves) {
    out.push(`    ${per(s.totalMs).padStart(16)}  ${(s.calls / profile.calls).toFixed(2).padStart(6)}×/call  ${ms(s.meanMs).padStart(7)} ms each  ${clip(s.query, 150)}`);
  }
  if (profile.functions !== null) {
    out.push('  PL/pgSQL functions by self time (callees excluded), per path call:');
    for (const f of profile.functions.slice(0, top + 3)) {
      out.push(`    ${per(f.selfMs).padStart(16)}  ${(f.calls / profile.calls).toFixed(2).padStart(6)}×/call  total ${per(f.totalMs)}  ${f.name}`);
    }
  }
  if (profile.lines !== null) {
    out.push('  costliest lines (callees included), per path call:');
    for (const l of profile.lines.slice(0, top + 3)) {
      out.push(`    ${per(l.totalMs).padStart(16)}  ${(l.calls / profile.calls).toFixed(2).padStart(6)}×/call  ${clip(`${l.name}:${l.line}  ${l.source}`, 150)}`);
    }
  }
  return out.join('\n');
}

/** The slowest leaf statement, for one-line summaries. */
export function slowestStatement(profile: PathProfile): { query: string; msPerCall: number } | null {
  const leaf = profile.statements.find((s) => s.leaf);
  return leaf === undefined ? null : { query: leaf.query, msPerCall: leaf.totalMs / profile.calls };
}
