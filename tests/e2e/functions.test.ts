/**
 * Edge functions through `supabase.functions.invoke`, as an app calls them on the one API URL:
 * a public function, one that needs the user's token, and Connect onboarding for a host (the
 * local stack answers with the Stripe stand-in; a hosted project with Stripe's test mode).
 */
import { FunctionsHttpError } from '@supabase/supabase-js';
import { describe, expect, it } from 'vitest';
import { anonClient, signUpUser } from './support/clients.ts';

async function errorBody(error: unknown): Promise<unknown> {
  return error instanceof FunctionsHttpError ? (error.context as Response).json() : null;
}

describe('functions.invoke', () => {
  it('reaches health without a user', async () => {
    const { data, error } = await anonClient().functions.invoke('health', { method: 'GET' });
    expect(error).toBeNull();
    expect(data).toMatchObject({ status: 'ok', database: 'ok' });
  });

  it('answers me with the signed-in user\'s profile, and refuses the anon key with 401', async () => {
    const user = await signUpUser('fnme');
    const { data, error } = await user.client.functions.invoke('me', { method: 'GET' });
    expect(error).toBeNull();
    expect(data).toMatchObject({ id: user.user.id, username: user.username });
    const anon = await anonClient().functions.invoke('me', { method: 'GET' });
    expect(anon.error).toBeInstanceOf(FunctionsHttpError);
    expect((anon.error as FunctionsHttpError).context.status).toBe(401);
  });

  it('starts Connect onboarding for a host and refuses a guest with 403 not_a_host', async () => {
    const guest = await signUpUser('fnguest');
    const refused = await guest.client.functions.invoke('connect-onboarding', { body: {} });
    expect((refused.error as FunctionsHttpError).context.status).toBe(403);
    expect(await errorBody(refused.error)).toMatchObject({ error: { code: 'not_a_host' } });

    const host = await signUpUser('fnhost');
    expect((await host.client.rpc('become_host')).error).toBeNull();
    await host.client.auth.refreshSession();
    const { data, error } = await host.client.functions.invoke<{ account_id: string; onboarding_url: string }>('connect-onboarding', { body: {} });
    expect(error).toBeNull();
    expect(data?.account_id).toMatch(/^acct_/);
    expect(data?.onboarding_url).toMatch(/^https?:\/\//);
  });
});
