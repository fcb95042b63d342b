/**
 * POST /functions/v1/checkout (verify_jwt = true) — a guest pays for their held booking.
 *
 *   request   { "booking_id": "<uuid>" }
 *   200       { "booking_id", "payment_id", "payment_intent_id", "client_secret", "amount_cents",
 *               "currency", "status", "hold_expires_at", "standin" }
 *
 * One PaymentIntent per booking: created with idempotency key = booking id, transfer_group =
 * booking id and the booking in its metadata; a second call returns the same intent. The app
 * confirms it with Stripe.js / the Payment Sheet using the client secret; the booking is
 * confirmed by the payment_intent.succeeded webhook, never by this function.
 *
 * Every call that reaches Stripe takes one `checkout` call from the caller's rate limit (20 an
 * hour by default; private.rate_limits): Stripe's rate limit is shared by the whole platform, so
 * one account must not spend it (issue 13). The body is capped at 4 KiB, read no further.
 *
 * Errors: 400 validation_failed; 401; 403 not_your_booking, account_not_found / account_deleted /
 * account_suspended (as every RPC answers a token whose account is gone); 404 booking_not_found;
 * 409 hold_expired, already_paid, awaiting_approval, booking_not_payable; 413 payload_too_large;
 * 422 nothing_to_pay, host_cannot_accept_payments; 429 rate_limited (Retry-After); 503
 * not_configured (Stripe) or a Stripe outage (stripe_unavailable).
 */
import type Stripe from "stripe";
import { z } from "zod";
import { requireUser } from "../_shared/auth.ts";
import { withServiceRole, withUserContext } from "../_shared/db.ts";
import { HttpError, remapDbError } from "../_shared/http-errors.ts";
import { json, readJson } from "../_shared/json.ts";
import { routeByMethod } from "../_shared/router.ts";
import { stripeCall } from "../_shared/stripe-errors.ts";
import { getStripe, plainObject, stripeSettings } from "../_shared/stripe.ts";

export const body = z.object({ booking_id: z.uuid() });

export interface CheckoutContext {
  payment_id: string;
  booking_id: string;
  event_id: string;
  host_id: string;
  guest_id: string;
  amount_cents: number;
  currency: string;
  hold_expires_at: Date | string;
  payment_intent_id: string | null;
  payment_status: string;
  event_title: string;
}

const STATUS_BY_CODE = {
  booking_not_found: 404,
  hold_expired: 409,
  already_paid: 409,
  awaiting_approval: 409,
  booking_not_payable: 409,
} as const;

/**
 * The PaymentIntent parameters for a booking. Only values that never change for the booking
 * go in, because the idempotency key (the booking id) must always come with the same
 * parameters.
 */
export function paymentIntentParams(ctx: CheckoutContext): Stripe.PaymentIntentCreateParams {
  return {
    amount: ctx.amount_cents,
    currency: ctx.currency.toLowerCase(),
    transfer_group: ctx.booking_id,
    automatic_payment_methods: { enabled: true },
    metadata: {
      booking_id: ctx.booking_id,
      payment_id: ctx.payment_id,
      event_id: ctx.event_id,
      host_id: ctx.host_id,
      guest_id: ctx.guest_id,
    },
  };
}

function findOrCreateIntent(stripe: Stripe, ctx: CheckoutContext): Promise<Stripe.PaymentIntent> {
  const intentId = ctx.payment_intent_id;
  return stripeCall(() => intentId !== null
    ? stripe.paymentIntents.retrieve(intentId)
    : stripe.paymentIntents.create(paymentIntentParams(ctx), { idempotencyKey: ctx.booking_id }));
}

export const handler = routeByMethod({
  POST: async (req) => {
    const claims = await requireUser(req);
    const input = await readJson(req, body);
    const settings = stripeSettings();
    let ctx: CheckoutContext;
    try {
      ctx = await withUserContext(claims, async (db) => {
        const { rows } = await db.query<CheckoutContext>(
          `select payment_id, booking_id, event_id, host_id, guest_id, amount_cents::float8 as amount_cents, currency,
                  hold_expires_at, payment_intent_id, payment_status, event_title
             from private.prepare_checkout($1)`,
          [input.booking_id],
        );
        const row = rows[0];
        if (row === undefined) throw new Error("prepare_checkout returned no row");
        // Counted with the checkout it prepares: a refused call (bad booking, expired hold)
        // rolls back and costs nothing, every call that goes on to Stripe counts.
        await db.query("select private.consume_caller_rate_limit('checkout')");
        return row;
      });
    } catch (err) {
      throw remapDbError(err, STATUS_BY_CODE);
    }

    const stripe = getStripe(settings);
    let intent = await findOrCreateIntent(stripe, ctx);
    const recorded = await withServiceRole(async (db) => {
      const { rows } = await db.query<{ id: string }>("select private.record_payment_intent($1, $2::jsonb) as id",
        [ctx.payment_id, JSON.stringify(plainObject(intent))]);
      return rows[0]?.id ?? intent.id;
    });
    if (recorded !== intent.id) {
      // Another request recorded its intent first (same idempotency key, so normally the same).
      intent = await stripeCall(() => stripe.paymentIntents.retrieve(recorded));
    }
    if (intent.status === "canceled") {
      throw new HttpError(409, "hold_expired", "Your hold on these seats has expired. Book again to pay.");
    }
    return json({
      booking_id: ctx.booking_id,
      payment_id: ctx.payment_id,
      payment_intent_id: intent.id,
      client_secret: intent.client_secret,
      amount_cents: intent.amount,
      currency: ctx.currency,
      status: intent.status,
      hold_expires_at: new Date(ctx.hold_expires_at).toISOString(),
      standin: settings.standin,
    }, { headers: { "Cache-Control": "no-store" } });
  },
});
