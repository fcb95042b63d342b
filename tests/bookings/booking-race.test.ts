/**
 * Bookings never oversell, whatever the concurrency: many guests call book_event at the same
 * moment over real parallel connections (each call one PostgREST-like request), and the seats
 * handed out never exceed the capacity, the inventory slots stay consistent with the bookings,
 * and everyone turned away hears "sold_out".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { applyRequestContext } from "../../functions/_shared/db.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import {
  BOOK_SQL,
  type BookingRow,
  createGuests,
  createHost,
  inventory,
  publishedEvent,
  rpc,
  type RacingClients,
  racingClients,
  seatsLeft,
} from "../support/events.ts";
import type { TestUser } from "../support/users.ts";

let host: TestUser;
let guests: TestUser[];
let race: RacingClients;

beforeAll(async () => {
  host = await createHost("race_host");
  guests = await createGuests(200, "racer");
  race = await racingClients(40);
});

afterAll(async () => {
  await race?.end();
  await closeTestPools();
});

interface Outcome {
  guest: TestUser;
  quantity: number;
  booking?: BookingRow;
  error?: { code: string; hint: string | undefined };
}

/** Every party calls book_event at once; resolves when all have an answer. */
async function rush(eventId: string, ticketTypeId: string, parties: { guest: TestUser; quantity: number }[]): Promise<Outcome[]> {
  const calls = parties.map(({ guest, quantity }) =>
    race.asUser(guest.claims, (db) => db.query<BookingRow>(BOOK_SQL, [eventId, ticketTypeId, quantity, null])));
  const settled = await Promise.allSettled(calls);
  return settled.map((result, i) => {
    const party = parties[i]!;
    if (result.status === "fulfilled") return { ...party, booking: result.value.rows[0]! };
    const e = result.reason as { code?: string; hint?: string; message: string };
    if (e.code === undefined) throw result.reason;
    return { ...party, error: { code: e.code, hint: e.hint } };
  });
}

/** Seats in the event's bookings with one of `statuses`. */
async function bookedSeats(eventId: string, statuses: string[]): Promise<{ bookings: number; seats: number }> {
  const { rows } = await ownerQuery<{ bookings: number; seats: number }>(
    `select count(*)::int as bookings, coalesce(sum(quantity), 0)::int as seats
       from public.bookings where event_id = $1 and status = any ($2)`,
    [eventId, statuses],
  );
  return rows[0]!;
}

/** A small deterministic pseudo-random sequence, so a failure reproduces. */
function partySizes(n: number, max: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return (x % max) + 1;
  });
}

describe("racing for a free event", () => {
  it("200 guests racing for 20 seats: exactly 20 get in and 180 are told it is sold out", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 20, max_per_booking: 1 });

    const outcomes = await rush(event.id, ticketTypeId, guests.map((guest) => ({ guest, quantity: 1 })));

    const winners = outcomes.filter((o) => o.booking !== undefined);
    const losers = outcomes.filter((o) => o.error !== undefined);
    expect(winners).toHaveLength(20);
    expect(winners.every((o) => o.booking!.status === "confirmed" && o.booking!.guest_id === o.guest.id)).toBe(true);
    expect(losers).toHaveLength(180);
    expect(losers.map((o) => o.error)).toEqual(Array(180).fill({ code: "P0001", hint: "sold_out" }));

    expect(await bookedSeats(event.id, ["confirmed"])).toEqual({ bookings: 20, seats: 20 });
    expect(await seatsLeft(ticketTypeId)).toBe(0);
    const inv = await inventory(ticketTypeId);
    expect(inv.capacity).toBe(20);
    expect(inv.taken).toBe(20);
    expect(inv.allocated).toBe(20);
    expect(inv.slots.filter((s) => s.taken > s.capacity || s.taken < 0)).toEqual([]);
  });

  it("parties of 1 to 3 racing for 25 seats never get more than 25, and leave fewer seats than any party turned away", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 25, max_per_booking: 3 });
    const sizes = partySizes(120, 3, 42);
    const parties = guests.slice(0, 120).map((guest, i) => ({ guest, quantity: sizes[i]! }));

    const outcomes = await rush(event.id, ticketTypeId, parties);

    const winners = outcomes.filter((o) => o.booking !== undefined);
    const losers = outcomes.filter((o) => o.error !== undefined);
    const seatsWon = winners.reduce((sum, o) => sum + o.quantity, 0);
    expect(winners.every((o) => o.booking!.status === "confirmed" && o.booking!.quantity === o.quantity)).toBe(true);
    expect(seatsWon).toBeLessThanOrEqual(25);
    expect(losers.length).toBeGreaterThan(0);
    expect(new Set(losers.map((o) => `${o.error!.code}/${o.error!.hint}`))).toEqual(new Set(["P0001/sold_out"]));

    const left = await seatsLeft(ticketTypeId);
    expect(left).toBe(25 - seatsWon);
    expect(left).toBeLessThan(3);
    // Whoever was turned away asked for more than was left at the end: seats only ever go down.
    expect(left).toBeLessThan(Math.min(...losers.map((o) => o.quantity)));

    expect(await bookedSeats(event.id, ["confirmed"])).toEqual({ bookings: winners.length, seats: seatsWon });
    const inv = await inventory(ticketTypeId);
    expect(inv.taken).toBe(seatsWon);
    expect(inv.allocated).toBe(seatsWon);
    expect(inv.slots.filter((s) => s.taken > s.capacity || s.taken < 0)).toEqual([]);
  });

  it("guests cancelling while others rush for their seats: the event is never over capacity and the books balance", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 10, max_per_booking: 1 });
    const first = guests.slice(0, 10);
    const firstIn = await rush(event.id, ticketTypeId, first.map((guest) => ({ guest, quantity: 1 })));
    expect(firstIn.every((o) => o.booking?.status === "confirmed")).toBe(true);

    const cancellations = firstIn.map((o) =>
      race.asUser(o.guest.claims, (db) => db.query("select * from public.cancel_booking($1)", [o.booking!.id])));
    const newcomers = rush(event.id, ticketTypeId, guests.slice(10, 60).map((guest) => ({ guest, quantity: 1 })));
    const [cancelled, rushed] = await Promise.all([Promise.allSettled(cancellations), newcomers]);

    expect(cancelled.filter((c) => c.status === "rejected")).toEqual([]);
    const refused = rushed.filter((o) => o.error !== undefined);
    expect(new Set(refused.map((o) => o.error!.hint))).toEqual(refused.length > 0 ? new Set(["sold_out"]) : new Set());
    const gotIn = rushed.length - refused.length;
    expect(gotIn).toBeLessThanOrEqual(10);

    const confirmed = await bookedSeats(event.id, ["confirmed"]);
    expect(confirmed.seats).toBe(gotIn);
    const inv = await inventory(ticketTypeId);
    expect(inv.taken).toBe(gotIn);
    expect(inv.allocated).toBe(gotIn);
    expect(await seatsLeft(ticketTypeId)).toBe(10 - gotIn);
  });
});

