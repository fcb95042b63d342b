/**
 * What the demo's apps do, through supabase-js only: unwrapping `{ data, error }` into a value or
 * a failed expectation, invoking edge functions, reading a host's wallet, creating a paid event.
 */
import { FunctionsHttpError } from '@supabase/supabase-js';
import type { RallyClient } from '../../../tests/e2e/support/clients.ts';
import { DemoExpectationFailed, type Wallet } from './report.ts';
import type { Person } from './people.ts';

interface ClientError {
  message: string;
  code?: string;
  hint?: string | null;
  details?: string | null;
}

/** `{ data, error }` → data (possibly null), or a failed expectation that keeps the SQLSTATE and Rally's hint code. */
export function ok<T>(result: { data: T; error: ClientError | null }, what: string): T {
  if (result.error !== null) {
    const { code, hint, message } = result.error;
    throw new DemoExpectationFailed(`${what}: ${message}${code ? ` (${code}${hint ? `, ${hint}` : ''})` : ''}`);
  }
  return result.data;
}

/** As `ok`, and the data must be there. */
export function must<T>(result: { data: T; error: ClientError | null }, what: string): NonNullable<T> {
  const data = ok(result, what);
  if (data === null || data === undefined) throw new DemoExpectationFailed(`${what}: no data`);
  return data;
}

export interface Invoked {
  status: number;
  body: Record<string, unknown>;
}

/** `functions.invoke`, with a non-2xx answer returned (status and error body) rather than thrown. */
export async function invoke(client: RallyClient, name: string, options: { method?: 'GET' | 'POST'; body?: Record<string, unknown> } = {}): Promise<Invoked> {
  const { data, error, response } = await client.functions.invoke<Record<string, unknown>>(name, {
    method: options.method ?? 'POST',
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  if (error === null) return { status: response?.status ?? 200, body: data ?? {} };
  if (error instanceof FunctionsHttpError) {
    const answer = error.context as Response;
    const text = await answer.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: answer.status, body };
  }
  throw new DemoExpectationFailed(`functions.invoke('${name}') failed: ${(error as Error).message}`);
}

export async function walletOf(person: Person, currency: string): Promise<Wallet> {
  const row = ok(await person.client.from('wallet_balances')
    .select('pending_cents, available_cents, in_transit_cents, paid_out_cents').eq('currency', currency).maybeSingle(),
  `${person.username} reads wallet_balances`);
  return {
    pending: Number(row?.pending_cents ?? 0), available: Number(row?.available_cents ?? 0),
    in_transit: Number(row?.in_transit_cents ?? 0), paid_out: Number(row?.paid_out_cents ?? 0),
  };
}

export interface PaidEvent {
  eventId: string;
  ticketTypeId: string;
  title: string;
}

export interface EventPlan {
  title: string;
  startsAt: Date;
  endsAt: Date;
  priceCents: number;
  currency: string;
  /** public (default) or private: an invite-only event */
  visibility?: 'public' | 'private';
}

/** `from('events').insert(…)` and `from('ticket_types').insert(…)`, as the host's app writes a draft. */
export async function createPaidEvent(host: Person, plan: EventPlan): Promise<PaidEvent> {
  const event = must(await host.client.from('events').insert({
    title: plan.title, description: 'Live jazz on the roof, a Rally demo event.', category: 'music',
    starts_at: plan.startsAt.toISOString(), ends_at: plan.endsAt.toISOString(), timezone: 'Europe/Lisbon',
    venue_name: 'Rooftop Bar', address: 'Rua Nova do Carvalho 24', city: 'Lisboa', location: 'POINT(-9.1446 38.7069)',
    visibility: plan.visibility ?? 'public', refund_policy: 'flexible',
  }).select('id').single(), `${host.username} inserts the event`);
  const ticket = must(await host.client.from('ticket_types').insert({
    event_id: event.id ?? '', name: 'General', price_cents: plan.priceCents, currency: plan.currency, capacity: 20, max_per_booking: 4,
  }).select('id').single(), `${host.username} inserts the ticket type`);
  return { eventId: event.id ?? '', ticketTypeId: ticket.id, title: plan.title };
}

/** A 1×1 PNG: the avatar, the event cover and the photo in the chat. */
export const DEMO_PNG = Uint8Array.from(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));

export function demoPng(): Blob {
  return new Blob([DEMO_PNG], { type: 'image/png' });
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
