/**
 * /functions/v1/contact-points: the caller's phone for SMS and WhatsApp, validated with
 * libphonenumber-js (national formats with a country, or +country code), stored as E.164, and
 * proved theirs with a code texted to it (here through the sink provider, which records the SMS);
 * bad numbers get a clear error and change nothing.
 */
import { afterAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler } from "../../functions/contact-points/handler.ts";
import { adminQuery, asUser, closeTestPools } from "../support/db.ts";
import { anonKey } from "../support/jwt.ts";
import { createUser, type TestUser } from "../support/users.ts";

const call = (token: string | null, method: string, body?: unknown): Promise<Response> =>
  handler(new Request("http://127.0.0.1:54321/contact-points", {
    method,
    headers: { "Content-Type": "application/json", ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }));

/** The codes texted to a number (the sink provider records each SMS). */
async function textedCodes(phone: string): Promise<string[]> {
  const { rows } = await adminQuery<{ text_body: string }>(
    "select text_body from private.alert_sink where channel = 'sms' and destination = $1 order by created_at, id", [phone]);
  return rows.map((row) => /\b(\d{6})\b/.exec(row.text_body)?.[1] ?? "");
}

const verify = (user: TestUser, code: string): Promise<{ verified: boolean; attempts_left: number }> =>
  asUser(user.claims, async (db) => (await db.query<{ verified: boolean; attempts_left: number }>(
    "select verified, attempts_left from public.verify_phone_number($1)", [code])).rows[0]!);

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

describe("contact-points", () => {
  it("normalises a national number to E.164, stores it unverified and texts a code", async () => {
    const kim = await createUser();
    const digits = String(100_000 + Math.floor(Math.random() * 900_000));
    const e164 = `+447400${digits}`;
    const res = await call(kim.token, "POST", { phone: `07400 ${digits}`, country: "gb" });
    expect(res.status).toBe(200);
    const body = await res.json() as Record<string, unknown>;
    expect(body).toMatchObject({ phone_e164: e164, phone_verified_at: null, whatsapp_opt_in_at: null, country: "GB",
                                 verification_sent: true });
    expect(Date.parse(String(body.verification_expires_at)) - Date.now()).toBeGreaterThan(9 * 60_000);
    const { rows } = await asUser(kim.claims, (db) => db.query("select phone_e164, phone_verified_at from public.notification_settings"));
    expect(rows).toEqual([{ phone_e164: e164, phone_verified_at: null }]);
    expect(await (await call(kim.token, "GET")).json()).toMatchObject({ phone_e164: e164 });
    const codes = await textedCodes(e164);
    expect(codes).toHaveLength(1);
    expect(codes[0]).toMatch(/^\d{6}$/);
  });

  it("verifies the number with the texted code; a wrong code uses one of five attempts", async () => {
    const ana = await createUser();
    await call(ana.token, "POST", { phone: "+351912000001" });
    const [code] = await textedCodes("+351912000001");
    const wrong = code === "000000" ? "111111" : "000000";
    expect(await verify(ana, wrong)).toEqual({ verified: false, attempts_left: 4 });
    expect(await verify(ana, code!)).toMatchObject({ verified: true });
    const settings = await (await call(ana.token, "GET")).json() as { phone_verified_at: string | null };
    expect(settings.phone_verified_at).not.toBeNull();
    // A verified number is not texted again.
    const again = await (await call(ana.token, "POST", { phone: "+351912000001" })).json();
    expect(again).toMatchObject({ verification_sent: false });
    expect(await textedCodes("+351912000001")).toHaveLength(1);
  });

  it("refuses an impossible number with invalid_phone, keeps the old one and texts nothing", async () => {
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

  it("withdraws the WhatsApp opt-in and the verification when the number changes or is removed", async () => {
    const max = await createUser();
    await call(max.token, "POST", { phone: "+351912000002" });
    const [code] = await textedCodes("+351912000002");
    await verify(max, code!);
    await asUser(max.claims, (db) => db.query("select public.set_whatsapp_opt_in(true)"));
    const changed = await (await call(max.token, "POST", { phone: "+351912000003" })).json() as Record<string, unknown>;
    expect(changed).toMatchObject({ whatsapp_opt_in_at: null, phone_verified_at: null, verification_sent: true });
    const removed = await call(max.token, "DELETE");
    expect(await removed.json()).toMatchObject({ phone_e164: null, phone_verified_at: null, whatsapp_opt_in_at: null });
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
