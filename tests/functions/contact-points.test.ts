/**
 * /functions/v1/contact-points: the caller's phone for SMS and WhatsApp, validated with
 * libphonenumber-js (national formats with a country, or +country code), stored as E.164; bad
 * numbers get a clear error and change nothing.
 */
import { afterAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler } from "../../functions/contact-points/handler.ts";
import { asUser, closeTestPools } from "../support/db.ts";
import { anonKey } from "../support/jwt.ts";
import { createUser } from "../support/users.ts";

const call = (token: string | null, method: string, body?: unknown): Promise<Response> =>
  handler(new Request("http://127.0.0.1:54321/contact-points", {
    method,
    headers: { "Content-Type": "application/json", ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }));

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

describe("contact-points", () => {
  it("normalises a national number to E.164 and stores it", async () => {
    const kim = await createUser();
    const res = await call(kim.token, "POST", { phone: "07400 123456", country: "gb" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ phone_e164: "+447400123456", whatsapp_opt_in_at: null, country: "GB" });
    const { rows } = await asUser(kim.claims, (db) => db.query("select phone_e164 from public.notification_settings"));
    expect(rows).toEqual([{ phone_e164: "+447400123456" }]);
    expect(await (await call(kim.token, "GET")).json()).toMatchObject({ phone_e164: "+447400123456" });
  });

  it("refuses an impossible number with invalid_phone and keeps the old one", async () => {
    const lou = await createUser();
    await call(lou.token, "POST", { phone: "+351 912 345 678" });
    for (const phone of ["12345", "+44 12", "not a number"]) {
      const res = await call(lou.token, "POST", { phone });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_phone" } });
    }
    const res = await call(lou.token, "POST", { phone: "912 345 678", country: "PRT" });
    expect(res.status).toBe(400);
    const { rows } = await asUser(lou.claims, (db) => db.query("select phone_e164 from public.notification_settings"));
    expect(rows).toEqual([{ phone_e164: "+351912345678" }]);
  });

  it("withdraws the WhatsApp opt-in when the number changes or is removed", async () => {
    const max = await createUser();
    await call(max.token, "POST", { phone: "+351912345678" });
    await asUser(max.claims, (db) => db.query("select public.set_whatsapp_opt_in(true)"));
    const changed = await (await call(max.token, "POST", { phone: "+351912345679" })).json() as { whatsapp_opt_in_at: string | null };
    expect(changed.whatsapp_opt_in_at).toBeNull();
    const removed = await call(max.token, "DELETE");
    expect(await removed.json()).toMatchObject({ phone_e164: null, whatsapp_opt_in_at: null });
  });

  it("needs a signed-in user and a well-formed body", async () => {
    expect((await call(null, "POST", { phone: "+351912345678" })).status).toBe(401);
    expect((await call(await anonKey(), "POST", { phone: "+351912345678" })).status).toBe(401);
    const ned = await createUser();
    const res = await call(ned.token, "POST", { phone: "+351912345678", extra: true });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "validation_failed" } });
  });
});
