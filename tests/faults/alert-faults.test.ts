/**
 * Faults around the alert dispatcher (the real dispatch-alerts function, its Resend and Twilio
 * adapters over HTTP against the stand-ins, its database connection through the fault proxy).
 *
 * - The database connection cut while claiming or while recording outcomes (fast-check over
 *   where): after recovery every delivery is recorded sent once and the email went out once
 *   (Resend's Idempotency-Key = delivery id). Twilio has no idempotency key: an SMS whose
 *   outcome was lost after Twilio accepted it is sent again when the lease runs out — exactly
 *   then, and only then (at-least-once, as documented).
 * - Providers hanging past the client timeout (with or without having sent), answering 5xx, or
 *   429 with Retry-After (fast-check over sequences): each is retried with backoff (Retry-After
 *   honoured), and when the provider recovers the email is delivered exactly once; the SMS once
 *   plus once per hang that came after Twilio had sent.
 * - A provider that never answers: dead-lettered after exactly max_attempts calls.
 * - The resend-webhook and twilio-status callbacks losing their connection: 503 (the provider
 *   retries), and the redelivered callback is applied once.
 * - A batch whose sends hang would outlive its claim's lease (and another dispatcher would send
 *   the rest again): sends that cannot finish inside the lease are not started but handed back.
 *
 * The tests move the clock instead of waiting: leases and backoffs are made due in SQL.
 */
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { alertsConfig } from "../../functions/_shared/alerts/config.ts";
import { LEASE_TOO_SHORT, runDispatch } from "../../functions/_shared/alerts/dispatcher.ts";
import type { ClaimedDelivery, DeliveryResult, OutboundMessage, Provider } from "../../functions/_shared/alerts/types.ts";
import { closePool } from "../../functions/_shared/db.ts";
import { handler as dispatchHandler } from "../../functions/dispatch-alerts/handler.ts";
import { handler as resendWebhook } from "../../functions/resend-webhook/handler.ts";
import { handler as twilioStatus } from "../../functions/twilio-status/handler.ts";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { envOverride, testEnv } from "../support/env.ts";
import { serviceRoleKey } from "../support/jwt.ts";
import { type PgFault, startPgFaultProxy, type PgFaultProxy } from "../support/pg-fault-proxy.ts";
import type { InjectedFailure } from "../support/stand-ins/http.ts";
import { startResendStandIn, type ResendStandIn } from "../support/stand-ins/resend.ts";
import { startTwilioStandIn, type TwilioStandIn } from "../support/stand-ins/twilio.ts";
import { createUser, forgetWelcome, type TestUser, uniqueSuffix } from "../support/users.ts";
import { confirmPhone } from "../support/phones.ts";

const TIMEOUT_MS = 300;
const RESEND_WEBHOOK_URL = "https://rally.example/functions/v1/resend-webhook";
const RESEND_WEBHOOK_SECRET = `whsec_${Buffer.from("resend-webhook-secret-for-faults").toString("base64")}`;
const HANG_MS = 700;

let proxy: PgFaultProxy;
let resend: ResendStandIn;
let twilio: TwilioStandIn;
let serviceKey: string;
const env = envOverride();

beforeAll(async () => {
  proxy = await startPgFaultProxy(testEnv("SUPABASE_DB_URL"));
  resend = await startResendStandIn();
  twilio = await startTwilioStandIn();
  serviceKey = await serviceRoleKey();
  env.set({
    SUPABASE_DB_URL: proxy.url,
    RESEND_API_KEY: resend.apiKey, RESEND_FROM: "Rally <alerts@rally.example>", RESEND_API_BASE: resend.url,
    TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: twilio.authToken, TWILIO_API_BASE: twilio.url,
    TWILIO_SMS_FROM: "+15005550006", TWILIO_WHATSAPP_FROM: "+14155238886",
    TWILIO_STATUS_CALLBACK_URL: "https://rally.example/functions/v1/twilio-status",
    ALERT_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
    RESEND_WEBHOOK_SECRET,
  });
  await closePool();
});

afterAll(async () => {
  await closePool();
  env.restore();
  await resend.close();
  await twilio.close();
  await proxy.close();
  await closeTestPools();
});

