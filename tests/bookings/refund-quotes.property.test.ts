/**
 * Refunds follow the event's refund policy (docs/events-and-bookings.md: refund policies):
 *   flexible  100% until 24 h before the start, then 0%
 *   moderate  100% until 7 days before, 50% until 24 h before, then 0%
 *   strict     50% until 7 days before, then 0%
 *   none        0%
 * and the refundable amount is the floor of amount × percent / 100, in the currency's minor
 * units. The pure SQL functions are checked as properties over random policies, amounts and
 * moments (many samples per query); then a guest's and a host's quote, and the refund request a
 * cancellation writes, are checked end to end against them.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerPool, ownerQuery, closeTestPools, failure, transaction } from "../support/db.ts";
import {
  bookEvent,
  confirmPayment,
  createGuests,
  createHost,
  inventory,
  publishedEvent,
  rpc,
  seatsLeft,
} from "../support/events.ts";
import type { TestUser } from "../support/users.ts";

afterAll(closeTestPools);

const POLICIES = ["flexible", "moderate", "strict", "none"] as const;
type Policy = (typeof POLICIES)[number];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The documented policy, as an oracle: percent refunded when cancelling `beforeMs` before the start. */
function policyPercent(policy: Policy, beforeMs: number): number {
  switch (policy) {
    case "flexible":
      return beforeMs >= 24 * HOUR ? 100 : 0;
    case "moderate":
      return beforeMs >= 7 * DAY ? 100 : beforeMs >= 24 * HOUR ? 50 : 0;
    case "strict":
      return beforeMs >= 7 * DAY ? 50 : 0;
    case "none":
      return 0;
  }
}

interface Sample {
  policy: Policy;
  amount: number;
  startsAt: number;
  /** when the guest cancels, in ms before the start (negative: after it started) */
  before: number;
  /** a later moment: this many ms after `before`'s moment */
  later: number;
}

/** Moments that sit on, just before and just after the policy boundaries, and anywhere else. */
const beforeArb = fc.oneof(
  fc.constantFrom(...[24 * HOUR, 7 * DAY].flatMap((b) => [b - 1, b, b + 1, b - 1000, b + 1000])),
  fc.integer({ min: -2 * DAY, max: 60 * DAY }),
);

/** Amounts in minor units: zero, tiny (zero-decimal currencies such as JPY), round, odd, up to 10^9. */
const amountArb = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 49, 50, 51, 99, 100, 101, 199, 999, 1_000_000_000),
  fc.integer({ min: 0, max: 1_000 }),
  fc.integer({ min: 0, max: 10_000_000 }).map((n) => n * 100),
  fc.integer({ min: 0, max: 1_000_000_000 }),
);

const sampleArb: fc.Arbitrary<Sample> = fc.record({
  policy: fc.constantFrom(...POLICIES),
  amount: amountArb,
  startsAt: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2031, 0, 1) }),
  before: beforeArb,
  later: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 10 * DAY })),
});

const batchArb = fc.array(sampleArb, { minLength: 1, maxLength: 40 });

interface Evaluated {
  percent: number;
  refund: bigint;
  laterPercent: number;
  laterRefund: bigint;
  byPolicy: Record<Policy, number>;
}

/** Evaluates a batch of samples through the SQL functions in one query (as the superuser). */
async function evaluate(samples: Sample[], timezone = "UTC"): Promise<Evaluated[]> {
  return transaction(ownerPool(), async (client) => {
    await client.query("select set_config('timezone', $1, true)", [timezone]);
    const { rows } = await client.query<{
      percent: number; refund: string; later_percent: number; later_refund: string;
      flexible: number; moderate: number; strict: number; none: number;
    }>(
      `select private.refund_percent(c.policy, c.starts_at, c.at) as percent,
              private.refund_amount(c.amount, private.refund_percent(c.policy, c.starts_at, c.at)) as refund,
              private.refund_percent(c.policy, c.starts_at, c.later_at) as later_percent,
              private.refund_amount(c.amount, private.refund_percent(c.policy, c.starts_at, c.later_at)) as later_refund,
              private.refund_percent('flexible', c.starts_at, c.at) as flexible,
              private.refund_percent('moderate', c.starts_at, c.at) as moderate,
              private.refund_percent('strict', c.starts_at, c.at) as strict,
              private.refund_percent('none', c.starts_at, c.at) as none
         from unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[])
                with ordinality as c (policy, amount, starts_at, at, later_at, n)
        order by c.n`,
      [
        samples.map((s) => s.policy),
        samples.map((s) => String(s.amount)),
        samples.map((s) => new Date(s.startsAt).toISOString()),
        samples.map((s) => new Date(s.startsAt - s.before).toISOString()),
        samples.map((s) => new Date(s.startsAt - s.before + s.later).toISOString()),
      ],
    );
    return rows.map((r) => ({
      percent: r.percent,
      refund: BigInt(r.refund),
      laterPercent: r.later_percent,
      laterRefund: BigInt(r.later_refund),
      byPolicy: { flexible: r.flexible, moderate: r.moderate, strict: r.strict, none: r.none },
    }));
  });
}

