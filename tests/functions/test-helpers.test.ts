/**
 * The shared test helpers (tests/support) behave as the platform pieces they stand in for,
 * so every later suite can trust them: users as Supabase Auth makes them, tokens as it issues
 * them, requests as PostgREST runs them.
 */
import { afterAll, describe, expect, it } from "vitest";
import { verifyJwt } from "../../functions/_shared/auth.ts";
import { ownerQuery, asAnon, asServiceRole, asUser, closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { createUser, issueAccessToken, uniqueSuffix } from "../support/users.ts";

afterAll(closeTestPools);

interface Who {
  current_user: string;
  uid: string | null;
}
const WHO = "select current_user, auth.uid()::text as uid";

describe("createUser", () => {
  it("creates an auth user with an email identity, and the sign-up trigger creates the profile", async () => {
    const username = `helper_${uniqueSuffix()}`;
    const user = await createUser({ username });
    const { rows } = await ownerQuery<{ aud: string; role: string; provider: string; username: string }>(
      `select u.aud, u.role, i.provider, p.username
         from auth.users u join auth.identities i on i.user_id = u.id join public.profiles p on p.id = u.id
        where u.id = $1`,
      [user.id],
    );
    expect(rows).toEqual([{ aud: "authenticated", role: "authenticated", provider: "email", username }]);
  });

  it("issues a token the functions accept, carrying the hook's user_role", async () => {
    const user = await createUser();
    const claims = await verifyJwt(user.token, { secret: testEnv("SUPABASE_JWT_SECRET"), audience: "authenticated" });
    expect(claims).toMatchObject({ sub: user.id, role: "authenticated", email: user.email, user_role: "guest" });
  });

  it("re-issues tokens from the current auth.users row (e.g. after admin marking)", async () => {
    const user = await createUser();
    await ownerQuery(
      `update auth.users set raw_app_meta_data = raw_app_meta_data || '{"role":"admin"}' where id = $1`,
      [user.id],
    );
    const { claims } = await issueAccessToken(user.id);
    expect(claims).toMatchObject({ app_metadata: { role: "admin" }, user_role: "admin" });
  });
});

describe("asUser / asAnon / asServiceRole", () => {
  it("run as the JWT's role with its claims", async () => {
    const user = await createUser();
    expect((await asUser(user.claims, (db) => db.query<Who>(WHO))).rows[0]).toEqual({
      current_user: "authenticated",
      uid: user.id,
    });
    expect((await asAnon((db) => db.query<Who>(WHO))).rows[0]).toEqual({ current_user: "anon", uid: null });
    expect((await asServiceRole((db) => db.query<Who>(WHO))).rows[0]).toEqual({ current_user: "service_role", uid: null });
  });

  it("commit like a request, or roll back when asked", async () => {
    const user = await createUser();
    const setBio = (bio: string, rollback: boolean) =>
      asUser(user.claims, (db) => db.query("update public.profiles set bio = $1 where id = $2", [bio, user.id]), { rollback });
    await setBio("kept", false);
    await setBio("discarded", true);
    const { rows } = await ownerQuery<{ bio: string }>("select bio from public.profiles where id = $1", [user.id]);
    expect(rows[0]?.bio).toBe("kept");
  });

  it("pass database errors through with their SQLSTATE and hint", async () => {
    const user = await createUser();
    const err = await asUser(user.claims, (db) =>
      db.query("update public.profiles set username = 'admin' where id = $1", [user.id])
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "22023", hint: "username_reserved" });
  });
});