beforeEach(async () => {
  resend.failures.recover();
  twilio.failures.recover();
  // Deliveries left by other test files are not this file's business.
  await ownerQuery("update private.alert_deliveries set status = 'skipped', finished_at = now() where status in ('pending', 'sending')");
});

async function dispatch(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await dispatchHandler(new Request("http://127.0.0.1/dispatch-alerts", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${serviceKey}` },
    body: JSON.stringify({ lease_seconds: 60, concurrency: 1 }),
  }));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A user who gets booking approvals by email and by SMS. */
async function subscriber(): Promise<{ user: TestUser; phone: string }> {
  const user = await createUser();
  await forgetWelcome(user); // one alert per test: the approval
  const phone = `+1202555${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;
  await confirmPhone(user, phone);
  await asUser(user.claims, (db) => db.query("select public.set_notification_preference('booking_approved', 'sms', true)"));
  return { user, phone };
}

async function notify(user: TestUser): Promise<void> {
  await ownerQuery("select private.notify($1, 'booking_approved', $2, null, '{}')", [user.id, `Approved ${uniqueSuffix()}`]);
}

interface Row {
  channel: string;
  status: string;
  attempts: number;
  wait_ms: number;
}

async function deliveries(user: TestUser): Promise<Row[]> {
  const { rows } = await ownerQuery<Row>(
    `select channel, status, attempts, (extract(epoch from next_attempt_at - now()) * 1000)::int as wait_ms
       from private.alert_deliveries where user_id = $1 order by channel`, [user.id]);
  return rows;
}

/** Moves the clock past every lease and backoff of this user's deliveries. */
async function timePasses(user: TestUser): Promise<void> {
  await ownerQuery(
    `update private.alert_deliveries set lease_expires_at = now() - interval '1 second' where user_id = $1 and status = 'sending'`, [user.id]);
  await ownerQuery("update private.alert_deliveries set next_attempt_at = now() where user_id = $1 and status = 'pending'", [user.id]);
}

/** Runs the dispatcher (letting time pass in between) until this user has nothing left to send. */
async function recover(user: TestUser): Promise<void> {
  for (let round = 0; round < 10; round += 1) {
    const open = (await deliveries(user)).filter((d) => d.status === "pending" || d.status === "sending");
    if (open.length === 0) return;
    await timePasses(user);
    expect((await dispatch()).status).toBe(200);
  }
  throw new Error("deliveries did not finish");
}

const emailsTo = (user: TestUser) => resend.emails.filter((email) => email.to[0] === user.email);
const smsTo = (phone: string) => twilio.messages.filter((message) => message.to === phone);

describe("configuration", () => {
  it("reads the provider timeout, and names a bad one instead of guessing", () => {
    expect(alertsConfig().resend?.timeoutMs).toBe(TIMEOUT_MS);
    expect(alertsConfig().twilio?.timeoutMs).toBe(TIMEOUT_MS);
    const read = (name: string): string | undefined => (name === "ALERT_PROVIDER_TIMEOUT_MS" ? "soon" : process.env[name]);
    expect(() => alertsConfig(read)).toThrow(expect.objectContaining({ status: 503, details: { variables: ["ALERT_PROVIDER_TIMEOUT_MS"] } }));
  });
});

describe("the dispatcher losing its database connection", () => {
  // One batch: claim = queries 1–4 (begin, context, claim, commit), then the sends, then
  // recording the outcomes = queries 5–8 (its COMMIT is the 8th).
  const recordedOutcomeLost = (fault: PgFault): boolean =>
    fault.atQuery >= 5 && !(fault.atQuery === 8 && fault.when === "after_query");

  it("after recovery: each delivery sent once, the email once; the SMS again only when Twilio's answer was lost", async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({ atQuery: fc.integer({ min: 1, max: 8 }), when: fc.constantFrom<PgFault["when"]>("before_query", "after_query") }),
      async (fault) => {
        const { user, phone } = await subscriber();
        await notify(user);
        proxy.arm(fault);
        const first = await dispatch();
        proxy.disarm();
        // Even when the outcomes' COMMIT ran (query 8, after), the function cannot know it did.
        expect(first.status).toBe(503);
        expect(first.body).toMatchObject({ error: { code: "database_unavailable" } });
        await recover(user);
        const rows = await deliveries(user);
        expect(rows.map((r) => `${r.channel} ${r.status}`)).toEqual(["email sent", "sms sent"]);
        expect(emailsTo(user)).toHaveLength(1);
        expect(smsTo(phone)).toHaveLength(recordedOutcomeLost(fault) ? 2 : 1);
      }), { numRuns: 16 });
  });
});

