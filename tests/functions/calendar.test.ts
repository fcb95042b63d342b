/**
 * The calendar function: a guest's booking as an .ics and the tokenized subscription feed,
 * against the real database. Every file is read back with ical.js (Mozilla's RFC 5545 parser),
 * so what calendar apps parse is what is asserted — not the generator's own idea of it.
 */
import ICAL from "ical.js";
import { afterAll, describe, expect, it } from "vitest";
import { type CalendarEntry, entryDescription, eventUid, renderCalendar } from "../../functions/_shared/calendar.ts";
import { closePool } from "../../functions/_shared/db.ts";
import { handler, parseCalendarPath } from "../../functions/calendar/handler.ts";
import { asUser, closeTestPools } from "../support/db.ts";
import { bookEvent, createHost, publishedEvent } from "../support/events.ts";
import { createUser, type TestUser } from "../support/users.ts";

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

const get = (path: string, token?: string): Promise<Response> =>
  handler(new Request(`http://127.0.0.1:54321${path}`, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  }));

interface ParsedEvent {
  uid: string;
  summary: string;
  start: string;
  end: string;
  status: string;
  sequence: number;
  location: string | null;
  geo: unknown;
  description: string;
}

/** Parses an iCalendar body the way a calendar app does; throws on anything malformed. */
function parseIcs(text: string): { name: string | null; events: ParsedEvent[] } {
  const calendar = new ICAL.Component(ICAL.parse(text));
  expect(calendar.name).toBe("vcalendar");
  expect(calendar.getFirstPropertyValue("version")).toBe("2.0");
  const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    return {
      uid: event.uid,
      summary: event.summary,
      start: event.startDate.toJSDate().toISOString(),
      end: event.endDate.toJSDate().toISOString(),
      status: String(vevent.getFirstPropertyValue("status")),
      sequence: event.sequence,
      location: event.location ?? null,
      geo: vevent.getFirstPropertyValue("geo"),
      description: event.description,
    };
  });
  const name = calendar.getFirstPropertyValue("x-wr-calname");
  return { name: typeof name === "string" ? name : null, events };
}

const entry = (over: Partial<CalendarEntry> = {}): CalendarEntry => ({
  event_id: "8f1f4a52-6a54-4f0e-9d8e-0c7d3b1f2a10",
  booking_id: null,
  role: "guest",
  title: "Fado, vinho; e amigos",
  description: "Bring a friend.\nDoors at 20:00.",
  starts_at: new Date("2026-10-25T00:30:00Z"),
  ends_at: new Date("2026-10-25T02:30:00Z"),
  timezone: "Europe/Lisbon",
  location: "Tasca do Chico, Rua do Diário de Notícias 39, Lisboa",
  latitude: 38.7115,
  longitude: -9.1449,
  online_url: null,
  status: "CONFIRMED",
  sequence: 3,
  last_modified: new Date("2026-10-01T10:00:00Z"),
  host_name: "Leo",
  quantity: 2,
  ...over,
});

describe("rendering (functions/_shared/calendar.ts)", () => {
  it("writes a VEVENT a calendar parser reads back exactly: UID, UTC times, SEQUENCE, STATUS, place", () => {
    const { events } = parseIcs(renderCalendar([entry()], { appUrl: "https://app.rally.example" }));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      uid: "8f1f4a52-6a54-4f0e-9d8e-0c7d3b1f2a10@rally",
      summary: "Fado, vinho; e amigos",
      start: "2026-10-25T00:30:00.000Z",
      end: "2026-10-25T02:30:00.000Z",
      status: "CONFIRMED",
      sequence: 3,
      location: "Tasca do Chico, Rua do Diário de Notícias 39, Lisboa",
    });
    expect(events[0]?.geo).toEqual([38.7115, -9.1449]);
    expect(events[0]?.description).toContain("Bring a friend.\nDoors at 20:00.");
    expect(events[0]?.description).toContain("https://app.rally.example/events/8f1f4a52-6a54-4f0e-9d8e-0c7d3b1f2a10");
  });

  it("an empty calendar is still a valid calendar", () => {
    expect(parseIcs(renderCalendar([], { appUrl: "https://a.example", name: "Rally" }))).toEqual({ name: "Rally", events: [] });
  });

  it("describes the booking: tickets, host, tentative and cancelled states, the online link", () => {
    expect(entryDescription(entry({ status: "TENTATIVE", quantity: 1 }), "https://a.example"))
      .toContain("Hosted by Leo. 1 ticket. Not confirmed yet: the address is shown once your booking is confirmed.");
    expect(entryDescription(entry({ role: "staff", quantity: null }), "https://a.example")).toContain("You are hosting this event.");
    expect(entryDescription(entry({ online_url: "https://meet.example/x", location: null }), "https://a.example"))
      .toContain("Join online: https://meet.example/x");
    const { events } = parseIcs(renderCalendar([entry({ online_url: "https://meet.example/x", location: null, latitude: null, longitude: null })],
      { appUrl: "https://a.example" }));
    expect(events[0]).toMatchObject({ location: "https://meet.example/x", geo: null });
    expect(eventUid("x")).toBe("x@rally");
  });

  it("reads the two paths it serves and nothing else", () => {
    const token = "A".repeat(43);
    expect(parseCalendarPath(`/calendar/feed/${token}.ics`)).toEqual({ kind: "feed", token });
    expect(parseCalendarPath(`/functions/v1/calendar/feed/${token}`)).toEqual({ kind: "feed", token });
    expect(parseCalendarPath("/calendar/bookings/8f1f4a52-6a54-4f0e-9d8e-0c7d3b1f2a10.ics"))
      .toEqual({ kind: "bookings", id: "8f1f4a52-6a54-4f0e-9d8e-0c7d3b1f2a10" });
    for (const bad of ["/calendar", "/calendar/feed/short.ics", "/calendar/bookings/nope.ics", `/calendar/other/${token}`,
      `/calendar/feed/${"A".repeat(42)}!.ics`]) {
      expect(parseCalendarPath(bad)).toBeNull();
    }
  });
});

