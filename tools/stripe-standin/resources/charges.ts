/**
 * Charges: made by confirming a PaymentIntent, never created directly. With asynchronous
 * capture (the default capture_method, `automatic_async`, in current API versions) the charge
 * has no balance transaction yet on `charge.succeeded` and `payment_intent.succeeded`; Stripe
 * attaches it moments later and sends `charge.updated` (docs.stripe.com/payments/payment-intents/asynchronous-capture).
 * The balance transaction is in the platform's settlement currency, converted when the charge
 * is in another one (`exchange_rate`).
 */
import type Stripe from "stripe";
import type { RequestContext, StandinCharge, StandinPaymentIntent, StandinState } from "../state.ts";
import { cardFee, stripeId } from "../state.ts";

const BILLING: Stripe.Charge.BillingDetails = {
  address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null,
};

export function newCharge(state: StandinState, intent: StandinPaymentIntent, method: string, status: "succeeded" | "failed",
  failure: { code: string; message: string } | null): StandinCharge {
  const id = stripeId("ch");
  const charge: StandinCharge = {
    id, object: "charge", amount: intent.amount, amount_captured: status === "succeeded" ? intent.amount : 0, amount_refunded: 0,
    application: null, application_fee: null, application_fee_amount: null, balance_transaction: null, billing_details: structuredClone(BILLING),
    calculated_statement_descriptor: "RALLY", captured: status === "succeeded", created: state.now(), currency: intent.currency,
    customer: null, description: intent.description, disputed: false, failure_balance_transaction: null,
    failure_code: failure?.code ?? null, failure_message: failure?.message ?? null, fraud_details: {}, livemode: false,
    metadata: { ...intent.metadata },
    on_behalf_of: null,
    outcome: status === "succeeded"
      ? { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: "approved_by_network", reason: null, risk_level: "normal", risk_score: 32, seller_message: "Payment complete.", type: "authorized" }
      : { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: "declined_by_network", reason: "generic_decline", risk_level: "normal", risk_score: 40, seller_message: "The bank did not return any further details with this decline.", type: "issuer_declined" },
    paid: status === "succeeded", payment_intent: intent.id, payment_method: method, payment_method_details: null,
    receipt_email: null, receipt_number: null, receipt_url: null, refunded: false, review: null, shipping: null, source: null,
    source_transfer: null, statement_descriptor: null, statement_descriptor_suffix: null, status, transfer_data: null,
    transfer_group: intent.transfer_group,
  };
  state.charges.set(id, charge);
  state.chargeBehaviour.set(id, method);
  return charge;
}

/** Stripe books the captured charge: a balance transaction in the settlement currency, net of its fee. */
export function bookCharge(state: StandinState, charge: StandinCharge): void {
  if (charge.balance_transaction !== null) return;
  const settled = state.settle(charge.amount, charge.currency);
  const bt = state.balanceTransaction({
    amount: settled.amount, fee: cardFee(settled.amount), currency: settled.currency, type: "charge", category: "charge",
    source: charge.id, exchangeRate: settled.exchangeRate,
  });
  charge.balance_transaction = bt.id;
  state.adjust("platform", bt.currency, bt.net);
}

/** Asynchronous capture finishing: the balance transaction appears and Stripe says so with charge.updated. */
export function finishAsyncCapture(state: StandinState, chargeId: string): void {
  const charge = state.charges.get(chargeId);
  if (charge === undefined || charge.balance_transaction !== null) return;
  bookCharge(state, charge);
  state.emit("charge.updated", charge, null, null, { balance_transaction: null });
}

export function retrieveCharge(state: StandinState, id: string): StandinCharge {
  return state.require(state.charges, id, "charge", "charge");
}

export type { RequestContext };
