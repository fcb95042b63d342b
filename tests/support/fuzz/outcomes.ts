/**
 * What the fuzzers accept as an answer, in one place (docs/fuzzing.md explains each rule).
 *
 * An RPC call through the Data API has two steps, and the fuzzer runs them apart so it knows
 * which one failed:
 *
 * 1. Coercion — PostgREST turns the JSON body into typed arguments
 *    (`json_to_record($1) as _(p_a uuid, …)`) before calling anything. PostgreSQL's own
 *    class-22 errors here (22P02 invalid text, 22003 out of range, 22007/22008 bad dates,
 *    22P05 untranslatable \u0000, 22023 a scalar where a row was expected, …) are the client's
 *    fault; PostgREST answers them with 400. Also accepted here, and only here: PLATFORM_LIMITS
 *    below. Anything else at this step is rejected.
 * 2. The call — the function runs. Accepted: success, or Rally's error shape — SQLSTATE 22023
 *    (bad input), 42501 (forbidden) or P0001 (business rule) with a snake_case code in HINT.
 *    Also accepted: 42501 "permission denied for function" when the caller's role has no
 *    EXECUTE on it (checked from the catalog, not guessed from the error): PostgREST's 401/403.
 *    Everything else is a finding: XX000, 23xxx constraint violations escaping a function,
 *    42703/42883/42P01 (broken SQL), 22003/22P02/22008… raised inside a function (an unchecked
 *    overflow or cast), 40P01, 54001, 57014 (statement timeout: unbounded work), P0001 or
 *    22023/42501 without a hint code.
 */
export interface DbError {
  code: string;
  message: string;
  hint?: string | undefined;
}

/** Rally's hint codes are what http's pg-errors.ts maps to an error `code`. */
export const HINT_CODE = /^[a-z][a-z0-9_]*$/;

export const RALLY_SQLSTATES = ["22023", "42501", "P0001"] as const;

export function asDbError(err: unknown): DbError | null {
  if (typeof err !== "object" || err === null) return null;
  const e = err as Record<string, unknown>;
  if (typeof e.code !== "string" || typeof e.message !== "string") return null;
  return { code: e.code, message: e.message, hint: typeof e.hint === "string" ? e.hint : undefined };
}

/**
 * PostgreSQL's own limits while parsing a request body, before any Rally code runs: 54000 "number
 * of array dimensions exceeds the maximum allowed (6)" for an array nested deeper than six levels
 * sent to an array parameter, and 54001 "stack depth limit exceeded" for JSON nested deeper than
 * max_stack_depth allows (about 50,000 levels). PostgREST answers these with 500 whatever the
 * function; Rally cannot change that short of taking every array as jsonb. Reported, documented
 * in docs/fuzzing.md, and accepted only at the coercion step.
 */
export const PLATFORM_LIMITS: readonly string[] = ["54000", "54001"];

export type Verdict = { accepted: true; as: string } | { accepted: false; why: string };

const describe = (e: DbError): string => `${e.code} ${JSON.stringify(e.message.slice(0, 300))}${e.hint === undefined ? " (no hint)" : ` hint ${JSON.stringify(e.hint.slice(0, 80))}`}`;

/** Step 1: the argument coercion PostgREST does before the call. */
export function judgeCoercionError(err: unknown): Verdict {
  const e = asDbError(err);
  if (e === null) return { accepted: false, why: `not a database error: ${String(err)}` };
  if (e.code.startsWith("22")) return { accepted: true, as: `coercion ${e.code} (PostgREST 400)` };
  if (PLATFORM_LIMITS.includes(e.code)) return { accepted: true, as: `platform limit ${e.code} before any Rally code` };
  return { accepted: false, why: `coercing the arguments raised ${describe(e)}` };
}

/** Step 2: the call itself. `mayExecute`: the caller's role has EXECUTE on the function. */
export function judgeCallError(err: unknown, mayExecute: boolean): Verdict {
  const e = asDbError(err);
  if (e === null) return { accepted: false, why: `not a database error: ${String(err)}` };
  if (!mayExecute && e.code === "42501") return { accepted: true, as: "no EXECUTE privilege (PostgREST 401/403)" };
  if ((RALLY_SQLSTATES as readonly string[]).includes(e.code)) {
    if (e.hint !== undefined && HINT_CODE.test(e.hint)) return { accepted: true, as: `${e.code} ${e.hint}` };
    return { accepted: false, why: `${describe(e)}: Rally's errors carry a snake_case hint code` };
  }
  return { accepted: false, why: `the function raised ${describe(e)}` };
}
