/**
 * Payouts from a connected account (Stripe-Account header) to its bank. The bank answers later:
 * paid, or failed — and some payouts are first reported paid, then fail ("Some payouts that fail
 * might initially show as paid, then change to failed", stripe-node's Payout.status text); a
 * failure returns the money to the account's balance (`failure_balance_transaction`).
 */
import { invalid, validationError } from "../errors.ts";
import type { FormObject } from "../form.ts";
import { currency, metadata, oneOf, requireInt, str } from "../params.ts";
import { type RequestContext, type StandinPayout, type StandinState, stripeId } from "../state.ts";
import { retrieveAccount } from "./accounts.ts";
import { implemented } from "./payment-intents.ts";

export function createPayout(state: StandinState, params: FormObject, ctx: RequestContext): StandinPayout {
  implemented(params, ["amount", "currency", "metadata", "method", "description", "statement_descriptor", "expand"], "POST /v1/payouts");
  const amount = requireInt(params, "amount");
  const code = currency(params);
  const method = oneOf(params, "method", ["standard", "instant"] as const) ?? "standard";
  const meta = metadata(params);
  if (amount <= 0) throw validationError("Invalid positive integer", "amount", "parameter_invalid_integer");
  const owner = ctx.account ?? "platform";
  if (ctx.account !== null) retrieveAccount(state, ctx.account);
  if (state.balance(owner, code) < amount) {
    throw invalid(`You have insufficient funds in your Stripe account for this transfer. Your ${code} balance is too low.`, "amount", "balance_insufficient");
  }
  const id = stripeId("po");
  const bt = state.balanceTransaction({ amount: -amount, fee: 0, currency: code, type: "payout", category: "payout", source: id });
  const payout: StandinPayout = {
    id, object: "payout", amount, application_fee: null, application_fee_amount: null, arrival_date: state.now() + 2 * 86400, automatic: false,
    balance_transaction: bt.id, created: state.now(), currency: code, description: str(params, "description") ?? null,
    destination: stripeId("ba"), failure_balance_transaction: null, failure_code: null, failure_message: null, livemode: false,
    metadata: meta, method, original_payout: null, payout_method: null, reconciliation_status: "not_applicable", reversed_by: null,
    source_type: "card", statement_descriptor: str(params, "statement_descriptor") ?? null, status: "pending", trace_id: null, type: "bank_account",
  };
  state.payouts.set(id, { account: ctx.account, payout });
  state.adjust(owner, code, -amount);
  state.emit("payout.created", payout, ctx, ctx.account);
  if (state.options.payouts === "auto") {
    const account = ctx.account;
    if (account !== null && state.failingPayoutAccounts.has(account)) {
      state.options.later(() => settlePayout(state, id, "failed"));
    } else if (account !== null && state.paidThenFailingPayoutAccounts.has(account)) {
      state.options.later(() => {
        settlePayout(state, id, "paid");
        state.options.later(() => settlePayout(state, id, "failed"), 20);
      });
    } else {
      state.options.later(() => settlePayout(state, id, "paid"));
    }
  }
  return payout;
}

export function retrievePayout(state: StandinState, id: string, account: string | null): StandinPayout {
  const entry = state.payouts.get(id);
  if (entry === undefined || entry.account !== account) throw invalid(`No such payout: '${id}'`, "id", "resource_missing");
  return entry.payout;
}

/** The bank answers: paid, or failed (also after paid); the money returns to the account's balance. */
export function settlePayout(state: StandinState, id: string, outcome: "paid" | "failed"): StandinPayout {
  const entry = state.payouts.get(id);
  if (entry === undefined) throw invalid(`No such payout: '${id}'`, "id", "resource_missing");
  const { payout, account } = entry;
  const owner = account ?? "platform";
  const previous = payout.status;
  if (outcome === "paid") {
    if (previous !== "pending" && previous !== "in_transit") return payout;
    payout.status = "paid";
    state.emit("payout.paid", payout, null, account, { status: previous });
    return payout;
  }
  if (previous === "failed" || previous === "canceled") return payout;
  payout.status = "failed";
  payout.failure_code = "account_closed";
  payout.failure_message = "The bank account has been closed.";
  const bt = state.balanceTransaction({ amount: payout.amount, fee: 0, currency: payout.currency, type: "payout_failure", category: "payout_reversal", source: payout.id });
  payout.failure_balance_transaction = bt.id;
  state.adjust(owner, payout.currency, payout.amount);
  state.emit("payout.failed", payout, null, account, { status: previous });
  return payout;
}
