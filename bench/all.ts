/**
 * `npm run bench`: every benchmark, one after another, each on its own throwaway cluster so none
 * measures another's leftovers; `npm run bench -- --only booking,chat` (or BENCH_ONLY=…) runs a
 * subset. Each benchmark prints its table, its profiles and a `BENCH_RESULT {...}` line; at the
 * end the paths of issue 16 are gathered into one table. A broken invariant or a crash makes the
 * run exit 1; a missed speed goal never does (it says MISSED).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatInvariants, formatRows, type BenchReport } from './lib/report.ts';

interface Benchmark {
  name: string;
  file: string;
}

const BENCHMARKS: readonly Benchmark[] = [
  { name: 'booking', file: 'booking.ts' },
  { name: 'payments', file: 'payments.ts' },
  { name: 'social', file: 'social.ts' },
  { name: 'chat', file: 'chat.ts' },
  { name: 'search', file: 'search.ts' },
];

function requested(argv: readonly string[]): string[] | null {
  const i = argv.indexOf('--only');
  const raw = i >= 0 ? argv[i + 1] : process.env.BENCH_ONLY;
  if (raw === undefined || raw.trim() === '') return null;
  return raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
}

function selected(): readonly Benchmark[] {
  const only = requested(process.argv.slice(2));
  if (only === null) return BENCHMARKS;
  const unknown = only.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  }
  return BENCHMARKS.filter((b) => only.includes(b.name));
}

/** Runs one benchmark, echoing its output, and returns its exit code and report. */
function runOne(bench: Benchmark): Promise<{ code: number; report: unknown }> {
  process.stdout.write(`\n=== ${bench.name} (bench/${bench.file})\n`);
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const child = spawn(tsx, [fileURLToPath(new URL(bench.file, import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  let report: unknown = null;
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('BENCH_RESULT ')) report = JSON.parse(line.slice('BENCH_RESULT '.length)) as unknown;
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code: code ?? 1, report }));
  });
}

function isBenchReport(value: unknown): value is BenchReport {
  const v = value as Partial<BenchReport> | null;
  return typeof v === 'object' && v !== null && typeof v.bench === 'string' && Array.isArray(v.rows) && Array.isArray(v.invariants);
}

async function main(): Promise<number> {
  const started = performance.now();
  const benches = selected();
  const results: { bench: Benchmark; code: number; report: unknown }[] = [];
  for (const bench of benches) results.push({ bench, ...(await runOne(bench)) });
  const reports = results.flatMap((r) => (r.report !== null && isBenchReport(r.report) ? [r.report] : []));
  const rows = reports.flatMap((r) => r.rows);
  process.stdout.write(`\n=== issue 16: hot paths against their same-run baselines (${new Date().toISOString()}, ${((performance.now() - started) / 60_000).toFixed(1)} min)\n`);
  process.stdout.write(`${formatRows(rows)}\n`);
  const profiled = rows.filter((row) => row.slowest !== undefined);
  if (profiled.length > 0) {
    process.stdout.write('\nslowest statement of each path (its profiled pass; the whole profiles are printed above):\n');
    for (const row of profiled) process.stdout.write(`  ${row.path}: ${row.slowest ?? ''}\n`);
  }
  process.stdout.write(`\n${formatInvariants(reports.flatMap((r) => r.invariants.map((i) => ({ ...i, name: `${r.bench}: ${i.name}` }))))}\n`);
  const failed = results.filter((r) => r.code !== 0 || r.report === null).map((r) => r.bench.name);
  process.stdout.write(`\n${failed.length === 0 ? 'every invariant held (missed goals, if any, say MISSED above)' : `benchmarks that failed or broke an invariant: ${failed.join(', ')}`}\n`);
  return failed.length === 0 ? 0 : 1;
}

main().then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
