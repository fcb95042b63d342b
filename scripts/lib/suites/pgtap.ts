/**
 * pgTAP suite: Debian's pg_prove (the same 3.36 the CLI's Docker image uses) over tests/db/*.test.sql,
 * connected as `postgres` — not a superuser — exactly as `supabase test db` connects. The first
 * file (000-setup-tests-helpers) installs pgTAP and the helpers; each file switches roles itself.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { APP_ROLE, PATHS, REPO_ROOT, libpqEnv } from '../config.ts';
import { findPgProve } from '../pg-binaries.ts';
import { run } from '../process.ts';
import { timed, type SuiteResult } from './result.ts';

const NAME = 'pgTAP (pg_prove tests/db)';

export function pgTapFiles(): string[] {
  if (!existsSync(PATHS.pgTapTests)) return [];
  return readdirSync(PATHS.pgTapTests)
    .filter((name) => name.endsWith('.test.sql'))
    .sort()
    .map((name) => relative(REPO_ROOT, join(PATHS.pgTapTests, name)));
}

export async function runPgTap(port: number, fileFilter?: string, name: string = NAME): Promise<SuiteResult> {
  const start = Date.now();
  const files = pgTapFiles().filter((file) => !fileFilter || file.includes(fileFilter));
  if (files.length === 0) return { name, passed: 0, failed: 0, note: 'no tests/db/*.test.sql', durationMs: timed(start) };
  const pgProve = await findPgProve();
  const result = await run(pgProve, ['--ext', '.sql', '--failures', ...files], {
    cwd: REPO_ROOT,
    env: libpqEnv(APP_ROLE, port),
    output: 'tee',
  });
  const counts = parseProveSummary(result.stdout + result.stderr);
  const failed = counts.failed + (result.code !== 0 && counts.failed === 0 ? 1 : 0);
  return {
    name,
    passed: counts.passed,
    failed,
    ...(failed > counts.failed ? { note: `pg_prove exited with ${result.code}` } : {}),
    durationMs: timed(start),
  };
}

export interface ProveCounts {
  passed: number;
  failed: number;
}

/**
 * Reads TAP::Harness's summary: `Files=N, Tests=T, …` gives the total, and each
 * `file (Wstat: W Tests: T Failed: F)` line under "Test Summary Report" gives failures. A file that
 * died or planned differently (Failed: 0 but listed) counts as one failure, so it is never lost.
 */
export function parseProveSummary(output: string): ProveCounts {
  const total = Number(/Files=\d+, Tests=(\d+)/.exec(output)?.[1] ?? 0);
  let failed = 0;
  let brokenFiles = 0;
  for (const match of output.matchAll(/\(Wstat: .*Tests: \d+ Failed: (\d+)\)$/gm)) {
    const count = Number(match[1]);
    failed += count;
    if (count === 0) brokenFiles += 1;
  }
  return { passed: Math.max(0, total - failed), failed: failed + brokenFiles };
}
