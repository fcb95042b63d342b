/**
 * The Stripe stand-in's store: its state (state.ts) plus the moves that Stripe or the people
 * around it make outside the API — the host finishing onboarding, a bank settling a payout or a
 * refund, a card network deciding a dispute or opening an appeal. The API itself is in
 * resources/*.ts, one module per Stripe resource; server.ts routes requests to them.
 */
import { completeOnboarding } from "./resources/accounts.ts";
import { finishAsyncCapture } from "./resources/charges.ts";
import { closeDisputeAs, openAppeal } from "./resources/disputes.ts";
import { settlePayout } from "./resources/payouts.ts";
import { settleRefund } from "./resources/refunds.ts";
import { StandinState } from "./state.ts";

export { StripeApiError } from "./errors.ts";
export type { Json, JsonObject } from "./json.ts";
export { cardFee, DISPUTE_FEE, EUR_RATES, STANDIN_API_VERSION, stripeId } from "./state.ts";
export type { RequestContext, StateOptions as StoreOptions, StripeEvent } from "./state.ts";

export class StripeStore extends StandinState {
  completeOnboarding(accountId: string) {
    return completeOnboarding(this, accountId);
  }

  settlePayout(id: string, outcome: "paid" | "failed") {
    return settlePayout(this, id, outcome);
  }

  settleRefund(id: string, outcome: "succeeded" | "failed") {
    return settleRefund(this, id, outcome);
  }

  closeDisputeAs(id: string, outcome: "won" | "lost") {
    return closeDisputeAs(this, id, outcome);
  }

  openAppeal(disputeId: string) {
    return openAppeal(this, disputeId);
  }

  finishAsyncCapture(chargeId: string): void {
    finishAsyncCapture(this, chargeId);
  }
}
