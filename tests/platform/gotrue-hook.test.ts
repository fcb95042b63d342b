/**
 * Sign-up and token issuing exactly as Supabase Auth (GoTrue) does them: connected as
 * `supabase_auth_admin`, which the suite's own role `postgres` cannot become (as on the
 * platform). The sign-up trigger creates the profile, and the access-token hook reads what it
 * needs under RLS as that role.
 */
import { afterAll, describe, expect, it } from "vitest";
import { authAdminPool, closeTestPools, ownerQuery } from "../support/db.ts";
import { createUser, issueAccessToken } from "../support/users.ts";

afterAll(closeTestPools);

describe("as Supabase Auth", () => {
  it("a sign-up gets its profile, and tokens carry user_role guest, host or admin", async () => {
    const user = await createUser();
    const { rows } = await ownerQuery<{ n: number }>("select count(*)::int as n from public.profiles where id = $1", [user.id]);
    expect(rows[0]?.n).toBe(1);
    expect(user.claims.user_role).toBe("guest");

    await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [user.id]);
    expect((await issueAccessToken(user.id)).claims.user_role).toBe("host");

    await authAdminPool().query(
      "update auth.users set raw_app_meta_data = raw_app_meta_data || '{\"role\":\"admin\"}' where id = $1", [user.id]);
    expect((await issueAccessToken(user.id)).claims.user_role).toBe("admin");
  });

  it("reads nothing about a profile but whether it is a host", async () => {
    await expect(authAdminPool().query("select bio from public.profiles limit 1")).rejects.toMatchObject({ code: "42501" });
  });
});
