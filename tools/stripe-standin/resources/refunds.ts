/**
 * Refunds of a PaymentIntent's charge. Card refunds in test mode succeed at once (`refunds:
 * "auto"`); with `refunds: "manual"` they stay `pending` until settleRefund() decides, as
 * refunds that wait on the bank or on the balance do (`pending_reason`). A pending refund can
 * end `succeeded` (refund.updated) or `failed` (refund.failed + refund.updated); a refund of a
 * charge made with pm_card_refundFail succeeds, then fails later and the money comes back (a
 * `refund_failure` balance transaction). Amounts leave the balance in the settlement currency.
 */
import { invalid, validationError } from "../errors.ts";
import type { FormObject } from "../form.ts";
import { int, metadata, oneOf, str } from "../params.ts";
import { type RequestContext, type StandinCharge, type StandinRefund, type StandinState, stripeId } from "../state.ts";
import { retrieveCharge } from "./charges.ts";
import { implemented, retrievePaymentIntent } from "./payment-intents.ts";

export function createRefund(state: StandinState, params: FormObject, ctx: RequestContext): StandinRefund {
  implemented(params, ["payment_intent", "charge", "amount", "reason", "metadata", "expand"], "POST /v1/refunds");
  const piId = str(params, "payment_intent");
  const chargeId = str(params, "charge");
  const amountParam = int(params, "amount");
  const reason = oneOf(params, "reason", ["duplicate", "fraudulent", "requested_by_customer"] as const) ?? null;
  const meta = metadata(params);
  if (piId === undefined && chargeId === undefined) {
    throw validationError("You must pass either a charge or a payment_intent.", "payment_intent", "parameter_missing");
  }
  let charge: StandinCharge;
  if (chargeId !== undefined) {
    charge = retrieveCharge(state, chargeId);
  } else {
    const intent = retrievePaymentIntent(state, piId ?? "");
    if (intent.latest_charge === null || intent.status !== "succeeded") {
      throw invalid(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, "payment_intent", "charge_not_refundable");
    }
    charge = retrieveCharge(state, intent.latest_charge);
  }
  const inFlight = [...state.refunds.values()].filter((r) => r.charge === charge.id && r.status === "pending").reduce((sum, r) => sum + r.amount, 0);
  const refundable = charge.amount - charge.amount_refunded - inFlight;
  if (charge.disputed) throw invalid(`Charge ${charge.id} has been charged back; cannot issue a refund.`, "charge", "charge_disputed");
  if (refundable <= 0) throw invalid(`Charge ${charge.id} has already been refunded.`, "charge", "charge_already_refunded");
  const amount = amountParam ?? refundable;
  if (amount <= 0) throw validationError("Invalid positive integer", "amount", "parameter_invalid_integer");
  if (amount > refundable) {
    throw invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable}).`, "amount", "amount_too_large");
  }
  const refund: StandinRefund = {
    id: stripeId("re"), object: "refund", amount, balance_transaction: null, charge: charge.id, created: state.now(), currency: charge.currency,
    customer: null, customer_account: null, metadata: meta, payment_intent: charge.payment_intent,
    payment_method: typeof charge.payment_method === "string" ? "pm_standin_card" : null,
    reason, receipt_number: null, source_transfer_reversal: null, status: "pending", transfer_reversal: null,
    destination_details: { card: { reference_status: "pending", reference_type: "acquirer_reference_number", type: "refund" }, type: "card" },
    pending_reason: "processing",
  };
  state.refunds.set(refund.id, refund);
  if (state.options.refunds === "auto") {
    succeed(state, refund);
    state.emit("refund.created", refund, ctx);
    state.emit("charge.refunded", charge, ctx);
  } else {
    state.emit("refund.created", refund, ctx);
  }
  if (state.chargeBehaviour.get(charge.id) === "pm_card_refundFail") {
    state.options.later(() => settleRefund(state, refund.id, "failed"));
  }
  return refund;
}

function succeed(state: StandinState, refund: StandinRefund): void {
  const charge = retrieveCharge(state, refund.charge);
  refund.status = "succeeded";
  delete refund.pending_reason;
  charge.amount_refunded += refund.amount;
  charge.refunded = charge.amount_refunded >= charge.amount;
  const settled = state.settle(refund.amount, refund.currency);
  const bt = state.balanceTransaction({ amount: -settled.amount, fee: 0, currency: settled.currency, type: "refund", category: "refund", source: refund.id, exchangeRate: settled.exchangeRate });
  refund.balance_transaction = bt.id;
  state.adjust("platform", bt.currency, bt.net);
}

export function retrieveRefund(state: StandinState, id: string): StandinRefund {
  return state.require(state.refunds, id, "refund");
}

/** A pending refund settles, or a refund fails (a succeeded one gives the money back). */
export function settleRefund(state: StandinState, id: string, outcome: "succeeded" | "failed"): StandinRefund {
  const refund = retrieveRefund(state, id);
  const charge = retrieveCharge(state, refund.charge);
  if (outcome === "succeeded") {
    if (refund.status !== "pending") return refund;
    succeed(state, refund);
    state.emit("refund.updated", refund, null, null, { status: "pending" });
    state.emit("charge.refunded", charge, null);
    return refund;
  }
  if (refund.status === "failed" || refund.status === "canceled") return refund;
  const previous = refund.status;
  if (previous === "succeeded") {
    charge.amount_refunded -= refund.amount;
    charge.refunded = false;
    const settled = state.settle(refund.amount, refund.currency);
    const bt = state.balanceTransaction({ amount: settled.amount, fee: 0, currency: settled.currency, type: "refund_failure", category: "refund_failure", source: refund.id, exchangeRate: settled.exchangeRate });
    refund.failure_balance_transaction = bt.id;
    state.adjust("platform", bt.currency, bt.net);
  }
  refund.status = "failed";
  delete refund.pending_reason;
  refund.failure_reason = "expired_or_canceled_card";
  state.emit("refund.failed", refund, null, null, { status: previous });
  state.emit("refund.updated", refund, null, null, { status: previous });
  return refund;
}
