/**
 * The dev database under .rally/db: kept between runs, so only new migrations apply and the seed
 * runs once (on a fresh cluster, or after a reset).
 */
import { existsSync, readFileSync } from 'node:fs';
import { ADMIN_ROLE, APP_ROLE, STACK_LOCK_FILE, dbUrl, devDataDir, devDbPort } from './config.ts';
import { applyAll } from './apply.ts';
import { ensureParentDir, removeDataDir, startCluster, stopCluster } from './cluster.ts';
import { RallyError } from './errors.ts';
import { isAlive } from './lock.ts';

export interface DevDb {
  port: number;
  fresh: boolean;
  startedHere: boolean;
  appUrl: string;
  adminUrl: string;
  dataDir: string;
}

export interface DevDbOptions {
  /** drop the data dir first: a fresh cluster, seeded */
  reset: boolean;
  log: (line: string) => void;
}

/** Starts (or reuses) the cluster only; callers apply separately so they know what to stop on failure. */
export async function startDevCluster(options: DevDbOptions): Promise<DevDb> {
  const dataDir = devDataDir();
  if (options.reset) await resetDevDb(options.log);
  ensureParentDir(dataDir);
  const outcome = await startCluster({ dataDir, port: devDbPort(), throwaway: false });
  options.log(
    `database: ${outcome.startedHere ? 'started' : 'already running'} on port ${outcome.port}` +
      `${outcome.fresh ? ' (new cluster)' : ''} in ${dataDir}`,
  );
  return {
    ...outcome,
    appUrl: dbUrl(APP_ROLE, outcome.port),
    adminUrl: dbUrl(ADMIN_ROLE, outcome.port),
    dataDir,
  };
}

/** Platform files (idempotent), new migrations, and the seed only on a fresh cluster. */
export async function applyDevDb(db: DevDb, log: (line: string) => void): Promise<void> {
  await applyAll({ port: db.port, seed: db.fresh, testHelpers: false, log });
}

export async function stopDevDb(log: (line: string) => void): Promise<void> {
  const stopped = await stopCluster(devDataDir());
  log(stopped ? 'database: stopped' : 'database: not running');
}

export async function resetDevDb(log: (line: string) => void): Promise<void> {
  const dataDir = devDataDir();
  await stopCluster(dataDir);
  removeDataDir(dataDir);
  log(`database: removed ${dataDir}`);
}

/** db:stop/db:reset under a running `npm start` would pull the database out from under it. */
export function assertNoStackRunning(): void {
  if (!existsSync(STACK_LOCK_FILE)) return;
  const pid = Number(readFileSync(STACK_LOCK_FILE, 'utf8').trim());
  if (isAlive(pid)) {
    throw new RallyError('STACK_RUNNING', `npm start is running (pid ${pid}); stop it with Ctrl-C first`);
  }
}
