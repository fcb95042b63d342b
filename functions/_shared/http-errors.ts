/**
 * Errors as values with stable codes, and the one JSON shape every edge function answers with:
 *
 *   { "error": { "code": "snake_case", "message": "A sentence a person can read.", "details"?: … } }
 *
 * Handlers throw `HttpError`s (or let zod / Postgres errors escape); `errorResponse()` turns
 * anything thrown into that shape. Unknown exceptions become a 500 `internal_error` whose body
 * says nothing about the internals; the real error goes to the function's log only.
 */
import { z } from "zod";
import { pgErrorToHttp } from "./pg-errors.ts";

/** The statuses Rally's functions answer with (ARCHITECTURE §4 "Errors"). */
export type HttpErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 422 | 429 | 500 | 503;

/** One zod issue, reduced to what a client can act on (no input values echoed back). */
export interface ValidationIssue {
  path: string;
  code: string;
  message: string;
}

export interface HttpErrorOptions {
  details?: unknown;
  /** Extra response headers, e.g. `Allow` for 405 or `WWW-Authenticate` for 401. */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: HttpErrorStatus;
  readonly code: string;
  readonly details: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: HttpErrorStatus, code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  /** The JSON body; `details` is omitted, not null, when there are none. */
  toBody(): ErrorBody {
    const error: ErrorBody["error"] = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

// Constructors for the common cases, so call sites read as the rule they enforce.

export const badRequest = (code: string, message: string, details?: unknown): HttpError =>
  new HttpError(400, code, message, { details });

export const unauthorized = (code: string, message: string): HttpError =>
  // RFC 6750: a 401 for a bearer-protected resource names the scheme.
  new HttpError(401, code, message, { headers: { "WWW-Authenticate": `Bearer error="${code}"` } });

export const forbidden = (code: string, message: string): HttpError => new HttpError(403, code, message);

export const notFound = (code: string, message: string): HttpError => new HttpError(404, code, message);

export const methodNotAllowed = (method: string, allowed: readonly string[]): HttpError =>
  new HttpError(405, "method_not_allowed", `${method} is not allowed here; use ${allowed.join(" or ")}.`, {
    headers: { Allow: allowed.join(", ") },
    details: { allowed: [...allowed] },
  });

export const conflict = (code: string, message: string, details?: unknown): HttpError =>
  new HttpError(409, code, message, { details });

export const unprocessable = (code: string, message: string, details?: unknown): HttpError =>
  new HttpError(422, code, message, { details });

/** 413: a request body over the function's cap (read no further than the cap). */
export const payloadTooLarge = (limitBytes: number): HttpError =>
  new HttpError(413, "payload_too_large", `The request body is larger than this endpoint accepts (${limitBytes} bytes).`, {
    details: { limit_bytes: limitBytes },
  });

/** 429 with `Retry-After` (whole seconds, RFC 9110 §10.2.3). */
export const tooManyRequests = (code: string, message: string, retryAfterSeconds: number, details?: unknown): HttpError =>
  new HttpError(429, code, message, { details, headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) } });

export const notConfigured = (message: string, details?: unknown): HttpError =>
  new HttpError(503, "not_configured", message, { details });

export const internalError = (): HttpError =>
  new HttpError(500, "internal_error", "Something went wrong on our side. Please try again later.");

/** Flattens zod issues to `{ path: "a.b.0", code, message }`; input values are never echoed. */
export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    code: issue.code,
    message: issue.message,
  }));
}

/** A 400 `validation_failed` carrying the zod issues in `details`. */
export function validationError(error: z.ZodError, message = "The request is not valid."): HttpError {
  return new HttpError(400, "validation_failed", message, { details: zodIssues(error), cause: error });
}

/**
 * Classifies anything thrown: HttpError as is, zod errors as 400, Postgres errors by SQLSTATE
 * (see pg-errors.ts), everything else as an opaque 500.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof z.ZodError) return validationError(err);
  const db = pgErrorToHttp(err);
  if (db === null) return internalError();
  if (db.status === 429) return tooManyRequests(db.code, db.message, db.retryAfterSeconds ?? 1, db.details);
  return new HttpError(db.status, db.code, db.message, { details: db.details, cause: err });
}

/**
 * Re-maps an error's HTTP status for one endpoint, keeping the code and message the SQL chose:
 * e.g. `booking_not_found` (22023 → 400 by default) is a 404 for checkout, and `hold_expired`
 * (P0001 → 422) a 409. Anything else keeps the shared mapping.
 */
export function remapDbError(err: unknown, statusByCode: Readonly<Record<string, HttpErrorStatus>>): unknown {
  const mapped = toHttpError(err);
  const status = statusByCode[mapped.code];
  if (status === undefined || status === mapped.status) return err;
  return new HttpError(status, mapped.code, mapped.message, { details: mapped.details, cause: err });
}

/** Logs only what the client can't see: 5xx causes. Kept swappable for tests. */
export type ErrorLogger = (err: unknown, mapped: HttpError) => void;

export const defaultErrorLogger: ErrorLogger = (err, mapped) => {
  if (mapped.status < 500) return;
  // Our own 5xx (not_configured, database_unavailable) are known states: one line is enough.
  // Anything else is a bug: keep the whole error with its stack.
  if (err instanceof HttpError) {
    console.error(`[${mapped.code}] ${mapped.message}${mapped.details === undefined ? "" : ` ${JSON.stringify(mapped.details)}`}`);
  } else {
    console.error(`[${mapped.code}]`, err);
  }
};

/** The JSON error response for anything thrown. */
export function errorResponse(
  err: unknown,
  init: { headers?: HeadersInit; log?: ErrorLogger } = {},
): Response {
  const mapped = toHttpError(err);
  (init.log ?? defaultErrorLogger)(err, mapped);
  const headers = new Headers(init.headers);
  headers.set("Content-Type", "application/json; charset=utf-8");
  for (const [name, value] of Object.entries(mapped.headers)) headers.set(name, value);
  return new Response(JSON.stringify(mapped.toBody()), { status: mapped.status, headers });
}
