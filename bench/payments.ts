/**
 * Payments benchmark (issue 4). Each figure is a ratio against a baseline measured in the same
 * run on the same cluster (ARCHITECTURE §7); absolute numbers are printed for context only.
 *
 * 1. Webhook apply throughput: payment_intent.succeeded events applied exactly as stripe-webhook
 *    does after verifying the signature — one transaction as service_role calling
 *    private.ingest_stripe_event (store once + apply: payment row, ledger posting with the cached
 *    host balance, booking confirmed, guest notified and broadcast). Baseline: a bare INSERT of
 *    the same event JSON into an unindexed-but-keyed table, one transaction each, same workers.
 *    Two shapes: every payment for one host (their pending balance row is the hot spot) and
 *    payments spread over 50 hosts. Also: redelivery of events already stored (duplicates).
 * 2. request_payout under 20-way contention: 20 connections, each asking for 100 minor units at a
 *    time from one host's balance until it is refused, as PostgREST requests (request context,
 *    security-invoker wrapper, row lock, ledger posting, payout row, outbox command). Baseline: the
 *    same 20 connections decrementing one hot counter row under `select … for update`. The
 *    invariant (exit code 1 when broken): exactly balance / 100 requests succeed, every other one
 *    is refused with insufficient_funds, and the balance never goes below zero.
 *
 * 3. The contract floor beside each (bench/README.md "Floors"): exactly the rows and Realtime
 *    messages the path must write by its contract, by one plain SQL statement with no checks, no
 *    triggers and no lookups beyond what the writes need, into trigger-free, FK-free copies of the
 *    real tables (schema bench_floor, `like … including defaults including constraints including
 *    indexes`), one transaction per operation, over the same connections and the same round trips
 *    (begin, the request preamble, one statement, commit) as the Rally runs, on copies of the same
 *    payments and bookings. No implementation that keeps the contract can do less.
 *    - webhook apply writes: the event row (stored as processed); the payment row's update
 *      (succeeded, amounts, fee, charge); one ledger transaction and its three entries (platform
 *      cash, host pending, platform fee; each account id looked up, as the write needs it); the
 *      booking's update to confirmed; the guest's two notifications (booking_confirmed and the
 *      payment_succeeded receipt) and one email alert delivery each (the fixture's guests have an
 *      email address and no phone: what Rally writes); the event-chat membership row; three
 *      realtime.send messages (two notification_created, one conversation_added); and last, the
 *      host's cached host_pending balance row (the lock every payment of a host queues on, taken
 *      as late as a statement can take it). Event titles are constants (Rally reads them).
 *    - request_payout writes, under the row lock of the host's available balance taken first by a
 *      conditional decrement (refused, and rolled back, when it would overdraw): the payout row,
 *      one ledger transaction and its two entries (available → in transit), the in-transit cached
 *      balance, and the worker's create_payout command.
 *
 *   tsx bench/payments.ts      # on its own throwaway cluster
 *
 * `paymentsBench(env)` is the module entry for a bench runner: it receives a migrated database
 * and returns the rows. Loops are bounded; connections go to 127.0.0.1 only.
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { applyRequestContext, SERVICE_ROLE_CLAIMS } from '../functions/_shared/db.ts';
import { createProfiler, type PathProfile, type Profiler } from './lib/profile.ts';
import { printReport, slowestLine, spreadOf, type Invariant, type PathRow } from './lib/report.ts';

export interface PaymentsBenchEnv {
  appUrl: string;
  adminUrl: string;
}

export interface PaymentsBenchOptions {
  workers: number;
  eventsPerRound: number;
  rounds: number;
  payoutConnections: number;
  /** host balance for the payout race, in payouts of 100 */
  payoutsAvailable: number;
  /** attempts per connection in the payout race */
  payoutAttemptsPerConnection: number;
  log: (line: string) => void;
  /** when given, one profiled pass of each path (bench/lib/profile.ts) after the timed runs */
  profiler?: Profiler;
  profiles?: PathProfile[];
}

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  ratio: number;
  goal: string;
  met: boolean;
  /** the spread of the per-round ratios, when there were rounds */
  spread?: string | undefined;
}

const DEFAULTS: PaymentsBenchOptions = {
  workers: 8,
  eventsPerRound: 2_000,
  rounds: 3,
  payoutConnections: 20,
  payoutsAvailable: 500,
  payoutAttemptsPerConnection: 40,
  log: (line) => process.stderr.write(`${line}\n`),
};

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

const row = (name: string, value: number, unit: string, baseline: string, baselineValue: number, goal: string, met: boolean): BenchRow =>
  ({ name, value, unit, baseline, baselineValue, ratio: value / baselineValue, goal, met });

