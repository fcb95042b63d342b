/**
 * A recurring series, a booking's calendar file, a calendar subscription and a payout schedule,
 * as an app does them with supabase-js on the one API URL: the host repeats an event with
 * `functions.invoke('event-series')`, a guest books one date, downloads it as .ics and subscribes
 * (the calendar app fetches the feed with no key at all), the host cancels the later dates, and
 * picks a payout schedule.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { projectEnv } from './support/env.ts';
import { signUpUser, type SignedUpUser } from './support/clients.ts';

let host: SignedUpUser;
let guest: SignedUpUser;
let dates: string[];

const daysFromNow = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();

beforeAll(async () => {
  [host, guest] = await Promise.all([signUpUser('srhost'), signUpUser('srguest')]);
  expect((await host.client.rpc('become_host')).error).toBeNull();
  expect((await host.client.auth.refreshSession()).error).toBeNull();
  const event = await host.client.from('events').insert({
    title: 'E2E Thursday pottery', starts_at: daysFromNow(8), ends_at: daysFromNow(8.1), timezone: 'Europe/Berlin',
    venue_name: 'Kiln Club', address: 'Tonstraße 3', city: 'Berlin',
  }).select('id').single();
  expect(event.error).toBeNull();
  const eventId = event.data?.id ?? '';
  const ticket = await host.client.from('ticket_types').insert({ event_id: eventId, name: 'Wheel', price_cents: 0, currency: 'EUR', capacity: 6 });
  expect(ticket.error).toBeNull();
  expect((await host.client.rpc('publish_event', { p_event_id: eventId })).error).toBeNull();
  const made = await host.client.functions.invoke<{ occurrences: { event_id: string }[] }>('event-series', {
    body: { event_id: eventId, rrule: 'FREQ=WEEKLY;COUNT=4' },
  });
  expect(made.error).toBeNull();
  dates = made.data!.occurrences.map((o) => o.event_id);
});

describe('a recurring series', () => {
  it('is four ordinary events an app lists by series', async () => {
    expect(dates).toHaveLength(4);
    const { data, error } = await guest.client.from('events').select('id, series_position, status').eq('series_id', dates[0]!).order('series_position');
    expect(error).toBeNull();
    expect(data).toEqual(dates.map((id, i) => ({ id, series_position: i + 1, status: 'published' })));
    const series = await guest.client.from('event_series').select('rrule, timezone').eq('id', dates[0]!).single();
    expect(series.data).toEqual({ rrule: 'FREQ=WEEKLY;COUNT=4', timezone: 'Europe/Berlin' });
  });

  it('answers a bad rule with a 400 and Rally\'s code', async () => {
    const { error } = await host.client.functions.invoke('event-series', { body: { event_id: dates[1], rrule: 'FREQ=WEEKLY' } });
    expect(error).not.toBeNull();
    const body = (await (error as { context: Response }).context.json()) as { error: { code: string } };
    expect(body.error.code).toBe('rrule_unbounded');
  });
});

describe('calendars', () => {
  let bookingId: string;

  it('a guest books the second date and downloads it as an .ics with the address', async () => {
    const ticket = await guest.client.from('ticket_types').select('id').eq('event_id', dates[1]!).single();
    const booked = await guest.client.rpc('book_event', { p_event_id: dates[1]!, p_ticket_type_id: ticket.data!.id, p_quantity: 1 });
    expect(booked.error).toBeNull();
    bookingId = booked.data!.id;
    // supabase-js reads a text/* answer as text.
    const file = await guest.client.functions.invoke<string>(`calendar/bookings/${bookingId}.ics`, { method: 'GET' });
    expect(file.error).toBeNull();
    const text = file.data ?? '';
    expect(text).toContain('BEGIN:VEVENT');
    expect(text).toContain(`UID:${dates[1]}@rally`);
    expect(text).toContain('Tonstraße 3');
  });

  it('a calendar app fetches the subscription with no key, and sees the change when dates are cancelled', async () => {
    const feed = await guest.client.rpc('create_calendar_feed');
    expect(feed.error).toBeNull();
    const url = `${projectEnv().url}${feed.data![0]!.path}`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(await first.text()).toContain(`UID:${dates[1]}@rally`);

    const cancelled = await host.client.rpc('cancel_event_occurrences', { p_event_id: dates[1]!, p_scope: 'following', p_reason: 'Kiln broke' });
    expect(cancelled.error).toBeNull();
    expect(cancelled.data?.map((e) => e.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(await (await fetch(url)).text()).not.toContain(`UID:${dates[1]}@rally`);
    const booking = await guest.client.from('bookings').select('status').eq('id', bookingId).single();
    expect(booking.data?.status).toBe('cancelled');

    expect((await guest.client.rpc('revoke_calendar_feed')).data).toBe(true);
    expect((await fetch(url)).status).toBe(404);
  });
});

describe('a payout schedule', () => {
  it('is manual until onboarding is done, and the host reads it', async () => {
    const weekly = await host.client.rpc('set_payout_schedule', { p_interval: 'weekly', p_weekly_anchor: 'friday' });
    expect(weekly.error?.code).toBe('P0001');
    expect(weekly.error?.hint).toBe('payouts_not_enabled');
    const manual = await host.client.rpc('set_payout_schedule', { p_interval: 'manual' });
    expect(manual.error).toBeNull();
    const mine = await host.client.from('payout_schedules').select('interval, next_run_at');
    expect(mine.data).toEqual([{ interval: 'manual', next_run_at: null }]);
    expect((await guest.client.from('payout_schedules').select('host_id')).data).toEqual([]);
  });
});
