/**
 * What a failed Stripe call means: retry later (with the same idempotency key, or a fresh one after a refusal Stripe saved) or give up. The
 * payment command outbox acts on it (`classifyStripeError`), and so does a function calling
 * Stripe while it serves a request (`stripeCall`). Pure: reads only the fields stripe-node's
 * errors carry (`type`, `statusCode`, `code`, `headers`), so it is unit-tested with plain objects.
 *
 * Retry: connection problems and timeouts (the request may or may not have run — the same key
 * makes the retry safe), rate limits, 409 (a concurrent request with the same key), 5xx, and an
 * authentication failure (a configuration problem an operator can fix).
 * Give up: other 4xx — invalid parameters, an idempotency key reused with other parameters (a
 * bug), permissions, a payment state that will not change.
 *
 * `balance_insufficient` is retried later, with a fresh idempotency key (`freshKey`): Stripe saves
 * the result of a request that began executing, 400s included, and replays it for that key for
 * at least 24 hours: "A request that returns a 400 sends back the same 400 if followed by a new
 * request with the same idempotency key. Generate a fresh idempotency key when modifying the
 * original request to get a successful result" (docs.stripe.com/error-low-level#content-errors;
 * docs.stripe.com/api/idempotent_requests). The balance may hold the money later (a connected
 * account's funds becoming available, a host's later earnings), so the command waits with backoff
 * and its next attempt sends a new key, stored on the command before it is sent
 * (`private.fail_payment_command(…, p_fresh_key)`); it dies, compensated, after its last attempt.
 */
import { HttpError } from "./http-errors.ts";

export interface StripeFailure {
  retryable: boolean;
  /** Stripe saved this refusal under the key the attempt used: the next attempt needs a new key. */
  freshKey: boolean;
  /** Stripe's error code when it sent one (balance_insufficient, resource_missing, …), else the error type. */
  code: string;
  message: string;
  statusCode: number | null;
}

interface StripeErrorLike {
  type?: unknown;
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
  headers?: unknown;
}

const RETRYABLE_CODES = new Set(["lock_timeout", "rate_limit", "idempotency_key_in_use"]);

/** Refusals Stripe saved under the idempotency key that a later attempt, with a new key, can get past. */
const SAVED_REFUSALS_WORTH_RETRYING = new Set(["balance_insufficient"]);

function field(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

export function classifyStripeError(err: unknown): StripeFailure {
  const e = (typeof err === "object" && err !== null ? err : {}) as StripeErrorLike;
  const type = field(e.type) ?? (err instanceof Error ? err.name : "unknown_error");
  const statusCode = typeof e.statusCode === "number" ? e.statusCode : null;
  const code = field(e.code) ?? type;
  const message = field(e.message) ?? (err instanceof Error ? err.message : String(err));
  const headers = (typeof e.headers === "object" && e.headers !== null ? e.headers : {}) as Record<string, unknown>;
  const shouldRetry = headers["stripe-should-retry"];

  let retryable: boolean;
  if (type === "StripeConnectionError" || statusCode === null) {
    retryable = true;
  } else if (SAVED_REFUSALS_WORTH_RETRYING.has(code)) {
    return { retryable: true, freshKey: true, code, message: message.slice(0, 2000), statusCode };
  } else if (RETRYABLE_CODES.has(code)) {
    retryable = true;
  } else if (type === "StripeIdempotencyError" || type === "StripePermissionError" || type === "StripeCardError") {
    retryable = false;
  } else if (statusCode === 401 || statusCode === 409 || statusCode === 429 || statusCode >= 500) {
    retryable = true;
  } else {
    retryable = false;
  }
  // Stripe's explicit advice wins for server answers (a replayed saved 500 says false: retrying
  // the same key returns the same 500 until it is pruned, yet a later attempt still helps once
  // Stripe has recovered; we keep retrying with backoff and dead-letter at the limit).
  if (shouldRetry === "true") retryable = true;
  return { retryable, freshKey: false, code, message: message.slice(0, 2000), statusCode };
}

/**
 * Runs a Stripe call for a request being served. A failure worth retrying (an outage, a timeout,
 * a rate limit) is a 503 `stripe_unavailable` the client can retry; anything else is a fault on
 * Rally's side and is rethrown as is, so the caller answers 500 `internal_error` and the log
 * keeps the whole Stripe error.
 */
export async function stripeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!classifyStripeError(err).retryable) throw err;
    throw new HttpError(503, "stripe_unavailable", "The payment provider is not reachable right now. Please try again.", { cause: err });
  }
}
