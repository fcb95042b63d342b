/**
 * Maps errors raised by the database to HTTP errors, following Rally's SQL error convention
 * (ARCHITECTURE §4 "Errors"): RPCs raise SQLSTATE 22023 for bad input, 42501 for forbidden and
 * P0001 for a broken business rule, with a stable snake_case code in HINT and a readable
 * sentence as the message. Those messages were written for people, so they pass through.
 * The limiter's refusal (P0001 rate_limited, supabase/migrations/…_rate_limits.sql) is a 429
 * whose wait comes from the JSON in DETAIL (`retry_after_seconds`).
 * Any other database error is an internal detail: its text is never sent to the client.
 *
 * Pure and free of the `pg` import so handlers, the gateway and unit tests can all use it.
 */
/**
 * What a database error means over HTTP. A plain value (not an HttpError) so this module
 * stays a leaf: http-errors.ts imports it, never the other way round.
 */
export interface PgHttpMapping {
  status: 400 | 403 | 409 | 422 | 429 | 503;
  code: string;
  message: string;
  /** 429 only: how long to wait, from the limiter's DETAIL. */
  retryAfterSeconds?: number;
  details?: unknown;
}

/** The fields of a node-postgres `DatabaseError` this module reads. */
export interface PgErrorLike {
  code: string;
  message: string;
  hint?: string | undefined;
  detail?: string | undefined;
  severity?: string | undefined;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** True for errors the Postgres server sent (they carry a five-character SQLSTATE and a severity). */
export function isPgError(err: unknown): err is PgErrorLike {
  if (typeof err !== "object" || err === null) return false;
  const e = err as Record<string, unknown>;
  return typeof e.code === "string" && SQLSTATE.test(e.code) && typeof e.message === "string" &&
    typeof e.severity === "string";
}

/** Node socket errors that mean "the database is not reachable". */
const UNREACHABLE_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "EPIPE"]);

function isUnreachable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const code = (err as Record<string, unknown>).code;
  if (typeof code === "string" && UNREACHABLE_ERRNOS.has(code)) return true;
  // node-postgres reports pool/connect timeouts as plain Errors with these messages.
  const message = (err as Record<string, unknown>).message;
  return typeof message === "string" &&
    /^(Connection terminated|timeout exceeded when trying to connect)/.test(message);
}

const SNAKE = /^[a-z][a-z0-9_]*$/;

/** The hint is the stable code only when it looks like one; free-text hints are not codes. */
function hintCode(err: PgErrorLike, fallback: string): string {
  return err.hint !== undefined && SNAKE.test(err.hint) ? err.hint : fallback;
}

function fromRule(status: PgHttpMapping["status"], err: PgErrorLike, fallback: string): PgHttpMapping {
  return { status, code: hintCode(err, fallback), message: err.message };
}

/** The limiter's DETAIL: `{"action", "limit", "per_seconds", "retry_after_seconds"}`. */
export interface RateLimitDetail {
  action: string;
  limit: number;
  per_seconds: number;
  retry_after_seconds: number;
}

function rateLimitDetail(detail: string | undefined): RateLimitDetail | null {
  if (detail === undefined) return null;
  try {
    const value: unknown = JSON.parse(detail);
    if (typeof value !== "object" || value === null) return null;
    const v = value as Record<string, unknown>;
    return typeof v.action === "string" && typeof v.limit === "number" && typeof v.per_seconds === "number" &&
        typeof v.retry_after_seconds === "number"
      ? { action: v.action, limit: v.limit, per_seconds: v.per_seconds, retry_after_seconds: v.retry_after_seconds }
      : null;
  } catch {
    return null;
  }
}

function rateLimited(err: PgErrorLike): PgHttpMapping {
  const detail = rateLimitDetail(err.detail);
  return {
    status: 429,
    code: "rate_limited",
    message: err.message,
    retryAfterSeconds: detail?.retry_after_seconds ?? 60,
    ...(detail === null ? {} : { details: detail }),
  };
}

const unavailable = (): PgHttpMapping => ({
  status: 503,
  code: "database_unavailable",
  message: "The database is not reachable right now. Please try again.",
});

/**
 * The HTTP error for a database error, or null when `err` did not come from the database
 * (the caller then treats it as an internal error).
 */
export function pgErrorToHttp(err: unknown): PgHttpMapping | null {
  if (!isPgError(err)) return isUnreachable(err) ? unavailable() : null;
  const { code } = err;
  switch (code) {
    case "22023": // invalid_parameter_value: raised by RPCs for bad input
      return fromRule(400, err, "invalid_parameter");
    case "42501": // insufficient_privilege: raised by RPCs, and by RLS / missing grants
      return err.hint !== undefined && SNAKE.test(err.hint)
        ? fromRule(403, err, "forbidden")
        // A bare permission error names tables and roles: keep those to the log.
        : { status: 403, code: "forbidden", message: "You are not allowed to do that." };
    case "P0001": // raise_exception: a broken business rule, or the limiter
      return err.hint === "rate_limited" ? rateLimited(err) : fromRule(422, err, "business_rule_violated");
    case "23505":
      return { status: 409, code: "already_exists", message: "That already exists." };
    case "23503":
      return {
        status: 409,
        code: "reference_conflict",
        message: "That refers to something that does not exist or is still in use.",
      };
    case "40001": // serialization_failure
    case "40P01": // deadlock_detected
    case "55P03": // lock_not_available
      return { status: 409, code: "concurrent_update", message: "Someone else changed this at the same time. Please retry." };
    case "57014": // query_canceled (statement_timeout)
      return { status: 503, code: "database_timeout", message: "The database took too long to answer. Please try again." };
  }
  // Class 08 (connection exception), 53 (insufficient resources), 57P0x (shutdown): transient.
  if (code.startsWith("08") || code.startsWith("53") || /^57P0[1-4]$/.test(code)) return unavailable();
  return null;
}
