/**
 * PostgreSQL refuses to run as root. When we are root (CI, this repo's machines) the server
 * tools run as an unprivileged OS user through `runuser`; otherwise they run as ourselves.
 */
import { chownSync } from 'node:fs';
import { RallyError } from './errors.ts';
import { run } from './process.ts';

/** Reused when present (Debian's postgresql package creates it); created as a system user otherwise. */
const PREFERRED_USER = 'postgres';
const FALLBACK_USER = 'rally-postgres';

export interface ServerUser {
  /** undefined when we are not root: tools run as the current user */
  name: string | undefined;
  uid: number;
  gid: number;
}

let cached: ServerUser | undefined;

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export async function serverUser(): Promise<ServerUser> {
  if (cached) return cached;
  if (!isRoot()) {
    cached = { name: undefined, uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
    return cached;
  }
  const name = (await userIds(PREFERRED_USER)) ? PREFERRED_USER : await ensureFallbackUser();
  const ids = await userIds(name);
  if (!ids) throw new RallyError('OS_USER', `OS user ${name} has no uid/gid`);
  cached = { name, ...ids };
  return cached;
}

async function ensureFallbackUser(): Promise<string> {
  if (await userIds(FALLBACK_USER)) return FALLBACK_USER;
  const result = await run(
    'useradd',
    ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', FALLBACK_USER],
    { output: 'capture' },
  );
  if (result.code !== 0) {
    throw new RallyError('OS_USER', `cannot create OS user ${FALLBACK_USER} to run PostgreSQL: ${result.stderr.trim()}`);
  }
  return FALLBACK_USER;
}

async function userIds(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const uid = await run('id', ['-u', name], { output: 'capture' });
  const gid = await run('id', ['-g', name], { output: 'capture' });
  if (uid.code !== 0 || gid.code !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The argv that runs `command` as the server user (unchanged when we are not root). */
export function asServerUser(user: ServerUser, command: string, args: readonly string[]): [string, string[]] {
  if (!user.name) return [command, [...args]];
  return ['runuser', ['-u', user.name, '--', command, ...args]];
}

/** Hands a path we created (as root) to the server user. */
export function giveToServerUser(user: ServerUser, path: string): void {
  if (user.name) chownSync(path, user.uid, user.gid);
}

/** Fails early, with a way out, when the server user cannot write `dir` (e.g. a repo under /root). */
export async function assertServerUserCanWrite(user: ServerUser, dir: string): Promise<void> {
  if (!user.name) return;
  const [command, args] = asServerUser(user, 'test', ['-w', dir, '-a', '-x', dir]);
  const result = await run(command, args, { output: 'capture' });
  if (result.code !== 0) {
    throw new RallyError(
      'PATH_NOT_REACHABLE',
      `OS user ${user.name} (which runs PostgreSQL, since we are root) cannot reach ${dir}. ` +
        'Make its parent directories world-executable, or set RALLY_DB_DIR to a directory under /tmp or /var/lib.',
    );
  }
}
