/**
 * An app's first session with nothing but the API URL and the anon key (the two values the
 * status block prints): sign up, sign in, read, call RPCs, invoke a function. Realtime and
 * Storage steps join this journey in their own files (tests/e2e/realtime*, storage*).
 */
import { createClient } from '@supabase/supabase-js';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../types/database.ts';
import { uniqueSuffix } from './support/clients.ts';

describe('first session', () => {
  it('signs up, signs in, reads, calls RPCs and invokes a function through supabase-js alone', async () => {
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
  });
});
