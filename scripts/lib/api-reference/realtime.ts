/**
 * Realtime: the declared registry of private topics and the events on them, and the scan that
 * keeps it honest. The registry is what the reference prints; the scan reads every function body
 * of the project's schemas for broadcasts (`realtime.send(payload, '<event>', <topic>, …)`,
 * `realtime.broadcast_changes(<topic>, '<event>', …)`, and calls of wrappers that pass their own
 * event parameter on to one of those, such as `private.broadcast_to_user(user, '<event>', …)`),
 * so a migration cannot broadcast an event the registry does not list (tests/api-reference).
 */
import { compareText, findQualifiedCalls, stringLiteral, stringLiterals, topicPattern, type SqlCall } from './sql-text.ts';

export type Extension = 'broadcast' | 'presence';

export interface TopicSpec {
  /** e.g. `user:<id>` */
  topic: string;
  receive: { who: string; extensions: Extension[] };
  send: { who: string; extensions: Extension[] };
  notes?: string;
}

export interface EventSpec {
  event: string;
  topic: string;
  /** `database`: broadcast by Rally's SQL; `client`: sent by apps (Rally never sends it) */
  source: 'database' | 'client';
  when: string;
  /** payload field → what it holds; `rowOf` instead when the payload is a whole row */
  payload: Record<string, string>;
  rowOf?: string;
}

export const REALTIME_TOPICS: readonly TopicSpec[] = [
  {
    topic: 'user:<id>',
    receive: { who: 'that user only', extensions: ['broadcast', 'presence'] },
    send: { who: 'that user (presence only, to see their own devices online)', extensions: ['presence'] },
    notes: 'Open it for the whole session: notifications and conversation-list changes.',
  },
  {
    topic: 'event:<id>',
    receive: { who: 'signed-in users who may see the event (visibility, blocks)', extensions: ['broadcast'] },
    send: { who: 'nobody (database only)', extensions: [] },
  },
  {
    topic: 'event:<id>:staff',
    receive: { who: 'the host and the event\'s co-hosts', extensions: ['broadcast'] },
    send: { who: 'nobody (database only)', extensions: [] },
    notes: 'Separate from event:<id> because check-ins name guests; Realtime authorizes whole topics.',
  },
  {
    topic: 'conversation:<id>',
    receive: { who: 'members of the conversation (event chats: host, co-hosts, confirmed guests)', extensions: ['broadcast', 'presence'] },
    send: { who: 'members (presence only; message events come from the database)', extensions: ['presence'] },
  },
  {
    topic: 'conversation:<id>:typing',
    receive: { who: 'members of the conversation', extensions: ['broadcast'] },
    send: { who: 'members of the conversation', extensions: ['broadcast'] },
    notes: 'Apps broadcast typing here; separate so members cannot forge message events on conversation:<id>.',
  },
];

