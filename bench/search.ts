/**
 * search_events benchmark (`npm run bench -- --only search`; bench/README.md): 100,000 published
 * public events around four cities, every search shape as an anonymous API request, against a
 * bare indexed listing select timed the same way in the same run. Goal: every shape's p95 within
 * 10× the listing's p50. The plan each shape ran (auto_explain, nested statements) is printed.
 *
 * Each shape has a contract floor (`floorStatement` in bench/lib/search.ts): the same filter and
 * card columns as one plain statement on private.events, built for the arguments given (best
 * index, no argument checks, no request context, no block test, cheapest price looked up after the
 * limit), interleaved with the shapes on the same connection and timed the same way. The rows
 * print floor p95 / listing p50 (above 10×: the goal is beyond the contract floor) and
 * Rally p95 / floor p95 (1.0× = at the floor; lower is better, like the goal's ratio).
 */
import pg from 'pg';
import { logLine, runMain } from '../scripts/lib/cli.ts';
import { jwtSecret } from '../scripts/lib/config.ts';
import { withThrowawayDb } from '../scripts/lib/throwaway.ts';
import { adminQuery, closeTestPools } from '../tests/support/db.ts';
import { createProfiler, type PathProfile } from './lib/profile.ts';
import { printReport, slowestLine, type PathRow } from './lib/report.ts';
import { generateCatalogue, runSearchBench } from './lib/search.ts';
import { fmtMs } from './lib/stats.ts';
import { createBenchUsers, makeHosts } from './lib/users.ts';

const CATALOGUE_SIZE = 100_000;
const SEARCH_HOSTS = 20;
const GOAL = 10;

async function main(): Promise<number> {
  return withThrowawayDb({ testHelpers: true, log: logLine }, async (db) => {
    process.env.SUPABASE_DB_URL = db.appUrl;
    process.env.RALLY_DB_URL = db.appUrl;
    process.env.RALLY_ADMIN_DB_URL = db.adminUrl;
    process.env.SUPABASE_JWT_SECRET = jwtSecret();
    const admin = new pg.Client({ connectionString: db.adminUrl, application_name: 'rally-bench-admin' });
    await admin.connect();
    try {
      logLine('=== search_events: setup ===');
      const hosts = await createBenchUsers('bench_host', SEARCH_HOSTS, 1);
      await makeHosts(hosts.map((h) => h.id));
      const generated = await generateCatalogue(hosts.map((h) => h.id), CATALOGUE_SIZE);
      logLine(`  ${generated.events} events and ${generated.ticketTypes} ticket types loaded and analysed in ${(generated.elapsedMs / 1000).toFixed(1)} s`);
      const { rows } = await adminQuery<{ n: number }>(
        "select count(*)::int as n from private.events where status = 'published' and visibility = 'public' and ends_at > now()",
      );
      logLine(`  ${rows[0]?.n ?? 0} upcoming published public events`);
      const profiler = await createProfiler(admin);
      let profile: PathProfile | undefined;
      logLine('=== search_events: measuring ===');
      const outcome = await runSearchBench(db.adminUrl, {
        callsPerShape: 200,
        warmupPerShape: 10,
        maxMsPerShape: 30_000,
        profiled: async (client, calls, body) => {
          profile = await profiler.profile('search_events (every shape)', calls, [client], body);
        },
      });
      const base = outcome.baseline.p50Ms;
      const shapeRows: PathRow[] = outcome.shapes.map((s) => ({
        path: `\`search_events\` ${s.name}: ${s.description}`,
        rally: `${fmtMs(s.p95Ms)} p95 (p50 ${fmtMs(s.p50Ms)}, ${s.avgRows.toFixed(1)} rows${Object.keys(s.errors).length > 0 ? `, errors ${JSON.stringify(s.errors)}` : ''})`,
        baseline: `bare listing p50 ${fmtMs(base)}`,
        ratio: s.ratioP95,
        goal: `≤ ${GOAL}×`,
        met: s.ratioP95 <= GOAL && Object.keys(s.errors).length === 0,
        floor: `same filter, plain SQL, p95 ${fmtMs(s.floor.p95Ms)} (p50 ${fmtMs(s.floor.p50Ms)}, ${s.floor.avgRows.toFixed(1)} rows)`,
        floorRatio: s.floor.p95Ms / base,
        rallyToFloor: s.p95Ms / s.floor.p95Ms,
      }));
      const worst = [...outcome.shapes].sort((a, b) => b.ratioP95 - a.ratioP95)[0];
      const issueRow: PathRow | undefined = worst === undefined ? undefined : {
        path: '`search_events` every shape, p95 (worst shown)',
        rally: `${worst.name} ${fmtMs(worst.p95Ms)} p95`,
        baseline: `bare listing p50 ${fmtMs(base)}`,
        ratio: worst.ratioP95,
        goal: `≤ ${GOAL}× every shape`,
        met: shapeRows.every((r) => r.met),
        floor: `its contract floor p95 ${fmtMs(worst.floor.p95Ms)}`,
        floorRatio: worst.floor.p95Ms / base,
        rallyToFloor: worst.p95Ms / worst.floor.p95Ms,
        slowest: slowestLine(profile),
      };
      const errors = outcome.shapes.filter((s) => Object.keys(s.errors).length > 0 || Object.keys(s.floor.errors).length > 0);
      const code = printReport({
        bench: 'search',
        rows: [...(issueRow ? [issueRow] : []), ...shapeRows],
        invariants: [{
          name: 'every search answered (no errors), anonymous, through the function the API calls',
          ok: errors.length === 0 && outcome.shapes.every((s) => s.calls > 0),
          detail: errors.length === 0 ? `${outcome.shapes.reduce((n, s) => n + s.calls, 0)} timed calls over ${outcome.shapes.length} shapes`
            : errors.map((s) => `${s.name}: ${JSON.stringify(s.errors)} floor ${JSON.stringify(s.floor.errors)}`).join('; '),
        }],
        extra: { plprofiler: profiler.plprofiler, baseline: outcome.baseline },
      }, profile ? [profile] : []);
      process.stdout.write('\nplans (EXPLAIN ANALYZE, BUFFERS of the statement inside private.search_events, via auto_explain):\n');
      for (const explain of outcome.explains) process.stdout.write(`\n${explain.text}`);
      return code;
    } finally {
      await admin.end();
      await closeTestPools();
    }
  });
}

runMain(main);
