/**
 * WhatsApp as Twilio and WhatsApp allow it, through the real dispatcher, the real Twilio adapter
 * and the Twilio stand-in (which enforces the 24-hour window and Content templates as Twilio
 * does): outside the window an alert goes as its approved template with the variables filled;
 * free-form text outside it is refused (63016) and the alert falls back to SMS; inside the window
 * opened by the user's own message (the signed incoming-message webhook, twilio-inbound) free
 * text goes; a type without a template falls back to SMS, visibly.
 */
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runDispatch } from "../../functions/_shared/alerts/dispatcher.ts";
import { claimDeliveries, completeDeliveries, recordSinkAlerts } from "../../functions/_shared/alerts/outbox.ts";
import { createSinkProvider } from "../../functions/_shared/alerts/providers/sink.ts";
import { createTwilioProvider } from "../../functions/_shared/alerts/providers/twilio.ts";
import { formatEventTime } from "../../functions/_shared/alerts/templates.ts";
import { closePool, withServiceRole } from "../../functions/_shared/db.ts";
import { handler as twilioInbound } from "../../functions/twilio-inbound/handler.ts";
import { handler as twilioStatus } from "../../functions/twilio-status/handler.ts";
import { asUser, closeTestPools, ownerQuery } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { createEvent, createHost } from "../support/events.ts";
import { confirmPhone } from "../support/phones.ts";
import { startTwilioStandIn, type TwilioStandIn } from "../support/stand-ins/twilio.ts";
import { createUser, type TestUser } from "../support/users.ts";

const CALLBACK_URL = "https://rally.example/functions/v1/twilio-status";
const INBOUND_URL = "https://rally.example/functions/v1/twilio-inbound";
const SENDER = "+14155238886";

let twilio: TwilioStandIn;
let pool: pg.Pool;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  twilio = await startTwilioStandIn();
  pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 3 });
  const env: Record<string, string> = {
    TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: twilio.authToken, TWILIO_STATUS_CALLBACK_URL: CALLBACK_URL,
    TWILIO_INBOUND_WEBHOOK_URL: INBOUND_URL,
  };
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await twilio.close();
  await pool.end();
  await closePool();
  await closeTestPools();
});
// Deliveries left by other test files are not this file's business.
beforeEach(async () => {
  await ownerQuery("update private.alert_deliveries set status = 'skipped', finished_at = now() where status in ('pending', 'sending')");
  await ownerQuery("delete from private.whatsapp_templates");
});

const twilioProvider = () => createTwilioProvider({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url,
  smsFrom: "+15005550006", whatsappFrom: SENDER, statusCallbackUrl: CALLBACK_URL });

async function dispatch(): Promise<void> {
  const sink = createSinkProvider((records) => withServiceRole((db) => recordSinkAlerts(db, records), { pool }));
  await runDispatch({
    claim: (limit, lease) => withServiceRole((db) => claimDeliveries(db, limit, lease), { pool }),
    complete: (results) => withServiceRole((db) => completeDeliveries(db, results), { pool }),
    providers: { email: sink, sms: twilioProvider(), whatsapp: twilioProvider(), push: sink },
    appUrl: "https://rally.example",
  }, { batchSize: 50, maxBatches: 5, concurrency: 5, budgetMs: 10_000, leaseSeconds: 60 });
}

/** A guest on WhatsApp only for cancellations (no SMS for them), with a verified number. */
async function whatsappGuest(phone: string, locale = "en"): Promise<TestUser> {
  const user = await createUser({ userMetadata: { display_name: "Rita", locale, timezone: "Europe/Lisbon" } });
  await confirmPhone(user, phone);
  await asUser(user.claims, async (db) => {
    await db.query("select public.set_whatsapp_opt_in(true)");
    await db.query("select public.set_notification_preference('event_cancelled', 'whatsapp', true)");
    await db.query("select public.set_notification_preference('event_cancelled', 'sms', false)");
  });
  return user;
}

async function deliveries(user: TestUser) {
  const { rows } = await ownerQuery<{ id: string; channel: string; status: string; last_error: string | null; fallback_of: string | null }>(
    `select d.id, d.channel, d.status, d.last_error, d.fallback_of from private.alert_deliveries d
      where d.user_id = $1 and d.type = 'event_cancelled' order by d.created_at, d.channel`, [user.id]);
  return rows;
}

const sentTo = (phone: string) => twilio.messages.filter((m) => m.to === phone || m.to === `whatsapp:${phone}`);

