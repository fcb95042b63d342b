/**
 * The demo's people, each with their own supabase-js client on the stack's API URL and anon key,
 * as each person's app would have: sign-up and sign-in through Auth, and the operator's account
 * made through Auth's admin API with the service role key (what an admin tool's server does).
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import type { Database } from '../../../types/database.ts';
import { claimsOf, type RallyClient } from '../../../tests/e2e/support/clients.ts';
import { collect, type Collected } from '../../../tests/e2e/support/realtime.ts';
import { DemoExpectationFailed } from './report.ts';
import type { DemoStack } from './stack.ts';

export interface Person {
  id: string;
  username: string;
  email: string;
  password: string;
  /** this person's app */
  client: RallyClient;
  /** their private `user:<id>` channel's `notification_created` broadcasts, once opened */
  inbox?: Collected;
}

/** Sessions live in memory and are refreshed by the story itself (as an app does after become_host). */
const APP_AUTH = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } as const;

export function appClient(stack: DemoStack, key: string = stack.anonKey): RallyClient {
  return createClient<Database>(stack.apiUrl, key, { auth: APP_AUTH });
}

export function demoPassword(): string {
  return `demo-${randomBytes(6).toString('base64url')}`;
}

/** `supabase.auth.signUp` with the username and display name Rally's apps send as user metadata. */
export async function signUp(stack: DemoStack, username: string, displayName: string): Promise<Person> {
  const client = appClient(stack);
  const email = `${username}@demo.rally.example`;
  const password = demoPassword();
  const { data, error } = await client.auth.signUp({ email, password, options: { data: { username, display_name: displayName } } });
  if (error !== null) throw new DemoExpectationFailed(`sign-up of ${email} failed: ${error.code ?? error.status ?? ''} ${error.message}`);
  if (data.session === null || data.user === null) {
    throw new DemoExpectationFailed(`sign-up of ${email} returned no session: the project must have e-mail confirmations off`);
  }
  return { id: data.user.id, username, email, password, client };
}

/**
 * Operator step: an admin account (app_metadata.role = admin, which only the service role can
 * set), then the operator signs in to the admin app with it like anyone else.
 */
export async function createOperator(stack: DemoStack, username: string, displayName: string): Promise<Person> {
  const server = appClient(stack, stack.serviceRoleKey);
  const email = `${username}@demo.rally.example`;
  const password = demoPassword();
  const created = await server.auth.admin.createUser({
    email, password, email_confirm: true, app_metadata: { role: 'admin' }, user_metadata: { username, display_name: displayName },
  });
  if (created.error !== null) throw new DemoExpectationFailed(`auth.admin.createUser for ${email} failed: ${created.error.message}`);
  const client = appClient(stack);
  const signedIn = await client.auth.signInWithPassword({ email, password });
  if (signedIn.error !== null) throw new DemoExpectationFailed(`${email} could not sign in: ${signedIn.error.message}`);
  return { id: created.data.user.id, username, email, password, client };
}

/** The claims of the person's current access token (as the server verified them). */
export async function claims(person: Person): Promise<Record<string, unknown>> {
  const { data } = await person.client.auth.getSession();
  if (data.session === null) throw new DemoExpectationFailed(`${person.username} has no session`);
  return claimsOf(data.session.access_token);
}

/** Collects the person's `notification_created` broadcasts on `user:<id>`; call before subscribing. */
export function inboxOf(person: Person): { channel: ReturnType<RallyClient['channel']>; inbox: Collected } {
  const channel = person.client.channel(`user:${person.id}`, { config: { private: true } });
  return { channel, inbox: collect(channel, 'notification_created') };
}

/** Leaves every channel and closes the Realtime socket, so the process can exit. */
export async function signOff(person: Person): Promise<void> {
  await person.client.removeAllChannels();
  person.client.realtime.disconnect();
}
