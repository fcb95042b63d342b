/**
 * GoTrue's error answers. Clients that send `X-Supabase-Api-Version: 2024-01-01` (auth-js does)
 * get `{code, message}` with the error code; older clients get `{code: <status>, error_code, msg}`.
 * Both carry the `x-sb-error-code` header. OAuth-style errors (`invalid_request`, …) are
 * `{error, error_description}`, as GoTrue sends them.
 */
export type AuthErrorCode =
  | 'validation_failed' | 'invalid_credentials' | 'user_banned' | 'email_not_confirmed'
  | 'user_already_exists' | 'email_exists' | 'weak_password' | 'signup_disabled' | 'email_provider_disabled'
  | 'refresh_token_not_found' | 'refresh_token_already_used' | 'session_not_found' | 'session_expired'
  | 'no_authorization' | 'bad_jwt' | 'not_admin' | 'user_not_found' | 'unexpected_failure'
  | 'not_implemented' | 'request_timeout' | 'conflict' | 'unknown';

export class AuthError extends Error {
  constructor(readonly status: number, readonly code: AuthErrorCode, message: string, readonly reasons?: string[]) {
    super(message);
  }
}

export class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string) {
    super(description);
  }
}

const API_VERSION_2024 = '2024-01-01';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The answer for an error, in the shape the client's API version expects. */
export function renderAuthError(error: AuthError | OAuthError, apiVersionHeader: string | undefined): RenderedError {
  if (error instanceof OAuthError) {
    return { status: 400, headers: {}, body: { error: error.error, error_description: error.description } };
  }
  const modern = apiVersionHeader !== undefined && apiVersionHeader >= API_VERSION_2024 && /^\d{4}-\d{2}-\d{2}$/.test(apiVersionHeader);
  const headers: Record<string, string> = { 'x-sb-error-code': error.code };
  if (modern) headers['X-Supabase-Api-Version'] = API_VERSION_2024;
  const weak = error.code === 'weak_password' && error.reasons !== undefined ? { weak_password: { reasons: error.reasons } } : {};
  const body = modern
    ? { code: error.code, message: error.message, ...weak }
    : { code: error.status, error_code: error.code, msg: error.message, ...weak };
  return { status: error.status, headers, body };
}
