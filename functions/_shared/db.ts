/**
 * Database access for edge functions, over a direct Postgres connection (SUPABASE_DB_URL, role
 * `postgres`).
 *
 * `postgres` bypasses RLS, so a function that acts for a user must not query as itself. It runs
 * its SQL through `withUserContext(claims, fn)`, which opens one transaction and sets what
 * PostgREST sets per request (PostgREST `txVarQuery`):
 *
 *   select set_config('search_path', 'public, extensions', true),
 *          set_config('role', <claims.role>, true),
 *          set_config('request.jwt.claims', <claims json>, true)
 *          -- plus the role's own settings (statement_timeout …), as PostgREST applies them
 *
 * so `auth.uid()`, `auth.jwt()`, grants and RLS policies see exactly what they would see through
 * the Data API. `true` makes each setting transaction-local: nothing leaks to the next user of the
 * pooled connection.
 */
import pg from "pg";
import { JWT_ROLES, type JwtClaims, type JwtRole } from "./auth.ts";
import { requireEnv } from "./env.ts";

export type DbClient = pg.PoolClient;

/** What a request context needs: the role to switch to, plus every other claim to expose. */
export type RequestClaims = Pick<JwtClaims, "role"> & Record<string, unknown>;

/** PostgREST's `db-extra-search-path` on Supabase is `public, extensions`. */
const SEARCH_PATH = "public, extensions";

let current: { url: string; pool: pg.Pool } | null = null;

/**
 * The shared pool for SUPABASE_DB_URL, created on first use (and re-created if the URL changes,
 * which only tests do). 503 `not_configured` when the variable is missing.
 */
export function getPool(): pg.Pool {
  const { SUPABASE_DB_URL: url } = requireEnv("SUPABASE_DB_URL");
  if (current !== null && current.url === url) return current.pool;
  if (current !== null) void current.pool.end().catch(() => {});
  const pool = new pg.Pool({
    connectionString: url,
    // An edge function instance serves few concurrent requests; keep the footprint small.
    max: 5,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 5_000,
    application_name: "rally-functions",
  });
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on("error", (err) => console.error("[db] idle connection error:", err.message));
  current = { url, pool };
  return pool;
}

/** Closes the shared pool (gateway shutdown, end of a test file). Safe to call twice. */
export async function closePool(): Promise<void> {
  const closing = current;
  current = null;
  if (closing !== null) await closing.pool.end();
}

function isJwtRole(role: unknown): role is JwtRole {
  return typeof role === "string" && (JWT_ROLES as readonly string[]).includes(role);
}

/**
 * The impersonated role's own settings (`alter role authenticated set statement_timeout = '8s'`
 * on the platform), which `set role` alone would not apply: only user-settable ones, never
 * search_path (set by the preamble). Database-specific role settings come after the
 * all-databases ones, so they win, as at login. Reading them costs a scan of every server setting
 * (pg_settings, about 1.5 ms), so each connection reads them once per role and keeps them, as
 * PostgREST keeps them in its schema cache (a changed role setting reaches new connections).
 */
const ROLE_SETTINGS_SQL = `
  select coalesce(array_agg(kv.name order by s.setdatabase, kv.ord), '{}') as names,
         coalesce(array_agg(kv.value order by s.setdatabase, kv.ord), '{}') as values
    from pg_catalog.pg_db_role_setting s
    cross join lateral (
      select split_part(c, '=', 1) as name, substr(c, strpos(c, '=') + 1) as value, ord
        from unnest(s.setconfig) with ordinality as u(c, ord)
    ) kv
    join pg_catalog.pg_settings ps on ps.name = kv.name and ps.context = 'user'
   where s.setrole = (select r.oid from pg_catalog.pg_roles r where r.rolname = $2)
     and s.setdatabase in (0, (select d.oid from pg_catalog.pg_database d where d.datname = current_database()))
     and kv.name <> 'search_path'`;

/** PostgREST's per-request preamble, the role's settings ($4 names, $5 values) applied in order. */
const REQUEST_CONTEXT_SQL = `
  select set_config('search_path', $1, true),
         set_config('role', $2, true),
         set_config('request.jwt.claims', $3, true),
         (select count(set_config(kv.name, kv.value, true))
            from unnest($4::text[], $5::text[]) with ordinality as kv(name, value, ord))`;

