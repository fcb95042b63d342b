/**
 * Social and alerts benchmark (`tsx bench/social.ts`, or `socialBench(env)` from a runner):
 *
 *   1. Promotion fan-out: a host with 100,000 followers publishes an event; the promotion queue
 *      job (private.process_promotion_queue) notifies every follower in batches — one
 *      notification each, the outbox deliveries their preferences allow, a live broadcast each.
 *      Baselines in the same run: (a) a bare INSERT … SELECT of the same 100,000 notification
 *      rows into public.notifications with the fan-out trigger disabled (rolled back), and (b)
 *      bare INSERTs of every row the fan-out wrote (notifications, deliveries, broadcast
 *      messages) into trigger-free copies of those tables. Ratio = baseline time / fan-out time
 *      (goal ≥ 0.5× for (a)). (b) is the path's contract floor: it writes exactly the rows the
 *      fan-out must write — one public.notifications row per follower, one
 *      private.alert_deliveries row per channel the follower allows, one realtime.messages row
 *      (notification_created on the follower's topic) per follower not muted in-app — as three
 *      plain INSERT … SELECTs in one transaction (rolled back): the notifications and deliveries
 *      into `like … including all` copies (indexes, defaults and checks kept; no triggers, no
 *      foreign keys, no lookups), the broadcasts into realtime.messages itself, as
 *      realtime.send writes them (the path writes them the same way, set-based). The row prints
 *      floor/baseline = (a) / (b) and Rally/floor = (b) / fan-out. A profiled pass (a second
 *      event to the same followers, pg_stat_statements track = all, not timed) gives the
 *      slowest statements. Bookings of the same event run during the fan-out and are compared
 *      with the same number of bookings before it: the fan-out must not block them.
 *   2. Dispatcher throughput: the real dispatch loop (claims, templates, the sink provider,
 *      outcomes) drains the deliveries the fan-out queued, in deliveries per second; baseline: a
 *      bare SKIP LOCKED claim-and-mark-sent loop over the same number of rows.
 *
 * Setup (100,000 users, profiles and follows) is bulk-loaded as the superuser with
 * session_replication_role = replica for that transaction only and is not timed. 127.0.0.1 only;
 * every loop is bounded. Standalone it runs on its own throwaway cluster.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createProfiler, type PathProfile } from './lib/profile.ts';
import { printReport, slowestLine, type PathRow } from './lib/report.ts';
import { runDispatch } from '../functions/_shared/alerts/dispatcher.ts';
import { claimDeliveries, completeDeliveries, recordSinkAlerts } from '../functions/_shared/alerts/outbox.ts';
import { createSinkProvider } from '../functions/_shared/alerts/providers/sink.ts';
import { applyRequestContext, withServiceRole } from '../functions/_shared/db.ts';

export interface SocialBenchEnv {
  /** role postgres (what functions and jobs use) */
  appUrl: string;
  /** the superuser, for bulk setup and baselines */
  adminUrl: string;
  log?: (line: string) => void;
}

export interface SocialBenchOptions {
  followers: number;
  batchSize: number;
  bookers: number;
  dispatchBudgetMs: number;
}

export const DEFAULT_SOCIAL_BENCH: SocialBenchOptions = { followers: 100_000, batchSize: Number(process.env.BENCH_SOCIAL_BATCH ?? 5_000), bookers: 200, dispatchBudgetMs: 15_000 };

export interface SocialBenchOutcome {
  rows: SocialBenchRow[];
  /** the promotion fan-out's profiled pass */
  profile?: PathProfile;
}

export interface SocialBenchRow {
  benchmark: string;
  measure: string;
  value: number;
  unit: string;
}

const since = (start: number): number => performance.now() - start;
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: since(start), value };
}

interface Fixture {
  hostId: string;
  eventId: string;
  ticketTypeId: string;
  fans: string[];
}

