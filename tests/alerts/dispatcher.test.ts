/**
 * The dispatcher against the real database and the provider stand-ins: concurrent dispatchers
 * never send a delivery twice; failing providers are retried with growing backoff and dead-
 * lettered after the last attempt; quiet hours hold SMS back but not email; and the
 * dispatch-alerts function answers only to the service role.
 */
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runDispatch, type DispatchOptions } from "../../functions/_shared/alerts/dispatcher.ts";
import { claimDeliveries, completeDeliveries, recordSinkAlerts } from "../../functions/_shared/alerts/outbox.ts";
import { createResendProvider } from "../../functions/_shared/alerts/providers/resend.ts";
import { createSinkProvider } from "../../functions/_shared/alerts/providers/sink.ts";
import { createTwilioProvider } from "../../functions/_shared/alerts/providers/twilio.ts";
import type { ProviderSet } from "../../functions/_shared/alerts/types.ts";
import { closePool, withServiceRole } from "../../functions/_shared/db.ts";
import { handler as dispatchHandler } from "../../functions/dispatch-alerts/handler.ts";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { envOverride, testEnv } from "../support/env.ts";
import { anonKey, signJwt } from "../support/jwt.ts";
import { startResendStandIn, type ResendStandIn } from "../support/stand-ins/resend.ts";
import { startTwilioStandIn, type TwilioStandIn } from "../support/stand-ins/twilio.ts";
import { createUser, forgetWelcome, type TestUser } from "../support/users.ts";
import { confirmPhone } from "../support/phones.ts";

let resend: ResendStandIn;
let twilio: TwilioStandIn;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  resend = await startResendStandIn();
  twilio = await startTwilioStandIn();
});
afterAll(async () => {
  await resend.close();
  await twilio.close();
  await Promise.all(pools.map((pool) => pool.end()));
  await closePool();
  await closeTestPools();
});
// Deliveries left by other test files are not this file's business.
beforeEach(async () => {
  resend.failures.recover();
  twilio.failures.recover();
  await ownerQuery("update private.alert_deliveries set status = 'skipped', finished_at = now() where status in ('pending', 'sending')");
});

/** A dispatcher process of its own: its own connection pool, real adapters pointed at the stand-ins. */
function dispatcher(options: Partial<DispatchOptions> = {}) {
  const pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 3 });
  pools.push(pool);
  const providers: ProviderSet = {
    email: createResendProvider({ apiKey: resend.apiKey, baseUrl: resend.url, from: "Rally <alerts@rally.example>" }),
    sms: createTwilioProvider({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url, smsFrom: "+15005550006",
                                whatsappFrom: "+14155238886", statusCallbackUrl: "https://rally.example/functions/v1/twilio-status" }),
    whatsapp: createSinkProvider((records) => withServiceRole((db) => recordSinkAlerts(db, records), { pool })),
    push: createSinkProvider((records) => withServiceRole((db) => recordSinkAlerts(db, records), { pool })),
  };
  return () => runDispatch({
    claim: (limit, lease) => withServiceRole((db) => claimDeliveries(db, limit, lease), { pool }),
    complete: (results) => withServiceRole((db) => completeDeliveries(db, results), { pool }),
    providers,
    appUrl: "https://rally.example",
  }, { batchSize: 25, maxBatches: 100, concurrency: 5, budgetMs: 30_000, leaseSeconds: 60, ...options });
}

async function notify(user: TestUser, type: string, title: string, count = 1): Promise<void> {
  await ownerQuery("select private.notify($1, $2, $3 || ' ' || g, null, '{}') from generate_series(1, $4) g", [user.id, type, title, count]);
}

async function deliveries(user: TestUser, channel?: string) {
  const { rows } = await ownerQuery<{ id: string; status: string; attempts: number; channel: string; next_attempt_at: Date; last_error: string | null; provider_message_id: string | null }>(
    `select id, status, attempts, channel, next_attempt_at, last_error, provider_message_id from private.alert_deliveries
      where user_id = $1 and ($2::text is null or channel = $2) order by created_at, id`, [user.id, channel ?? null]);
  return rows;
}