export const REALTIME_EVENTS: readonly EventSpec[] = [
  {
    event: 'notification_created', topic: 'user:<id>', source: 'database',
    when: 'an in-app notification is stored for the user (private.notify), unless they turned in-app off for its type',
    payload: {}, rowOf: 'notifications',
  },
  {
    event: 'notifications_read', topic: 'user:<id>', source: 'database',
    when: 'mark_notifications_read changed at least one notification (other devices clear badges)',
    payload: { ids: 'uuid[] marked read, or null when all were', all: 'boolean: every notification was marked', unread_count: 'integer left unread' },
  },
  {
    event: 'conversation_added', topic: 'user:<id>', source: 'database',
    when: 'the user joins a conversation (started, added to a group, booked into an event chat, unblocked)',
    payload: { conversation_id: 'uuid', kind: 'direct | event | group', event_id: 'uuid (event chats)', user_id: 'uuid (direct: the other person)', added_by: 'uuid (groups)' },
  },
  {
    event: 'conversation_removed', topic: 'user:<id>', source: 'database',
    when: 'the user leaves or loses a conversation (left, removed, booking ended, blocked)',
    payload: { conversation_id: 'uuid', kind: 'direct | event | group', event_id: 'uuid (event chats)', user_id: 'uuid (direct)', removed_by: 'uuid (removed from a group)' },
  },
  {
    event: 'conversation_activity', topic: 'user:<id>', source: 'database',
    when: 'a message is posted in one of the user\'s conversations (no content, for the conversation list)',
    payload: { conversation_id: 'uuid', message_id: 'uuid', seq: 'bigint', sender_id: 'uuid or null (system)', kind: 'message kind', at: 'timestamptz' },
  },
  {
    event: 'conversation_read', topic: 'user:<id>', source: 'database',
    when: 'the user marked a conversation read (their other devices update the badge)',
    payload: { conversation_id: 'uuid', message_id: 'uuid', seq: 'bigint', unread_count: 'integer' },
  },
  {
    event: 'conversation_updated', topic: 'user:<id>', source: 'database',
    when: 'the user muted or unmuted a conversation',
    payload: { conversation_id: 'uuid', muted: 'boolean' },
  },
  {
    event: 'seats_left', topic: 'event:<id>', source: 'database',
    when: 'seats of a ticket type are taken or given back',
    payload: { ticket_type_id: 'uuid', seats_left: 'integer', waiting: 'integer parties on the waitlist' },
  },
  {
    event: 'check_in_count', topic: 'event:<id>', source: 'database',
    when: 'a guest checks in',
    payload: { checked_in: 'integer seats checked in so far' },
  },
  {
    event: 'event_cancelled', topic: 'event:<id>', source: 'database',
    when: 'the host cancels the event',
    payload: { event_id: 'uuid', status: '"cancelled"' },
  },
  {
    event: 'event_changed', topic: 'event:<id>', source: 'database',
    when: 'the host changes the time, place or link of the published event (change_event_details)',
    payload: { event_id: 'uuid', starts_at: 'timestamptz', ends_at: 'timestamptz', material: 'boolean: guests booked before it may cancel with a full refund for a while' },
  },
  {
    event: 'check_in', topic: 'event:<id>:staff', source: 'database',
    when: 'a guest checks in, with the booking\'s code or one seat\'s (names the guest, so staff only)',
    payload: {
      booking_id: 'uuid', guest_id: 'uuid (the seat\'s holder for a transferred seat)', display_name: 'text',
      quantity: 'integer seats checked in by this scan', seat_no: 'integer, or null for the booking\'s code',
      attendee_name: 'text, or null', checked_in_at: 'timestamptz',
    },
  },
  {
    event: 'message_created', topic: 'conversation:<id>', source: 'database',
    when: 'a message is posted', payload: {}, rowOf: 'messages',
  },
  {
    event: 'message_updated', topic: 'conversation:<id>', source: 'database',
    when: 'a message is edited', payload: {}, rowOf: 'messages',
  },
  {
    event: 'message_deleted', topic: 'conversation:<id>', source: 'database',
    when: 'a message is deleted (content gone)',
    payload: { id: 'uuid', conversation_id: 'uuid', seq: 'bigint', deleted_at: 'timestamptz', deleted_by: 'uuid' },
  },
  {
    event: 'reaction_added', topic: 'conversation:<id>', source: 'database',
    when: 'a member reacts to a message',
    payload: { message_id: 'uuid', user_id: 'uuid', emoji: 'text', conversation_id: 'uuid' },
  },
  {
    event: 'reaction_removed', topic: 'conversation:<id>', source: 'database',
    when: 'a member removes their reaction',
    payload: { message_id: 'uuid', user_id: 'uuid', emoji: 'text', conversation_id: 'uuid' },
  },
  {
    event: 'message_read', topic: 'conversation:<id>', source: 'database',
    when: 'a member\'s read pointer moves (read receipts)',
    payload: { conversation_id: 'uuid', user_id: 'uuid', message_id: 'uuid', seq: 'bigint', read_at: 'timestamptz' },
  },
  {
    event: 'reminder_due', topic: 'conversation:<id>', source: 'database',
    when: 'a reminder message\'s time comes',
    payload: { conversation_id: 'uuid', message_id: 'uuid', remind_at: 'timestamptz', body: 'text', set_by: 'uuid' },
  },
  {
    event: 'typing', topic: 'conversation:<id>:typing', source: 'client',
    when: 'sent by apps while a member types (any payload the app chooses; Rally sends none)',
    payload: { user_id: 'uuid (suggested)' },
  },
];

/** One broadcast found in SQL: the function it is in, event, topic pattern, payload keys if literal. */
export interface FoundBroadcast {
  function: string;
  event: string;
  topic: string;
  /** keys of a jsonb_build_object payload (directly or through a function returning one); null when not readable */
  payloadKeys: string[] | null;
}

