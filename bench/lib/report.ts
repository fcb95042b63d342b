/**
 * One report shape for every benchmark: each path's figure next to its same-run baseline, the
 * ratio, the goal and whether it was met; the invariants checked (a broken one fails the run, a
 * missed goal never does); the profile behind each path. `npm run bench` gathers the
 * `BENCH_RESULT` lines of every benchmark into the issue-16 table at the end.
 */
import { formatTable } from './stats.ts';
import { formatProfile, slowestStatement, type PathProfile } from './profile.ts';

export interface PathRow {
  /** the row of the issue-16 table, e.g. "book_event, one connection" */
  path: string;
  /** Rally's figure, as printed ("4.49 ms p50 (209/s)") */
  rally: string;
  /** the baseline and its figure ("bare hot-row update + insert 0.28 ms (2,711/s)") */
  baseline: string;
  /** Rally / baseline, oriented so that higher is better; null where a goal is absolute */
  ratio: number | null;
  /** "≥ 0.25×", "≤ 5 ms", "≤ 10×" */
  goal: string;
  met: boolean;
  /** the spread over repeats, when there were any ("0.31–0.35×") */
  spread?: string;
  /** the slowest leaf statement of the profiled pass, per path call */
  slowest?: string;
  /**
   * The contract floor and its figure: exactly the rows and Realtime messages the path must write
   * by its contract, plain SQL into trigger-free, FK-free copies of the tables, same connections
   * and round trips as the Rally runs.
   */
  floor?: string;
  /** floor / baseline, oriented like `ratio`: the best ratio any implementation keeping the contract could reach */
  floorRatio?: number;
  /** Rally / floor, oriented like `ratio` (1.0 = at the floor) */
  rallyToFloor?: number;
}

/** Whether a row's goal lies beyond what its contract floor reaches (goals read like "≥ 0.5×" or "≤ 10×"). */
export function goalBeyondFloor(row: PathRow): boolean {
  if (row.floorRatio === undefined || !Number.isFinite(row.floorRatio)) return false;
  const match = /^(≥|≤)\s*([0-9.]+)×/.exec(row.goal.trim());
  if (match === null) return false;
  const goal = Number(match[2]);
  return match[1] === '≥' ? row.floorRatio < goal : row.floorRatio > goal;
}

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

export interface BenchReport {
  bench: string;
  rows: PathRow[];
  invariants: Invariant[];
  /** any extra figures a benchmark wants in its JSON */
  extra?: Record<string, unknown>;
}

export const fmtRatio = (value: number | null): string => (value === null || !Number.isFinite(value) ? '—' : `${value.toFixed(2)}×`);

export const perSecond = (value: number): string => `${Math.round(value).toLocaleString('en')}/s`;

/** "0.31–0.35×" from the ratios of several repeats. */
export function spreadOf(ratios: readonly number[]): string {
  const finite = ratios.filter((r) => Number.isFinite(r));
  if (finite.length < 2) return '';
  return `${Math.min(...finite).toFixed(2)}–${Math.max(...finite).toFixed(2)}×`;
}

/** The slowest statement of a profile as one short line. */
export function slowestLine(profile: PathProfile | undefined): string | undefined {
  if (profile === undefined) return undefined;
  const slowest = slowestStatement(profile);
  if (slowest === null) return undefined;
  const query = slowest.query.length > 110 ? `${slowest.query.slice(0, 109)}…` : slowest.query;
  return `${slowest.msPerCall.toFixed(3)} ms/call: ${query}`;
}

export function formatRows(rows: readonly PathRow[]): string {
  return formatTable(
    ['path', 'Rally', 'baseline (same run)', 'ratio', 'spread', 'goal', 'verdict', 'contract floor', 'floor/baseline', 'Rally/floor'],
    rows.map((r) => [
      r.path, r.rally, r.baseline, fmtRatio(r.ratio), r.spread ?? '', r.goal,
      r.met ? 'met' : goalBeyondFloor(r) ? 'MISSED: goal beyond the contract floor' : 'MISSED',
      r.floor ?? '', r.floorRatio === undefined ? '' : fmtRatio(r.floorRatio), r.rallyToFloor === undefined ? '' : fmtRatio(r.rallyToFloor),
    ]),
  );
}

export function formatInvariants(invariants: readonly Invariant[]): string {
  return invariants.map((i) => `${i.ok ? 'PASS' : 'FAIL'}  ${i.name}: ${i.detail}`).join('\n');
}

/** Prints the report (table, slowest statements, profiles, invariants, BENCH_RESULT); returns the exit code. */
export function printReport(report: BenchReport, profiles: readonly PathProfile[]): number {
  const out = process.stdout;
  out.write(`\n${report.bench}: every figure against a baseline measured in the same run (ratio: higher is better)\n`);
  out.write(`${formatRows(report.rows)}\n`);
  const slow = report.rows.filter((r) => r.slowest !== undefined);
  if (slow.length > 0) {
    out.write('\nslowest statement of each path (profiled pass):\n');
    for (const r of slow) out.write(`  ${r.path}: ${r.slowest ?? ''}\n`);
  }
  for (const profile of profiles) out.write(`\n${formatProfile(profile)}\n`);
  out.write(`\ninvariants (a broken one fails the run; a missed goal does not):\n${formatInvariants(report.invariants)}\n`);
  out.write(`BENCH_RESULT ${JSON.stringify(report)}\n`);
  return report.invariants.every((i) => i.ok) ? 0 : 1;
}
