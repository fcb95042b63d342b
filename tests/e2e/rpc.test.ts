/**
 * RPCs through /rest/v1/rpc as apps call them with `supabase.rpc(...)`: named arguments, stable
 * functions by GET (`{ get: true }`), functions returning rows, one row, a scalar; errors with the
 * SQLSTATE, the stable hint code and PostgREST's status; nothing written when an RPC fails.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { anonClient, signUpUser, type SignedUpUser } from './support/clients.ts';

let alice: SignedUpUser;
let bob: SignedUpUser;

beforeAll(async () => {
  [alice, bob] = await Promise.all([signUpUser('rpcalice'), signUpUser('rpcbob')]);
});

describe('calling functions', () => {
  it('follows by RPC (a row back) and reads it with a set-returning RPC, by POST and by GET', async () => {
    const followed = await alice.client.rpc('follow_user', { p_user_id: bob.user.id });
    expect(followed.error).toBeNull();
    expect(followed.data).toMatchObject({ follower_id: alice.user.id, followee_id: bob.user.id });
    const posted = await alice.client.rpc('followers_of', { p_user_id: bob.user.id });
    expect(posted.error).toBeNull();
    expect(posted.data?.map((r) => r.username)).toEqual([alice.username]);
    const got = await bob.client.rpc('followers_of', { p_user_id: bob.user.id, p_limit: 5 }, { get: true });
    expect(got.error).toBeNull();
    expect(got.data?.map((r) => r.user_id)).toEqual([alice.user.id]);
  });

  it('filters, orders and limits a set-returning RPC like a table', async () => {
    const { data, error } = await bob.client.rpc('followers_of', { p_user_id: bob.user.id }).select('username').eq('user_id', alice.user.id).limit(1);
    expect(error).toBeNull();
    expect(data).toEqual([{ username: alice.username }]);
  });

  it('returns a scalar, and the effect is visible to the next request', async () => {
    const removed = await alice.client.rpc('unfollow_user', { p_user_id: bob.user.id });
    expect(removed).toMatchObject({ error: null, data: true });
    const again = await alice.client.rpc('unfollow_user', { p_user_id: bob.user.id });
    expect(again.data).toBe(false);
  });

  it('searches events with a stable RPC by GET, with defaults for the arguments left out', async () => {
    const { data, error, status } = await anonClient().rpc('search_events', { p_query: 'nothing matches this e2e phrase' }, { get: true });
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toEqual([]);
  });
});

describe('errors an app handles', () => {
  it('answers bad input with 400, SQLSTATE 22023 and the hint code', async () => {
    const { data, error, status } = await anonClient().rpc('search_events', { p_limit: 0 });
    expect(status).toBe(400);
    expect(error?.code).toBe('22023');
    expect(error?.hint).toBe('invalid_limit');
    expect(data).toBeNull();
  });

  it('answers an anonymous caller of a member RPC with 401 and writes nothing', async () => {
    const { error, status } = await anonClient().rpc('follow_user', { p_user_id: bob.user.id });
    expect(status).toBe(401);
    expect(error?.code).toBe('42501');
    const followers = await bob.client.rpc('followers_of', { p_user_id: bob.user.id });
    expect(followers.data).toEqual([]);
  });

  it('answers an unknown function or argument with 404 PGRST202', async () => {
    const missing = await alice.client.rpc('no_such_function' as 'become_host');
    expect(missing.status).toBe(404);
    expect(missing.error?.code).toBe('PGRST202');
    const wrongArg = await alice.client.rpc('follow_user', { p_someone: bob.user.id } as unknown as { p_user_id: string });
    expect(wrongArg.status).toBe(404);
    expect(wrongArg.error?.code).toBe('PGRST202');
  });

  it('runs GET read-only: a volatile function that writes is refused with 405 25006', async () => {
    const { error, status } = await alice.client.rpc('follow_user', { p_user_id: bob.user.id }, { get: true });
    expect(status).toBe(405);
    expect(error?.code).toBe('25006');
    const followers = await bob.client.rpc('followers_of', { p_user_id: bob.user.id });
    expect(followers.data).toEqual([]);
  });
});
