/**
 * Promo codes are never over-redeemed, whatever the concurrency — the same guarantees as seats
 * (booking-race.test.ts): many guests use one code at the same moment over real parallel
 * connections, and the tickets booked with it never exceed its maximum, everyone turned away
 * hears promo_code_used_up (or sold_out), nothing is half-written, and cancellations and the
 * expiry job running at the same time neither over-admit nor deadlock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import {
  createGuests, createHost, expireHold, inventory, publishedEvent, type RacingClients, racingClients, rpc, runExpiryJob,
} from "../support/events.ts";
import { addPromoCode, BOOK_WITH_CODE_SQL, type PromoBookingRow } from "../support/ticketing.ts";
import type { TestUser } from "../support/users.ts";

let host: TestUser;
let guests: TestUser[];
let race: RacingClients;

beforeAll(async () => {
  host = await createHost("promo_race_host");
  guests = await createGuests(160, "promo_racer");
  race = await racingClients(40);
});

afterAll(async () => {
  await race?.end();
  await closeTestPools();
});

interface Outcome {
  guest: TestUser;
  quantity: number;
  booking?: PromoBookingRow;
  error?: { code: string; hint: string | undefined };
}

/** Every party calls book_event with the code at once; resolves when all have an answer. */
async function rush(eventId: string, ticketTypeId: string, code: string, parties: { guest: TestUser; quantity: number }[]): Promise<Outcome[]> {
  const calls = parties.map(({ guest, quantity }) =>
    race.asUser(guest.claims, (db) => db.query<PromoBookingRow>(BOOK_WITH_CODE_SQL, [eventId, ticketTypeId, quantity, null, code])));
  const settled = await Promise.allSettled(calls);
  return settled.map((result, i) => {
    const party = parties[i]!;
    if (result.status === "fulfilled") return { ...party, booking: result.value.rows[0]! };
    const e = result.reason as { code?: string; hint?: string };
    if (e.code === undefined) throw result.reason;
    return { ...party, error: { code: e.code, hint: e.hint } };
  });
}

/** Tickets in live bookings that used the code, as the database counts them. */
async function redeemed(promoCodeId: string): Promise<{ bookings: number; tickets: number }> {
  const { rows } = await ownerQuery<{ bookings: number; tickets: number }>(
    `select count(*)::int as bookings, coalesce(sum(quantity), 0)::int as tickets from public.bookings
      where promo_code_id = $1 and status in ('held', 'pending_approval', 'confirmed')`, [promoCodeId]);
  return rows[0]!;
}

function partySizes(n: number, max: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return (x % max) + 1;
  });
}

