/**
 * A host's announcement and a change of time reach every booked guest on the channels each chose,
 * through the real dispatcher and the Resend, Twilio and FCM adapters against their stand-ins:
 * Ana by email (the default), Ben also by SMS, Caio also on his phone (push), Dora on WhatsApp —
 * outside the 24-hour window, so the change notice goes as its approved template and the
 * announcement, which has none, by SMS instead, as she chose. Each reads the new time in their own
 * time zone; the announcement is in the event chat; the host's stats count its reach; and Dora
 * can see in my_alert_deliveries why her announcement came by SMS.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { formatEventTime } from "../../functions/_shared/alerts/templates.ts";
import { alertDispatcher } from "../support/alert-dispatch.ts";
import { asUser, closeTestPools, ownerQuery } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { bookEvent, createHost, publishedEvent, type EventRow } from "../support/events.ts";
import { confirmPhone } from "../support/phones.ts";
import { startFcmStandIn, type FcmStandIn } from "../support/stand-ins/fcm.ts";
import { startResendStandIn, type ResendStandIn } from "../support/stand-ins/resend.ts";
import { startTwilioStandIn, type TwilioStandIn, type ContentTemplate } from "../support/stand-ins/twilio.ts";
import { createUser, forgetWelcome, type TestUser } from "../support/users.ts";

let resend: ResendStandIn;
let twilio: TwilioStandIn;
let fcm: FcmStandIn;
let pool: pg.Pool;
let dispatch: () => Promise<unknown>;

let host: TestUser;
let event: EventRow;
let ana: TestUser;
let ben: TestUser;
let caio: TestUser;
let dora: TestUser;
let caiosPhone: string;
let changeTemplate: ContentTemplate;
/** guest id → booking id */
const bookings = new Map<string, string>();

const BEN = "+447400111222";
const DORA = "+351912345678";

beforeAll(async () => {
  [resend, twilio, fcm] = await Promise.all([startResendStandIn(), startTwilioStandIn(), startFcmStandIn()]);
  pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 3 });
  dispatch = alertDispatcher({ resend, twilio, fcm }, pool);
  // Deliveries left by other test files are not this file's business.
  await ownerQuery("update private.alert_deliveries set status = 'skipped', finished_at = now() where status in ('pending', 'sending')");

  changeTemplate = twilio.createContent("Hi {{1}}, {{2}} changed: {{3}}. Details: {{4}}", { whatsappApproved: true });
  await ownerQuery("select admin.set_whatsapp_template('event_changed', 'en', $1, array['name', 'event_title', 'detail', 'link'])",
    [changeTemplate.sid]);

  host = await createHost();
  const published = await publishedEvent(host, { title: "Rooftop jazz", timezone: "Europe/Lisbon" }, { capacity: 10 });
  event = published.event;

  ana = await createUser({ userMetadata: { display_name: "Ana", timezone: "America/New_York" } });
  ben = await createUser({ userMetadata: { display_name: "Ben", locale: "en-GB", timezone: "Europe/London" } });
  caio = await createUser({ userMetadata: { display_name: "Caio", locale: "pt-BR", timezone: "America/Sao_Paulo" } });
  dora = await createUser({ userMetadata: { display_name: "Dora", timezone: "Europe/Lisbon" } });
  await forgetWelcome(ana, ben, caio, dora);

  await confirmPhone(ben, BEN);
  await asUser(ben.claims, async (db) => {
    await db.query("select public.set_notification_preference('event_announcement', 'sms', true)");
    await db.query("select public.set_notification_preference('event_changed', 'sms', true)");
  });
  caiosPhone = fcm.device("android");
  await asUser(caio.claims, (db) => db.query("select public.register_push_device($1, 'android')", [caiosPhone]));
  await confirmPhone(dora, DORA);
  await asUser(dora.claims, async (db) => {
    await db.query("select public.set_whatsapp_opt_in(true, 'sms')");
    await db.query("select public.set_notification_preference('event_announcement', 'whatsapp', true)");
    await db.query("select public.set_notification_preference('event_changed', 'whatsapp', true)");
  });
  for (const guest of [ana, ben, caio, dora]) bookings.set(guest.id, (await bookEvent(guest, event.id, published.ticketTypeId)).id);
});

afterAll(async () => {
  await ownerQuery("delete from private.whatsapp_templates where type = 'event_changed' and content_sid = $1", [changeTemplate.sid]);
  await Promise.all([resend.close(), twilio.close(), fcm.close()]);
  await pool.end();
  await closePool();
  await closeTestPools();
});

/** Per guest id, the channels a type reached them on (sent by the provider), sorted. */
async function reached(type: string): Promise<Record<string, string[]>> {
  const { rows } = await ownerQuery<{ user_id: string; channels: string[] }>(
    `select d.user_id, array_agg(d.channel order by d.channel) as channels
       from private.alert_deliveries d join public.notifications n on n.id = d.notification_id
      where d.type = $1 and d.status = 'sent' and n.data ->> 'event_id' = $2
      group by d.user_id`, [type, event.id]);
  return Object.fromEntries(rows.map((row) => [row.user_id, row.channels]));
}

