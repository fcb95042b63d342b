/** PostgREST's error body (`code`, `message`, `details`, `hint`) and its SQLSTATE → HTTP table. */

export interface PostgrestErrorBody {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

export class RestError extends Error {
  constructor(readonly status: number, readonly body: PostgrestErrorBody, readonly headers: Record<string, string> = {}) {
    super(body.message);
  }
}

export const restError = (status: number, code: string, message: string, details: string | null = null, hint: string | null = null): RestError =>
  new RestError(status, { code, message, details, hint });

/** What the stand-in does not serve: 501, naming the feature. */
export const notImplemented = (feature: string): RestError =>
  restError(501, 'PGRST501', `The Data API stand-in does not support ${feature}`, null, 'This is a local stand-in for PostgREST; see docs/local-stack.md for what it serves.');

/**
 * PostgREST's documented mapping. 42501 is 401 for a request without a user (the anon role) and
 * 403 with one; an unlisted code is 400.
 */
export function httpStatusOf(sqlstate: string, authenticated: boolean): number {
  const exact: Record<string, number> = {
    '23503': 409, '23505': 409, '25006': 405, '53400': 500, P0001: 400, '42883': 404, '42P01': 404, '42P17': 500,
  };
  if (sqlstate === '42501') return authenticated ? 403 : 401;
  const hit = exact[sqlstate];
  if (hit !== undefined) return hit;
  const prefixes: [string, number][] = [
    ['08', 503], ['09', 500], ['0L', 403], ['0P', 403], ['25', 500], ['28', 403], ['2D', 500], ['38', 500], ['39', 500],
    ['3B', 500], ['40', 500], ['53', 503], ['54', 500], ['55', 500], ['57', 500], ['58', 500], ['F0', 500], ['HV', 500],
    ['P0', 500], ['XX', 500],
  ];
  for (const [prefix, status] of prefixes) if (sqlstate.startsWith(prefix)) return status;
  // PT<status>: a custom status raised by the application (`raise sqlstate 'PT404'`).
  const custom = /^PT(\d{3})$/.exec(sqlstate);
  if (custom !== null) return Number(custom[1]);
  return 400;
}

interface PgErrorLike {
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
}

export function isPgError(error: unknown): error is PgErrorLike & Error {
  return error instanceof Error && typeof (error as PgErrorLike).code === 'string' && /^[0-9A-Z]{5}$/.test((error as PgErrorLike).code ?? '');
}

export function fromPgError(error: PgErrorLike, authenticated: boolean): RestError {
  const code = error.code ?? 'XX000';
  return new RestError(httpStatusOf(code, authenticated), { code, message: error.message, details: error.detail ?? null, hint: error.hint ?? null });
}
