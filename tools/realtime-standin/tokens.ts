/**
 * JWT checks as Realtime makes them (RealtimeWeb.ChannelsAuthorization.authorize_conn and
 * RealtimeChannel.confirm_token): HS256 with the project's JWT secret, `role` and `exp`
 * required, and the platform's error texts.
 */
import { errors as joseErrors, jwtVerify } from "jose";

export type TokenFailure = "expired_token" | "missing_claims" | "token_malformed" | "signature_error";

export interface TokenError {
  reason: TokenFailure;
  /** Realtime's log code for a join refused with this error. */
  code: "InvalidJWTToken" | "MalformedJWT" | "JwtSignatureError";
  message: string;
}

export type TokenResult = { ok: true; claims: Record<string, unknown>; exp: number } | { ok: false; error: TokenError };

export const MISSING_CLAIMS = "Fields `role` and `exp` are required in JWT";

export async function verifyToken(token: string, secret: Uint8Array, nowSeconds = Math.floor(Date.now() / 1000)): Promise<TokenResult> {
  // Realtime strips whitespace and URL-decodes the token first (clean_token).
  const cleaned = decodeURIComponent(token).replace(/\s/g, "");
  let claims: Record<string, unknown>;
  try {
    const { payload } = await jwtVerify(cleaned, secret, { algorithms: ["HS256", "HS384", "HS512"], currentDate: new Date(nowSeconds * 1000) });
    claims = payload as Record<string, unknown>;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) {
      claims = error.payload as Record<string, unknown>;
    } else if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      return { ok: false, error: { reason: "signature_error", code: "JwtSignatureError", message: "Failed to validate JWT signature" } };
    } else {
      return { ok: false, error: { reason: "token_malformed", code: "MalformedJWT", message: "The token provided is not a valid JWT" } };
    }
  }
  const exp = claims.exp;
  if (typeof claims.role !== "string" || typeof exp !== "number") {
    return { ok: false, error: { reason: "missing_claims", code: "InvalidJWTToken", message: MISSING_CLAIMS } };
  }
  if (exp - nowSeconds <= 0) {
    return {
      ok: false,
      error: { reason: "expired_token", code: "InvalidJWTToken", message: `Token has expired ${nowSeconds - exp} seconds ago` },
    };
  }
  return { ok: true, claims, exp };
}