const makeDue = (user: TestUser) =>
  ownerQuery("update private.alert_deliveries set next_attempt_at = now() where user_id = $1 and status = 'pending'", [user.id]);

describe("concurrent dispatchers", () => {
  it("send each of 300 emails exactly once between them", async () => {
    const ana = await createUser();
    await forgetWelcome(ana);
    // Receipts are critical, so no per-recipient cap holds any of them back.
    await notify(ana, "payment_succeeded", "Receipt", 300);
    const summaries = await Promise.all([dispatcher(), dispatcher(), dispatcher(), dispatcher()].map((run) => run()));
    expect(summaries.reduce((sum, s) => sum + s.claimed, 0)).toBe(300);
    expect(summaries.reduce((sum, s) => sum + s.sent, 0)).toBe(300);
    const received = resend.emails.filter((email) => email.to[0] === ana.email);
    expect(received).toHaveLength(300);
    expect(new Set(received.map((email) => email.idempotencyKey)).size).toBe(300);
    const rows = await deliveries(ana);
    expect(rows.every((row) => row.status === "sent" && row.attempts === 1)).toBe(true);
    expect(new Set(rows.map((row) => row.provider_message_id)).size).toBe(300);
  });
});

describe("failing providers", () => {
  it("retry with growing backoff and dead-letter after the last attempt", async () => {
    const ben = await createUser();
    await forgetWelcome(ben);
    await notify(ben, "booking_confirmed", "Stuck");
    resend.failures.failAlways({ status: 500 });
    const before = resend.requests;
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 8; attempt++) {
      const summary = await dispatcher()();
      expect(summary.claimed).toBe(1);
      const [row] = await deliveries(ben);
      expect(row?.attempts).toBe(attempt);
      if (attempt < 8) {
        expect(row?.status).toBe("pending");
        expect(row?.last_error).toContain("HTTP 500");
        waits.push(row!.next_attempt_at.getTime() - Date.now());
        await makeDue(ben);
      } else {
        expect(row?.status).toBe("dead");
      }
    }
    expect(resend.requests - before).toBe(8);
    // Equal jitter: attempt n waits between half and all of min(30 s · 2^(n-1), 30 min).
    waits.forEach((wait, index) => {
      const ceiling = Math.min(30_000 * 2 ** index, 30 * 60_000);
      expect(wait).toBeGreaterThan(ceiling / 2 - 5_000);
      expect(wait).toBeLessThanOrEqual(ceiling + 1_000);
    });
    const { rows } = await ownerQuery("select 1 from admin.alert_dead_letters where user_id = $1", [ben.id]);
    expect(rows).toHaveLength(1);
  });

  it("recover when the provider does", async () => {
    const cat = await createUser();
    await forgetWelcome(cat);
    await notify(cat, "booking_confirmed", "Flaky");
    resend.failures.failNext(2, { status: 503 });
    await dispatcher()();
    await makeDue(cat);
    await dispatcher()();
    await makeDue(cat);
    await dispatcher()();
    const [row] = await deliveries(cat);
    expect(row).toMatchObject({ status: "sent", attempts: 3, last_error: null });
    expect(resend.emails.filter((email) => email.to[0] === cat.email)).toHaveLength(1);
  });

  it("dead-letter at once what the provider will never accept", async () => {
    const dan = await createUser();
    await forgetWelcome(dan);
    await confirmPhone(dan, "+12025550143");
    await asUser(dan.claims, (db) => db.query("select public.set_notification_preference('booking_approved', 'sms', true)"));
    await notify(dan, "booking_approved", "Approved");
    twilio.failures.failNext(1, { status: 400, code: 21610 });
    await dispatcher()();
    const [sms] = await deliveries(dan, "sms");
    expect(sms).toMatchObject({ status: "dead", attempts: 1 });
    expect(sms?.last_error).toContain("21610");
    const [email] = await deliveries(dan, "email");
    expect(email?.status).toBe("sent");
  });
});

