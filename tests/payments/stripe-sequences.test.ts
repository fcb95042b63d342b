/**
 * Sequences real Stripe produces, driven end to end through Rally's functions over HTTP, the
 * database and the stand-in behaving as Stripe does: asynchronous capture (the fee arrives with
 * charge.updated), a payout refused for insufficient balance (the same idempotency key can only
 * replay that refusal, so a later attempt sends a new one), a payout reported paid and then
 * failed, refunds that stay pending and then succeed or fail, a refund failure delivered before
 * the refund's creation, a dispute lost, appealed and won, every dispute status of the pinned
 * API version and statuses Rally does not know, transfers after a negative share, and a charge
 * in another currency than the platform settles in (docs/stripe-sql-changes.md says which
 * change each proves).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHAPES_FILE } from "../../tools/stripe-standin/shapes/generate.ts";
import type { StripeApiShapes } from "../../tools/stripe-standin/shapes/read-stripe-types.ts";
import type { StripeEvent } from "../../tools/stripe-standin/store.ts";
import { cardFee, EUR_RATES } from "../../tools/stripe-standin/store.ts";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import {
  ledgerInvariantViolations, makeCommandsDue, type PaymentsHarness, platformBalances, resetPaymentSettings, setPaymentSettings, startPayments,
  walletOf,
} from "../support/payments.ts";
import { createUser, type TestUser } from "../support/users.ts";

let h: PaymentsHarness;

beforeAll(async () => {
  h = await startPayments();
  await setPaymentSettings({ platform_fee_bps: 1000, release_hold_hours: 48 });
});

afterAll(async () => {
  h.standin.store.options.refunds = "auto";
  await resetPaymentSettings();
  await h.close();
  await closeTestPools();
});

async function accountOf(host: TestUser): Promise<string> {
  const { rows } = await ownerQuery<{ account_id: string }>("select account_id from private.stripe_accounts where host_id = $1", [host.id]);
  return rows[0]?.account_id ?? "";
}

async function requestPayout(host: TestUser, amount: number, currency = "EUR"): Promise<string> {
  return asUser(host.claims, async (db) => {
    const { rows } = await db.query<{ payout_id: string }>("select payout_id from public.request_payout($1, $2)", [amount, currency]);
    return rows[0]?.payout_id ?? "";
  });
}

/** A host with one paid, released and transferred booking of `price`. */
async function hostWithReleasedEarnings(price: number): Promise<{ host: TestUser; account: string }> {
  const host = await h.readyHost();
  const gig = await h.paidEvent(host, { price });
  await h.bookAndPay(await createUser(), gig);
  await h.endEvent(gig.eventId);
  await h.release();
  await h.work();
  return { host, account: await accountOf(host) };
}

