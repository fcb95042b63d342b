/**
 * `npm run bench`: starts a throwaway cluster (platform + migrations + seed + test helpers), runs
 * the benchmarks, prints a table and a machine-readable `BENCH_RESULT {...}` line, stops the
 * cluster. Every figure that matters is a ratio against a baseline measured in the same run on
 * the same cluster (ARCHITECTURE §7); absolute times are printed for context only.
 *
 *   1. booking race: 1,000 book_event attempts by distinct users from 32 connections on one
 *      ticket type (capacity 100: sell-out; capacity 1,000: everyone gets a seat), against a
 *      minimal hot-row booking. Exits non-zero if the confirmed count is ever wrong.
 *   2. search_events: a query mix over 100,000 published events as an anonymous request, against
 *      a bare indexed listing select.
 *
 * Progress goes to stderr; the tables and BENCH_RESULT go to stdout.
 */
import { logLine, runMain } from '../scripts/lib/cli.ts';
import { jwtSecret } from '../scripts/lib/config.ts';
import { wasInterrupted, withThrowawayDb } from '../scripts/lib/throwaway.ts';
import { adminQuery, closeTestPools } from '../tests/support/db.ts';
import { createUser, issueAccessToken } from '../tests/support/users.ts';
import { closeClients, createBaselineSchema, openClients, runRace, type RaceContext, type RaceOutcome, type RaceSpec } from './lib/booking.ts';
import { generateCatalogue, runSearchBench, type SearchOutcome } from './lib/search.ts';
import { fmtMs, fmtRatio, formatTable, median, round, since } from './lib/stats.ts';
import { createBenchUsers, makeHosts } from './lib/users.ts';

const ATTEMPTS = 1000;
const CONNECTIONS = 32;
const REPEATS = 3;
const SERIAL_ATTEMPTS = 200;
const CATALOGUE_SIZE = 100_000;
const SEARCH_HOSTS = 20;
/** A search shape slower than this many times the baseline p50 is flagged and explained. */
const SLOW_FACTOR = 20;

interface Variant {
  name: string;
  capacity: number;
  attempts: number;
  connections: number;
}

const VARIANTS: readonly Variant[] = [
  { name: 'sell-out (cap 100)', capacity: 100, attempts: ATTEMPTS, connections: CONNECTIONS },
  { name: 'roomy (cap 1000)', capacity: 1000, attempts: ATTEMPTS, connections: CONNECTIONS },
  // Diagnostic: what a rejection costs (one seat, then 999 sold_out answers).
  { name: 'sold out (cap 1)', capacity: 1, attempts: ATTEMPTS, connections: CONNECTIONS },
  // Diagnostic: the per-call cost without contention (one connection, every attempt succeeds).
  { name: 'serial (1 conn, cap 1000)', capacity: 1000, attempts: SERIAL_ATTEMPTS, connections: 1 },
];

interface VariantSummary {
  variant: string;
  capacity: number;
  attempts: number;
  connections: number;
  rally: SystemSummary;
  baseline: SystemSummary;
  ratio: number;
}

interface SystemSummary {
  runs: number;
  throughputs: number[];
  medianThroughput: number;
  medianLatencyP50Ms: number;
  medianLatencyP95Ms: number;
  medianLockWaitShare: number;
  confirmed: number[];
  soldOut: number[];
  otherErrors: Record<string, number>;
  invariantOk: boolean;
  cleanRejections: boolean;
}

function describeRun(run: RaceOutcome, tag: string): string {
  const other = Object.entries(run.otherErrors).map(([key, n]) => `${key}×${n}`).join(', ');
  return (
    `  ${tag} ${run.system.padEnd(8)} cap ${String(run.capacity).padStart(4)} conns ${String(run.connections).padStart(2)}: ` +
    `${run.confirmed} confirmed, ${run.soldOut} sold_out${other ? `, other: ${other}` : ''}; ` +
    `db taken ${run.dbTaken}, db confirmed ${run.dbConfirmed}; ${run.throughput.toFixed(0)} attempts/s ` +
    `(${(run.elapsedMs / 1000).toFixed(2)} s), ${(run.lockWaitShare * 100).toFixed(0)}% lock waits — ` +
    `${run.invariantOk ? 'PASS' : 'FAIL'}${run.cleanRejections ? '' : ' (unexpected errors)'}`
  );
}