/** 100,000 followers with a realistic spread of preferences, bulk-loaded (not timed). */
async function setUp(admin: pg.Pool, followers: number, bookers: number): Promise<Fixture> {
  const host = await admin.query<{ id: string }>(
    `insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data,
                             created_at, updated_at, is_sso_user, is_anonymous)
     values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', 'bench_host@bench.example',
             now(), '{"provider":"email","providers":["email"]}', '{"username":"bench_social_host","display_name":"Bench Host"}',
             now(), now(), false, false)
     returning id`);
  const hostId = host.rows[0]!.id;
  await admin.query("update public.profiles set is_host = true, host_status = 'active' where id = $1", [hostId]);

  const client = await admin.connect();
  try {
    await client.query('begin');
    // Bulk load: skip row triggers (sign-up, counts) for this transaction only; counts set below.
    await client.query('set local session_replication_role = replica');
    await client.query(
      `insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data,
                               created_at, updated_at, is_sso_user, is_anonymous)
       select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', 'fan_' || g || '@bench.example',
              now(), '{"provider":"email","providers":["email"]}', jsonb_build_object('username', 'fan_' || g), now(), now(), false, false
         from generate_series(1, $1::int) g`, [followers]);
    await client.query(
      `insert into public.profiles (id, username, display_name, timezone, locale, following_count)
       select u.id, split_part(u.email, '@', 1), 'Fan ' || split_part(split_part(u.email, '@', 1), '_', 2),
              (array['Europe/London', 'Europe/Lisbon', 'America/New_York', 'Asia/Tokyo'])[1 + (hashtext(u.email) & 3)],
              (array['en', 'pt', 'es', 'en'])[1 + ((hashtext(u.email) >> 2) & 3)], 1
         from auth.users u where u.email like 'fan\\_%@bench.example'`);
    await client.query(
      `insert into public.follows (follower_id, followee_id, created_at)
       select p.id, $1, now() - (random() * interval '300 days') from public.profiles p where p.username like 'fan\\_%'`, [hostId]);
    await client.query('update public.profiles set followers_count = $2 where id = $1', [hostId, followers]);
    // 10% turned announcement emails off, 5% muted them in-app, 10% gave a phone and want them
    // by SMS too (a fifth of those are in quiet hours now).
    await client.query(
      `insert into public.notification_preferences (user_id, type, channel, enabled)
       select id, 'event_published', 'email', false from public.profiles where username like 'fan\\_%' and hashtext(id::text) % 10 = 0
       union all
       select id, 'event_published', 'in_app', false from public.profiles where username like 'fan\\_%' and hashtext(id::text) % 20 = 1
       union all
       select id, 'event_published', 'sms', true from public.profiles where username like 'fan\\_%' and hashtext(id::text) % 10 = 2`);
    await client.query(
      `insert into public.notification_settings (user_id, phone_e164, phone_verified_at, quiet_hours_start, quiet_hours_end)
       select id, '+4474' || lpad((abs(hashtext(id::text)) % 100000000)::text, 8, '0'), now(),
              case when hashtext(id::text) % 50 = 2 then (now() at time zone timezone - interval '1 hour')::time end,
              case when hashtext(id::text) % 50 = 2 then (now() at time zone timezone + interval '1 hour')::time end
         from public.profiles where username like 'fan\\_%' and hashtext(id::text) % 10 = 2`);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback');
    throw err;
  } finally {
    client.release();
  }
  await admin.query('analyze public.profiles, public.follows, public.notification_preferences, public.notification_settings, auth.users');

  const event = await admin.query<{ id: string }>(
    `insert into private.events (host_id, title, starts_at, ends_at, timezone, city, visibility)
     values ($1, 'Bench night', now() + interval '10 days', now() + interval '10 days 3 hours', 'Europe/London', 'London', 'public')
     returning id`, [hostId]);
  const eventId = event.rows[0]!.id;
  const ticket = await admin.query<{ id: string }>(
    "insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking) values ($1, 'Free', 0, 'GBP', $2, 1) returning id",
    [eventId, bookers * 2 + 10]);
  const fans = await admin.query<{ id: string }>(
    "select id from public.profiles where username like 'fan\\_%' order by username limit $1", [bookers * 2]);
  return { hostId, eventId, ticketTypeId: ticket.rows[0]!.id, fans: fans.rows.map((row) => row.id) };
}

