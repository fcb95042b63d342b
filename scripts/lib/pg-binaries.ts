/**
 * Finds the PostgreSQL server binaries. Debian keeps initdb/pg_ctl/postgres off PATH (under
 * /usr/lib/postgresql/<major>/bin), Homebrew keeps them under opt/postgresql@<major>/bin, so PATH
 * alone is not enough. Major 15 is preferred because the platform runs Supabase Postgres 15.
 */
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { RallyError } from './errors.ts';
import { run } from './process.ts';
import { debianInstallHint } from './system-packages.ts';

export const PREFERRED_MAJOR = 15;

const SERVER_TOOLS = ['initdb', 'pg_ctl', 'postgres', 'psql', 'pg_isready'] as const;
export type ServerTool = (typeof SERVER_TOOLS)[number];

export interface PgBinaries {
  bindir: string;
  major: number;
  path(tool: ServerTool): string;
}

export const installHint = (): string => [
  'PostgreSQL 15 server binaries (initdb, pg_ctl, postgres) were not found.',
  'Install them, then run the command again:',
  debianInstallHint(),
  '  macOS:         brew install postgresql@15 pgtap   (then: cpan TAP::Parser::SourceHandler::pgTAP for pg_prove)',
  'Or point RALLY_PG_BINDIR at the directory that holds initdb and pg_ctl.',
].join('\n');

let cached: PgBinaries | undefined;

/** Locates the binaries once per process; throws PG_BINARIES_MISSING with install instructions. */
export async function findPgBinaries(): Promise<PgBinaries> {
  if (cached) return cached;
  const found: PgBinaries[] = [];
  for (const dir of await candidateDirs()) {
    if (!hasServerTools(dir)) continue;
    const major = await majorVersion(dir);
    if (major === undefined) continue;
    found.push(makeBinaries(dir, major));
  }
  const choice = found.find((b) => b.major === PREFERRED_MAJOR) ?? found[0];
  if (!choice) throw new RallyError('PG_BINARIES_MISSING', installHint());
  if (choice.major !== PREFERRED_MAJOR) {
    process.stderr.write(`warning: using PostgreSQL ${choice.major} from ${choice.bindir}; the platform runs 15.\n`);
  }
  cached = choice;
  return choice;
}

function makeBinaries(bindir: string, major: number): PgBinaries {
  return { bindir, major, path: (tool) => join(bindir, tool) };
}

/** Explicit override first, then PATH, pg_config, the Debian layout (15 first) and Homebrew. */
async function candidateDirs(): Promise<string[]> {
  const dirs: string[] = [];
  const override = process.env.RALLY_PG_BINDIR;
  if (override) dirs.push(override);
  dirs.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  const fromPgConfig = await pgConfigBindir();
  if (fromPgConfig) dirs.push(fromPgConfig);
  dirs.push(...debianBindirs());
  for (const prefix of ['/opt/homebrew/opt', '/usr/local/opt']) {
    dirs.push(join(prefix, `postgresql@${PREFERRED_MAJOR}`, 'bin'), join(prefix, 'postgresql', 'bin'));
  }
  return [...new Set(dirs)];
}

async function pgConfigBindir(): Promise<string | undefined> {
  try {
    const result = await run('pg_config', ['--bindir'], { output: 'capture' });
    return result.code === 0 ? result.stdout.trim() || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** /usr/lib/postgresql/<major>/bin, the preferred major first, then newest to oldest. */
function debianBindirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  const majors = readdirSync(root)
    .map(Number)
    .filter((n) => Number.isInteger(n))
    .sort((a, b) => (a === PREFERRED_MAJOR ? -1 : b === PREFERRED_MAJOR ? 1 : b - a));
  return majors.map((major) => join(root, String(major), 'bin'));
}

function hasServerTools(dir: string): boolean {
  return SERVER_TOOLS.every((tool) => existsSync(join(dir, tool)));
}

async function majorVersion(dir: string): Promise<number | undefined> {
  try {
    const result = await run(join(dir, 'pg_ctl'), ['--version'], { output: 'capture' });
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(result.stdout);
    return match?.[1] ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** pg_prove ships separately (libtap-parser-sourcehandler-pgtap-perl); only the test runner needs it. */
export async function findPgProve(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'pg_prove');
    if (existsSync(candidate)) return candidate;
  }
  throw new RallyError(
    'PG_TOOL_MISSING',
    `pg_prove was not found on PATH.\n${debianInstallHint()}\n` +
      '  macOS:         brew install pgtap && cpan TAP::Parser::SourceHandler::pgTAP',
  );
}
