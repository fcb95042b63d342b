/**
 * Child-process helpers. Output either streams to our stderr (so a script's stdout stays clean
 * for machine-readable lines such as `SUPABASE_DB_URL=…`) or is captured for parsing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { RallyError, type RallyErrorCode } from './errors.ts';

export type OutputMode =
  /** child stdout+stderr are copied to our stderr; nothing is kept */
  | 'stderr'
  /** child stdout+stderr are kept in memory (and not shown) */
  | 'capture'
  /** child stdout+stderr are kept and also copied to our stderr */
  | 'tee'
  /** child shares our stdio */
  | 'inherit';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  output?: OutputMode;
  /** text written to the child's stdin, then closed */
  input?: string;
}

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Children still running, so an interrupted script can end them before cleaning up. */
const activeChildren = new Set<ChildProcess>();

export function terminateActiveChildren(): void {
  for (const child of activeChildren) child.kill('SIGTERM');
}

/** Runs a command to completion; never throws for a non-zero exit (see `runChecked`). */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const output = options.output ?? 'stderr';
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // stdin is /dev/null unless we feed it, so no tool can ever wait on a prompt.
      stdio: [options.input === undefined ? 'ignore' : 'pipe', output === 'inherit' ? 'inherit' : 'pipe', output === 'inherit' ? 'inherit' : 'pipe'],
    });
    activeChildren.add(child);
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    collect(child, output, chunks);
    if (child.stdin) {
      // A child that exits before reading its input must not crash us with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    child.on('error', (error) => {
      activeChildren.delete(child);
      reject(new RallyError('COMMAND_FAILED', `cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      activeChildren.delete(child);
      resolve({
        code: code ?? 1,
        signal,
        stdout: Buffer.concat(chunks.stdout).toString('utf8'),
        stderr: Buffer.concat(chunks.stderr).toString('utf8'),
      });
    });
  });
}

function collect(child: ChildProcess, output: OutputMode, chunks: { stdout: Buffer[]; stderr: Buffer[] }): void {
  if (output === 'inherit') return;
  const keep = output === 'capture' || output === 'tee';
  const show = output === 'stderr' || output === 'tee';
  child.stdout?.on('data', (data: Buffer) => {
    if (keep) chunks.stdout.push(data);
    if (show) process.stderr.write(data);
  });
  child.stderr?.on('data', (data: Buffer) => {
    if (keep) chunks.stderr.push(data);
    if (show) process.stderr.write(data);
  });
}

/** Runs a command and throws a RallyError with the given code (and the tail of its output) on failure. */
export async function runChecked(
  code: RallyErrorCode,
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(command, args, { ...options, output: options.output ?? 'tee' });
  if (result.code !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new RallyError(code, `${command} ${args.join(' ')} exited with ${result.code}${tail ? `:\n${tail}` : ''}`);
  }
  return result;
}
