/**
 * STAND-IN for Supabase Auth (GoTrue) at /auth/v1, for the local stack and tests. It is NOT
 * GoTrue; it follows GoTrue's contract for email + password, which is what Rally's apps use:
 *
 * - `POST /signup` (email, password, `data` → user_metadata); with `[auth.email]
 *   enable_confirmations = false` the user is confirmed and a session is returned, as GoTrue does.
 * - `POST /token?grant_type=password` and `?grant_type=refresh_token` (rotation with
 *   `refresh_token_reuse_interval`, reuse outside it revokes the session's token family).
 * - `GET /user`, `PUT /user` (password and `data`), `POST /logout?scope=global|local|others`.
 * - Admin (service_role JWT): `GET/POST /admin/users`, `GET/PUT/DELETE /admin/users/{id}`.
 * - `GET /health`, `GET /settings`.
 *
 * Storage is GoTrue's: `auth.users` (bcrypt `encrypted_password`; pgcrypto's `crypt(…,
 * gen_salt('bf'))` hashes verify too), `auth.identities`, `auth.sessions`, `auth.refresh_tokens`,
 * written as `supabase_auth_admin`. Access tokens carry GoTrue's claims and pass through the
 * configured Postgres `custom_access_token_hook` exactly as GoTrue calls it. Anything else
 * (OTP, magic links, OAuth providers, MFA, phone, email change, recovery) answers 501
 * `not_implemented`: the stand-in refuses rather than pretends.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import bcrypt from 'bcryptjs';
import { jwtVerify, SignJWT } from 'jose';
import pg from 'pg';
import { z } from 'zod';
import { bearerToken, BodyTooLarge, dbUrlAs, readBody, sendJson } from '../api-gateway/http.ts';
import type { ApiService, ServiceContext, ServiceRequest } from '../api-gateway/service.ts';
import { AuthError, OAuthError, renderAuthError } from './errors.ts';
import { authSettings, type AuthSettings } from './settings.ts';

type Db = pg.Pool | pg.PoolClient;

interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  phone: string | null;
  phone_confirmed_at: Date | null;
  confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  created_at: Date | null;
  updated_at: Date | null;
  banned_until: Date | null;
  deleted_at: Date | null;
  is_anonymous: boolean;
  confirmation_sent_at: Date | null;
}

interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  last_sign_in_at: Date | null;
  created_at: Date | null;
  updated_at: Date | null;
  email: string | null;
}

const USER_COLUMNS = `id, aud, role, email, encrypted_password, email_confirmed_at, phone, phone_confirmed_at,
  confirmed_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, banned_until,
  deleted_at, is_anonymous, confirmation_sent_at`;

const EMAIL = z.string().trim().toLowerCase().email();
const credentials = z.object({ email: z.string().optional(), phone: z.string().optional(), password: z.string().optional() }).loose();
const signupBody = credentials.extend({ data: z.record(z.string(), z.unknown()).optional() });
const refreshBody = z.object({ refresh_token: z.string().optional() }).loose();
const userUpdate = z.object({
  email: z.string().optional(), phone: z.string().optional(), password: z.string().optional(),
  nonce: z.string().optional(), data: z.record(z.string(), z.unknown()).optional(),
}).loose();
const adminUserBody = z.object({
  email: z.string().optional(), phone: z.string().optional(), password: z.string().optional(),
  email_confirm: z.boolean().optional(), phone_confirm: z.boolean().optional(),
  user_metadata: z.record(z.string(), z.unknown()).optional(), app_metadata: z.record(z.string(), z.unknown()).optional(),
  ban_duration: z.string().optional(), role: z.string().optional(),
}).loose();

const BCRYPT_COST = 10;
const LEGACY_REFRESH_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** GoTrue's v1 refresh token: 12 lower-case alphanumerics. */
export function newRefreshToken(): string {
  let token = '';
  for (let i = 0; i < 12; i += 1) token += LEGACY_REFRESH_ALPHABET[randomInt(LEGACY_REFRESH_ALPHABET.length)];
  return token;
}

