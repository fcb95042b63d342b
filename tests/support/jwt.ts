/**
 * Signing JWTs the way the local Supabase stack does: HS256 with the project's JWT secret.
 *
 *   const token = await signJwt(userClaims(alice));          // what GoTrue would issue
 *   const anon = await anonKey();                            // what `supabase start` prints
 *   const stale = await signJwt(claims, { expiresIn: -60 }); // expired a minute ago
 */
import { SignJWT, type JWTPayload } from "jose";
import { testEnv } from "./env.ts";

/** What GoTrue puts in an access token (the fields Rally reads are typed; extras allowed). */
export interface GoTrueClaims extends JWTPayload {
  sub: string;
  aud: string;
  role: "authenticated";
  email: string;
  phone: string;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  aal: "aal1" | "aal2";
  amr: { method: string; timestamp: number }[];
  session_id: string;
  is_anonymous: boolean;
  /** Added by public.custom_access_token_hook. */
  user_role?: "guest" | "host" | "admin";
}

export interface SignOptions {
  /** Defaults to SUPABASE_JWT_SECRET from the test environment. */
  secret?: string;
  /** Seconds from now until `exp` (negative: already expired). Default 3600, like GoTrue. */
  expiresIn?: number;
}

const now = (): number => Math.floor(Date.now() / 1000);

/** Signs `claims` (HS256); sets `iat`, and `exp` unless the claims carry one. */
export async function signJwt(claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  const secret = options.secret ?? testEnv("SUPABASE_JWT_SECRET");
  const iat = now();
  const payload: JWTPayload = { iat, ...claims };
  if (claims.exp === undefined) payload.exp = iat + (options.expiresIn ?? 3600);
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(secret));
}

export interface ClaimsSource {
  id: string;
  email: string;
  app_metadata?: Record<string, unknown>;
  user_metadata?: Record<string, unknown>;
}

/** The claims GoTrue issues after an email/password sign-in (before the access-token hook). */
export function userClaims(user: ClaimsSource, overrides: Partial<GoTrueClaims> = {}): GoTrueClaims {
  return {
    iss: "http://127.0.0.1:54321/auth/v1",
    sub: user.id,
    aud: "authenticated",
    role: "authenticated",
    email: user.email,
    phone: "",
    app_metadata: user.app_metadata ?? { provider: "email", providers: ["email"] },
    user_metadata: user.user_metadata ?? {},
    aal: "aal1",
    amr: [{ method: "password", timestamp: now() }],
    session_id: crypto.randomUUID(),
    is_anonymous: false,
    ...overrides,
  };
}

/** Ten years, like the keys `supabase start` prints. */
const KEY_LIFETIME_S = 10 * 365 * 24 * 3600;

/** The anon key: `{ iss: "supabase-demo", role: "anon" }`, no `sub`, no `aud`. */
export function anonKey(secret?: string): Promise<string> {
  return signJwt({ iss: "supabase-demo", role: "anon" }, { expiresIn: KEY_LIFETIME_S, ...(secret === undefined ? {} : { secret }) });
}

/** The service_role key: `{ iss: "supabase-demo", role: "service_role" }`. */
export function serviceRoleKey(secret?: string): Promise<string> {
  return signJwt({ iss: "supabase-demo", role: "service_role" }, {
    expiresIn: KEY_LIFETIME_S,
    ...(secret === undefined ? {} : { secret }),
  });
}
