/**
 * Booking race: N attempts from C concurrent connections on one event with one free ticket type,
 * each attempt by a distinct user calling public.book_event exactly as PostgREST would (one
 * transaction: request context, the RPC, commit). Baseline in the same process and cluster: a
 * minimal hot-row booking (one counter row, conditional update, insert on success).
 *
 * The contract floor (`bench.book_contract_floor`) is what any book_event that keeps its
 * contract must do, as plain SQL statements with no checks beyond the ones that decide the
 * answer, no triggers and no foreign keys, into copies of the real tables (`create table
 * bench.x (like public.x including defaults including constraints including indexes including
 * generated)`: the unique indexes that forbid a second active booking or a reused key stay).
 * Reads (what an honest answer needs, without leaking a hidden event), each one index probe on
 * the real tables:
 *   - the caller: profile not deleted, no active suspension (the claims' sub);
 *   - the event's visibility to the caller: the event row (published, public or unlisted), no
 *     block between host and caller either way, the ticket type belongs to it and is not hidden;
 *   - the seats-left answer: Σ (capacity − taken) over the ticket type's slot copies, and the
 *     waitlist count (freed seats go to people waiting; the seats_left message carries it).
 * A sold-out attempt stops there (answers sold_out, writes nothing). A confirmed one writes:
 *   - rows: the booking, its booking_seats row, one slot update (skip-locked pick, waiting for
 *     one slot only when every slot with room is locked) and one booking_allocations row, the
 *     booking rate-limit bucket upsert, the guest's booking_confirmed notification, one
 *     alert_deliveries row per channel the guest allows by default (booking_confirmed defaults
 *     to email and push; the bench guests have an email and no push device: one, email), the
 *     event-chat conversation_members row;
 *   - Realtime messages through the real realtime.send: seats_left on event:<id>,
 *     notification_created and conversation_added on user:<id>.
 * It runs as a security definer PL/pgSQL function owned by postgres so that it may read the
 * private tables as Rally's functions do and keeps its plans for the session as they do; called
 * over the same four round trips as a Rally attempt (begin, request context, one select, commit).
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { applyRequestContext } from '../../functions/_shared/db.ts';
import { adminQuery, asUser } from '../../tests/support/db.ts';
import type { GoTrueClaims } from '../../tests/support/jwt.ts';
import { wasInterrupted } from '../../scripts/lib/throwaway.ts';
import { median, percentile, since } from './stats.ts';
import type { BenchUser } from './users.ts';

/**
 * rally: public.book_event as PostgREST calls it. baseline: the bare hot-row booking. contract:
 * the contract floor (see the module docblock). roundtrip: the same four round trips as a Rally
 * attempt (begin, request context, one statement, commit) with an empty statement, which no
 * implementation of book_event can beat.
 */
export type BookingSystem = 'rally' | 'baseline' | 'contract' | 'roundtrip';

export interface RaceSpec {
  system: BookingSystem;
  capacity: number;
  attempts: number;
  /** how many of the open connections take part */
  connections: number;
  /** index of the first user (users rotate between runs, so no one spends the booking rate limit) */
  userOffset?: number;
}

export interface RaceOutcome extends RaceSpec {
  confirmed: number;
  soldOut: number;
  /** any other outcome: `<sqlstate>/<hint or message>` → count */
  otherErrors: Record<string, number>;
  elapsedMs: number;
  throughput: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  /** what the database says afterwards (seats taken, confirmed rows) */
  dbTaken: number;
  dbConfirmed: number;
  /** confirmed = min(capacity, attempts), and the database agrees (seats taken, confirmed rows) */
  invariantOk: boolean;
  /** every other attempt was a clean sold_out (no deadlock, timeout or other error) */
  cleanRejections: boolean;
  /** share of sampled in-transaction bench backends that were waiting on a heavyweight lock */
  lockWaitShare: number;
  /**
   * CPU the race's server backends spent per attempt, in ms (from /proc/<pid>/schedstat; NaN when
   * the cluster runs elsewhere). Far steadier than wall time on a shared machine: a backend waiting
   * for a core or a lock spends none.
   */
  backendCpuMsPerAttempt: number;
}

