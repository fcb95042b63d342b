/**
 * Money alerts a guest relies on, from Stripe's events to the inbox: through checkout, the Stripe
 * stand-in, the webhook and the payments worker (tests/support/payments.ts), then the real
 * dispatcher and Resend adapter against the Resend stand-in. A successful payment brings one
 * receipt (amount, Rally's fee, the event, the booking, a link) by email, which the guest cannot
 * turn off; a declined card tells the guest how long the seat is held; a refund tells them it is
 * on its way. All in the guest's language and number format.
 */
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { alertDispatcher, APP_URL } from "../support/alert-dispatch.ts";
import { asUser, closeTestPools, ownerQuery } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { type PaymentsHarness, resetPaymentSettings, setPaymentSettings, startPayments } from "../support/payments.ts";
import { startResendStandIn, type ResendStandIn } from "../support/stand-ins/resend.ts";
import { createUser, type TestUser } from "../support/users.ts";

let h: PaymentsHarness;
let resend: ResendStandIn;
let pool: pg.Pool;
let dispatch: () => Promise<unknown>;

beforeAll(async () => {
  h = await startPayments();
  await setPaymentSettings({ platform_fee_bps: 1000 });
  resend = await startResendStandIn();
  pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 3 });
  dispatch = alertDispatcher({ resend }, pool);
});
afterAll(async () => {
  await resetPaymentSettings();
  await h.close();
  await resend.close();
  await pool.end();
  await closePool();
  await closeTestPools();
});
// Deliveries left by other test files are not this file's business.
beforeEach(async () => {
  await ownerQuery("update private.alert_deliveries set status = 'skipped', finished_at = now() where status in ('pending', 'sending')");
});

/** The emails Resend accepted for `user`'s deliveries of `type` (the adapter tags each with its delivery id). */
async function emailsTo(user: TestUser, type: string) {
  const { rows } = await ownerQuery<{ id: string }>(
    "select id from private.alert_deliveries where user_id = $1 and type = $2 and channel = 'email'", [user.id, type]);
  const ids = new Set(rows.map((row) => row.id));
  return resend.emails.filter((email) => email.tags.some((tag) => tag.name === "delivery_id" && ids.has(tag.value)));
}

async function notificationsOf(user: TestUser, type: string) {
  const { rows } = await ownerQuery<{ title: string; data: Record<string, unknown> }>(
    "select title, data from public.notifications where user_id = $1 and type = $2 order by created_at", [user.id, type]);
  return rows;
}

describe("the receipt", () => {
  let host: TestUser;
  beforeAll(async () => {
    host = await h.readyHost();
  });

  it("follows a successful payment, once, by email the guest cannot turn off, with the amount, Rally's fee, the event, the booking and a link", async () => {
    const rui = await createUser({ userMetadata: { display_name: "Rui", locale: "pt-PT", timezone: "Europe/Lisbon" } });
    await expect(asUser(rui.claims, (db) => db.query("select public.set_notification_preference('payment_succeeded', 'email', false)")))
      .rejects.toMatchObject({ hint: "critical_notification" });
    const gig = await h.paidEvent(host, { price: 2500 });
    const paid = await h.bookAndPay(rui, gig, { quantity: 2 });
    await h.work(); // the worker's follow-ups (Stripe's fee) send nothing more
    await dispatch();

    const [receipt, ...more] = await notificationsOf(rui, "payment_succeeded");
    expect(more).toEqual([]);
    expect(receipt?.data).toMatchObject({ booking_id: paid.bookingId, payment_id: paid.paymentId, amount_cents: 5000,
                                          platform_fee_cents: 500, currency: "EUR", quantity: 2, ticket_type: "Ticket" });
    const emails = await emailsTo(rui, "payment_succeeded");
    expect(emails).toHaveLength(1);
    const text = emails[0]?.text ?? "";
    expect(emails[0]?.subject).toBe("Recibo: Paid night");
    expect(text).toContain("Pagamento recebido: 50,00\u00a0€ por 2 × Ticket.");
    expect(text).toContain(`Reserva ${paid.bookingId.slice(0, 8).toUpperCase()}`);
    expect(text).toContain("Inclui a taxa de serviço do Rally de 5,00\u00a0€");
    expect(text).toContain(`${APP_URL}/bookings/${paid.bookingId}`);
    expect(emails[0]?.html).toContain(`href="${APP_URL}/bookings/${paid.bookingId}"`);
  });

  it("is not sent for a declined card: the guest hears the payment failed and until when the seat is held", async () => {
    const ada = await createUser({ userMetadata: { display_name: "Ada", timezone: "America/New_York" } });
    const gig = await h.paidEvent(host, { price: 1200 });
    const bookingId = await h.book(ada, gig);
    const checkout = await h.checkout(ada, bookingId);
    await expect(h.stripe.paymentIntents.confirm(String(checkout.body.payment_intent_id), { payment_method: "pm_card_chargeDeclined" }))
      .rejects.toMatchObject({ code: "card_declined" });
    await h.settle();
    await dispatch();

    expect(await notificationsOf(ada, "payment_succeeded")).toEqual([]);
    const failed = await notificationsOf(ada, "payment_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data).toMatchObject({ booking_id: bookingId, amount_cents: 1200, currency: "EUR", decline_code: "generic_decline" });
    const [email] = await emailsTo(ada, "payment_failed");
    expect(email?.subject).toBe("Payment failed: Paid night");
    // The hold's end in Ada's own zone.
    expect(email?.text).toMatch(/Your payment of €12\.00 did not go through\. Your seat is held until .*(EST|EDT)\./);
  });

  it("and a refund tells the guest it is on its way, with the amount", async () => {
    const eva = await createUser({ userMetadata: { display_name: "Eva", locale: "es" } });
    const gig = await h.paidEvent(host, { price: 4000, policy: "flexible" });
    const paid = await h.bookAndPay(eva, gig);
    await asUser(eva.claims, (db) => db.query("select public.cancel_booking($1)", [paid.bookingId]));
    await h.work();
    await dispatch();

    const issued = await notificationsOf(eva, "refund_issued");
    expect(issued.map((n) => n.data)).toEqual([expect.objectContaining({ booking_id: paid.bookingId, amount_cents: 4000, currency: "EUR" })]);
    const [email] = await emailsTo(eva, "refund_issued");
    expect(email?.subject).toBe("Reembolso en camino: Paid night");
    expect(email?.text).toContain("Te reembolsamos 40,00\u00a0€.");
  });
});
