/**
 * Idempotency-Key on POST, as Stripe documents it for API v1 (docs.stripe.com/api/idempotent_requests,
 * docs.stripe.com/idempotency, docs.stripe.com/error-low-level#idempotency):
 *   - the status and body of the first request are saved once the endpoint began executing,
 *     whether it succeeded or failed — 500s included — and replayed for the same key
 *     (`Idempotent-Replayed: true`); a 400 that the endpoint produced (e.g. `balance_insufficient`)
 *     is therefore replayed too: "Generate a fresh idempotency key when modifying the original request";
 *   - nothing is saved when the parameters fail validation, when the request conflicts with a
 *     concurrent one using the same key (409 `idempotency_key_in_use`), or for 401s and 429s;
 *   - the same key with other parameters or another endpoint is a 400 `idempotency_error`;
 *   - keys are at most 255 characters and may be pruned after 24 hours (then a new request runs);
 *   - keys are scoped to the API key and the account (Stripe-Account).
 */
import { canonical, type FormObject } from "./form.ts";
import type { JsonObject } from "./json.ts";
import { StripeApiError } from "./errors.ts";

export interface SavedResponse {
  fingerprint: string;
  status: number;
  body: JsonObject;
  headers: Record<string, string>;
  savedAt: number;
}

export const IDEMPOTENCY_RETENTION_SECONDS = 24 * 3600;

export const fingerprintOf = (method: string, path: string, params: FormObject): string => `${method} ${path} ${canonical(params)}`;

export class IdempotencyLayer {
  private readonly saved = new Map<string, SavedResponse>();
  private readonly inFlight = new Set<string>();

  constructor(private readonly now: () => number) {}

  static scope(apiKey: string, account: string | null, key: string): string {
    return `${apiKey}|${account ?? ""}|${key}`;
  }

  static checkKey(key: string): void {
    if (key.length > 255) {
      throw new StripeApiError(400, "invalid_request_error", "Idempotency keys can be at most 255 characters long.", "idempotency_key_too_long", undefined, {}, false);
    }
  }

  /** The saved answer for this key, or null; throws idempotency_error / idempotency_key_in_use. */
  lookup(scope: string, key: string, fingerprint: string): SavedResponse | null {
    const previous = this.saved.get(scope);
    if (previous !== undefined && this.now() - previous.savedAt >= IDEMPOTENCY_RETENTION_SECONDS) this.saved.delete(scope);
    const current = this.saved.get(scope);
    if (current !== undefined) {
      if (current.fingerprint !== fingerprint) {
        throw new StripeApiError(400, "idempotency_error",
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          undefined, undefined, {}, false);
      }
      return current;
    }
    if (this.inFlight.has(scope)) {
      throw new StripeApiError(409, "invalid_request_error",
        "There is currently another in-progress request using this Stripe-Idempotency-Key. Please try again later.", "idempotency_key_in_use",
        undefined, {}, false);
    }
    return null;
  }

  begin(scope: string): void {
    this.inFlight.add(scope);
  }

  end(scope: string): void {
    this.inFlight.delete(scope);
  }

  save(scope: string, response: Omit<SavedResponse, "savedAt">): void {
    this.saved.set(scope, { ...response, savedAt: this.now() });
  }
}
