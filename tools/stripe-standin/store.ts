/**
 * The Stripe stand-in's state: the subset of Stripe's object model Rally uses, kept in memory
 * and changed the way Stripe changes it (test mode), emitting the events Stripe would emit.
 * No HTTP here (server.ts does auth, idempotency, faults and webhook delivery).
 *
 * Objects: accounts (Connect, with onboarding through account links), account links, payment
 * intents (+ confirm with Stripe's test payment methods), charges, balance transactions (with a
 * card fee of 2.9 % + 30), refunds, transfers and transfer reversals, payouts from connected
 * accounts, disputes, events, balances (platform and each connected account).
 *
 * Test payment methods for confirm (as in Stripe test mode):
 *   pm_card_visa (and any other pm_card_*)  succeeds
 *   pm_card_chargeDeclined                  402 card_declined, payment_intent.payment_failed
 *   pm_card_createDispute                   succeeds, then a dispute (needs_response) withdraws the funds
 *   pm_card_createDisputeInquiry            succeeds, then an inquiry (warning_needs_response)
 *   pm_card_refundFail                      succeeds; its refunds succeed, then fail (refund.failed)
 * Disputes close like in test mode: evidence uncategorized_text "winning_evidence" → won,
 * "losing_evidence" → lost (after submit); POST /v1/disputes/:id/close → lost.
 */
import type { FormObject, FormValue } from "./form.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const STANDIN_API_VERSION = "2026-10-28.endive";

/** A Stripe API error: HTTP status plus the body's `error` object. */
export class StripeApiError extends Error {
  override readonly name = "StripeApiError";
  constructor(
    readonly status: number,
    readonly type: "invalid_request_error" | "api_error" | "card_error" | "idempotency_error" | "authentication_error",
    message: string,
    readonly code?: string,
    readonly param?: string,
    readonly extra: JsonObject = {},
  ) {
    super(message);
  }

  body(): JsonObject {
    const error: JsonObject = { type: this.type, message: this.message, ...this.extra };
    if (this.code !== undefined) error.code = this.code;
    if (this.param !== undefined) error.param = this.param;
    return { error };
  }
}

const invalid = (message: string, param?: string, code?: string): StripeApiError =>
  new StripeApiError(400, "invalid_request_error", message, code, param);
