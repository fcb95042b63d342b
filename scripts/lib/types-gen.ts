/**
 * TypeScript types for the Data API schema (`public`) from @supabase/postgres-meta — the same
 * generator and version `supabase gen types typescript` runs in Docker, run here under Node.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PATHS, REPO_ROOT } from './config.ts';
import { RallyError } from './errors.ts';
import { run } from './process.ts';

export async function generateTypes(dbUrl: string): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PG_META_DB_URL: dbUrl,
    PG_META_GENERATE_TYPES: 'typescript',
    PG_META_GENERATE_TYPES_INCLUDED_SCHEMAS: 'public',
    PG_META_GENERATE_TYPES_DETECT_ONE_TO_ONE_RELATIONSHIPS: 'true',
  };
  // In generate mode the server prints the types to stdout and exits instead of listening.
  const result = await run(process.execPath, [PATHS.postgresMetaServer], { cwd: REPO_ROOT, env, output: 'capture' });
  if (result.code !== 0 || !result.stdout.includes('export type Database')) {
    throw new RallyError('GEN_TYPES', `postgres-meta exited with ${result.code}:\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`);
  }
  return result.stdout;
}

export function writeTypes(content: string): void {
  writeFileSync(PATHS.typesFile, content);
}

export interface DriftReport {
  drifted: boolean;
  summary: string;
}

/** Compares fresh types with the committed file; the summary is a unified diff (trimmed). */
export async function compareWithCommitted(content: string): Promise<DriftReport> {
  const committed = existsSync(PATHS.typesFile) ? readFileSync(PATHS.typesFile, 'utf8') : '';
  if (committed === content) return { drifted: false, summary: 'types/database.ts is up to date' };
  const dir = mkdtempSync(join(tmpdir(), 'rally-types-'));
  try {
    const fresh = join(dir, 'database.ts');
    writeFileSync(fresh, content);
    const diff = await run('diff', ['-u', '--label', 'types/database.ts (committed)', '--label', 'types/database.ts (generated)', PATHS.typesFile, fresh], {
      output: 'capture',
    }).catch(() => undefined);
    const lines = (diff?.stdout ?? '').split('\n');
    const shown = lines.slice(0, 80).join('\n');
    const more = lines.length > 80 ? `\n… ${lines.length - 80} more diff lines` : '';
    const state = committed === '' ? 'is missing' : 'differs from the schema';
    return {
      drifted: true,
      summary: `types/database.ts ${state}; run \`npm run gen:types\` and commit the result.\n${shown}${more}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
