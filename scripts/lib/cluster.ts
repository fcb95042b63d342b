/**
 * A plain PostgreSQL 15 cluster shaped like the platform's: bootstrap superuser `supabase_admin`,
 * scram passwords, loopback only, and the platform's preloaded libraries — rally_platform_hooks
 * (what supautils does), pg_stat_statements and pg_cron. Used for the dev stack (`.rally/db`,
 * kept) and for throwaway test clusters (temp dir, free port, durability off for speed).
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_ROLE, LOCAL_PASSWORD, assertAllowedDbPort } from './config.ts';
import { RallyError } from './errors.ts';
import { findPgBinaries, type PgBinaries } from './pg-binaries.ts';
import { EXTENSION_SCRIPTS_DIR, HOOKS_SETTINGS_FILE, platformHooksLibrary } from './platform-hooks.ts';
import { isPortFree } from './ports.ts';
import { run, type RunResult } from './process.ts';
import { asServerUser, assertServerUserCanWrite, giveToServerUser, serverUser, type ServerUser } from './os-user.ts';

export interface ClusterSpec {
  dataDir: string;
  port: number;
  /** durability off (fsync, synchronous_commit, full_page_writes): only for clusters we delete */
  throwaway: boolean;
}

export interface StartOutcome {
  port: number;
  /** initdb ran in this call: the database is empty, so the seed must be applied */
  fresh: boolean;
  /** false when a server was already running on this data dir and we reused it */
  startedHere: boolean;
}

const LOG_FILE = 'postgres.log';
/** Rewritten on every start, so a moved checkout or a rebuilt library is picked up. */
const PLATFORM_SETTINGS_FILE = 'rally-platform.conf';
const READY_TIMEOUT_MS = 60_000;
/** Unix socket paths are limited to ~107 bytes; beyond that we listen on TCP only. */
const MAX_SOCKET_DIR_LENGTH = 90;

/** initdb (when needed) and start (when not running); returns the port actually in use. */
export async function startCluster(spec: ClusterSpec): Promise<StartOutcome> {
  const bins = await findPgBinaries();
  const user = await serverUser();
  const fresh = await initClusterIfNeeded(bins, user, spec);
  const running = await runningPort(bins, user, spec.dataDir);
  if (running !== undefined) {
    await waitUntilReady(bins, running);
    return { port: running, fresh, startedHere: false };
  }
  await writePlatformSettings(spec.dataDir);
  await launch(bins, user, spec);
  await waitUntilReady(bins, spec.port);
  return { port: spec.port, fresh, startedHere: true };
}

async function initClusterIfNeeded(bins: PgBinaries, user: ServerUser, spec: ClusterSpec): Promise<boolean> {
  if (existsSync(join(spec.dataDir, 'PG_VERSION'))) return false;
  prepareEmptyDataDir(user, spec.dataDir);
  await assertServerUserCanWrite(user, spec.dataDir);
  await initdb(bins, user, spec);
  writeRallySettings(spec);
  return true;
}

