/**
 * The migration tree's one rule, checked on the files themselves: every function, policy and
 * trigger is defined exactly once, in the migration of the capability that owns it, and no
 * migration takes apart what an earlier one built (drop / alter of another migration's function,
 * policy, trigger or constraint). Until the first deploy, a change is folded into the owner;
 * after it, a change is a new migration (docs/conventions.md, "Migrations") and this test's allow-list says so.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definitionsIn, teardownsIn } from '../../scripts/lib/migration-definitions.ts';

const MIGRATIONS = join(import.meta.dirname, '..', '..', 'supabase', 'migrations');

const files = readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort();
const sources = files.map((file) => ({ file, sql: readFileSync(join(MIGRATIONS, file), 'utf8') }));

describe('the migration tree', () => {
  it('defines every function, policy and trigger exactly once', () => {
    const byKey = new Map<string, string[]>();
    for (const { file, sql } of sources) {
      for (const d of definitionsIn(file, sql)) {
        const key = `${d.kind} ${d.key}`;
        byKey.set(key, [...(byKey.get(key) ?? []), file]);
      }
    }
    const twice = [...byKey].filter(([, where]) => where.length > 1).map(([key, where]) => `${key}: ${where.join(', ')}`);
    expect(twice).toEqual([]);
    expect(byKey.size).toBeGreaterThan(300);
  });

  it('has no migration that drops or alters another migration\'s function, policy, trigger or constraint', () => {
    const teardowns = sources.flatMap(({ file, sql }) => teardownsIn(sql).map((statement) => `${file}: ${statement}`));
    expect(teardowns).toEqual([]);
  });

  it('catches a redefinition and a teardown when they are there (the check itself)', () => {
    const a = definitionsIn('a.sql', "create or replace function private.x() returns int language sql as $$ select 1 $$;\ncreate policy \"p\" on public.t for select using (true);");
    const b = definitionsIn('b.sql', "-- create function private.y()\ncreate function private.x() returns int language sql as $f$ select 'create function private.z(' $f$;");
    expect([...a, ...b].map((d) => `${d.kind} ${d.key} ${d.file}`)).toEqual([
      'function private.x a.sql', 'policy public.t "p" a.sql', 'function private.x b.sql',
    ]);
    expect(teardownsIn("alter table private.r drop constraint r_check; -- drop function private.q()\nselect 'drop policy x';"))
      .toEqual(['alter table private.r drop constraint r_check']);
  });
});
