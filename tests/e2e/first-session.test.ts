/**
 * An app's first session with nothing but the API URL and the anon key (the two values the
 * status block prints): sign up, sign in, read, call RPCs, invoke a function, join its own
 * private topic and be refused another user's, upload an avatar. The rest of Realtime and
 * Storage is in tests/e2e/realtime.test.ts and storage.test.ts.
 */
import { createClient } from '@supabase/supabase-js';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../types/database.ts';
import { uniqueSuffix } from './support/clients.ts';

describe('first session', () => {
  it('signs up, signs in, reads, calls RPCs, invokes a function, joins its topic and uploads an avatar through supabase-js alone', async () => {
    const url = process.env.SUPABASE_URL ?? '';
    const anonKey = process.env.SUPABASE_ANON_KEY ?? '';
    const supabase = createClient<Database>(url, anonKey, { auth: { persistSession: false } });
    const username = `first_${uniqueSuffix()}`;
    const email = `${username}@e2e.rally.example`;

    const signUp = await supabase.auth.signUp({ email, password: 'first-session-pw', options: { data: { username } } });
    expect(signUp.error).toBeNull();
    await supabase.auth.signOut();
    const signIn = await supabase.auth.signInWithPassword({ email, password: 'first-session-pw' });
    expect(signIn.error).toBeNull();
    const userId = signIn.data.user?.id ?? '';

    const profile = await supabase.from('profiles').select('username, is_host').eq('id', userId).single();
    expect(profile.data).toEqual({ username, is_host: false });

    const search = await supabase.rpc('search_events', { p_query: 'jazz', p_limit: 5 }, { get: true });
    expect(search.error).toBeNull();
    expect(Array.isArray(search.data)).toBe(true);
    const host = await supabase.rpc('become_host');
    expect(host.data).toMatchObject({ id: userId, is_host: true });

    const me = await supabase.functions.invoke<{ id: string; username: string }>('me', { method: 'GET' });
    expect(me.error).toBeNull();
    expect(me.data).toMatchObject({ id: userId, username });

    const other = await createClient<Database>(url, anonKey, { auth: { persistSession: false } }).auth
      .signUp({ email: `other_${email}`, password: 'first-session-pw', options: { data: { username: `o${username}`.slice(0, 30) } } });
    expect(other.error).toBeNull();
    const join = (topic: string): Promise<[string, string | undefined]> => new Promise((resolve) => {
      supabase.channel(topic, { config: { private: true } }).subscribe((status, error) => {
        if (status !== 'CLOSED') resolve([status, error?.message]);
      });
    });
    expect(await join(`user:${userId}`)).toEqual(['SUBSCRIBED', undefined]);
    const othersTopic = `user:${other.data.user?.id ?? ''}`;
    expect(await join(othersTopic)).toEqual(['CHANNEL_ERROR', `Unauthorized: You do not have permissions to read from this Channel topic: ${othersTopic}`]);
    await supabase.removeAllChannels();

    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    const avatar = await supabase.storage.from('avatars').upload(`${userId}/avatar.png`, new Blob([png], { type: 'image/png' }), { upsert: true });
    expect(avatar.error).toBeNull();
    const served = await fetch(supabase.storage.from('avatars').getPublicUrl(`${userId}/avatar.png`).data.publicUrl);
    expect(served.status).toBe(200);
  });
});
