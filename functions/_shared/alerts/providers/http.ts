/**
 * What every HTTP provider adapter shares: a request with a deadline, and the classification of
 * an answer into sent / retryable / permanent.
 *
 *   2xx                       → the adapter reads the message id
 *   408, 409*, 429, 5xx       → retryable (429 with its Retry-After)
 *   401, 403                  → retryable: our credentials or account are wrong, not the
 *                               message; an operator fixes the key and the alerts go out
 *   any other 4xx             → permanent (bad address, unsubscribed number, …): dead letter
 *   network error / timeout   → retryable
 * (*409: retryable only when the adapter says a retry can succeed — Resend's
 * `concurrent_idempotent_requests`, not `invalid_idempotent_request`, the same key with another
 * payload, which no retry fixes.)
 */
import { parseRetryAfter } from "../backoff.ts";
import type { SendOutcome } from "../types.ts";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export const DEFAULT_TIMEOUT_MS = 15_000;

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** POSTs and reads the JSON answer; a network failure or timeout is a retryable outcome. */
export async function post(
  fetchImpl: FetchLike, url: string, init: RequestInit, timeoutMs: number,
): Promise<HttpAnswer | SendOutcome> {
  let res: Response;
  try {
    res = await fetchImpl(url, { ...init, method: "POST", signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { kind: "retryable", error: `network error: ${reason}` };
  }
  const text = await res.text().catch(() => "");
  let body: unknown = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    body = text.slice(0, 500);
  }
  return { status: res.status, headers: res.headers, body };
}

export function isAnswer(value: HttpAnswer | SendOutcome): value is HttpAnswer {
  return "status" in value;
}

/** A non-2xx answer as an outcome; `describe` turns the provider's error body into one line. */
export function failureOutcome(answer: HttpAnswer, describe: (body: unknown) => string, nowMs: number,
  conflictRetryable: (body: unknown) => boolean = () => true): SendOutcome {
  const error = `HTTP ${answer.status}: ${describe(answer.body)}`.slice(0, 1000);
  const { status } = answer;
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(answer.headers.get("Retry-After"), nowMs);
    return retryAfterMs === undefined ? { kind: "retryable", error } : { kind: "retryable", error, retryAfterMs };
  }
  if (status === 409) return conflictRetryable(answer.body) ? { kind: "retryable", error } : { kind: "permanent", error };
  if (status >= 500 || status === 408 || status === 401 || status === 403) return { kind: "retryable", error };
  return { kind: "permanent", error };
}

export function field(body: unknown, name: string): unknown {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}
