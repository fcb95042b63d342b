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
  /** the contract floor and its figure: the rows and messages the path must write (or read) by its contract, bare */
  floor?: string;
  /** floor / baseline, oriented like ratio: the best ratio any implementation keeping the contract could reach */
  floorRatio?: number;
  /** Rally / floor (1 = Rally is at its floor) */
  rallyToFloor?: number;
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

/** True when the contract floor itself is below the goal: no implementation keeping the contract can meet it. */
export function goalBeyondFloor(row: PathRow, goal: number): boolean {
  return row.floorRatio !== undefined && Number.isFinite(row.floorRatio) && row.floorRatio < goal;
}

function verdict(r: PathRow): string {
  if (r.met) return 'met';
  return r.goal.startsWith('≥') && goalBeyondFloor(r, Number.parseFloat(r.goal.slice(1))) ? 'MISSED: goal beyond the contract floor' : 'MISSED';
}

export function formatRows(rows: readonly PathRow[]): string {
  const withFloor = rows.some((r) => r.floor !== undefined);
  const head = ['path', 'Rally', 'baseline (same run)', 'ratio', 'spread', 'goal', 'verdict'];
  const floorHead = withFloor ? ['contract floor (same run)', 'floor/baseline', 'Rally/floor'] : [];
  return formatTable(
    [...head, ...floorHead],
    rows.map((r) => [
      r.path, r.rally, r.baseline, fmtRatio(r.ratio), r.spread ?? '', r.goal, verdict(r),
      ...(withFloor ? [r.floor ?? '', fmtRatio(r.floorRatio ?? null), fmtRatio(r.rallyToFloor ?? null)] : []),
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
