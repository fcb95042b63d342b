/**
 * Auth as an app uses it, through supabase-js: sign-up with a username, sign-in, the access
 * token's claims (GoTrue's plus Rally's user_role from the hook), refresh, profile metadata,
 * sign-out, the admin API for the service role, and what bad input gets.
 */
import { createClient } from '@supabase/supabase-js';
import { describe, expect, it } from 'vitest';
import { anonClient, claimsOf, serviceClient, signUpUser, uniqueSuffix } from './support/clients.ts';
import { projectEnv } from './support/env.ts';

describe('sign-up', () => {
  it('creates the user, a session, and the profile with the chosen username', async () => {
    const guest = await signUpUser('signup');
    expect(guest.user.email).toBe(guest.email);
    expect(guest.user.user_metadata.username).toBe(guest.username);
    const { data, error } = await guest.client.from('profiles').select('id, username, display_name, is_host').eq('id', guest.user.id).single();
    expect(error).toBeNull();
    expect(data).toEqual({ id: guest.user.id, username: guest.username, display_name: 'E2E signup', is_host: false });
  });

  it('refuses an address that is already registered, and creates nothing', async () => {
    const first = await signUpUser('dup');
    const { data, error } = await anonClient().auth.signUp({ email: first.email, password: 'another-password' });
    expect(error?.status).toBe(422);
    expect(error?.code).toBe('user_already_exists');
    expect(data.session).toBeNull();
    // the original password still works: the account was not touched
    const again = await anonClient().auth.signInWithPassword({ email: first.email, password: first.password });
    expect(again.error).toBeNull();
    expect(again.data.user?.id).toBe(first.user.id);
  });

  it('refuses a short password and a malformed address with GoTrue\'s codes', async () => {
    const weak = await anonClient().auth.signUp({ email: `weak_${uniqueSuffix()}@e2e.rally.example`, password: '123' });
    expect(weak.error?.status).toBe(422);
    expect(weak.error?.code).toBe('weak_password');
    const malformed = await anonClient().auth.signUp({ email: 'not-an-address', password: 'long-enough-password' });
    expect(malformed.error?.status).toBe(400);
    expect(malformed.error?.code).toBe('validation_failed');
  });
});

describe('sign-in and the session', () => {
  it('signs in with the password and issues GoTrue\'s claims plus user_role from the access-token hook', async () => {
    const guest = await signUpUser('signin');
    const client = anonClient();
    const { data, error } = await client.auth.signInWithPassword({ email: guest.email, password: guest.password });
    expect(error).toBeNull();
    const claims = claimsOf(data.session?.access_token ?? '');
    expect(claims).toMatchObject({
      sub: guest.user.id, aud: 'authenticated', role: 'authenticated', email: guest.email, aal: 'aal1',
      is_anonymous: false, user_role: 'guest',
    });
    expect(typeof claims.session_id).toBe('string');
    expect(claims.amr).toEqual([expect.objectContaining({ method: 'password' })]);
    expect(Number(claims.exp) - Number(claims.iat)).toBeGreaterThan(0);
    const me = await client.auth.getUser();
    expect(me.data.user?.id).toBe(guest.user.id);
  });

  it('answers a wrong password with invalid_credentials', async () => {
    const guest = await signUpUser('wrongpw');
    const { data, error } = await anonClient().auth.signInWithPassword({ email: guest.email, password: `${guest.password}x` });
    expect(error?.status).toBe(400);
    expect(error?.code).toBe('invalid_credentials');
    expect(data.session).toBeNull();
  });

  it('refreshes the session with a rotated refresh token; an unknown token is refused', async () => {
    const guest = await signUpUser('refresh');
    const before = (await guest.client.auth.getSession()).data.session;
    const { data, error } = await guest.client.auth.refreshSession();
    expect(error).toBeNull();
    expect(data.session?.refresh_token).not.toBe(before?.refresh_token);
    expect(claimsOf(data.session?.access_token ?? '').session_id).toBe(claimsOf(before?.access_token ?? '').session_id);
    const stranger = await anonClient().auth.refreshSession({ refresh_token: 'abcdefghijkl' });
    expect(stranger.error?.code).toBe('refresh_token_not_found');
  });

  it('becoming a host shows in the next token\'s user_role', async () => {
    const host = await signUpUser('becomehost');
    const { data, error } = await host.client.rpc('become_host');
    expect(error).toBeNull();
    expect(data).toMatchObject({ id: host.user.id, is_host: true });
    const refreshed = await host.client.auth.refreshSession();
    expect(claimsOf(refreshed.data.session?.access_token ?? '').user_role).toBe('host');
  });

  it('updates user metadata with updateUser', async () => {
    const guest = await signUpUser('meta');
    const { data, error } = await guest.client.auth.updateUser({ data: { favourite: 'jazz' } });
    expect(error).toBeNull();
    expect(data.user?.user_metadata).toMatchObject({ favourite: 'jazz', username: guest.username });
  });

  it('signs out everywhere: the refresh token and the session are gone', async () => {
    const guest = await signUpUser('signout');
    const session = (await guest.client.auth.getSession()).data.session;
    const { error } = await guest.client.auth.signOut();
    expect(error).toBeNull();
    const reuse = await anonClient().auth.refreshSession({ refresh_token: session?.refresh_token ?? '' });
    expect(reuse.error).not.toBeNull();
    const env = projectEnv();
    const withOldToken = createClient(env.url, env.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false }, global: { headers: { Authorization: `Bearer ${session?.access_token}` } },
    });
    const user = await withOldToken.auth.getUser(session?.access_token);
    // GoTrue answers 403 session_not_found, which auth-js reports as AuthSessionMissingError.
    expect(user.data.user).toBeNull();
    expect(user.error?.name).toBe('AuthSessionMissingError');
  });
});

