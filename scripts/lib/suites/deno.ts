/**
 * Deno suites: `deno check` of every function entrypoint (one test per function, as the Edge
 * Runtime would refuse to boot a function that does not type-check) and the smoke tests in
 * tests/smoke, which start the functions gateway themselves.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PATHS, REPO_ROOT } from '../config.ts';
import { run } from '../process.ts';
import { testProcessEnv, timed, withoutColourOffTerminal, type SuiteResult, type TestEnv } from './result.ts';

const CHECK_NAME = 'deno check (functions/*/index.ts)';
const SMOKE_NAME = 'deno test (tests/smoke)';

export function functionEntrypoints(): string[] {
  if (!existsSync(PATHS.functionsDir)) return [];
  return readdirSync(PATHS.functionsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('_'))
    .map((entry) => join(PATHS.functionsDir, entry.name, 'index.ts'))
    .filter((file) => existsSync(file))
    .map((file) => relative(REPO_ROOT, file))
    .sort();
}

export async function runDenoCheck(): Promise<SuiteResult> {
  const start = Date.now();
  const entrypoints = functionEntrypoints();
  if (entrypoints.length === 0) return { name: CHECK_NAME, passed: 0, failed: 0, note: 'no functions', durationMs: timed(start) };
  // One run for all is fast; only when it fails do we check each to say which functions broke.
  if (await denoCheck(entrypoints)) return { name: CHECK_NAME, passed: entrypoints.length, failed: 0, durationMs: timed(start) };
  const broken: string[] = [];
  for (const entrypoint of entrypoints) {
    if (!(await denoCheck([entrypoint]))) broken.push(entrypoint);
  }
  return {
    name: CHECK_NAME,
    passed: entrypoints.length - broken.length,
    failed: Math.max(1, broken.length),
    note: broken.length ? `failed: ${broken.join(', ')}` : 'deno check failed for the set but no single entrypoint',
    durationMs: timed(start),
  };
}

async function denoCheck(files: string[]): Promise<boolean> {
  const result = await run(PATHS.denoBin, ['check', '--quiet', '--config', PATHS.denoConfig, ...files], {
    cwd: REPO_ROOT,
    env: withoutColourOffTerminal(process.env),
    output: 'tee',
  });
  return result.code === 0;
}

/** tests/smoke may carry its own deno.json; otherwise it shares the functions' import map. */
function smokeConfig(): string {
  for (const name of ['deno.json', 'deno.jsonc']) {
    const candidate = join(PATHS.smokeTests, name);
    if (existsSync(candidate)) return candidate;
  }
  return PATHS.denoConfig;
}

export async function runDenoSmoke(env: TestEnv): Promise<SuiteResult> {
  const start = Date.now();
  if (!existsSync(PATHS.smokeTests)) return { name: SMOKE_NAME, passed: 0, failed: 0, note: 'no tests/smoke', durationMs: timed(start) };
  const args = ['test', '--allow-all', '--config', smokeConfig(), relative(REPO_ROOT, PATHS.smokeTests)];
  const result = await run(PATHS.denoBin, args, { cwd: REPO_ROOT, env: withoutColourOffTerminal(testProcessEnv(env)), output: 'tee' });
  const counts = parseDenoTestSummary(result.stdout + result.stderr);
  const failed = counts.failed + (result.code !== 0 && counts.failed === 0 ? 1 : 0);
  return {
    name: SMOKE_NAME,
    passed: counts.passed,
    failed,
    ...(failed > counts.failed ? { note: `deno test exited with ${result.code}` } : {}),
    durationMs: timed(start),
  };
}

/** `ok | 3 passed (2 steps) | 0 failed (120ms)` or `FAILED | 2 passed | 1 failed (…)`. */
export function parseDenoTestSummary(output: string): { passed: number; failed: number } {
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
  const match = /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(plain);
  return { passed: Number(match?.[1] ?? 0), failed: Number(match?.[2] ?? 0) };
}
