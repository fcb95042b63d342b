/**
 * Realtime helpers for the e2e suite, on supabase-js channels only: subscribe and wait for the
 * outcome, collect broadcasts of one event, wait for presence. Nothing here knows the stand-in.
 */
import type { RealtimeChannel } from '@supabase/supabase-js';

export interface Subscription {
  status: 'SUBSCRIBED' | 'CHANNEL_ERROR' | 'TIMED_OUT';
  error?: Error;
}

/** Subscribes and resolves with the first outcome (joined, refused or timed out). */
export function subscribe(channel: RealtimeChannel): Promise<Subscription> {
  return new Promise((resolve) => {
    channel.subscribe((status, error) => {
      if (status === 'CLOSED') return;
      resolve(error === undefined ? { status } : { status, error });
    });
  });
}

export interface Collected {
  items: { event: string; payload: Record<string, unknown>; meta?: { id?: string } }[];
  /** Resolves once `count` broadcasts arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
}

/** Collects broadcasts of `event` on a channel; register before subscribing. */
export function collect(channel: RealtimeChannel, event: string): Collected {
  const items: Collected['items'] = [];
  const waiters: { count: number; done: () => void }[] = [];
  channel.on('broadcast', { event }, (message) => {
    items.push(message as unknown as Collected['items'][number]);
    for (const waiter of waiters) if (items.length >= waiter.count) waiter.done();
  });
  return {
    items,
    waitFor: (count, timeoutMs = 10_000) => new Promise<void>((resolve, reject) => {
      if (items.length >= count) return resolve();
      const timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${count} '${event}' broadcast(s), got ${items.length}`)), timeoutMs);
      waiters.push({ count, done: () => { clearTimeout(timer); resolve(); } });
    }),
  };
}

/** Resolves when the channel's presence state holds every key in `keys`. Register before subscribing. */
export function presenceOf(channel: RealtimeChannel, keys: string[], timeoutMs = 10_000): Promise<Record<string, unknown[]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`presence never held ${keys.join(', ')}: ${JSON.stringify(channel.presenceState())}`)), timeoutMs);
    channel.on('presence', { event: 'sync' }, () => {
      const state = channel.presenceState();
      if (keys.every((key) => key in state)) {
        clearTimeout(timer);
        resolve(state);
      }
    });
  });
}

/** Resolves with the first `system` message the server pushes on the channel. */
export function systemMessage(channel: RealtimeChannel): Promise<Record<string, unknown>> {
  return new Promise((resolve) => channel.on('system', {}, (payload) => resolve(payload as Record<string, unknown>)));
}
