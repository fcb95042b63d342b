/**
 * Realtime as an app uses it, through supabase-js only: private channels authorized by the
 * project's policies on realtime.messages. Each person joins their own `user:<id>` topic and is
 * refused another's; a booking's confirmation arrives there; event chat runs on
 * `conversation:<id>` (messages, presence, a read receipt) and `conversation:<id>:typing`; a
 * stranger cannot join; and a guest whose booking is cancelled loses the chat at the next token
 * refresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpUser, type SignedUpUser } from './support/clients.ts';
import { collect, presenceOf, subscribe, systemMessage } from './support/realtime.ts';

let host: SignedUpUser;
let guest: SignedUpUser;
let stranger: SignedUpUser;
let eventId: string;
let ticketTypeId: string;

const daysFromNow = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();
const refused = (topic: string): string => `Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`;

beforeAll(async () => {
  [host, guest, stranger] = await Promise.all([signUpUser('rthost'), signUpUser('rtguest'), signUpUser('rtstranger')]);
  expect((await host.client.rpc('become_host')).error).toBeNull();
  expect((await host.client.auth.refreshSession()).error).toBeNull();
  const event = await host.client.from('events').insert({
    title: 'E2E realtime picnic', description: 'Free, with a chat', category: 'music',
    starts_at: daysFromNow(10), ends_at: daysFromNow(10.2), timezone: 'Europe/London', venue_name: 'Victoria Park', city: 'London',
  }).select('id').single();
  expect(event.error).toBeNull();
  eventId = event.data?.id ?? '';
  const ticket = await host.client.from('ticket_types').insert({ event_id: eventId, name: 'Free entry', price_cents: 0, currency: 'GBP', capacity: 50 })
    .select('id').single();
  expect(ticket.error).toBeNull();
  ticketTypeId = ticket.data!.id;
  expect((await host.client.rpc('publish_event', { p_event_id: eventId })).error).toBeNull();
});

afterAll(async () => {
  await Promise.all([host, guest, stranger].filter(Boolean).map((person) => person.client.removeAllChannels()));
});

describe('private user topics', () => {
  it('joins the signed-in user\'s own topic and is refused another user\'s', async () => {
    const own = await subscribe(stranger.client.channel(`user:${stranger.user.id}`, { config: { private: true } }));
    expect(own.status).toBe('SUBSCRIBED');
    const others = await subscribe(stranger.client.channel(`user:${guest.user.id}`, { config: { private: true } }));
    expect(others.status).toBe('CHANNEL_ERROR');
    expect(others.error?.message).toBe(refused(`user:${guest.user.id}`));
  });

  it('delivers the booking confirmation on user:<id> as it is committed', async () => {
    const inbox = guest.client.channel(`user:${guest.user.id}`, { config: { private: true } });
    const notifications = collect(inbox, 'notification_created');
    expect((await subscribe(inbox)).status).toBe('SUBSCRIBED');
    const booked = await guest.client.rpc('book_event', { p_event_id: eventId, p_ticket_type_id: ticketTypeId, p_quantity: 1, p_idempotency_key: crypto.randomUUID() });
    expect(booked.error).toBeNull();
    // The welcome of the guest's sign-up may come first, if it was still on its way when they subscribed.
    const confirmed = () => notifications.items.filter((m) => m.payload.type === 'booking_confirmed');
    for (let seen = 1; confirmed().length === 0 && seen <= 2; seen += 1) await notifications.waitFor(seen);
    expect(confirmed()[0]?.payload).toMatchObject({ user_id: guest.user.id, type: 'booking_confirmed' });
  });
});

describe('event chat over private channels', () => {
  let conversationId: string;

  beforeAll(async () => {
    const { data, error } = await guest.client.from('conversations').select('id').eq('event_id', eventId).single();
    expect(error).toBeNull();
    conversationId = data!.id;
  });

  it('carries messages, presence, typing and a read receipt between host and guest; a stranger is refused', async () => {
    const topic = `conversation:${conversationId}`;
    const hostRoom = host.client.channel(topic, { config: { private: true, presence: { key: host.user.id } } });
    const guestRoom = guest.client.channel(topic, { config: { private: true, presence: { key: guest.user.id } } });
    const messages = collect(hostRoom, 'message_created');
    const receipts = collect(guestRoom, 'message_read');
    const bothOnline = presenceOf(hostRoom, [host.user.id, guest.user.id]);
    presenceOf(guestRoom, []).catch(() => undefined); // presence listener: the guest receives presence too
    expect((await subscribe(hostRoom)).status).toBe('SUBSCRIBED');
    expect((await subscribe(guestRoom)).status).toBe('SUBSCRIBED');
    expect(await hostRoom.track({ role: 'host' })).toBe('ok');
    expect(await guestRoom.track({ role: 'guest' })).toBe('ok');
    const online = await bothOnline;
    expect(online[guest.user.id]?.[0]).toMatchObject({ role: 'guest' });

    const typingTopic = `${topic}:typing`;
    const hostTyping = host.client.channel(typingTopic, { config: { private: true } });
    const typing = collect(hostTyping, 'typing');
    const guestTyping = guest.client.channel(typingTopic, { config: { private: true, broadcast: { ack: true } } });
    expect((await subscribe(hostTyping)).status).toBe('SUBSCRIBED');
    expect((await subscribe(guestTyping)).status).toBe('SUBSCRIBED');
    expect(await guestTyping.send({ type: 'broadcast', event: 'typing', payload: { user_id: guest.user.id } })).toBe('ok');
    await typing.waitFor(1);
    expect(typing.items[0]?.payload).toEqual({ user_id: guest.user.id });

    const sent = await guest.client.rpc('send_message', { p_conversation_id: conversationId, p_kind: 'text', p_body: 'See you at the picnic!' });
    expect(sent.error).toBeNull();
    await messages.waitFor(1);
    expect(messages.items[0]?.payload).toMatchObject({ conversation_id: conversationId, sender_id: guest.user.id, body: 'See you at the picnic!' });

    const read = await host.client.rpc('mark_conversation_read', { p_conversation_id: conversationId });
    expect(read.error).toBeNull();
    await receipts.waitFor(1);
    expect(receipts.items[0]?.payload).toMatchObject({ conversation_id: conversationId, user_id: host.user.id });

    const outsider = await subscribe(stranger.client.channel(topic, { config: { private: true } }));
    expect(outsider.status).toBe('CHANNEL_ERROR');
    expect(outsider.error?.message).toBe(refused(topic));
    // supabase-js hands back an existing channel for a topic already open: leave them all.
    await Promise.all([host.client.removeAllChannels(), guest.client.removeAllChannels()]);
  });

  it('closes the chat for a guest whose booking is cancelled, at their next token refresh', async () => {
    const topic = `conversation:${conversationId}`;
    const room = guest.client.channel(topic, { config: { private: true } });
    const closing = systemMessage(room);
    const joined = await subscribe(room);
    expect(joined.status).toBe('SUBSCRIBED');
    const { data: booking } = await guest.client.from('bookings').select('id').eq('event_id', eventId).eq('status', 'confirmed').single();
    expect((await guest.client.rpc('cancel_booking', { p_booking_id: booking!.id })).error).toBeNull();
    expect((await guest.client.auth.refreshSession()).error).toBeNull();
    expect(await closing).toMatchObject({ status: 'error', message: `You do not have permissions to read from this Channel topic: ${topic}` });
    await guest.client.removeAllChannels();
    const again = await subscribe(guest.client.channel(topic, { config: { private: true } }));
    expect(again.status).toBe('CHANNEL_ERROR');
  });
});