const emailTo = (user: TestUser, subject: string) => resend.emails.find((email) => email.to[0] === user.email && email.subject === subject);
const pushesTo = (token: string, type: string) =>
  fcm.messages.filter((m) => m.token === token && (m.message.data as Record<string, string> | undefined)?.type === type);
const textsTo = (phone: string) => twilio.messages.filter((message) => message.to === phone || message.to === `whatsapp:${phone}`);

describe("a host's announcement", () => {
  it("reaches every confirmed guest in-app, in the event chat and on each one's channels", async () => {
    const [sent] = (await asUser(host.claims, (db) => db.query<{ recipients: number; chat_message_id: string | null }>(
      "select * from public.send_event_announcement($1, 'Doors at 7', 'Come early: the sunset is at 7:40.')", [event.id]))).rows;
    expect(sent?.recipients).toBe(4);
    await dispatch();

    const { rows: inApp } = await ownerQuery<{ user_id: string }>(
      "select user_id from public.notifications where type = 'event_announcement' and data ->> 'event_id' = $1", [event.id]);
    expect(new Set(inApp.map((row) => row.user_id))).toEqual(new Set([ana.id, ben.id, caio.id, dora.id]));

    for (const guest of [ana, ben, caio, dora]) expect(emailTo(guest, "Rooftop jazz: Doors at 7")?.text).toContain("Come early: the sunset is at 7:40.");
    expect(textsTo(BEN).map((m) => m.body)).toEqual([`Rally: Rooftop jazz: Doors at 7 — Come early: the sunset is at 7:40. https://rally.example/bookings/${bookings.get(ben.id)}`]);
    expect(pushesTo(caiosPhone, "event_announcement").map((m) => m.message.notification))
      .toEqual([{ title: "Rooftop jazz: Doors at 7", body: "Come early: the sunset is at 7:40." }]);
    // No WhatsApp template for announcements and no window open: Dora gets it by SMS, as she chose.
    expect(textsTo(DORA).map((m) => [m.to, m.contentSid])).toEqual([[DORA, null]]);

    const { rows: [dorasView] } = await asUser(dora.claims, (db) => db.query<{ reason: string }>(
      "select reason from public.my_alert_deliveries() where type = 'event_announcement' and channel = 'whatsapp'"));
    expect(dorasView?.reason).toMatch(/sent by SMS instead/);

    const { rows: [post] } = await ownerQuery<{ body: string; kind: string }>("select body, kind from public.messages where id = $1", [sent?.chat_message_id]);
    expect(post).toEqual({ body: "Doors at 7\n\nCome early: the sunset is at 7:40.", kind: "system" });
    const { rows: [stats] } = await asUser(host.claims, (db) => db.query<{ announcements: number; announcement_reach: number }>(
      "select announcements::int, announcement_reach::int from public.host_event_stats($1)", [event.id]));
    expect(stats).toMatchObject({ announcements: 1, announcement_reach: 4 });
  });
});

describe("a change of time", () => {
  it("reaches every booked guest on each one's channels, with the new time in their own zone and the refund window", async () => {
    const newStart = new Date(event.starts_at.getTime() + 2 * 3600 * 1000);
    await asUser(host.claims, (db) => db.query(
      "select public.change_event_details($1, p_starts_at => $2, p_ends_at => $3, p_reason => 'The band arrives late.')",
      [event.id, newStart, new Date(newStart.getTime() + 3 * 3600 * 1000)]));
    await dispatch();

    expect(await reached("event_changed")).toEqual({
      [ana.id]: ["email"], [ben.id]: ["email", "sms"], [caio.id]: ["email", "push"], [dora.id]: ["email", "whatsapp"],
    });
    const local = (zone: string, locale: string) => formatEventTime(newStart.toISOString(), zone, locale);
    expect(emailTo(ana, "Rooftop jazz has changed")?.text).toContain(`New time: ${local("America/New_York", "en")}.`);
    expect(emailTo(ana, "Rooftop jazz has changed")?.text).toMatch(/You can cancel for a full refund until .*(EST|EDT)\./);
    expect(textsTo(BEN).at(-1)?.body).toContain(`New time: ${local("Europe/London", "en-GB")}.`);
    expect(pushesTo(caiosPhone, "event_changed").at(-1)?.message.notification)
      .toMatchObject({ title: "Rooftop jazz mudou", body: expect.stringContaining(`Nova hora: ${local("America/Sao_Paulo", "pt-BR")}.`) });
    // Dora: the approved template, with her variables, since she has not written to Rally in 24 hours.
    const whatsapp = textsTo(DORA).at(-1);
    expect(whatsapp).toMatchObject({ to: `whatsapp:${DORA}`, contentSid: changeTemplate.sid, status: "queued" });
    expect(whatsapp?.contentVariables).toEqual({
      1: "Dora", 2: "Rooftop jazz", 3: expect.stringContaining(`New time: ${local("Europe/Lisbon", "en")}.`),
      4: `https://rally.example/bookings/${bookings.get(dora.id)}`,
    });
  });
});