function summarise(runs: readonly RaceOutcome[]): SystemSummary {
  const otherErrors: Record<string, number> = {};
  for (const run of runs) for (const [key, n] of Object.entries(run.otherErrors)) otherErrors[key] = (otherErrors[key] ?? 0) + n;
  const throughputs = runs.map((r) => r.throughput);
  return {
    runs: runs.length,
    throughputs: throughputs.map((t) => round(t, 1)),
    medianThroughput: median(throughputs),
    medianLatencyP50Ms: median(runs.map((r) => r.latencyP50Ms)),
    medianLatencyP95Ms: median(runs.map((r) => r.latencyP95Ms)),
    medianLockWaitShare: median(runs.map((r) => r.lockWaitShare)),
    confirmed: runs.map((r) => r.confirmed),
    soldOut: runs.map((r) => r.soldOut),
    otherErrors,
    invariantOk: runs.every((r) => r.invariantOk),
    cleanRejections: runs.every((r) => r.cleanRejections),
  };
}

interface BookingResult {
  summaries: VariantSummary[];
  warmupOk: boolean;
  warmupErrors: Record<string, number>;
  setup: Record<string, number>;
}

async function bookingBench(appUrl: string, adminUrl: string): Promise<BookingResult> {
  logLine('\n=== booking race: setup ===');
  const host = await createUser({ username: 'bench_host_race' });
  await makeHosts([host.id]);
  const hostToken = await issueAccessToken(host.id);
  const signupStart = performance.now();
  const users = await createBenchUsers('bench_guest', ATTEMPTS);
  const signupMs = since(signupStart);
  logLine(`  ${users.length} guests signed up in ${(signupMs / 1000).toFixed(1)} s (${((users.length / signupMs) * 1000).toFixed(0)}/s; not timed)`);
  await createBaselineSchema();
  const clients = await openClients(appUrl, CONNECTIONS);
  const [sampler] = await openClients(adminUrl, 1);
  if (sampler === undefined) throw new Error('no sampler connection');
  await sampler.query("set application_name = 'rally-bench-sampler'");
  const ctx: RaceContext = { clients, sampler, users, host: { id: host.id, claims: hostToken.claims } };
  try {
    logLine('=== booking race: warm-up ===');
    let warmupOk = true;
    const warmupErrors: Record<string, number> = {};
    for (const system of ['rally', 'baseline'] as const) {
      const run = await runRace(ctx, { system, capacity: 100, attempts: ATTEMPTS, connections: CONNECTIONS });
      logLine(describeRun(run, 'warm-up'));
      warmupOk &&= run.invariantOk;
      for (const [key, n] of Object.entries(run.otherErrors)) warmupErrors[key] = (warmupErrors[key] ?? 0) + n;
    }
    logLine(`=== booking race: ${REPEATS} repeats ===`);
    const runs = new Map<string, RaceOutcome[]>();
    for (let rep = 0; rep < REPEATS && !wasInterrupted(); rep += 1) {
      for (const variant of VARIANTS) {
        // Alternate which system goes first so neither always runs on a warmer cluster.
        const order = rep % 2 === 0 ? (['rally', 'baseline'] as const) : (['baseline', 'rally'] as const);
        for (const system of order) {
          const spec: RaceSpec = { system, capacity: variant.capacity, attempts: variant.attempts, connections: variant.connections };
          const run = await runRace(ctx, spec);
          logLine(describeRun(run, `rep ${rep + 1}`));
          const key = `${variant.name}|${system}`;
          runs.set(key, [...(runs.get(key) ?? []), run]);
        }
      }
    }
    const summaries = VARIANTS.map((variant): VariantSummary => {
      const rally = summarise(runs.get(`${variant.name}|rally`) ?? []);
      const baseline = summarise(runs.get(`${variant.name}|baseline`) ?? []);
      return {
        variant: variant.name,
        capacity: variant.capacity,
        attempts: variant.attempts,
        connections: variant.connections,
        rally,
        baseline,
        ratio: rally.medianThroughput / baseline.medianThroughput,
      };
    });
    return { summaries, warmupOk, warmupErrors, setup: { guests: users.length, signupMs: round(signupMs, 0) } };
  } finally {
    await closeClients([...clients, sampler]);
  }
}

