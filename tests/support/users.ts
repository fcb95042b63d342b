/**
 * Users created the way Supabase Auth (GoTrue) creates them on a confirmed email sign-up, and
 * access tokens issued the way it issues them:
 *
 *   const alice = await createUser({ username: "alice_1" });
 *   alice.id, alice.email, alice.claims   // claims for asUser()
 *   alice.token                           // a signed JWT for `Authorization: Bearer …`
 *   const fresh = await issueAccessToken(alice.id);  // after become_host(), admin marking, …
 *
 * Like GoTrue, everything here connects as `supabase_auth_admin` — users are inserted and token
 * issuing runs `public.custom_access_token_hook` as that role, under RLS, when the migration
 * defining it is applied — so `user_role` is what production would put there.
 */
import { authAdminPool, one, ownerQuery, transaction } from "./db.ts";
import { type GoTrueClaims, signJwt, userClaims } from "./jwt.ts";

export interface CreateUserOptions {
  /** Requested username (sign-up metadata). Default: a unique `user_<hex>`. */
  username?: string | null;
  /** Default: `<username or id>@example.test`. */
  email?: string;
  /** Extra sign-up metadata (display_name, timezone, locale, …). */
  userMetadata?: Record<string, unknown>;
  /** Extra app_metadata, merged over GoTrue's `{ provider: "email", providers: ["email"] }`. */
  appMetadata?: Record<string, unknown>;
}

export interface TestUser {
  id: string;
  email: string;
  /** The username requested at sign-up (the profile may hold a de-duplicated one). */
  username: string | null;
  claims: GoTrueClaims;
  token: string;
}

/** A short unique suffix; usernames allow [a-z0-9_], 3–30 characters. */
export const uniqueSuffix = (): string => crypto.randomUUID().replaceAll("-", "").slice(0, 10);

/**
 * Inserts an `auth.users` row (and its email identity) as GoTrue does for a confirmed sign-up;
 * the database's own sign-up trigger then creates the profile. Returns claims and a token.
 */
export async function createUser(options: CreateUserOptions = {}): Promise<TestUser> {
  const id = crypto.randomUUID();
  const username = options.username === undefined ? `user_${uniqueSuffix()}` : options.username;
  const email = options.email ?? `${username ?? id}@example.test`;
  const userMetadata = { ...(username === null ? {} : { username }), ...options.userMetadata };
  const appMetadata = { provider: "email", providers: ["email"], ...options.appMetadata };
  await transaction(authAdminPool(), async (client) => {
    await client.query(
      `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                               raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at)
       values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, '',
               now(), $3, $4, now(), now(), now())`,
      [id, email, JSON.stringify(appMetadata), JSON.stringify(userMetadata)],
    );
    await client.query(
      `insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
       values ($1::text, $1::uuid, $2, 'email', now(), now(), now())`,
      [id, JSON.stringify({ sub: id, email, email_verified: true, phone_verified: false })],
    );
  });
  const { claims, token } = await issueAccessToken(id);
  return { id, email, username, claims, token };
}

interface AuthUserRow {
  email: string;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
}

/**
 * Claims and a signed token for an existing user, read fresh from `auth.users` and passed
 * through the custom access-token hook when it exists (as GoTrue does on sign-in and refresh).
 */
export async function issueAccessToken(
  userId: string,
  options: { expiresIn?: number } = {},
): Promise<{ claims: GoTrueClaims; token: string }> {
  const row = await one<AuthUserRow>(authAdminPool(),
    "select email, raw_app_meta_data, raw_user_meta_data from auth.users where id = $1", [userId]);
  const base = userClaims({
    id: userId,
    email: row.email,
    app_metadata: row.raw_app_meta_data ?? {},
    user_metadata: row.raw_user_meta_data ?? {},
  });
  const claims = await runAccessTokenHook(userId, base);
  return { claims, token: await signJwt(claims, options) };
}

/** GoTrue's call of the pg-functions hook: as supabase_auth_admin, with a 2 s statement timeout. */
async function runAccessTokenHook(userId: string, claims: GoTrueClaims): Promise<GoTrueClaims> {
  return transaction(authAdminPool(), async (client) => {
    const { rows } = await client.query<{ hook: string | null }>(
      "select to_regprocedure('public.custom_access_token_hook(jsonb)')::text as hook",
    );
    if (rows[0]?.hook === null || rows[0] === undefined) return claims;
    await client.query("set local statement_timeout = '2000'");
    const event = { user_id: userId, claims, authentication_method: "password" };
    const result = await client.query<{ out: { claims?: GoTrueClaims; error?: unknown } }>(
      "select public.custom_access_token_hook($1::jsonb) as out",
      [JSON.stringify(event)],
    );
    const out = result.rows[0]?.out;
    if (out?.error !== undefined) throw new Error(`access token hook refused: ${JSON.stringify(out.error)}`);
    return out?.claims ?? claims;
  });
}

/**
 * A confirmed sign-up brings the welcome (private.send_welcome: in-app and email). Tests that
 * count a user's alert deliveries remove its deliveries first: that story is told in
 * tests/db/20261125100310-notification-preferences, and here it would only be one more row.
 */
export async function forgetWelcome(...users: TestUser[]): Promise<void> {
  await ownerQuery("delete from private.alert_deliveries where user_id = any ($1::uuid[]) and type = 'welcome'",
    [users.map((user) => user.id)]);
}