export interface RaceContext {
  clients: readonly pg.Client[];
  /** a superuser connection that samples pg_stat_activity while a race runs */
  sampler: pg.Client;
  users: readonly BenchUser[];
  host: { id: string; claims: GoTrueClaims };
}

let raceCounter = 0;
/** Makes idempotency keys unique across processes too (a reused dev database keeps old bookings). */
const RUN_TOKEN = crypto.randomUUID().slice(0, 8);

/** The real tables the contract floor writes, copied trigger-free and FK-free into schema bench. */
const CONTRACT_TABLES = [
  'public.bookings', 'public.booking_seats', 'private.ticket_inventory', 'private.booking_allocations',
  'private.rate_limit_buckets', 'public.notifications', 'private.alert_deliveries', 'public.conversation_members',
] as const;

/** Schema and tables of the hot-row baseline and the contract floor (as the superuser; owned by postgres, which runs them). */
export async function createBaselineSchema(): Promise<void> {
  const copies = CONTRACT_TABLES.map((table) => {
    const name = table.split('.')[1] ?? table;
    return `create table if not exists bench.${name} (like ${table} including defaults including constraints including indexes including generated);
    alter table bench.${name} owner to postgres;`;
  }).join('\n');
  await adminQuery(`
    create schema if not exists bench authorization postgres;
    create table if not exists bench.hot_inventory (id int primary key, capacity int not null, taken int not null);
    create table if not exists bench.hot_bookings (id bigserial primary key, guest uuid not null);
    alter table bench.hot_inventory owner to postgres;
    alter table bench.hot_bookings owner to postgres;
    ${copies}
    ${CONTRACT_FLOOR_FUNCTION}
    alter function bench.book_contract_floor(uuid, uuid, uuid, text) owner to postgres;
    grant usage on schema bench to authenticated;
    revoke all on function bench.book_contract_floor(uuid, uuid, uuid, text) from public;
    grant execute on function bench.book_contract_floor(uuid, uuid, uuid, text) to authenticated;`);
}