const missing = (kind: string, id: string, param = "id"): StripeApiError =>
  new StripeApiError(404, "invalid_request_error", `No such ${kind}: '${id}'`, "resource_missing", param);

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export function stripeId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}_${out}`;
}

function str(params: FormObject, name: string): string | undefined {
  const value = params[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function requireStr(params: FormObject, name: string): string {
  const value = str(params, name);
  if (value === undefined) throw invalid(`Missing required param: ${name}.`, name, "parameter_missing");
  return value;
}

function int(params: FormObject, name: string, required: boolean): number | undefined {
  const value = str(params, name);
  if (value === undefined) {
    if (required) throw invalid(`Missing required param: ${name}.`, name, "parameter_missing");
    return undefined;
  }
  if (!/^\d+$/.test(value)) throw invalid(`Invalid integer: ${value}`, name, "parameter_invalid_integer");
  return Number(value);
}

function currencyOf(params: FormObject): string {
  const value = requireStr(params, "currency").toLowerCase();
  if (!/^[a-z]{3}$/.test(value)) throw invalid(`Invalid currency: ${value}.`, "currency");
  return value;
}

function metadataOf(params: FormObject): Record<string, string> {
  const raw = params.metadata;
  if (raw === undefined || raw === "") return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw invalid("Invalid hash", "metadata");
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== "string") throw invalid("Metadata values must be strings.", `metadata[${key}]`);
    if (value !== "") out[key] = value;
  }
  return out;
}

function nested(params: FormObject, ...path: string[]): FormValue | undefined {
  let current: FormValue | undefined = params;
  for (const key of path) {
    if (current === undefined || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = current[key];
  }
  return current;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export interface RequestContext {
  requestId: string;
  idempotencyKey: string | null;
  /** Stripe-Account header: the connected account the request acts on. */
  account: string | null;
}

export interface StripeEvent extends JsonObject {
  id: string;
  object: "event";
  type: string;
  created: number;
}

export interface StoreOptions {
  now?: () => number;
  /** Runs later (Stripe's asynchronous transitions); the server tracks these for idle(). */
  later: (fn: () => void) => void;
  emit: (event: StripeEvent) => void;
  /** auto: payouts settle right away (paid, or failed for accounts told to fail); manual: settlePayout(). */
  payouts: "auto" | "manual";
  /** auto: refunds succeed right away; manual: pending until settleRefund(). */
  refunds: "auto" | "manual";
  baseUrl: () => string;
}

interface Account extends JsonObject {
  id: string;
  object: "account";
  type: string;
  email: string | null;
  country: string;
  default_currency: string;
  details_submitted: boolean;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  capabilities: { [key: string]: Json };
  requirements: { [key: string]: Json };
  settings: { [key: string]: Json };
  metadata: { [key: string]: string };
  livemode: boolean;
  created: number;
}

interface PaymentIntent extends JsonObject {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_received: number;
  currency: string;
  status: string;
  client_secret: string;
  transfer_group: string | null;
  latest_charge: string | null;
  metadata: { [key: string]: string };
  payment_method: string | null;
  last_payment_error: Json;
  cancellation_reason: string | null;
  created: number;
  livemode: boolean;
}

interface Charge extends JsonObject {
  id: string;
  object: "charge";
  amount: number;
  amount_refunded: number;
  currency: string;
  status: string;
  paid: boolean;
  refunded: boolean;
  disputed: boolean;
  payment_intent: string;
  balance_transaction: string;
  transfer_group: string | null;
  metadata: { [key: string]: string };
  created: number;
  livemode: boolean;
}

interface Refund extends JsonObject {
  id: string;
  object: "refund";
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  status: string;
  reason: string | null;
  failure_reason: string | null;
  metadata: { [key: string]: string };
  created: number;
}

interface TransferReversal extends JsonObject {
  id: string;
  object: "transfer_reversal";
  amount: number;
  currency: string;
  transfer: string;
  metadata: { [key: string]: string };
  created: number;
}

interface Transfer extends JsonObject {
  id: string;
  object: "transfer";
  amount: number;
  amount_reversed: number;
  currency: string;
  destination: string;
  source_transaction: string | null;
  transfer_group: string | null;
  reversed: boolean;
  reversals: { object: "list"; data: TransferReversal[]; has_more: boolean; total_count: number; url: string };
  metadata: { [key: string]: string };
  created: number;
  livemode: boolean;
}

interface Payout extends JsonObject {
  id: string;
  object: "payout";
  amount: number;
  currency: string;
  status: string;
  method: string;
  automatic: boolean;
  arrival_date: number;
  failure_code: string | null;
  failure_message: string | null;
  metadata: { [key: string]: string };
  created: number;
  livemode: boolean;
}

interface BalanceTransaction extends JsonObject {
  id: string;
  object: "balance_transaction";
  amount: number;
  fee: number;
  net: number;
  currency: string;
  type: string;
  reporting_category: string;
  source: string;
  status: string;
  available_on: number;
  created: number;
}

interface Dispute extends JsonObject {
  id: string;
  object: "dispute";
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  reason: string;
  status: string;
  is_charge_refundable: boolean;
  balance_transactions: BalanceTransaction[];
  evidence: { [key: string]: Json };
  evidence_details: { [key: string]: Json };
  metadata: { [key: string]: string };
  created: number;
  livemode: boolean;
}

/** A card's fee in test mode: 2.9 % + 30 minor units. */
export function cardFee(amount: number): number {
  return Math.round(amount * 0.029) + 30;
}

export const DISPUTE_FEE = 1500;

export class StripeStore {
  readonly accounts = new Map<string, Account>();
  readonly paymentIntents = new Map<string, PaymentIntent>();
  readonly charges = new Map<string, Charge>();
  readonly refunds = new Map<string, Refund>();
  readonly transfers = new Map<string, Transfer>();
  /** payouts by id, with the account they belong to (null = the platform). */
  readonly payouts = new Map<string, { account: string | null; payout: Payout }>();
  readonly balanceTransactions = new Map<string, BalanceTransaction>();
  readonly disputes = new Map<string, Dispute>();
  readonly events: StripeEvent[] = [];
  /** Available balance per currency: key "platform" or an account id. */
  readonly balances = new Map<string, Map<string, number>>();
  /** Accounts whose payouts fail (like Stripe's failing test bank accounts). */
  readonly failingPayoutAccounts = new Set<string>();
  private readonly chargeBehaviour = new Map<string, string>();
  private readonly options: StoreOptions;

  constructor(options: StoreOptions) {
    this.options = options;
  }

  private now(): number {
    return Math.floor((this.options.now?.() ?? Date.now()) / 1000);
  }

  private emit(type: string, object: JsonObject, ctx: RequestContext | null, account: string | null = null,
               previous?: JsonObject): void {
    const event: StripeEvent = {
      id: stripeId("evt"),
      object: "event",
      api_version: STANDIN_API_VERSION,
      created: this.now(),
      data: previous === undefined ? { object: clone(object) } : { object: clone(object), previous_attributes: previous },
      livemode: false,
      pending_webhooks: 1,
      request: { id: ctx?.requestId ?? null, idempotency_key: ctx?.idempotencyKey ?? null },
      type,
    };
    if (account !== null) event.account = account;
    this.events.push(event);
    this.options.emit(event);
  }

  private balance(owner: string, currency: string): number {
    return this.balances.get(owner)?.get(currency) ?? 0;
  }

  private adjust(owner: string, currency: string, delta: number): void {
    const byCurrency = this.balances.get(owner) ?? new Map<string, number>();
    byCurrency.set(currency, (byCurrency.get(currency) ?? 0) + delta);
    this.balances.set(owner, byCurrency);
  }

  private balanceTransaction(amount: number, fee: number, currency: string, type: string, category: string, source: string): BalanceTransaction {
    const bt: BalanceTransaction = {
      id: stripeId("txn"), object: "balance_transaction", amount, fee, net: amount - fee, currency, type,
      reporting_category: category, source, status: "available", available_on: this.now(), created: this.now(),
    };
    this.balanceTransactions.set(bt.id, bt);
    return bt;
  }

  // ------------------------------------------------------------------ accounts

  createAccount(params: FormObject, ctx: RequestContext): Account {
    const requested = nested(params, "capabilities", "transfers", "requested") === "true";
    const account: Account = {
      id: stripeId("acct"),
      object: "account",
      type: nested(params, "controller", "stripe_dashboard", "type") === "express" ? "express" : (str(params, "type") ?? "none"),
      email: str(params, "email") ?? null,
      country: (str(params, "country") ?? "GB").toUpperCase(),
      default_currency: "eur",
      details_submitted: false,
      charges_enabled: false,
      payouts_enabled: false,
      capabilities: requested ? { transfers: "inactive" } : {},
      requirements: {
        currently_due: ["external_account", "individual.first_name", "individual.last_name", "tos_acceptance.date"],
        eventually_due: [], past_due: [], disabled_reason: "requirements.past_due", errors: [],
      },
      settings: { payouts: { schedule: { interval: (nested(params, "settings", "payouts", "schedule", "interval") as string | undefined) ?? "daily" } } },
      controller: {
        fees: { payer: (nested(params, "controller", "fees", "payer") as string | undefined) ?? "account" },
        losses: { payments: (nested(params, "controller", "losses", "payments") as string | undefined) ?? "stripe" },
      },
      metadata: metadataOf(params),
      livemode: false,
      created: this.now(),
    };
    this.accounts.set(account.id, account);
    this.emit("account.updated", account, ctx, account.id);
    return account;
  }

  retrieveAccount(id: string): Account {
    const account = this.accounts.get(id);
    if (account === undefined) throw new StripeApiError(403, "invalid_request_error",
      `The provided key does not have access to account '${id}' (or that account does not exist).`, "account_invalid");
    return account;
  }

  createAccountLink(params: FormObject): JsonObject {
    const accountId = requireStr(params, "account");
    this.retrieveAccount(accountId);
    const type = requireStr(params, "type");
    if (type !== "account_onboarding" && type !== "account_update") throw invalid(`Invalid type: ${type}`, "type");
    const returnUrl = requireStr(params, "return_url");
    const refreshUrl = str(params, "refresh_url") ?? returnUrl;
    const url = new URL(`/_standin/onboarding/${accountId}`, this.options.baseUrl());
    url.searchParams.set("return_url", returnUrl);
    url.searchParams.set("refresh_url", refreshUrl);
    const created = this.now();
    return { object: "account_link", created, expires_at: created + 300, url: url.href };
  }

  /** What the host does on the Stripe-hosted onboarding page: everything due is provided. */
  completeOnboarding(id: string): Account {
    const account = this.retrieveAccount(id);
    account.details_submitted = true;
    account.charges_enabled = true;
    account.payouts_enabled = true;
    account.requirements = { currently_due: [], eventually_due: [], past_due: [], disabled_reason: null, errors: [] };
    const hadTransfers = "transfers" in account.capabilities;
    if (hadTransfers) account.capabilities.transfers = "active";
    this.emit("account.updated", account, null, account.id);
    if (hadTransfers) {
      this.emit("capability.updated", { id: "transfers", object: "capability", account: account.id, requested: true, status: "active" },
        null, account.id);
    }
    return account;
  }

  // ------------------------------------------------------------------ payment intents

  createPaymentIntent(params: FormObject, ctx: RequestContext): PaymentIntent {
    const amount = int(params, "amount", true) ?? 0;
    if (amount < 50) throw invalid("Amount must be at least 50 (the minimum charge).", "amount", "amount_too_small");
    const id = stripeId("pi");
    const intent: PaymentIntent = {
      id, object: "payment_intent", amount, amount_received: 0, currency: currencyOf(params), status: "requires_payment_method",
      client_secret: `${id}_secret_${stripeId("s").slice(2)}`, transfer_group: str(params, "transfer_group") ?? null,
      latest_charge: null, metadata: metadataOf(params), payment_method: null, last_payment_error: null,
      cancellation_reason: null, created: this.now(), livemode: false,
      automatic_payment_methods: { enabled: nested(params, "automatic_payment_methods", "enabled") !== "false" },
    };
    this.paymentIntents.set(id, intent);
    this.emit("payment_intent.created", intent, ctx);
    return intent;
  }

  retrievePaymentIntent(id: string): PaymentIntent {
    const intent = this.paymentIntents.get(id);
    if (intent === undefined) throw missing("payment_intent", id, "intent");
    return intent;
  }

  confirmPaymentIntent(id: string, params: FormObject, ctx: RequestContext): PaymentIntent {
    const intent = this.retrievePaymentIntent(id);
    if (intent.status !== "requires_payment_method" && intent.status !== "requires_confirmation") {
      throw new StripeApiError(400, "invalid_request_error",
        `This PaymentIntent's status is ${intent.status}; it cannot be confirmed.`, "payment_intent_unexpected_state");
    }
    const method = str(params, "payment_method") ?? "pm_card_visa";
    if (!method.startsWith("pm_card_")) throw invalid(`No such PaymentMethod: '${method}'`, "payment_method", "resource_missing");
    intent.payment_method = method;
    if (method === "pm_card_chargeDeclined" || method === "pm_card_visa_chargeDeclined") {
      intent.status = "requires_payment_method";
      intent.last_payment_error = { type: "card_error", code: "card_declined", decline_code: "generic_decline", message: "Your card was declined." };
      this.emit("payment_intent.payment_failed", intent, ctx);
      throw new StripeApiError(402, "card_error", "Your card was declined.", "card_declined", undefined,
        { decline_code: "generic_decline", payment_intent: clone(intent) });
    }
    const bt = this.balanceTransaction(intent.amount, cardFee(intent.amount), intent.currency, "charge", "charge", "");
    const charge: Charge = {
      id: stripeId("ch"), object: "charge", amount: intent.amount, amount_refunded: 0, currency: intent.currency,
      status: "succeeded", paid: true, refunded: false, disputed: false, payment_intent: intent.id, balance_transaction: bt.id,
      transfer_group: intent.transfer_group, metadata: { ...intent.metadata }, created: this.now(), livemode: false,
    };
    bt.source = charge.id;
    this.charges.set(charge.id, charge);
    this.chargeBehaviour.set(charge.id, method);
    this.adjust("platform", intent.currency, bt.net);
    intent.status = "succeeded";
    intent.amount_received = intent.amount;
    intent.latest_charge = charge.id;
    intent.last_payment_error = null;
    this.emit("charge.succeeded", charge, ctx);
    this.emit("payment_intent.succeeded", intent, ctx);
    if (method === "pm_card_createDispute" || method === "pm_card_createDisputeInquiry") {
      const inquiry = method === "pm_card_createDisputeInquiry";
      this.options.later(() => this.openDispute(charge, inquiry));
    }
    return intent;
  }

  cancelPaymentIntent(id: string, params: FormObject, ctx: RequestContext): PaymentIntent {
    const intent = this.retrievePaymentIntent(id);
    if (intent.status === "succeeded" || intent.status === "canceled") {
      throw new StripeApiError(400, "invalid_request_error",
        `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`, "payment_intent_unexpected_state");
    }
    intent.status = "canceled";
    intent.cancellation_reason = str(params, "cancellation_reason") ?? null;
    this.emit("payment_intent.canceled", intent, ctx);
    return intent;
  }

  retrieveCharge(id: string): Charge {
    const charge = this.charges.get(id);
    if (charge === undefined) throw missing("charge", id, "charge");
    return charge;
  }

  retrieveBalanceTransaction(id: string): BalanceTransaction {
    const bt = this.balanceTransactions.get(id);
    if (bt === undefined) throw missing("balance transaction", id);
    return bt;
  }

  // ------------------------------------------------------------------ refunds

  createRefund(params: FormObject, ctx: RequestContext): Refund {
    const piId = str(params, "payment_intent");
    const chargeId = str(params, "charge");
    if (piId === undefined && chargeId === undefined) throw invalid("One of `charge` or `payment_intent` is required.", "payment_intent");
    let charge: Charge;
    if (chargeId !== undefined) {
      charge = this.retrieveCharge(chargeId);
    } else {
      const intent = this.retrievePaymentIntent(piId ?? "");
      if (intent.latest_charge === null || intent.status !== "succeeded") {
        throw invalid(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, "payment_intent");
      }
      charge = this.retrieveCharge(intent.latest_charge);
    }
    const inFlight = [...this.refunds.values()]
      .filter((r) => r.charge === charge.id && r.status === "pending").reduce((sum, r) => sum + r.amount, 0);
    const refundable = charge.amount - charge.amount_refunded - inFlight;
    if (charge.disputed) throw invalid(`Charge ${charge.id} has been charged back; cannot issue a refund.`, "charge", "charge_disputed");
    if (refundable <= 0) throw invalid(`Charge ${charge.id} has already been refunded.`, "charge", "charge_already_refunded");
    const amount = int(params, "amount", false) ?? refundable;
    if (amount <= 0 || amount > refundable) {
      throw invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable}).`, "amount", "amount_too_large");
    }
    const reason = str(params, "reason") ?? null;
    if (reason !== null && !["duplicate", "fraudulent", "requested_by_customer"].includes(reason)) throw invalid(`Invalid reason: ${reason}`, "reason");
    const refund: Refund = {
      id: stripeId("re"), object: "refund", amount, currency: charge.currency, charge: charge.id, payment_intent: charge.payment_intent,
      status: "pending", reason, failure_reason: null, metadata: metadataOf(params), created: this.now(),
    };
    this.refunds.set(refund.id, refund);
    if (this.options.refunds === "auto") {
      this.succeedRefund(refund);
      this.emit("refund.created", refund, ctx);
      this.emit("charge.refunded", charge, ctx);
    } else {
      this.emit("refund.created", refund, ctx);
    }
    if (this.chargeBehaviour.get(charge.id) === "pm_card_refundFail") {
      this.options.later(() => this.settleRefund(refund.id, "failed"));
    }
    return refund;
  }

  private succeedRefund(refund: Refund): void {
    const charge = this.retrieveCharge(refund.charge);
    refund.status = "succeeded";
    charge.amount_refunded += refund.amount;
    charge.refunded = charge.amount_refunded >= charge.amount;
    this.adjust("platform", refund.currency, -refund.amount);
    this.balanceTransaction(-refund.amount, 0, refund.currency, "refund", "refund", refund.id);
  }

  retrieveRefund(id: string): Refund {
    const refund = this.refunds.get(id);
    if (refund === undefined) throw missing("refund", id);
    return refund;
  }

  /** A pending refund settles, or a settled one fails (Stripe returns the money). */
  settleRefund(id: string, outcome: "succeeded" | "failed"): Refund {
    const refund = this.retrieveRefund(id);
    const charge = this.retrieveCharge(refund.charge);
    if (outcome === "succeeded") {
      if (refund.status !== "pending") return refund;
      this.succeedRefund(refund);
      this.emit("refund.updated", refund, null, null, { status: "pending" });
      this.emit("charge.refunded", charge, null);
      return refund;
    }
    if (refund.status === "failed" || refund.status === "canceled") return refund;
    const previous = refund.status;
    if (previous === "succeeded") {
      charge.amount_refunded -= refund.amount;
      charge.refunded = false;
      this.adjust("platform", refund.currency, refund.amount);
      this.balanceTransaction(refund.amount, 0, refund.currency, "refund_failure", "refund_failure", refund.id);
    }
    refund.status = "failed";
    refund.failure_reason = "expired_or_canceled_card";
    this.emit("refund.failed", refund, null, null, { status: previous });
    this.emit("refund.updated", refund, null, null, { status: previous });
    return refund;
  }

  // ------------------------------------------------------------------ transfers

  createTransfer(params: FormObject, ctx: RequestContext): Transfer {
    const amount = int(params, "amount", true) ?? 0;
    if (amount <= 0) throw invalid("Amount must be positive.", "amount");
    const currency = currencyOf(params);
    const destination = requireStr(params, "destination");
    const account = this.accounts.get(destination);
    if (account === undefined) throw invalid(`No such destination: '${destination}'`, "destination", "resource_missing");
    if (account.capabilities.transfers !== "active") {
      throw invalid("Your destination account needs to have at least one of the following capabilities enabled: transfers.",
        "destination", "insufficient_capabilities_for_transfer");
    }
    const sourceTransaction = str(params, "source_transaction") ?? null;
    if (sourceTransaction !== null) {
      const charge = this.charges.get(sourceTransaction);
      if (charge === undefined) throw invalid(`No such charge: '${sourceTransaction}'`, "source_transaction", "resource_missing");
      if (charge.currency !== currency) throw invalid("The currency of source_transaction's balance transaction must match the transfer.", "currency");
      const used = [...this.transfers.values()].filter((t) => t.source_transaction === sourceTransaction).reduce((s, t) => s + t.amount, 0);
      if (used + amount > charge.amount) {
        throw invalid(`Insufficient funds in the source transaction: ${charge.amount - used} left.`, "amount", "balance_insufficient");
      }
    } else if (this.balance("platform", currency) < amount) {
      throw invalid("You have insufficient available funds in your Stripe account.", "amount", "balance_insufficient");
    }
    const id = stripeId("tr");
    const transfer: Transfer = {
      id, object: "transfer", amount, amount_reversed: 0, currency, destination, source_transaction: sourceTransaction,
      transfer_group: str(params, "transfer_group") ?? null, reversed: false,
      reversals: { object: "list", data: [], has_more: false, total_count: 0, url: `/v1/transfers/${id}/reversals` },
      metadata: metadataOf(params), created: this.now(), livemode: false,
    };
    this.transfers.set(id, transfer);
    this.adjust("platform", currency, -amount);
    this.adjust(destination, currency, amount);
    this.balanceTransaction(-amount, 0, currency, "transfer", "transfer", id);
    this.emit("transfer.created", transfer, ctx);
    return transfer;
  }

  retrieveTransfer(id: string): Transfer {
    const transfer = this.transfers.get(id);
    if (transfer === undefined) throw missing("transfer", id);
    return transfer;
  }

  createTransferReversal(transferId: string, params: FormObject, ctx: RequestContext): TransferReversal {
    const transfer = this.retrieveTransfer(transferId);
    const left = transfer.amount - transfer.amount_reversed;
    const amount = int(params, "amount", false) ?? left;
    if (amount <= 0 || amount > left) {
      throw invalid(`You can only reverse up to the unreversed amount remaining of the transfer (${left}).`, "amount", "amount_too_large");
    }
    if (this.balance(transfer.destination, transfer.currency) < amount) {
      throw invalid("Insufficient funds in the destination account to reverse this transfer.", "amount", "balance_insufficient");
    }
    const reversal: TransferReversal = {
      id: stripeId("trr"), object: "transfer_reversal", amount, currency: transfer.currency, transfer: transfer.id,
      metadata: metadataOf(params), created: this.now(),
    };
    transfer.amount_reversed += amount;
    transfer.reversed = transfer.amount_reversed === transfer.amount;
    transfer.reversals.data.push(reversal);
    transfer.reversals.total_count = transfer.reversals.data.length;
    this.adjust(transfer.destination, transfer.currency, -amount);
    this.adjust("platform", transfer.currency, amount);
    this.balanceTransaction(amount, 0, transfer.currency, "transfer_refund", "transfer_reversal", reversal.id);
    this.emit("transfer.reversed", transfer, ctx, null, { amount_reversed: transfer.amount_reversed - amount });
    return reversal;
  }

  // ------------------------------------------------------------------ payouts

  createPayout(params: FormObject, ctx: RequestContext): Payout {
    const amount = int(params, "amount", true) ?? 0;
    if (amount <= 0) throw invalid("Amount must be positive.", "amount");
    const currency = currencyOf(params);
    const owner = ctx.account ?? "platform";
    if (ctx.account !== null) this.retrieveAccount(ctx.account);
    if (this.balance(owner, currency) < amount) {
      throw invalid(`You have insufficient funds in your Stripe account for this transfer. Your ${currency} balance is too low.`,
        "amount", "balance_insufficient");
    }
    const payout: Payout = {
      id: stripeId("po"), object: "payout", amount, currency, status: "pending", method: str(params, "method") ?? "standard",
      automatic: false, arrival_date: this.now() + 2 * 86400, failure_code: null, failure_message: null,
      metadata: metadataOf(params), created: this.now(), livemode: false,
    };
    this.payouts.set(payout.id, { account: ctx.account, payout });
    this.adjust(owner, currency, -amount);
    this.emit("payout.created", payout, ctx, ctx.account);
    if (this.options.payouts === "auto") {
      const outcome = ctx.account !== null && this.failingPayoutAccounts.has(ctx.account) ? "failed" : "paid";
      this.options.later(() => this.settlePayout(payout.id, outcome));
    }
    return payout;
  }

  retrievePayout(id: string, account: string | null): Payout {
    const entry = this.payouts.get(id);
    if (entry === undefined || entry.account !== account) throw missing("payout", id);
    return entry.payout;
  }

  /** The bank answers: paid, or failed (the money returns to the account's balance). */
  settlePayout(id: string, outcome: "paid" | "failed"): Payout {
    const entry = this.payouts.get(id);
    if (entry === undefined) throw missing("payout", id);
    const { payout, account } = entry;
    const owner = account ?? "platform";
    if (outcome === "paid") {
      if (payout.status !== "pending" && payout.status !== "in_transit") return payout;
      const previous = payout.status;
      payout.status = "paid";
      this.emit("payout.paid", payout, null, account, { status: previous });
      return payout;
    }
    if (payout.status === "failed" || payout.status === "canceled") return payout;
    const previous = payout.status;
    payout.status = "failed";
    payout.failure_code = "account_closed";
    payout.failure_message = "The bank account has been closed.";
    this.adjust(owner, payout.currency, payout.amount);
    this.emit("payout.failed", payout, null, account, { status: previous });
    return payout;
  }

  // ------------------------------------------------------------------ disputes

  private openDispute(charge: Charge, inquiry: boolean): void {
    const intent = this.retrievePaymentIntent(charge.payment_intent);
    const dispute: Dispute = {
      id: stripeId(inquiry ? "du" : "dp"), object: "dispute", amount: charge.amount, currency: charge.currency, charge: charge.id,
      payment_intent: intent.id, reason: inquiry ? "general" : "fraudulent",
      status: inquiry ? "warning_needs_response" : "needs_response", is_charge_refundable: inquiry, balance_transactions: [],
      evidence: {}, evidence_details: { due_by: this.now() + 7 * 86400, has_evidence: false, past_due: false, submission_count: 0 },
      metadata: {}, created: this.now(), livemode: false,
    };
    this.disputes.set(dispute.id, dispute);
    charge.disputed = true;
    this.emit("charge.dispute.created", dispute, null);
    if (!inquiry) {
      const bt = this.balanceTransaction(-dispute.amount, DISPUTE_FEE, dispute.currency, "adjustment", "dispute", dispute.id);
      dispute.balance_transactions.push(bt);
      this.adjust("platform", dispute.currency, bt.net);
      this.emit("charge.dispute.funds_withdrawn", dispute, null);
    }
  }

  retrieveDispute(id: string): Dispute {
    const dispute = this.disputes.get(id);
    if (dispute === undefined) throw missing("dispute", id, "dispute");
    return dispute;
  }

  updateDispute(id: string, params: FormObject, ctx: RequestContext): Dispute {
    const dispute = this.retrieveDispute(id);
    if (["won", "lost", "warning_closed"].includes(dispute.status)) {
      throw invalid(`This dispute is already closed (${dispute.status}).`, "dispute", "dispute_already_closed");
    }
    const evidence = params.evidence;
    if (evidence !== undefined && typeof evidence === "object" && !Array.isArray(evidence)) {
      for (const [key, value] of Object.entries(evidence)) if (typeof value === "string") dispute.evidence[key] = value;
      dispute.evidence_details.has_evidence = true;
    }
    if (str(params, "submit") === "true") {
      const text = dispute.evidence.uncategorized_text;
      dispute.status = dispute.status.startsWith("warning_") ? "warning_under_review" : "under_review";
      dispute.evidence_details.submission_count = Number(dispute.evidence_details.submission_count ?? 0) + 1;
      this.emit("charge.dispute.updated", dispute, ctx);
      if (text === "winning_evidence" || text === "losing_evidence") {
        this.options.later(() => this.closeDisputeAs(dispute.id, text === "winning_evidence" ? "won" : "lost"));
      }
    } else {
      this.emit("charge.dispute.updated", dispute, ctx);
    }
    return dispute;
  }

  /** Accepting a dispute: it is lost at once. */
  closeDispute(id: string): Dispute {
    return this.closeDisputeAs(id, "lost");
  }

  closeDisputeAs(id: string, outcome: "won" | "lost"): Dispute {
    const dispute = this.retrieveDispute(id);
    if (["won", "lost", "warning_closed"].includes(dispute.status)) return dispute;
    const inquiry = dispute.status.startsWith("warning_");
    dispute.status = inquiry ? "warning_closed" : outcome;
    const charge = this.retrieveCharge(dispute.charge);
    charge.disputed = false;
    if (!inquiry && outcome === "won") {
      const bt = this.balanceTransaction(dispute.amount, 0, dispute.currency, "adjustment", "dispute_reversal", dispute.id);
      dispute.balance_transactions.push(bt);
      this.adjust("platform", dispute.currency, bt.net);
      this.emit("charge.dispute.closed", dispute, null);
      this.emit("charge.dispute.funds_reinstated", dispute, null);
    } else {
      this.emit("charge.dispute.closed", dispute, null);
    }
    return dispute;
  }

  // ------------------------------------------------------------------ events & balance

  retrieveEvent(id: string): StripeEvent {
    const event = this.events.find((e) => e.id === id);
    if (event === undefined) throw missing("event", id);
    return event;
  }

  listEvents(params: FormObject): JsonObject {
    const limit = Math.min(Math.max(int(params, "limit", false) ?? 10, 1), 100);
    const type = str(params, "type");
    const startingAfter = str(params, "starting_after");
    let list = [...this.events].reverse();
    if (type !== undefined) {
      const pattern = new RegExp(`^${type.replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`);
      list = list.filter((e) => pattern.test(e.type));
    }
    if (startingAfter !== undefined) {
      const index = list.findIndex((e) => e.id === startingAfter);
      list = index === -1 ? [] : list.slice(index + 1);
    }
    return { object: "list", url: "/v1/events", has_more: list.length > limit, data: list.slice(0, limit) };
  }

  retrieveBalance(account: string | null): JsonObject {
    const owner = account ?? "platform";
    const available = [...(this.balances.get(owner) ?? new Map<string, number>()).entries()]
      .map(([currency, amount]) => ({ currency, amount, source_types: { card: amount } }));
    return { object: "balance", available, pending: [], livemode: false };
  }
}
