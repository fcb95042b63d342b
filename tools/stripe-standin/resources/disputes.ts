/**
 * Disputes, as the pinned API version has them (stripe-node's Dispute.Status): inquiries
 * (`warning_needs_response` → `warning_under_review` → `warning_closed`), chargebacks
 * (`needs_response` → `under_review` → `won` | `lost`) and appeals after a loss
 * (`appeal_needs_response` → `appeal_under_review` → `won` | `lost`).
 *
 * A chargeback withdraws the amount and the dispute fee at once (one balance transaction in the
 * settlement currency, charge.dispute.funds_withdrawn); winning — also after an appeal —
 * reinstates the amount (a second balance transaction, charge.dispute.funds_reinstated).
 * Outcomes as in test mode: submitted evidence `uncategorized_text` "winning_evidence" wins,
 * "losing_evidence" loses; closing (accepting) loses; an appeal decides on
 * `evidence[appeal][card][reason_for_filing]` the same way. Stripe opens the appeal stage of a
 * lost dispute when the card network allows one: here openAppeal() (or
 * POST /_standin/disputes/:id/appeal) does.
 */
import type Stripe from "stripe";
import { invalid } from "../errors.ts";
import type { FormObject } from "../form.ts";
import { bool, metadata, nested, nestedStr } from "../params.ts";
import { DISPUTE_FEE, type RequestContext, type StandinDispute, type StandinState, stripeId } from "../state.ts";
import { retrieveCharge } from "./charges.ts";
import { implemented } from "./payment-intents.ts";

const CLOSED = new Set(["won", "lost", "warning_closed", "prevented"]);

function emptyEvidence(): Stripe.Dispute.Evidence {
  return {
    access_activity_log: null, appeal: null, billing_address: null, cancellation_policy: null, cancellation_policy_disclosure: null,
    cancellation_rebuttal: null, customer_communication: null, customer_email_address: null, customer_name: null, customer_purchase_ip: null,
    customer_signature: null, duplicate_charge_documentation: null, duplicate_charge_explanation: null, duplicate_charge_id: null,
    enhanced_evidence: {}, product_description: null, receipt: null, refund_policy: null, refund_policy_disclosure: null,
    refund_refusal_explanation: null, service_date: null, service_documentation: null, shipping_address: null, shipping_carrier: null,
    shipping_date: null, shipping_documentation: null, shipping_tracking_number: null, uncategorized_file: null, uncategorized_text: null,
  };
}

export function openDispute(state: StandinState, chargeId: string, inquiry: boolean): StandinDispute {
  const charge = retrieveCharge(state, chargeId);
  const dispute: StandinDispute = {
    id: stripeId(inquiry ? "du" : "dp"), object: "dispute", amount: charge.amount, balance_transactions: [], charge: charge.id,
    created: state.now(), currency: charge.currency, enhanced_eligibility_types: [], evidence: emptyEvidence(),
    evidence_details: { due_by: state.now() + 7 * 86400, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0, submission_method: "not_submitted" },
    intended_submission_method: null, is_charge_refundable: inquiry, livemode: false, metadata: {}, payment_intent: charge.payment_intent,
    reason: inquiry ? "general" : "fraudulent", status: inquiry ? "warning_needs_response" : "needs_response",
  };
  state.disputes.set(dispute.id, dispute);
  charge.disputed = true;
  state.emit("charge.dispute.created", dispute, null);
  if (!inquiry) {
    const settled = state.settle(dispute.amount, dispute.currency);
    const bt = state.balanceTransaction({
      amount: -settled.amount, fee: DISPUTE_FEE, currency: settled.currency, type: "adjustment", category: "dispute", source: dispute.id,
      exchangeRate: settled.exchangeRate, description: `Chargeback withdrawal for ${charge.id}`, feeDescription: "Dispute fee",
    });
    dispute.balance_transactions.push(bt);
    state.adjust("platform", bt.currency, bt.net);
    state.emit("charge.dispute.funds_withdrawn", dispute, null);
  }
  return dispute;
}

export function retrieveDispute(state: StandinState, id: string): StandinDispute {
  return state.require(state.disputes, id, "dispute", "dispute");
}

const outcomeOf = (text: string | null | undefined): "won" | "lost" | null =>
  text === "winning_evidence" ? "won" : text === "losing_evidence" ? "lost" : null;