/** One PostgREST-like call as a user. */
async function asUser<T extends pg.QueryResultRow>(pool: pg.Pool, userId: string, sql: string, params: unknown[]): Promise<pg.QueryResult<T>> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await applyRequestContext(client, { role: 'authenticated', sub: userId, aud: 'authenticated' });
    const result = await client.query<T>(sql, params);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** `count` bookings by distinct fans on 4 connections; latencies in ms. */
async function bookAll(pool: pg.Pool, fixture: Fixture, fans: readonly string[]): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < fans.length) {
      const fan = fans[next++]!;
      const start = performance.now();
      try {
        await asUser(pool, fan, 'select id from public.book_event($1, $2, 1)', [fixture.eventId, fixture.ticketTypeId]);
        latencies.push(since(start));
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return { latencies, failures };
}

const NOTIFICATION_COPY = `insert into public.notifications (user_id, type, title, body, data)
  select f.follower_id, 'event_published', 'Bench Host posted a new event: Bench night', 'Sat 05 Dec, 19:00, Europe/London · London',
         jsonb_build_object('event_id', $2::uuid, 'host_id', $1::uuid, 'kind', 'published', 'starts_at', now(), 'dedupe_key', 'event_published:baseline')
    from public.follows f where f.followee_id = $1`;

/** Baseline (a): the same notification rows, bare (fan-out trigger disabled), rolled back. */
async function bareNotifications(admin: pg.Pool, fixture: Fixture): Promise<number> {
  const client = await admin.connect();
  try {
    await client.query('begin');
    await client.query('alter table public.notifications disable trigger notifications_fan_out');
    const { ms } = await timed(() => client.query(NOTIFICATION_COPY, [fixture.hostId, fixture.eventId]));
    await client.query('rollback');
    return ms;
  } finally {
    client.release();
  }
}

/** Baseline (b), the contract floor: every row the fan-out wrote, bare (see the docblock). */
async function bareAllRows(admin: pg.Pool, fixture: Fixture): Promise<{ ms: number; rows: number }> {
  const client = await admin.connect();
  try {
    await client.query('begin');
    await client.query(`create temp table src_n on commit drop as
      select * from public.notifications where type = 'event_published' and data ->> 'event_id' = $1`, [fixture.eventId]);
    await client.query(`create temp table src_d on commit drop as
      select d.* from private.alert_deliveries d join src_n n on n.id = d.notification_id`);
    await client.query(`create temp table src_m on commit drop as
      select m.* from realtime.messages m where m.event = 'notification_created' and m.payload ->> 'type' = 'event_published'
         and m.payload -> 'data' ->> 'event_id' = $1`, [fixture.eventId]);
    await client.query('create schema if not exists bench_social');
    await client.query('create table bench_social.notifications (like public.notifications including all)');
    await client.query('create table bench_social.alert_deliveries (like private.alert_deliveries including all)');
    const start = performance.now();
    const n = await client.query('insert into bench_social.notifications select * from src_n');
    const d = await client.query('insert into bench_social.alert_deliveries select * from src_d');
    // The broadcasts go into the real (partitioned) realtime.messages, as realtime.send writes
    // them (a fresh id each): the floor pays for the same partition routing as the path.
    const m = await client.query(`insert into realtime.messages (id, payload, event, topic, private, extension)
      select gen_random_uuid(), payload, event, topic, private, extension from src_m`);
    const ms = since(start);
    await client.query('rollback');
    return { ms, rows: (n.rowCount ?? 0) + (d.rowCount ?? 0) + (m.rowCount ?? 0) };
  } finally {
    client.release();
  }
}

/** Baseline for the dispatcher: bare SKIP LOCKED claim-and-mark-sent of `count` rows. */
async function bareDrain(app: pg.Pool, count: number, batch: number): Promise<{ ms: number; rows: number }> {
  let rows = 0;
  const start = performance.now();
  for (let i = 0; i < 10_000 && rows < count; i++) {
    const result = await app.query(
      `with c as (select id from private.alert_deliveries where status = 'pending' and next_attempt_at <= now()
                   order by next_attempt_at limit $1 for update skip locked)
       update private.alert_deliveries d set status = 'sent', attempts = attempts + 1, sent_at = now(), provider = 'sink'
         from c where d.id = c.id`, [Math.min(batch, count - rows)]);
    if ((result.rowCount ?? 0) === 0) break;
    rows += result.rowCount ?? 0;
  }
  return { ms: since(start), rows };
}

/**
 * The profiled pass: a second event of the same host announced to the same followers, the queue
 * job run once more with pg_stat_statements track = all (not timed; profiling slows it).
 */
async function profileFanOut(admin: pg.Pool, app: pg.Pool, fixture: Fixture, batchSize: number): Promise<PathProfile> {
  const event = await admin.query<{ id: string }>(
    `insert into private.events (host_id, title, starts_at, ends_at, timezone, city, visibility)
     values ($1, 'Bench night (profiled)', now() + interval '11 days', now() + interval '11 days 3 hours', 'Europe/London', 'London', 'public')
     returning id`, [fixture.hostId]);
  const eventId = event.rows[0]!.id;
  await admin.query("insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking) values ($1, 'Free', 0, 'GBP', 10, 1)",
    [eventId]);
  const profilerClient = await admin.connect();
  try {
    const profiler = await createProfiler(profilerClient);
    return await profiler.profile('publish fan-out to the followers (publish_event + process_promotion_queue)', 1, [], async () => {
      await asUser(app, fixture.hostId, 'select id from public.publish_event($1)', [eventId]);
      await app.query('select private.process_promotion_queue(10000000, $1, 3600) as n', [batchSize]);
    });
  } finally {
    profilerClient.release();
  }
}

export async function socialBench(env: SocialBenchEnv, options: SocialBenchOptions = DEFAULT_SOCIAL_BENCH): Promise<SocialBenchOutcome> {
  const log = env.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const admin = new pg.Pool({ connectionString: env.adminUrl, max: 4, application_name: 'bench-social-admin' });
  const app = new pg.Pool({ connectionString: env.appUrl, max: 24, application_name: 'bench-social' });
  // An idle pooled connection ended by the server (the cluster stopping after a failure) must not
  // crash the process before the failure itself is reported.
  const idleError = (err: Error): void => log(`social: idle connection closed: ${err.message}`);
  admin.on('error', idleError);
  app.on('error', idleError);
  const rows: SocialBenchRow[] = [];
  const add = (benchmark: string, measure: string, value: number, unit: string): void => {
    rows.push({ benchmark, measure, value: round(value), unit });
  };
  try {
    log(`social: loading ${options.followers} followers (not timed)…`);
    const setupStart = performance.now();
    const fixture = await setUp(admin, options.followers, options.bookers);
    log(`social: setup ${(since(setupStart) / 1000).toFixed(1)} s`);
    // Earlier deliveries (seed) are not part of this measurement.
    await admin.query("update private.alert_deliveries set status = 'skipped' where status = 'pending'");

    const bareA1 = await bareNotifications(admin, fixture);
    await admin.query('vacuum public.notifications');

    const publish = await timed(() => asUser(app, fixture.hostId, 'select id from public.publish_event($1)', [fixture.eventId]));
    const idle = await bookAll(app, fixture, fixture.fans.slice(0, options.bookers));

    log('social: fan-out…');
    const during: { result: { latencies: number[]; failures: number } | null } = { result: null };
    const fanOut = await timed(async () => {
      const job = app.query<{ n: number }>('select private.process_promotion_queue(10000000, $1, 3600) as n', [options.batchSize]);
      // Bookings of the same event while the followers are being notified.
      await new Promise((resolve) => setTimeout(resolve, 50));
      during.result = await bookAll(app, fixture, fixture.fans.slice(options.bookers));
      return (await job).rows[0]?.n ?? 0;
    });
    const counts = await admin.query<{ jobs: string; notified: number; broadcasts: number; deliveries: number }>(
      `select string_agg(status, ',') as jobs, sum(notified)::int as notified, sum(broadcasts)::int as broadcasts,
              (select count(*)::int from private.alert_deliveries where type = 'event_published') as deliveries
         from private.promotion_jobs where event_id = $1`, [fixture.eventId]);
    const c = counts.rows[0]!;
    if (c.jobs !== 'done' || c.notified !== options.followers) throw new Error(`fan-out incomplete: ${JSON.stringify(c)}`);
    const bareA2 = await bareNotifications(admin, fixture);
    const bareA = (bareA1 + bareA2) / 2;
    const bareB = await bareAllRows(admin, fixture);

    const fanOutMs = publish.ms + fanOut.ms;
    add('fan-out', 'followers notified', c.notified, 'rows');
    add('fan-out', 'alert deliveries queued (per preferences)', c.deliveries, 'rows');
    add('fan-out', 'live broadcasts (in-app not muted)', c.broadcasts, 'rows');
    add('fan-out', 'publish_event (enqueue only)', publish.ms, 'ms');
    add('fan-out', 'publish + queue job, total', fanOutMs, 'ms');
    add('fan-out', 'baseline (a): bare insert of the same notification rows', bareA, 'ms');
    add('fan-out', 'ratio (a) = baseline / fan-out (goal ≥ 0.5)', bareA / fanOutMs, '×');
    add('fan-out', `baseline (b): bare insert of all ${bareB.rows} rows it wrote`, bareB.ms, 'ms');
    add('fan-out', 'ratio (b) = baseline / fan-out', bareB.ms / fanOutMs, '×');
    const duringResult = during.result ?? { latencies: [], failures: 0 };
    add('fan-out', 'bookings before: p50', percentile(idle.latencies, 50), 'ms');
    add('fan-out', 'bookings during fan-out: p50', percentile(duringResult.latencies, 50), 'ms');
    add('fan-out', 'bookings during fan-out: p95', percentile(duringResult.latencies, 95), 'ms');
    add('fan-out', 'bookings during / before (p50)', percentile(duringResult.latencies, 50) / percentile(idle.latencies, 50), '×');
    add('fan-out', 'bookings failed (before + during)', idle.failures + duringResult.failures, 'count');
    add('fan-out', 'contract floor = baseline (b)', bareB.ms, 'ms');
    add('fan-out', 'floor / baseline = (a) / (b)', bareA / bareB.ms, '×');
    add('fan-out', 'Rally / floor = (b) / fan-out', bareB.ms / fanOutMs, '×');

    log('social: profiled fan-out (not timed)…');
    const profile = await profileFanOut(admin, app, fixture, options.batchSize);

    log('social: dispatcher…');
    const sinkPool = new pg.Pool({ connectionString: env.appUrl, max: 20, application_name: 'bench-social-dispatch' });
    sinkPool.on('error', idleError);
    try {
      const sink = createSinkProvider((records) => withServiceRole((db) => recordSinkAlerts(db, records), { pool: sinkPool }));
      // Half the queue for the dispatcher, the other half for the baseline.
      const pending = await admin.query<{ n: number }>(
        "select count(*)::int as n from private.alert_deliveries where status = 'pending' and next_attempt_at <= now()");
      const half = Math.floor((pending.rows[0]?.n ?? 0) / 2);
      const dispatch = await timed(() => runDispatch({
        claim: (limit, lease) => withServiceRole((db) => claimDeliveries(db, limit, lease), { pool: sinkPool }),
        complete: (results) => withServiceRole((db) => completeDeliveries(db, results), { pool: sinkPool }),
        providers: { email: sink, sms: sink, whatsapp: sink, push: sink },
        appUrl: 'https://rally.example',
      }, { batchSize: 500, maxBatches: Math.max(1, Math.floor(half / 500)), concurrency: 16, budgetMs: options.dispatchBudgetMs,
           leaseSeconds: 300 }));
      const bare = await bareDrain(app, dispatch.value.sent, 500);
      const dispatchRate = (dispatch.value.sent / dispatch.ms) * 1000;
      const bareRate = (bare.rows / bare.ms) * 1000;
      add('dispatcher', 'deliveries sent to the sink', dispatch.value.sent, 'rows');
      add('dispatcher', 'throughput (claim, render, sink, record)', dispatchRate, 'deliveries/s');
      add('dispatcher', 'baseline: bare SKIP LOCKED mark-sent of as many rows', bareRate, 'rows/s');
      add('dispatcher', 'ratio = dispatcher / baseline', dispatchRate / bareRate, '×');
    } finally {
      await sinkPool.end();
    }
    return { rows, profile };
  } finally {
    await app.end();
    await admin.end();
  }
}

export function formatRows(rows: readonly SocialBenchRow[]): string {
  const width = Math.max(...rows.map((row) => `${row.benchmark}: ${row.measure}`.length));
  return rows.map((row) => `${`${row.benchmark}: ${row.measure}`.padEnd(width)}  ${String(row.value).padStart(12)} ${row.unit}`).join('\n');
}

async function main(): Promise<number> {
  const { withThrowawayDb } = await import('../scripts/lib/throwaway.ts');
  const { closePool } = await import('../functions/_shared/db.ts');
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const followers = Number(process.env.BENCH_SOCIAL_FOLLOWERS ?? DEFAULT_SOCIAL_BENCH.followers);
  const { rows, profile } = await withThrowawayDb({ testHelpers: false, log }, (db) =>
    socialBench({ appUrl: db.appUrl, adminUrl: db.adminUrl, log }, { ...DEFAULT_SOCIAL_BENCH, followers }));
  await closePool();
  process.stdout.write(`\n${formatRows(rows)}\n`);
  const value = (measure: string): number => rows.find((r) => r.measure.startsWith(measure))?.value ?? Number.NaN;
  const fanOutMs = value('publish + queue job, total');
  const bareMs = value('baseline (a)');
  const floorMs = value('contract floor');
  const issueRows: PathRow[] = [{
    path: 'publish fan-out to 100,000 followers',
    rally: `${(fanOutMs / 1000).toFixed(1)} s`,
    baseline: `bare insert of the notifications ${(bareMs / 1000).toFixed(1)} s`,
    ratio: bareMs / fanOutMs,
    goal: '≥ 0.50×',
    met: bareMs / fanOutMs >= 0.5,
    floor: `bare insert of every row it must write ${(floorMs / 1000).toFixed(1)} s`,
    floorRatio: bareMs / floorMs,
    rallyToFloor: floorMs / fanOutMs,
    ...(slowestLine(profile) === undefined ? {} : { slowest: slowestLine(profile) }),
  }];
  const failed = value('bookings failed');
  if (profile !== undefined) {
    // The fan-out trigger's insert calls the channel rule (PL/pgSQL), so the leaf list above
    // leaves it out; every statement, nested ones included, shows where the batch's time goes.
    process.stdout.write('\nfan-out, every statement (nested included; a statement\'s time includes what it runs):\n');
    for (const st of profile.statements.slice(0, 8)) {
      process.stdout.write(`  ${st.totalMs.toFixed(0).padStart(8)} ms  ${String(st.calls).padStart(7)}×  ${st.query.slice(0, 140)}\n`);
    }
  }
  return printReport({
    bench: 'social',
    rows: issueRows,
    invariants: [{ name: 'bookings keep working during the fan-out', ok: failed === 0, detail: `${failed} failed` }],
    extra: { social: rows },
  }, profile === undefined ? [] : [profile]);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