describe("GET /functions/v1/calendar against the database", () => {
  let host: TestUser;
  let confirmed: TestUser;
  let pending: TestUser;
  let eventId: string;
  let approvalEventId: string;
  let confirmedBooking: string;
  let pendingBooking: string;

  it("sets up a published event with an exact address, a confirmed guest and a pending one", async () => {
    host = await createHost();
    confirmed = await createUser();
    pending = await createUser();
    const open = await publishedEvent(host, { title: "Rooftop jazz" });
    const approval = await publishedEvent(host, { title: "Supper club", requires_approval: true });
    eventId = open.event.id;
    approvalEventId = approval.event.id;
    confirmedBooking = (await bookEvent(confirmed, eventId, open.ticketTypeId, 2)).id;
    pendingBooking = (await bookEvent(pending, approvalEventId, approval.ticketTypeId, 1)).id;
  });

  it("gives a confirmed guest their booking with the exact address, as text/calendar", async () => {
    const res = await get(`/calendar/bookings/${confirmedBooking}.ics`, confirmed.token);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const { events } = parseIcs(await res.text());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ uid: `${eventId}@rally`, summary: "Rooftop jazz", status: "CONFIRMED" });
    expect(events[0]?.location).toBe("Musicbox, Rua Nova do Carvalho 24, Lisboa");
    expect(events[0]?.geo).toEqual([38.7069, -9.1446]);
    expect(events[0]?.description).toContain("2 tickets.");
  });

  it("gives a pending guest a tentative entry without the address", async () => {
    const { events } = parseIcs(await (await get(`/calendar/bookings/${pendingBooking}.ics`, pending.token)).text());
    expect(events[0]).toMatchObject({ status: "TENTATIVE", location: "Musicbox, Lisboa", geo: null });
  });

  it("refuses other people's bookings, unknown ones and anonymous callers with the JSON error contract", async () => {
    const other = await get(`/calendar/bookings/${confirmedBooking}.ics`, pending.token);
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: { code: "not_your_booking" } });
    const unknown = await get(`/calendar/bookings/${crypto.randomUUID()}.ics`, confirmed.token);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "booking_not_found" } });
    const anonymous = await get(`/calendar/bookings/${confirmedBooking}.ics`);
    expect(anonymous.status).toBe(401);
    expect((await get("/calendar/nothing-here", confirmed.token)).status).toBe(404);
    expect((await handler(new Request(`http://127.0.0.1/calendar/bookings/${confirmedBooking}.ics`, { method: "POST" }))).status).toBe(405);
  });

  it("serves a subscription feed by its token alone, and stops when the token is replaced or revoked", async () => {
    const { rows: [feed] } = await asUser(confirmed.claims, (db) => db.query<{ token: string; path: string }>("select * from public.create_calendar_feed()"));
    if (feed === undefined) throw new Error("no feed");
    const path = feed.path.replace(/^\/functions\/v1/, "");
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
    const parsed = parseIcs(await res.text());
    expect(parsed.name).toBe("Rally");
    expect(parsed.events.map((e) => [e.uid, e.status])).toEqual([[`${eventId}@rally`, "CONFIRMED"]]);

    const { rows: [next] } = await asUser(confirmed.claims, (db) => db.query<{ path: string }>("select * from public.create_calendar_feed()"));
    const replaced = await get(path);
    expect(replaced.status).toBe(404);
    expect(await replaced.json()).toMatchObject({ error: { code: "feed_not_found" } });
    expect((await get(String(next?.path).replace(/^\/functions\/v1/, ""))).status).toBe(200);

    await asUser(confirmed.claims, (db) => db.query("select public.revoke_calendar_feed()"));
    expect((await get(String(next?.path).replace(/^\/functions\/v1/, ""))).status).toBe(404);
  });

  it("the host's feed lists the events they host, with the address", async () => {
    const { rows: [feed] } = await asUser(host.claims, (db) => db.query<{ path: string }>("select * from public.create_calendar_feed()"));
    const { events } = parseIcs(await (await get(String(feed?.path).replace(/^\/functions\/v1/, ""))).text());
    expect(events.map((e) => e.summary).sort()).toEqual(["Rooftop jazz", "Supper club"]);
    expect(events.every((e) => e.location?.includes("Rua Nova do Carvalho 24"))).toBe(true);
    // The same UID as the guest's own file: a calendar holding both shows the event once.
    expect(events.map((e) => e.uid)).toContain(`${eventId}@rally`);
  });
});
