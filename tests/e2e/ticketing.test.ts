/**
 * Invite-only events, an access code for a hidden tier, and a ticket changing hands, as an app
 * does them with supabase-js: the host invites by name and by link, guests preview and use a
 * code, see their seats, and hand a booking on; strangers see nothing and get Rally's codes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { signUpUser, type SignedUpUser } from './support/clients.ts';

let host: SignedUpUser;
let guest: SignedUpUser;
let friend: SignedUpUser;
let stranger: SignedUpUser;
let eventId: string;
let backstageId: string;

const daysFromNow = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();

beforeAll(async () => {
  [host, guest, friend, stranger] = await Promise.all([signUpUser('tkhost'), signUpUser('tkguest'), signUpUser('tkfriend'), signUpUser('tkstranger')]);
  expect((await host.client.rpc('become_host')).error).toBeNull();
  expect((await host.client.auth.refreshSession()).error).toBeNull();
  const event = await host.client.from('events').insert({
    title: 'E2E secret garden party', starts_at: daysFromNow(12), ends_at: daysFromNow(12.2), timezone: 'Europe/London',
    visibility: 'private', venue_name: 'Somewhere green', address: '7 Hidden Mews',
  }).select('id').single();
  expect(event.error).toBeNull();
  eventId = event.data?.id ?? '';
  const tickets = await host.client.from('ticket_types').insert([
    // A bulk insert sends every object's keys (PostgREST's columns), so each names `hidden`.
    { event_id: eventId, name: 'Garden', price_cents: 0, currency: 'GBP', capacity: 30, hidden: false },
    { event_id: eventId, name: 'Backstage', price_cents: 0, currency: 'GBP', capacity: 4, hidden: true },
  ]).select('id, name');
  expect(tickets.error).toBeNull();
  backstageId = tickets.data!.find((t) => t.name === 'Backstage')!.id;
  expect((await host.client.rpc('publish_event', { p_event_id: eventId })).error).toBeNull();
  const code = await host.client.from('promo_codes').insert({ event_id: eventId, code: 'backstage', percent_off: 0, ticket_type_id: backstageId });
  expect(code.error).toBeNull();
});

describe('an invite-only event', () => {
  it('is invisible to a stranger until invited; an invitation by name shows it', async () => {
    const before = await guest.client.from('events').select('id').eq('id', eventId);
    expect(before.data).toEqual([]);
    const invited = await host.client.rpc('invite_to_event', { p_event_id: eventId, p_user_ids: [guest.user.id] });
    expect(invited.error).toBeNull();
    expect(invited.data).toEqual([{ user_id: guest.user.id, status: 'invited' }]);
    const after = await guest.client.from('events').select('title, address').eq('id', eventId).single();
    expect(after.data).toEqual({ title: 'E2E secret garden party', address: null });
    const mine = await guest.client.from('event_invitations').select('status').eq('event_id', eventId);
    expect(mine.data).toEqual([{ status: 'pending' }]);
  });

  it('an invite link with one use lets one person in; the next hears invite_link_used_up', async () => {
    const link = await host.client.rpc('create_invite_link', { p_event_id: eventId, p_max_uses: 1 });
    expect(link.error).toBeNull();
    const token = link.data!.token;
    const joined = await friend.client.rpc('redeem_invite_link', { p_token: token });
    expect(joined.error).toBeNull();
    expect(joined.data).toMatchObject({ event_id: eventId, status: 'pending' });
    const late = await stranger.client.rpc('redeem_invite_link', { p_token: token });
    expect(late.error).toMatchObject({ code: 'P0001', hint: 'invite_link_used_up' });
    const seen = await stranger.client.from('events').select('id').eq('id', eventId);
    expect(seen.data).toEqual([]);
    const links = await guest.client.from('event_invite_links').select('token');
    expect(links.data).toEqual([]);
  });
});

describe('a hidden tier and its code', () => {
  it('is not listed; the code previews and books it; then the guest sees it and her seat', async () => {
    const listed = await guest.client.from('ticket_types').select('name').eq('event_id', eventId);
    expect(listed.data).toEqual([{ name: 'Garden' }]);
    const preview = await guest.client.rpc('preview_promo_code', { p_event_id: eventId, p_code: 'BackStage' });
    expect(preview.error).toBeNull();
    expect(preview.data).toMatchObject([{ ticket_type_id: backstageId, name: 'Backstage', hidden: true, final_price_cents: 0 }]);
    const without = await guest.client.rpc('book_event', { p_event_id: eventId, p_ticket_type_id: backstageId, p_quantity: 1 });
    expect(without.error).toMatchObject({ code: '22023', hint: 'ticket_type_not_found' });
    const booked = await guest.client.rpc('book_event', { p_event_id: eventId, p_ticket_type_id: backstageId, p_quantity: 1, p_promo_code: 'backstage' });
    expect(booked.error).toBeNull();
    expect(booked.data).toMatchObject({ status: 'confirmed', amount_cents: 0, discount_cents: 0, list_amount_cents: 0 });
    const now = await guest.client.from('ticket_types').select('name').eq('event_id', eventId).order('name');
    expect(now.data).toEqual([{ name: 'Backstage' }, { name: 'Garden' }]);
    const seats = await guest.client.from('booking_seats').select('seat_no, check_in_code').eq('booking_id', booked.data!.id);
    expect(seats.data).toHaveLength(1);
    expect(seats.data![0]!.check_in_code).toMatch(/^[0-9a-f]{32}$/);
    const { data: invitation } = await guest.client.from('event_invitations').select('status').eq('event_id', eventId).single();
    expect(invitation).toEqual({ status: 'accepted' });
  });
});

describe('handing the booking on', () => {
  it('the friend accepts it: the booking is hers, with a new code, and the guest no longer sees it', async () => {
    const { data: booking } = await guest.client.from('bookings').select('id, check_in_code').eq('event_id', eventId).single();
    const offer = await guest.client.rpc('transfer_booking', { p_booking_id: booking!.id, p_to_user_id: friend.user.id });
    expect(offer.error).toBeNull();
    const stolen = await stranger.client.rpc('accept_booking_transfer', { p_transfer_id: offer.data!.id });
    expect(stolen.error).toMatchObject({ code: '22023', hint: 'transfer_not_found' });
    const accepted = await friend.client.rpc('accept_booking_transfer', { p_transfer_id: offer.data!.id });
    expect(accepted.error).toBeNull();
    expect(accepted.data).toMatchObject({ status: 'accepted', to_user_id: friend.user.id });
    const hers = await friend.client.from('bookings').select('id, check_in_code, status').eq('id', booking!.id).single();
    expect(hers.data).toMatchObject({ id: booking!.id, status: 'confirmed' });
    expect(hers.data!.check_in_code).not.toBe(booking!.check_in_code);
    const gone = await guest.client.from('bookings').select('id').eq('id', booking!.id);
    expect(gone.data).toEqual([]);
    const address = await friend.client.from('events').select('address').eq('id', eventId).single();
    expect(address.data).toEqual({ address: '7 Hidden Mews' });
  });
});
