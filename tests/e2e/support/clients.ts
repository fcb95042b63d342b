/**
 * supabase-js clients as apps create them, and sign-up helpers. Every e2e file signs up its own
 * users (unique e-mail addresses and usernames), so the suite runs against any project, seeded
 * or not, and can run again without a reset.
 */
import { randomBytes } from 'node:crypto';
import { createClient, type SupabaseClient, type User } from '@supabase/supabase-js';
import type { Database } from '../../../types/database.ts';
import { projectEnv } from './env.ts';

export type RallyClient = SupabaseClient<Database>;

const NO_STORAGE = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } as const;

/** A client with the anon key and no session: a visitor. */
export function anonClient(): RallyClient {
  const env = projectEnv();
  return createClient<Database>(env.url, env.anonKey, { auth: NO_STORAGE });
}

/** A client with the service_role key: what a server or an admin tool uses. Null when the key is not given. */
export function serviceClient(): RallyClient | null {
  const env = projectEnv();
  return env.serviceRoleKey === null ? null : createClient<Database>(env.url, env.serviceRoleKey, { auth: NO_STORAGE });
}

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export interface SignedUpUser {
  client: RallyClient;
  user: User;
  email: string;
  password: string;
  username: string;
  accessToken: string;
}

/** Signs up a new user through Auth, with a username in the metadata as Rally's apps send it. */
export async function signUpUser(label: string): Promise<SignedUpUser> {
  const suffix = uniqueSuffix();
  const username = `${label}_${suffix}`.toLowerCase().slice(0, 30);
  const email = `${username}@e2e.rally.example`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const client = anonClient();
  const { data, error } = await client.auth.signUp({ email, password, options: { data: { username, display_name: `E2E ${label}` } } });
  if (error !== null) throw new Error(`sign-up of ${email} failed: ${error.code ?? ''} ${error.message}`);
  if (data.session === null || data.user === null) {
    throw new Error(`sign-up of ${email} returned no session: the project must have e-mail confirmations off ([auth.email] enable_confirmations = false)`);
  }
  return { client, user: data.user, email, password, username, accessToken: data.session.access_token };
}

/** The claims of an access token (no verification: the server verified it). */
export function claimsOf(accessToken: string): Record<string, unknown> {
  const payload = accessToken.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