interface Wrapper {
  /** index of the event argument in calls to the wrapper */
  eventArg: number;
  /** topic pattern, with the wrapper's own parameters shown as <id> */
  topic: string;
  payloadArg: number | null;
}

export interface ScannedFunction {
  /** schema.name */
  name: string;
  source: string;
  /** input parameter names in order (for wrappers) */
  argNames: string[];
}

/** Keys of `jsonb_build_object('k', v, …)` (literal keys only), else null. */
export function jsonbObjectKeys(expr: string): string[] | null {
  const call = /^(?:pg_catalog\.)?jsonb_build_object\s*\(/i.exec(expr.trim());
  if (call === null) return null;
  const calls = findQualifiedCalls(`x.${expr.trim().replace(/^pg_catalog\./i, '')}`, ['x']);
  const first = calls[0];
  if (first === undefined) return null;
  const keys: string[] = [];
  for (let i = 0; i < first.args.length; i += 2) {
    const key = stringLiteral(first.args[i] ?? '');
    if (key === null) return null;
    keys.push(key);
  }
  return keys;
}

/** The `realtime.send` / `realtime.broadcast_changes` calls in one body, as (payload, event, topic) expressions. */
function directSends(source: string): Array<{ payload: string | null; event: string; topic: string }> {
  const sends: Array<{ payload: string | null; event: string; topic: string }> = [];
  for (const call of findQualifiedCalls(source, ['realtime'])) {
    if (call.name === 'realtime.send') sends.push({ payload: call.args[0] ?? null, event: call.args[1] ?? '', topic: call.args[2] ?? '' });
    if (call.name === 'realtime.broadcast_changes') sends.push({ payload: null, event: call.args[1] ?? '', topic: call.args[0] ?? '' });
  }
  return sends;
}

function argIndex(fn: ScannedFunction, expr: string): number {
  const name = expr.trim().toLowerCase();
  return fn.argNames.findIndex((arg) => arg.toLowerCase() === name);
}

/**
 * Every broadcast with a literal event name in the given functions. A function whose send uses
 * one of its own parameters as the event is a wrapper: its callers' literal arguments count.
 */
export function findBroadcasts(functions: readonly ScannedFunction[]): { found: FoundBroadcast[]; unreadable: string[] } {
  const wrappers = new Map<string, Wrapper>();
  const found: FoundBroadcast[] = [];
  const unreadable: string[] = [];
  const payloadFunctions = new Map(functions.map((fn) => [fn.name, fn.source]));
  const keysOf = (payload: string | null): string[] | null => {
    if (payload === null) return null;
    const direct = jsonbObjectKeys(payload);
    if (direct !== null) return direct;
    // A function that builds the payload, e.g. private.message_payload(new).
    const call = findQualifiedCalls(payload, ['private', 'public'])[0];
    const body = call === undefined ? undefined : payloadFunctions.get(call.name);
    if (body === undefined) return null;
    const inner = /jsonb_build_object\s*\(/i.exec(body);
    if (inner === null) return null;
    return jsonbObjectKeys(body.slice(inner.index));
  };

  for (const fn of functions) {
    for (const send of directSends(fn.source)) {
      const event = stringLiteral(send.event);
      if (event !== null) {
        found.push({ function: fn.name, event, topic: topicPattern(send.topic), payloadKeys: keysOf(send.payload) });
        continue;
      }
      const eventArg = argIndex(fn, send.event);
      if (eventArg === -1) {
        unreadable.push(`${fn.name}: ${send.event}`);
        continue;
      }
      const payloadArg = send.payload === null ? -1 : argIndex(fn, send.payload);
      wrappers.set(fn.name, { eventArg, topic: topicPattern(send.topic), payloadArg: payloadArg === -1 ? null : payloadArg });
    }
  }
  for (const fn of functions) {
    const calls: SqlCall[] = findQualifiedCalls(fn.source, ['private', 'public']);
    for (const call of calls) {
      const wrapper = wrappers.get(call.name);
      if (wrapper === undefined) continue;
      const eventExpr = call.args[wrapper.eventArg] ?? '';
      const event = stringLiteral(eventExpr);
      if (event === null) {
        unreadable.push(`${fn.name} → ${call.name}: ${eventExpr}`);
        continue;
      }
      const payload = wrapper.payloadArg === null ? null : (call.args[wrapper.payloadArg] ?? null);
      found.push({ function: fn.name, event, topic: wrapper.topic, payloadKeys: keysOf(payload) });
    }
  }
  found.sort((a, b) => compareText(a.event, b.event) || compareText(a.function, b.function));
  return { found, unreadable: [...new Set(unreadable)].sort() };
}

/** Registry problems: broadcasts it does not list, listed events nothing sends, unlisted payload keys. */
export function checkRegistry(
  found: readonly FoundBroadcast[],
  unreadable: readonly string[],
  events: readonly EventSpec[] = REALTIME_EVENTS,
  topics: readonly TopicSpec[] = REALTIME_TOPICS,
  /** columns of public relations, to check whole-row payloads (`rowOf`) */
  columnsOf: ReadonlyMap<string, readonly string[]> = new Map(),
): string[] {
  const problems: string[] = [];
  const topicNames = new Set(topics.map((t) => t.topic));
  for (const spec of events) {
    if (!topicNames.has(spec.topic)) problems.push(`realtime registry: event ${spec.event} is on ${spec.topic}, which is not a declared topic`);
  }
  for (const item of unreadable) {
    problems.push(`realtime: a broadcast whose event name is not a literal (declare it or pass a literal): ${item}`);
  }
  for (const broadcast of found) {
    const spec = events.find((e) => e.event === broadcast.event && e.topic === broadcast.topic && e.source === 'database');
    if (spec === undefined) {
      problems.push(`realtime: ${broadcast.function} broadcasts '${broadcast.event}' on ${broadcast.topic}, which scripts/lib/api-reference/realtime.ts does not list`);
      continue;
    }
    const rowColumns = spec.rowOf === undefined ? undefined : columnsOf.get(spec.rowOf);
    if (rowColumns !== undefined && broadcast.payloadKeys !== null) {
      const extra = broadcast.payloadKeys.filter((key) => !rowColumns.includes(key));
      if (extra.length > 0) {
        problems.push(`realtime: ${broadcast.function} sends '${broadcast.event}' as a ${spec.rowOf} row, but with fields that table does not have: ${extra.join(', ')}`);
      }
    }
    if (spec.rowOf === undefined && broadcast.payloadKeys !== null) {
      const extra = broadcast.payloadKeys.filter((key) => !(key in spec.payload));
      if (extra.length > 0) {
        problems.push(`realtime: ${broadcast.function} sends '${broadcast.event}' with payload fields the registry does not list: ${extra.join(', ')}`);
      }
    }
  }
  for (const spec of events) {
    if (spec.source !== 'database') continue;
    if (!found.some((b) => b.event === spec.event && b.topic === spec.topic)) {
      problems.push(`realtime registry: '${spec.event}' on ${spec.topic} is listed but nothing in the database broadcasts it`);
    }
  }
  return problems;
}

/** The functions the RLS policies on realtime.messages dispatch through. */
export const TOPIC_AUTHORIZERS = ['private.realtime_can_receive', 'private.realtime_can_send'] as const;

/** Words next to a colon in topic names: `event:<id>:staff` → event, staff. */
export function topicWords(text: string): string[] {
  const words = new Set<string>();
  for (const match of text.matchAll(/([a-z_]+):|:([a-z_]+)/g)) words.add(match[1] ?? match[2] ?? '');
  return [...words].sort();
}

/**
 * The topic words the authorization functions recognise (from their string literals) must be the
 * words of the registry's topics, so a new topic prefix cannot go undocumented.
 */
export function checkTopicAuthorizers(functions: readonly ScannedFunction[], topics: readonly TopicSpec[] = REALTIME_TOPICS): string[] {
  const authorized = new Set<string>();
  for (const name of TOPIC_AUTHORIZERS) {
    const bodies = functions.filter((fn) => fn.name === name);
    if (bodies.length === 0) return [`realtime: ${name} is missing, so topic authorization cannot be checked`];
    for (const body of bodies) for (const literal of stringLiterals(body.source)) for (const word of topicWords(literal)) authorized.add(word);
  }
  const declared = new Set(topics.flatMap((topic) => topicWords(topic.topic)));
  const problems: string[] = [];
  for (const word of [...authorized].sort()) {
    if (!declared.has(word)) problems.push(`realtime: the topic authorization functions recognise '${word}:' / ':${word}' topics, which scripts/lib/api-reference/realtime.ts does not list`);
  }
  for (const word of [...declared].sort()) {
    if (!authorized.has(word)) problems.push(`realtime registry: topics with '${word}' are listed but private.realtime_can_receive/_send never authorize them`);
  }
  return problems;
}
