/** The balance (platform, or a connected account with Stripe-Account) and balance transactions. */
import type Stripe from "stripe";
import type { FormObject } from "../form.ts";
import type { StandinBalanceTransaction, StandinState } from "../state.ts";
import { implemented } from "./payment-intents.ts";

export function retrieveBalance(state: StandinState, account: string | null, params: FormObject): Stripe.Balance {
  implemented(params, ["expand"], "GET /v1/balance");
  const owner = account ?? "platform";
  const entries = [...(state.balances.get(owner) ?? new Map<string, number>()).entries()];
  return {
    object: "balance",
    available: entries.map(([currency, amount]) => ({ amount, currency, source_types: { card: amount } })),
    livemode: false,
    pending: entries.map(([currency]) => ({ amount: 0, currency, source_types: { card: 0 } })),
  };
}

export function retrieveBalanceTransaction(state: StandinState, id: string): StandinBalanceTransaction {
  return state.require(state.balanceTransactions, id, "balance transaction");
}
