/**
 * Transfers to connected accounts and their reversals. With `source_transaction` the transfer
 * draws on that charge's funds, so it is in the currency of the charge's balance transaction
 * (the platform's settlement currency) and at most what the charge brought in; without it, on
 * the platform's available balance. A reversal needs the destination account to still hold the
 * amount (docs.stripe.com/api/transfer_reversals).
 */
import { invalid, validationError } from "../errors.ts";
import type { FormObject } from "../form.ts";
import { currency, int, metadata, requireInt, requireStr, str } from "../params.ts";
import { type RequestContext, type StandinState, type StandinTransfer, type StandinTransferReversal, stripeId } from "../state.ts";
import { implemented } from "./payment-intents.ts";

export function createTransfer(state: StandinState, params: FormObject, ctx: RequestContext): StandinTransfer {
  implemented(params, ["amount", "currency", "destination", "source_transaction", "transfer_group", "metadata", "description", "expand"], "POST /v1/transfers");
  const amount = requireInt(params, "amount");
  const code = currency(params);
  const destination = requireStr(params, "destination");
  const meta = metadata(params);
  if (amount <= 0) throw validationError("Invalid positive integer", "amount", "parameter_invalid_integer");
  const account = state.accounts.get(destination);
  if (account === undefined) throw invalid(`No such destination: '${destination}'`, "destination", "resource_missing");
  if (account.capabilities.transfers !== "active") {
    throw invalid("Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
      "destination", "insufficient_capabilities_for_transfer");
  }
  const sourceTransaction = str(params, "source_transaction") ?? null;
  if (sourceTransaction !== null) {
    const charge = state.charges.get(sourceTransaction);
    if (charge === undefined || charge.status !== "succeeded") throw invalid(`No such charge: '${sourceTransaction}'`, "source_transaction", "resource_missing");
    const funds = state.settle(charge.amount, charge.currency);
    if (funds.currency !== code) {
      throw invalid(`The currency of source_transaction's balance transaction (${funds.currency}) must be the same as the transfer currency (${code}).`, "currency");
    }
    const used = [...state.transfers.values()].filter((t) => t.source_transaction === sourceTransaction).reduce((s, t) => s + t.amount - t.amount_reversed, 0);
    if (used + amount > funds.amount) {
      throw invalid(`Insufficient funds in the source transaction: ${funds.amount - used} ${code} left.`, "amount", "balance_insufficient");
    }
  } else if (state.balance("platform", code) < amount) {
    throw invalid("You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card.", "amount", "balance_insufficient");
  }
  const id = stripeId("tr");
  const bt = state.balanceTransaction({ amount: -amount, fee: 0, currency: code, type: "transfer", category: "transfer", source: id });
  const transfer: StandinTransfer = {
    id, object: "transfer", amount, amount_reversed: 0, balance_transaction: bt.id, created: state.now(), currency: code,
    description: str(params, "description") ?? null, destination, destination_payment: stripeId("py"), livemode: false, metadata: meta,
    reversals: { object: "list", data: [], has_more: false, url: `/v1/transfers/${id}/reversals` }, reversed: false,
    source_transaction: sourceTransaction, source_type: "card", transfer_group: str(params, "transfer_group") ?? null,
  };
  state.transfers.set(id, transfer);
  state.adjust("platform", code, -amount);
  state.adjust(destination, code, amount);
  state.emit("transfer.created", transfer, ctx);
  return transfer;
}

export function retrieveTransfer(state: StandinState, id: string): StandinTransfer {
  return state.require(state.transfers, id, "transfer");
}

export function createTransferReversal(state: StandinState, transferId: string, params: FormObject, ctx: RequestContext): StandinTransferReversal {
  implemented(params, ["amount", "metadata", "description", "expand"], "POST /v1/transfers/:id/reversals");
  const amountParam = int(params, "amount");
  const meta = metadata(params);
  const transfer = retrieveTransfer(state, transferId);
  const left = transfer.amount - transfer.amount_reversed;
  const amount = amountParam ?? left;
  if (amount <= 0) throw validationError("Invalid positive integer", "amount", "parameter_invalid_integer");
  if (amount > left) throw invalid(`You can only reverse up to the unreversed amount remaining of the transfer (${left}).`, "amount", "amount_too_large");
  if (state.balance(transfer.destination, transfer.currency) < amount) {
    throw invalid("Insufficient funds in the destination account to reverse this transfer.", "amount", "balance_insufficient");
  }
  const id = stripeId("trr");
  const bt = state.balanceTransaction({ amount, fee: 0, currency: transfer.currency, type: "transfer_refund", category: "transfer_reversal", source: id });
  const reversal: StandinTransferReversal = {
    id, object: "transfer_reversal", amount, balance_transaction: bt.id, created: state.now(), currency: transfer.currency,
    destination_payment_refund: stripeId("pyr"), metadata: meta, source_refund: null, transfer: transfer.id,
  };
  transfer.amount_reversed += amount;
  transfer.reversed = transfer.amount_reversed === transfer.amount;
  transfer.reversals.data.push(reversal);
  state.adjust(transfer.destination, transfer.currency, -amount);
  state.adjust("platform", transfer.currency, amount);
  state.emit("transfer.reversed", transfer, ctx, null, { amount_reversed: transfer.amount_reversed - amount, reversed: false });
  return reversal;
}