/** The contract floor of one free booking (module docblock): 'confirmed', 'sold_out' or 'event_not_found'. */
const CONTRACT_FLOOR_FUNCTION = `
create or replace function bench.book_contract_floor(p_event_id uuid, p_ticket_type_id uuid, p_conversation_id uuid, p_key text)
returns text
language plpgsql
security definer
set search_path = ''
as $fn$
declare
  v_uid uuid := (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')::uuid;
  v_title text;
  v_currency text;
  v_left integer;
  v_waiting integer;
  v_start integer := floor(random() * 8)::integer;
  v_slot smallint;
  v_booking uuid;
  v_notification bench.notifications;
begin
  select e.title, t.currency into v_title, v_currency
    from private.events e
    join public.ticket_types t on t.id = p_ticket_type_id and t.event_id = e.id and not t.hidden
   where e.id = p_event_id and e.status = 'published' and e.visibility in ('public', 'unlisted')
     and exists (select 1 from public.profiles p where p.id = v_uid and p.deleted_at is null)
     and not exists (select 1 from private.user_suspensions s where s.user_id = v_uid and s.lifted_at is null)
     and not exists (select 1 from public.blocks b
                      where (b.blocker_id = e.host_id and b.blocked_id = v_uid) or (b.blocker_id = v_uid and b.blocked_id = e.host_id));
  if not found then
    return 'event_not_found';
  end if;
  select coalesce(sum(i.capacity - i.taken), 0) into v_left from bench.ticket_inventory i where i.ticket_type_id = p_ticket_type_id;
  select count(*) into v_waiting from public.waitlist_entries w where w.ticket_type_id = p_ticket_type_id and w.status = 'waiting';
  if v_left < 1 or v_waiting > 0 then
    return 'sold_out';
  end if;
  loop
    select i.slot into v_slot from bench.ticket_inventory i
     where i.ticket_type_id = p_ticket_type_id and i.taken < i.capacity
     order by (i.slot + 8 - v_start) % 8 limit 1 for update skip locked;
    if found then
      update bench.ticket_inventory set taken = taken + 1 where ticket_type_id = p_ticket_type_id and slot = v_slot;
      exit;
    end if;
    select i.slot into v_slot from bench.ticket_inventory i
     where i.ticket_type_id = p_ticket_type_id and i.taken < i.capacity order by i.capacity - i.taken desc limit 1;
    if not found then
      return 'sold_out';
    end if;
    update bench.ticket_inventory set taken = taken + 1 where ticket_type_id = p_ticket_type_id and slot = v_slot and taken < capacity;
    exit when found;
  end loop;
  insert into bench.bookings (event_id, ticket_type_id, guest_id, quantity, status, currency, idempotency_key, confirmed_at)
  values (p_event_id, p_ticket_type_id, v_uid, 1, 'confirmed', v_currency, p_key, now())
  returning id into v_booking;
  insert into bench.booking_seats (booking_id, seat_no, event_id) values (v_booking, 1, p_event_id);
  insert into bench.booking_allocations (booking_id, ticket_type_id, slot, quantity) values (v_booking, p_ticket_type_id, v_slot, 1);
  insert into bench.rate_limit_buckets as b (action, key, tokens, refilled_at) values ('booking', v_uid::text, 9, now())
  on conflict (action, key) do update set tokens = b.tokens - 1, refilled_at = now();
  insert into bench.notifications (user_id, type, title, data)
  values (v_uid, 'booking_confirmed', format('You''re going to %s', v_title),
          jsonb_build_object('event_id', p_event_id, 'booking_id', v_booking))
  returning * into v_notification;
  insert into bench.alert_deliveries (notification_id, user_id, type, channel, dedupe_key)
  values (v_notification.id, v_uid, 'booking_confirmed', 'email', v_notification.id::text);
  insert into bench.conversation_members (conversation_id, user_id, role) values (p_conversation_id, v_uid, 'member');
  perform realtime.send(jsonb_build_object('ticket_type_id', p_ticket_type_id, 'seats_left', v_left - 1, 'waiting', v_waiting),
                        'seats_left', 'event:' || p_event_id::text, true);
  perform realtime.send(to_jsonb(v_notification), 'notification_created', 'user:' || v_uid::text, true);
  perform realtime.send(jsonb_build_object('conversation_id', p_conversation_id, 'kind', 'event', 'event_id', p_event_id),
                        'conversation_added', 'user:' || v_uid::text, true);
  return 'confirmed';
end
$fn$;`;

/** Opens `count` connections as role postgres (what PostgREST's pool and the app use). */
export async function openClients(url: string, count: number): Promise<pg.Client[]> {
  const clients = Array.from({ length: count }, () => new pg.Client({ connectionString: url, application_name: 'rally-bench' }));
  await Promise.all(clients.map((client) => client.connect()));
  return clients;
}

export async function closeClients(clients: readonly pg.Client[]): Promise<void> {
  await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
}

