/**
 * `npm run demo`: walks the whole Rally story through @supabase/supabase-js against the running
 * local stack (`npm start` in another terminal) and prints each step and the wallet balances.
 * Exits 0 when every step's expected outcome happened, 1 otherwise, 2 when no stack answers or
 * the stack that answers is not the one the demo was pointed at (nothing is written then).
 *
 *   tsx scripts/demo.ts [--starts-in <seconds>] [--length <seconds>]
 *
 * Pointed at a stack by the values its status block prints (scripts/lib/demo/stack.ts); the
 * story itself is scripts/lib/demo/story.ts (tests/demo/demo.test.ts runs it in `npm test`).
 */
import { runMain } from './lib/cli.ts';
import { RallyError } from './lib/errors.ts';
import { checkStack, demoTarget, StackMismatch, StackNotRunning } from './lib/demo/stack.ts';
import { runDemo } from './lib/demo/story.ts';

const USAGE = 'usage: tsx scripts/demo.ts [--starts-in <seconds ≥ 10>] [--length <seconds ≥ 1>]';

function numberFlag(args: string[], name: string, min: number): number | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value < min) throw new RallyError('USAGE', USAGE);
  return value;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const startsInSeconds = numberFlag(args, '--starts-in', 10);
  const lengthSeconds = numberFlag(args, '--length', 1);
  const { stack, sources } = await demoTarget();
  try {
    await checkStack(stack, sources);
  } catch (error) {
    if (error instanceof StackNotRunning || error instanceof StackMismatch) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const result = await runDemo(stack, {
    ...(startsInSeconds === undefined ? {} : { startsInSeconds }),
    ...(lengthSeconds === undefined ? {} : { lengthSeconds }),
  });
  return result.ok ? 0 : 1;
}

runMain(main);
