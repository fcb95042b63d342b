/**
 * PaymentIntents: create, retrieve, confirm (what Stripe.js / the Payment Sheet does, with
 * Stripe's test payment methods), cancel.
 *
 *   pm_card_visa (and any other pm_card_*)  succeeds
 *   pm_card_chargeDeclined                  402 card_declined; charge.failed, payment_intent.payment_failed
 *   pm_card_createDispute                   succeeds, then a dispute (needs_response) withdraws the funds
 *   pm_card_createDisputeInquiry            succeeds, then an inquiry (warning_needs_response)
 *   pm_card_refundFail                      succeeds; its refunds succeed, then fail (refund.failed)
 */
import type Stripe from "stripe";
import { invalid, StripeApiError, unsupported, validationError } from "../errors.ts";
import type { FormObject } from "../form.ts";
import { asJson, clone } from "../json.ts";
import { currency, metadata, nestedStr, oneOf, requireInt, str } from "../params.ts";
import { type RequestContext, type StandinPaymentIntent, type StandinState, stripeId } from "../state.ts";
import { bookCharge, finishAsyncCapture, newCharge } from "./charges.ts";
import { openDispute } from "./disputes.ts";

/** Refuses parameters Stripe takes but the stand-in does not implement (never guessed). */
export function implemented(params: FormObject, names: readonly string[], endpoint: string): void {
  for (const name of Object.keys(params)) {
    if (!names.includes(name)) throw unsupported(`the parameter ${name} on ${endpoint}`, name);
  }
}

/** Stripe's minimum charge amounts in minor units (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts), for the currencies tests use. */
const MINIMUM: Record<string, number> = { eur: 50, usd: 50, gbp: 30, chf: 50 };

export function createPaymentIntent(state: StandinState, params: FormObject, ctx: RequestContext): StandinPaymentIntent {
  implemented(params, ["amount", "currency", "metadata", "transfer_group", "automatic_payment_methods", "capture_method", "description", "expand"], "POST /v1/payment_intents");
  const amount = requireInt(params, "amount");
  const code = currency(params);
  const captureMethod = oneOf(params, "capture_method", ["automatic", "automatic_async", "manual"] as const) ?? "automatic_async";
  if (captureMethod === "manual") throw unsupported("capture_method=manual", "capture_method");
  const minimum = MINIMUM[code] ?? 50;
  if (amount < minimum) {
    throw validationError(`Amount must be at least ${minimum} ${code} minor units.`, "amount", "amount_too_small");
  }
  const automatic = nestedStr(params, "automatic_payment_methods", "enabled");
  const id = stripeId("pi");
  const intent: StandinPaymentIntent = {
    id, object: "payment_intent", allowed_payment_method_types: null, amount, amount_capturable: 0, amount_received: 0,
    application: null, application_fee_amount: null,
    automatic_payment_methods: automatic === "false" ? null : { allow_redirects: "always", enabled: true },
    canceled_at: null, cancellation_reason: null, capture_method: captureMethod, client_secret: `${id}_secret_${stripeId("s").slice(2)}`,
    confirmation_method: "automatic", created: state.now(), currency: code, customer: null, customer_account: null,
    description: str(params, "description") ?? null, excluded_payment_method_types: null, last_payment_error: null, latest_charge: null,
    livemode: false, managed_payments: null, metadata: metadata(params), next_action: null, on_behalf_of: null, payment_method: null,
    payment_method_configuration_details: automatic === "false" ? null : { id: "pmc_standin", parent: null },
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: "automatic" } },
    payment_method_types: ["card"], payment_record: null, processing: null, receipt_email: null, review: null, setup_future_usage: null,
    shipping: null, source: null, statement_descriptor: null, statement_descriptor_suffix: null, status: "requires_payment_method",
    transfer_group: str(params, "transfer_group") ?? null,
  };
  state.paymentIntents.set(id, intent);
  state.emit("payment_intent.created", intent, ctx);
  return intent;
}

export function retrievePaymentIntent(state: StandinState, id: string): StandinPaymentIntent {
  return state.require(state.paymentIntents, id, "payment_intent", "intent");
}

export function confirmPaymentIntent(state: StandinState, id: string, params: FormObject, ctx: RequestContext): StandinPaymentIntent {
  implemented(params, ["payment_method", "expand"], "POST /v1/payment_intents/:id/confirm");
  const intent = retrievePaymentIntent(state, id);
  if (intent.status !== "requires_payment_method" && intent.status !== "requires_confirmation") {
    throw invalid(`You cannot confirm this PaymentIntent because it has a status of ${intent.status}.`, undefined, "payment_intent_unexpected_state");
  }
  const method = str(params, "payment_method") ?? "pm_card_visa";
  if (!method.startsWith("pm_card_")) throw new StripeApiError(400, "invalid_request_error", `No such PaymentMethod: '${method}'`, "resource_missing", "payment_method");
  intent.payment_method = method;
  if (method === "pm_card_chargeDeclined" || method === "pm_card_visa_chargeDeclined") {
    const charge = newCharge(state, intent, method, "failed", { code: "card_declined", message: "Your card was declined." });
    intent.status = "requires_payment_method";
    intent.latest_charge = charge.id;
    const error: Stripe.PaymentIntent.LastPaymentError = {
      type: "card_error", code: "card_declined", decline_code: "generic_decline", message: "Your card was declined.", charge: charge.id,
      doc_url: "https://docs.stripe.com/error-codes/card-declined",
    };
    intent.last_payment_error = error;
    state.emit("charge.failed", charge, ctx);
    state.emit("payment_intent.payment_failed", intent, ctx);
    throw new StripeApiError(402, "card_error", "Your card was declined.", "card_declined", undefined,
      { decline_code: "generic_decline", charge: charge.id, payment_intent: clone(asJson(intent)) });
  }
  const charge = newCharge(state, intent, method, "succeeded", null);
  if (intent.capture_method === "automatic") bookCharge(state, charge);
  intent.status = "succeeded";
  intent.amount_received = intent.amount;
  intent.latest_charge = charge.id;
  intent.last_payment_error = null;
  state.emit("charge.succeeded", charge, ctx);
  state.emit("payment_intent.succeeded", intent, ctx);
  if (charge.balance_transaction === null) state.options.later(() => finishAsyncCapture(state, charge.id));
  if (method === "pm_card_createDispute" || method === "pm_card_createDisputeInquiry") {
    const inquiry = method === "pm_card_createDisputeInquiry";
    // After the capture: a dispute withdraws money that is in the balance.
    state.options.later(() => openDispute(state, charge.id, inquiry), 10);
  }
  return intent;
}

export function cancelPaymentIntent(state: StandinState, id: string, params: FormObject, ctx: RequestContext): StandinPaymentIntent {
  implemented(params, ["cancellation_reason", "expand"], "POST /v1/payment_intents/:id/cancel");
  const reason = oneOf(params, "cancellation_reason", ["abandoned", "duplicate", "fraudulent", "requested_by_customer"] as const);
  const intent = retrievePaymentIntent(state, id);
  if (intent.status === "succeeded" || intent.status === "canceled") {
    throw invalid(`You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`,
      undefined, "payment_intent_unexpected_state");
  }
  intent.status = "canceled";
  intent.canceled_at = state.now();
  intent.cancellation_reason = reason ?? null;
  state.emit("payment_intent.canceled", intent, ctx);
  return intent;
}

