/**
 * withUserContext against the real database: the function acts as the user exactly as
 * PostgREST would, and nothing of that context survives on the pooled connection.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  closePool,
  pingDatabase,
  type RequestClaims,
  withServiceRole,
  withUserContext,
} from "../../functions/_shared/db.ts";
import { closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { createUser } from "../support/users.ts";

interface ContextRow {
  current_user: string;
  uid: string | null;
  email: string | null;
  role_claim: string | null;
  search_path: string;
}

const CONTEXT_SQL = `
  select current_user, auth.uid()::text as uid, auth.jwt() ->> 'email' as email,
         auth.role() as role_claim, current_setting('search_path') as search_path`;

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

describe("withUserContext", () => {
  it("runs as role authenticated with the user's claims, so auth.uid() is the user", async () => {
    const alice = await createUser();
    const row = await withUserContext(alice.claims, async (db) => (await db.query<ContextRow>(CONTEXT_SQL)).rows[0]);
    expect(row).toEqual({
      current_user: "authenticated",
      uid: alice.id,
      email: alice.email,
      role_claim: "authenticated",
      search_path: "public, extensions",
    });
  });

  it("applies the impersonated role's statement_timeout, as PostgREST does (anon 3s, authenticated 8s)", async () => {
    const alice = await createUser();
    const timeout = (claims: RequestClaims) =>
      withUserContext(claims, async (db) =>
        (await db.query<{ t: string }>("select current_setting('statement_timeout') as t")).rows[0]?.t);
    expect(await timeout(alice.claims)).toBe("8s");
    expect(await timeout({ role: "anon" })).toBe("3s");
  });

  it("leaves nothing behind on the pooled connection after commit", async () => {
    const alice = await createUser();
    const pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 1 });
    try {
      await withUserContext(alice.claims, (db) => db.query("select 1"), { pool });
      const { rows } = await pool.query<ContextRow & { statement_timeout: string }>(
        `${CONTEXT_SQL}, current_setting('statement_timeout') as statement_timeout`,
      );
      expect(rows[0]).toMatchObject({ current_user: "postgres", uid: null, statement_timeout: "0" });
    } finally {
      await pool.end();
    }
  });

  it("rolls back everything when fn throws, and rethrows the database error unchanged", async () => {
    const alice = await createUser();
    const err = await withUserContext(alice.claims, async (db) => {
      await db.query("update public.profiles set bio = 'written before the failure' where id = $1", [alice.id]);
      await db.query("select 1/0");
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "22012" });
    const bio = await withServiceRole(async (db) =>
      (await db.query<{ bio: string | null }>("select bio from public.profiles where id = $1", [alice.id])).rows[0]?.bio
    );
    expect(bio).toBeNull();
  });

  it("applies RLS and grants: a user cannot change someone else's profile", async () => {
    const alice = await createUser();
    const bob = await createUser();
    const result = await withUserContext(bob.claims, (db) =>
      db.query("update public.profiles set bio = 'hijacked' where id = $1", [alice.id])
    );
    expect(result.rowCount).toBe(0);
  });

  it("runs read-only when asked, as PostgREST does for GET", async () => {
    const alice = await createUser();
    const err = await withUserContext(alice.claims, (db) =>
      db.query("update public.profiles set bio = 'x' where id = $1", [alice.id]), { readOnly: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "25006" });
  });

  it("refuses to switch to a role a JWT may not name", async () => {
    await expect(withUserContext({ role: "postgres" as "anon" }, (db) => db.query("select 1"))).rejects.toThrow(
      /refusing to switch to role/,
    );
  });
});

describe("pingDatabase", () => {
  it("is ok when the database answers", async () => {
    expect(await pingDatabase()).toBe("ok");
  });
});
