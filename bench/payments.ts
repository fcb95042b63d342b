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
 *   tsx bench/payments.ts      # on its own throwaway cluster
 *
 * `paymentsBench(env)` is the module entry for a bench runner: it receives a migrated database
 * and returns the rows. Loops are bounded; connections go to 127.0.0.1 only.
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { applyRequestContext, SERVICE_ROLE_CLAIMS } from '../functions/_shared/db.ts';
import { createProfiler, type PathProfile, type Profiler } from './lib/profile.ts';
import { printReport, slowestLine, type Invariant, type PathRow } from './lib/report.ts';

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
    await admin.query('analyze');

    opts.log('payments bench: warming up');
    await throughput(env.appUrl, opts.workers, warm.map((i) => succeededEvent(i, 0)), ingest);
    await throughput(env.appUrl, opts.workers, warm.map((i) => succeededEvent(i, 1)), bareInsert);

    const bare: number[] = [];
    const hot: number[] = [];
    const spread: number[] = [];
    const duplicates: number[] = [];
    for (let r = 0; r < opts.rounds; r += 1) {
      const hotEvents = (hotSets[r] ?? []).map((i) => succeededEvent(i, 0));
      bare.push(await throughput(env.appUrl, opts.workers, (spreadSets[r] ?? []).map((i) => succeededEvent(i, 9)), bareInsert));
      hot.push(await throughput(env.appUrl, opts.workers, hotEvents, ingest));
      spread.push(await throughput(env.appUrl, opts.workers, (spreadSets[r] ?? []).map((i) => succeededEvent(i, 0)), ingest));
      duplicates.push(await throughput(env.appUrl, opts.workers, hotEvents, ingest));
      opts.log(`payments bench: round ${r + 1}: bare ${bare.at(-1)?.toFixed(0)}/s, one host ${hot.at(-1)?.toFixed(0)}/s, ` +
        `50 hosts ${spread.at(-1)?.toFixed(0)}/s, redeliveries ${duplicates.at(-1)?.toFixed(0)}/s`);
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
    return [
      row('webhook apply, one host (store + ledger + confirm)', median(hot), 'events/s', 'bare INSERT of the event', median(bare),
        'informative; invariant: each payment booked once', applyOk),
      row('webhook apply, 50 hosts', median(spread), 'events/s', 'bare INSERT of the event', median(bare), 'informative', applyOk),
      row('webhook redelivery (duplicate, nothing applied)', median(duplicates), 'events/s', 'bare INSERT of the event', median(bare), 'informative', true),
      row(`request_payout, ${opts.payoutConnections}-way contention`, race.perSecond, 'requests/s', 'hot-row decrement under FOR UPDATE',
        baseline.perSecond, 'invariant: never overdrawn, exact count', payoutOk && profiledPayoutOk),
      row(`request_payout p95 latency, ${opts.payoutConnections}-way`, race.p95Ms, 'ms', 'hot-row decrement p95', baseline.p95Ms, 'informative', true),
    ];
  } finally {
    await admin.end();
  }
}

export function formatRows(rows: BenchRow[]): string {
  const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
  return rows
    .map((r) => `${r.met ? 'ok  ' : 'MISS'} ${r.name}: ${fmt(r.value)} ${r.unit} | baseline ${r.baseline}: ${fmt(r.baselineValue)} ${r.unit} | ratio ${r.ratio.toFixed(2)}× | goal ${r.goal}`)
    .join('\n');
}

/** The rows of issue 16 this benchmark measures, with their goals. */
function issueRows(rows: readonly BenchRow[], profiles: readonly PathProfile[]): PathRow[] {
  const find = (prefix: string): BenchRow | undefined => rows.find((r) => r.name.startsWith(prefix));
  const out: PathRow[] = [];
  const fmt = (n: number): string => Math.round(n).toLocaleString('en');
  const webhook = profiles.find((p) => p.path.startsWith('webhook'));
  const payout = profiles.find((p) => p.path.startsWith('request_payout'));
  for (const [prefix, label] of [['webhook apply, one host', 'webhook apply (`payment_intent.succeeded`), one host'], ['webhook apply, 50 hosts', 'webhook apply (`payment_intent.succeeded`), 50 hosts']] as const) {
    const r = find(prefix);
    if (r !== undefined) {
      out.push({ path: label, rally: `${fmt(r.value)} events/s`, baseline: `bare insert of the event ${fmt(r.baselineValue)}/s`, ratio: r.ratio, goal: '≥ 0.30×', met: r.ratio >= 0.3, slowest: slowestLine(webhook) });
    }
  }
  const p = find('request_payout,');
  if (p !== undefined) {
    out.push({ path: '`request_payout`, 20-way on one balance', rally: `${fmt(p.value)}/s`, baseline: `hot-row decrement under lock ${fmt(p.baselineValue)}/s`, ratio: p.ratio, goal: '≥ 0.50×', met: p.ratio >= 0.5, slowest: slowestLine(payout) });
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