describe("quiet hours", () => {
  it("hold SMS back until they end, while email goes at once", async () => {
    const eve = await createUser({ userMetadata: { timezone: "Asia/Tokyo" } });
    await forgetWelcome(eve);
    await confirmPhone(eve, "+819012345678");
    await asUser(eve.claims, async (db) => {
      await db.query("select public.set_notification_preference('booking_approved', 'sms', true)");
      await db.query(`select public.set_quiet_hours(((now() at time zone 'Asia/Tokyo') - interval '1 hour')::time,
                                                   ((now() at time zone 'Asia/Tokyo') + interval '1 hour')::time)`);
    });
    await notify(eve, "booking_approved", "Approved");
    await makeDue(eve); // even when due, quiet hours win
    await dispatcher()();
    expect(twilio.messages.filter((message) => message.to === "+819012345678")).toHaveLength(0);
    expect((await deliveries(eve, "sms"))[0]).toMatchObject({ status: "pending", attempts: 0 });
    expect((await deliveries(eve, "email"))[0]?.status).toBe("sent");

    await asUser(eve.claims, (db) => db.query("select public.set_quiet_hours(null, null)"));
    await makeDue(eve);
    await dispatcher()();
    expect(twilio.messages.filter((message) => message.to === "+819012345678")).toHaveLength(1);
    expect((await deliveries(eve, "sms"))[0]).toMatchObject({ status: "sent", attempts: 1 });
  });
});

describe("POST /functions/v1/dispatch-alerts", () => {
  const call = (token: string | null, body?: unknown): Promise<Response> => dispatchHandler(new Request("http://127.0.0.1:54321/dispatch-alerts", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
    body: body === undefined ? "" : JSON.stringify(body),
  }));
  const serviceKey = () => signJwt({ role: "service_role", iss: "supabase-demo" });
  const env = envOverride();
  afterEach(() => env.restore());

  it("answers only to the service role", async () => {
    const fay = await createUser();
    expect((await call(null)).status).toBe(401);
    const asUserRes = await call(fay.token);
    expect(asUserRes.status).toBe(403);
    expect(await asUserRes.json()).toMatchObject({ error: { code: "service_role_only" } });
    expect((await call(await anonKey())).status).toBe(403);
  });

  it("sends to the sink when no provider keys are set", async () => {
    env.set({ RESEND_API_KEY: undefined, TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: undefined, FCM_SERVICE_ACCOUNT_JSON: undefined });
    // Signing up with a confirmed email brings the welcome.
    const gil = await createUser({ userMetadata: { locale: "es" } });
    const res = await call(await serviceKey(), { batch_size: 50 });
    expect(res.status).toBe(200);
    const body = await res.json() as { sent: number; providers: Record<string, string> };
    expect(body.providers).toEqual({ email: "sink", sms: "sink", whatsapp: "sink", push: "sink" });
    expect(body.sent).toBeGreaterThanOrEqual(1);
    const { rows } = await ownerQuery<{ subject: string; destination: string }>(
      "select s.subject, s.destination from private.alert_sink s join private.alert_deliveries d on d.id = s.delivery_id where d.user_id = $1", [gil.id]);
    expect(rows).toEqual([{ subject: "Bienvenido a Rally", destination: gil.email }]);
    expect((await deliveries(gil))[0]?.provider_message_id).toMatch(/^sink_/);
  });

  it("refuses to run half configured, naming what is missing", async () => {
    env.set({ RESEND_API_KEY: "re_live_something", RESEND_FROM: undefined });
    const res = await call(await serviceKey());
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "not_configured", details: { variables: ["RESEND_FROM"] } } });
  });

  it("rejects bad options", async () => {
    const res = await call(await serviceKey(), { batch_size: 0 });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "validation_failed" } });
  });
});