describe("WhatsApp outside the 24-hour window", () => {
  it("goes out as the approved template, with its variables", async () => {
    const content = twilio.createContent("Hi {{1}}, {{2}} on {{3}} was cancelled. Your bookings: {{4}}", { whatsappApproved: true });
    await ownerQuery("select admin.set_whatsapp_template('event_cancelled', 'en', $1, array['name', 'event_title', 'event_time', 'link'])",
      [content.sid]);
    const rita = await whatsappGuest("+351912000001");
    const host = await createHost();
    const event = await createEvent(host, { title: "Fado night", timezone: "Europe/Lisbon" });
    await ownerQuery("select private.notify($1, 'event_cancelled', 'Fado night was cancelled', 'Sorry', jsonb_build_object('event_id', $2::text))",
      [rita.id, event.id]);
    await dispatch();

    const [message] = sentTo("+351912000001");
    expect(message).toMatchObject({ to: "whatsapp:+351912000001", from: `whatsapp:${SENDER}`, contentSid: content.sid, status: "queued",
                                    errorCode: null });
    const when = formatEventTime(event.starts_at.toISOString(), "Europe/Lisbon", "en");
    expect(message?.contentVariables).toEqual({ 1: "Rita", 2: "Fado night", 3: when, 4: `https://rally.example/events/${event.id}` });
    expect(message?.body).toBe(`Hi Rita, Fado night on ${when} was cancelled. Your bookings: https://rally.example/events/${event.id}`);
    expect(await deliveries(rita)).toEqual([expect.objectContaining({ channel: "email", status: "sent" }),
                                             expect.objectContaining({ channel: "whatsapp", status: "sent", last_error: null })]);
  });

  it("is refused by WhatsApp as free text (63016), and then goes by SMS", async () => {
    const sam = await whatsappGuest("+351912000002");
    // Free text outside the window, as Rally sent it before templates: Twilio takes the request…
    const outcome = await twilioProvider().send({ deliveryId: crypto.randomUUID(), channel: "whatsapp", to: "+351912000002",
                                                  text: "Rally: your event was cancelled", template: null });
    expect(outcome.kind).toBe("sent");
    const [refused] = sentTo("+351912000002");
    // …and WhatsApp refuses the message.
    expect(refused).toMatchObject({ status: "failed", errorCode: 63016 });
    const fetched = await fetch(`${twilio.url}/2010-04-01/Accounts/${twilio.accountSid}/Messages/${refused?.sid}.json`, {
      headers: { Authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString("base64")}` } });
    expect(await fetched.json()).toMatchObject({ status: "failed", error_code: 63016 });

    // When Rally believes the window is open but WhatsApp does not (here Rally recorded a message
    // Twilio never saw), the callback carries 63016 and the alert falls back to SMS.
    await ownerQuery("select private.record_inbound_message($1, 'whatsapp', '+351912000002', $2, 'hi')",
      [`SM${"a".repeat(32)}`, `whatsapp:${SENDER}`]);
    await ownerQuery("select private.notify($1, 'event_cancelled', 'Jazz brunch was cancelled', 'Sorry', '{}')", [sam.id]);
    await dispatch();
    const free = sentTo("+351912000002").at(-1);
    expect(free).toMatchObject({ contentSid: null, status: "failed", errorCode: 63016 });
    const res = await twilioStatus(await twilio.statusCallbackRequest(free!, "failed"));
    expect(res.status).toBe(200);
    const rows = await deliveries(sam);
    const whatsapp = rows.find((row) => row.channel === "whatsapp");
    expect(whatsapp).toMatchObject({ status: "failed", last_error: "Twilio error 63016 — outside WhatsApp's 24-hour window: sent by SMS instead" });
    expect(rows.find((row) => row.channel === "sms")).toMatchObject({ status: "pending", fallback_of: whatsapp?.id });

    await dispatch();
    expect(sentTo("+351912000002").at(-1)).toMatchObject({ to: "+351912000002", status: "queued",
                                                           body: expect.stringContaining("Jazz brunch was cancelled") });
  });

  it("without an approved template falls back to SMS at once, and the user can see why", async () => {
    const tom = await whatsappGuest("+351912000003");
    await ownerQuery("select private.notify($1, 'event_cancelled', 'Cinema club was cancelled', 'Sorry', '{}')", [tom.id]);
    await dispatch();
    await dispatch(); // the next run sends the SMS the first one queued instead
    expect(sentTo("+351912000003").map((m) => m.to)).toEqual(["+351912000003"]);
    const seen = await asUser(tom.claims, async (db) => (await db.query<{ channel: string; status: string; reason: string | null; destination: string | null }>(
      "select channel, status, reason, destination from public.my_alert_deliveries() where type = 'event_cancelled' and channel <> 'email' order by channel")).rows);
    expect(seen).toEqual([
      { channel: "sms", status: "sent", reason: null, destination: "+35•••003" },
      { channel: "whatsapp", status: "skipped", destination: null,
        reason: "no approved WhatsApp template for event_cancelled (en) outside the 24-hour window: sent by SMS instead" },
    ]);
  });
});

describe("WhatsApp inside the window the user opened", () => {
  it("sends free text once the user has written to Rally (the signed incoming-message webhook)", async () => {
    const una = await whatsappGuest("+351912000004");
    const res = await twilioInbound(await twilio.inbound("+351912000004", SENDER, "Olá! Is there parking?", INBOUND_URL));
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/xml/);
    expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    expect(res.headers.get("X-Rally-Outcome")).toBe("recorded");

    await ownerQuery("select private.notify($1, 'event_cancelled', 'Pottery class was cancelled', 'Sorry', '{}')", [una.id]);
    await dispatch();
    expect(sentTo("+351912000004").at(-1)).toMatchObject({ to: "whatsapp:+351912000004", contentSid: null, status: "queued",
                                                           body: expect.stringContaining("Pottery class was cancelled") });
  });

  it("refuses a forged or replayed webhook, and STOP ends WhatsApp for that number", async () => {
    const vic = await whatsappGuest("+351912000005");
    const genuine = await twilio.inbound("+351912000005", SENDER, "STOP", INBOUND_URL);
    const forged = new Request(genuine.url, { method: "POST", headers: genuine.headers,
                                              body: (await genuine.clone().text()).replace("STOP", "hello") });
    const refused = await twilioInbound(forged);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "invalid_signature" } });
    expect((await ownerQuery("select whatsapp_opt_in_at from public.notification_settings where user_id = $1", [vic.id])).rows[0]?.whatsapp_opt_in_at)
      .not.toBeNull();

    const stopped = await twilioInbound(genuine.clone());
    expect(stopped.headers.get("X-Rally-Outcome")).toBe("opted_out");
    expect((await twilioInbound(genuine)).headers.get("X-Rally-Outcome")).toBe("duplicate");
    expect((await ownerQuery("select whatsapp_opt_in_at from public.notification_settings where user_id = $1", [vic.id])).rows[0]?.whatsapp_opt_in_at)
      .toBeNull();
  });
});