/** Checks `check` for every sample of every batch fast-check generates (shrinking whole batches). */
function forAllSamples(check: (sample: Sample, result: Evaluated) => void): Promise<void> {
  return fc.assert(
    fc.asyncProperty(batchArb, async (batch) => {
      const results = await evaluate(batch);
      batch.forEach((sample, i) => check(sample, results[i]!));
    }),
    { numRuns: 200 },
  );
}

describe("refund policy (pure functions, as properties)", () => {
  it("a guest is refunded what the event's policy promises at the moment they cancel", () =>
    forAllSamples((s, r) => {
      expect(r.percent).toBe(policyPercent(s.policy, s.before));
    }));

  it("the refund is never negative and never more than the guest paid", () =>
    forAllSamples((s, r) => {
      expect(r.refund >= 0n).toBe(true);
      expect(r.refund <= BigInt(s.amount)).toBe(true);
    }));

  it("the refund is the amount times the percentage, rounded down to a whole minor unit", () =>
    forAllSamples((s, r) => {
      expect([0, 50, 100]).toContain(r.percent);
      expect(r.refund).toBe((BigInt(s.amount) * BigInt(r.percent)) / 100n);
    }));

  it("cancelling later never refunds more than cancelling earlier", () =>
    forAllSamples((_s, r) => {
      expect(r.laterPercent).toBeLessThanOrEqual(r.percent);
      expect(r.laterRefund <= r.refund).toBe(true);
    }));

  it("at any moment, flexible refunds at least as much as moderate, moderate as strict, strict as none", () =>
    forAllSamples((_s, r) => {
      expect(r.byPolicy.flexible).toBeGreaterThanOrEqual(r.byPolicy.moderate);
      expect(r.byPolicy.moderate).toBeGreaterThanOrEqual(r.byPolicy.strict);
      expect(r.byPolicy.strict).toBeGreaterThanOrEqual(r.byPolicy.none);
      expect(r.byPolicy.none).toBe(0);
    }));

  it("a cancellation exactly on a deadline still gets the higher refund", async () => {
    const startsAt = Date.UTC(2027, 5, 15, 20, 0, 0);
    const at = (before: number, policy: Policy): Sample => ({ policy, amount: 1000, startsAt, before, later: 0 });
    const [flexOn, flexAfter, modOn7, modAfter7, modOn24, strictOn] = await evaluate([
      at(24 * HOUR, "flexible"), at(24 * HOUR - 1, "flexible"),
      at(7 * DAY, "moderate"), at(7 * DAY - 1, "moderate"), at(24 * HOUR, "moderate"),
      at(7 * DAY, "strict"),
    ]);
    expect([flexOn!.percent, flexAfter!.percent]).toEqual([100, 0]);
    expect([modOn7!.percent, modAfter7!.percent, modOn24!.percent]).toEqual([100, 50, 50]);
    expect(strictOn!.percent).toBe(50);
  });

  it("a guest's refund does not depend on the time zone of the database session", async () => {
    // Lisbon moves its clocks forward on 2026-03-29 at 01:00 UTC. An event starts that day at
    // 12:00 UTC and a guest cancels 167.5 hours (just under 7 days) before it: moderate → 50%.
    // "7 days before the start" must be the same instant for every session; a session in
    // Europe/Lisbon (PostgREST sets the session time zone from `Prefer: timezone=…`) must not
    // turn it into 167 hours and pay 100%.
    const sample: Sample = { policy: "moderate", amount: 10_000, startsAt: Date.UTC(2026, 2, 29, 12), before: 167.5 * HOUR, later: 0 };
    const results: Record<string, number> = {};
    for (const tz of ["UTC", "Europe/Lisbon", "America/New_York", "Pacific/Auckland"]) {
      results[tz] = (await evaluate([sample], tz))[0]!.percent;
    }
    expect(results).toEqual({ "UTC": 50, "Europe/Lisbon": 50, "America/New_York": 50, "Pacific/Auckland": 50 });
  });
});

