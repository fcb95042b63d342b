/**
 * A pid file that keeps two `npm start` from fighting over the same ports and data dir. A file
 * whose process is gone (crash, kill -9) is stale and silently replaced.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RallyError } from './errors.ts';

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return looksLikeOurs(pid);
}

/** Guards against pid reuse: on Linux the live pid must still be a node process. */
function looksLikeOurs(pid: number): boolean {
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync(cmdline)) return true;
  return /node|tsx/.test(readFileSync(cmdline, 'utf8'));
}

export interface Lock {
  release(): void;
}

export function acquireLock(file: string, what: string): Lock {
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (isAlive(pid)) throw new RallyError('STACK_RUNNING', `${what} is already running (pid ${pid}, lock ${file})`);
    rmSync(file, { force: true });
  }
  mkdirSync(dirname(file), { recursive: true });
  try {
    // 'wx' fails if another start created the file since our check: exactly one of them wins.
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
  } catch {
    throw new RallyError('STACK_RUNNING', `${what} is starting in another process (lock ${file})`);
  }
  return {
    release: () => {
      // Only remove the file if it is still ours.
      if (existsSync(file) && readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
    },
  };
}
