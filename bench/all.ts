/**
 * `npm run bench`: every benchmark, one after another, each on its own throwaway cluster so
 * none measures another's leftovers. Each prints its own table and a `BENCH_RESULT {...}` line.
 * Goals are printed by each benchmark next to its ratios ("BELOW GOAL", "MISS"); a broken
 * invariant or a crash makes the run exit non-zero. `BENCH_ONLY=booking,chat` runs a subset.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Benchmark {
  name: string;
  file: string;
}

const BENCHMARKS: readonly Benchmark[] = [
  { name: 'booking', file: 'run.ts' },
  { name: 'social', file: 'social.ts' },
  { name: 'chat', file: 'chat.ts' },
  { name: 'payments', file: 'payments.ts' },
];

function selected(): readonly Benchmark[] {
  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  return only === undefined || only.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => only.includes(b.name));
}

function runOne(bench: Benchmark): number {
  const path = fileURLToPath(new URL(bench.file, import.meta.url));
  if (!existsSync(path)) {
    process.stdout.write(`\n=== ${bench.name}: not present, skipped\n`);
    return 0;
  }
  process.stdout.write(`\n=== ${bench.name} (bench/${bench.file})\n`);
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const result = spawnSync(tsx, [path], { stdio: 'inherit' });
  return result.status ?? 1;
}

const failed = selected().filter((bench) => runOne(bench) !== 0).map((bench) => bench.name);
process.stdout.write(`\n${failed.length === 0 ? 'every benchmark ran (see each table for ratios against goals)' : `benchmarks that failed or broke an invariant: ${failed.join(', ')}`}\n`);
process.exitCode = failed.length === 0 ? 0 : 1;
