/**
 * Booking benchmark (`npm run bench -- --only booking`; bench/README.md): public.book_event raced
 * by distinct users as PostgREST calls it, against a bare hot-row booking in the same run, on its
 * own throwaway cluster (platform, migrations, seed, test helpers).
 *
 *   serial      1 connection, 200 attempts, 1,000 seats: the per-call cost without contention
 *   sell-out    32 connections, 1,000 attempts, 100 seats: 100 confirmed, 900 sold_out
 *   roomy       32 connections, 1,000 attempts, 1,000 seats: every attempt gets a seat
 *   sold out    32 connections, 1,000 attempts, 1 seat: what a rejection costs
 *
 * Each variant runs 3 times after a warm-up, alternating which system goes first; medians are
 * reported with the spread of the ratios. Two more systems in the same runs: the contract floor
 * (bench/lib/booking.ts: exactly the reads and writes book_event's contract requires, plain SQL
 * into trigger-free, FK-free copies of the real tables, realtime.send included), printed as
 * floor/baseline (the best ratio any implementation keeping the contract could reach; below the
 * goal, the goal is beyond the contract floor) and Rally/floor; and the round-trip floor (the same
 * four round trips with an empty statement), what no book_event can beat. Each figure also
 * carries the server backends' CPU per attempt (/proc/<pid>/schedstat, median of the repeats),
 * which a shared machine's load disturbs far less than wall time. Then one profiled
 * pass per variant (pg_stat_statements track = all, plprofiler when installed). The invariant
 * (exit 1 when broken in any run, warm-up and profiled passes included): confirmed =
 * min(capacity, attempts), every other attempt a clean sold_out, and the database agrees
 * (Σ slot taken, confirmed booking rows).
 */
import pg from 'pg';
import { logLine, runMain } from '../scripts/lib/cli.ts';
import { jwtSecret } from '../scripts/lib/config.ts';
import { wasInterrupted, withThrowawayDb } from '../scripts/lib/throwaway.ts';
import { closeTestPools } from '../tests/support/db.ts';
import { createUser, issueAccessToken } from '../tests/support/users.ts';
import { closeClients, createBaselineSchema, openClients, runRace, type BookingSystem, type RaceContext, type RaceOutcome } from './lib/booking.ts';
import { createProfiler, type PathProfile } from './lib/profile.ts';
import { perSecond, printReport, slowestLine, spreadOf, type Invariant, type PathRow } from './lib/report.ts';
import { fmtMs, median } from './lib/stats.ts';
import { createBenchUsers, makeHosts } from './lib/users.ts';

const ATTEMPTS = 1000;
const CONNECTIONS = 32;
const REPEATS = 3;

interface Variant {
  key: string;
  path: string;
  capacity: number;
  attempts: number;
  connections: number;
  goal: number;
}

const VARIANTS: readonly Variant[] = [
  { key: 'serial', path: '`book_event`, one connection', capacity: 1000, attempts: 200, connections: 1, goal: 0.25 },
  { key: 'sell-out', path: '`book_event` sell-out, 32 connections, 100 seats', capacity: 100, attempts: ATTEMPTS, connections: CONNECTIONS, goal: 1 },
  { key: 'roomy', path: '`book_event` roomy, 1,000 seats', capacity: 1000, attempts: ATTEMPTS, connections: CONNECTIONS, goal: 1 },
  { key: 'sold out', path: '`book_event` sold out (rejections)', capacity: 1, attempts: ATTEMPTS, connections: CONNECTIONS, goal: 1 },
];

const SYSTEMS: readonly BookingSystem[] = ['rally', 'baseline', 'contract', 'roundtrip'];

function describeRun(run: RaceOutcome, tag: string): string {
  const other = Object.entries(run.otherErrors).map(([key, n]) => `${key}×${n}`).join(', ');
  return (
    `  ${tag} ${run.system.padEnd(8)} cap ${String(run.capacity).padStart(4)} conns ${String(run.connections).padStart(2)}: ` +
    `${run.confirmed} confirmed, ${run.soldOut} sold_out${other ? `, other: ${other}` : ''}; ` +
    `db taken ${run.dbTaken}, db confirmed ${run.dbConfirmed}; ${run.throughput.toFixed(0)} attempts/s, ` +
    `p50 ${fmtMs(run.latencyP50Ms)}, ${(run.lockWaitShare * 100).toFixed(0)}% lock waits, ` +
    `backend CPU ${run.backendCpuMsPerAttempt.toFixed(3)} ms/attempt — ` +
    `${run.invariantOk && run.cleanRejections ? 'PASS' : 'FAIL'}`
  );
}

const runOk = (run: RaceOutcome): boolean => run.invariantOk && run.cleanRejections;