/** A fresh published event with one free ticket type, made by the host through the API. */
async function prepareRallyEvent(ctx: RaceContext, capacity: number, label: string): Promise<{ eventId: string; ticketTypeId: string }> {
  return asUser(ctx.host.claims, async (db) => {
    const event = await db.query<{ id: string }>(
      `insert into public.events (title, description, category, starts_at, ends_at, timezone, venue_name, city, location)
       values ($1, 'Benchmark booking race', 'music', now() + interval '30 days', now() + interval '30 days 3 hours',
               'Europe/Lisbon', 'Bench Hall', 'Lisbon',
               extensions.st_setsrid(extensions.st_makepoint(-9.1393, 38.7223), 4326))
       returning id`,
      [`Bench race ${label}`],
    );
    const eventId = event.rows[0]?.id;
    if (eventId === undefined) throw new Error('event insert returned no row');
    const ticket = await db.query<{ id: string }>(
      `insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
       values ($1, 'General admission', 0, 'EUR', $2, 1) returning id`,
      [eventId, capacity],
    );
    const ticketTypeId = ticket.rows[0]?.id;
    if (ticketTypeId === undefined) throw new Error('ticket type insert returned no row');
    await db.query('select id from public.publish_event($1)', [eventId]);
    return { eventId, ticketTypeId };
  });
}

async function prepareBaseline(capacity: number): Promise<void> {
  await adminQuery('truncate bench.hot_inventory, bench.hot_bookings restart identity');
  await adminQuery('insert into bench.hot_inventory (id, capacity, taken) values (1, $1, 0)', [capacity]);
}

type AttemptResult = { kind: 'confirmed' } | { kind: 'sold_out' } | { kind: 'other'; key: string };

function classify(err: unknown): AttemptResult {
  if (err instanceof pg.DatabaseError) {
    if (err.hint === 'sold_out') return { kind: 'sold_out' };
    return { kind: 'other', key: `${err.code ?? '?'}/${err.hint ?? err.message}` };
  }
  return { kind: 'other', key: `client/${err instanceof Error ? err.message : String(err)}` };
}

/** One transaction on `client`; rolls back on error (a failed rollback is reported as such). */
async function inTransaction(client: pg.Client, body: () => Promise<AttemptResult>): Promise<AttemptResult> {
  await client.query('begin');
  try {
    const result = await body();
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback');
    return classify(err);
  }
}

function rallyAttempt(client: pg.Client, user: BenchUser, eventId: string, ticketTypeId: string, key: string): Promise<AttemptResult> {
  return inTransaction(client, async () => {
    await applyRequestContext(client, user.claims);
    const { rows } = await client.query<{ status: string }>(
      'select status from public.book_event($1::uuid, $2::uuid, 1, $3::text)',
      [eventId, ticketTypeId, key],
    );
    const status = rows[0]?.status;
    return status === 'confirmed' ? { kind: 'confirmed' } : { kind: 'other', key: `status/${status ?? 'none'}` };
  });
}

function contractAttempt(client: pg.Client, user: BenchUser, eventId: string, ticketTypeId: string, conversationId: string, key: string): Promise<AttemptResult> {
  return inTransaction(client, async () => {
    await applyRequestContext(client, user.claims);
    const { rows } = await client.query<{ status: string }>(
      'select bench.book_contract_floor($1::uuid, $2::uuid, $3::uuid, $4::text) as status',
      [eventId, ticketTypeId, conversationId, key],
    );
    const status = rows[0]?.status;
    if (status === 'confirmed') return { kind: 'confirmed' };
    if (status === 'sold_out') return { kind: 'sold_out' };
    return { kind: 'other', key: `status/${status ?? 'none'}` };
  });
}

/** A published event for the contract floor (its reads are real), with its slots copied into bench. */
async function prepareContractEvent(ctx: RaceContext, capacity: number, label: string): Promise<{ eventId: string; ticketTypeId: string; conversationId: string }> {
  const { eventId, ticketTypeId } = await prepareRallyEvent(ctx, capacity, `${label} contract`);
  await adminQuery('insert into bench.ticket_inventory select * from private.ticket_inventory where ticket_type_id = $1', [ticketTypeId]);
  const { rows } = await adminQuery<{ id: string }>('select id from public.conversations where event_id = $1', [eventId]);
  const conversationId = rows[0]?.id;
  if (conversationId === undefined) throw new Error('the contract event has no event chat');
  return { eventId, ticketTypeId, conversationId };
}