type ProviderFault = "500" | "503" | "429" | "hang" | "hang_after_send";

const injected = (fault: ProviderFault): InjectedFailure => {
  switch (fault) {
    case "500": return { status: 500 };
    case "503": return { status: 503 };
    case "429": return { status: 429, retryAfterSeconds: 600 };
    case "hang": return { status: 504, hangMs: HANG_MS };
    case "hang_after_send": return { status: 200, hangMs: HANG_MS, sendFirst: true };
  }
};

describe("providers that time out, fail or rate-limit", () => {
  it("are retried with backoff (Retry-After honoured) and deliver exactly once when they recover", async () => {
    const faults = fc.array(fc.constantFrom<ProviderFault>("500", "503", "429", "hang", "hang_after_send"), { maxLength: 3 });
    await fc.assert(fc.asyncProperty(faults, faults, async (emailFaults, smsFaults) => {
      const { user, phone } = await subscriber();
      await notify(user);
      for (const f of emailFaults) resend.failures.failNext(1, injected(f));
      for (const f of smsFaults) twilio.failures.failNext(1, injected(f));
      const rounds = Math.max(emailFaults.length, smsFaults.length) + 1;
      for (let round = 0; round < rounds; round += 1) {
        expect((await dispatch()).status).toBe(200);
        for (const [channel, list] of [["email", emailFaults], ["sms", smsFaults]] as const) {
          const row = (await deliveries(user)).find((d) => d.channel === channel);
          const fault = list[round];
          if (fault === undefined) continue;
          // Failed attempt n waits at least half of 30 s · 2^(n-1); a 429 at least its Retry-After.
          expect(row?.status, `${channel} after ${fault}`).toBe("pending");
          expect(row?.wait_ms).toBeGreaterThanOrEqual(fault === "429" ? 600_000 - 2_000 : 15_000 * 2 ** round - 2_000);
        }
        await timePasses(user);
      }
      const rows = await deliveries(user);
      expect(rows.map((r) => `${r.channel} ${r.status} ${r.attempts}`))
        .toEqual([`email sent ${emailFaults.length + 1}`, `sms sent ${smsFaults.length + 1}`]);
      expect(emailsTo(user)).toHaveLength(1);
      expect(smsTo(phone)).toHaveLength(1 + smsFaults.filter((f) => f === "hang_after_send").length);
    }), { numRuns: 10 });
  });

  it("that never answer are dead-lettered after exactly max_attempts calls, and nothing is sent twice", async () => {
    const { user } = await subscriber();
    await notify(user);
    resend.failures.failAlways({ status: 504, hangMs: HANG_MS });
    const before = resend.requests;
    for (let attempt = 1; attempt <= 8; attempt += 1) {
      expect((await dispatch()).status).toBe(200);
      await timePasses(user);
    }
    const email = (await deliveries(user)).find((d) => d.channel === "email");
    expect(email).toMatchObject({ status: "dead", attempts: 8 });
    expect(resend.requests - before).toBe(8);
    const { rows } = await ownerQuery("select 1 from admin.alert_dead_letters where user_id = $1 and channel = 'email'", [user.id]);
    expect(rows).toHaveLength(1);
    resend.failures.recover();
    await timePasses(user);
    await dispatch();
    expect(emailsTo(user)).toHaveLength(0);
  });
});

