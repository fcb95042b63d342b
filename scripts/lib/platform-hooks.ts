/**
 * rally_platform_hooks (tools/platform-hooks/): the C library that makes plain PostgreSQL refuse
 * and allow what supautils does on the platform. Built with PGXS on first use into
 * `.rally/platform-hooks/<source hash>/`, so a changed source or another server version builds
 * afresh and every cluster loads it by absolute path from `shared_preload_libraries`.
 */
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RALLY_DIR, REPO_ROOT } from './config.ts';
import { RallyError } from './errors.ts';
import { findPgBinaries, type PgBinaries } from './pg-binaries.ts';
import { debianInstallHint } from './system-packages.ts';
import { run } from './process.ts';

export const HOOKS_SOURCE_DIR = join(REPO_ROOT, 'tools', 'platform-hooks');
/** The platform's supautils settings, included by every cluster's configuration. */
export const HOOKS_SETTINGS_FILE = join(HOOKS_SOURCE_DIR, 'supautils.conf');
/** `<extension>/after-create.sql`, run as the platform's superuser after CREATE EXTENSION. */
export const EXTENSION_SCRIPTS_DIR = join(REPO_ROOT, 'sql', 'platform', 'extension-custom-scripts');

const LIBRARY = 'rally_platform_hooks';
const SOURCES = ['Makefile', `${LIBRARY}.c`];

const headersHint = (): string => [
  'rally_platform_hooks (tools/platform-hooks/) is built with PGXS and needs the PostgreSQL 15 server headers, make and gcc:',
  debianInstallHint(),
  '  macOS:         Homebrew\'s postgresql@15 ships them (pg_config --includedir-server)',
].join('\n');

let built: string | undefined;

/** The absolute path of the built library, building it when this source has no build yet. */
export async function platformHooksLibrary(): Promise<string> {
  if (built) return built;
  const bins = await findPgBinaries();
  const pgConfig = await pgConfigFor(bins);
  const version = (await run(pgConfig, ['--version'], { output: 'capture' })).stdout.trim();
  const cacheDir = join(RALLY_DIR, 'platform-hooks', sourceHash(version));
  const existing = libraryIn(cacheDir);
  if (existing) {
    built = existing;
    return existing;
  }
  await assertServerHeaders(pgConfig);
  built = await build(pgConfig, cacheDir);
  return built;
}

function sourceHash(serverVersion: string): string {
  const hash = createHash('sha256').update(serverVersion);
  for (const file of SOURCES) hash.update(file).update(readFileSync(join(HOOKS_SOURCE_DIR, file)));
  return hash.digest('hex').slice(0, 16);
}

function libraryIn(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const name = readdirSync(dir).find((file) => file === `${LIBRARY}.so` || file === `${LIBRARY}.dylib`);
  return name ? join(dir, name) : undefined;
}

/** The pg_config beside the server binaries, so the library matches the server that loads it. */
async function pgConfigFor(bins: PgBinaries): Promise<string> {
  const beside = join(bins.bindir, 'pg_config');
  if (existsSync(beside)) return beside;
  const onPath = await run('pg_config', ['--bindir'], { output: 'capture' }).catch(() => undefined);
  if (onPath?.code === 0 && onPath.stdout.trim() === bins.bindir) return 'pg_config';
  throw new RallyError('PG_TOOL_MISSING', `pg_config for ${bins.bindir} was not found.\n${headersHint()}`);
}

async function assertServerHeaders(pgConfig: string): Promise<void> {
  const includeDir = (await run(pgConfig, ['--includedir-server'], { output: 'capture' })).stdout.trim();
  const pgxs = (await run(pgConfig, ['--pgxs'], { output: 'capture' })).stdout.trim();
  if (!includeDir || !existsSync(join(includeDir, 'postgres.h')) || !pgxs || !existsSync(pgxs)) {
    throw new RallyError('PG_TOOL_MISSING', `PostgreSQL server headers or PGXS are missing (pg_config: ${pgConfig}).\n${headersHint()}`);
  }
}

/** Builds in a scratch directory and renames it into place, so concurrent runs never see half a build. */
async function build(pgConfig: string, cacheDir: string): Promise<string> {
  mkdirSync(join(cacheDir, '..'), { recursive: true });
  const scratch = mkdtempSync(`${cacheDir}.build-`);
  try {
    for (const file of SOURCES) cpSync(join(HOOKS_SOURCE_DIR, file), join(scratch, file));
    const result = await run('make', ['-C', scratch, 'with_llvm=no', `PG_CONFIG=${pgConfig}`], { output: 'capture' });
    if (result.code !== 0) {
      throw new RallyError('PG_TOOL_MISSING', `building rally_platform_hooks failed:\n${`${result.stdout}\n${result.stderr}`.trim()}\n${headersHint()}`);
    }
    // mkdtemp makes it private; the server's OS user must be able to load the library.
    chmodSync(scratch, 0o755);
    try {
      renameSync(scratch, cacheDir);
    } catch (error) {
      // Another run finished the same build first; its library is as good as ours.
      if (!libraryIn(cacheDir)) throw error;
    }
    const library = libraryIn(cacheDir);
    if (!library) throw new RallyError('PG_TOOL_MISSING', `make produced no ${LIBRARY} library in ${cacheDir}`);
    return library;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
