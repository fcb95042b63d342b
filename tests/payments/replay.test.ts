/**
 * Exactly-once webhooks: every event of a whole money path delivered again five times in a
 * shuffled order changes nothing (ledger and state identical, every redelivery a duplicate),
 * and a payment phase whose events first arrive shuffled and repeated books exactly what the
 * same phase books when events arrive once, in order.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEvent } from "../../tools/stripe-standin/store.ts";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { ledgerInvariantViolations, ledgerSnapshot, type PaymentsHarness, resetPaymentSettings, startPayments } from "../support/payments.ts";
import { shuffled } from "../support/shuffle.ts";
import { createUser, type TestUser } from "../support/users.ts";

let h: PaymentsHarness;

beforeAll(async () => {
  h = await startPayments();
});

afterAll(async () => {
  await resetPaymentSettings();
  await h.close();
  await closeTestPools();
});

async function stateSnapshot(): Promise<unknown[]> {
  const { rows } = await ownerQuery(
    `select 'booking' as what, id::text, status from public.bookings
     union all select 'payment', id::text, status || coalesce(':' || released_at::text, '') from private.payments
     union all select 'refund', id::text, status from private.refunds
     union all select 'payout', id::text, status from private.payouts
     union all select 'dispute', id, status from private.disputes
     union all select 'transfer', id, amount_reversed_cents::text from private.stripe_transfers
     union all select 'account', account_id, payouts_enabled::text || transfers_capability from private.stripe_accounts
     order by 1, 2`);
  return rows;
}

async function requestPayout(host: TestUser, amount: number): Promise<void> {
  await asUser(host.claims, (db) => db.query("select public.request_payout($1, 'EUR')", [amount]));
}

describe("replaying every event five times, shuffled", () => {
  it("changes neither the ledger nor any state, and every redelivery is answered as a duplicate", async () => {
    const firstEvent = h.standin.store.events.length;
    const host = await h.readyHost();
    const guests = await Promise.all([createUser(), createUser(), createUser(), createUser()]);
    const gig = await h.paidEvent(host, { price: 2000, policy: "flexible" });
    const kept = await h.bookAndPay(guests[0] as TestUser, gig);
    const refunded = await h.bookAndPay(guests[1] as TestUser, gig);
    await h.bookAndPay(guests[2] as TestUser, gig, { paymentMethod: "pm_card_createDispute" });
    const late = await h.bookAndPay(guests[3] as TestUser, gig);
    await asUser((guests[1] as TestUser).claims, (db) => db.query("select public.cancel_booking($1)", [refunded.bookingId]));
    await h.work();
    const dispute = [...h.standin.store.disputes.values()].at(-1);
    await h.stripe.disputes.update(dispute?.id ?? "", { evidence: { uncategorized_text: "winning_evidence" }, submit: true });
    await h.settle();
    await h.endEvent(gig.eventId);
    await h.release();
    await h.work();
    await ownerQuery("select admin.refund_booking($1, 500)", [late.bookingId]);
    await h.work();
    await requestPayout(host, 1000);
    await h.work();
    await h.settle();
    expect(kept.bookingId).not.toBe("");

    const events = h.standin.store.events.slice(firstEvent) as StripeEvent[];
    const types = new Set(events.map((e) => e.type));
    for (const type of ["account.updated", "capability.updated", "payment_intent.succeeded", "charge.refunded", "refund.created",
      "charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.closed", "charge.dispute.funds_reinstated",
      "transfer.created", "transfer.reversed", "payout.paid"]) {
      expect(types, `the scenario produced ${type}`).toContain(type);
    }
    const ledgerBefore = await ledgerSnapshot();
    const stateBefore = await stateSnapshot();
    expect(await ledgerInvariantViolations()).toEqual([]);

    const replay = Array.from({ length: 5 }, (_, round) => shuffled(events, 7919 * (round + 1))).flat();
    const statuses: (number | null)[] = [];
    for (const event of replay) statuses.push(await h.standin.deliver(event));
    expect(new Set(statuses)).toEqual(new Set([200]));
    const { rows } = await ownerQuery<{ n: string }>("select count(*) as n from private.stripe_events where id = any($1)", [events.map((e) => e.id)]);
    expect(Number(rows[0]?.n)).toBe(events.length);

    expect(await ledgerSnapshot()).toEqual(ledgerBefore);
    expect(await stateSnapshot()).toEqual(stateBefore);
  });
});

describe("events arriving out of order and repeated on first delivery", () => {
  /** The host's ledger movements, without ids: (transaction kind, account kind, amount), sorted. */
  async function hostMovements(hostId: string): Promise<string[]> {
    const { rows } = await ownerQuery<{ line: string }>(
      `select t.kind || ' ' || a.kind || ' ' || e.amount as line
         from private.ledger_entries e join private.ledger_transactions t on t.id = e.transaction_id
         join private.ledger_accounts a on a.id = e.account_id
        where t.host_id = $1 or t.payment_id in (select id from private.payments where host_id = $1)
        order by 1`, [hostId]);
    return rows.map((r) => r.line);
  }

  async function payPhase(host: TestUser): Promise<string[]> {
    const guests = await Promise.all([createUser(), createUser(), createUser()]);
    const gig = await h.paidEvent(host, { price: 3100 });
    const ids: string[] = [];
    for (const [i, guest] of guests.entries()) {
      const bookingId = await h.book(guest, gig, i + 1);
      const checkout = await h.checkout(guest, bookingId);
      await h.stripe.paymentIntents.confirm(String(checkout.body.payment_intent_id),
        { payment_method: i === 2 ? "pm_card_createDispute" : "pm_card_visa" });
      ids.push(bookingId);
    }
    return ids;
  }

  it("books the same movements as in-order delivery, for any order (fast-check)", async () => {
    const inOrderHost = await h.readyHost();
    await payPhase(inOrderHost);
    await h.settle();
    const expected = await hostMovements(inOrderHost.id);
    expect(expected.length).toBeGreaterThan(0);

    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), async (seed) => {
      const host = await h.readyHost();
      h.standin.setDelivery("manual");
      let bookings: string[];
      let queued: StripeEvent[];
      try {
        bookings = await payPhase(host);
        await h.settle();
        queued = h.standin.queued();
        expect(queued.length).toBeGreaterThanOrEqual(11);
        const replay = Array.from({ length: 5 }, (_, round) => shuffled(queued, seed + round)).flat();
        for (const event of replay) expect(await h.standin.deliver(event)).toBe(200);
      } finally {
        h.standin.setDelivery("auto");
      }
      expect(await hostMovements(host.id)).toEqual(expected);
      const { rows } = await ownerQuery<{ status: string }>("select status from public.bookings where id = any($1)", [bookings]);
      expect(rows.map((r) => r.status)).toEqual(["confirmed", "confirmed", "confirmed"]);
      expect(await ledgerInvariantViolations()).toEqual([]);
    }), { numRuns: 4 });
  });
});
