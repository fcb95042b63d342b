/**
 * Maps errors raised by the database to HTTP errors, following Rally's SQL error convention
 * (ARCHITECTURE §4 "Errors"): RPCs raise SQLSTATE 22023 for bad input, 42501 for forbidden and
 * P0001 for a broken business rule, with a stable snake_case code in HINT and a readable
 * sentence as the message. Those messages were written for people, so they pass through.
 * Any other database error is an internal detail: its text is never sent to the client.
 *
 * Pure and free of the `pg` import so handlers, the gateway and unit tests can all use it.
 */
/**
 * What a database error means over HTTP. A plain value (not an HttpError) so this module
 * stays a leaf: http-errors.ts imports it, never the other way round.
 */
export interface PgHttpMapping {
  status: 400 | 403 | 409 | 422 | 503;
  code: string;
  message: string;
}

/** The fields of a node-postgres `DatabaseError` this module reads. */
export interface PgErrorLike {
  code: string;
  message: string;
  hint?: string | undefined;
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
    case "P0001": // raise_exception: a broken business rule
      return fromRule(422, err, "business_rule_violated");
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