/** Bulk fixtures: hosts with ready Stripe accounts, one paid event each, held bookings with payments. */
async function createPayments(admin: pg.Client, tag: string, hosts: number, total: number): Promise<string[]> {
  await admin.query(`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
           format('bench_%s_%s_%s@example.test', $1::text, kind, n), '', now(), '{"provider":"email"}',
           jsonb_build_object('username', format('b_%s_%s_%s', $1::text, kind, n)), now(), now()
      from (select 'h' as kind, generate_series(1, $2::int) as n union all select 'g', generate_series(1, $3::int)) as s`,
    [tag, hosts, total]);
  await admin.query(`
    with h as (select p.id, row_number() over (order by p.id) as n from public.profiles p where p.username like format('b\\_%s\\_h\\_%%', $1::text))
    update public.profiles p set is_host = true, host_status = 'active', payouts_enabled = true from h where p.id = h.id`, [tag]);
  await admin.query(`
    insert into private.stripe_accounts (host_id, account_id, details_submitted, charges_enabled, payouts_enabled, transfers_capability)
    select id, 'acct_bench' || replace(id::text, '-', ''), true, true, true, 'active'
      from public.profiles where username like format('b\\_%s\\_h\\_%%', $1::text)`, [tag]);
  await admin.query(`
    insert into private.events (host_id, title, starts_at, ends_at, timezone, status, published_at)
    select id, 'Bench night', now() + interval '30 days', now() + interval '30 days 3 hours', 'UTC', 'published', now()
      from public.profiles where username like format('b\\_%s\\_h\\_%%', $1::text)`, [tag]);
  await admin.query(`
    insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
    select e.id, 'GA', 2500, 'EUR', 100000, 10 from private.events e join public.profiles p on p.id = e.host_id
     where p.username like format('b\\_%s\\_h\\_%%', $1::text)`, [tag]);
  const { rows } = await admin.query<{ intent: string }>(`
    with hosts as (select e.id as event_id, t.id as ticket_id, e.host_id, row_number() over (order by e.id) - 1 as k
                     from private.events e join public.ticket_types t on t.event_id = e.id join public.profiles p on p.id = e.host_id
                    where p.username like format('b\\_%s\\_h\\_%%', $1::text)),
         guests as (select id, row_number() over (order by id) - 1 as n from public.profiles where username like format('b\\_%s\\_g\\_%%', $1::text)),
         booked as (
           insert into public.bookings (event_id, ticket_type_id, guest_id, quantity, status, amount_cents, currency, hold_expires_at)
           select h.event_id, h.ticket_id, g.id, 1, 'held', 2500, 'EUR', now() + interval '1 day'
             from guests g join hosts h on h.k = g.n % $2::int
           returning id, event_id, guest_id)
    insert into private.payments (booking_id, event_id, host_id, guest_id, amount_cents, currency, platform_fee_bps, refund_policy, status, payment_intent_id)
    select b.id, b.event_id, e.host_id, b.guest_id, 2500, 'EUR', 1000, 'moderate', 'requires_payment_method', 'pi_bench' || replace(b.id::text, '-', '')
      from booked b join private.events e on e.id = b.event_id
    returning payment_intent_id as intent`, [tag, hosts]);
  return rows.map((r) => r.intent);
}

function succeededEvent(intent: string, n: number): string {
  return JSON.stringify({
    id: `evt_bench${intent.slice(8)}${n}`, object: 'event', type: 'payment_intent.succeeded', created: Math.floor(Date.now() / 1000),
    livemode: false, api_version: '2026-10-28.endive',
    data: { object: { id: intent, object: 'payment_intent', status: 'succeeded', amount: 2500, amount_received: 2500, currency: 'eur', latest_charge: `ch_${intent.slice(3)}` } },
  });
}

