/**
 * Provider status callbacks, end to end: the dispatcher sends through the Twilio and Resend
 * stand-ins, the stand-ins produce the signed callbacks the real services send, and the
 * twilio-status and resend-webhook functions verify, deduplicate and apply them.
 */
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runDispatch } from "../../functions/_shared/alerts/dispatcher.ts";
import { claimDeliveries, completeDeliveries, recordSinkAlerts } from "../../functions/_shared/alerts/outbox.ts";
import { createSinkProvider } from "../../functions/_shared/alerts/providers/sink.ts";
import { createResendProvider } from "../../functions/_shared/alerts/providers/resend.ts";
import { createTwilioProvider } from "../../functions/_shared/alerts/providers/twilio.ts";
import { closePool, withServiceRole } from "../../functions/_shared/db.ts";
import { handler as resendWebhook } from "../../functions/resend-webhook/handler.ts";
import { handler as twilioInbound } from "../../functions/twilio-inbound/handler.ts";
import { handler as twilioStatus } from "../../functions/twilio-status/handler.ts";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { envOverride, testEnv } from "../support/env.ts";
import { startResendStandIn, type ResendStandIn } from "../support/stand-ins/resend.ts";
import { startTwilioStandIn, type TwilioStandIn } from "../support/stand-ins/twilio.ts";
import { createUser, forgetWelcome, type TestUser } from "../support/users.ts";
import { confirmPhone } from "../support/phones.ts";

const CALLBACK_URL = "https://rally.example/functions/v1/twilio-status";
const INBOUND_URL = "https://rally.example/functions/v1/twilio-inbound";
const WEBHOOK_URL = "https://rally.example/functions/v1/resend-webhook";
const WEBHOOK_SECRET = `whsec_${Buffer.from("resend-webhook-secret-for-tests!").toString("base64")}`;

let resend: ResendStandIn;
let twilio: TwilioStandIn;
let pool: pg.Pool;
const env = envOverride();

beforeAll(async () => {
  resend = await startResendStandIn();
  twilio = await startTwilioStandIn();
  pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 3 });
  env.set({
    TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: twilio.authToken, TWILIO_STATUS_CALLBACK_URL: CALLBACK_URL,
    TWILIO_INBOUND_WEBHOOK_URL: INBOUND_URL, RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
});
afterAll(async () => {
  env.restore();
  await resend.close();
  await twilio.close();
  await pool.end();
  await closePool();
  await closeTestPools();
});
beforeEach(async () => {
  await ownerQuery("update private.alert_deliveries set status = 'skipped', finished_at = now() where status in ('pending', 'sending')");
});
afterEach(() => {
  resend.failures.recover();
});

async function dispatch(): Promise<void> {
  await runDispatch({
    claim: (limit, lease) => withServiceRole((db) => claimDeliveries(db, limit, lease), { pool }),
    complete: (results) => withServiceRole((db) => completeDeliveries(db, results), { pool }),
    providers: {
      email: createResendProvider({ apiKey: resend.apiKey, baseUrl: resend.url, from: "Rally <alerts@rally.example>" }),
      sms: createTwilioProvider({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url, smsFrom: "+15005550006",
                                  whatsappFrom: "+14155238886", statusCallbackUrl: CALLBACK_URL }),
      whatsapp: createTwilioProvider({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url, smsFrom: "+15005550006",
                                       whatsappFrom: "+14155238886", statusCallbackUrl: CALLBACK_URL }),
      push: createSinkProvider((records) => withServiceRole((db) => recordSinkAlerts(db, records), { pool })),
    },
    appUrl: "https://rally.example",
  }, { batchSize: 50, maxBatches: 5, concurrency: 5, budgetMs: 10_000, leaseSeconds: 60 });
}

async function delivery(user: TestUser, channel: string) {
  const { rows } = await ownerQuery<{ id: string; status: string; provider_status: string | null; last_error: string | null }>(
    "select id, status, provider_status, last_error from private.alert_deliveries where user_id = $1 and channel = $2", [user.id, channel]);
  return rows[0];
}

const outcome = async (res: Response): Promise<string> => ((await res.json()) as { outcome: string }).outcome;

describe("Twilio status callbacks", () => {
  it("are verified, applied once, and never move a status back", async () => {
    const ivy = await createUser();
    await forgetWelcome(ivy);
    await confirmPhone(ivy, "+447400123456");
    await asUser(ivy.claims, async (db) => {
      await db.query("select public.set_whatsapp_opt_in(true)");
      await db.query("select public.set_notification_preference('event_cancelled', 'whatsapp', true)");
    });
    // Ivy wrote to Rally on WhatsApp, so free text may go to her for 24 hours (tests/alerts/whatsapp.test.ts).
    expect((await twilioInbound(await twilio.inbound("+447400123456", "+14155238886", "Hi", INBOUND_URL))).status).toBe(200);
    await ownerQuery("select private.notify($1, 'event_cancelled', 'Gig cancelled', 'Sorry', '{}')", [ivy.id]);
    await dispatch();
    const sms = twilio.messages.find((message) => message.to === "+447400123456")!;
    const whatsapp = twilio.messages.find((message) => message.to === "whatsapp:+447400123456")!;
    expect(sms).toBeDefined();
    expect(whatsapp).toBeDefined();
    expect((await delivery(ivy, "sms"))?.status).toBe("sent");

    const delivered = await twilio.statusCallbackRequest(sms, "delivered");
    const replay = delivered.clone();
    let res = await twilioStatus(delivered);
    expect(res.status).toBe(200);
    expect(await outcome(res)).toBe("applied");
    expect(await delivery(ivy, "sms")).toMatchObject({ status: "delivered", provider_status: "delivered" });
    expect(await outcome(await twilioStatus(replay))).toBe("duplicate");
    expect(await outcome(await twilioStatus(await twilio.statusCallbackRequest(sms, "sent")))).toBe("recorded");
    expect((await delivery(ivy, "sms"))?.status).toBe("delivered");

    res = await twilioStatus(await twilio.statusCallbackRequest(whatsapp, "undelivered", { ErrorCode: "63016" }));
    expect(await outcome(res)).toBe("applied");
    // 63016: WhatsApp refused it outside the 24-hour window, so the alert goes by SMS instead.
    expect(await delivery(ivy, "whatsapp")).toMatchObject({
      status: "failed", last_error: "Twilio error 63016 — outside WhatsApp's 24-hour window: sent by SMS instead" });
  });

  it("refuse a forged or tampered callback", async () => {
    const message = twilio.messages.at(-1) ?? { sid: "SMx", to: "+1", from: "+1", messagingServiceSid: null, body: "x", contentSid: null,
                                                contentVariables: null, statusCallback: `${CALLBACK_URL}?delivery_id=x`, status: "queued" as const, errorCode: null };
    const genuine = await twilio.statusCallbackRequest(message, "delivered");
    const tampered = new Request(genuine.url, { method: "POST", headers: genuine.headers, body: (await genuine.text()).replace("delivered", "failed") });
    const res = await twilioStatus(tampered);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_signature" } });
    const unsigned = new Request(CALLBACK_URL, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "MessageSid=SM1" });
    expect((await twilioStatus(unsigned)).status).toBe(403);
  });
});

