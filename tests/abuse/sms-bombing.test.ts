/**
 * Attack class: using Rally to flood someone's phone or inbox (issue 13, finding 5). The review
 * set a victim's number, turned SMS and WhatsApp on and looped book + cancel on a free event: 30
 * loops made 30 SMS and 30 WhatsApp to the victim, and the host 30 booking_cancelled emails it
 * could not mute. Now: nothing is sent to a number its owner has not confirmed with the texted
 * code; each person gets at most the hourly and daily cap of non-critical SMS, WhatsApp and email
 * (the rest skipped with a reason, never silently lost); and a host may mute guests' cancellations.
 * Messages go through the real Twilio adapter to the Twilio stand-in; email to the sink.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDispatch } from "../../functions/_shared/alerts/dispatcher.ts";
import { claimDeliveries, completeDeliveries, recordSinkAlerts } from "../../functions/_shared/alerts/outbox.ts";
import { createSinkProvider } from "../../functions/_shared/alerts/providers/sink.ts";
import { createTwilioProvider } from "../../functions/_shared/alerts/providers/twilio.ts";
import type { ProviderSet } from "../../functions/_shared/alerts/types.ts";
import { closePool, withServiceRole } from "../../functions/_shared/db.ts";
import { ownerQuery, closeTestPools, failure } from "../support/db.ts";
import { bookEvent, createHost, publishedEvent, rpc } from "../support/events.ts";
import { confirmPhone } from "../support/phones.ts";
import { startTwilioStandIn, type TwilioStandIn } from "../support/stand-ins/twilio.ts";
import { createUser, forgetWelcome, type TestUser } from "../support/users.ts";

let twilio: TwilioStandIn;
let providers: ProviderSet;

beforeAll(async () => {
  twilio = await startTwilioStandIn();
  const text = createTwilioProvider({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url,
                                      smsFrom: "+15005550006", whatsappFrom: "+14155238886" });
  const sink = createSinkProvider((records) => withServiceRole((db) => recordSinkAlerts(db, records)));
  providers = { email: sink, sms: text, whatsapp: text, push: sink };
});

afterAll(async () => {
  await twilio.close();
  await closePool();
  await closeTestPools();
});

/**
 * Runs the dispatcher (as the scheduled dispatch-alerts runs do) until nothing is due: earlier
 * files may have left a backlog that one run's batch and time budget would not get through.
 */
async function dispatch(): Promise<void> {
  for (let run = 0; run < 50; run += 1) {
    const summary = await runDispatch({
      claim: (limit, lease) => withServiceRole((db) => claimDeliveries(db, limit, lease)),
      complete: (results) => withServiceRole((db) => completeDeliveries(db, results)),
      providers, appUrl: "https://rally.example",
    }, { batchSize: 100, maxBatches: 50, concurrency: 10, budgetMs: 30_000, leaseSeconds: 60 });
    if (summary.claimed === 0) return;
  }
  throw new Error("the outbox did not drain");
}

const texts = (number: string) => twilio.messages.filter((m) => m.to === number || m.to === `whatsapp:${number}`);

/** Books and cancels a free event `times` times as `guest` (each iteration one booking, one cancellation). */
async function bookAndCancel(guest: TestUser, eventId: string, ticketTypeId: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const booking = await bookEvent(guest, eventId, ticketTypeId);
    await rpc(guest, "select public.cancel_booking($1)", [booking.id]);
  }
}

async function deliveries(user: TestUser, channel: string): Promise<{ status: string; last_error: string | null }[]> {
  return (await ownerQuery<{ status: string; last_error: string | null }>(
    "select status, last_error from private.alert_deliveries where user_id = $1 and channel = $2 order by created_at, id",
    [user.id, channel])).rows;
}

describe("a stranger's phone number", () => {
  it("gets nothing from 20 book-and-cancel loops by someone who typed it in: no SMS, no WhatsApp", async () => {
    const victim = "+447700900555";
    const attacker = await createUser();
    // The RPC directly, so not even the verification code is texted.
    await rpc(attacker, "select public.set_phone_number($1)", [victim]);
    await rpc(attacker, "select public.set_notification_preference('booking_confirmed', 'sms', true)");
    await rpc(attacker, "select public.set_notification_preference('booking_confirmed', 'whatsapp', true)");
    expect(await failure(rpc(attacker, "select public.set_whatsapp_opt_in(true)"))).toMatchObject({ code: "P0001", hint: "phone_not_verified" });
    const host = await createHost("bomb");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 30 });
    await bookAndCancel(attacker, event.id, ticketTypeId, 20);
    expect(await deliveries(attacker, "sms")).toEqual([]);
    expect(await deliveries(attacker, "whatsapp")).toEqual([]);
    await dispatch();
    expect(texts(victim)).toEqual([]);
    // Guessing the code does not help: five wrong answers and the code is dead.
    await ownerQuery("select private.issue_phone_verification($1)", [attacker.id]);
    for (let i = 0; i < 5; i += 1) {
      expect(await rpc(attacker, "select verified from public.verify_phone_number($1)", [String(100000 + i)])).toEqual([{ verified: false }]);
    }
    expect(await failure(rpc(attacker, "select public.verify_phone_number('999999')"))).toMatchObject({ hint: "too_many_attempts" });
    expect((await ownerQuery("select phone_verified_at from public.notification_settings where user_id = $1", [attacker.id])).rows)
      .toEqual([{ phone_verified_at: null }]);
  });
});

