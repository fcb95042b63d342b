/**
 * GET /functions/v1/me: the caller's profile, read as the caller, plus their Rally role.
 * Users are created as Supabase Auth would create them; the sign-up trigger makes the profile.
 */
import { afterAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler } from "../../functions/me/handler.ts";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { anonKey, signJwt, userClaims } from "../support/jwt.ts";
import { createUser, issueAccessToken, uniqueSuffix } from "../support/users.ts";

const me = (token?: string, method = "GET"): Promise<Response> =>
  handler(new Request("http://127.0.0.1:54321/me", {
    method,
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  }));

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

describe("GET /functions/v1/me", () => {
  it("returns the signed-in user's own profile and user_role guest", async () => {
    const username = `alice_${uniqueSuffix()}`;
    const alice = await createUser({ username, userMetadata: { display_name: "Alice A.", timezone: "Europe/Lisbon" } });
    const res = await me(alice.token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: alice.id,
      username,
      display_name: "Alice A.",
      avatar_path: null,
      bio: null,
      city: null,
      timezone: "Europe/Lisbon",
      locale: "en",
      is_host: false,
      host_status: "none",
      followers_count: 0,
      following_count: 0,
      user_role: "guest",
    });
  });

  it("reports user_role host after the user became a host and got a fresh token", async () => {
    const hana = await createUser();
    await asUser(hana.claims, (db) => db.query("select public.become_host()"));
    const { token } = await issueAccessToken(hana.id);
    const body = (await (await me(token)).json()) as { is_host: boolean; user_role: string };
    expect(body).toMatchObject({ is_host: true, user_role: "host" });
  });

  it("reports user_role admin for a user marked admin in app_metadata", async () => {
    const ada = await createUser({ appMetadata: { role: "admin" } });
    expect(await (await me(ada.token)).json()).toMatchObject({ id: ada.id, user_role: "admin" });
  });

  it("derives user_role like the hook does when the token has none", async () => {
    const gus = await createUser();
    const token = await signJwt(userClaims({ id: gus.id, email: gus.email }));
    expect(await (await me(token)).json()).toMatchObject({ user_role: "guest" });
  });

  it("answers a token whose account is gone 403 account_not_found, as every RPC and function does", async () => {
    const ghost = await createUser();
    await ownerQuery("delete from public.profiles where id = $1", [ghost.id]);
    const res = await me(ghost.token);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: "account_not_found", message: "Your account no longer exists. Sign in again." } });
  });

  it("answers 401 missing_authorization without a token", async () => {
    const res = await me();
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "missing_authorization" } });
  });

  it("answers 401 invalid_jwt for an expired token, a forged token and the anon key", async () => {
    const alice = await createUser();
    const expired = (await issueAccessToken(alice.id, { expiresIn: -10 })).token;
    const forged = await signJwt(alice.claims, { secret: "not-the-project-secret-not-the-project-secret" });
    for (const token of [expired, forged, await anonKey()]) {
      const res = await me(token);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_jwt" } });
    }
  });

  it("answers 405 for anything but GET", async () => {
    const alice = await createUser();
    expect((await me(alice.token, "PATCH")).status).toBe(405);
  });
});
