/**
 * Random Stripe faults while refunds, transfers, reversals and payouts are executed
 * (fast-check): 5xx before anything runs, 5xx after it ran (saved and replayed for that key —
 * the indeterminate case), and timeouts after it ran. Whatever the faults, no money moves twice
 * at Stripe (one refund per refund, one payout per payout, transfers never beyond the host's
 * share), the ledger agrees with what Stripe actually did, and it stays balanced.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultSpec } from "../../tools/stripe-standin/server.ts";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import {
  ledgerInvariantViolations, makeCommandsDue, type PaymentsHarness, resetPaymentSettings, setPaymentSettings, startPayments, walletOf,
} from "../support/payments.ts";
import { createUser, type TestUser } from "../support/users.ts";

let h: PaymentsHarness;

beforeAll(async () => {
  h = await startPayments();
  process.env.STRIPE_TIMEOUT_MS = "400";
  await setPaymentSettings({ command_max_attempts: 3, command_backoff_base_seconds: 1, command_backoff_max_seconds: 2 });
});

afterAll(async () => {
  await resetPaymentSettings();
  await h.close();
  await closeTestPools();
});

const faultArb: fc.Arbitrary<FaultSpec> = fc.record({
  path: fc.constantFrom("/v1/refunds", "/v1/payouts", "/v1/transfers"),
  mode: fc.constantFrom<FaultSpec["mode"]>("error_before", "error_after", "timeout"),
  times: fc.integer({ min: 1, max: 3 }),
}).map((f) => ({ ...f, method: "POST", delayMs: 900 }));

/** Runs the worker until this host's commands are all done (succeeded or dead). */
async function drain(hostId: string): Promise<void> {
  for (let round = 0; round < 15; round += 1) {
    await h.work();
    await makeCommandsDue();
    const { rows } = await ownerQuery<{ n: string }>(
      "select count(*) as n from private.payment_commands where host_id = $1 and status in ('pending', 'processing')", [hostId]);
    if (Number(rows[0]?.n) === 0) {
      await h.settle();
      return;
    }
  }
  throw new Error("commands did not drain");
}

describe("Stripe faults during refunds and payouts", () => {
  it("never move money twice, and the ledger follows what Stripe did", async () => {
    await fc.assert(fc.asyncProperty(fc.array(faultArb, { minLength: 1, maxLength: 4 }), async (faults) => {
      const host = await h.readyHost();
      const [g1, g2] = [await createUser(), await createUser()] as [TestUser, TestUser];
      const gig = await h.paidEvent(host, { price: 4000, policy: "flexible" });
      const cancelled = await h.bookAndPay(g1, gig);
      const kept = await h.bookAndPay(g2, gig);
      for (const fault of faults) h.standin.injectFault(fault);
      try {
        await asUser(g1.claims, (db) => db.query("select public.cancel_booking($1)", [cancelled.bookingId]));
        await h.endEvent(gig.eventId);
        await h.release();
        await drain(host.id);
        await asUser(host.claims, (db) => db.query("select public.request_payout(2000, 'EUR')"));
        await drain(host.id);
        await ownerQuery("select admin.refund_booking($1, 1000)", [kept.bookingId]);
        await drain(host.id);
      } finally {
        h.standin.clearFaults();
      }
      await h.settle();

      // At Stripe: at most one refund per Rally refund, one payout per Rally payout.
      const stripeRefunds = [...h.standin.store.refunds.values()].filter((r) => [cancelled.paymentIntentId, kept.paymentIntentId].includes(r.payment_intent));
      const perRefund = new Map<string, number>();
      for (const r of stripeRefunds) perRefund.set(r.metadata.refund_id ?? "?", (perRefund.get(r.metadata.refund_id ?? "?") ?? 0) + 1);
      expect([...perRefund.values()].every((n) => n === 1)).toBe(true);
      const account = await ownerQuery<{ account_id: string }>("select account_id from private.stripe_accounts where host_id = $1", [host.id]);
      const stripePayouts = [...h.standin.store.payouts.values()].filter((p) => p.account === account.rows[0]?.account_id);
      expect(stripePayouts.length).toBeLessThanOrEqual(1);
      const transfers = [...h.standin.store.transfers.values()].filter((t) => t.destination === account.rows[0]?.account_id);
      const netTransferred = transfers.reduce((sum, t) => sum + t.amount - t.amount_reversed, 0);
      expect(netTransferred).toBeLessThanOrEqual(3600);

      // The ledger follows Stripe: refunds Stripe made are settled, the others were put back.
      const { rows: refunds } = await ownerQuery<{ id: string; status: string; amount_cents: string }>(
        "select id, status, amount_cents from private.refunds where booking_id = any($1)", [[cancelled.bookingId, kept.bookingId]]);
      for (const refund of refunds) {
        const atStripe = stripeRefunds.some((r) => r.metadata.refund_id === refund.id && r.status === "succeeded");
        expect(refund.status, `refund ${refund.id}`).toBe(atStripe ? "succeeded" : "failed");
      }
      const { rows: payouts } = await ownerQuery<{ status: string; amount_cents: string }>("select status, amount_cents from private.payouts where host_id = $1", [host.id]);
      expect(payouts).toHaveLength(1);
      expect(payouts[0]?.status).toBe(stripePayouts.some((p) => p.payout.status === "paid") ? "paid" : "failed");

      // The host's wallet adds up: their share of what was kept, minus their share of settled refunds.
      const refundedHostPart = refunds.filter((r) => r.status === "succeeded").reduce((sum, r) => sum + Math.floor(Number(r.amount_cents) * 3600 / 4000), 0);
      const wallet = await walletOf(host);
      expect(wallet.pending + wallet.available + wallet.in_transit + wallet.paid_out).toBe(7200 - refundedHostPart);
      expect(wallet.paid_out).toBe(payouts[0]?.status === "paid" ? 2000 : 0);
      // What the ledger says was transferred is what Stripe holds for the host.
      const { rows: transferred } = await ownerQuery<{ transferred: string }>(
        "select transferred from private.host_wallet($1, 'EUR')", [host.id]);
      expect(Number(transferred[0]?.transferred)).toBe(netTransferred);
      expect(await ledgerInvariantViolations()).toEqual([]);
    }), { numRuns: 8 });
  });
});
