/**
 * Losing the database connection, at the level of functions/_shared/db.ts.
 *
 * First the fault-injecting PostgreSQL proxy the other fault tests rely on: it passes traffic
 * through untouched, counts queries the way the tests count them, and its two cuts mean what
 * they say — a query cut "before" never ran, a COMMIT cut "after" committed although the client
 * saw the connection die.
 *
 * Then `withUserContext` / `withServiceRole` with the connection cut at every query of a
 * transaction: the call fails with an error the functions answer as 503 database_unavailable
 * (never a crash of the process: node-postgres also emits the loss as an 'error' event on the
 * checked-out client, which nobody heard before the fix — vitest reports such an uncaught
 * exception as a failed run), the broken connection is not reused, and the next call works.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePool, withServiceRole } from "../../functions/_shared/db.ts";
import { pgErrorToHttp } from "../../functions/_shared/pg-errors.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { startPgFaultProxy, type PgFaultProxy } from "../support/pg-fault-proxy.ts";

let proxy: PgFaultProxy;
let pool: pg.Pool;
const table = `faults_probe_${process.pid}`;

beforeAll(async () => {
  proxy = await startPgFaultProxy(testEnv("SUPABASE_DB_URL"));
  pool = new pg.Pool({ connectionString: proxy.url, max: 2 });
  pool.on("error", () => undefined);
  await ownerQuery(`create table public.${table} (id int primary key)`);
  await ownerQuery(`revoke all on public.${table} from anon, authenticated, service_role`);
  await ownerQuery(`grant select, insert on public.${table} to service_role`);
});

afterAll(async () => {
  await ownerQuery(`drop table if exists public.${table}`);
  await pool.end();
  await closePool();
  await proxy.close();
  await closeTestPools();
});

/** begin; insert; commit — four queries with the parameterised insert. */
async function insertInTransaction(id: number): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  client.on("error", (err) => {
    broken = err;
  });
  try {
    await client.query("begin");
    await client.query(`insert into public.${table} values ($1)`, [id]);
    await client.query("select $1::int", [1]);
    await client.query("commit");
  } catch (err) {
    broken ??= err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

const stored = async (id: number): Promise<boolean> =>
  (await ownerQuery(`select 1 from public.${table} where id = $1`, [id])).rowCount === 1;

describe("the PostgreSQL fault proxy", () => {
  it("passes queries through and counts simple and parameterised ones alike", async () => {
    proxy.resetCount({ record: true });
    await insertInTransaction(1);
    expect(proxy.queries).toBe(4);
    expect(proxy.log[0]).toBe("begin");
    expect(proxy.log[1]).toContain("insert into");
    expect(proxy.log[3]).toBe("commit");
    expect(await stored(1)).toBe(true);
  });

  it("cut before the COMMIT: the client sees the connection die and nothing was written", async () => {
    proxy.arm({ atQuery: 4, when: "before_query" });
    await expect(insertInTransaction(2)).rejects.toThrow(/Connection terminated/);
    proxy.disarm();
    expect(proxy.cuts.at(-1)).toMatchObject({ query: 4, when: "before_query", sql: "commit" });
    // The server notices the vanished client and rolls back; give it a moment.
    for (let i = 0; i < 50 && (await ownerQuery("select 1 from pg_stat_activity where state = 'idle in transaction' and application_name = ''")).rowCount !== 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await stored(2)).toBe(false);
  });

  it("cut after the COMMIT ran: the client sees the connection die, yet the row is committed", async () => {
    proxy.arm({ atQuery: 4, when: "after_query" });
    await expect(insertInTransaction(3)).rejects.toThrow(/Connection terminated/);
    proxy.disarm();
    expect(proxy.cuts.at(-1)).toMatchObject({ query: 4, when: "after_query" });
    expect(await stored(3)).toBe(true);
  });

  it("refuses connections while down, and serves again once up", async () => {
    proxy.down();
    await expect(insertInTransaction(4)).rejects.toThrow();
    proxy.up();
    await insertInTransaction(5);
    expect(await stored(4)).toBe(false);
    expect(await stored(5)).toBe(true);
  });
});

describe("a function's transaction (withServiceRole) losing its connection", () => {
  /** What a function does: one transaction, three statements, through the proxy. */
  const write = (id: number) => withServiceRole(async (db) => {
    await db.query(`insert into public.${table} values ($1)`, [id]);
    return id;
  }, { pool: functionPool });
  let functionPool: pg.Pool;

  beforeAll(() => {
    functionPool = new pg.Pool({ connectionString: proxy.url, max: 1 });
    functionPool.on("error", () => undefined);
  });
  afterAll(async () => {
    await functionPool.end();
  });

  // begin · request context · insert · commit
  const points = [1, 2, 3, 4].flatMap((atQuery) => (["before_query", "after_query"] as const).map((when) => ({ atQuery, when })));

  it.each(points)("cut at query $atQuery ($when): a 503 database_unavailable, and the next call works", async (fault) => {
    const id = 100 + fault.atQuery * 10 + (fault.when === "after_query" ? 1 : 0);
    proxy.arm(fault);
    const failure = await write(id).then(() => null, (err: unknown) => err);
    proxy.disarm();
    expect(proxy.cuts.at(-1)).toMatchObject({ query: fault.atQuery, when: fault.when });
    expect(failure).not.toBeNull();
    expect(pgErrorToHttp(failure)).toMatchObject({ status: 503, code: "database_unavailable" });
    // Only a COMMIT that ran is durable; every other cut leaves nothing behind.
    expect(await stored(id)).toBe(fault.atQuery === 4 && fault.when === "after_query");
    // The pool (max 1) did not keep the dead connection: the next transaction goes through.
    await expect(write(id + 1000)).resolves.toBe(id + 1000);
  });

  it("while the database is unreachable: 503 database_unavailable; once it is back, the next call works", async () => {
    await write(500); // a pooled connection, which the outage cuts
    proxy.down();
    const failure = await write(501).then(() => null, (err: unknown) => err);
    proxy.up();
    expect(pgErrorToHttp(failure)).toMatchObject({ status: 503, code: "database_unavailable" });
    expect(await stored(501)).toBe(false);
    await expect(write(502)).resolves.toBe(502);
  });
});
