/**
 * The whole money path, end to end through the functions over HTTP, the Stripe stand-in and the
 * real database: onboarding → book → checkout → Stripe confirms → webhook → booking confirmed and
 * host pending → event ends → release → transfer → payout → payout.paid; refunds before and
 * after release; disputes lost and won. Every step also checks the ledger stays balanced.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { createUser, type TestUser } from "../support/users.ts";
import {
  ledgerInvariantViolations, type PaymentsHarness, platformBalances, resetPaymentSettings, setPaymentSettings, startPayments, walletOf,
} from "../support/payments.ts";
import { asUser } from "../support/db.ts";

let h: PaymentsHarness;

beforeAll(async () => {
  h = await startPayments();
  await setPaymentSettings({ platform_fee_bps: 1000, release_hold_hours: 48 });
});

afterAll(async () => {
  await resetPaymentSettings();
  await h.close();
  await closeTestPools();
});

async function bookingStatus(id: string): Promise<string> {
  const { rows } = await ownerQuery<{ status: string }>("select status from public.bookings where id = $1", [id]);
  return rows[0]?.status ?? "missing";
}

async function released(paymentId: string): Promise<boolean> {
  await h.release();
  const { rows } = await ownerQuery<{ released: boolean }>("select released_at is not null as released from private.payments where id = $1", [paymentId]);
  return rows[0]?.released ?? false;
}

async function requestPayout(host: TestUser, amount: number, currency = "EUR"): Promise<string> {
  return asUser(host.claims, async (db) => {
    const { rows } = await db.query<{ payout_id: string }>("select payout_id from public.request_payout($1, $2)", [amount, currency]);
    return rows[0]?.payout_id ?? "";
  });
}

describe("a paid booking, from checkout to the host's bank", () => {
  let host: TestUser;
  let guest: TestUser;

  beforeAll(async () => {
    host = await h.readyHost();
    guest = await createUser();
  });

  it("onboarding through Stripe's hosted page turns the host's payouts on (account.updated / capability.updated)", async () => {
    const { rows } = await ownerQuery<{ payouts_enabled: boolean }>("select payouts_enabled from public.profiles where id = $1", [host.id]);
    expect(rows[0]?.payouts_enabled).toBe(true);
    const status = await h.call("connect-onboarding", { method: "GET", token: host.token });
    expect(status.body).toMatchObject({ payouts_enabled: true, transfers: "active", details_submitted: true });
  });

  it("pays, confirms, releases, transfers, pays out and settles, with the ledger balanced at every step", async () => {
    const gig = await h.paidEvent(host, { price: 2500 });
    const paid = await h.bookAndPay(guest, gig, { quantity: 2 });
    expect(paid.amount).toBe(5000);
    expect(await bookingStatus(paid.bookingId)).toBe("confirmed");
    expect(await walletOf(host)).toEqual({ pending: 4500, available: 0, in_transit: 0, paid_out: 0 });

    // Stripe's fee is looked up by the worker (balance transaction of the charge): 2.9 % + 30.
    await h.work();
    expect((await platformBalances()).stripe_fees).toBeGreaterThanOrEqual(175);

    // Nothing is released before the event is over.
    expect(await released(paid.paymentId)).toBe(false);
    await h.endEvent(gig.eventId);
    expect(await released(paid.paymentId)).toBe(true);
    expect(await walletOf(host)).toEqual({ pending: 0, available: 4500, in_transit: 0, paid_out: 0 });
    await h.work();
    const transfers = [...h.standin.store.transfers.values()].filter((t) => t.transfer_group === paid.bookingId);
    expect(transfers.map((t) => [t.amount, t.source_transaction !== null])).toEqual([[4500, true]]);

    const payoutId = await requestPayout(host, 3000);
    expect(await walletOf(host)).toEqual({ pending: 0, available: 1500, in_transit: 3000, paid_out: 0 });
    await h.work();
    await h.settle();
    expect(await walletOf(host)).toEqual({ pending: 0, available: 1500, in_transit: 0, paid_out: 3000 });
    const { rows } = await ownerQuery<{ status: string; stripe_payout_id: string }>("select status, stripe_payout_id from private.payouts where id = $1", [payoutId]);
    expect(rows[0]?.status).toBe("paid");
    expect(h.standin.store.payouts.get(rows[0]?.stripe_payout_id ?? "")?.payout.amount).toBe(3000);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  it("a payout the bank rejects comes back to available (payout.failed)", async () => {
    const before = await walletOf(host);
    const account = await ownerQuery<{ account_id: string }>("select account_id from private.stripe_accounts where host_id = $1", [host.id]);
    h.standin.store.failingPayoutAccounts.add(account.rows[0]?.account_id ?? "");
    await requestPayout(host, 1000);
    await h.work();
    await h.settle();
    h.standin.store.failingPayoutAccounts.clear();
    expect(await walletOf(host)).toEqual(before);
    const { rows } = await ownerQuery<{ type: string }>("select type from public.notifications where user_id = $1 and type = 'payout_failed'", [host.id]);
    expect(rows.length).toBe(1);
  });

  it("asking for more than is available is refused with insufficient_funds and changes nothing", async () => {
    const before = await walletOf(host);
    await expect(requestPayout(host, before.available + 1)).rejects.toMatchObject({ code: "P0001", hint: "insufficient_funds" });
    expect(await walletOf(host)).toEqual(before);
  });
});

describe("refunds", () => {
  let host: TestUser;
  let guest: TestUser;

  beforeAll(async () => {
    host = await h.readyHost();
    guest = await createUser();
  });

  it("before release: only the charge is refunded, the host's pending share and the platform fee go back, the booking is refunded", async () => {
    const gig = await h.paidEvent(host, { price: 4000, policy: "flexible" });
    const paid = await h.bookAndPay(guest, gig);
    expect(await walletOf(host)).toMatchObject({ pending: 3600 });
    await asUser(guest.claims, (db) => db.query("select public.cancel_booking($1)", [paid.bookingId]));
    await h.work();
    expect(await bookingStatus(paid.bookingId)).toBe("refunded");
    expect(await walletOf(host)).toMatchObject({ pending: 0, available: 0 });
    const refunds = [...h.standin.store.refunds.values()].filter((r) => r.payment_intent === paid.paymentIntentId);
    expect(refunds.map((r) => [r.amount, r.status])).toEqual([[4000, "succeeded"]]);
    expect([...h.standin.store.transfers.values()].filter((t) => t.transfer_group === paid.bookingId)).toEqual([]);
    const { rows } = await ownerQuery<{ status: string }>("select status from private.refund_requests where booking_id = $1", [paid.bookingId]);
    expect(rows[0]?.status).toBe("succeeded");
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  it("after release: the charge is refunded and the host's share is reversed from their connected account", async () => {
    const gig = await h.paidEvent(host, { price: 3000 });
    const paid = await h.bookAndPay(guest, gig);
    await h.endEvent(gig.eventId);
    await h.release();
    await h.work();
    expect(await walletOf(host)).toMatchObject({ available: 2700 });
    // An operator refunds half after the event (admin refund).
    await ownerQuery("select admin.refund_booking($1, 1500)", [paid.bookingId]);
    await h.work();
    expect(await walletOf(host)).toMatchObject({ available: 1350 });
    const transfer = [...h.standin.store.transfers.values()].find((t) => t.transfer_group === paid.bookingId);
    expect(transfer?.amount_reversed).toBe(1350);
    expect([...h.standin.store.refunds.values()].filter((r) => r.payment_intent === paid.paymentIntentId).map((r) => r.amount)).toEqual([1500]);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});

describe("disputes", () => {
  let host: TestUser;
  let guest: TestUser;

  beforeAll(async () => {
    host = await h.readyHost();
    guest = await createUser();
  });

  it("a dispute takes the amount and the fee from the host at once; lost, it stays taken; host and admins are told", async () => {
    const admin = await createUser({ appMetadata: { role: "admin" } });
    const gig = await h.paidEvent(host, { price: 2000 });
    const paid = await h.bookAndPay(guest, gig, { paymentMethod: "pm_card_createDispute" });
    await h.settle();
    // 1800 pending − 1800 disputed − 1500 fee (host pays the dispute fee by default).
    expect(await walletOf(host)).toMatchObject({ pending: -1500 });
    const dispute = [...h.standin.store.disputes.values()].find((d) => d.payment_intent === paid.paymentIntentId);
    expect(dispute?.status).toBe("needs_response");
    const { rows: notes } = await ownerQuery<{ user_id: string }>(
      "select user_id from public.notifications where type = 'dispute_opened' and data ->> 'dispute_id' = $1", [dispute?.id]);
    expect(notes.map((n) => n.user_id)).toEqual(expect.arrayContaining([host.id, admin.id]));
    expect(notes.length).toBeGreaterThanOrEqual(2);
    const { rows: evidence } = await ownerQuery<{ evidence: Record<string, Record<string, unknown>> }>(
      "select evidence from admin.disputes where id = $1", [dispute?.id]);
    expect(evidence[0]?.evidence.payment?.refund_policy_accepted).toBe("flexible");
    expect(evidence[0]?.evidence.booking?.id).toBe(paid.bookingId);

    // Disputed payments are not released.
    await h.endEvent(gig.eventId);
    expect(await released(paid.paymentId)).toBe(false);

    await h.stripe.disputes.update(dispute?.id ?? "", { evidence: { uncategorized_text: "losing_evidence" }, submit: true });
    await h.settle();
    expect(await walletOf(host)).toMatchObject({ pending: -1500 });
    expect(await released(paid.paymentId)).toBe(true);
    expect(await walletOf(host)).toMatchObject({ pending: 0, available: -1500 });
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  it("won, the amount comes back (the dispute fee stays lost) and the disputes clearing account drains to zero", async () => {
    // Other files' disputes share the platform's clearing account: this dispute must leave it as it found it.
    const clearingBefore = (await platformBalances()).disputes ?? 0;
    const gig = await h.paidEvent(host, { price: 2000 });
    const before = await walletOf(host);
    const paid = await h.bookAndPay(guest, gig, { paymentMethod: "pm_card_createDispute" });
    await h.settle();
    expect(await walletOf(host)).toMatchObject({ pending: before.pending + 1800 - 1800 - 1500 });
    const dispute = [...h.standin.store.disputes.values()].find((d) => d.payment_intent === paid.paymentIntentId);
    await h.stripe.disputes.update(dispute?.id ?? "", { evidence: { uncategorized_text: "winning_evidence" }, submit: true });
    await h.settle();
    expect(await walletOf(host)).toMatchObject({ pending: before.pending + 1800 - 1500 });
    const { rows } = await ownerQuery<{ status: string }>("select status from private.disputes where id = $1", [dispute?.id]);
    expect(rows[0]?.status).toBe("won");
    expect(await ledgerInvariantViolations()).toEqual([]);
    const platform = await platformBalances();
    expect(platform.disputes ?? 0).toBe(clearingBefore);
  });
});
