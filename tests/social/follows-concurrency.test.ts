/**
 * Follower counts stay exact under real concurrency (many connections following and unfollowing
 * at once, mutual follows included), and a follow racing a block never leaves a follow across
 * the block. Each request runs in its own transaction on its own connection, as PostgREST would.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { applyRequestContext, type RequestClaims } from "../../functions/_shared/db.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { createUser, type TestUser } from "../support/users.ts";

const pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 24 });

afterAll(async () => {
  await pool.end();
  await closeTestPools();
});

/** One PostgREST-like request on its own connection; resolves to the error instead of throwing. */
async function request(claims: RequestClaims, sql: string, params: unknown[]): Promise<Error | null> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await applyRequestContext(client, claims);
    await client.query(sql, params);
    await client.query("commit");
    return null;
  } catch (err) {
    await client.query("rollback").catch(() => undefined);
    return err as Error;
  } finally {
    client.release();
  }
}

const follow = (user: TestUser, other: TestUser) => request(user.claims, "select public.follow_user($1)", [other.id]);
const unfollow = (user: TestUser, other: TestUser) => request(user.claims, "select public.unfollow_user($1)", [other.id]);

async function countsMatchFollows(ids: string[]): Promise<{ mismatched: number }> {
  const { rows } = await ownerQuery<{ mismatched: number }>(`
    select count(*)::int as mismatched from public.profiles p
     where p.id = any($1::uuid[])
       and (p.followers_count <> (select count(*) from public.follows f where f.followee_id = p.id)
            or p.following_count <> (select count(*) from public.follows f where f.follower_id = p.id))`, [ids]);
  return rows[0]!;
}

describe("follower counts under concurrency", () => {
  it("are exact after 30 people follow, unfollow and follow each other all at once", async () => {
    const host = await createUser();
    const people = await Promise.all(Array.from({ length: 30 }, () => createUser()));
    // Everyone follows the host, twice (idempotent), and each follows the next person, who follows
    // back (mutual pairs lock the two profiles in opposite orders).
    const round1 = await Promise.all([
      ...people.flatMap((p) => [follow(p, host), follow(p, host)]),
      ...people.map((p, i) => follow(p, people[(i + 1) % people.length]!)),
      ...people.map((p, i) => follow(people[(i + 1) % people.length]!, p)),
    ]);
    expect(round1.filter((err) => err !== null)).toEqual([]);
    const { rows: afterFollow } = await ownerQuery<{ followers_count: number }>("select followers_count from public.profiles where id = $1", [host.id]);
    expect(afterFollow[0]?.followers_count).toBe(30);

    // Half unfollow the host while the other half follow and unfollow it again, all concurrently.
    const round2 = await Promise.all(people.flatMap((p, i) => i % 2 === 0
      ? [unfollow(p, host), unfollow(p, people[(i + 1) % people.length]!)]
      : [unfollow(p, host), follow(p, host)]));
    expect(round2.filter((err) => err !== null)).toEqual([]);
    expect(await countsMatchFollows([host.id, ...people.map((p) => p.id)])).toEqual({ mismatched: 0 });
  });

  it("never leave a follow across a block when following and blocking race", async () => {
    const pairs = await Promise.all(Array.from({ length: 15 }, async () => [await createUser(), await createUser()] as const));
    await Promise.all(pairs.map(async ([a, b]) => {
      await Promise.all([
        follow(a, b),
        request(b.claims, "insert into public.blocks (blocker_id, blocked_id) values ($1, $2)", [b.id, a.id]),
        follow(b, a),
      ]);
    }));
    const ids = pairs.flatMap(([a, b]) => [a.id, b.id]);
    const { rows } = await ownerQuery<{ across: number }>(`
      select count(*)::int as across from public.follows f
       where f.follower_id = any($1::uuid[])
         and exists (select 1 from public.blocks b where (b.blocker_id, b.blocked_id) in ((f.follower_id, f.followee_id), (f.followee_id, f.follower_id)))`, [ids]);
    expect(rows[0]?.across).toBe(0);
    expect(await countsMatchFollows(ids)).toEqual({ mismatched: 0 });
  });

  it("refuse following oneself with a clear error and write nothing", async () => {
    const solo = await createUser();
    const err = await follow(solo, solo) as (Error & { code?: string; hint?: string }) | null;
    expect(err).toMatchObject({ code: "22023", hint: "cannot_follow_self" });
    const { rows } = await ownerQuery("select following_count from public.profiles where id = $1", [solo.id]);
    expect(rows).toEqual([{ following_count: 0 }]);
  });
});
