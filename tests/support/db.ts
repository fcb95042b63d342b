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

export interface AsUserOptions {
  /** Roll back instead of committing (PostgREST commits; use this for "what would happen"). */
  rollback?: boolean;
  /** Run the transaction read-only, as PostgREST does for GET. */
  readOnly?: boolean;
}

/**
 * Runs `fn` inside one transaction as the JWT's role with its claims, like a PostgREST request.
 * Commits on success (unless `rollback`), rolls back on error and rethrows the database error
 * unchanged, so tests can assert its `code` (SQLSTATE) and `hint` (Rally's error code).
 */
export async function asUser<T>(
  claims: RequestClaims,
  fn: (db: TestClient) => Promise<T>,
  options: AsUserOptions = {},
): Promise<T> {
  const client = await appPool().connect();
  let broken: Error | undefined;
  try {
    await client.query(options.readOnly === true ? "begin read only" : "begin");
    try {
      await applyRequestContext(client, claims);
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

/** A request made with the anon key. */
export const asAnon = <T>(fn: (db: TestClient) => Promise<T>, options?: AsUserOptions): Promise<T> =>
  asUser({ role: "anon", iss: "supabase-demo" }, fn, options);

/** A request made with the service_role key (bypasses RLS, bound by grants). */
export const asServiceRole = <T>(fn: (db: TestClient) => Promise<T>, options?: AsUserOptions): Promise<T> =>
  asUser({ role: "service_role", iss: "supabase-demo" }, fn, options);

/** Ends every pool this module opened. */
export async function closeTestPools(): Promise<void> {
  const ending = [...pools.values()];
  pools.clear();
  await Promise.all(ending.map((pool) => pool.end()));
}
