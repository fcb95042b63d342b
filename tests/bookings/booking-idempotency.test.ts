/**
 * book_event's idempotency key: an app that retries a booking (flaky network, double tap) gets
 * the booking its first call made, never a second one; a key is bound to what it booked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools, failure } from "../support/db.ts";
import {
  BOOK_SQL,
  type BookingRow,
  bookEvent,
  createGuests,
  createHost,
  inventory,
  publishedEvent,
  type RacingClients,
  racingClients,
  seatsLeft,
} from "../support/events.ts";
import type { TestUser } from "../support/users.ts";

let host: TestUser;
let race: RacingClients;

beforeAll(async () => {
  host = await createHost("idem_host");
  race = await racingClients(10);
});

afterAll(async () => {
  await race?.end();
  await closeTestPools();
});

async function bookingsOf(guestId: string, eventId: string): Promise<{ id: string; quantity: number; status: string }[]> {
  const { rows } = await ownerQuery<{ id: string; quantity: number; status: string }>(
    "select id, quantity, status from public.bookings where guest_id = $1 and event_id = $2 order by created_at",
    [guestId, eventId],
  );
  return rows;
}

describe("retrying a booking with the same idempotency key", () => {
  it("a guest who retries gets the same booking back, and only one seat is taken", async () => {
    const [guest] = await createGuests(1, "retry");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5 });

    const first = await bookEvent(guest!, event.id, ticketTypeId, 2, "tap-1");
    const retry = await bookEvent(guest!, event.id, ticketTypeId, 2, "tap-1");

    expect(retry.id).toBe(first.id);
    expect(retry).toMatchObject({ status: "confirmed", quantity: 2, check_in_code: first.check_in_code });
    expect(await bookingsOf(guest!.id, event.id)).toHaveLength(1);
    expect(await seatsLeft(ticketTypeId)).toBe(3);
  });

  it("ten concurrent retries with one key make exactly one booking, and all ten answer with it", async () => {
    // Three guests each fire a burst of ten identical calls, all thirty at once.
    const burst = await createGuests(3, "burst");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5 });

    const calls = burst.flatMap((guest) => Array.from({ length: 10 }, () =>
      race.asUser(guest.claims, (db) => db.query<BookingRow>(BOOK_SQL, [event.id, ticketTypeId, 1, "double-tap"]))));
    const settled = await Promise.allSettled(calls);

    const errors = settled.filter((s) => s.status === "rejected").map((s) => (s.reason as Error).message);
    expect(errors).toEqual([]);
    const ids = settled.map((s) => (s.status === "fulfilled" ? s.value.rows[0]?.id : undefined));
    for (const [i, guest] of burst.entries()) {
      const stored = await bookingsOf(guest.id, event.id);
      expect(stored).toHaveLength(1);
      expect(new Set(ids.slice(i * 10, i * 10 + 10))).toEqual(new Set([stored[0]!.id]));
    }
    expect(await seatsLeft(ticketTypeId)).toBe(2);
    expect((await inventory(ticketTypeId)).allocated).toBe(3);
  });

  it("ten concurrent retries for a paid ticket hold the seats once", async () => {
    const [guest] = await createGuests(1, "burstpaid");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5, price_cents: 2500 });

    const settled = await Promise.allSettled(Array.from({ length: 10 }, () =>
      race.asUser(guest!.claims, (db) => db.query<BookingRow>(BOOK_SQL, [event.id, ticketTypeId, 3, "pay-once"]))));

    expect(settled.filter((s) => s.status === "rejected").map((s) => (s.reason as Error).message)).toEqual([]);
    const stored = await bookingsOf(guest!.id, event.id);
    expect(stored).toEqual([{ id: expect.any(String), quantity: 3, status: "held" }]);
    expect(new Set(settled.map((s) => (s.status === "fulfilled" ? s.value.rows[0]?.id : undefined)))).toEqual(new Set([stored[0]!.id]));
    expect(await seatsLeft(ticketTypeId)).toBe(2);
  });

  it("reusing a key for a different quantity is refused with idempotency_key_reused, and nothing changes", async () => {
    const [guest] = await createGuests(1, "reuse");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5 });
    const first = await bookEvent(guest!, event.id, ticketTypeId, 1, "k-1");

    const err = await failure(bookEvent(guest!, event.id, ticketTypeId, 2, "k-1"));

    expect(err).toMatchObject({ code: "P0001", hint: "idempotency_key_reused" });
    expect(await bookingsOf(guest!.id, event.id)).toEqual([{ id: first.id, quantity: 1, status: "confirmed" }]);
    expect(await seatsLeft(ticketTypeId)).toBe(4);
  });

  it("reusing a key for another event is refused with idempotency_key_reused", async () => {
    const [guest] = await createGuests(1, "reuse2");
    const a = await publishedEvent(host, {}, { capacity: 5 });
    const b = await publishedEvent(host, {}, { capacity: 5 });
    await bookEvent(guest!, a.event.id, a.ticketTypeId, 1, "shared-key");

    expect(await failure(bookEvent(guest!, b.event.id, b.ticketTypeId, 1, "shared-key")))
      .toMatchObject({ code: "P0001", hint: "idempotency_key_reused" });
    expect(await seatsLeft(b.ticketTypeId)).toBe(5);
  });

  it("the same key used by two different guests makes two bookings (keys are per guest)", async () => {
    const [ana, ben] = await createGuests(2, "samekey");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5 });

    const a = await bookEvent(ana!, event.id, ticketTypeId, 1, "checkout-1");
    const b = await bookEvent(ben!, event.id, ticketTypeId, 1, "checkout-1");

    expect(a.id).not.toBe(b.id);
    expect([a.guest_id, b.guest_id]).toEqual([ana!.id, ben!.id]);
    expect(await seatsLeft(ticketTypeId)).toBe(3);
  });
});

describe("one active booking per guest per event", () => {
  it("a guest who already booked and tries again with a new key is told already_booked", async () => {
    const [guest] = await createGuests(1, "twice");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5 });
    await bookEvent(guest!, event.id, ticketTypeId, 1, "first");

    const err = await failure(bookEvent(guest!, event.id, ticketTypeId, 1, "second"));

    expect(err).toMatchObject({ code: "P0001", hint: "already_booked" });
    expect(await bookingsOf(guest!.id, event.id)).toHaveLength(1);
    expect(await seatsLeft(ticketTypeId)).toBe(4);
  });

  it("a guest who books twice without keys is told already_booked the second time", async () => {
    const [guest] = await createGuests(1, "nokey");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5 });
    await bookEvent(guest!, event.id, ticketTypeId, 1);

    expect(await failure(bookEvent(guest!, event.id, ticketTypeId, 1))).toMatchObject({ code: "P0001", hint: "already_booked" });
  });

  it("after cancelling, the guest can book again with a new key, while the old key still answers with the cancelled booking", async () => {
    const [guest] = await createGuests(1, "again");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5 });
    const first = await bookEvent(guest!, event.id, ticketTypeId, 1, "old");
    await race.asUser(guest!.claims, (db) => db.query("select * from public.cancel_booking($1)", [first.id]));

    const second = await bookEvent(guest!, event.id, ticketTypeId, 1, "new");
    const replay = await bookEvent(guest!, event.id, ticketTypeId, 1, "old");

    expect(second).toMatchObject({ status: "confirmed" });
    expect(second.id).not.toBe(first.id);
    expect(replay).toMatchObject({ id: first.id, status: "cancelled" });
    expect(await seatsLeft(ticketTypeId)).toBe(4);
  });

  it("an invalid key or quantity is bad input (22023), and signing in is required (42501)", async () => {
    const [guest] = await createGuests(1, "bad");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5 });

    expect(await failure(bookEvent(guest!, event.id, ticketTypeId, 1, ""))).toMatchObject({ code: "22023", hint: "invalid_idempotency_key" });
    expect(await failure(bookEvent(guest!, event.id, ticketTypeId, 0))).toMatchObject({ code: "22023", hint: "invalid_quantity" });
    expect(await failure(bookEvent(guest!, event.id, ticketTypeId, 6))).toMatchObject({ code: "P0001", hint: "over_max_per_booking" });
    const anon = race.asUser({ role: "anon", iss: "supabase-demo" }, (db) => db.query(BOOK_SQL, [event.id, ticketTypeId, 1, null]));
    expect(await failure(anon)).toMatchObject({ code: "42501", hint: "not_authenticated" });
  });
});
