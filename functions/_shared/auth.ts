/**
 * Bearer JWT verification, as Supabase does it for project JWTs signed with the legacy shared
 * secret: HS256 against SUPABASE_JWT_SECRET.
 *
 * Two levels:
 * - `verifyBearer(req)` accepts any valid project JWT (anon key, service_role key, user token).
 *   That is what the platform's `verify_jwt = true` gate checks, and the local gateway uses it.
 * - `requireUser(req)` also demands a signed-in user: role `authenticated`, audience
 *   `authenticated`, a uuid `sub`. Handlers that act for a person call this.
 * - `requireServiceRole(req, job)` demands the service_role key: the workers the platform's
 *   schedules call (payments worker, alert dispatcher, storage purge).
 *
 * Every verification failure is a 401 with code `missing_authorization` or `invalid_jwt`; the
 * reason stays in the message (never the token or the verifier's internals). A valid token of
 * the wrong role for a worker is a 403 `service_role_only`.
 */
import { errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";
import { requireEnv } from "./env.ts";
import { forbidden, type HttpError, unauthorized } from "./http-errors.ts";

/** The database roles a JWT may switch to, exactly those `authenticator` is granted on the platform. */
export const JWT_ROLES = ["anon", "authenticated", "service_role"] as const;
export type JwtRole = (typeof JWT_ROLES)[number];

/** Rally's role claim, added by `public.custom_access_token_hook`. */
export const USER_ROLES = ["guest", "host", "admin"] as const;
export type UserRole = (typeof USER_ROLES)[number];

const appMetadata = z.looseObject({}).catch({});

/**
 * Any valid project JWT. Loose: unknown claims (aal, amr, session_id, …) are kept, because
 * `request.jwt.claims` must carry the whole token as PostgREST does.
 */
export const jwtClaimsSchema = z.looseObject({
  role: z.enum(JWT_ROLES),
  sub: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  email: z.string().optional(),
  app_metadata: appMetadata.optional(),
  user_role: z.enum(USER_ROLES).optional(),
  exp: z.number().optional(),
});
export type JwtClaims = z.infer<typeof jwtClaimsSchema>;

/** A signed-in user's token, after `requireUser`. */
export const userClaimsSchema = jwtClaimsSchema.extend({
  role: z.literal("authenticated"),
  sub: z.uuid(),
  email: z.string().nullable().optional().transform((v) => v ?? null),
  app_metadata: appMetadata.optional().transform((v) => v ?? {}),
});
export type UserClaims = z.infer<typeof userClaimsSchema>;

export interface VerifyOptions {
  /** Defaults to SUPABASE_JWT_SECRET from the environment. */
  secret?: string;
  /** Required `aud` (GoTrue issues user tokens with aud `authenticated`). */
  audience?: string;
}

const invalid = (message: string): HttpError => unauthorized("invalid_jwt", message);

/** The raw token from `Authorization: Bearer <token>`; 401 when absent or not a bearer. */
export function bearerToken(req: Request): string {
  const header = req.headers.get("Authorization");
  if (header === null || header.trim() === "") {
    throw unauthorized("missing_authorization", "Missing Authorization header with a Bearer token.");
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null || match[1] === undefined) {
    throw invalid("The Authorization header must be `Bearer <jwt>`.");
  }
  return match[1];
}

/** Verifies a token and parses its claims; 401 `invalid_jwt` for any problem. */
export async function verifyJwt(token: string, options: VerifyOptions = {}): Promise<JwtClaims> {
  // Read the secret first: a missing secret is a 503 for the operator, not a 401 for the caller.
  const secret = options.secret ?? requireEnv("SUPABASE_JWT_SECRET").SUPABASE_JWT_SECRET;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ["HS256"],
      ...(options.audience === undefined ? {} : { audience: options.audience }),
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw invalid("The access token has expired.");
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === "aud") {
      throw invalid("The access token was not issued for this audience.");
    }
    throw invalid("The access token is invalid.");
  }
  const parsed = jwtClaimsSchema.safeParse(payload);
  if (!parsed.success) throw invalid("The access token's claims are not valid.");
  return parsed.data;
}

/** Any valid project JWT from the request (anon key, service_role key or user token). */
export async function verifyBearer(req: Request, options: VerifyOptions = {}): Promise<JwtClaims> {
  return verifyJwt(bearerToken(req), options);
}

/** True when `aud` is, or contains, the given audience. */
function hasAudience(aud: JwtClaims["aud"], audience: string): boolean {
  return Array.isArray(aud) ? aud.includes(audience) : aud === audience;
}

/** A signed-in user's claims from the request; 401 for anon/service keys and bad tokens. */
export async function requireUser(req: Request, options: Omit<VerifyOptions, "audience"> = {}): Promise<UserClaims> {
  const claims = await verifyJwt(bearerToken(req), options);
  // Role before audience: an anon key has no aud, and "sign in first" is the useful message.
  if (claims.role !== "authenticated") throw invalid("This needs a signed-in user's access token.");
  if (!hasAudience(claims.aud, "authenticated")) throw invalid("The access token was not issued for this audience.");
  const parsed = userClaimsSchema.safeParse(claims);
  if (!parsed.success) throw invalid("The access token does not identify a user.");
  return parsed.data;
}

/** The service_role key's claims; 403 `service_role_only` for any other valid token. `job` names the worker. */
export async function requireServiceRole(req: Request, job: string): Promise<JwtClaims> {
  const claims = await verifyBearer(req);
  if (claims.role !== "service_role") throw forbidden("service_role_only", `Only the service role runs ${job}.`);
  return claims;
}
