/**
 * The payment command outbox, worker side (ARCHITECTURE §6): claim due commands in one short
 * transaction (FOR UPDATE SKIP LOCKED, under a lease), call Stripe outside any transaction with
 * the command's idempotency key (its id, or `<id>:<n>` once Stripe saved a refusal under the
 * previous one), then report the answer in another short transaction —
 * `private.complete_payment_command` applies the returned Stripe object exactly as the matching
 * webhook would; `private.fail_payment_command` retries with backoff (with a fresh key when the
 * refusal was saved) or dead-letters.
 *
 * `stripeRequestFor(command)` is pure (what to call, with which parameters), so it is unit-tested
 * without Stripe; `executeCommand` performs it.
 */
import type Stripe from "stripe";
import { z } from "zod";
import { type DbClient, withServiceRole } from "./db.ts";
import { classifyStripeError } from "./stripe-errors.ts";
import { plainObject } from "./stripe.ts";

export const COMMAND_KINDS = [
  "create_transfer",
  "reverse_transfer",
  "create_refund",
  "create_payout",
  "cancel_payment_intent",
  "sync_balance_transaction",
] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

export interface PaymentCommand {
  id: string;
  kind: CommandKind;
  priority: number;
  payload: Record<string, unknown>;
  /** The Idempotency-Key this attempt sends. */
  idempotency_key: string;
  attempts: number;
  max_attempts: number;
}

const metadata = z.record(z.string(), z.string()).default({});
const amount = z.number().int().positive();
const currency = z.string().regex(/^[a-z]{3}$/);

const payloads = {
  create_transfer: z.object({
    amount, currency, destination: z.string().regex(/^acct_/), source_transaction: z.string().min(1),
    transfer_group: z.string().min(1), metadata,
  }),
  // transfer_command_id: the create_transfer command whose transfer this reverses (Rally's own; never sent to Stripe).
  reverse_transfer: z.object({ amount, currency, transfer_id: z.string().regex(/^tr_/).optional(), transfer_command_id: z.string().uuid().optional(), metadata }),
  create_refund: z.object({
    payment_intent: z.string().regex(/^pi_/), amount, reason: z.enum(["requested_by_customer", "duplicate", "fraudulent"]), metadata,
  }),
  create_payout: z.object({ amount, currency, stripe_account: z.string().regex(/^acct_/), metadata }),
  cancel_payment_intent: z.object({ payment_intent_id: z.string().regex(/^pi_/) }),
  sync_balance_transaction: z.object({ balance_transaction: z.string().regex(/^txn_/) }),
} as const;

/** One Stripe call, described as data. */
export type StripeRequest =
  | { kind: "create_transfer"; params: Stripe.TransferCreateParams }
  | { kind: "reverse_transfer"; transferId: string; params: Stripe.TransferCreateReversalParams }
  | { kind: "create_refund"; params: Stripe.RefundCreateParams }
  | { kind: "create_payout"; stripeAccount: string; params: Stripe.PayoutCreateParams }
  | { kind: "cancel_payment_intent"; paymentIntentId: string }
  | { kind: "sync_balance_transaction"; balanceTransactionId: string }
  | { kind: "not_ready"; reason: string };

/** The Stripe call a command stands for. Throws a ZodError for a malformed payload. */
export function stripeRequestFor(command: Pick<PaymentCommand, "kind" | "payload">): StripeRequest {
  switch (command.kind) {
    case "create_transfer": {
      const p = payloads.create_transfer.parse(command.payload);
      return {
        kind: "create_transfer",
        params: {
          amount: p.amount, currency: p.currency, destination: p.destination, source_transaction: p.source_transaction,
          transfer_group: p.transfer_group, metadata: p.metadata,
        },
      };
    }
    case "reverse_transfer": {
      const p = payloads.reverse_transfer.parse(command.payload);
      if (p.transfer_id === undefined) return { kind: "not_ready", reason: "The transfer to reverse has not been made yet." };
      return { kind: "reverse_transfer", transferId: p.transfer_id, params: { amount: p.amount, metadata: p.metadata } };
    }
    case "create_refund": {
      const p = payloads.create_refund.parse(command.payload);
      return { kind: "create_refund", params: { payment_intent: p.payment_intent, amount: p.amount, reason: p.reason, metadata: p.metadata } };
    }
    case "create_payout": {
      const p = payloads.create_payout.parse(command.payload);
      return { kind: "create_payout", stripeAccount: p.stripe_account, params: { amount: p.amount, currency: p.currency, metadata: p.metadata } };
    }
    case "cancel_payment_intent": {
      const p = payloads.cancel_payment_intent.parse(command.payload);
      return { kind: "cancel_payment_intent", paymentIntentId: p.payment_intent_id };
    }
    case "sync_balance_transaction": {
      const p = payloads.sync_balance_transaction.parse(command.payload);
      return { kind: "sync_balance_transaction", balanceTransactionId: p.balance_transaction };
    }
  }
}