async function main(): Promise<number> {
  return withThrowawayDb({ testHelpers: true, log: logLine }, async (db) => {
    // What tests/support reads; the bench owns this process, so it sets them itself.
    process.env.SUPABASE_DB_URL = db.appUrl;
    process.env.RALLY_DB_URL = db.appUrl;
    process.env.RALLY_ADMIN_DB_URL = db.adminUrl;
    process.env.SUPABASE_JWT_SECRET = jwtSecret();
    const admin = new pg.Client({ connectionString: db.adminUrl, application_name: 'rally-bench-admin' });
    await admin.connect();
    try {
      logLine('=== booking: setup ===');
      const host = await createUser({ username: 'bench_host_race' });
      await makeHosts([host.id]);
      const hostToken = await issueAccessToken(host.id);
      const users = await createBenchUsers('bench_guest', ATTEMPTS);
      await createBaselineSchema();
      const profiler = await createProfiler(admin);
      const clients = await openClients(db.appUrl, CONNECTIONS);
      const [sampler] = await openClients(db.adminUrl, 1);
      if (sampler === undefined) throw new Error('no sampler connection');
      await sampler.query("set application_name = 'rally-bench-sampler'");
      const ctx: RaceContext = { clients, sampler, users, host: { id: host.id, claims: hostToken.claims } };
      let offset = 0;
      const race = async (variant: Variant, system: BookingSystem, tag: string): Promise<RaceOutcome> => {
        // Users rotate, so no one books more often than the booking rate limit allows.
        offset = (offset + 337) % users.length;
        const run = await runRace(ctx, { system, capacity: variant.capacity, attempts: variant.attempts, connections: variant.connections, userOffset: offset });
        logLine(describeRun(run, tag));
        return run;
      };
      const allRuns: RaceOutcome[] = [];
      try {
        logLine('=== booking: warm-up ===');
        for (const system of SYSTEMS) allRuns.push(await race(VARIANTS[1] as Variant, system, 'warm-up'));
        const runs = new Map<string, RaceOutcome[]>();
        for (let rep = 0; rep < REPEATS && !wasInterrupted(); rep += 1) {
          logLine(`=== booking: repeat ${rep + 1} of ${REPEATS} ===`);
          for (const variant of VARIANTS) {
            const order = rep % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
            for (const system of order) {
              const run = await race(variant, system, `rep ${rep + 1} ${variant.key}`);
              allRuns.push(run);
              runs.set(`${variant.key}|${system}`, [...(runs.get(`${variant.key}|${system}`) ?? []), run]);
            }
          }
        }
        logLine('=== booking: profiled passes ===');
        const profiles = new Map<string, PathProfile>();
        for (const variant of VARIANTS) {
          let run: RaceOutcome | undefined;
          const profile = await profiler.profile(`book_event ${variant.key}`, variant.attempts, clients.slice(0, variant.connections), async () => {
            run = await race(variant, 'rally', `profiled ${variant.key}`);
          });
          if (run !== undefined) allRuns.push(run);
          profiles.set(variant.key, profile);
        }

        const rows: PathRow[] = VARIANTS.map((variant) => {
          const rally = runs.get(`${variant.key}|rally`) ?? [];
          const baseline = runs.get(`${variant.key}|baseline`) ?? [];
          const contract = runs.get(`${variant.key}|contract`) ?? [];
          const roundTrip = runs.get(`${variant.key}|roundtrip`) ?? [];
          const tput = (rs: readonly RaceOutcome[]): number => median(rs.map((r) => r.throughput));
          const p50 = (rs: readonly RaceOutcome[]): number => median(rs.map((r) => r.latencyP50Ms));
          const ratio = tput(rally) / tput(baseline);
          const ratios = rally.map((r, i) => r.throughput / (baseline[i]?.throughput ?? Number.NaN));
          const floorRatios = contract.map((r, i) => r.throughput / (baseline[i]?.throughput ?? Number.NaN));
          const toFloorRatios = rally.map((r, i) => r.throughput / (contract[i]?.throughput ?? Number.NaN));
          const floorRatio = tput(contract) / tput(baseline);
          const cpu = (rs: readonly RaceOutcome[]): number => median(rs.map((r) => r.backendCpuMsPerAttempt));
          const figure = (rs: readonly RaceOutcome[]): string =>
            (variant.connections === 1 ? `${fmtMs(p50(rs))} p50 (${perSecond(tput(rs))})` : `${perSecond(tput(rs))} attempts`) +
            (Number.isFinite(cpu(rs)) ? `, ${cpu(rs).toFixed(2)} ms CPU` : '');
          return {
            path: variant.path,
            rally: figure(rally),
            baseline: `bare hot-row update + insert ${figure(baseline)}; round-trip floor ${figure(roundTrip)} (${(tput(roundTrip) / tput(baseline)).toFixed(2)}×)`,
            ratio,
            goal: `≥ ${variant.goal.toFixed(2)}×`,
            met: ratio >= variant.goal,
            spread: spreadOf(ratios),
            slowest: slowestLine(profiles.get(variant.key)),
            floor: `${figure(contract)} (floor/baseline ${spreadOf(floorRatios)}, Rally/floor ${spreadOf(toFloorRatios)})${floorRatio < variant.goal ? '; goal beyond the contract floor' : ''}`,
            floorRatio,
            rallyToFloor: tput(rally) / tput(contract),
          };
        });
        const broken = allRuns.filter((r) => !runOk(r));
        const invariants: Invariant[] = [{
          name: 'never oversold, every rejection a clean sold_out, the database agrees',
          ok: broken.length === 0 && allRuns.length > 0,
          detail: broken.length === 0
            ? `${allRuns.length} runs (warm-up, repeats and profiled passes): confirmed = min(capacity, attempts) = Σ slot taken = confirmed rows`
            : broken.map((r) => `${r.system} cap ${r.capacity}: ${r.confirmed} confirmed, db taken ${r.dbTaken}, db confirmed ${r.dbConfirmed}, other ${JSON.stringify(r.otherErrors)}`).join('; '),
        }];
        return printReport({ bench: 'booking', rows, invariants, extra: { plprofiler: profiler.plprofiler } }, [...profiles.values()]);
      } finally {
        await closeClients([...clients, sampler]);
      }
    } finally {
      await admin.end();
      await closeTestPools();
    }
  });
}

runMain(main);
