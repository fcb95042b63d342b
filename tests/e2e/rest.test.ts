/**
 * Tables and views through /rest/v1 as an app reads and writes them with supabase-js: selects
 * with renames, filters, `or`, order and ranges, counts, `.single()`/`.maybeSingle()`, one level of
 * embedding (through the `events` view too), inserts, updates and deletes under RLS, PostgREST's
 * errors, and the refusals an app relies on.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { anonClient, signUpUser, type SignedUpUser } from './support/clients.ts';

let host: SignedUpUser;
let guest: SignedUpUser;
let stranger: SignedUpUser;
let eventId: string;

const inAWeek = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();

beforeAll(async () => {
  [host, guest, stranger] = await Promise.all([signUpUser('resthost'), signUpUser('restguest'), signUpUser('reststranger')]);
  const became = await host.client.rpc('become_host');
  expect(became.error).toBeNull();
  await host.client.auth.refreshSession();
  const { data, error } = await host.client.from('events').insert({
    title: 'E2E rooftop jazz', description: 'A draft made through the Data API', category: 'music',
    starts_at: inAWeek(7), ends_at: inAWeek(7.1), timezone: 'Europe/Lisbon', venue_name: 'Terraço', city: 'Lisbon',
  }).select('id, title, status, host_id').single();
  expect(error).toBeNull();
  eventId = data?.id ?? '';
});

describe('reads', () => {
  it('selects columns with renames and casts, filtered, as .single()', async () => {
    const { data, error } = await guest.client.from('profiles')
      .select('handle:username, is_host, followers:followers_count::text').eq('id', host.user.id).single();
    expect(error).toBeNull();
    expect(data).toEqual({ handle: host.username, is_host: true, followers: '0' });
  });

  it('filters with in, neq, ilike and or, orders, and counts exactly over a range', async () => {
    const ids = [host.user.id, guest.user.id, stranger.user.id];
    const all = await guest.client.from('profiles').select('id, username', { count: 'exact' }).in('id', ids).order('username', { ascending: true }).range(0, 1);
    expect(all.error).toBeNull();
    expect(all.count).toBe(3);
    expect(all.data?.map((p) => p.username)).toEqual([host.username, guest.username, stranger.username].sort().slice(0, 2));
    const either = await guest.client.from('profiles').select('username').in('id', ids)
      .or(`username.eq.${host.username},username.eq.${stranger.username}`).order('username', { ascending: false });
    expect(either.data?.map((p) => p.username)).toEqual([host.username, stranger.username].sort().reverse());
    const notMe = await guest.client.from('profiles').select('username').in('id', ids).neq('id', guest.user.id).ilike('username', '%REST%');
    expect(notMe.data).toHaveLength(2);
    const head = await guest.client.from('profiles').select('*', { count: 'exact', head: true }).in('id', ids);
    expect(head).toMatchObject({ error: null, data: null, count: 3 });
  });

  it('.maybeSingle() gives null for no row, .single() a 406 PGRST116', async () => {
    const none = await guest.client.from('profiles').select('id').eq('username', 'nobody_has_this_name').maybeSingle();
    expect(none.error).toBeNull();
    expect(none.data).toBeNull();
    const single = await guest.client.from('profiles').select('id').eq('username', 'nobody_has_this_name').single();
    expect(single.status).toBe(406);
    expect(single.error?.code).toBe('PGRST116');
  });

  it('embeds a to-one resource through the events view, and a to-many one', async () => {
    const { data, error } = await host.client.from('events')
      .select('id, title, status, host:profiles(username), event_cohosts(user_id)').eq('id', eventId).single();
    expect(error).toBeNull();
    expect(data).toEqual({ id: eventId, title: 'E2E rooftop jazz', status: 'draft', host: { username: host.username }, event_cohosts: [] });
  });

  it('hides what RLS hides: a draft from a guest, another user\'s notifications', async () => {
    const draft = await guest.client.from('events').select('id').eq('id', eventId);
    expect(draft.error).toBeNull();
    expect(draft.data).toEqual([]);
    const theirs = await stranger.client.from('notifications').select('id').eq('user_id', guest.user.id);
    expect(theirs.data).toEqual([]);
  });

  it('refuses anonymous reads of bookings with 401 and PostgREST\'s body', async () => {
    const { data, error, status } = await anonClient().from('bookings').select('id').limit(1);
    expect(status).toBe(401);
    expect(error?.code).toBe('42501');
    expect(data).toBeNull();
  });
});

describe('writes', () => {
  it('updates the caller\'s own profile and returns the representation', async () => {
    const { data, error } = await guest.client.from('profiles').update({ bio: 'Jazz on Sundays' }).eq('id', guest.user.id).select('bio').single();
    expect(error).toBeNull();
    expect(data).toEqual({ bio: 'Jazz on Sundays' });
  });

  it('changes nothing on another user\'s profile (RLS filters the update)', async () => {
    const { data, error } = await stranger.client.from('profiles').update({ bio: 'hacked' }).eq('id', guest.user.id).select('id');
    expect(error).toBeNull();
    expect(data).toEqual([]);
    const after = await guest.client.from('profiles').select('bio').eq('id', guest.user.id).single();
    expect(after.data?.bio).not.toBe('hacked');
  });

  it('refuses a column the role may not write with 403 42501, and writes nothing', async () => {
    const { error, status } = await guest.client.from('profiles').update({ is_host: true }).eq('id', guest.user.id);
    expect(status).toBe(403);
    expect(error?.code).toBe('42501');
    const after = await guest.client.from('profiles').select('is_host').eq('id', guest.user.id).single();
    expect(after.data?.is_host).toBe(false);
  });

  it('inserts and deletes a follow under RLS; following again is a no-op', async () => {
    const inserted = await guest.client.from('follows').insert({ follower_id: guest.user.id, followee_id: host.user.id }).select('follower_id, followee_id').single();
    expect(inserted.error).toBeNull();
    expect(inserted.data).toEqual({ follower_id: guest.user.id, followee_id: host.user.id });
    const duplicate = await guest.client.from('follows').insert({ follower_id: guest.user.id, followee_id: host.user.id }).select('follower_id');
    expect(duplicate.status).toBe(201);
    expect(duplicate.data).toEqual([]);
    const forged = await stranger.client.from('follows').insert({ follower_id: guest.user.id, followee_id: stranger.user.id });
    expect(forged.error?.code).toBe('42501');
    const removed = await guest.client.from('follows').delete().eq('follower_id', guest.user.id).eq('followee_id', host.user.id).select('followee_id');
    expect(removed.data).toEqual([{ followee_id: host.user.id }]);
  });

  it('answers a business rule from a trigger with its SQLSTATE and hint', async () => {
    const { error, status } = await guest.client.from('events').insert({
      title: 'Not a host', starts_at: inAWeek(3), ends_at: inAWeek(3.1), timezone: 'Europe/London',
    });
    expect(status).toBe(403);
    expect(error?.code).toBe('42501');
    expect(error?.hint).toBe('not_a_host');
  });
});

describe('PostgREST\'s refusals', () => {
  it('names an unknown table (404 PGRST205) and an unexposed schema (406 PGRST106)', async () => {
    const missing = await guest.client.from('no_such_table' as 'profiles').select('*');
    expect(missing.status).toBe(404);
    expect(missing.error?.code).toBe('PGRST205');
    const hidden = await guest.client.schema('private' as 'public').from('events').select('*');
    expect(hidden.status).toBe(406);
    expect(hidden.error?.code).toBe('PGRST106');
  });
});

describe('bookings through the Data API', () => {
  it('a guest reads her own booking, with its ticket type embedded; a stranger reads and changes nothing', async () => {
    const ticket = await host.client.from('ticket_types').insert({ event_id: eventId, name: 'Free entry', price_cents: 0, currency: 'EUR', capacity: 20 })
      .select('id, name, price_cents').single();
    expect(ticket.error).toBeNull();
    const published = await host.client.rpc('publish_event', { p_event_id: eventId });
    expect(published.error).toBeNull();
    const booked = await guest.client.rpc('book_event', { p_event_id: eventId, p_ticket_type_id: ticket.data?.id ?? '', p_quantity: 1 });
    expect(booked.error).toBeNull();
    expect(booked.data).toMatchObject({ guest_id: guest.user.id, status: 'confirmed' });

    const mine = await guest.client.from('bookings').select('id, status, quantity, ticket_types(name)').eq('event_id', eventId);
    expect(mine.error).toBeNull();
    expect(mine.data).toEqual([{ id: booked.data?.id, status: 'confirmed', quantity: 1, ticket_types: { name: 'Free entry' } }]);

    const snooped = await stranger.client.from('bookings').select('id').eq('event_id', eventId);
    expect(snooped.error).toBeNull();
    expect(snooped.data).toEqual([]);
    const tampered = await stranger.client.from('bookings').update({ status: 'cancelled' }).eq('id', booked.data?.id ?? '').select('id');
    expect(tampered.error?.code).toBe('42501');
    const after = await guest.client.from('bookings').select('status').eq('id', booked.data?.id ?? '').single();
    expect(after.data?.status).toBe('confirmed');
  });

  it('the published event embeds its ticket types for anyone', async () => {
    const { data, error } = await anonClient().from('events').select('title, status, ticket_types(name, price_cents)').eq('id', eventId).single();
    expect(error).toBeNull();
    expect(data).toEqual({ title: 'E2E rooftop jazz', status: 'published', ticket_types: [{ name: 'Free entry', price_cents: 0 }] });
  });
});
