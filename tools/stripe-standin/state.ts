/**
 * The stand-in's state: the objects of the Stripe API subset Rally uses, kept in memory, the
 * platform's and connected accounts' balances, the clock, the exchange of a charge's currency
 * into the platform's settlement currency, and the events Stripe would emit. Each resource
 * module (resources/*.ts, one per Stripe resource, as stripe-node is organised) changes this
 * state the way Stripe does; the objects are typed with stripe-node's own types, so an object
 * missing a field of the pinned API version does not compile.
 */
import type Stripe from "stripe";
import { StripeApiError, unsupported } from "./errors.ts";
import { asJson, clone, type JsonObject } from "./json.ts";

export const STANDIN_API_VERSION = "2026-10-28.endive";

/** A card's processing fee in test mode: 2.9 % + 30 minor units of the settlement currency. */
export function cardFee(amount: number): number {
  return Math.round(amount * 0.029) + 30;
}

/** Stripe's dispute fee (the "dispute received fee"), 15.00 in the settlement currency. */
export const DISPUTE_FEE = 1500;

/**
 * Fixed rates into the settlement currency used by the stand-in (EUR per unit of the key):
 * Stripe converts at the rate of the moment; a fixed table keeps tests reproducible.
 */
export const EUR_RATES: Record<string, number> = { eur: 1, usd: 0.9213, gbp: 1.1724, chf: 1.0612, sek: 0.0871, dkk: 0.1341, jpy: 0.0061 };

