/**
 * Database access for tests, mirroring who does what on the platform:
 *
 * - `ownerQuery(sql, params)` / `ownerPool()` — role `postgres`, not a superuser, on a direct
 *   connection (RALLY_DB_URL): fixtures and set-up.
 * - `appPool()` — role `postgres` through SUPABASE_DB_URL, what edge functions use (the fault
 *   tests point it at their proxy).
 * - `adminQuery(sql, params)` / `adminPool()` — the superuser `supabase_admin`
 *   (RALLY_ADMIN_DB_URL), only where a test plays the platform itself (pg_net's worker, the
 *   Realtime server); such a test says so.
 * - `asUser(claims, fn)` — one request through the Data API: a transaction as role
 *   `claims.role` with `request.jwt.claims` set, exactly what PostgREST does (it reuses
 *   `applyRequestContext` from functions/_shared/db.ts, the single definition of that).
 *   `asAnon(fn)` and `asServiceRole(fn)` are the anon-key and service-key variants.
 * - `authAdminPool()` — role `supabase_auth_admin`, as Supabase Auth (GoTrue) connects.
 * - `transaction(pool, fn)` — one transaction on a connection of any of these pools.
 * - `one(db, sql, params)` — the row a statement must return; `failure(promise)` — the database
 *   error a call must fail with (`{ code, hint, message }`).
 *
 *   const alice = await createUser();
 *   const rows = await asUser(alice.claims, (db) => db.query("select * from public.profiles"));
 *
 * Call `closeTestPools()` in `afterAll` so vitest can exit.
 */
import pg from "pg";
import { applyRequestContext, type RequestClaims } from "../../functions/_shared/db.ts";
import { testEnv } from "./env.ts";

export type TestClient = pg.PoolClient;

const pools = new Map<string, pg.Pool>();

function poolFor(url: string): pg.Pool {
  let pool = pools.get(url);
  if (pool === undefined) {
    pool = new pg.Pool({ connectionString: url, max: 4, application_name: "rally-tests" });
    pools.set(url, pool);
  }
  return pool;
}

/** Role `postgres` (not a superuser; bypasses RLS). */
export const appPool = (): pg.Pool => poolFor(testEnv("SUPABASE_DB_URL"));

/** The superuser `supabase_admin`. */
export const adminPool = (): pg.Pool => poolFor(testEnv("RALLY_ADMIN_DB_URL"));

/**
 * Supabase Auth's own login, `supabase_auth_admin`: GoTrue writes `auth.users` and calls the
 * access-token hook as this role. Locally every platform role has the password RALLY_DB_URL
 * carries for `postgres`.
 */
export const authAdminPool = (): pg.Pool => {
  const url = new URL(testEnv("RALLY_DB_URL"));
  url.username = "supabase_auth_admin";
  return poolFor(url.toString());
};

/**
 * Role `postgres` on a direct connection (RALLY_DB_URL): fixtures and set-up, what the project's
 * owner may do in Studio. Unlike SUPABASE_DB_URL, which the fault tests point at their proxy,
 * RALLY_DB_URL is never redirected.
 */
export const ownerPool = (): pg.Pool => poolFor(testEnv("RALLY_DB_URL"));

/** One statement as `postgres` on a direct connection. */
export async function ownerQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  return ownerPool().query<R>(sql, params);
}

/**
 * One statement as `supabase_admin`, only for tests that play the platform itself (a platform
 * service or its superuser); each such use says which in a comment.
 */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  return adminPool().query<R>(sql, params);
}

export interface TransactionOptions {
  /** Roll back instead of committing (PostgREST commits; use this for "what would happen"). */
  rollback?: boolean;
  /** Run the transaction read-only, as PostgREST does for GET. */
  readOnly?: boolean;
}

/**
 * Runs `fn` in one transaction on a connection of `pool`. Commits on success (unless
 * `rollback`), rolls back on error and rethrows the error unchanged, so tests can assert its
 * `code` (SQLSTATE) and `hint` (Rally's error code); a connection that cannot even roll back is
 * discarded rather than returned to the pool.
 */
export async function transaction<T>(
  pool: pg.Pool,
  fn: (db: TestClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(options.readOnly === true ? "begin read only" : "begin");
    try {
      const result = await fn(client);
      await client.query(options.rollback === true ? "rollback" : "commit");
      return result;
    } catch (err) {
      await client.query("rollback").catch((e: Error) => {
        broken = e;
      });
      throw err;
    }
  } finally {
    client.release(broken);
  }
}

/** One Data API request on a connection of `pool`: a transaction as the JWT's role with its claims. */
export const requestOn = <T>(
  pool: pg.Pool,
  claims: RequestClaims,
  fn: (db: TestClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> =>
  transaction(pool, async (db) => {
    await applyRequestContext(db, claims);
    return fn(db);
  }, options);

/** One request through the Data API, exactly as PostgREST makes it (see `requestOn`). */
export const asUser = <T>(claims: RequestClaims, fn: (db: TestClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> =>
  requestOn(appPool(), claims, fn, options);

/** A request made with the anon key. */
export const asAnon = <T>(fn: (db: TestClient) => Promise<T>, options?: TransactionOptions): Promise<T> =>
  asUser({ role: "anon", iss: "supabase-demo" }, fn, options);

/** A request made with the service_role key (bypasses RLS, bound by grants). */
export const asServiceRole = <T>(fn: (db: TestClient) => Promise<T>, options?: TransactionOptions): Promise<T> =>
  asUser({ role: "service_role", iss: "supabase-demo" }, fn, options);

/** The one row `sql` returns; throws when it returns none. */
export async function one<R extends pg.QueryResultRow>(db: pg.Pool | TestClient, sql: string, params: unknown[] = []): Promise<R> {
  const { rows } = await db.query<R>(sql, params);
  const row = rows[0];
  if (row === undefined) throw new Error(`no row from: ${sql}`);
  return row;
}

export interface DbFailure {
  code: string;
  hint: string | undefined;
  message: string;
}

/** The database error of a call that must fail (throws if it succeeded, or failed some other way). */
export async function failure(promise: Promise<unknown>): Promise<DbFailure> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: string; hint?: string; message: string };
    if (e.code === undefined) throw err;
    return { code: e.code, hint: e.hint, message: e.message };
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Ends every pool this module opened. */
export async function closeTestPools(): Promise<void> {
  const ending = [...pools.values()];
  pools.clear();
  await Promise.all(ending.map((pool) => pool.end()));
}