/** Runs `items` through `workers` connections, one transaction each; returns items per second. */
async function throughput(url: string, workers: number, items: readonly string[], apply: (client: pg.Client, item: string) => Promise<void>): Promise<number> {
  const clients = await Promise.all(Array.from({ length: workers }, async () => {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-payments' });
    await client.connect();
    return client;
  }));
  try {
    let next = 0;
    const started = performance.now();
    await Promise.all(clients.map(async (client) => {
      for (;;) {
        const index = next;
        next += 1;
        const item = items[index];
        if (item === undefined) return;
        await apply(client, item);
      }
    }));
    return items.length / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

async function ingest(client: pg.Client, payload: string): Promise<void> {
  await client.query('begin');
  try {
    await applyRequestContext(client, SERVICE_ROLE_CLAIMS);
    await client.query("select private.ingest_stripe_event($1::jsonb, 'platform', false)", [payload]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

async function bareInsert(client: pg.Client, payload: string): Promise<void> {
  await client.query('begin');
  await client.query('insert into bench_payments.events (id, payload) values ($1, $2::jsonb)', [JSON.parse(payload).id as string, payload]);
  await client.query('commit');
}

/** The tables the contract floor writes: trigger-free, FK-free copies of the real ones. */
const FLOOR_TABLES: readonly (readonly [string, string])[] = [
  ['stripe_events', 'private.stripe_events'], ['payments', 'private.payments'], ['bookings', 'public.bookings'],
  ['ledger_accounts', 'private.ledger_accounts'], ['ledger_transactions', 'private.ledger_transactions'],
  ['ledger_entries', 'private.ledger_entries'], ['ledger_balances', 'private.ledger_balances'],
  ['notifications', 'public.notifications'], ['alert_deliveries', 'private.alert_deliveries'],
  ['conversations', 'public.conversations'], ['conversation_members', 'public.conversation_members'],
  ['payouts', 'private.payouts'], ['payment_commands', 'private.payment_commands'],
];

/**
 * Creates the floor's tables and copies into them what its writes start from: every bench
 * payment and booking (before any is applied), the event chats, one ledger account per kind the
 * paths post to (ids numbered here: the copies have no identity) and the hosts' balance rows.
 */
async function createFloor(admin: pg.Client): Promise<void> {
  await admin.query('drop schema if exists bench_floor cascade; create schema bench_floor');
  for (const [name, source] of FLOOR_TABLES) {
    await admin.query(`create table bench_floor.${name} (like ${source} including defaults including constraints including indexes)`);
  }
  await admin.query("insert into bench_floor.payments select * from private.payments where payment_intent_id like 'pi_bench%'");
  await admin.query('insert into bench_floor.bookings select b.* from public.bookings b join bench_floor.payments p on p.booking_id = b.id');
  await admin.query(`insert into bench_floor.conversations select c.* from public.conversations c
                      where c.event_id in (select distinct event_id from bench_floor.payments)`);
  await admin.query(`
    insert into bench_floor.ledger_accounts (id, kind, host_id, currency)
    select row_number() over (order by a.kind, a.host_id), a.kind, a.host_id, 'EUR'
      from (select k.kind, null::uuid as host_id from (values ('platform_cash'), ('platform_fees')) as k (kind)
            union all
            select k.kind, h.host_id from (select distinct host_id from bench_floor.payments) as h
             cross join (values ('host_pending'), ('host_available'), ('host_in_transit')) as k (kind)) as a`);
  await admin.query("insert into bench_floor.ledger_balances (account_id, balance) select id, 0 from bench_floor.ledger_accounts where host_id is not null");
  await admin.query('create sequence bench_floor.ids');
  await admin.query('grant usage on schema bench_floor to postgres, service_role, authenticated');
  await admin.query('grant all on all sequences in schema bench_floor to postgres, service_role, authenticated');
  await admin.query('grant all on all tables in schema bench_floor to postgres, service_role, authenticated');
}

/** One payment_intent.succeeded by its contract's writes alone (see the docblock); the cached balance last. */
const FLOOR_APPLY_SQL = `
with ev as (
  insert into bench_floor.stripe_events (id, endpoint, type, livemode, api_version, stripe_created_at, object_id, payload, status, result, processed_at)
  values ($1, 'platform', $2::jsonb ->> 'type', false, $2::jsonb ->> 'api_version', to_timestamp(($2::jsonb ->> 'created')::bigint),
          $2::jsonb -> 'data' -> 'object' ->> 'id', $2::jsonb, 'processed', 'applied', now())
  returning object_id),
pay as (
  update bench_floor.payments p
     set status = 'succeeded', stripe_status = 'succeeded', amount_cents = r.amount, settlement_amount_cents = r.amount,
         platform_fee_cents = (r.amount * p.platform_fee_bps + 5000) / 10000,
         host_share_cents = r.amount - (r.amount * p.platform_fee_bps + 5000) / 10000,
         charge_id = $2::jsonb -> 'data' -> 'object' ->> 'latest_charge', succeeded_at = now(), intent_synced_at = now(), updated_at = now()
    from ev cross join (select ($2::jsonb -> 'data' -> 'object' ->> 'amount_received')::bigint as amount) as r
   where p.payment_intent_id = ev.object_id
  returning p.id, p.booking_id, p.host_id, p.guest_id, p.event_id, p.payment_intent_id, p.settlement_currency as currency,
            p.settlement_amount_cents as amount, p.platform_fee_cents as fee),
tx as (
  insert into bench_floor.ledger_transactions (id, idempotency_key, kind, host_id, payment_id, booking_id, stripe_object_id, stripe_event_id)
  select nextval('bench_floor.ids'), 'payment:' || pay.payment_intent_id || ':succeeded', 'payment', pay.host_id, pay.id, pay.booking_id,
         pay.payment_intent_id, $1
    from pay
  returning id),
entries as (
  insert into bench_floor.ledger_entries (id, transaction_id, account_id, currency, amount)
  select nextval('bench_floor.ids'), tx.id, a.id, pay.currency, v.amount
    from tx cross join pay
   cross join lateral (values ('platform_cash', null::uuid, pay.amount), ('host_pending', pay.host_id, -(pay.amount - pay.fee)),
                              ('platform_fees', null::uuid, -pay.fee)) as v (kind, host_id, amount)
   cross join lateral (select x.id from bench_floor.ledger_accounts x
                        where x.kind = v.kind and x.currency = pay.currency and x.host_id is not distinct from v.host_id limit 1) as a
  returning 1),
booking as (
  update bench_floor.bookings b set status = 'confirmed', confirmed_at = now(), hold_expires_at = null, updated_at = now()
    from pay where b.id = pay.booking_id
  returning b.id, b.event_id, b.guest_id),
notes as (
  insert into bench_floor.notifications (user_id, type, title, body, data)
  select pay.guest_id, v.type, v.title, v.body,
         jsonb_build_object('booking_id', pay.booking_id, 'event_id', pay.event_id, 'payment_id', pay.id, 'amount_cents', pay.amount,
                            'currency', pay.currency, 'dedupe_key', v.type || ':' || pay.id::text)
    from pay cross join (values ('booking_confirmed', 'You''re going to Bench night', null),
                                ('payment_succeeded', 'Receipt for Bench night', 'You paid 25.00 EUR.')) as v (type, title, body)
  returning *),
deliveries as (
  insert into bench_floor.alert_deliveries (notification_id, user_id, type, channel, dedupe_key)
  select n.id, n.user_id, n.type, 'email', n.data ->> 'dedupe_key' from notes n
  returning 1),
member as (
  insert into bench_floor.conversation_members (conversation_id, user_id, role)
  select c.id, booking.guest_id, 'member' from booking join bench_floor.conversations c on c.event_id = booking.event_id
  returning conversation_id, user_id),
sent as (
  select realtime.send(to_jsonb(n), 'notification_created', 'user:' || n.user_id::text, true) from notes n
  union all
  select realtime.send(jsonb_build_object('conversation_id', m.conversation_id), 'conversation_added', 'user:' || m.user_id::text, true) from member m)
update bench_floor.ledger_balances b set balance = b.balance - (select pay.amount - pay.fee from pay), updated_at = now()
 where b.account_id = (select x.id from bench_floor.ledger_accounts x join pay on x.host_id = pay.host_id and x.currency = pay.currency
                        where x.kind = 'host_pending')
   and (select count(*) from entries) + (select count(*) from deliveries) + (select count(*) from sent) > 0`;

async function floorApply(client: pg.Client, payload: string): Promise<void> {
  await client.query('begin');
  try {
    await applyRequestContext(client, SERVICE_ROLE_CLAIMS);
    const { rowCount } = await client.query({ name: 'floor_apply', text: FLOOR_APPLY_SQL, values: [JSON.parse(payload).id as string, payload] });
    if (rowCount !== 1) throw new Error('floor: the event matched no payment');
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** One request_payout by its contract's writes alone: the available row's decrement is the lock and the check. */
const FLOOR_PAYOUT_SQL = `
with avail as (
  update bench_floor.ledger_balances set balance = balance + $3, updated_at = now()
   where account_id = $1 and balance + $3 <= 0
  returning account_id),
payout as (
  insert into bench_floor.payouts (host_id, account_id, amount_cents, currency)
  select $4::uuid, $5, $3, 'EUR' from avail
  returning id),
tx as (
  insert into bench_floor.ledger_transactions (id, idempotency_key, kind, host_id, payout_id)
  select nextval('bench_floor.ids'), 'payout:' || payout.id::text || ':requested', 'payout_requested', $4::uuid, payout.id from payout
  returning id),
entries as (
  insert into bench_floor.ledger_entries (id, transaction_id, account_id, currency, amount)
  select nextval('bench_floor.ids'), tx.id, v.account_id, 'EUR', v.amount from tx cross join (values ($1::bigint, $3::bigint), ($2::bigint, -$3::bigint)) as v (account_id, amount)
  returning 1),
transit as (
  update bench_floor.ledger_balances set balance = balance - $3, updated_at = now()
   where account_id = $2 and exists (select 1 from tx)
  returning 1),
command as (
  insert into bench_floor.payment_commands (kind, priority, payload, idempotency_key, host_id, payout_id, max_attempts)
  select 'create_payout', 1, jsonb_build_object('amount', $3::bigint, 'currency', 'eur', 'stripe_account', $5::text,
                                                'metadata', jsonb_build_object('payout_id', payout.id::text, 'host_id', $4::text)),
         'create_payout:' || payout.id::text, $4::uuid, payout.id, 8
    from payout
  returning 1)
select (select count(*) from avail) as ok, (select count(*) from entries) + (select count(*) from transit) + (select count(*) from command) as written`;

interface PayoutRace {
  ok: number;
  refused: number;
  other: string[];
  perSecond: number;
  p95Ms: number;
}

async function payoutRace(url: string, connections: number, attempts: number, request: (client: pg.Client) => Promise<'ok' | 'refused'>): Promise<PayoutRace> {
  const clients = await Promise.all(Array.from({ length: connections }, async () => {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-payouts' });
    await client.connect();
    return client;
  }));
  const outcome: PayoutRace = { ok: 0, refused: 0, other: [], perSecond: 0, p95Ms: 0 };
  const latencies: number[] = [];
  try {
    const started = performance.now();
    await Promise.all(clients.map(async (client) => {
      for (let i = 0; i < attempts; i += 1) {
        const t = performance.now();
        try {
          const result = await request(client);
          if (result === 'ok') outcome.ok += 1;
          else outcome.refused += 1;
        } catch (error) {
          await client.query('rollback').catch(() => undefined);
          outcome.other.push(error instanceof Error ? error.message : String(error));
        }
        latencies.push(performance.now() - t);
      }
    }));
    outcome.perSecond = (connections * attempts) / ((performance.now() - started) / 1000);
    outcome.p95Ms = percentile(latencies, 95);
    return outcome;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

export async function paymentsBench(env: PaymentsBenchEnv, options: Partial<PaymentsBenchOptions> = {}): Promise<BenchRow[]> {
  const opts: PaymentsBenchOptions = { ...DEFAULTS, ...options };
  const admin = new pg.Client({ connectionString: env.adminUrl, application_name: 'bench-payments-setup' });
  await admin.connect();
  try {
    await admin.query('create schema if not exists bench_payments');
    await admin.query('create table if not exists bench_payments.events (id text primary key, payload jsonb not null)');
    await admin.query('grant usage on schema bench_payments to postgres; grant all on bench_payments.events to postgres');
    await admin.query('create table if not exists bench_payments.counter (id int primary key, available bigint not null check (available >= 0))');
    await admin.query('grant all on bench_payments.counter to postgres');

    const n = opts.eventsPerRound;
    opts.log(`payments bench: creating ${opts.rounds * 2 + 1} sets of ${n} paid bookings`);
    const hotSets: string[][] = [];
    const spreadSets: string[][] = [];
    for (let r = 0; r < opts.rounds; r += 1) {
      hotSets.push(await createPayments(admin, `hot${r}`, 1, n));
      spreadSets.push(await createPayments(admin, `spread${r}`, 50, n));
    }
    const warm = await createPayments(admin, 'warm', 5, 300);
    const profiledSet = opts.profiler === undefined ? [] : await createPayments(admin, 'prof', 50, 500);
    await createFloor(admin);
    await admin.query('analyze');

    opts.log('payments bench: warming up');
    await throughput(env.appUrl, opts.workers, warm.map((i) => succeededEvent(i, 0)), ingest);
    await throughput(env.appUrl, opts.workers, warm.map((i) => succeededEvent(i, 0)), floorApply);
    await throughput(env.appUrl, opts.workers, warm.map((i) => succeededEvent(i, 1)), bareInsert);

    const bare: number[] = [];
    const hot: number[] = [];
    const spread: number[] = [];
    const duplicates: number[] = [];
    const floorHot: number[] = [];
    const floorSpread: number[] = [];
    for (let r = 0; r < opts.rounds; r += 1) {
      const hotEvents = (hotSets[r] ?? []).map((i) => succeededEvent(i, 0));
      const spreadEvents = (spreadSets[r] ?? []).map((i) => succeededEvent(i, 0));
      bare.push(await throughput(env.appUrl, opts.workers, (spreadSets[r] ?? []).map((i) => succeededEvent(i, 9)), bareInsert));
      // Alternating which of Rally and its floor goes first, so neither always meets the warmer cache.
      if (r % 2 === 0) floorHot.push(await throughput(env.appUrl, opts.workers, hotEvents, floorApply));
      hot.push(await throughput(env.appUrl, opts.workers, hotEvents, ingest));
      if (r % 2 === 1) floorHot.push(await throughput(env.appUrl, opts.workers, hotEvents, floorApply));
      if (r % 2 === 0) floorSpread.push(await throughput(env.appUrl, opts.workers, spreadEvents, floorApply));
      spread.push(await throughput(env.appUrl, opts.workers, spreadEvents, ingest));
      if (r % 2 === 1) floorSpread.push(await throughput(env.appUrl, opts.workers, spreadEvents, floorApply));
      duplicates.push(await throughput(env.appUrl, opts.workers, hotEvents, ingest));
      opts.log(`payments bench: round ${r + 1}: bare ${bare.at(-1)?.toFixed(0)}/s, one host ${hot.at(-1)?.toFixed(0)}/s ` +
        `(floor ${floorHot.at(-1)?.toFixed(0)}/s), 50 hosts ${spread.at(-1)?.toFixed(0)}/s (floor ${floorSpread.at(-1)?.toFixed(0)}/s), ` +
        `redeliveries ${duplicates.at(-1)?.toFixed(0)}/s`);
    }
    if (opts.profiler !== undefined) {
      opts.log('payments bench: profiled pass of the webhook apply');
      const events = profiledSet.map((i) => succeededEvent(i, 0));
      opts.profiles?.push(await opts.profiler.profile('webhook apply (payment_intent.succeeded, 50 hosts)', events.length, [], async () => {
        await throughput(env.appUrl, opts.workers, events, ingest);
      }));
    }
    const { rows: check } = await admin.query<{ confirmed: string; posted: string; unbalanced: string }>(`
      select (select count(*) from public.bookings b join private.payments p on p.booking_id = b.id
               where p.payment_intent_id like 'pi_bench%' and b.status = 'confirmed') as confirmed,
             (select count(*) from private.ledger_transactions where idempotency_key like 'payment:pi_bench%') as posted,
             (select count(*) from (select 1 from private.ledger_entries group by transaction_id, currency having sum(amount) <> 0) u) as unbalanced`);
    const expected = opts.rounds * 2 * n + warm.length + profiledSet.length;
    const applyOk = Number(check[0]?.confirmed) === expected && Number(check[0]?.posted) === expected && Number(check[0]?.unbalanced) === 0;
    const { rows: [floorCheck] } = await admin.query<{ confirmed: string; entries: string; members: string; messages: string }>(`
      select (select count(*) from bench_floor.bookings where status = 'confirmed') as confirmed,
             (select count(*) from bench_floor.ledger_entries) as entries,
             (select count(*) from bench_floor.conversation_members) as members,
             (select count(*) from bench_floor.alert_deliveries) as messages`);
    const floorExpected = opts.rounds * 2 * n + warm.length;
    const floorOk = Number(floorCheck?.confirmed) === floorExpected && Number(floorCheck?.entries) === 3 * floorExpected &&
      Number(floorCheck?.members) === floorExpected && Number(floorCheck?.messages) === 2 * floorExpected;
    opts.log(`payments bench: floor wrote ${floorCheck?.confirmed} confirmations, ${floorCheck?.entries} entries, ${floorCheck?.members} chat members, ` +
      `${floorCheck?.messages} alert deliveries (expected ${floorExpected} payments)`);
    opts.log(`payments bench: ${check[0]?.confirmed} bookings confirmed, ${check[0]?.posted} payments booked once each (expected ${expected}), ${check[0]?.unbalanced} unbalanced`);

    // request_payout race
    opts.log(`payments bench: request_payout, ${opts.payoutConnections} connections × ${opts.payoutAttemptsPerConnection} attempts`);
    const { rows: [host] } = await admin.query<{ id: string }>("select id from public.profiles where username = 'b_hot0_h_1'");
    if (host === undefined) throw new Error('bench host missing');
    const funded = opts.payoutsAvailable * 100;
    await admin.query(`select private.post_ledger_transaction('bench:fund', 'adjustment',
      private.ledger_entries_of(private.ledger_entry('platform_cash', null, 'EUR', $2::bigint), private.ledger_entry('host_available', $1::uuid, 'EUR', -$2::bigint)))`,
      [host.id, funded]);
    const { rows: [before] } = await admin.query<{ available: string }>("select available from private.host_wallet($1, 'EUR')", [host.id]);
    const payoutAs = (hostId: string) => async (client: pg.Client): Promise<'ok' | 'refused'> => {
      await client.query('begin');
      await applyRequestContext(client, { role: 'authenticated', sub: hostId, aud: 'authenticated', app_metadata: {} });
      try {
        await client.query("select * from public.request_payout(100, 'EUR')");
        await client.query('commit');
        return 'ok';
      } catch (error) {
        await client.query('rollback');
        if ((error as { hint?: string }).hint === 'insufficient_funds') return 'refused';
        throw error;
      }
    };
    const race = await payoutRace(env.appUrl, opts.payoutConnections, opts.payoutAttemptsPerConnection, payoutAs(host.id));
    const { rows: [after] } = await admin.query<{ available: string; in_transit: string }>("select available, in_transit from private.host_wallet($1, 'EUR')", [host.id]);
    const startAvailable = Number(before?.available);
    const expectedOk = Math.min(Math.floor(startAvailable / 100), opts.payoutConnections * opts.payoutAttemptsPerConnection);
    const payoutOk = race.ok === expectedOk && race.other.length === 0 && Number(after?.available) === startAvailable - race.ok * 100 && Number(after?.available) >= 0;
    opts.log(`payments bench: request_payout: ${race.ok} paid out (expected ${expectedOk}), ${race.refused} insufficient_funds, ` +
      `${race.other.length} other errors${race.other.length > 0 ? ` (${race.other[0]})` : ''}; available ${before?.available} → ${after?.available}`);

    await admin.query('insert into bench_payments.counter values (1, $1) on conflict (id) do update set available = excluded.available', [startAvailable]);
    const baseline = await payoutRace(env.appUrl, opts.payoutConnections, opts.payoutAttemptsPerConnection, async (client) => {
      await client.query('begin');
      const { rows } = await client.query<{ available: string }>('select available from bench_payments.counter where id = 1 for update');
      if (Number(rows[0]?.available) < 100) {
        await client.query('rollback');
        return 'refused';
      }
      await client.query('update bench_payments.counter set available = available - 100 where id = 1');
      await client.query('commit');
      return 'ok';
    });

    // The contract floor of request_payout: the same race on the floor's copy of the balance.
    const { rows: [floorAccounts] } = await admin.query<{ available: string; transit: string }>(`
      select (select id from bench_floor.ledger_accounts where kind = 'host_available' and host_id = $1) as available,
             (select id from bench_floor.ledger_accounts where kind = 'host_in_transit' and host_id = $1) as transit`, [host.id]);
    await admin.query('update bench_floor.ledger_balances set balance = $2 where account_id = $1', [floorAccounts?.available, -startAvailable]);
    const floorPayouts = await payoutRace(env.appUrl, opts.payoutConnections, opts.payoutAttemptsPerConnection, async (client) => {
      await client.query('begin');
      await applyRequestContext(client, { role: 'authenticated', sub: host.id, aud: 'authenticated', app_metadata: {} });
      const { rows } = await client.query<{ ok: string; written: string }>({ name: 'floor_payout', text: FLOOR_PAYOUT_SQL,
        values: [floorAccounts?.available, floorAccounts?.transit, 100, host.id, `acct_bench${host.id.replace(/-/g, '')}`] });
      if (Number(rows[0]?.ok) !== 1) {
        await client.query('rollback');
        return 'refused';
      }
      await client.query('commit');
      return 'ok';
    });
    const { rows: [floorAfter] } = await admin.query<{ available: string }>('select -balance as available from bench_floor.ledger_balances where account_id = $1', [floorAccounts?.available]);
    const floorPayoutOk = floorPayouts.ok === expectedOk && floorPayouts.other.length === 0 && Number(floorAfter?.available) === startAvailable - floorPayouts.ok * 100;
    opts.log(`payments bench: request_payout floor: ${floorPayouts.ok} paid out, ${floorPayouts.refused} refused, ${floorPayouts.other.length} other errors` +
      `${floorPayouts.other.length > 0 ? ` (${floorPayouts.other[0]})` : ''}; ${floorPayouts.perSecond.toFixed(0)}/s`);

    // The profiled pass: the same race on a second host's balance, checked the same way.
    let profiledPayoutOk = true;
    if (opts.profiler !== undefined) {
      const { rows: [second] } = await admin.query<{ id: string }>("select id from public.profiles where username = 'b_warm_h_1'");
      if (second === undefined) throw new Error('bench host missing');
      await admin.query(`select private.post_ledger_transaction('bench:fund2', 'adjustment',
        private.ledger_entries_of(private.ledger_entry('platform_cash', null, 'EUR', $2::bigint), private.ledger_entry('host_available', $1::uuid, 'EUR', -$2::bigint)))`,
        [second.id, funded]);
      const { rows: [start] } = await admin.query<{ available: string }>("select available from private.host_wallet($1, 'EUR')", [second.id]);
      let profiled: PayoutRace | undefined;
      opts.log('payments bench: profiled pass of request_payout');
      const calls = opts.payoutConnections * opts.payoutAttemptsPerConnection;
      opts.profiles?.push(await opts.profiler.profile(`request_payout, ${opts.payoutConnections}-way`, calls, [], async () => {
        profiled = await payoutRace(env.appUrl, opts.payoutConnections, opts.payoutAttemptsPerConnection, payoutAs(second.id));
      }));
      const { rows: [end] } = await admin.query<{ available: string }>("select available from private.host_wallet($1, 'EUR')", [second.id]);
      const ok = Math.min(Math.floor(Number(start?.available) / 100), calls);
      profiledPayoutOk = profiled !== undefined && profiled.ok === ok && profiled.other.length === 0 &&
        Number(end?.available) === Number(start?.available) - profiled.ok * 100 && Number(end?.available) >= 0;
    }

    const median = (xs: number[]): number => percentile(xs, 50);
    const perRound = (xs: readonly number[], ys: readonly number[]): string =>
      spreadOf(xs.map((x, i) => x / (ys[i] ?? Number.NaN)));
    const spreads = new Map<string, string>([
      ['webhook apply, one host (store + ledger + confirm)', `${perRound(hot, bare)}; Rally/floor ${perRound(hot, floorHot)}`],
      ['webhook apply, 50 hosts', `${perRound(spread, bare)}; Rally/floor ${perRound(spread, floorSpread)}`],
      ['webhook contract floor, one host', perRound(floorHot, bare)],
      ['webhook contract floor, 50 hosts', perRound(floorSpread, bare)],
    ]);
    return [
      row('webhook apply, one host (store + ledger + confirm)', median(hot), 'events/s', 'bare INSERT of the event', median(bare),
        'informative; invariant: each payment booked once', applyOk),
      row('webhook apply, 50 hosts', median(spread), 'events/s', 'bare INSERT of the event', median(bare), 'informative', applyOk),
      row('webhook contract floor, one host', median(floorHot), 'events/s', 'bare INSERT of the event', median(bare),
        'informative; invariant: the floor wrote every contract row', floorOk),
      row('webhook contract floor, 50 hosts', median(floorSpread), 'events/s', 'bare INSERT of the event', median(bare), 'informative', floorOk),
      row('request_payout contract floor', floorPayouts.perSecond, 'requests/s', 'hot-row decrement under FOR UPDATE', baseline.perSecond,
        'informative; invariant: the floor never overdraws either', floorPayoutOk),
      row('webhook redelivery (duplicate, nothing applied)', median(duplicates), 'events/s', 'bare INSERT of the event', median(bare), 'informative', true),
      row(`request_payout, ${opts.payoutConnections}-way contention`, race.perSecond, 'requests/s', 'hot-row decrement under FOR UPDATE',
        baseline.perSecond, 'invariant: never overdrawn, exact count', payoutOk && profiledPayoutOk),
      row(`request_payout p95 latency, ${opts.payoutConnections}-way`, race.p95Ms, 'ms', 'hot-row decrement p95', baseline.p95Ms, 'informative', true),
    ].map((r) => ({ ...r, spread: spreads.get(r.name) }));
  } finally {
    await admin.end();
  }
}

export function formatRows(rows: BenchRow[]): string {
  const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
  return rows
    .map((r) => `${r.met ? 'ok  ' : 'MISS'} ${r.name}: ${fmt(r.value)} ${r.unit} | baseline ${r.baseline}: ${fmt(r.baselineValue)} ${r.unit} | ratio ${r.ratio.toFixed(2)}×${r.spread ? ` (${r.spread})` : ''} | goal ${r.goal}`)
    .join('\n');
}

/** The rows of issue 16 this benchmark measures, with their goals and contract floors. */
function issueRows(rows: readonly BenchRow[], profiles: readonly PathProfile[]): PathRow[] {
  const find = (prefix: string): BenchRow | undefined => rows.find((r) => r.name.startsWith(prefix));
  const out: PathRow[] = [];
  const fmt = (n: number): string => Math.round(n).toLocaleString('en');
  const webhook = profiles.find((p) => p.path.startsWith('webhook'));
  const payout = profiles.find((p) => p.path.startsWith('request_payout'));
  const withFloor = (r: BenchRow, floor: BenchRow | undefined, unit: string): Pick<PathRow, 'floor' | 'floorRatio' | 'rallyToFloor'> =>
    floor === undefined ? {} : { floor: `${fmt(floor.value)}${unit}`, floorRatio: floor.ratio, rallyToFloor: r.value / floor.value };
  for (const [prefix, floorName, label] of [
    ['webhook apply, one host', 'webhook contract floor, one host', 'webhook apply (`payment_intent.succeeded`), one host'],
    ['webhook apply, 50 hosts', 'webhook contract floor, 50 hosts', 'webhook apply (`payment_intent.succeeded`), 50 hosts'],
  ] as const) {
    const r = find(prefix);
    if (r !== undefined) {
      out.push({ path: label, rally: `${fmt(r.value)} events/s`, baseline: `bare insert of the event ${fmt(r.baselineValue)}/s`, ratio: r.ratio,
        goal: '≥ 0.30×', met: r.ratio >= 0.3, slowest: slowestLine(webhook), ...(r.spread ? { spread: r.spread } : {}),
        ...withFloor(r, find(floorName), ' events/s') });
    }
  }
  const p = find('request_payout,');
  if (p !== undefined) {
    out.push({ path: '`request_payout`, 20-way on one balance', rally: `${fmt(p.value)}/s`, baseline: `hot-row decrement under lock ${fmt(p.baselineValue)}/s`,
      ratio: p.ratio, goal: '≥ 0.50×', met: p.ratio >= 0.5, slowest: slowestLine(payout), ...withFloor(p, find('request_payout contract floor'), '/s') });
  }
  return out;
}

async function main(): Promise<number> {
  const { withThrowawayDb } = await import('../scripts/lib/throwaway.ts');
  const { logLine } = await import('../scripts/lib/cli.ts');
  const profiles: PathProfile[] = [];
  const rows = await withThrowawayDb({ testHelpers: false, log: logLine }, async (db) => {
    const admin = new pg.Client({ connectionString: db.adminUrl, application_name: 'bench-payments-profiler' });
    await admin.connect();
    try {
      const profiler = await createProfiler(admin);
      return await paymentsBench({ appUrl: db.appUrl, adminUrl: db.adminUrl }, { log: logLine, profiler, profiles });
    } finally {
      await admin.end();
    }
  });
  process.stdout.write(`\n${formatRows(rows)}\n`);
  const invariants: Invariant[] = rows.filter((r) => r.goal.includes('invariant')).map((r) => ({
    name: r.name, ok: r.met, detail: r.goal.replace(/^informative; /, ''),
  }));
  return printReport({ bench: 'payments', rows: issueRows(rows, profiles), invariants, extra: { rows } }, profiles);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then((code) => { process.exitCode = code; }, (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