/** Zero-decimal currencies (docs.stripe.com/currencies#zero-decimal): amounts are whole units, not hundredths. */
const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export function stripeId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}_${out}`;
}

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

// The stand-in keeps ids where Stripe's types allow an expanded object (it never expands).
export type StandinAccount = Stripe.Account & { metadata: Stripe.Metadata; capabilities: Stripe.Account.Capabilities };
export type StandinPaymentIntent = Stripe.PaymentIntent & { latest_charge: string | null; payment_method: string | null };
export type StandinCharge = Stripe.Charge & { payment_intent: string; balance_transaction: string | null };
export type StandinBalanceTransaction = Stripe.BalanceTransaction & { source: string | null };
export type StandinRefund = Stripe.Refund & { charge: string; payment_intent: string; metadata: Stripe.Metadata; balance_transaction: string | null };
export type StandinTransferReversal = Stripe.TransferReversal & { transfer: string; metadata: Stripe.Metadata };
export type StandinTransfer = Stripe.Transfer & {
  destination: string; source_transaction: string | null; reversals: Stripe.ApiList<StandinTransferReversal>;
};
export type StandinPayout = Stripe.Payout & { metadata: Stripe.Metadata; balance_transaction: string | null };
export type StandinDispute = Stripe.Dispute & { charge: string; payment_intent: string; balance_transactions: StandinBalanceTransaction[] };

export interface StateOptions {
  now?: () => number;
  /** Runs fn after delayMs (Stripe's asynchronous transitions); the server tracks these for idle(). */
  later: (fn: () => void, delayMs?: number) => void;
  emit: (event: StripeEvent) => void;
  /** auto: payouts settle right away (paid, or failed for accounts told to fail); manual: settlePayout(). */
  payouts: "auto" | "manual";
  /** auto: card refunds succeed at once (as in test mode); manual: pending until settleRefund(). */
  refunds: "auto" | "manual";
  /** The platform's settlement currency: charges in other currencies are converted into it. */
  settlementCurrency: string;
  baseUrl: () => string;
}

export class StandinState {
  readonly accounts = new Map<string, StandinAccount>();
  readonly paymentIntents = new Map<string, StandinPaymentIntent>();
  readonly charges = new Map<string, StandinCharge>();
  readonly refunds = new Map<string, StandinRefund>();
  readonly transfers = new Map<string, StandinTransfer>();
  /** payouts by id, with the account they belong to (null = the platform). */
  readonly payouts = new Map<string, { account: string | null; payout: StandinPayout }>();
  readonly balanceTransactions = new Map<string, StandinBalanceTransaction>();
  readonly disputes = new Map<string, StandinDispute>();
  readonly events: StripeEvent[] = [];
  /** Available balance per currency: key "platform" or an account id. */
  readonly balances = new Map<string, Map<string, number>>();
  /** Accounts whose payouts fail (like Stripe's failing test bank accounts). */
  readonly failingPayoutAccounts = new Set<string>();
  /** Accounts whose payouts are first reported paid, then fail (Stripe: "some payouts that fail might initially show as paid"). */
  readonly paidThenFailingPayoutAccounts = new Set<string>();
  /** The test payment method each charge was made with (its refund and dispute behaviour). */
  readonly chargeBehaviour = new Map<string, string>();

  constructor(readonly options: StateOptions) {}

  now(): number {
    return Math.floor((this.options.now?.() ?? Date.now()) / 1000);
  }

  emit(type: string, object: object, ctx: RequestContext | null, account: string | null = null, previous?: JsonObject): StripeEvent {
    const event: StripeEvent = {
      id: stripeId("evt"),
      object: "event",
      api_version: STANDIN_API_VERSION,
      created: this.now(),
      data: previous === undefined ? { object: clone(asJson(object)) } : { object: clone(asJson(object)), previous_attributes: previous },
      livemode: false,
      pending_webhooks: 1,
      request: { id: ctx?.requestId ?? null, idempotency_key: ctx?.idempotencyKey ?? null },
      type,
    };
    if (account !== null) event.account = account;
    this.events.push(event);
    this.options.emit(event);
    return event;
  }

  balance(owner: string, currency: string): number {
    return this.balances.get(owner)?.get(currency) ?? 0;
  }

  adjust(owner: string, currency: string, delta: number): void {
    const byCurrency = this.balances.get(owner) ?? new Map<string, number>();
    byCurrency.set(currency, (byCurrency.get(currency) ?? 0) + delta);
    this.balances.set(owner, byCurrency);
  }

  /**
   * An amount of `currency` in the settlement currency: Stripe books a charge in another
   * currency into the balance at an exchange rate, and says so on the balance transaction
   * (`exchange_rate`, amounts in the settlement currency).
   */
  settle(amount: number, currency: string): { amount: number; currency: string; exchangeRate: number | null } {
    const target = this.options.settlementCurrency;
    if (currency === target) return { amount, currency, exchangeRate: null };
    const from = EUR_RATES[currency];
    const to = EUR_RATES[target];
    if (from === undefined || to === undefined) throw unsupported(`charges in ${currency} on a platform settling in ${target}`, "currency");
    // exchange_rate is per whole unit (1 JPY = 0.0061 EUR); amounts are in each currency's minor unit.
    const rate = Math.round((from / to) * 1e6) / 1e6;
    const minorUnits = (code: string): number => (ZERO_DECIMAL.has(code) ? 1 : 100);
    return { amount: Math.round((amount / minorUnits(currency)) * rate * minorUnits(target)), currency: target, exchangeRate: rate };
  }

  /** Records a balance transaction (Stripe's immutable record of a balance movement). */
  balanceTransaction(input: {
    amount: number; fee: number; currency: string; type: Stripe.BalanceTransaction.Type; category: string; source: string | null;
    exchangeRate?: number | null; description?: string | null; feeDescription?: string;
  }): StandinBalanceTransaction {
    const bt: StandinBalanceTransaction = {
      id: stripeId("txn"), object: "balance_transaction", amount: input.amount, available_on: this.now(), balance_type: "payments",
      created: this.now(), currency: input.currency, description: input.description ?? null, exchange_rate: input.exchangeRate ?? null,
      fee: input.fee,
      fee_details: input.fee === 0 ? [] : [{ amount: input.fee, application: null, currency: input.currency, description: input.feeDescription ?? "Stripe processing fees", type: "stripe_fee" }],
      net: input.amount - input.fee, reporting_category: input.category, source: input.source, status: "available", type: input.type,
    };
    this.balanceTransactions.set(bt.id, bt);
    return bt;
  }

  require<T>(map: Map<string, T>, id: string, kind: string, param = "id"): T {
    const found = map.get(id);
    if (found === undefined) throw new StripeApiError(404, "invalid_request_error", `No such ${kind}: '${id}'`, "resource_missing", param);
    return found;
  }
}