/**
 * The same preamble on a connection's first request as a role: it reads the role's settings in
 * the same statement and returns them to keep, so every request stays one round trip.
 */
const FIRST_REQUEST_CONTEXT_SQL = `
  select rs.names, rs.values,
         set_config('search_path', $1, true),
         set_config('role', $2, true),
         set_config('request.jwt.claims', $3, true),
         (select count(set_config(kv.name, kv.value, true))
            from unnest(rs.names, rs.values) with ordinality as kv(name, value, ord))
    from (${ROLE_SETTINGS_SQL}) rs`;

interface RoleSettings {
  names: string[];
  values: string[];
}

const roleSettingsByClient = new WeakMap<pg.ClientBase, Map<JwtRole, RoleSettings>>();

/**
 * Sets the PostgREST request context on a client that is inside a transaction. The role is
 * checked against the three API roles: a token claiming `postgres` must not become `postgres`.
 */
export async function applyRequestContext(client: pg.ClientBase, claims: RequestClaims): Promise<void> {
  if (!isJwtRole(claims.role)) throw new Error(`refusing to switch to role ${JSON.stringify(claims.role)}`);
  let byRole = roleSettingsByClient.get(client);
  if (byRole === undefined) {
    byRole = new Map();
    roleSettingsByClient.set(client, byRole);
  }
  const known = byRole.get(claims.role);
  if (known !== undefined) {
    await client.query(REQUEST_CONTEXT_SQL, [SEARCH_PATH, claims.role, JSON.stringify(claims), known.names, known.values]);
    return;
  }
  const { rows } = await client.query<RoleSettings>(FIRST_REQUEST_CONTEXT_SQL, [SEARCH_PATH, claims.role, JSON.stringify(claims)]);
  byRole.set(claims.role, { names: rows[0]?.names ?? [], values: rows[0]?.values ?? [] });
}

export interface TransactionOptions {
  /** PostgREST runs GET/HEAD read-only; do the same for reads. */
  readOnly?: boolean;
  /** Defaults to the shared pool. */
  pool?: pg.Pool;
}

/**
 * Runs `fn` in one transaction as the caller: role and `request.jwt.claims` from `claims`.
 * Commits when `fn` resolves, rolls back when it throws (the error propagates unchanged).
 */
export async function withUserContext<T>(
  claims: RequestClaims,
  fn: (client: DbClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await (options.pool ?? getPool()).connect();
  let broken: Error | undefined;
  // A connection lost while the client is checked out fails the running query AND is emitted as
  // an 'error' event on the client; the pool listens only while the client is idle, and an
  // unheard 'error' event would crash the whole function process. Remember it instead, so the
  // client is destroyed rather than returned to the pool.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on("error", onError);
  try {
    await client.query(options.readOnly === true ? "begin read only" : "begin");
    try {
      await applyRequestContext(client, claims);
      const result = await fn(client);
      await client.query("commit");
      return result;
    } catch (err) {
      await client.query("rollback").catch((rollbackErr: Error) => {
        // The connection is unusable: destroy it instead of returning it to the pool.
        broken = rollbackErr;
      });
      throw err;
    }
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}

/** The claims the service_role key carries (as issued by `supabase start`). */
export const SERVICE_ROLE_CLAIMS: RequestClaims = Object.freeze({ role: "service_role", iss: "supabase" });

/** Like `withUserContext`, as `service_role` (bypasses RLS, still bound by grants). */
export function withServiceRole<T>(fn: (client: DbClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  return withUserContext(SERVICE_ROLE_CLAIMS, fn, options);
}

export type DatabaseHealth = "ok" | "unreachable";

/**
 * `select 1` with a deadline. Never throws: a missing URL, a refused connection or a slow
 * server all read as "unreachable", so a health check answers quickly whatever the database does.
 */
export async function pingDatabase(timeoutMs = 2_000): Promise<DatabaseHealth> {
  let pool: pg.Pool;
  try {
    pool = getPool();
  } catch {
    return "unreachable";
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<DatabaseHealth>((resolve) => {
    timer = setTimeout(() => resolve("unreachable"), timeoutMs);
  });
  const ping = pool.query("select 1").then(
    (): DatabaseHealth => "ok",
    (): DatabaseHealth => "unreachable",
  );
  try {
    return await Promise.race([ping, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
