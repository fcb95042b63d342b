/**
 * Every migration has a pgTAP story, found by name (docs/testing.md, "pgTAP stories"):
 *
 * - `supabase/migrations/<version>_<name>.sql` is told by `tests/db/<version>-<name>.test.sql`
 *   (underscores as dashes; an aspect may follow, `…-realtime-authorization-event-topics`), or,
 *   where one story's fixtures tell several migrations, by an `-- Also tells: <version>_<name>`
 *   line in that story's opening comment;
 * - every other file in tests/db is the suite's own: `000-` (the helpers), `001-` (the platform
 *   contract) or `9x-` (gates over the whole schema: the RLS matrix, function privileges, …).
 *
 * So a new migration without a story fails here, and so does a story named after nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MIGRATIONS = join(ROOT, 'supabase', 'migrations');
const STORIES = join(ROOT, 'tests', 'db');

const STORY_NAME = /^(\d{14})-([a-z0-9-]+)\.test\.sql$/;
const SUITE_OWN_NAME = /^(000|001|9\d)-[a-z0-9-]+\.test\.sql$/;
const MIGRATION_NAME = /^(\d{14})_([a-z0-9_]+)\.sql$/;
const ALSO_TELLS = /^-- Also tells: (.*)$/gm;

export interface StoryFile {
  file: string;
  sql: string;
}

/** The migrations (file stems) a story names on its `-- Also tells:` lines. */
export function alsoTold(sql: string): string[] {
  return [...sql.matchAll(ALSO_TELLS)].flatMap((m) => [...(m[1] ?? '').matchAll(/\b\d{14}_[a-z0-9_]+\b/g)].map((t) => t[0]));
}

/** What breaks the rule, one sentence each; empty when every migration has its story. */
export function storyProblems(migrationFiles: readonly string[], stories: readonly StoryFile[]): string[] {
  const problems: string[] = [];
  const stems = new Map<string, string>();
  for (const file of migrationFiles) {
    const m = MIGRATION_NAME.exec(file);
    if (m === null) problems.push(`supabase/migrations/${file} is not named <version>_<name>.sql`);
    else stems.set(m[1] ?? '', file.replace(/\.sql$/, ''));
  }
  const told = new Set<string>();
  for (const { file, sql } of stories) {
    const story = STORY_NAME.exec(file);
    if (story !== null) {
      const stem = stems.get(story[1] ?? '');
      const dashed = stem?.slice(15).replaceAll('_', '-');
      if (stem === undefined || dashed === undefined || !(story[2] === dashed || story[2]?.startsWith(`${dashed}-`))) {
        problems.push(`tests/db/${file} is named after no migration (no supabase/migrations/${story[1]}_${(story[2] ?? '').replaceAll('-', '_')}.sql)`);
      } else {
        told.add(stem);
      }
    } else if (!SUITE_OWN_NAME.test(file)) {
      problems.push(`tests/db/${file} is neither a story named <version>-<migration name>.test.sql nor one of the suite's own files (000-, 001-, 9x-)`);
    }
    for (const stem of alsoTold(sql)) {
      if ([...stems.values()].includes(stem)) told.add(stem);
      else problems.push(`tests/db/${file} says it also tells ${stem}, which is not a migration`);
    }
  }
  for (const stem of stems.values()) {
    if (!told.has(stem)) {
      problems.push(`supabase/migrations/${stem}.sql has no pgTAP story: add tests/db/${stem.replace('_', '-').replaceAll('_', '-')}.test.sql, ` +
        'or name it on an "-- Also tells:" line of the story that tells it');
    }
  }
  return problems;
}

describe('pgTAP stories', () => {
  it('tell every migration, and each story is named after the migration it tells', () => {
    const migrations = readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort();
    const stories = readdirSync(STORIES).filter((f) => f.endsWith('.test.sql')).sort()
      .map((file) => ({ file, sql: readFileSync(join(STORIES, file), 'utf8') }));
    expect(storyProblems(migrations, stories)).toEqual([]);
    expect(migrations.length).toBeGreaterThan(40);
  });

  it('catches a migration without a story, a story named after nothing and a stale "Also tells" (the check itself)', () => {
    const migrations = ['20260101000000_alpha.sql', '20260101000100_beta_gamma.sql', '20260101000200_delta.sql'];
    expect(storyProblems(migrations, [
      { file: '20260101000000-alpha.test.sql', sql: '-- Alpha.\n-- Also tells: 20260101000200_delta\nbegin;' },
      { file: '20260101000100-beta-gamma-topics.test.sql', sql: 'begin;' },
      { file: '90-rls-matrix.test.sql', sql: 'begin;' },
    ])).toEqual([]);
    expect(storyProblems(migrations, [
      { file: '20260101000000-alpha.test.sql', sql: '-- Also tells: 20260101000300_epsilon\nbegin;' },
      { file: '20260101000100-beta.test.sql', sql: 'begin;' },
      { file: '12-delta.test.sql', sql: 'begin;' },
    ])).toEqual([
      'tests/db/20260101000000-alpha.test.sql says it also tells 20260101000300_epsilon, which is not a migration',
      'tests/db/20260101000100-beta.test.sql is named after no migration (no supabase/migrations/20260101000100_beta.sql)',
      "tests/db/12-delta.test.sql is neither a story named <version>-<migration name>.test.sql nor one of the suite's own files (000-, 001-, 9x-)",
      'supabase/migrations/20260101000100_beta_gamma.sql has no pgTAP story: add tests/db/20260101000100-beta-gamma.test.sql, or name it on an "-- Also tells:" line of the story that tells it',
      'supabase/migrations/20260101000200_delta.sql has no pgTAP story: add tests/db/20260101000200-delta.test.sql, or name it on an "-- Also tells:" line of the story that tells it',
    ]);
  });
});