describe("asynchronous capture", () => {
  it("books Stripe's fee from the balance transaction that charge.updated brings after charge.succeeded carried none", async () => {
    const host = await h.readyHost();
    const gig = await h.paidEvent(host, { price: 4200 });
    const paid = await h.bookAndPay(await createUser(), gig);
    const succeeded = h.standin.store.events.find((e) => e.type === "charge.succeeded" && (e.data as { object: { payment_intent: string } }).object.payment_intent === paid.paymentIntentId);
    expect((succeeded?.data as { object: { balance_transaction: unknown } }).object.balance_transaction).toBeNull();
    expect(h.standin.store.events.some((e) => e.type === "charge.updated" && (e.data as { object: { payment_intent: string } }).object.payment_intent === paid.paymentIntentId)).toBe(true);
    await h.work();
    const { rows } = await ownerQuery<{ stripe_fee_cents: string; balance_transaction_id: string }>(
      "select stripe_fee_cents, balance_transaction_id from private.payments where id = $1", [paid.paymentId]);
    expect(rows[0]?.balance_transaction_id).toMatch(/^txn_/);
    expect(Number(rows[0]?.stripe_fee_cents)).toBe(cardFee(4200));
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});

describe("payouts", () => {
  it("a payout refused for insufficient balance is paid once the balance holds it, with one payout at Stripe (a new idempotency key for the later attempt)", async () => {
    const { host, account } = await hostWithReleasedEarnings(3000);
    expect((await walletOf(host)).available).toBe(2700);
    // The host's Stripe balance does not hold the money yet (e.g. the charge's funds are still pending).
    const held = h.standin.store.balance(account, "eur");
    h.standin.store.adjust(account, "eur", -held);
    const payoutId = await requestPayout(host, 2000);
    await h.work();
    const command = async () => (await ownerQuery<{ id: string; status: string; attempts: number; last_error_code: string; idempotency_key: string }>(
      "select id, status, attempts, last_error_code, idempotency_key from private.payment_commands where payout_id = $1", [payoutId])).rows;
    const [refused] = await command();
    expect(refused).toMatchObject({ status: "pending", attempts: 1, last_error_code: "balance_insufficient" });
    expect(refused?.idempotency_key).toBe(`${refused?.id}:2`);
    expect(await walletOf(host)).toEqual({ pending: 0, available: 700, in_transit: 2000, paid_out: 0 });
    // The new key runs the request again: refused again while the balance is short (and saved under that key).
    await makeCommandsDue();
    await h.work();
    expect((await command())[0]).toMatchObject({ status: "pending", attempts: 2, idempotency_key: `${refused?.id}:3` });
    h.standin.store.adjust(account, "eur", held);
    await makeCommandsDue();
    await h.work();
    await h.settle();
    expect((await command())[0]).toMatchObject({ status: "succeeded", attempts: 3, idempotency_key: `${refused?.id}:3` });
    const { rows: payout } = await ownerQuery<{ status: string }>("select status from private.payouts where id = $1", [payoutId]);
    expect(payout[0]?.status).toBe("paid");
    expect(await walletOf(host)).toEqual({ pending: 0, available: 700, in_transit: 0, paid_out: 2000 });
    expect([...h.standin.store.payouts.values()].filter((p) => p.account === account).map((p) => p.payout.amount)).toEqual([2000]);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  it("a payout first reported paid, then failed by the bank, goes from paid out back to available and the host is told", async () => {
    const { host, account } = await hostWithReleasedEarnings(3000);
    h.standin.store.paidThenFailingPayoutAccounts.add(account);
    try {
      await requestPayout(host, 1000);
      await h.work();
      await h.settle();
    } finally {
      h.standin.store.paidThenFailingPayoutAccounts.delete(account);
    }
    const sent = [...h.standin.store.payouts.values()].filter((p) => p.account === account).map((p) => p.payout.status);
    expect(sent).toEqual(["failed"]);
    expect(await walletOf(host)).toEqual({ pending: 0, available: 2700, in_transit: 0, paid_out: 0 });
    const { rows } = await ownerQuery<{ type: string }>("select type from public.notifications where user_id = $1 and type in ('payout_paid', 'payout_failed') order by created_at", [host.id]);
    expect(rows.map((r) => r.type)).toEqual(["payout_paid", "payout_failed"]);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});

describe("refunds that wait at Stripe", () => {
  it("stays pending while Stripe has not settled it, then succeeds (refund.updated), or fails (refund.failed) and is put back", async () => {
    h.standin.store.options.refunds = "manual";
    try {
      const host = await h.readyHost();
      const gig = await h.paidEvent(host, { price: 2000, policy: "flexible" });
      const [g1, g2] = [await createUser(), await createUser()];
      const ok = await h.bookAndPay(g1, gig);
      const bad = await h.bookAndPay(g2, gig);
      await asUser(g1.claims, (db) => db.query("select public.cancel_booking($1)", [ok.bookingId]));
      await asUser(g2.claims, (db) => db.query("select public.cancel_booking($1)", [bad.bookingId]));
      await h.work();
      const status = async (bookingId: string) => (await ownerQuery<{ status: string }>("select status from private.refunds where booking_id = $1", [bookingId])).rows[0]?.status;
      expect(await status(ok.bookingId)).toBe("pending");
      expect(await status(bad.bookingId)).toBe("pending");
      expect(await walletOf(host)).toMatchObject({ pending: 0 });
      const stripeRefund = (pi: string) => [...h.standin.store.refunds.values()].find((r) => r.payment_intent === pi)?.id ?? "";
      h.standin.store.settleRefund(stripeRefund(ok.paymentIntentId), "succeeded");
      h.standin.store.settleRefund(stripeRefund(bad.paymentIntentId), "failed");
      await h.settle();
      expect(await status(ok.bookingId)).toBe("succeeded");
      expect(await status(bad.bookingId)).toBe("failed");
      expect(await walletOf(host)).toMatchObject({ pending: 1800 });
      const { rows } = await ownerQuery<{ status: string }>("select status from public.bookings where id = $1", [ok.bookingId]);
      expect(rows[0]?.status).toBe("refunded");
      expect(await ledgerInvariantViolations()).toEqual([]);
    } finally {
      h.standin.store.options.refunds = "auto";
    }
  });

  // docs/stripe-sql-changes.md item 5: the early refund.failed is recorded, so the refund.created that
  // follows (older, status succeeded) is known to be stale.
  it("a Dashboard refund whose refund.failed is delivered before its refund.created moves no money", async () => {
    const host = await h.readyHost();
    const gig = await h.paidEvent(host, { price: 2000 });
    const paid = await h.bookAndPay(await createUser(), gig, { paymentMethod: "pm_card_refundFail" });
    const walletBefore = await walletOf(host);
    h.standin.setDelivery("manual");
    let events: StripeEvent[];
    try {
      await h.stripe.refunds.create({ payment_intent: paid.paymentIntentId }); // an operator in the Dashboard
      await h.settle();
      events = h.standin.queued().filter((e) => e.type.startsWith("refund.") || e.type === "charge.refunded");
      expect(events.map((e) => e.type).sort()).toEqual(["charge.refunded", "refund.created", "refund.failed", "refund.updated"]);
      const failuresFirst = [...events.filter((e) => e.type !== "refund.created" && e.type !== "charge.refunded"), ...events.filter((e) => e.type === "refund.created" || e.type === "charge.refunded")];
      for (const event of failuresFirst) expect(await h.standin.deliver(event)).toBe(200);
    } finally {
      h.standin.setDelivery("auto");
      await h.standin.deliverQueued();
    }
    expect(await walletOf(host)).toEqual(walletBefore);
    const { rows } = await ownerQuery<{ status: string }>("select status from private.refunds where payment_id = $1", [paid.paymentId]);
    expect(rows.every((r) => r.status === "failed")).toBe(true);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});

describe("dispute appeals", () => {
  // Item 1: appeal statuses are accepted, and a win after `lost` credits the host back.
  it("a dispute that is lost, appealed and won ends with the host credited, and no webhook answered 500", async () => {
    const host = await h.readyHost();
    const gig = await h.paidEvent(host, { price: 2000 });
    const before = await walletOf(host);
    const clearingBefore = (await platformBalances()).disputes ?? 0;
    const paid = await h.bookAndPay(await createUser(), gig, { paymentMethod: "pm_card_createDispute" });
    await h.settle();
    const dispute = [...h.standin.store.disputes.values()].find((d) => d.payment_intent === paid.paymentIntentId);
    const id = dispute?.id ?? "";
    await h.stripe.disputes.update(id, { evidence: { uncategorized_text: "losing_evidence" }, submit: true });
    await h.settle();
    expect(await walletOf(host)).toMatchObject({ pending: before.pending + 1800 - 1800 - 1500 });
    const firstDelivery = h.standin.deliveries.length;
    h.standin.store.openAppeal(id);
    await h.settle();
    await h.stripe.disputes.update(id, { evidence: { appeal: { card: { reason_for_filing: "winning_evidence" } } }, submit: true });
    await h.settle();
    expect(h.standin.store.disputes.get(id)?.status).toBe("won");
    expect(h.standin.deliveries.slice(firstDelivery).filter((d) => d.status !== 200)).toEqual([]);
    const { rows } = await ownerQuery<{ status: string }>("select status from private.disputes where id = $1", [id]);
    expect(rows[0]?.status).toBe("won");
    expect(await walletOf(host)).toMatchObject({ pending: before.pending + 1800 - 1500 });
    expect((await platformBalances()).disputes ?? 0).toBe(clearingBefore);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  // Item 2: a status Rally does not know is stored and shown in admin, never a 500.
  it("accepts every dispute status of the pinned version, and an unknown one, without a 500, and shows it in admin.disputes", async () => {
    const host = await h.readyHost();
    const gig = await h.paidEvent(host, { price: 2000 });
    const paid = await h.bookAndPay(await createUser(), gig, { paymentMethod: "pm_card_createDisputeInquiry" });
    await h.settle();
    const dispute = [...h.standin.store.disputes.values()].find((d) => d.payment_intent === paid.paymentIntentId);
    const template = h.standin.store.events.find((e) => e.type === "charge.dispute.created" && (e.data as { object: { id: string } }).object.id === dispute?.id);
    expect(template).toBeDefined();
    const statuses = ["warning_needs_response", "warning_under_review", "needs_response", "under_review", "appeal_needs_response",
      "appeal_under_review", "lost", "won", "some_status_from_a_later_api_version"];
    let created = Number(template?.created);
    for (const status of statuses) {
      created += 1;
      const object = { ...(template?.data as { object: Record<string, unknown> }).object, status };
      const event = { ...template, id: `evt_statuses${status.replaceAll("_", "")}${created}`, created, type: "charge.dispute.updated", data: { object } } as StripeEvent;
      expect(await h.standin.deliver(event), status).toBe(200);
    }
    const { rows } = await ownerQuery<{ status: string; stripe_status: string }>("select status, stripe_status from admin.disputes where id = $1", [dispute?.id]);
    expect(rows[0]).toEqual({ status: "won", stripe_status: "some_status_from_a_later_api_version" });
    const { rows: events } = await ownerQuery<{ result: string }>(
      "select result from private.stripe_events where id = $1", [`evt_statusessomestatusfromalaterapiversion${created}`]);
    expect(events[0]?.result).toBe("unknown_status");
    await ownerQuery("select private.reconcile_payments()");
    const { rows: listed } = await ownerQuery("select 1 from admin.payment_reconciliation where check_name = 'unknown_status' and object_id = $1", [dispute?.id]);
    expect(listed).toHaveLength(1);
  });

  it("a PaymentIntent, a refund and a payout with a status Rally does not know: 200, kept raw, nothing moves, reconciliation lists each", async () => {
    h.standin.store.options.refunds = "manual";
    try {
      const host = await h.readyHost();
      const gig = await h.paidEvent(host, { price: 2000 });
      const [g1, g2] = [await createUser(), await createUser()];
      await h.bookAndPay(await createUser(), gig);
      const unpaidBooking = await h.book(g1, gig);
      const checkout = await h.checkout(g1, unpaidBooking);
      const unpaidIntent = String(checkout.body.payment_intent_id);
      const refunded = await h.bookAndPay(g2, gig);
      await asUser(g2.claims, (db) => db.query("select public.cancel_booking($1)", [refunded.bookingId]));
      await h.work();
      const wallet = await walletOf(host);
      const ledgerBefore = (await ownerQuery<{ n: string }>("select count(*) as n from private.ledger_transactions")).rows[0]?.n;
      const later = (type: string, objectId: string, status: string): StripeEvent => {
        const template = [...h.standin.store.events].reverse().find((e) => e.type === type && (e.data as { object: { id: string } }).object.id === objectId);
        expect(template, type).toBeDefined();
        const object = { ...(template?.data as { object: Record<string, unknown> }).object, status };
        return { ...template, id: `evt_unknown${status.replaceAll("_", "")}${Date.now()}${Math.floor(Math.random() * 1e6)}`, created: Number(template?.created) + 1, data: { object } } as StripeEvent;
      };
      const refundId = [...h.standin.store.refunds.values()].find((r) => r.payment_intent === refunded.paymentIntentId)?.id ?? "";
      expect(await h.standin.deliver(later("payment_intent.created", unpaidIntent, "requires_reauthorization"))).toBe(200);
      expect(await h.standin.deliver(later("refund.created", refundId, "awaiting_partner"))).toBe(200);
      const { rows: after } = await ownerQuery<{ n: string }>("select count(*) as n from private.ledger_transactions");
      expect(after[0]?.n).toBe(ledgerBefore);
      expect(await walletOf(host)).toEqual(wallet);
      const { rows: payment } = await ownerQuery<{ status: string; stripe_status: string }>(
        "select status, stripe_status from private.payments where payment_intent_id = $1", [unpaidIntent]);
      expect(payment[0]).toEqual({ status: "requires_payment_method", stripe_status: "requires_reauthorization" });
      const { rows: refund } = await ownerQuery<{ status: string; stripe_status: string }>("select status, stripe_status from private.refunds where stripe_refund_id = $1", [refundId]);
      expect(refund[0]).toEqual({ status: "pending", stripe_status: "awaiting_partner" });

      // A payout in flight (the bank has not answered) told an unknown status.
      await h.endEvent(gig.eventId);
      await h.release();
      await h.work();
      h.standin.store.options.payouts = "manual";
      let payoutId = "";
      try {
        payoutId = await requestPayout(host, 1000);
        await h.work();
      } finally {
        h.standin.store.options.payouts = "auto";
      }
      const stripePayout = [...h.standin.store.payouts.values()].find((p) => p.payout.metadata.payout_id === payoutId)?.payout;
      const payoutEvent = later("payout.created", stripePayout?.id ?? "", "held_for_review");
      expect(await h.standin.deliver(payoutEvent)).toBe(200);
      const { rows: payout } = await ownerQuery<{ status: string; stripe_status: string }>("select status, stripe_status from admin.payout_queue where id = $1", [payoutId]);
      expect(payout[0]).toEqual({ status: "pending", stripe_status: "held_for_review" });
      expect(await walletOf(host)).toMatchObject({ in_transit: 1000 });

      await ownerQuery("select private.reconcile_payments()");
      const { rows: listed } = await ownerQuery<{ object_type: string; object_id: string }>(
        "select object_type, object_id from admin.payment_reconciliation where check_name = 'unknown_status' and object_id = any($1) order by 1",
        [[refundId, stripePayout?.id, unpaidIntent]]);
      expect(listed).toEqual([{ object_type: "payment_intent", object_id: unpaidIntent }, { object_type: "payout", object_id: stripePayout?.id },
        { object_type: "refund", object_id: refundId }]);
      h.standin.store.settlePayout(stripePayout?.id ?? "", "paid");
      h.standin.store.settleRefund(refundId, "succeeded");
      await h.settle();
      expect(await ledgerInvariantViolations()).toEqual([]);
    } finally {
      h.standin.store.options.refunds = "auto";
    }
  });
});

describe("transfers follow the wallet when several payments are released together", () => {
  // Item 8, found by the money-stories property test: a payment whose host share went negative (a
  // lost dispute, the host paying the fee) released after a positive one.
  it("a lost dispute's negative share released after a kept payment: the host holds at Stripe no more than the wallet says", async () => {
    const host = await h.readyHost();
    const kept = await h.paidEvent(host, { price: 3100 });
    const disputed = await h.paidEvent(host, { price: 1500 });
    await h.bookAndPay(await createUser(), kept);
    const lost = await h.bookAndPay(await createUser(), disputed, { paymentMethod: "pm_card_createDispute" });
    await h.settle();
    const dispute = [...h.standin.store.disputes.values()].find((d) => d.payment_intent === lost.paymentIntentId);
    await h.stripe.disputes.update(dispute?.id ?? "", { evidence: { uncategorized_text: "losing_evidence" }, submit: true });
    await h.settle();
    // The kept payment's event ends first (endEvent stamps now() − 30 days), so it is released first.
    await h.endEvent(kept.eventId);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await h.endEvent(disputed.eventId);
    await h.release();
    await h.work();
    const wallet = await walletOf(host);
    expect(wallet.available).toBe(2790 + 1350 - 1350 - 1500);
    const account = await accountOf(host);
    const atStripe = [...h.standin.store.transfers.values()].filter((t) => t.destination === account).reduce((sum, t) => sum + t.amount - t.amount_reversed, 0);
    expect(atStripe).toBe(Math.max(wallet.available, 0) + wallet.in_transit + wallet.paid_out);
  });
});

describe("a charge in another currency than the platform settles in", () => {
  // Item 3: the payment is booked in EUR from Stripe's balance transaction; the transfer is in EUR.
  it("balances: Stripe's EUR balance transaction is what the ledger books, the guest keeps the USD amount, the host is paid in EUR", async () => {
    const host = await h.readyHost();
    const gig = await h.paidEvent(host, { price: 5000, currency: "USD" });
    const paid = await h.bookAndPay(await createUser(), gig);
    await h.work();
    const charge = [...h.standin.store.charges.values()].find((c) => c.payment_intent === paid.paymentIntentId);
    const bt = h.standin.store.balanceTransactions.get(String(charge?.balance_transaction));
    expect(bt).toMatchObject({ currency: "eur", exchange_rate: expect.any(Number) });
    await h.endEvent(gig.eventId);
    await h.release();
    await h.work();
    const { rows: dead } = await ownerQuery("select 1 from private.payment_commands where payment_id = $1 and status = 'dead'", [paid.paymentId]);
    expect(dead).toEqual([]);
    const transfer = [...h.standin.store.transfers.values()].find((t) => t.transfer_group === paid.bookingId);
    expect(transfer?.currency).toBe("eur");
    const { rows } = await ownerQuery<{ currency: string; amount_cents: string }>("select currency, amount_cents from public.bookings where id = $1", [paid.bookingId]);
    expect(rows[0]).toEqual({ currency: "USD", amount_cents: "5000" });
    expect((await walletOf(host, "EUR")).available).toBe(transfer?.amount);
    // The ledger's cash for this payment is what Stripe's balance got: the EUR net, less the EUR transfer.
    const cash = async (currency: string) => Number((await ownerQuery<{ total: string | null }>(
      `select sum(e.amount) as total from private.ledger_entries e join private.ledger_transactions t on t.id = e.transaction_id
         join private.ledger_accounts a on a.id = e.account_id where t.payment_id = $1 and a.kind = 'platform_cash' and e.currency = $2`,
      [paid.paymentId, currency])).rows[0]?.total ?? 0);
    expect(await cash("EUR")).toBe((bt?.net ?? NaN) - (transfer?.amount ?? NaN));
    expect(await cash("USD")).toBe(0);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  /** What the ledger booked on one account kind for a payment, in one currency. */
  const booked = async (paymentId: string, kind: string, currency = "EUR") => Number((await ownerQuery<{ total: string | null }>(
    `select sum(e.amount) as total from private.ledger_entries e join private.ledger_transactions t on t.id = e.transaction_id
       join private.ledger_accounts a on a.id = e.account_id where t.payment_id = $1 and a.kind = $2 and e.currency = $3`,
    [paymentId, kind, currency])).rows[0]?.total ?? 0);

  /** What Stripe moved on the platform's balance for a charge: its balance transaction and those of its refunds and disputes. */
  const stripeNet = (paymentIntentId: string): number => {
    const charge = [...h.standin.store.charges.values()].find((c) => c.payment_intent === paymentIntentId);
    const sources = new Set([charge?.id, ...[...h.standin.store.refunds.values()].filter((r) => r.charge === charge?.id).map((r) => r.id),
      ...[...h.standin.store.disputes.values()].filter((d) => d.charge === charge?.id).map((d) => d.id)]);
    return [...h.standin.store.balanceTransactions.values()].filter((bt) => sources.has(bt.source ?? "")).reduce((sum, bt) => sum + bt.net, 0);
  };

  it("a refund asked before Stripe's balance transaction was read waits for it, then refunds at the payment's rate; Stripe's conversion at the rate of the day goes to fx_difference", async () => {
    const usd = EUR_RATES.usd ?? 0;
    try {
      const host = await h.readyHost();
      const gig = await h.paidEvent(host, { price: 5000, currency: "USD", policy: "flexible" });
      const guest = await createUser();
      const paid = await h.bookAndPay(guest, gig);
      // Not booked yet: the payment's EUR amount comes from the balance transaction the worker reads.
      expect(await booked(paid.paymentId, "platform_cash")).toBe(0);
      await asUser(guest.claims, (db) => db.query("select public.cancel_booking($1)", [paid.bookingId]));
      const { rows: waiting } = await ownerQuery<{ status: string }>("select status from private.refund_requests where booking_id = $1", [paid.bookingId]);
      expect(waiting).toEqual([{ status: "pending" }]);
      expect([...h.standin.store.refunds.values()].filter((r) => r.payment_intent === paid.paymentIntentId)).toEqual([]);
      EUR_RATES.usd = 0.95; // the dollar rose by the time Stripe refunds
      await h.work();
      await h.work();
      const { rows: refund } = await ownerQuery<{ amount_cents: string; currency: string; settlement_amount_cents: string; status: string }>(
        "select amount_cents, currency, settlement_amount_cents, status from private.refunds where booking_id = $1", [paid.bookingId]);
      expect(refund).toEqual([{ amount_cents: "5000", currency: "USD", settlement_amount_cents: String(Math.round(5000 * usd)), status: "succeeded" }]);
      const { rows: booking } = await ownerQuery<{ status: string }>("select status from public.bookings where id = $1", [paid.bookingId]);
      expect(booking[0]?.status).toBe("refunded");
      expect(await walletOf(host, "EUR")).toEqual({ pending: 0, available: 0, in_transit: 0, paid_out: 0 });
      expect(await booked(paid.paymentId, "fx_difference")).toBe(Math.round(5000 * 0.95) - Math.round(5000 * usd));
      expect(await booked(paid.paymentId, "platform_cash")).toBe(stripeNet(paid.paymentIntentId));
      expect(await booked(paid.paymentId, "platform_cash", "USD")).toBe(0);
      expect(await booked(paid.paymentId, "refunds")).toBe(0);
      expect(await ledgerInvariantViolations()).toEqual([]);
    } finally {
      EUR_RATES.usd = usd;
    }
  });

  it("a dispute that arrives before the payment is booked waits for it; withdrawn and reinstated in EUR, the disputes account ends where it was, the conversion difference in fx_difference", async () => {
    const usd = EUR_RATES.usd ?? 0;
    try {
      const host = await h.readyHost();
      const gig = await h.paidEvent(host, { price: 2000, currency: "USD" });
      const clearingBefore = (await platformBalances()).disputes ?? 0;
      const paid = await h.bookAndPay(await createUser(), gig, { paymentMethod: "pm_card_createDispute" });
      const dispute = [...h.standin.store.disputes.values()].find((d) => d.payment_intent === paid.paymentIntentId);
      const { rows: deferred } = await ownerQuery<{ type: string; result: string }>(
        "select type, result from private.stripe_events where object_id = $1 order by type", [dispute?.id]);
      expect(deferred).toEqual([{ type: "charge.dispute.created", result: "deferred" }, { type: "charge.dispute.funds_withdrawn", result: "deferred" }]);
      await h.work();
      const settled = Math.round(2000 * usd);
      const share = settled - Math.round(settled / 10);
      expect(await walletOf(host, "EUR")).toMatchObject({ pending: share - share - 1500 });
      const { rows: replayed } = await ownerQuery<{ result: string }>("select distinct result from private.stripe_events where object_id = $1", [dispute?.id]);
      expect(replayed).toEqual([{ result: "applied" }]);
      EUR_RATES.usd = 0.95; // the dollar rose by the time the bank decides
      await h.stripe.disputes.update(dispute?.id ?? "", { evidence: { uncategorized_text: "winning_evidence" }, submit: true });
      await h.settle();
      expect(h.standin.store.disputes.get(dispute?.id ?? "")?.status).toBe("won");
      expect(await walletOf(host, "EUR")).toMatchObject({ pending: share - 1500 });
      expect((await platformBalances()).disputes ?? 0).toBe(clearingBefore);
      expect(await booked(paid.paymentId, "fx_difference")).toBe(settled - Math.round(2000 * 0.95));
      expect(await booked(paid.paymentId, "platform_cash")).toBe(stripeNet(paid.paymentIntentId));
      expect(await ledgerInvariantViolations()).toEqual([]);
    } finally {
      EUR_RATES.usd = usd;
    }
  });
});

describe("every event type Rally subscribes to", () => {
  // docs/payments.md, stripe-webhook: the platform endpoint takes the payment, charge, refund,
  // dispute and transfer events, the Connect endpoint account.updated, capability.updated, payout.*.
  const subscribed = (type: string) => /^(payment_intent|charge|refund|transfer|payout)\./.test(type) || type === "account.updated" || type === "capability.updated";
  const objectName = (type: string) => type.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();

  it("is accepted without a 500, carrying an object of its kind from a real money story", async () => {
    const shapes = JSON.parse(readFileSync(SHAPES_FILE, "utf8")) as StripeApiShapes;
    const types = Object.keys(shapes.events).filter(subscribed).sort();
    expect(types.length).toBeGreaterThanOrEqual(35);
    const { host } = await hostWithReleasedEarnings(3000);
    const gig = await h.paidEvent(host, { price: 2000 });
    const refunded = await h.bookAndPay(await createUser(), gig);
    await ownerQuery("select admin.refund_booking($1, 500)", [refunded.bookingId]);
    await h.bookAndPay(await createUser(), gig, { paymentMethod: "pm_card_createDispute" });
    await requestPayout(host, 1000);
    await h.work();
    await h.settle();
    const first = h.standin.deliveries.length;
    let n = 0;
    for (const type of types) {
      const object = objectName(shapes.events[type] ?? "");
      const template = [...h.standin.store.events].reverse().find((e) => (e.data as { object: { object: string } }).object.object === object);
      expect(template, `an event carrying a ${object} to stand in for ${type}`).toBeDefined();
      n += 1;
      const event = { ...template, id: `evt_subscribed${n}${Date.now()}`, type, created: Number(template?.created) + 1 } as StripeEvent;
      expect(await h.standin.deliver(event), type).toBe(200);
    }
    expect(h.standin.deliveries.slice(first).filter((d) => d.status !== 200)).toEqual([]);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});