function roundTripAttempt(client: pg.Client, user: BenchUser, capacity: number, index: number): Promise<AttemptResult> {
  return inTransaction(client, async () => {
    await applyRequestContext(client, user.claims);
    await client.query('select 1');
    return index < capacity ? { kind: 'confirmed' } : { kind: 'sold_out' };
  });
}

function baselineAttempt(client: pg.Client, user: BenchUser): Promise<AttemptResult> {
  return inTransaction(client, async () => {
    const taken = await client.query(
      'update bench.hot_inventory set taken = taken + 1 where id = 1 and taken + 1 <= capacity returning taken',
    );
    if (taken.rowCount === 0) return { kind: 'sold_out' };
    await client.query('insert into bench.hot_bookings (guest) values ($1)', [user.id]);
    return { kind: 'confirmed' };
  });
}

/** Runs one race and checks the invariant against the database afterwards. */
export async function runRace(ctx: RaceContext, spec: RaceSpec): Promise<RaceOutcome> {
  if (spec.attempts > ctx.users.length) throw new Error(`need ${spec.attempts} distinct users, have ${ctx.users.length}`);
  if (spec.connections > ctx.clients.length) throw new Error(`need ${spec.connections} connections, have ${ctx.clients.length}`);
  raceCounter += 1;
  const label = `${raceCounter}`;
  const offset = spec.userOffset ?? 0;
  const userAt = (index: number): BenchUser => {
    const user = ctx.users[(index + offset) % ctx.users.length];
    if (user === undefined) throw new Error(`no user ${index}`);
    return user;
  };
  let attempt: (client: pg.Client, index: number) => Promise<AttemptResult>;
  let verify: () => Promise<{ taken: number; confirmed: number }>;
  if (spec.system === 'rally') {
    const { eventId, ticketTypeId } = await prepareRallyEvent(ctx, spec.capacity, label);
    attempt = (client, index) => rallyAttempt(client, userAt(index), eventId, ticketTypeId, `bench-${RUN_TOKEN}-${label}-${index}`);
    verify = async () => {
      const { rows } = await adminQuery<{ taken: number; confirmed: number }>(
        `select (select coalesce(sum(taken), 0)::int from private.ticket_inventory where ticket_type_id = $2) as taken,
                (select count(*)::int from public.bookings where event_id = $1 and status = 'confirmed') as confirmed`,
        [eventId, ticketTypeId],
      );
      return rows[0] ?? { taken: -1, confirmed: -1 };
    };
  } else if (spec.system === 'contract') {
    const { eventId, ticketTypeId, conversationId } = await prepareContractEvent(ctx, spec.capacity, label);
    attempt = (client, index) => contractAttempt(client, userAt(index), eventId, ticketTypeId, conversationId, `bench-${RUN_TOKEN}-${label}-${index}`);
    verify = async () => {
      const { rows } = await adminQuery<{ taken: number; confirmed: number }>(
        `select (select coalesce(sum(taken), 0)::int from bench.ticket_inventory where ticket_type_id = $2) as taken,
                (select count(*)::int from bench.bookings where event_id = $1 and status = 'confirmed') as confirmed`,
        [eventId, ticketTypeId],
      );
      return rows[0] ?? { taken: -1, confirmed: -1 };
    };
  } else if (spec.system === 'roundtrip') {
    let confirmedSoFar = 0;
    attempt = async (client, index) => {
      const result = await roundTripAttempt(client, userAt(index), spec.capacity, index);
      if (result.kind === 'confirmed') confirmedSoFar += 1;
      return result;
    };
    verify = () => Promise.resolve({ taken: confirmedSoFar, confirmed: confirmedSoFar });
  } else {
    await prepareBaseline(spec.capacity);
    attempt = (client, index) => baselineAttempt(client, userAt(index));
    verify = async () => {
      const { rows } = await adminQuery<{ taken: number; confirmed: number }>(
        `select (select taken from bench.hot_inventory where id = 1) as taken,
                (select count(*)::int from bench.hot_bookings) as confirmed`,
      );
      return rows[0] ?? { taken: -1, confirmed: -1 };
    };
  }

  let next = 0;
  let confirmed = 0;
  let soldOut = 0;
  const otherErrors: Record<string, number> = {};
  const latencies: number[] = [];
  const worker = async (client: pg.Client): Promise<void> => {
    // Bounded: each worker takes attempt numbers until all `spec.attempts` are handed out.
    while (!wasInterrupted()) {
      const index = next;
      if (index >= spec.attempts) return;
      next += 1;
      const started = performance.now();
      const result = await attempt(client, index);
      latencies.push(since(started));
      if (result.kind === 'confirmed') confirmed += 1;
      else if (result.kind === 'sold_out') soldOut += 1;
      else otherErrors[result.key] = (otherErrors[result.key] ?? 0) + 1;
    }
  };
  const racers = ctx.clients.slice(0, spec.connections);
  const cpuBefore = await backendCpuNs(racers);
  const sampling = sampleLockWaits(ctx.sampler);
  const started = performance.now();
  await Promise.all(racers.map(worker));
  const elapsedMs = since(started);
  const lockWaitShare = await sampling.stop();
  const cpuAfter = await backendCpuNs(racers);
  const db = await verify();
  const expectedConfirmed = Math.min(spec.capacity, spec.attempts);
  const invariantOk = confirmed === expectedConfirmed && db.taken === confirmed && db.confirmed === confirmed;
  const cleanRejections = soldOut === spec.attempts - expectedConfirmed && Object.keys(otherErrors).length === 0;
  return {
    ...spec,
    confirmed,
    soldOut,
    otherErrors,
    elapsedMs,
    throughput: (spec.attempts / elapsedMs) * 1000,
    latencyP50Ms: median(latencies),
    latencyP95Ms: percentile(latencies, 95),
    dbTaken: db.taken,
    dbConfirmed: db.confirmed,
    invariantOk,
    cleanRejections,
    lockWaitShare,
    backendCpuMsPerAttempt: (cpuAfter - cpuBefore) / 1e6 / spec.attempts,
  };
}