async function searchBench(adminUrl: string): Promise<{ outcome: SearchOutcome; setup: Record<string, number> }> {
  logLine('\n=== search_events: setup ===');
  const hosts = await createBenchUsers('bench_host', SEARCH_HOSTS, 1);
  await makeHosts(hosts.map((h) => h.id));
  const generated = await generateCatalogue(hosts.map((h) => h.id), CATALOGUE_SIZE);
  logLine(`  ${generated.events} events and ${generated.ticketTypes} ticket types loaded and analysed in ${(generated.elapsedMs / 1000).toFixed(1)} s`);
  const { rows } = await adminQuery<{ n: number }>(
    "select count(*)::int as n from private.events where status = 'published' and visibility = 'public' and ends_at > now()",
  );
  logLine(`  ${rows[0]?.n ?? 0} upcoming published public events in total`);
  logLine('=== search_events: measuring ===');
  const outcome = await runSearchBench(adminUrl, { callsPerShape: 200, warmupPerShape: 10, maxMsPerShape: 30_000, slowFactor: SLOW_FACTOR });
  return { outcome, setup: { events: generated.events, ticketTypes: generated.ticketTypes, loadMs: round(generated.elapsedMs, 0) } };
}


function printBooking(booking: BookingResult): void {
  const rows: string[][] = [];
  for (const s of booking.summaries) {
    for (const [name, sys] of [['rally book_event', s.rally], ['baseline hot row', s.baseline]] as const) {
      const other = Object.values(sys.otherErrors).reduce((a, b) => a + b, 0);
      rows.push([
        s.variant, name, sys.confirmed.join('/'), sys.soldOut.join('/'), String(other),
        `${sys.medianThroughput.toFixed(0)}/s`, fmtMs(sys.medianLatencyP50Ms), fmtMs(sys.medianLatencyP95Ms),
        `${(sys.medianLockWaitShare * 100).toFixed(0)}%`, sys.invariantOk ? 'PASS' : 'FAIL',
      ]);
    }
  }
  process.stdout.write(
    `\nBooking race (${ATTEMPTS.toLocaleString('en')} attempts by distinct users, ${CONNECTIONS} connections unless noted; ` +
      `per-run counts, medians of ${REPEATS} runs; throughput = attempts/s)\n`,
  );
  process.stdout.write(
    `${formatTable(['variant', 'system', 'confirmed', 'sold_out', 'other', 'throughput', 'lat p50', 'lat p95', 'lock waits', 'invariant'], rows)}\n`,
  );
  process.stdout.write('\nrally / baseline throughput (goal ≥ 1.00×)\n');
  process.stdout.write(
    `${formatTable(
      ['variant', 'ratio', 'verdict'],
      booking.summaries.map((s) => [s.variant, fmtRatio(s.ratio), s.ratio >= 1 ? 'meets goal' : 'BELOW GOAL']),
    )}\n`,
  );
  process.stdout.write(`warm-up runs (rally + baseline, cap 100): ${booking.warmupOk ? 'PASS' : 'FAIL'}\n`);
  const errors: Record<string, number> = { ...booking.warmupErrors };
  for (const s of booking.summaries) {
    for (const [key, n] of Object.entries(s.rally.otherErrors)) errors[`rally ${key}`] = (errors[`rally ${key}`] ?? 0) + n;
    for (const [key, n] of Object.entries(s.baseline.otherErrors)) errors[`baseline ${key}`] = (errors[`baseline ${key}`] ?? 0) + n;
  }
  const entries = Object.entries(errors);
  process.stdout.write(
    entries.length === 0
      ? 'unexpected errors (anything but sold_out): none\n'
      : `UNEXPECTED ERRORS (anything but sold_out): ${entries.map(([key, n]) => `${key} ×${n}`).join('; ')}\n`,
  );
}

