/**
 * Stripe's error answers, as the API sends them: HTTP status plus
 * `{ "error": { "type", "code", "message", "param", "doc_url", … } }`.
 *
 * Whether an answer may be saved under an Idempotency-Key follows Stripe's documentation
 * (docs.stripe.com/api/idempotent_requests, docs.stripe.com/error-low-level#content-errors):
 * results are saved once an endpoint began executing — success or failure, 500s included — but
 * not when the parameters failed validation or the request conflicted with a concurrent one, and
 * not for 401s and 429s (checked before the idempotency layer). Validation errors are built with
 * `validationError` and carry `saved = false`; every other error an endpoint raises is saved.
 */
import type { Json, JsonObject } from "./json.ts";

export type StripeErrorType = "invalid_request_error" | "api_error" | "card_error" | "idempotency_error";

export class StripeApiError extends Error {
  override readonly name = "StripeApiError";
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
    readonly extra: JsonObject = {},
    /** False when Stripe would not save this answer under the request's idempotency key. */
    readonly saved = true,
  ) {
    super(message);
  }

  body(): JsonObject {
    const error: { [key: string]: Json } = { type: this.type, message: this.message, ...this.extra };
    if (this.code !== undefined) {
      error.code = this.code;
      error.doc_url = `https://docs.stripe.com/error-codes/${this.code.replaceAll("_", "-")}`;
    }
    if (this.param !== undefined) error.param = this.param;
    return { error };
  }
}

/** A parameter failed validation: 400, never saved under the idempotency key. */
export const validationError = (message: string, param: string, code = "parameter_invalid"): StripeApiError =>
  new StripeApiError(400, "invalid_request_error", message, code, param, {}, false);

/** Stripe's answer to a parameter the endpoint does not take. */
export const parameterUnknown = (param: string): StripeApiError =>
  validationError(`Received unknown parameter: ${param}`, param, "parameter_unknown");

export const parameterMissing = (param: string): StripeApiError =>
  validationError(`Missing required param: ${param}.`, param, "parameter_missing");

/** A request the endpoint ran and refused (state, amounts, balances): 400, saved. */
export const invalid = (message: string, param?: string, code?: string): StripeApiError =>
  new StripeApiError(400, "invalid_request_error", message, code, param);

export const missing = (kind: string, id: string, param = "id"): StripeApiError =>
  new StripeApiError(404, "invalid_request_error", `No such ${kind}: '${id}'`, "resource_missing", param);

/** What the stand-in does not implement: refused, never guessed (not saved: nothing ran). */
export const unsupported = (what: string, param?: string): StripeApiError =>
  new StripeApiError(400, "invalid_request_error",
    `Rally's Stripe stand-in does not support ${what}. It implements only the API subset Rally uses.`, "standin_unsupported", param, {}, false);
