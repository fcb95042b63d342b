/**
 * vitest suite (tests/**\/*.test.ts but tests/smoke): edge-function handlers, integration and
 * property tests against the throwaway database. Counts come from vitest's JSON reporter.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PATHS, REPO_ROOT } from '../config.ts';
import { run } from '../process.ts';
import { testProcessEnv, timed, withoutColourOffTerminal, type SuiteResult, type TestEnv } from './result.ts';

const NAME = 'vitest (tests/**/*.test.ts)';

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { status: string; name: string; assertionResults: { status: string }[] }[];
}

export function runVitest(env: TestEnv): Promise<SuiteResult> {
  return runVitestFiles(NAME, PATHS.vitestConfig, env.fileFilter, testProcessEnv(env));
}

/** vitest with one config, counted from its JSON report. */
export async function runVitestFiles(name: string, config: string, fileFilter: string | undefined, processEnv: NodeJS.ProcessEnv): Promise<SuiteResult> {
  const NAME = name;
  const start = Date.now();
  const reportDir = mkdtempSync(join(tmpdir(), 'rally-vitest-'));
  const reportFile = join(reportDir, 'report.json');
  try {
    const args = [
      'run',
      '--config', config,
      '--passWithNoTests',
      '--reporter=default',
      `--reporter=${PATHS.vitestConsoleSummary}`,
      '--reporter=json',
      `--outputFile.json=${reportFile}`,
      ...(fileFilter ? [fileFilter] : []),
    ];
    const result = await run(PATHS.vitestBin, args, { cwd: REPO_ROOT, env: withoutColourOffTerminal(processEnv), output: 'inherit' });
    if (!existsSync(reportFile)) {
      return { name: NAME, passed: 0, failed: 1, note: `vitest exited with ${result.code} and wrote no report`, durationMs: timed(start) };
    }
    const counts = countReport(JSON.parse(readFileSync(reportFile, 'utf8')) as VitestJsonReport);
    const failed = counts.failed + (result.code !== 0 && counts.failed === 0 ? 1 : 0);
    return {
      name: NAME,
      passed: counts.passed,
      failed,
      ...(failed > counts.failed ? { note: `vitest exited with ${result.code}` } : {}),
      durationMs: timed(start),
    };
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

/** A file that failed to load has no failed assertions but must still count as a failure. */
function countReport(report: VitestJsonReport): { passed: number; failed: number } {
  const brokenFiles = report.testResults.filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((a) => a.status === 'failed'),
  ).length;
  return { passed: report.numPassedTests, failed: report.numFailedTests + brokenFiles };
}
