/**
 * Recurring series under concurrency, over real parallel connections:
 *
 * - five hosts' devices asking at once to repeat the same event make one series (the event row is
 *   locked before the rule is expanded; the others hear already_in_series);
 * - guests booking the later dates while the host cancels "this and following" leave no live
 *   booking in a cancelled date, no seat counted in its inventory, and every guest whose booking
 *   was cancelled is told — each booking either commits before the cancellation locks its date
 *   (and is cancelled with it) or waits and finds the date cancelled.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler } from "../../functions/event-series/handler.ts";
import { closeTestPools, ownerPool } from "../support/db.ts";
import {
  BOOK_SQL, createEvent, createGuests, createHost, addTicketType, inventory, publishEvent, type RacingClients, racingClients,
} from "../support/events.ts";
import type { TestUser } from "../support/users.ts";

let race: RacingClients;

beforeAll(async () => {
  race = await racingClients(24);
});

afterAll(async () => {
  await race?.end();
  await closePool();
  await closeTestPools();
});

const DAY = 24 * 3600 * 1000;

async function weeklySeries(host: TestUser, weeks: number, capacity: number): Promise<{ first: string; dates: string[] }> {
  const start = new Date(Date.now() + 10 * DAY);
  const event = await createEvent(host, { starts_at: start, ends_at: new Date(start.getTime() + 2 * 3600 * 1000), timezone: "Europe/Lisbon" });
  await addTicketType(host, event.id, { capacity, max_per_booking: 2 });
  await publishEvent(host, event.id);
  const res = await handler(new Request("http://127.0.0.1/event-series", {
    method: "POST",
    headers: { Authorization: `Bearer ${host.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ event_id: event.id, rrule: `FREQ=WEEKLY;COUNT=${weeks}` }),
  }));
  expect(res.status).toBe(201);
  const body = (await res.json()) as { occurrences: { event_id: string }[] };
  return { first: event.id, dates: body.occurrences.map((o) => o.event_id) };
}

describe("making a series twice at once", () => {
  it("makes exactly one", async () => {
    const host = await createHost();
    const start = new Date(Date.now() + 12 * DAY);
    const event = await createEvent(host, { starts_at: start, ends_at: new Date(start.getTime() + 3600 * 1000) });
    await addTicketType(host, event.id);
    await publishEvent(host, event.id);
    const answers = await Promise.all(Array.from({ length: 5 }, () => handler(new Request("http://127.0.0.1/event-series", {
      method: "POST",
      headers: { Authorization: `Bearer ${host.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ event_id: event.id, rrule: "FREQ=DAILY;COUNT=6" }),
    }))));
    const codes = await Promise.all(answers.map(async (r) => r.status === 201 ? "created" : ((await r.json()) as { error: { code: string } }).error.code));
    expect(codes.filter((c) => c === "created")).toHaveLength(1);
    expect(codes.filter((c) => c === "already_in_series")).toHaveLength(4);
    const { rows } = await ownerPool().query<{ n: string }>("select count(*) as n from private.events where series_id = $1", [event.id]);
    expect(rows[0]?.n).toBe("6");
  });
});

describe("guests booking while the host cancels this and following", () => {
  it("leaves no live booking and no taken seat in a cancelled date", async () => {
    const host = await createHost();
    const guests = await createGuests(20, "series_racer");
    const { dates } = await weeklySeries(host, 4, 30);
    const ticketOf = new Map<string, string>();
    for (const id of dates) {
      const { rows } = await ownerPool().query<{ id: string }>("select id from public.ticket_types where event_id = $1", [id]);
      ticketOf.set(id, rows[0]?.id ?? "");
    }
    // Guests spread over dates 2–4; the host cancels from date 3 in the middle of the rush.
    const bookings = guests.map((guest, i) => {
      const date = dates[1 + (i % 3)] ?? "";
      return race.asUser(guest.claims, (db) => db.query(BOOK_SQL, [date, ticketOf.get(date), 1 + (i % 2), null]))
        .then(() => "booked", (err: { hint?: string }) => err.hint ?? "error");
    });
    const cancel = race.asUser(host.claims, (db) =>
      db.query("select id from public.cancel_event_occurrences($1, 'following', 'Venue lost')", [dates[2]]));
    const outcomes = await Promise.all(bookings);
    await cancel;

    expect(outcomes.every((o) => o === "booked" || o === "event_cancelled")).toBe(true);
    const { rows: live } = await ownerPool().query<{ n: string }>(
      `select count(*) as n from public.bookings where event_id = any($1::uuid[]) and status in ('held', 'pending_approval', 'confirmed')`,
      [dates.slice(2)]);
    expect(live[0]?.n).toBe("0");
    for (const date of dates.slice(2)) {
      expect(await inventory(ticketOf.get(date) ?? "")).toMatchObject({ taken: 0, allocated: 0 });
    }
    // The second date goes ahead with every booking made for it, seats matching bookings.
    const second = await inventory(ticketOf.get(dates[1] ?? "") ?? "");
    const { rows: kept } = await ownerPool().query<{ seats: number }>(
      "select coalesce(sum(quantity), 0)::int as seats from public.bookings where event_id = $1 and status = 'confirmed'", [dates[1]]);
    expect(second.taken).toBe(kept[0]?.seats);
    expect(kept[0]?.seats).toBe(guests.reduce((sum, _g, i) => sum + (i % 3 === 0 ? 1 + (i % 2) : 0), 0));
    // Everyone whose booking of a cancelled date was cancelled is told.
    const { rows: untold } = await ownerPool().query<{ n: string }>(
      `select count(*) as n from public.bookings b
        where b.event_id = any($1::uuid[]) and b.status = 'cancelled'
          and not exists (select 1 from public.notifications n where n.user_id = b.guest_id and n.type = 'event_cancelled'
                            and n.data ->> 'booking_id' = b.id::text)`, [dates.slice(2)]);
    expect(untold[0]?.n).toBe("0");
  });
});
