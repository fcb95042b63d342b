/**
 * `npm test`: every suite against one throwaway cluster (temp dir, free port, full apply plus
 * tests/support/db-helpers.sql), in order: pgTAP, vitest, deno check, Deno smoke tests, and the e2e suite through supabase-js against the API stack.
 * Prints one line per suite, then exactly `N passed, N failed`; exits non-zero on any failure.
 *
 *   tsx scripts/test.ts [--only pgtap,vitest,deno-check,smoke,e2e]
 */
import { logLine, runMain } from './lib/cli.ts';
import { RallyError, describeError } from './lib/errors.ts';
import { apiKeys } from './lib/keys.ts';
import { freePort } from './lib/ports.ts';
import { wasInterrupted, withThrowawayDb } from './lib/throwaway.ts';
import { runDenoCheck, runDenoSmoke } from './lib/suites/deno.ts';
import { runPgTap } from './lib/suites/pgtap.ts';
import { runVitest } from './lib/suites/vitest.ts';
import { runE2e } from './lib/suites/e2e.ts';
import type { SuiteResult, TestEnv } from './lib/suites/result.ts';

const SUITES = ['pgtap', 'vitest', 'deno-check', 'smoke', 'e2e'] as const;
type SuiteName = (typeof SUITES)[number];

const RUNNERS: Record<SuiteName, (env: TestEnv) => Promise<SuiteResult>> = {
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
  const results = await withThrowawayDb({ testHelpers: true, log: logLine }, async (db) => {
    const keys = await apiKeys();
    const env: TestEnv = { ...db, ...keys, functionsPort: await freePort(), ...(filter ? { fileFilter: filter } : {}) };
    const collected: SuiteResult[] = [];
    for (const suite of selected) {
      if (wasInterrupted()) break;
      logLine(`\n=== ${suite} ===`);
      collected.push(await runSuite(suite, env));
    }
    return collected;
  });
  return report(results, Date.now() - started);
}

/** A suite that cannot run at all (missing tool, crash) is one failure, and the others still run. */
async function runSuite(suite: SuiteName, env: TestEnv): Promise<SuiteResult> {
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