function prepareEmptyDataDir(user: ServerUser, dataDir: string): void {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new RallyError(
      'CLUSTER_INIT',
      `${dataDir} exists, is not empty and holds no PostgreSQL cluster; remove it (npm run db:reset) or set RALLY_DB_DIR`,
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  giveToServerUser(user, dataDir);
}

async function initdb(bins: PgBinaries, user: ServerUser, spec: ClusterSpec): Promise<void> {
  // The password goes through a file the server user can read, never through argv.
  const pwDir = mkdtempSync(join(tmpdir(), 'rally-pw-'));
  const pwFile = join(pwDir, 'pw');
  try {
    writeFileSync(pwFile, `${LOCAL_PASSWORD}\n`, { mode: 0o600 });
    giveToServerUser(user, pwDir);
    giveToServerUser(user, pwFile);
    const args = [
      '-D', spec.dataDir,
      '-U', ADMIN_ROLE,
      `--pwfile=${pwFile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=scram-sha-256',
      '--encoding=UTF8',
      `--locale=${process.platform === 'linux' ? 'C.UTF-8' : 'en_US.UTF-8'}`,
      '--no-instructions',
      ...(spec.throwaway ? ['--no-sync'] : []),
    ];
    const [command, argv] = asServerUser(user, bins.path('initdb'), args);
    const result = await run(command, argv, { output: 'capture' });
    if (result.code !== 0) throw new RallyError('CLUSTER_INIT', `initdb failed:\n${tail(result)}`);
  } finally {
    rmSync(pwDir, { recursive: true, force: true });
  }
}

/** Appended once after initdb; the port is passed at start so RALLY_DB_PORT can change between runs. */
function writeRallySettings(spec: ClusterSpec): void {
  const socketDir = spec.dataDir.length <= MAX_SOCKET_DIR_LENGTH ? spec.dataDir : '';
  const lines = [
    '',
    '# --- Rally local stack (scripts/lib/cluster.ts) ---',
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${socketDir}'`,
    'max_connections = 200',
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    "password_encryption = 'scram-sha-256'",
    ...(spec.throwaway ? ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off'] : []),
    '',
  ];
  appendFileSync(join(spec.dataDir, 'postgresql.conf'), lines.join('\n'));
}

/**
 * The platform's preloads and supautils settings, written beside postgresql.conf (which includes
 * it) before every start. pg_cron runs jobs in background workers: on the platform it connects
 * over 127.0.0.1, which Supabase's pg_hba trusts; these clusters ask every connection for a password.
 */
async function writePlatformSettings(dataDir: string): Promise<void> {
  const conf = join(dataDir, 'postgresql.conf');
  const include = `include_if_exists = '${PLATFORM_SETTINGS_FILE}'`;
  if (!readFileSync(conf, 'utf8').includes(include)) appendFileSync(conf, `\n${include}\n`);
  const lines = [
    '# Written by scripts/lib/cluster.ts before every start; edits are lost.',
    `shared_preload_libraries = '${await platformHooksLibrary()}, pg_stat_statements, pg_cron'`,
    "cron.database_name = 'postgres'",
    'cron.use_background_workers = on',
    'max_worker_processes = 16',
    // As on every Supabase project: the Realtime stand-in reads Broadcast from Database through
    // logical decoding. This file is rewritten before every start, so existing data dirs get it.
    'wal_level = logical',
    `include = '${HOOKS_SETTINGS_FILE}'`,
    `supautils.privileged_extensions_custom_scripts_path = '${EXTENSION_SCRIPTS_DIR}'`,
    '',
  ];
  writeFileSync(join(dataDir, PLATFORM_SETTINGS_FILE), lines.join('\n'), { mode: 0o644 });
}

/** The port of the server running on `dataDir`, or undefined when none is. */
export async function runningPort(bins: PgBinaries, user: ServerUser, dataDir: string): Promise<number | undefined> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [command, argv] = asServerUser(user, bins.path('pg_ctl'), ['status', '-D', dataDir]);
  const status = await run(command, argv, { output: 'capture' });
  if (status.code !== 0) return undefined;
  // postmaster.pid line 4 is the port (see PostgreSQL's pidfile.h).
  const port = Number(readFileSync(pidFile, 'utf8').split('\n')[3]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

async function launch(bins: PgBinaries, user: ServerUser, spec: ClusterSpec): Promise<void> {
  assertAllowedDbPort(spec.port);
  if (!(await isPortFree(spec.port))) {
    throw new RallyError('PORT_IN_USE', `port ${spec.port} on 127.0.0.1 is taken by another program; set RALLY_DB_PORT`);
  }
  const logFile = join(spec.dataDir, LOG_FILE);
  const args = ['start', '-D', spec.dataDir, '-l', logFile, '-w', '-t', '60', '-o', `-p ${spec.port}`];
  const [command, argv] = asServerUser(user, bins.path('pg_ctl'), args);
  const result = await run(command, argv, { output: 'capture' });
  if (result.code !== 0) {
    const log = logTail(logFile);
    const hint = /pg_cron/.test(log) ? '\npg_cron is missing: apt-get install -y postgresql-15-cron (it must be preloaded, as on the platform)' : '';
    throw new RallyError('CLUSTER_START', `pg_ctl start failed:\n${tail(result)}\n--- ${logFile} ---\n${log}${hint}`);
  }
}

/** pg_ctl -w already waits; this bounded probe also covers a reused server that is still recovering. */
async function waitUntilReady(bins: PgBinaries, port: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const probe = await run(bins.path('pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], { output: 'capture' });
    if (probe.code === 0) return;
    if (Date.now() > deadline) {
      throw new RallyError('CLUSTER_NOT_READY', `PostgreSQL on port ${port} did not accept connections within ${READY_TIMEOUT_MS / 1000}s`);
    }
    await sleep(250);
  }
}

/** Fast shutdown (rolls back open transactions, disconnects clients); a no-op when not running. */
export async function stopCluster(dataDir: string): Promise<boolean> {
  const bins = await findPgBinaries();
  const user = await serverUser();
  if ((await runningPort(bins, user, dataDir)) === undefined) return false;
  const [command, argv] = asServerUser(user, bins.path('pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']);
  const result = await run(command, argv, { output: 'capture' });
  if (result.code !== 0) throw new RallyError('CLUSTER_STOP', `pg_ctl stop failed:\n${tail(result)}`);
  return true;
}

export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

export interface ThrowawayCluster {
  root: string;
  dataDir: string;
}

/** A fresh temp directory the server user owns; the data dir goes inside it. */
export async function makeThrowawayDir(): Promise<ThrowawayCluster> {
  const user = await serverUser();
  const root = mkdtempSync(join(tmpdir(), 'rally-pg-'));
  giveToServerUser(user, root);
  return { root, dataDir: join(root, 'data') };
}

export function logTail(logFile: string, lines = 20): string {
  if (!existsSync(logFile)) return '(no log file)';
  return readFileSync(logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
}

function tail(result: RunResult): string {
  return `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
}

/** Parent directories of a dev data dir are created by us (they are not the server's). */
export function ensureParentDir(dataDir: string): void {
  mkdirSync(dirname(dataDir), { recursive: true });
}