describe("provider status callbacks losing their database connection", () => {
  it("answer 503 so the provider retries, and the retried callback is applied once", async () => {
    const cut = fc.record({
      provider: fc.constantFrom("resend", "twilio"),
      atQuery: fc.integer({ min: 1, max: 4 }), // begin · context · apply_provider_status · commit
      when: fc.constantFrom<PgFault["when"]>("before_query", "after_query"),
    });
    await fc.assert(fc.asyncProperty(cut, async ({ provider, ...fault }) => {
      const { user, phone } = await subscriber();
      await notify(user);
      expect((await dispatch()).status).toBe(200);
      const callback = provider === "resend"
        ? await resend.webhookRequest(RESEND_WEBHOOK_URL, RESEND_WEBHOOK_SECRET, "email.delivered", emailsTo(user)[0]!)
        : await twilio.statusCallbackRequest(smsTo(phone)[0]!, "delivered");
      const handler = provider === "resend" ? resendWebhook : twilioStatus;
      const retries = [callback.clone(), callback.clone()];
      proxy.arm(fault);
      const first = await handler(callback);
      proxy.disarm();
      expect(first.status).toBe(503);
      const outcomes: string[] = [];
      for (const retry of retries) {
        const res = await handler(retry);
        expect(res.status).toBe(200);
        outcomes.push(((await res.json()) as { outcome: string }).outcome);
      }
      // Applied by the first retry — or already by the cut call, when its COMMIT ran.
      const committedAnyway = fault.atQuery === 4 && fault.when === "after_query";
      expect(outcomes).toEqual(committedAnyway ? ["duplicate", "duplicate"] : ["applied", "duplicate"]);
      const channel = provider === "resend" ? "email" : "sms";
      expect((await deliveries(user)).find((d) => d.channel === channel)?.status).toBe("delivered");
      const { rows } = await ownerQuery(
        "select 1 from private.provider_events e join private.alert_deliveries d on d.id = e.delivery_id where d.user_id = $1", [user.id]);
      expect(rows).toHaveLength(1);
    }), { numRuns: 10 });
  });
});

describe("a batch that would outlive its claim's lease", () => {
  it("starts no send that could end after the lease, and hands those deliveries back at once", async () => {
    // A fake clock: every send hangs for the whole provider timeout (5 s); the lease is 20 s.
    let clock = 1_000_000;
    const delivery = (i: number): ClaimedDelivery => ({
      id: `00000000-0000-4000-8000-00000000000${i}`, claim_token: `10000000-0000-4000-8000-00000000000${i}`, attempt: 1, max_attempts: 8,
      channel: "sms", type: "booking_approved", destination: "+12025550100", locale: null, display_name: null, title: "Approved",
      body: null, data: {}, event: null, timezone: null, device_platform: null, badge: null, whatsapp_content_sid: null,
      whatsapp_variables: null,
    });
    const started: number[] = [];
    const hanging: Provider = {
      name: "twilio",
      send(message: OutboundMessage) {
        started.push(clock);
        clock += 5_000;
        return Promise.resolve({ kind: "retryable", error: `network error: TimeoutError (${message.deliveryId})` });
      },
    };
    const recorded: DeliveryResult[] = [];
    let claims = 0;
    await runDispatch({
      claim: () => Promise.resolve(claims++ === 0 ? [1, 2, 3, 4, 5].map(delivery) : []),
      complete: (results) => {
        recorded.push(...results);
        return Promise.resolve(results.length);
      },
      providers: { email: hanging, sms: hanging, whatsapp: hanging, push: hanging },
      appUrl: "https://rally.example",
      now: () => clock,
      random: () => 0.5,
    }, { batchSize: 10, maxBatches: 1, concurrency: 1, budgetMs: 60_000, leaseSeconds: 20, sendTimeoutMs: 5_000 });
    // Sends start at 0, 5 and 10 s (each ends by 15 s); one starting at 15 s could end at 20 s, the lease's end.
    expect(started.map((t) => t - 1_000_000)).toEqual([0, 5_000, 10_000]);
    const handedBack = recorded.filter((r) => r.error === LEASE_TOO_SHORT);
    expect(handedBack.map((r) => r.id)).toEqual([delivery(4).id, delivery(5).id]);
    expect(handedBack.every((r) => r.outcome === "retry" && r.retry_at === new Date(clock).toISOString())).toBe(true);
  });
});