/** Performs a command at Stripe (with its idempotency key) and returns the resulting object. */
export async function executeCommand(stripe: Stripe, command: PaymentCommand): Promise<Record<string, unknown>> {
  const request = stripeRequestFor(command);
  const idem = { idempotencyKey: command.idempotency_key };
  switch (request.kind) {
    case "create_transfer":
      return plainObject(await stripe.transfers.create(request.params, idem));
    case "reverse_transfer":
      return plainObject(await stripe.transfers.createReversal(request.transferId, request.params, idem));
    case "create_refund":
      return plainObject(await stripe.refunds.create(request.params, idem));
    case "create_payout":
      return plainObject(await stripe.payouts.create(request.params, { ...idem, stripeAccount: request.stripeAccount }));
    case "cancel_payment_intent":
      try {
        return plainObject(await stripe.paymentIntents.cancel(request.paymentIntentId, { cancellation_reason: "abandoned" }, idem));
      } catch (err) {
        // Already succeeded or cancelled: there is nothing left to cancel. Report its state.
        if (classifyStripeError(err).code === "payment_intent_unexpected_state") {
          return plainObject(await stripe.paymentIntents.retrieve(request.paymentIntentId));
        }
        throw err;
      }
    case "sync_balance_transaction":
      return plainObject(await stripe.balanceTransactions.retrieve(request.balanceTransactionId));
    case "not_ready":
      throw new CommandNotReady(request.reason);
  }
}

/** A command whose inputs are not there yet (retried later, like a transient Stripe failure). */
export class CommandNotReady extends Error {
  override readonly name = "CommandNotReady";
}

export interface DrainOptions {
  stripe: Stripe;
  /** Commands claimed per round trip. */
  batchSize?: number;
  /** Stop claiming after this many commands. */
  maxCommands?: number;
  /** Stop claiming after this long (ms); a running call finishes. */
  timeBudgetMs?: number;
  leaseSeconds?: number;
}

export interface DrainReport {
  claimed: number;
  succeeded: number;
  retried: number;
  dead: number;
  failures: { id: string; kind: string; code: string; outcome: string }[];
}

const claimedRow = z.object({
  id: z.uuid(),
  kind: z.enum(COMMAND_KINDS),
  priority: z.number().int(),
  payload: z.record(z.string(), z.unknown()),
  idempotency_key: z.string().min(1).max(255),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
});

async function claim(limit: number, leaseSeconds: number): Promise<PaymentCommand[]> {
  const { rows } = await withServiceRole((db: DbClient) =>
    db.query("select id, kind, priority, payload, idempotency_key, attempts, max_attempts from private.claim_payment_commands($1, $2)",
      [limit, leaseSeconds]));
  return rows.map((row) => claimedRow.parse(row)).sort((a, b) => a.priority - b.priority);
}

async function fail(id: string, code: string, message: string, retryable: boolean, freshKey = false): Promise<string> {
  const { rows } = await withServiceRole((db) =>
    db.query<{ outcome: string }>("select private.fail_payment_command($1, $2, $3, $4, $5) as outcome",
      [id, code, message, retryable, freshKey]));
  return rows[0]?.outcome ?? "unknown";
}

/**
 * Drains due commands: claims a batch, runs each (lowest priority number first), reports each
 * result, until nothing is due or a budget runs out.
 */
export async function drainPaymentCommands(options: DrainOptions): Promise<DrainReport> {
  const batchSize = options.batchSize ?? 10;
  const maxCommands = options.maxCommands ?? 200;
  const deadline = Date.now() + (options.timeBudgetMs ?? 25_000);
  const leaseSeconds = options.leaseSeconds ?? 120;
  const report: DrainReport = { claimed: 0, succeeded: 0, retried: 0, dead: 0, failures: [] };
  while (report.claimed < maxCommands && Date.now() < deadline) {
    const batch = await claim(Math.min(batchSize, maxCommands - report.claimed), leaseSeconds);
    if (batch.length === 0) break;
    report.claimed += batch.length;
    for (const command of batch) {
      let result: Record<string, unknown>;
      try {
        result = await executeCommand(options.stripe, command);
      } catch (err) {
        const failure = err instanceof CommandNotReady
          ? { retryable: true, freshKey: false, code: "not_ready", message: err.message }
          : err instanceof z.ZodError
            ? { retryable: false, freshKey: false, code: "invalid_payload", message: err.message }
            : classifyStripeError(err);
        const outcome = await fail(command.id, failure.code, failure.message, failure.retryable, failure.freshKey);
        if (outcome === "dead") report.dead += 1;
        else report.retried += 1;
        report.failures.push({ id: command.id, kind: command.kind, code: failure.code, outcome });
        continue;
      }
      try {
        await withServiceRole((db) => db.query("select private.complete_payment_command($1, $2::jsonb)", [command.id, JSON.stringify(result)]));
        report.succeeded += 1;
      } catch (err) {
        // Stripe did it but applying failed (a bug or the database): retry the same key later;
        // the answer will be the same and the webhook carries it too. Never compensated.
        const message = err instanceof Error ? err.message : String(err);
        const outcome = await fail(command.id, "apply_failed", message, true);
        if (outcome === "succeeded") {
          // The answer was recorded after all: the connection dropped after the COMMIT ran,
          // before it was acknowledged. Nothing failed.
          report.succeeded += 1;
          continue;
        }
        if (outcome === "dead") report.dead += 1;
        else report.retried += 1;
        report.failures.push({ id: command.id, kind: command.kind, code: "apply_failed", outcome });
      }
    }
  }
  return report;
}