describe("a confirmed phone", () => {
  it("receives at most 5 non-critical SMS in an hour; the rest are skipped with the reason", async () => {
    const guest = await createUser();
    const number = "+447700900556";
    await confirmPhone(guest, number);
    await rpc(guest, "select public.set_notification_preference('booking_confirmed', 'sms', true)");
    const host = await createHost("capped");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 30 });
    await bookAndCancel(guest, event.id, ticketTypeId, 12);
    await dispatch();
    expect(texts(number)).toHaveLength(5);
    const sms = await deliveries(guest, "sms");
    expect(sms.filter((d) => d.status === "sent")).toHaveLength(5);
    const skipped = sms.filter((d) => d.status === "skipped");
    expect(skipped).toHaveLength(7);
    for (const d of skipped) expect(d.last_error).toBe("recipient_cap: at most 5 text messages per 1 hour");
    // An event cancellation is critical: it still reaches the phone over the cap.
    await rpc(guest, "select public.set_notification_preference('event_cancelled', 'sms', true)");
    await bookEvent(guest, event.id, ticketTypeId);
    await rpc(host, "select public.cancel_event($1, 'Storm')", [event.id]);
    await dispatch();
    expect(texts(number)).toHaveLength(6);
    expect(texts(number).at(-1)?.body).toMatch(/cancel/i);
  });

  it("and at most the daily cap over a day, WhatsApp likewise", async () => {
    const guest = await createUser();
    const number = "+447700900557";
    await confirmPhone(guest, number);
    await rpc(guest, "select public.set_whatsapp_opt_in(true)");
    await rpc(guest, "select public.set_notification_preference('booking_confirmed', 'whatsapp', true)");
    // They wrote to Rally on WhatsApp, so free text may go to them for 24 hours (tests/alerts/whatsapp.test.ts):
    // WhatsApp (the stand-in) and Rally (what twilio-inbound records) both know it.
    await twilio.inbound(number, "+14155238886", "hi", "https://rally.example/functions/v1/twilio-inbound");
    await ownerQuery("select private.record_inbound_message($1, 'whatsapp', $2, 'whatsapp:+14155238886', 'hi')",
      [`SM${"b".repeat(32)}`, number]);
    // 18 WhatsApp messages already went out today, none in the last hour.
    await ownerQuery(
      `insert into private.alert_deliveries (notification_id, user_id, type, channel, dedupe_key, status, attempts, claimed_at, sent_at, finished_at)
       select gen_random_uuid(), $1, 'booking_confirmed', 'whatsapp', 'earlier-' || g, 'sent', 1, now() - interval '3 hours', now() - interval '3 hours', now() - interval '3 hours'
         from generate_series(1, 18) g`, [guest.id]);
    const host = await createHost("daily");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 30 });
    await bookAndCancel(guest, event.id, ticketTypeId, 4);
    await dispatch();
    expect(texts(number).filter((m) => m.to.startsWith("whatsapp:"))).toHaveLength(2);
    const skipped = (await deliveries(guest, "whatsapp")).filter((d) => d.status === "skipped");
    expect(skipped.map((d) => d.last_error)).toEqual(Array(2).fill("recipient_cap: at most 20 WhatsApp messages per 1 day"));
  });
});

describe("a host's inbox", () => {
  it("can mute guests' cancellations, which a guest's own refund notice cannot be", async () => {
    const host = await createHost("mute");
    await forgetWelcome(host); // its welcome email is not a cancellation
    await rpc(host, "select public.set_notification_preference('guest_cancelled', 'email', false)");
    expect(await failure(rpc(host, "select public.set_notification_preference('booking_cancelled', 'email', false)")))
      .toMatchObject({ code: "P0001", hint: "critical_notification" });
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 30 });
    await bookAndCancel(await createUser(), event.id, ticketTypeId, 10);
    expect(await deliveries(host, "email")).toEqual([]);
    expect((await ownerQuery<{ n: string }>(
      "select count(*) as n from public.notifications where user_id = $1 and type = 'guest_cancelled'", [host.id])).rows[0]?.n).toBe("10");
  });

  it("that did not mute them gets at most 20 of those emails an hour, however many guests loop", async () => {
    const host = await createHost("inbox");
    await forgetWelcome(host);
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 30 });
    await bookAndCancel(await createUser(), event.id, ticketTypeId, 15);
    await bookAndCancel(await createUser(), event.id, ticketTypeId, 15);
    await dispatch();
    const email = await deliveries(host, "email");
    expect(email).toHaveLength(30);
    expect(email.filter((d) => d.status === "sent")).toHaveLength(20);
    expect(email.filter((d) => d.status === "skipped").map((d) => d.last_error))
      .toEqual(Array(10).fill("recipient_cap: at most 20 emails per 1 hour"));
  });
});