export function updateDispute(state: StandinState, id: string, params: FormObject, ctx: RequestContext): StandinDispute {
  implemented(params, ["evidence", "submit", "metadata", "expand"], "POST /v1/disputes/:id");
  const submit = bool(params, "submit") ?? false;
  const meta = params.metadata === undefined ? null : metadata(params);
  const dispute = retrieveDispute(state, id);
  const appealing = dispute.status === "appeal_needs_response";
  if (CLOSED.has(dispute.status) || dispute.status.endsWith("under_review")) {
    throw invalid(`This dispute is ${dispute.status.replaceAll("_", " ")}; its evidence can no longer be changed.`, "evidence", "dispute_already_closed");
  }
  const evidence = nested(params, "evidence");
  if (evidence !== undefined && typeof evidence === "object" && !Array.isArray(evidence)) {
    const target = dispute.evidence as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(evidence)) {
      if (typeof value === "string") target[key] = value === "" ? null : value;
    }
    const reason = nestedStr(params, "evidence", "appeal", "card", "reason_for_filing");
    if (reason !== undefined) dispute.evidence.appeal = { card: { reason_for_filing: reason, supporting_files: [] } };
    dispute.evidence_details.has_evidence = true;
  }
  if (meta !== null) dispute.metadata = meta;
  if (!submit) {
    state.emit("charge.dispute.updated", dispute, ctx);
    return dispute;
  }
  const previous = dispute.status;
  dispute.status = appealing ? "appeal_under_review" : previous.startsWith("warning_") ? "warning_under_review" : "under_review";
  dispute.evidence_details.submission_count += 1;
  dispute.evidence_details.submission_method = "manual";
  state.emit("charge.dispute.updated", dispute, ctx, null, { status: previous });
  const outcome = outcomeOf(appealing ? dispute.evidence.appeal?.card?.reason_for_filing : dispute.evidence.uncategorized_text);
  if (outcome !== null) state.options.later(() => closeDisputeAs(state, dispute.id, outcome));
  return dispute;
}

/** Accepting a dispute (POST /v1/disputes/:id/close): lost at once. */
export function closeDispute(state: StandinState, id: string, params: FormObject, ctx: RequestContext | null): StandinDispute {
  implemented(params, ["expand"], "POST /v1/disputes/:id/close");
  const dispute = retrieveDispute(state, id);
  if (CLOSED.has(dispute.status)) throw invalid(`This dispute is already closed (${dispute.status}).`, undefined, "dispute_already_closed");
  return decide(state, dispute, "lost", ctx);
}

/** The network decides. */
export function closeDisputeAs(state: StandinState, id: string, outcome: "won" | "lost"): StandinDispute {
  const dispute = retrieveDispute(state, id);
  if (CLOSED.has(dispute.status)) return dispute;
  return decide(state, dispute, outcome, null);
}

function decide(state: StandinState, dispute: StandinDispute, outcome: "won" | "lost", ctx: RequestContext | null): StandinDispute {
  const previous = dispute.status;
  const inquiry = previous.startsWith("warning_");
  dispute.status = inquiry ? "warning_closed" : outcome;
  const charge = retrieveCharge(state, dispute.charge);
  charge.disputed = false;
  if (!inquiry && outcome === "won") {
    const settled = state.settle(dispute.amount, dispute.currency);
    const bt = state.balanceTransaction({
      amount: settled.amount, fee: 0, currency: settled.currency, type: "adjustment", category: "dispute_reversal", source: dispute.id,
      exchangeRate: settled.exchangeRate, description: `Chargeback reversal for ${charge.id}`,
    });
    dispute.balance_transactions.push(bt);
    state.adjust("platform", bt.currency, bt.net);
    state.emit("charge.dispute.closed", dispute, ctx, null, { status: previous });
    state.emit("charge.dispute.funds_reinstated", dispute, ctx);
  } else {
    state.emit("charge.dispute.closed", dispute, ctx, null, { status: previous });
  }
  return dispute;
}

/** The card network opens an appeal of a lost chargeback: the merchant may respond again. */
export function openAppeal(state: StandinState, id: string): StandinDispute {
  const dispute = retrieveDispute(state, id);
  if (dispute.status !== "lost") throw invalid(`Only a lost dispute can be appealed; this one is ${dispute.status}.`, "dispute");
  dispute.status = "appeal_needs_response";
  dispute.evidence_details.due_by = state.now() + 7 * 86400;
  retrieveCharge(state, dispute.charge).disputed = true;
  state.emit("charge.dispute.updated", dispute, null, null, { status: "lost" });
  return dispute;
}
