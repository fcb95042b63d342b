/**
 * OAuth 2.0 access tokens for a Google service account, as Google documents for
 * server-to-server calls (developers.google.com/identity/protocols/oauth2/service-account):
 * a JWT signed RS256 with the account's private key — iss = client_email, scope, aud = the key
 * file's token_uri, iat, exp at most an hour later, kid = private_key_id — exchanged at token_uri
 * with grant_type urn:ietf:params:oauth:grant-type:jwt-bearer for
 * `{access_token, expires_in, token_type: "Bearer"}`. The JWT is signed with `jose`.
 *
 * A token is reused until five minutes before it expires (FCM sends then cost one request, not
 * two); `invalidate()` drops it when the API answers 401 (revoked key, clock skew).
 */
import { importPKCS8, SignJWT } from "jose";
import { z } from "zod";
import { DEFAULT_TIMEOUT_MS, type FetchLike } from "./http.ts";

/** The fields of a service-account key file (the JSON Firebase's console downloads) Rally uses. */
export const serviceAccountSchema = z.looseObject({
  type: z.literal("service_account"),
  project_id: z.string().min(1),
  private_key_id: z.string().min(1),
  private_key: z.string().includes("PRIVATE KEY"),
  client_email: z.string().min(3),
  token_uri: z.url(),
});
export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

export interface AccessTokenSource {
  /** A valid access token (cached, or fetched now); throws when the token endpoint refuses. */
  get(): Promise<string>;
  invalidate(): void;
}

export class AccessTokenError extends Error {
  constructor(readonly status: number | null, message: string) {
    super(message);
    this.name = "AccessTokenError";
  }
}

const tokenAnswerSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive(), token_type: z.string() });

export function createAccessTokenSource(
  account: ServiceAccount,
  options: { scope?: string; fetch?: FetchLike; now?: () => number; timeoutMs?: number } = {},
): AccessTokenSource {
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const now = options.now ?? Date.now;
  let cached: { token: string; expiresAtMs: number } | null = null;
  let inFlight: Promise<string> | null = null;

  const fetchToken = async (): Promise<string> => {
    const key = await importPKCS8(account.private_key, "RS256");
    const issuedAt = Math.floor(now() / 1000);
    const assertion = await new SignJWT({ scope: options.scope ?? FCM_SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: account.private_key_id })
      .setIssuer(account.client_email)
      .setAudience(account.token_uri)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + 3600)
      .sign(key);
    let res: Response;
    try {
      res = await fetchImpl(account.token_uri, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
    } catch (err) {
      throw new AccessTokenError(null, `token endpoint unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text().catch(() => "");
    if (!res.ok) throw new AccessTokenError(res.status, `token endpoint answered ${res.status}: ${text.slice(0, 300)}`);
    let parsed: z.infer<typeof tokenAnswerSchema>;
    try {
      parsed = tokenAnswerSchema.parse(JSON.parse(text));
    } catch {
      throw new AccessTokenError(res.status, "token endpoint answered without an access token");
    }
    cached = { token: parsed.access_token, expiresAtMs: now() + parsed.expires_in * 1000 };
    return parsed.access_token;
  };

  return {
    async get() {
      if (cached !== null && cached.expiresAtMs - 5 * 60_000 > now()) return cached.token;
      // Concurrent sends share one token request.
      inFlight ??= fetchToken().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    invalidate() {
      cached = null;
    },
  };
}