const backendPids = new WeakMap<pg.Client, number>();

/** Total CPU time (ns) the clients' server backends have used, or NaN when /proc cannot tell (remote cluster). */
async function backendCpuNs(clients: readonly pg.Client[]): Promise<number> {
  let total = 0;
  for (const client of clients) {
    let pid = backendPids.get(client);
    if (pid === undefined) {
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      pid = rows[0]?.pid ?? -1;
      backendPids.set(client, pid);
    }
    try {
      total += Number((await readFile(`/proc/${pid}/schedstat`, 'utf8')).split(' ')[0]);
    } catch {
      return Number.NaN;
    }
  }
  return total;
}

const SAMPLE_INTERVAL_MS = 10;

/**
 * Polls pg_stat_activity every 10 ms for the bench's backends that are inside a transaction
 * (active or waiting for the client) and counts how many wait on a heavyweight lock (row or
 * transaction lock). Diagnostic only: it shows whether a race queues on locks or on CPU.
 */
function sampleLockWaits(sampler: pg.Client): { stop: () => Promise<number> } {
  let running = true;
  let busy = 0;
  let waiting = 0;
  const loop = (async () => {
    while (running) {
      const { rows } = await sampler.query<{ busy: number; waiting: number }>(
        `select count(*)::int as busy, count(*) filter (where wait_event_type = 'Lock')::int as waiting
           from pg_stat_activity
          where application_name = 'rally-bench' and state in ('active', 'idle in transaction')`,
      );
      busy += rows[0]?.busy ?? 0;
      waiting += rows[0]?.waiting ?? 0;
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_INTERVAL_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return busy === 0 ? 0 : waiting / busy;
    },
  };
}