describe("racing for a promo code", () => {
  it("160 guests racing for a code good for 15 tickets: exactly 15 get it, 145 are told it is used up", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 500, max_per_booking: 1, price_cents: 2000 });
    const codeId = await addPromoCode(host, event.id, { code: "FIRST15", percent_off: 25, max_redemptions: 15 });

    const outcomes = await rush(event.id, ticketTypeId, "first15", guests.map((guest) => ({ guest, quantity: 1 })));

    const winners = outcomes.filter((o) => o.booking !== undefined);
    const losers = outcomes.filter((o) => o.error !== undefined);
    expect(winners).toHaveLength(15);
    expect(winners.every((o) => o.booking!.status === "held" && o.booking!.amount_cents === "1500" && o.booking!.discount_cents === "500"))
      .toBe(true);
    expect(losers.map((o) => o.error)).toEqual(Array(145).fill({ code: "P0001", hint: "promo_code_used_up" }));
    expect(await redeemed(codeId)).toEqual({ bookings: 15, tickets: 15 });
    // Those turned away wrote nothing: no booking, no seat taken.
    const { rows } = await ownerQuery<{ n: number }>("select count(*)::int as n from public.bookings where event_id = $1", [event.id]);
    expect(rows[0]!.n).toBe(15);
    expect((await inventory(ticketTypeId)).taken).toBe(15);
  });

  it("parties of 1 to 3 racing for 20 uses never get more than 20 tickets, and whoever was refused asked for more than was left", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 500, max_per_booking: 3, price_cents: 1000 });
    const codeId = await addPromoCode(host, event.id, { code: "PARTY20", percent_off: 10, max_redemptions: 20 });
    const sizes = partySizes(100, 3, 11);

    const outcomes = await rush(event.id, ticketTypeId, "PARTY20", guests.slice(0, 100).map((guest, i) => ({ guest, quantity: sizes[i]! })));

    const winners = outcomes.filter((o) => o.booking !== undefined);
    const losers = outcomes.filter((o) => o.error !== undefined);
    const won = winners.reduce((sum, o) => sum + o.quantity, 0);
    expect(won).toBeLessThanOrEqual(20);
    expect(new Set(losers.map((o) => o.error!.hint))).toEqual(new Set(["promo_code_used_up"]));
    // Uses only ever go up during the rush, so every refusal asked for more than what is left now.
    expect(20 - won).toBeLessThan(Math.min(...losers.map((o) => o.quantity)));
    expect(await redeemed(codeId)).toEqual({ bookings: winners.length, tickets: won });
    expect((await inventory(ticketTypeId)).taken).toBe(won);
  });

  it("when seats run out before the code does, seats decide: never oversold, never over-redeemed", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 12, max_per_booking: 2, price_cents: 1000 });
    const codeId = await addPromoCode(host, event.id, { code: "MANY", percent_off: 10, max_redemptions: 18 });
    const sizes = partySizes(80, 2, 5);

    const outcomes = await rush(event.id, ticketTypeId, "MANY", guests.slice(40, 120).map((guest, i) => ({ guest, quantity: sizes[i]! })));

    const won = outcomes.filter((o) => o.booking !== undefined).reduce((sum, o) => sum + o.quantity, 0);
    expect(won).toBeLessThanOrEqual(12);
    expect(new Set(outcomes.filter((o) => o.error).map((o) => o.error!.hint))).toEqual(new Set(["sold_out"]));
    expect((await redeemed(codeId)).tickets).toBe(won);
    const inv = await inventory(ticketTypeId);
    expect(inv.taken).toBe(won);
    expect(inv.allocated).toBe(won);
  });

  it("guests cancelling and holds expiring while others rush for the freed uses: never above the maximum, never a deadlock", async () => {
    // Rounds of 60 guests for a code of 10 uses, while the 10 first holders cancel or lapse and
    // the expiry job runs: every refusal must be a Rally code, the uses must never exceed 10.
    const unexpected: string[] = [];
    for (let round = 0; round < 4 && unexpected.length === 0; round++) {
      const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 300, max_per_booking: 1, price_cents: 1500 });
      const codeId = await addPromoCode(host, event.id, { code: `ROUND${round}`, percent_off: 50, max_redemptions: 10 });
      const first = guests.slice(round * 10, round * 10 + 10);
      const firstIn = await rush(event.id, ticketTypeId, `ROUND${round}`, first.map((guest) => ({ guest, quantity: 1 })));
      expect(firstIn.every((o) => o.booking !== undefined)).toBe(true);
      // Half lapse (the job expires them), half cancel, while 60 newcomers rush.
      for (const o of firstIn.slice(0, 5)) await expireHold(o.booking!.id);
      const cancels = firstIn.slice(5).map((o) =>
        race.asUser(o.guest.claims, (db) => db.query("select * from public.cancel_booking($1)", [o.booking!.id])));
      const newcomers = rush(event.id, ticketTypeId, `ROUND${round}`, guests.slice(100, 160).map((guest) => ({ guest, quantity: 1 })));
      const job = runExpiryJob().then(() => "ok", (e: { code?: string }) => e.code ?? "error");
      const [cancelled, jobOutcome, rushed] = await Promise.all([Promise.allSettled(cancels), job, newcomers]);
      expect(cancelled.filter((c) => c.status === "rejected")).toEqual([]);
      expect(jobOutcome).toBe("ok");
      for (const o of rushed) {
        if (o.error !== undefined && o.error.hint !== "promo_code_used_up") unexpected.push(`round ${round}: ${o.error.code} ${o.error.hint ?? ""}`);
      }
      const now = await redeemed(codeId);
      expect(now.tickets).toBeLessThanOrEqual(10);
      expect(now.tickets).toBe(rushed.filter((o) => o.booking !== undefined).length + (await redeemedFrom(firstIn.map((o) => o.booking!.id))));
    }
    expect(unexpected).toEqual([]);
  });

  it("a code without a maximum takes no lock: 40 guests at once all get it", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 100, max_per_booking: 1, price_cents: 1000 });
    await addPromoCode(host, event.id, { code: "EVERYONE", amount_off_cents: 300 });
    const outcomes = await rush(event.id, ticketTypeId, "everyone", guests.slice(120, 160).map((guest) => ({ guest, quantity: 1 })));
    expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.booking!.amount_cents))).toEqual(new Set(["700"]));
    const [row] = await rpc<{ n: number }>(host, "select count(*)::int as n from public.bookings where event_id = $1", [event.id]);
    expect(row!.n).toBe(40);
  });
});

/** How many of these bookings are still live (a cancellation may have lost to nothing: it never fails). */
async function redeemedFrom(bookingIds: string[]): Promise<number> {
  const { rows } = await ownerQuery<{ n: number }>(
    "select count(*)::int as n from public.bookings where id = any ($1) and status in ('held', 'pending_approval', 'confirmed')", [bookingIds]);
  return rows[0]!.n;
}
