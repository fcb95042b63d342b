/**
 * GoTrue stand-in for the demo. There is no Supabase Auth server locally, so a sign-up is done
 * the way GoTrue itself writes it: an `auth.users` row and its email identity (as the superuser
 * behind the API; the database's sign-up trigger then creates the profile), and an access token
 * whose claims went through `public.custom_access_token_hook` as `supabase_auth_admin` and are
 * signed with the project's JWT secret. Everything after sign-up uses that token or those claims,
 * exactly as an app's session would.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type pg from 'pg';

export interface Session {
  id: string;
  email: string;
  username: string;
  /** what PostgREST puts in request.jwt.claims */
  claims: { role: 'authenticated'; sub: string } & Record<string, unknown>;
  /** `Authorization: Bearer …` for edge functions */
  token: string;
}

const TOKEN_LIFETIME_S = 3600;

/** A confirmed email sign-up with `username` requested in the metadata. */
export async function signUp(admin: pg.Pool, jwtSecret: string, username: string, displayName: string): Promise<Session> {
  const id = randomUUID();
  const email = `${username}@demo.rally.example`;
  const client = await admin.connect();
  try {
    await client.query('begin');
    await client.query(
      `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                               raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at)
       values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, '', now(),
               '{"provider":"email","providers":["email"]}', $3, now(), now(), now())`,
      [id, email, JSON.stringify({ username, display_name: displayName })],
    );
    await client.query(
      `insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
       values ($1::text, $1::uuid, $2, 'email', now(), now(), now())`,
      [id, JSON.stringify({ sub: id, email, email_verified: true, phone_verified: false })],
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return signIn(admin, jwtSecret, id);
}

/** A fresh session for an existing user (after become_host(), as an app refreshes its session). */
export async function signIn(admin: pg.Pool, jwtSecret: string, userId: string): Promise<Session> {
  const client = await admin.connect();
  try {
    const { rows } = await client.query<{ email: string; app: Record<string, unknown>; meta: Record<string, unknown>; username: string }>(
      `select u.email, u.raw_app_meta_data as app, u.raw_user_meta_data as meta, p.username
         from auth.users u join public.profiles p on p.id = u.id where u.id = $1`,
      [userId],
    );
    const user = rows[0];
    if (user === undefined) throw new Error(`no user ${userId}`);
    const now = Math.floor(Date.now() / 1000);
    const base = {
      iss: 'http://127.0.0.1:54321/auth/v1', sub: userId, aud: 'authenticated', role: 'authenticated' as const,
      email: user.email, phone: '', app_metadata: user.app, user_metadata: user.meta, aal: 'aal1',
      amr: [{ method: 'password', timestamp: now }], session_id: randomUUID(), is_anonymous: false,
    };
    // GoTrue calls the access-token hook as supabase_auth_admin for every token it issues.
    await client.query('begin');
    await client.query('set local role supabase_auth_admin');
    const hooked = await client.query<{ out: { claims?: Session['claims'] } }>(
      'select public.custom_access_token_hook($1::jsonb) as out',
      [JSON.stringify({ user_id: userId, claims: base, authentication_method: 'password' })],
    );
    await client.query('commit');
    const claims = hooked.rows[0]?.out.claims ?? base;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_LIFETIME_S)
      .sign(new TextEncoder().encode(jwtSecret));
    return { id: userId, email: user.email, username: user.username, claims, token };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
