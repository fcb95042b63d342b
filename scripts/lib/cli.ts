/**
 * Shared entry-point plumbing: one place that turns a thrown RallyError into a readable message
 * and an exit code, so every script fails the same way.
 */
import { describeError } from './errors.ts';

export function logLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
