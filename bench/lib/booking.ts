/**
 * Booking race: N attempts from C concurrent connections on one event with one free ticket type,
 * each attempt by a distinct user calling public.book_event exactly as PostgREST would (one
 * transaction: request context, the RPC, commit). Baseline in the same process and cluster: a
 * minimal hot-row booking (one counter row, conditional update, insert on success).
 */
import pg from 'pg';
import { applyRequestContext } from '../../functions/_shared/db.ts';
import { adminQuery, asUser } from '../../tests/support/db.ts';
import type { GoTrueClaims } from '../../tests/support/jwt.ts';
import { wasInterrupted } from '../../scripts/lib/throwaway.ts';
import { median, percentile, since } from './stats.ts';
import type { BenchUser } from './users.ts';

export type BookingSystem = 'rally' | 'baseline';

export interface RaceSpec {
  system: BookingSystem;
  capacity: number;
  attempts: number;
  /** how many of the open connections take part */
  connections: number;
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

/** Schema and tables of the hot-row baseline (as the superuser; owned by postgres, which runs it). */
export async function createBaselineSchema(): Promise<void> {
  await adminQuery(`
    create schema if not exists bench authorization postgres;
    create table if not exists bench.hot_inventory (id int primary key, capacity int not null, taken int not null);
    create table if not exists bench.hot_bookings (id bigserial primary key, guest uuid not null);
    alter table bench.hot_inventory owner to postgres;
    alter table bench.hot_bookings owner to postgres;`);
}

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
  let attempt: (client: pg.Client, index: number) => Promise<AttemptResult>;
  let verify: () => Promise<{ taken: number; confirmed: number }>;
  if (spec.system === 'rally') {
    const { eventId, ticketTypeId } = await prepareRallyEvent(ctx, spec.capacity, label);
    attempt = (client, index) => {
      const user = ctx.users[index];
      if (user === undefined) throw new Error(`no user ${index}`);
      return rallyAttempt(client, user, eventId, ticketTypeId, `bench-${RUN_TOKEN}-${label}-${index}`);
    };
    verify = async () => {
      const { rows } = await adminQuery<{ taken: number; confirmed: number }>(
        `select (select coalesce(sum(taken), 0)::int from private.ticket_inventory where ticket_type_id = $2) as taken,
                (select count(*)::int from public.bookings where event_id = $1 and status = 'confirmed') as confirmed`,
        [eventId, ticketTypeId],
      );
      return rows[0] ?? { taken: -1, confirmed: -1 };
    };
  } else {
    await prepareBaseline(spec.capacity);
    attempt = (client, index) => {
      const user = ctx.users[index];
      if (user === undefined) throw new Error(`no user ${index}`);
      return baselineAttempt(client, user);
    };
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
  const sampling = sampleLockWaits(ctx.sampler);
  const started = performance.now();
  await Promise.all(ctx.clients.slice(0, spec.connections).map(worker));
  const elapsedMs = since(started);
  const lockWaitShare = await sampling.stop();
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
  };
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