describe("Resend webhooks", () => {
  it("mark emails delivered, and a bounce stops further emails to that address", async () => {
    const jon = await createUser();
    await forgetWelcome(jon);
    await ownerQuery("select private.notify($1, 'booking_confirmed', 'Going ' || g, null, '{}') from generate_series(1, 2) g", [jon.id]);
    await dispatch();
    const [first, second] = resend.emails.filter((email) => email.to[0] === jon.email);
    expect(first).toBeDefined();
    expect(second).toBeDefined();

    const delivered = await resend.webhookRequest(WEBHOOK_URL, WEBHOOK_SECRET, "email.delivered", first!);
    const replay = delivered.clone();
    expect(await outcome(await resendWebhook(delivered))).toBe("applied");
    expect(await outcome(await resendWebhook(replay))).toBe("duplicate");
    expect(await outcome(await resendWebhook(await resend.webhookRequest(WEBHOOK_URL, WEBHOOK_SECRET, "email.opened", first!)))).toBe("recorded");

    const bounced = await resend.webhookRequest(WEBHOOK_URL, WEBHOOK_SECRET, "email.bounced", second!,
      { bounce: { type: "Permanent", subType: "General", message: "The recipient's mailbox does not exist." } });
    expect(await outcome(await resendWebhook(bounced))).toBe("applied");
    const { rows } = await ownerQuery<{ status: string; last_error: string }>(
      "select status, last_error from private.alert_deliveries where user_id = $1 order by status", [jon.id]);
    expect(rows).toEqual([
      { status: "delivered", last_error: null },
      { status: "failed", last_error: "The recipient's mailbox does not exist." },
    ]);
    const settings = await asUser(jon.claims, (db) => db.query("select email_suppressed_reason from public.notification_settings"));
    expect(settings.rows).toEqual([{ email_suppressed_reason: "bounced" }]);
    await ownerQuery("select private.notify($1, 'booking_confirmed', 'After the bounce', null, '{}')", [jon.id]);
    const { rows: after } = await ownerQuery("select 1 from private.alert_deliveries d join public.notifications n on n.id = d.notification_id where n.title = 'After the bounce' and n.user_id = $1", [jon.id]);
    expect(after).toHaveLength(0);
  });

  it("email.suppressed (Resend did not send: the address is on its suppression list) fails the delivery and suppresses the address", async () => {
    const kim = await createUser();
    await forgetWelcome(kim);
    await ownerQuery("select private.notify($1, 'booking_confirmed', 'Suppressed one', null, '{}')", [kim.id]);
    await dispatch();
    const sent = resend.emails.find((email) => email.to[0] === kim.email);
    expect(sent).toBeDefined();
    const event = await resend.webhookRequest(WEBHOOK_URL, WEBHOOK_SECRET, "email.suppressed", sent!);
    const body = JSON.parse(await event.clone().text()) as { data: { tags: unknown; suppressed: { type: string } } };
    expect(body.data.tags).toEqual(Object.fromEntries(sent!.tags.map((t) => [t.name, t.value])));
    expect(await outcome(await resendWebhook(event))).toBe("applied");
    const { rows } = await ownerQuery<{ status: string; last_error: string }>("select status, last_error from private.alert_deliveries where user_id = $1", [kim.id]);
    expect(rows).toEqual([{ status: "failed", last_error: expect.stringContaining("suppression list") }]);
    const settings = await asUser(kim.claims, (db) => db.query("select email_suppressed_reason from public.notification_settings"));
    expect(settings.rows).toEqual([{ email_suppressed_reason: "bounced" }]);
  });

  it("refuse bad signatures and stale timestamps", async () => {
    const email = resend.emails.at(-1) ?? { id: "x", from: "a", to: ["b@c.d"], subject: "s", html: null, text: "t", tags: [], idempotencyKey: null };
    const wrongSecret = await resend.webhookRequest(WEBHOOK_URL, `whsec_${Buffer.from("another-secret-another-secret!!!").toString("base64")}`, "email.delivered", email);
    let res = await resendWebhook(wrongSecret);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_signature" } });
    const stale = await resend.webhookRequest(WEBHOOK_URL, WEBHOOK_SECRET, "email.delivered", email, {}, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    res = await resendWebhook(stale);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "stale_webhook" } });
  });
});