interface Quote {
  booking_id: string;
  amount_cents: string;
  refundable_cents: string;
  currency: string;
  refund_policy: string;
  refund_percent: number;
  cancelled_by_host: boolean;
  full_refund_until: Date | null;
  partial_refund_until: Date | null;
}

describe("refund quotes and cancellations, end to end", () => {
  let host: TestUser;
  beforeAll(async () => {
    host = await createHost("refund_host");
  });

  /** A confirmed paid booking (held, then paid) for an event starting in `startsInDays`. */
  async function paidBooking(policy: Policy, currency: string, priceCents: number, quantity: number, startsInDays = 3) {
    const [guest] = await createGuests(1, "refund");
    const startsAt = new Date(Date.now() + startsInDays * DAY);
    const { event, ticketTypeId } = await publishedEvent(
      host,
      { refund_policy: policy, starts_at: startsAt },
      { capacity: 10, max_per_booking: 5, price_cents: priceCents, currency },
    );
    const held = await bookEvent(guest!, event.id, ticketTypeId, quantity);
    expect(await confirmPayment(held.id)).toBe(true);
    return { guest: guest!, event, ticketTypeId, booking: held };
  }

  /** What the pure functions say for this booking now. */
  async function policyNow(bookingId: string): Promise<{ percent: number; refundable: string }> {
    const { rows } = await ownerQuery<{ percent: number; refundable: string }>(
      `select private.refund_percent(e.refund_policy, e.starts_at, now()) as percent,
              private.refund_amount(b.amount_cents, private.refund_percent(e.refund_policy, e.starts_at, now())) as refundable
         from public.bookings b join private.events e on e.id = b.event_id where b.id = $1`,
      [bookingId],
    );
    return rows[0]!;
  }

  async function refundRequests(bookingId: string) {
    return (await ownerQuery<{ amount_cents: string; currency: string; reason: string; requested_by: string; status: string }>(
      "select amount_cents, currency, reason, requested_by, status from private.refund_requests where booking_id = $1",
      [bookingId],
    )).rows;
  }

  const cases: { policy: Policy; currency: string; price: number; quantity: number; percent: number; refundable: number }[] = [
    { policy: "flexible", currency: "EUR", price: 1999, quantity: 3, percent: 100, refundable: 5997 },
    { policy: "moderate", currency: "EUR", price: 1999, quantity: 3, percent: 50, refundable: 2998 },
    { policy: "moderate", currency: "JPY", price: 333, quantity: 3, percent: 50, refundable: 499 },
    { policy: "strict", currency: "EUR", price: 1999, quantity: 3, percent: 0, refundable: 0 },
    { policy: "none", currency: "EUR", price: 1999, quantity: 3, percent: 0, refundable: 0 },
  ];

  for (const { policy, currency, price, quantity, percent, refundable } of cases) {
    it(`three days before a ${policy} event, a guest who paid ${quantity} × ${price} ${currency} is quoted ${refundable} back, and cancelling requests exactly that`, async () => {
      const { guest, event, ticketTypeId, booking } = await paidBooking(policy, currency, price, quantity);

      const [quote] = await rpc<Quote>(guest, "select * from public.refund_quote($1)", [booking.id]);
      const pure = await policyNow(booking.id);
      expect(quote).toMatchObject({
        booking_id: booking.id,
        amount_cents: String(price * quantity),
        currency,
        refund_policy: policy,
        refund_percent: pure.percent,
        refundable_cents: pure.refundable,
        cancelled_by_host: false,
      });
      expect(quote!.refund_percent).toBe(percent);
      expect(quote!.refundable_cents).toBe(String(refundable));
      const starts = event.starts_at.getTime();
      const deadlines: Record<Policy, [number | null, number | null]> = {
        flexible: [starts - DAY, null],
        moderate: [starts - 7 * DAY, starts - DAY],
        strict: [null, starts - 7 * DAY],
        none: [null, null],
      };
      expect([quote!.full_refund_until?.getTime() ?? null, quote!.partial_refund_until?.getTime() ?? null]).toEqual(deadlines[policy]);

      // The host (or a managing co-host) cancelling would refund in full.
      const [hostQuote] = await rpc<Quote>(host, "select * from public.refund_quote($1)", [booking.id]);
      expect(hostQuote).toMatchObject({ refund_percent: 100, refundable_cents: String(price * quantity), cancelled_by_host: true });

      // The guest cancels: the refund request carries exactly the quoted amount, and the seats come back.
      expect(await seatsLeft(ticketTypeId)).toBe(10 - quantity);
      const [cancelled] = await rpc<{ status: string }>(guest, "select * from public.cancel_booking($1)", [booking.id]);
      expect(cancelled).toMatchObject({ status: "cancelled", cancel_reason: "guest_cancelled" });
      const requests = await refundRequests(booking.id);
      if (refundable > 0) {
        expect(requests).toEqual([
          { amount_cents: quote!.refundable_cents, currency, reason: "guest_cancelled", requested_by: guest.id, status: "pending" },
        ]);
      } else {
        expect(requests).toEqual([]);
      }
      expect(await seatsLeft(ticketTypeId)).toBe(10);
      expect(await inventory(ticketTypeId)).toMatchObject({ taken: 0, allocated: 0 });
    });
  }

  it("the host cancelling a guest's paid booking requests a full refund, whatever the policy", async () => {
    const { guest, ticketTypeId, booking } = await paidBooking("none", "EUR", 2500, 2);

    await rpc(host, "select * from public.cancel_booking($1)", [booking.id]);

    expect(await refundRequests(booking.id)).toEqual([
      { amount_cents: "5000", currency: "EUR", reason: "host_cancelled", requested_by: host.id, status: "pending" },
    ]);
    expect(await seatsLeft(ticketTypeId)).toBe(10);
    const notes = await rpc<{ body: string | null }>(guest, "select body from public.notifications where type = 'booking_cancelled'");
    expect(notes).toEqual([{ body: "You will get a full refund." }]);
  });

  it("an unpaid hold is quoted nothing, and cancelling it requests no refund", async () => {
    const [guest] = await createGuests(1, "unpaid");
    const { event, ticketTypeId } = await publishedEvent(host, { refund_policy: "flexible" }, { capacity: 4, price_cents: 1200 });
    const held = await bookEvent(guest!, event.id, ticketTypeId, 2);

    const [quote] = await rpc<Quote>(guest!, "select * from public.refund_quote($1)", [held.id]);
    expect(quote).toMatchObject({ amount_cents: "2400", refund_percent: 0, refundable_cents: "0" });
    await rpc(guest!, "select * from public.cancel_booking($1)", [held.id]);
    expect(await refundRequests(held.id)).toEqual([]);
    expect(await seatsLeft(ticketTypeId)).toBe(4);
  });

  it("a booking can be cancelled once: the second cancellation is refused and no second refund is requested", async () => {
    const { guest, booking } = await paidBooking("flexible", "EUR", 1000, 1);
    await rpc(guest, "select * from public.cancel_booking($1)", [booking.id]);

    expect(await failure(rpc(guest, "select * from public.cancel_booking($1)", [booking.id])))
      .toMatchObject({ code: "P0001", hint: "not_cancellable" });
    expect(await refundRequests(booking.id)).toHaveLength(1);
  });

  it("nobody else can see a guest's quote or cancel their booking", async () => {
    const { booking } = await paidBooking("flexible", "EUR", 1000, 1);
    const [stranger] = await createGuests(1, "stranger");

    expect(await failure(rpc(stranger!, "select * from public.refund_quote($1)", [booking.id])))
      .toMatchObject({ code: "42501", hint: "not_your_booking" });
    expect(await failure(rpc(stranger!, "select * from public.cancel_booking($1)", [booking.id])))
      .toMatchObject({ code: "42501", hint: "not_your_booking" });
  });
});
