/**
 * The admin RPCs as an admin app calls them (PostgREST-style requests with the admin's JWT),
 * against the real database: a suspension reaches the suspended user's edge-function calls at
 * once, concurrent admins cannot suspend twice, and the audit log cannot be rewritten through
 * the connection the edge functions use.
 */
import { afterAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler as contactPoints } from "../../functions/contact-points/handler.ts";
import { ownerQuery, appPool, asUser, closeTestPools, failure } from "../support/db.ts";
import { createUser } from "../support/users.ts";

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

const setPhone = (token: string): Promise<Response> =>
  contactPoints(new Request("http://127.0.0.1:54321/contact-points", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ phone: "+44 7400 123456" }),
  }));

describe("admin app: suspension", () => {
  it("refuses the suspended user's next edge-function call with 403 account_suspended, and lifting it restores access", async () => {
    const ada = await createUser({ appMetadata: { role: "admin" } });
    const sue = await createUser();
    expect((await setPhone(sue.token)).status).toBe(200);

    const [row] = await asUser(ada.claims, async (db) =>
      (await db.query<{ suspended: boolean }>("select * from public.admin_suspend_user($1, $2)", [sue.id, "Spam waves"])).rows);
    expect(row?.suspended).toBe(true);

    const refused = await setPhone(sue.token);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "account_suspended" } });

    await asUser(ada.claims, (db) => db.query("select * from public.admin_unsuspend_user($1, $2)", [sue.id, "Appeal accepted"]));
    expect((await setPhone(sue.token)).status).toBe(200);
  });

  it("lets only one of two admins suspending the same user at the same moment succeed", async () => {
    const ada = await createUser({ appMetadata: { role: "admin" } });
    const bea = await createUser({ appMetadata: { role: "admin" } });
    const tom = await createUser();
    const suspend = (claims: typeof ada.claims, reason: string): Promise<unknown> =>
      asUser(claims, (db) => db.query("select * from public.admin_suspend_user($1, $2)", [tom.id, reason]));

    const results = await Promise.allSettled([suspend(ada.claims, "Report 1"), suspend(bea.claims, "Report 2")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(failure?.reason).toMatchObject({ code: "P0001", hint: "already_suspended" });

    const { rows } = await ownerQuery<{ suspensions: string; audits: string }>(
      `select (select count(*) from private.user_suspensions where user_id = $1) as suspensions,
              (select count(*) from private.audit_log where subject_id = $1 and action = 'admin.suspend_user') as audits`,
      [tom.id]);
    expect(rows[0]).toEqual({ suspensions: "1", audits: "1" });
  });

  it("refuses a non-admin with 42501 admin_only and writes nothing", async () => {
    const mallory = await createUser();
    const victim = await createUser();
    const err = await failure(asUser(mallory.claims, (db) =>
      db.query("select * from public.admin_suspend_user($1, $2)", [victim.id, "Because I can"])));
    expect(err).toMatchObject({ code: "42501", hint: "admin_only" });
    const { rows } = await ownerQuery<{ n: string }>(
      "select count(*) as n from private.user_suspensions where user_id = $1", [victim.id]);
    expect(rows[0]?.n).toBe("0");
  });
});

describe("audit log", () => {
  it("cannot be rewritten or emptied through the edge functions' database connection (role postgres)", async () => {
    const ada = await createUser({ appMetadata: { role: "admin" } });
    const eve = await createUser();
    await asUser(ada.claims, (db) => db.query("select * from public.admin_suspend_user($1, $2)", [eve.id, "Fraud"]));
    for (const sql of [
      "update private.audit_log set details = '{}'::jsonb where subject_id = $1",
      "delete from private.audit_log where subject_id = $1",
    ]) {
      expect(await failure(appPool().query(sql, [eve.id]))).toMatchObject({ code: "42501" });
    }
    expect(await failure(appPool().query("truncate private.audit_log"))).toMatchObject({ code: "42501" });
    const { rows } = await ownerQuery<{ reason: string }>(
      "select details ->> 'reason' as reason from private.audit_log where subject_id = $1 and action = 'admin.suspend_user'", [eve.id]);
    expect(rows).toEqual([{ reason: "Fraud" }]);
  });
});