describe("racing for a paid event", () => {
  it("80 guests racing for 15 paid seats: the seats held for payment never exceed 15", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 15, max_per_booking: 2, price_cents: 1500 });
    const sizes = partySizes(80, 2, 7);
    const parties = guests.slice(100, 180).map((guest, i) => ({ guest, quantity: sizes[i]! }));
    const before = Date.now();

    const outcomes = await rush(event.id, ticketTypeId, parties);

    const holders = outcomes.filter((o) => o.booking !== undefined);
    const heldSeats = holders.reduce((sum, o) => sum + o.quantity, 0);
    expect(heldSeats).toBeLessThanOrEqual(15);
    expect(heldSeats).toBeGreaterThanOrEqual(14);
    for (const o of holders) {
      expect(o.booking).toMatchObject({ status: "held", quantity: o.quantity, amount_cents: String(1500 * o.quantity), currency: "EUR" });
      const expiresIn = o.booking!.hold_expires_at!.getTime() - before;
      expect(expiresIn).toBeGreaterThan(14 * 60_000);
      expect(expiresIn).toBeLessThan(16 * 60_000);
    }
    expect(new Set(outcomes.filter((o) => o.error).map((o) => o.error!.hint))).toEqual(new Set(["sold_out"]));

    expect(await bookedSeats(event.id, ["held", "confirmed", "pending_approval"])).toEqual({ bookings: holders.length, seats: heldSeats });
    const inv = await inventory(ticketTypeId);
    expect(inv.taken).toBe(heldSeats);
    expect(inv.allocated).toBe(heldSeats);
    expect(await seatsLeft(ticketTypeId)).toBe(15 - heldSeats);
  });
});

describe("what a guest turned away hears", () => {
  it("in a rush for the last seats, everyone turned away is told sold_out, never a database deadlock", async () => {
    // Rounds of 80 guests (parties of 1 or 2) for 15 seats, free and paid. The inventory must
    // answer every loser with sold_out; a 40P01 deadlock_detected reaches the app as a server
    // error, and the guest's attempt is lost although seats may have been left.
    // The deadlock needs an unlucky interleaving, so keep rushing (up to 12 rounds) until one
    // round shows it; with a sound inventory all 12 rounds pass.
    const unexpected: string[] = [];
    for (let round = 0; round < 12 && unexpected.length === 0; round++) {
      const price = round % 2 === 0 ? 1500 : 0;
      const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 15, max_per_booking: 2, price_cents: price });
      const sizes = partySizes(80, 2, 100 + round);
      const offset = (round % 6) * 20;
      const parties = guests.slice(offset, offset + 80).map((guest, i) => ({ guest, quantity: sizes[i]! }));
      const outcomes = await rush(event.id, ticketTypeId, parties);
      for (const o of outcomes) {
        if (o.error !== undefined && (o.error.code !== "P0001" || o.error.hint !== "sold_out")) {
          unexpected.push(`round ${round} (${price > 0 ? "paid" : "free"}): ${o.error.code} ${o.error.hint ?? ""}`);
        }
      }
      const inv = await inventory(ticketTypeId);
      expect(inv.taken).toBeLessThanOrEqual(15);
      expect(inv.allocated).toBe(inv.taken);
    }
    expect(unexpected).toEqual([]);
  });
});

