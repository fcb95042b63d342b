/**
 * Promo codes and transfers on the money path, end to end through the functions over HTTP, the
 * Stripe stand-in and the real database: the PaymentIntent charges the discounted amount, the
 * platform fee and the host's ledger entries follow it, a refund never returns more than was
 * paid; and after a whole booking changes hands the refund goes back to the payment the original
 * payer made, who keeps the receipt and hears about the refund.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import {
  ledgerInvariantViolations, type PaymentsHarness, resetPaymentSettings, setPaymentSettings, startPayments, walletOf,
} from "../support/payments.ts";
import { addPromoCode } from "../support/ticketing.ts";
import { EUR_RATES } from "../../tools/stripe-standin/store.ts";
import { createUser, type TestUser } from "../support/users.ts";

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

/** Books with a promo code, pays through checkout and Stripe; returns the ids and what was charged. */
async function bookWithCodeAndPay(guest: TestUser, eventId: string, ticketTypeId: string, quantity: number, code: string) {
  const bookingId = await asUser(guest.claims, async (db) => {
    const { rows } = await db.query<{ id: string }>("select id from public.book_event($1, $2, $3, null, null, $4)",
      [eventId, ticketTypeId, quantity, code]);
    return rows[0]!.id;
  });
  const checkout = await h.checkout(guest, bookingId);
  expect(checkout.status).toBe(200);
  const intentId = String(checkout.body.payment_intent_id);
  await h.stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
  await h.settle();
  return { bookingId, intentId, charged: Number(checkout.body.amount_cents) };
}

describe("a booking with a promo code", () => {
  let host: TestUser;

  beforeAll(async () => {
    host = await h.readyHost();
  });

  it("is charged the discounted amount; the fee and the host's earnings follow it; the refund is what was paid", async () => {
    const guest = await createUser();
    const gig = await h.paidEvent(host, { price: 2500, policy: "flexible" });
    await addPromoCode(host, gig.eventId, { code: "FRIENDS20", percent_off: 20 });

    const paid = await bookWithCodeAndPay(guest, gig.eventId, gig.ticketTypeId, 2, "friends20");

    expect(paid.charged).toBe(4000);
    expect(h.standin.store.paymentIntents.get(paid.intentId)?.amount).toBe(4000);
    const { rows: [booking] } = await ownerQuery<{ status: string; list: string; discount: string; amount: string }>(
      "select status, list_amount_cents as list, discount_cents as discount, amount_cents as amount from public.bookings where id = $1",
      [paid.bookingId]);
    expect(booking).toEqual({ status: "confirmed", list: "5000", discount: "1000", amount: "4000" });
    const { rows: [payment] } = await ownerQuery<{ amount: string; fee: string; share: string }>(
      "select amount_cents as amount, platform_fee_cents as fee, host_share_cents as share from private.payments where booking_id = $1",
      [paid.bookingId]);
    expect(payment).toEqual({ amount: "4000", fee: "400", share: "3600" });
    expect(await walletOf(host)).toMatchObject({ pending: 3600 });

    await asUser(guest.claims, (db) => db.query("select public.cancel_booking($1)", [paid.bookingId]));
    await h.work();
    const refunds = [...h.standin.store.refunds.values()].filter((r) => r.payment_intent === paid.intentId);
    expect(refunds.map((r) => [r.amount, r.status])).toEqual([[4000, "succeeded"]]);
    expect(await walletOf(host)).toMatchObject({ pending: 0 });
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  it("a fixed amount in yen comes off each ticket in whole yen, and the PaymentIntent is in yen", async () => {
    const guest = await createUser();
    const gig = await h.paidEvent(host, { price: 3000, currency: "JPY", policy: "flexible" });
    await addPromoCode(host, gig.eventId, { code: "YEN500", amount_off_cents: 500 });

    const paid = await bookWithCodeAndPay(guest, gig.eventId, gig.ticketTypeId, 3, "YEN500");

    expect(paid.charged).toBe(7500);
    const intent = h.standin.store.paymentIntents.get(paid.intentId);
    expect([intent?.amount, intent?.currency]).toEqual([7500, "jpy"]);
    // Yen is not the platform's settlement currency: Stripe's balance transaction says what the
    // 7,500 yen became in EUR, and the split, the ledger and the host's wallet are in EUR from it.
    await h.work();
    const { rows: [payment] } = await ownerQuery<{ amount: string; currency: string; settled: string; fee: string; share: string }>(
      `select amount_cents as amount, currency, settlement_amount_cents as settled, platform_fee_cents as fee,
              host_share_cents as share from private.payments where booking_id = $1`, [paid.bookingId]);
    const charge = [...h.standin.store.charges.values()].find((c) => c.payment_intent === paid.intentId);
    const bt = h.standin.store.balanceTransactions.get(String(charge?.balance_transaction));
    // Yen have no minor unit: 7,500 yen at Stripe's rate per yen, in euro cents.
    expect(bt).toMatchObject({ currency: "eur", amount: Math.round(7500 * (EUR_RATES.jpy ?? NaN) * 100) });
    const settled = bt?.amount ?? NaN;
    const fee = Math.floor((settled * 1000 + 5000) / 10000); // 10 %, rounded half up, of what Stripe's balance got
    expect(payment).toEqual({ amount: "7500", currency: "JPY", settled: String(settled), fee: String(fee), share: String(settled - fee) });
    expect(await walletOf(host, "JPY")).toMatchObject({ pending: 0 });
    expect(await walletOf(host, "EUR")).toMatchObject({ pending: Number(payment?.share) });
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});

describe("a paid booking that changed hands", () => {
  it("the new guest cancels under the policy; the refund goes back to the payer's payment, and the payer is told", async () => {
    const host = await h.readyHost();
    const payer = await createUser();
    const friend = await createUser();
    const gig = await h.paidEvent(host, { price: 3000, policy: "flexible" });
    const paid = await h.bookAndPay(payer, gig);

    const transferId = await asUser(payer.claims, async (db) => {
      const { rows } = await db.query<{ id: string }>("select id from public.transfer_booking($1, $2)", [paid.bookingId, friend.id]);
      return rows[0]!.id;
    });
    await asUser(friend.claims, (db) => db.query("select public.accept_booking_transfer($1)", [transferId]));
    const { rows: [payment] } = await ownerQuery<{ guest_id: string }>("select guest_id from private.payments where booking_id = $1", [paid.bookingId]);
    expect(payment!.guest_id).toBe(payer.id);

    await expect(asUser(payer.claims, (db) => db.query("select public.cancel_booking($1)", [paid.bookingId])))
      .rejects.toMatchObject({ code: "42501", hint: "not_your_booking" });
    await asUser(friend.claims, (db) => db.query("select public.cancel_booking($1)", [paid.bookingId]));
    await h.work();

    const refunds = [...h.standin.store.refunds.values()].filter((r) => r.payment_intent === paid.paymentIntentId);
    expect(refunds.map((r) => [r.amount, r.status])).toEqual([[3000, "succeeded"]]);
    const { rows: told } = await ownerQuery<{ user_id: string }>(
      "select user_id from public.notifications where type like 'refund%' and data ->> 'booking_id' = $1", [paid.bookingId]);
    expect(told.map((n) => n.user_id)).toEqual([payer.id]);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});
