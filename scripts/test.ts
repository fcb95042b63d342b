/**
 * `npm test`: every suite against one throwaway cluster (temp dir, free port, full apply plus
 * the pgTAP helpers), in order: pgTAP, vitest, deno check, Deno smoke tests, the e2e suite through
 * supabase-js against the API stack; then `exposure`: the RLS matrix on a second cluster built with
 * the other new-entity default privileges, and the API roles' privileges compared between the two.
 * Prints one line per suite, then exactly `N passed, N failed`; exits non-zero on any failure.
 *
 *   tsx scripts/test.ts [--only pgtap,vitest,deno-check,smoke,e2e,exposure] [--files <path fragment>]
 */
import { logLine, runMain } from './lib/cli.ts';
import { apiAutoExpose } from './lib/config.ts';
import { RallyError, describeError } from './lib/errors.ts';
import { apiKeys } from './lib/keys.ts';
import { freePort } from './lib/ports.ts';
import { wasInterrupted, withThrowawayDb } from './lib/throwaway.ts';
import { runDenoCheck, runDenoSmoke } from './lib/suites/deno.ts';
import { runPgTap } from './lib/suites/pgtap.ts';
import { runVitest } from './lib/suites/vitest.ts';
import { runE2e } from './lib/suites/e2e.ts';
import { RLS_MATRIX_FILE, apiRolePrivileges, runExposureSuite, type Privilege } from './lib/suites/exposure.ts';
import type { SuiteResult, TestEnv } from './lib/suites/result.ts';

const SUITES = ['pgtap', 'vitest', 'deno-check', 'smoke', 'e2e', 'exposure'] as const;
type SuiteName = (typeof SUITES)[number];
type ClusterSuite = Exclude<SuiteName, 'exposure'>;

const RUNNERS: Record<ClusterSuite, (env: TestEnv) => Promise<SuiteResult>> = {
  pgtap: (env) => runPgTap(env.port, env.fileFilter),
  vitest: runVitest,
  'deno-check': () => runDenoCheck(),
  smoke: runDenoSmoke,
  e2e: runE2e,
};

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const selected = selectedSuites(args);
  const filter = fileFilter(args);
  const started = Date.now();
  const mainMode = apiAutoExpose();
  const exposure = selected.includes('exposure') && (!filter || `tests/db/${RLS_MATRIX_FILE}.test.sql`.includes(filter));
  let mainPrivileges: Privilege[] = [];
  const results = await withThrowawayDb({ testHelpers: true, log: logLine }, async (db) => {
    const keys = await apiKeys();
    const env: TestEnv = { ...db, ...keys, functionsPort: await freePort(), ...(filter ? { fileFilter: filter } : {}) };
    const collected: SuiteResult[] = [];
    for (const suite of selected) {
      if (wasInterrupted() || suite === 'exposure') continue;
      logLine(`\n=== ${suite} ===`);
      collected.push(await runSuite(suite, env));
    }
    if (exposure) mainPrivileges = await apiRolePrivileges(db.appUrl).catch((error: unknown) => {
      logLine(`error: reading the API roles' privileges: ${describeError(error)}`);
      return [];
    });
    return collected;
  });
  if (exposure && !wasInterrupted()) {
    logLine('\n=== exposure ===');
    results.push(...(await runExposureSuite({ mainMode, mainPrivileges, log: logLine }).catch((error: unknown) => {
      logLine(`error: ${describeError(error)}`);
      return [{ name: 'exposure', passed: 0, failed: 1, note: describeError(error).split('\n')[0] ?? '', durationMs: 0 }];
    })));
  }
  return report(results, Date.now() - started);
}

/** A suite that cannot run at all (missing tool, crash) is one failure, and the others still run. */
async function runSuite(suite: ClusterSuite, env: TestEnv): Promise<SuiteResult> {
  const start = Date.now();
  try {
    return await RUNNERS[suite](env);
  } catch (error) {
    logLine(`error: ${describeError(error)}`);
    return { name: suite, passed: 0, failed: 1, note: describeError(error).split('\n')[0] ?? '', durationMs: Date.now() - start };
  }
}

/** `--files <text>`: only pgTAP and vitest files whose path contains <text> (for iterating on one area). */
function fileFilter(args: string[]): string | undefined {
  const index = args.indexOf('--files');
  if (index === -1) return undefined;
  const text = args[index + 1];
  if (!text) throw new RallyError('USAGE', 'usage: tsx scripts/test.ts [--files <path fragment>]');
  return text;
}

function selectedSuites(args: string[]): SuiteName[] {
  const index = args.indexOf('--only');
  if (index === -1) return [...SUITES];
  const names = (args[index + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((name) => !(SUITES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new RallyError('USAGE', `usage: tsx scripts/test.ts [--only ${SUITES.join(',')}]`);
  }
  return SUITES.filter((suite) => names.includes(suite));
}

/** Per-suite lines, then the single summary line tools and people grep for. */
function report(results: SuiteResult[], durationMs: number): number {
  process.stdout.write('\n');
  for (const result of results) {
    const note = result.note ? ` — ${result.note}` : '';
    process.stdout.write(`${result.name}: ${result.passed} passed, ${result.failed} failed (${seconds(result.durationMs)})${note}\n`);
  }
  const passed = results.reduce((sum, r) => sum + r.passed, 0);
  const failed = results.reduce((sum, r) => sum + r.failed, 0);
  process.stdout.write(`total time ${seconds(durationMs)}\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

runMain(main);