function printSearch(outcome: SearchOutcome): void {
  process.stdout.write(
    `\nsearch_events as anon over ${CATALOGUE_SIZE.toLocaleString('en')} events (one statement round trip; ratios against baseline p50)\n`,
  );
  const rows = outcome.shapes.map((s) => [
    s.name, s.description, String(s.calls), Object.keys(s.errors).length === 0 ? '0' : JSON.stringify(s.errors),
    s.avgRows.toFixed(1), fmtMs(s.p50Ms), fmtMs(s.p95Ms), fmtRatio(s.ratioP50), fmtRatio(s.ratioP95),
    s.ratioP50 > SLOW_FACTOR ? `SLOW (p50 >${SLOW_FACTOR}×)` : s.ratioP95 > SLOW_FACTOR ? `slow tail (p95 >${SLOW_FACTOR}×)` : 'ok',
  ]);
  rows.unshift([
    'baseline', 'bare indexed listing select', String(outcome.baseline.calls), '0', '20.0', fmtMs(outcome.baseline.p50Ms),
    fmtMs(outcome.baseline.p95Ms), fmtRatio(1), fmtRatio(outcome.baseline.p95Ms / outcome.baseline.p50Ms), '',
  ]);
  process.stdout.write(
    `${formatTable(['shape', 'what', 'calls', 'errors', 'rows', 'p50', 'p95', 'p50/base', 'p95/base', 'flag'], rows)}\n`,
  );
  for (const explain of outcome.explains) {
    const tag = explain.shape === outcome.slowest ? 'slowest shape' : `p50 over ${SLOW_FACTOR}× baseline`;
    process.stdout.write(`\nEXPLAIN (ANALYZE, BUFFERS) of ${explain.shape} (${tag}): ${explain.file}\n`);
  }
  const slow = outcome.shapes.filter((s) => s.ratioP50 > SLOW_FACTOR).map((s) => s.name);
  for (const explain of outcome.explains) {
    if (slow.includes(explain.shape)) process.stdout.write(`\n${explain.text}`);
  }
}

function jsonSystem(sys: SystemSummary): SystemSummary {
  return {
    ...sys,
    medianThroughput: round(sys.medianThroughput, 1),
    medianLatencyP50Ms: round(sys.medianLatencyP50Ms, 2),
    medianLatencyP95Ms: round(sys.medianLatencyP95Ms, 2),
    medianLockWaitShare: round(sys.medianLockWaitShare, 3),
  };
}

async function main(): Promise<number> {
  const started = performance.now();
  return withThrowawayDb({ testHelpers: true, log: logLine }, async (db) => {
    // What tests/support reads; the bench owns this process, so it sets them itself.
    process.env.SUPABASE_DB_URL = db.appUrl;
    process.env.RALLY_ADMIN_DB_URL = db.adminUrl;
    process.env.SUPABASE_JWT_SECRET = jwtSecret();
    try {
      const booking = await bookingBench(db.appUrl, db.adminUrl);
      if (wasInterrupted()) return 130;
      const search = await searchBench(db.adminUrl);
      if (wasInterrupted()) return 130;

      printBooking(booking);
      printSearch(search.outcome);
      const bookingOk = booking.warmupOk && booking.summaries.every((s) => s.rally.invariantOk && s.baseline.invariantOk);
      const totalMs = since(started);
      process.stdout.write(`\nbooking invariant (confirmed = capacity, rest sold_out, database agrees): ${bookingOk ? 'PASS' : 'FAIL'}\n`);
      process.stdout.write(`total time ${(totalMs / 1000).toFixed(1)} s\n`);
      const result = {
        booking: {
          invariant: bookingOk ? 'PASS' : 'FAIL',
          warmupOk: booking.warmupOk,
          warmupErrors: booking.warmupErrors,
          setup: booking.setup,
          variants: booking.summaries.map((s) => ({
            variant: s.variant,
            capacity: s.capacity,
            attempts: s.attempts,
            connections: s.connections,
            ratio: round(s.ratio, 3),
            rally: jsonSystem(s.rally),
            baseline: jsonSystem(s.baseline),
          })),
        },
        search: {
          setup: search.setup,
          baseline: { calls: search.outcome.baseline.calls, p50Ms: round(search.outcome.baseline.p50Ms, 3), p95Ms: round(search.outcome.baseline.p95Ms, 3) },
          shapes: search.outcome.shapes.map((s) => ({
            name: s.name,
            calls: s.calls,
            errors: s.errors,
            avgRows: round(s.avgRows, 1),
            p50Ms: round(s.p50Ms, 3),
            p95Ms: round(s.p95Ms, 3),
            ratioP50: round(s.ratioP50, 2),
            ratioP95: round(s.ratioP95, 2),
            slow: s.ratioP50 > SLOW_FACTOR,
            slowTail: s.ratioP95 > SLOW_FACTOR,
          })),
          slowest: search.outcome.slowest,
          explainFiles: Object.fromEntries(search.outcome.explains.map((e) => [e.shape, e.file])),
        },
        totalMs: round(totalMs, 0),
      };
      process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
      return bookingOk ? 0 : 1;
    } finally {
      await closeTestPools();
    }
  });
}

runMain(main);