describe("the hold-expiry job and guests at the same moment", () => {
  /** A connection of its own, so the test can decide who waits for whom. */
  async function connection(url: string): Promise<{ client: pg.Client; pid: number }> {
    const client = new pg.Client({ connectionString: url, application_name: "rally-tests-lock-order" });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
    return { client, pid: rows[0]!.pid };
  }

  /** Resolves once backend `pid` is blocked waiting for a lock. */
  async function blocked(pid: number): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const { rows } = await ownerQuery<{ waiting: boolean }>(
        "select wait_event_type = 'Lock' as waiting from pg_stat_activity where pid = $1", [pid]);
      if (rows[0]?.waiting === true) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`backend ${pid} never waited for a lock`);
  }

  const outcome = (p: Promise<unknown>): Promise<string> =>
    p.then(() => "ok", (e: { code?: string; hint?: string }) => `${e.code ?? "error"}${e.hint ? ` ${e.hint}` : ""}`);

  it("the expiry job frees two lapsed holds while a guest tries for the last seat: both finish, neither hits a deadlock", async () => {
    // 16 seats in 8 slots of 2, held by 8 paid bookings; slot 3's holder cancels. The holds in
    // the highest and the lowest slot lapse; the job releases them (locking every slot in order)
    // while a guest waits for slot 3, which another request holds for a moment.
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 16, max_per_booking: 2, price_cents: 1000 });
    const holders = guests.slice(0, 8);
    for (const guest of holders) await rpc(guest, BOOK_SQL, [event.id, ticketTypeId, 2, null]);
    const { rows: bySlot } = await ownerQuery<{ booking_id: string; slot: number }>(
      "select booking_id, slot from private.booking_allocations where ticket_type_id = $1 order by slot", [ticketTypeId]);
    expect(bySlot.map((r) => r.slot)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const lowest = bySlot[0]!.booking_id;
    const highest = bySlot[7]!.booking_id;
    const latecomer = guests[8]!;
    // The holder of slot 3 cancels, so the latecomer sees two free seats (book_event refuses at
    // once, before locking anything, when the committed inventory has none) and must wait for
    // slot 3, which another request holds.
    const slot3 = bySlot[3]!.booking_id;
    const { rows: [slot3Holder] } = await ownerQuery<{ guest_id: string }>("select guest_id from public.bookings where id = $1", [slot3]);
    const slot3Guest = holders.find((g) => g.id === slot3Holder!.guest_id)!;
    await rpc(slot3Guest, "select * from public.cancel_booking($1)", [slot3]);

    // Another request holds slot 3 for a moment (stood in for by a plain row lock), so the
    // guest's call is still gathering slots when the job starts.
    const other = await connection(testEnv("RALLY_DB_URL"));
    const guestConn = await connection(testEnv("SUPABASE_DB_URL"));
    const jobConn = await connection(testEnv("RALLY_DB_URL"));
    try {
      await other.client.query("begin");
      await other.client.query("select 1 from private.ticket_inventory where ticket_type_id = $1 and slot = 3 for update", [ticketTypeId]);
      const booking = outcome((async () => {
        await guestConn.client.query("begin");
        await applyRequestContext(guestConn.client, latecomer.claims);
        await guestConn.client.query(BOOK_SQL, [event.id, ticketTypeId, 1, null]);
        await guestConn.client.query("commit");
      })());
      await blocked(guestConn.pid);

      await ownerQuery(
        `update public.bookings set hold_expires_at = now() - case when id = $1 then interval '2 minutes' else interval '1 minute' end
          where id in ($1, $2)`, [highest, lowest]);
      const job = outcome(jobConn.client.query("select private.expire_stale_bookings()"));
      await blocked(jobConn.pid);
      await other.client.query("commit");

      const results = { job: await job, guest: await booking };
      expect(results.job).toBe("ok");
      expect(["ok", "P0001 sold_out"]).toContain(results.guest);
    } finally {
      for (const conn of [other, guestConn, jobConn]) await conn.client.end().catch(() => {});
    }
    const inv = await inventory(ticketTypeId);
    expect(inv.allocated).toBe(inv.taken);
    expect(inv.taken).toBeLessThanOrEqual(16);
  });
});