const iso = (value: Date | null | undefined): string | undefined => (value ? value.toISOString() : undefined);

/** GoTrue's user JSON (models.User): empty optional fields are omitted, as Go's omitempty does. */
export function userJson(user: UserRow, identities: readonly IdentityRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: user.id,
    aud: user.aud ?? '',
    role: user.role ?? '',
    email: user.email ?? '',
    email_confirmed_at: iso(user.email_confirmed_at),
    phone: user.phone ?? '',
    phone_confirmed_at: iso(user.phone_confirmed_at),
    confirmation_sent_at: iso(user.confirmation_sent_at),
    confirmed_at: iso(user.confirmed_at),
    last_sign_in_at: iso(user.last_sign_in_at),
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    identities: identities.map((i) => ({
      identity_id: i.id, id: i.provider_id, user_id: i.user_id, identity_data: i.identity_data, provider: i.provider,
      last_sign_in_at: iso(i.last_sign_in_at), created_at: iso(i.created_at), updated_at: iso(i.updated_at), email: i.email ?? undefined,
    })),
    created_at: iso(user.created_at),
    updated_at: iso(user.updated_at),
    banned_until: iso(user.banned_until),
    is_anonymous: user.is_anonymous,
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

function parseJson<T>(schema: z.ZodType<T>, raw: Buffer): T {
  let value: unknown;
  try {
    value = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AuthError(400, 'validation_failed', 'Could not parse request body as JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AuthError(400, 'validation_failed', 'Could not read request body: ' + parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

function validEmail(raw: string | undefined): string {
  const parsed = EMAIL.safeParse(raw ?? '');
  if (!parsed.success) throw new AuthError(400, 'validation_failed', 'Unable to validate email address: invalid format');
  return parsed.data;
}

function checkPasswordStrength(password: string, settings: AuthSettings): void {
  if (password.length < settings.minimumPasswordLength) {
    throw new AuthError(422, 'weak_password', `Password should be at least ${settings.minimumPasswordLength} characters.`, ['length']);
  }
}

function isBanned(user: UserRow): boolean {
  return user.banned_until !== null && user.banned_until.getTime() > Date.now();
}

/** `ban_duration` as GoTrue reads it: a Go duration ("24h", "90m", "1h30m") or "none". */
export function parseBanDuration(value: string): number | null {
  if (value === 'none') return null;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const scale: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  let total = 0;
  let consumed = 0;
  for (const match of value.matchAll(re)) {
    total += Number(match[1]) * (scale[match[2] ?? 's'] ?? 0);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== value.length) throw new AuthError(400, 'validation_failed', 'invalid format for ban duration: time: invalid duration ' + JSON.stringify(value));
  return total;
}

export async function createAuthService(context: ServiceContext): Promise<ApiService> {
  const settings = authSettings(context.config);
  const pool = new pg.Pool({ connectionString: dbUrlAs(context.dbUrl, 'supabase_auth_admin'), max: 4, application_name: 'rally-auth-standin' });
  pool.on('error', (error) => context.log(`auth stand-in: connection error: ${error.message}`));
  const secret = new TextEncoder().encode(context.jwtSecret);
  const issuer = `${context.apiUrl}/auth/v1`;

  async function inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async function findUser(db: Db, where: string, value: string, forUpdate = false): Promise<UserRow | null> {
    const { rows } = await db.query<UserRow>(`select ${USER_COLUMNS} from auth.users where ${where} = $1${forUpdate ? ' for update' : ''}`, [value]);
    return rows[0] ?? null;
  }

  async function identitiesOf(db: Db, userId: string): Promise<IdentityRow[]> {
    const { rows } = await db.query<IdentityRow>(
      'select id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at, email from auth.identities where user_id = $1 order by created_at', [userId]);
    return rows;
  }

  async function userResponse(db: Db, user: UserRow): Promise<Record<string, unknown>> {
    return userJson(user, await identitiesOf(db, user.id));
  }

  /** GoTrue's access token claims, then the custom access token hook as GoTrue invokes it. */
  async function accessToken(db: pg.PoolClient, user: UserRow, sessionId: string, method: string, signedInAt: Date): Promise<{ token: string; expiresAt: number }> {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + settings.jwtExpiry;
    let claims: Record<string, unknown> = {
      iss: issuer, sub: user.id, aud: user.aud ?? 'authenticated', exp, iat,
      email: user.email ?? '', phone: user.phone ?? '',
      app_metadata: user.raw_app_meta_data ?? {}, user_metadata: user.raw_user_meta_data ?? {},
      role: user.role ?? 'authenticated', aal: 'aal1',
      amr: [{ method, timestamp: Math.floor(signedInAt.getTime() / 1000) }],
      session_id: sessionId, is_anonymous: user.is_anonymous,
    };
    if (settings.accessTokenHook !== null) {
      const input = {
        metadata: { uuid: randomUUID(), time: new Date().toISOString(), name: 'custom-access-token' },
        user_id: user.id, claims, authentication_method: method,
      };
      await db.query(`set local statement_timeout to '${settings.hookTimeoutMs}'`);
      let output: Record<string, unknown>;
      try {
        const { rows } = await db.query<{ result: Record<string, unknown> }>(`select ${settings.accessTokenHook}($1::jsonb) as result`, [JSON.stringify(input)]);
        output = rows[0]?.result ?? {};
      } catch (error) {
        throw new AuthError(500, 'unexpected_failure', `Error running hook URI: ${settings.accessTokenHookUri}`);
      }
      await db.query('set local statement_timeout to default');
      const hookError = output.error as { http_code?: number; message?: string } | undefined;
      if (hookError !== undefined) throw new AuthError(hookError.http_code ?? 500, 'unexpected_failure', hookError.message ?? 'Error running hook');
      const next = output.claims;
      if (typeof next !== 'object' || next === null) throw new AuthError(500, 'unexpected_failure', 'output claims field is missing');
      claims = next as Record<string, unknown>;
      for (const required of ['aud', 'exp', 'iat', 'sub', 'role', 'aal', 'session_id', 'email', 'phone', 'is_anonymous']) {
        if (!(required in claims)) throw new AuthError(500, 'unexpected_failure', `output claims do not conform to the expected schema: ${required} is required`);
      }
    }
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
    return { token, expiresAt: Number(claims.exp) };
  }

  async function tokenResponse(db: pg.PoolClient, user: UserRow, sessionId: string, refreshToken: string, method: string, signedInAt: Date): Promise<Record<string, unknown>> {
    const { token, expiresAt } = await accessToken(db, user, sessionId, method, signedInAt);
    return {
      access_token: token, token_type: 'bearer', expires_in: expiresAt - Math.floor(Date.now() / 1000), expires_at: expiresAt,
      refresh_token: refreshToken, user: await userResponse(db, user),
    };
  }

  /** GrantAuthenticatedUser: a new session and its first refresh token; last_sign_in_at. */
  async function startSession(db: pg.PoolClient, user: UserRow, req: IncomingMessage): Promise<{ sessionId: string; refreshToken: string; user: UserRow }> {
    const sessionId = randomUUID();
    const refreshToken = newRefreshToken();
    await db.query(`insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
      values ($1, $2, now(), now(), 'aal1', $3, $4)`, [sessionId, user.id, req.headers['user-agent'] ?? null, req.socket.remoteAddress ?? null]);
    await db.query(`insert into auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, session_id)
      values ($1, $2, false, now(), now(), $3)`, [refreshToken, user.id, sessionId]);
    await db.query('update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1', [user.id]);
    await db.query(`update auth.identities set last_sign_in_at = now(), updated_at = now() where user_id = $1 and provider = 'email'`, [user.id]);
    const fresh = await findUser(db, 'id', user.id);
    if (fresh === null) throw new AuthError(500, 'unexpected_failure', 'Database error granting user');
    return { sessionId, refreshToken, user: fresh };
  }

  async function passwordGrant(req: IncomingMessage, raw: Buffer): Promise<Record<string, unknown>> {
    const body = parseJson(credentials, raw);
    if (body.phone !== undefined && body.phone !== '') throw new AuthError(501, 'not_implemented', 'The Auth stand-in does not support phone logins');
    if (body.email === undefined || body.email === '') throw new AuthError(400, 'validation_failed', 'missing email or phone');
    const email = body.email.trim().toLowerCase();
    return inTransaction(async (db) => {
      const user = await findUser(db, 'lower(email)', email, true);
      const valid = user !== null && user.encrypted_password !== null && user.encrypted_password !== ''
        && user.deleted_at === null && (await bcrypt.compare(body.password ?? '', user.encrypted_password));
      if (!valid || user === null) throw new AuthError(400, 'invalid_credentials', 'Invalid login credentials');
      if (isBanned(user)) throw new AuthError(400, 'user_banned', 'User is banned');
      if (user.email_confirmed_at === null && settings.emailConfirmations) throw new AuthError(400, 'email_not_confirmed', 'Email not confirmed');
      const session = await startSession(db, user, req);
      return tokenResponse(db, session.user, session.sessionId, session.refreshToken, 'password', new Date());
    });
  }

  async function refreshGrant(raw: Buffer): Promise<Record<string, unknown>> {
    const body = parseJson(refreshBody, raw);
    const presented = body.refresh_token ?? '';
    if (presented === '') throw new OAuthError('invalid_request', 'refresh_token required');
    if (presented.length < 12 || (presented.length === 12 && !/^[a-z0-9]{12}$/.test(presented))) {
      throw new AuthError(400, 'validation_failed', 'Refresh token is not valid');
    }
    if (presented.length > 12) throw new AuthError(501, 'not_implemented', 'The Auth stand-in issues only v1 (12-character) refresh tokens');
    return inTransaction(async (db) => {
      const { rows } = await db.query<{ id: string; user_id: string; revoked: boolean; updated_at: Date; session_id: string | null; token: string }>(
        'select id, user_id, revoked, updated_at, session_id, token from auth.refresh_tokens where token = $1 for update', [presented]);
      const row = rows[0];
      if (row === undefined) throw new AuthError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
      const user = await findUser(db, 'id', row.user_id);
      if (user === null) throw new AuthError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
      if (isBanned(user)) throw new AuthError(400, 'user_banned', 'Invalid Refresh Token: User Banned');
      const { rows: sessions } = await db.query<{ id: string; not_after: Date | null; created_at: Date }>(
        'select id, not_after, created_at from auth.sessions where id = $1 for update', [row.session_id]);
      const session = sessions[0];
      if (session === undefined) throw new AuthError(400, 'session_not_found', 'Invalid Refresh Token: No Valid Session Found');
      if (session.not_after !== null && session.not_after.getTime() < Date.now()) throw new AuthError(400, 'session_expired', 'Invalid Refresh Token: Session Expired');
      let issued: string | null = null;
      if (row.revoked) {
        const { rows: active } = await db.query<{ token: string; parent: string | null }>(
          'select token, parent from auth.refresh_tokens where session_id = $1 and revoked is false order by id desc limit 1', [session.id]);
        if (active[0] !== undefined && active[0].parent === row.token) {
          issued = active[0].token;
        } else if (Date.now() > row.updated_at.getTime() + settings.refreshTokenReuseInterval * 1000) {
          if (settings.refreshTokenRotation) {
            await db.query('update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and revoked is false', [session.id]);
          }
          await db.query('commit');
          await db.query('begin');
          throw new AuthError(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used');
        }
      }
      if (issued === null) {
        issued = newRefreshToken();
        await db.query('update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1', [row.id]);
        await db.query(`insert into auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, parent, session_id)
          values ($1, $2, false, now(), now(), $3, $4)`, [issued, user.id, row.token, session.id]);
      }
      await db.query(`update auth.sessions set refreshed_at = (now() at time zone 'utc'), updated_at = now() where id = $1`, [session.id]);
      return tokenResponse(db, user, session.id, issued, 'password', session.created_at);
    });
  }

  async function signup(req: IncomingMessage, raw: Buffer): Promise<Record<string, unknown>> {
    if (!settings.signupEnabled) throw new AuthError(422, 'signup_disabled', 'Signups not allowed for this instance');
    const body = parseJson(signupBody, raw);
    if (body.phone !== undefined && body.phone !== '') throw new AuthError(501, 'not_implemented', 'The Auth stand-in does not support phone sign-ups');
    if (body.password === undefined || body.password === '') throw new AuthError(400, 'validation_failed', 'Signup requires a valid password');
    const email = validEmail(body.email);
    checkPasswordStrength(body.password, settings);
    if (settings.emailConfirmations) throw new AuthError(501, 'not_implemented', 'The Auth stand-in sends no confirmation emails; set [auth.email] enable_confirmations = false');
    const hash = await bcrypt.hash(body.password, BCRYPT_COST);
    return inTransaction(async (db) => {
      const existing = await findUser(db, 'lower(email)', email, true);
      if (existing !== null) throw new AuthError(422, 'user_already_exists', 'User already registered');
      const user = await insertUser(db, { email, hash, userMetadata: body.data ?? {}, appMetadata: {}, confirmed: true });
      const session = await startSession(db, user, req);
      return tokenResponse(db, session.user, session.sessionId, session.refreshToken, 'password', new Date());
    });
  }

  interface NewUser { email: string; hash: string | null; userMetadata: Record<string, unknown>; appMetadata: Record<string, unknown>; confirmed: boolean }

  /** A user and its email identity, as GoTrue's signup writes them (the profile trigger fires here). */
  async function insertUser(db: pg.PoolClient, input: NewUser): Promise<UserRow> {
    const id = randomUUID();
    const identityData = { sub: id, email: input.email, email_verified: input.confirmed, phone_verified: false };
    const userMetadata = { ...identityData, ...input.userMetadata };
    const appMetadata = { provider: 'email', providers: ['email'], ...input.appMetadata };
    try {
      await db.query('savepoint signup_user');
      await db.query(`insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
          confirmation_sent_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous)
        values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, $3, $4, null, $5, $6, now(), now(), false)`,
      [id, input.email, input.hash ?? '', input.confirmed ? new Date() : null, JSON.stringify(appMetadata), JSON.stringify(userMetadata)]);
      await db.query(`insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
        values ($1::text, $1::uuid, $2, 'email', now(), now())`, [id, JSON.stringify(identityData)]);
      await db.query('release savepoint signup_user');
    } catch (error) {
      // GoTrue answers any database error here (a trigger refusing the row included) this way.
      context.log(`auth stand-in: saving a new user failed: ${error instanceof Error ? error.message : String(error)}`);
      throw new AuthError(500, 'unexpected_failure', 'Database error saving new user');
    }
    const user = await findUser(db, 'id', id);
    if (user === null) throw new AuthError(500, 'unexpected_failure', 'Database error loading user after sign-up');
    return user;
  }

  interface Caller { claims: Record<string, unknown>; user: UserRow | null; sessionId: string | null }

  /** GoTrue's requireAuthentication + the session check of `/user` and `/logout`. */
  async function authenticate(req: IncomingMessage, needUser: boolean): Promise<Caller> {
    const token = bearerToken(req);
    if (token === null) throw new AuthError(401, 'no_authorization', 'This endpoint requires a valid Bearer token');
    let claims: Record<string, unknown>;
    try {
      claims = (await jwtVerify(token, secret, { algorithms: ['HS256'] })).payload as Record<string, unknown>;
    } catch (error) {
      throw new AuthError(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!needUser) return { claims, user: null, sessionId: null };
    const sub = typeof claims.sub === 'string' ? claims.sub : '';
    if (!z.uuid().safeParse(sub).success) throw new AuthError(403, 'bad_jwt', 'invalid claim: missing sub claim');
    const user = await findUser(pool, 'id', sub);
    if (user === null) throw new AuthError(403, 'user_not_found', 'User from sub claim in JWT does not exist');
    const sessionId = typeof claims.session_id === 'string' ? claims.session_id : null;
    if (sessionId !== null) {
      const { rowCount } = await pool.query('select 1 from auth.sessions where id = $1', [sessionId]);
      if (rowCount === 0) throw new AuthError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist');
    }
    return { claims, user, sessionId };
  }

  async function updateUser(req: IncomingMessage, raw: Buffer): Promise<Record<string, unknown>> {
    const caller = await authenticate(req, true);
    const body = parseJson(userUpdate, raw);
    const user = caller.user as UserRow;
    if ((body.email !== undefined && body.email.toLowerCase() !== (user.email ?? '')) || (body.phone !== undefined && body.phone !== (user.phone ?? ''))) {
      throw new AuthError(501, 'not_implemented', 'The Auth stand-in does not change email addresses or phone numbers (GoTrue confirms them by message)');
    }
    return inTransaction(async (db) => {
      if (body.password !== undefined) {
        checkPasswordStrength(body.password, settings);
        if (user.encrypted_password && (await bcrypt.compare(body.password, user.encrypted_password))) {
          throw new AuthError(422, 'validation_failed', 'New password should be different from the old password.');
        }
        await db.query('update auth.users set encrypted_password = $2, updated_at = now() where id = $1', [user.id, await bcrypt.hash(body.password, BCRYPT_COST)]);
      }
      if (body.data !== undefined) {
        // GoTrue merges `data` into user_metadata; a null value removes the key.
        await db.query(`update auth.users set raw_user_meta_data = jsonb_strip_nulls(coalesce(raw_user_meta_data, '{}'::jsonb) || $2::jsonb), updated_at = now()
          where id = $1`, [user.id, JSON.stringify(body.data)]);
      }
      const fresh = await findUser(db, 'id', user.id);
      return userResponse(db, fresh as UserRow);
    });
  }

  async function logout(req: IncomingMessage, query: URLSearchParams): Promise<void> {
    const scope = query.get('scope') ?? 'global';
    if (!['global', 'local', 'others'].includes(scope)) throw new AuthError(400, 'validation_failed', `Unsupported logout scope "${scope}"`);
    const caller = await authenticate(req, true);
    const userId = (caller.user as UserRow).id;
    if (scope === 'global') await pool.query('delete from auth.sessions where user_id = $1', [userId]);
    else if (scope === 'local') await pool.query('delete from auth.sessions where id = $1', [caller.sessionId]);
    else await pool.query('delete from auth.sessions where user_id = $1 and id is distinct from $2', [userId, caller.sessionId]);
  }

  async function requireServiceRole(req: IncomingMessage): Promise<void> {
    const caller = await authenticate(req, false);
    if (caller.claims.role !== 'service_role' && caller.claims.role !== 'supabase_admin') {
      throw new AuthError(403, 'not_admin', 'User not allowed');
    }
  }

  async function adminCreateUser(raw: Buffer): Promise<Record<string, unknown>> {
    const body = parseJson(adminUserBody, raw);
    if (body.phone !== undefined && body.phone !== '') throw new AuthError(501, 'not_implemented', 'The Auth stand-in does not create phone users');
    const email = validEmail(body.email);
    if (body.password !== undefined) checkPasswordStrength(body.password, settings);
    const hash = body.password === undefined ? null : await bcrypt.hash(body.password, BCRYPT_COST);
    return inTransaction(async (db) => {
      if ((await findUser(db, 'lower(email)', email, true)) !== null) {
        throw new AuthError(422, 'email_exists', 'A user with this email address has already been registered');
      }
      const user = await insertUser(db, {
        email, hash, userMetadata: body.user_metadata ?? {}, appMetadata: body.app_metadata ?? {}, confirmed: body.email_confirm === true,
      });
      if (body.ban_duration !== undefined) await applyBan(db, user.id, body.ban_duration);
      return userResponse(db, (await findUser(db, 'id', user.id)) as UserRow);
    });
  }

  async function applyBan(db: Db, userId: string, duration: string): Promise<void> {
    const ms = parseBanDuration(duration);
    await db.query(`update auth.users set banned_until = case when $2::float8 is null then null else now() + make_interval(secs => $2::float8 / 1000) end,
      updated_at = now() where id = $1`, [userId, ms]);
  }

  async function adminUpdateUser(id: string, raw: Buffer): Promise<Record<string, unknown>> {
    const body = parseJson(adminUserBody, raw);
    return inTransaction(async (db) => {
      const user = await findUser(db, 'id', id, true);
      if (user === null) throw new AuthError(404, 'user_not_found', 'User not found');
      if (body.phone !== undefined) throw new AuthError(501, 'not_implemented', 'The Auth stand-in does not manage phone numbers');
      if (body.email !== undefined) {
        const email = validEmail(body.email);
        const other = await findUser(db, 'lower(email)', email);
        if (other !== null && other.id !== id) throw new AuthError(422, 'email_exists', 'A user with this email address has already been registered');
        await db.query('update auth.users set email = $2, updated_at = now() where id = $1', [id, email]);
      }
      if (body.password !== undefined) {
        checkPasswordStrength(body.password, settings);
        await db.query('update auth.users set encrypted_password = $2, updated_at = now() where id = $1', [id, await bcrypt.hash(body.password, BCRYPT_COST)]);
      }
      if (body.email_confirm === true) await db.query('update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()) where id = $1', [id]);
      if (body.app_metadata !== undefined) {
        await db.query(`update auth.users set raw_app_meta_data = jsonb_strip_nulls(coalesce(raw_app_meta_data, '{}'::jsonb) || $2::jsonb), updated_at = now() where id = $1`,
          [id, JSON.stringify(body.app_metadata)]);
      }
      if (body.user_metadata !== undefined) {
        await db.query(`update auth.users set raw_user_meta_data = jsonb_strip_nulls(coalesce(raw_user_meta_data, '{}'::jsonb) || $2::jsonb), updated_at = now() where id = $1`,
          [id, JSON.stringify(body.user_metadata)]);
      }
      if (body.ban_duration !== undefined) await applyBan(db, id, body.ban_duration);
      return userResponse(db, (await findUser(db, 'id', id)) as UserRow);
    });
  }

  async function adminListUsers(query: URLSearchParams): Promise<{ body: Record<string, unknown>; headers: Record<string, string> }> {
    const page = Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1);
    const perPage = Math.min(1000, Math.max(1, Number.parseInt(query.get('per_page') ?? '50', 10) || 50));
    const { rows } = await pool.query<UserRow>(`select ${USER_COLUMNS} from auth.users order by created_at desc, id limit $1 offset $2`, [perPage, (page - 1) * perPage]);
    const { rows: count } = await pool.query<{ n: string }>('select count(*) as n from auth.users');
    const total = Number(count[0]?.n ?? 0);
    const users = await Promise.all(rows.map((u) => userResponse(pool, u)));
    return { body: { users, aud: 'authenticated' }, headers: { 'x-total-count': String(total) } };
  }

  async function route(request: ServiceRequest, raw: Buffer): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const { req, path, query } = request;
    const method = req.method ?? 'GET';
    const admin = /^\/admin\/users(?:\/([^/]+))?\/?$/.exec(path);
    if (path === '/health' && method === 'GET') return { status: 200, body: { version: 'rally-auth-standin', name: 'GoTrue', description: 'Auth stand-in (not GoTrue)' } };
    if (path === '/settings' && method === 'GET') {
      return { status: 200, body: { external: { email: true, phone: false }, disable_signup: !settings.signupEnabled, mailer_autoconfirm: !settings.emailConfirmations, phone_autoconfirm: false, sms_provider: '', saml_enabled: false } };
    }
    if (path === '/signup' && method === 'POST') return { status: 200, body: await signup(req, raw) };
    if (path === '/token' && method === 'POST') {
      const grant = query.get('grant_type');
      if (grant === 'password') return { status: 200, body: await passwordGrant(req, raw) };
      if (grant === 'refresh_token') return { status: 200, body: await refreshGrant(raw) };
      if (grant === 'pkce' || grant === 'id_token' || grant === 'web3') throw new AuthError(501, 'not_implemented', `The Auth stand-in does not support grant_type=${grant}`);
      throw new AuthError(400, 'invalid_credentials', 'unsupported_grant_type');
    }
    if (path === '/user' && method === 'GET') {
      const caller = await authenticate(req, true);
      return { status: 200, body: await userResponse(pool, caller.user as UserRow) };
    }
    if (path === '/user' && method === 'PUT') return { status: 200, body: await updateUser(req, raw) };
    if (path === '/logout' && method === 'POST') {
      await logout(req, query);
      return { status: 204, body: undefined };
    }
    if (admin !== null) {
      await requireServiceRole(req);
      const id = admin[1];
      if (id === undefined && method === 'GET') {
        const listed = await adminListUsers(query);
        return { status: 200, body: listed.body, headers: listed.headers };
      }
      if (id === undefined && method === 'POST') return { status: 200, body: await adminCreateUser(raw) };
      if (id !== undefined && !z.uuid().safeParse(id).success) throw new AuthError(404, 'user_not_found', 'User not found');
      if (id !== undefined && method === 'GET') {
        const user = await findUser(pool, 'id', id);
        if (user === null) throw new AuthError(404, 'user_not_found', 'User not found');
        return { status: 200, body: await userResponse(pool, user) };
      }
      if (id !== undefined && method === 'PUT') return { status: 200, body: await adminUpdateUser(id, raw) };
      if (id !== undefined && method === 'DELETE') {
        const body = parseJson(z.object({ should_soft_delete: z.boolean().optional() }).loose(), raw);
        if (body.should_soft_delete === true) throw new AuthError(501, 'not_implemented', 'The Auth stand-in does not soft-delete users');
        const { rowCount } = await pool.query('delete from auth.users where id = $1', [id]);
        if (rowCount === 0) throw new AuthError(404, 'user_not_found', 'User not found');
        return { status: 200, body: {} };
      }
    }
    const known = ['/otp', '/verify', '/recover', '/magiclink', '/resend', '/reauthenticate', '/factors', '/authorize', '/callback', '/sso', '/invite', '/admin/generate_link', '/user/identities', '/oauth'];
    if (known.some((p) => path === p || path.startsWith(`${p}/`))) {
      throw new AuthError(501, 'not_implemented', `The Auth stand-in does not support ${method} ${path} (email + password only)`);
    }
    throw new AuthError(404, 'unknown', `Not found: ${method} /auth/v1${path}`);
  }

  return {
    prefix: '/auth/v1',
    description: 'Auth STAND-IN (GoTrue contract, email + password; not GoTrue), tools/auth-standin',
    async handle(request) {
      const apiVersion = request.req.headers['x-supabase-api-version'];
      try {
        const raw = request.req.method === 'GET' || request.req.method === 'HEAD' ? Buffer.alloc(0) : await readBody(request.req, 1024 * 1024);
        const answer = await route(request, raw);
        sendJson(request.res, answer.status, answer.body, answer.headers ?? {});
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          const rendered = renderAuthError(new AuthError(413, 'validation_failed', 'Request body too large'), typeof apiVersion === 'string' ? apiVersion : undefined);
          sendJson(request.res, rendered.status, rendered.body, rendered.headers);
          return;
        }
        if (error instanceof AuthError || error instanceof OAuthError) {
          const rendered = renderAuthError(error, typeof apiVersion === 'string' ? apiVersion : undefined);
          sendJson(request.res, rendered.status, rendered.body, rendered.headers);
          return;
        }
        context.log(`auth stand-in: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        const rendered = renderAuthError(new AuthError(500, 'unexpected_failure', 'Unexpected failure, please check server logs for more information'), typeof apiVersion === 'string' ? apiVersion : undefined);
        sendJson(request.res, rendered.status, rendered.body, rendered.headers);
      }
    },
    close: () => pool.end(),
  };
}