describe('the admin API', () => {
  it('lets the service role create and read a user, and refuses a signed-in user', async () => {
    const admin = serviceClient();
    if (admin === null) return; // needs SUPABASE_SERVICE_ROLE_KEY
    const email = `admin_made_${uniqueSuffix()}@e2e.rally.example`;
    const created = await admin.auth.admin.createUser({ email, password: 'created-by-admin', email_confirm: true, user_metadata: { username: `adm_${uniqueSuffix()}` } });
    expect(created.error).toBeNull();
    const fetched = await admin.auth.admin.getUserById(created.data.user?.id ?? '');
    expect(fetched.data.user?.email).toBe(email);
    const signIn = await anonClient().auth.signInWithPassword({ email, password: 'created-by-admin' });
    expect(signIn.error).toBeNull();

    const guest = await signUpUser('notadmin');
    const env = projectEnv();
    const impostor = createClient(env.url, env.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false }, global: { headers: { Authorization: `Bearer ${guest.accessToken}` } },
    });
    const refused = await impostor.auth.admin.listUsers();
    expect(refused.error?.status).toBe(403);
    expect(refused.error?.code).toBe('not_admin');
  });
});

describe('suspension', () => {
  it('an admin suspends a user: sign-in and refresh are refused with user_banned', async () => {
    const service = serviceClient();
    if (service === null) return; // needs SUPABASE_SERVICE_ROLE_KEY to make an admin
    const email = `ops_${uniqueSuffix()}@e2e.rally.example`;
    const made = await service.auth.admin.createUser({ email, password: 'admin-password', email_confirm: true, app_metadata: { role: 'admin' } });
    expect(made.error).toBeNull();
    const admin = anonClient();
    expect((await admin.auth.signInWithPassword({ email, password: 'admin-password' })).error).toBeNull();

    const target = await signUpUser('suspended');
    const suspended = await admin.rpc('admin_suspend_user', { p_user_id: target.user.id, p_reason: 'e2e: spam' });
    expect(suspended.error).toBeNull();
    expect(suspended.data).toEqual([expect.objectContaining({ user_id: target.user.id, suspended: true })]);

    const signIn = await anonClient().auth.signInWithPassword({ email: target.email, password: target.password });
    expect(signIn.error?.code).toBe('user_banned');
    const refresh = await target.client.auth.refreshSession();
    expect(refresh.error?.code).toBe('user_banned');
  });
});

describe('the gateway', () => {
  it('refuses an API key that is not the project\'s', async () => {
    const env = projectEnv();
    const wrong = createClient(env.url, 'not-a-project-key', { auth: { persistSession: false, autoRefreshToken: false } });
    const { error, status } = await wrong.from('profiles').select('id').limit(1);
    // Kong (supabase start) says "Invalid authentication credentials", the hosted gateway "Invalid API key".
    expect(status).toBe(401);
    expect(error?.message).toMatch(/Invalid (authentication credentials|API key)/);
  });
});
