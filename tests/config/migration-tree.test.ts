/**
 * The migration tree's one rule, checked on the files themselves: every function, policy and
 * trigger is defined exactly once, in the migration of the capability that owns it, and no
 * migration takes apart what an earlier one built (drop / alter of another migration's function,
 * policy, trigger or constraint). Until the first deploy, a change is folded into the owner;
 * after it, a change is a new migration (README "Migrations") and this test's allow-list says so.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MIGRATIONS = join(import.meta.dirname, '..', '..', 'supabase', 'migrations');

interface Definition {
  kind: 'function' | 'policy' | 'trigger';
  key: string;
  file: string;
}

/** SQL without comments and dollar-quoted bodies, so only top-level statements are read. */
export function topLevelSql(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (sql[i] === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      out += "''";
      i = j + 1;
    } else if (sql[i] === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0];
      if (tag === undefined) {
        out += sql[i];
        i += 1;
      } else {
        const end = sql.indexOf(tag, i + tag.length);
        out += ' $body$ ';
        i = end === -1 ? sql.length : end + tag.length;
      }
    } else {
      out += sql[i];
      i += 1;
    }
  }
  return out;
}

/** The functions, policies and triggers a migration's top-level statements create. */
export function definitionsIn(file: string, sql: string): Definition[] {
  const top = topLevelSql(sql).toLowerCase();
  const found: Definition[] = [];
  for (const m of top.matchAll(/create\s+(?:or\s+replace\s+)?function\s+([a-z_]+\.[a-z_0-9]+)\s*\(/g)) {
    found.push({ kind: 'function', key: m[1] ?? '', file });
  }
  for (const m of top.matchAll(/create\s+policy\s+(''|"[^"]+")\s+on\s+([a-z_]+\.[a-z_0-9]+)/g)) {
    found.push({ kind: 'policy', key: `${m[2]} ${m[1]}`, file });
  }
  for (const m of top.matchAll(/create\s+(?:constraint\s+)?trigger\s+([a-z_0-9]+)\s[\s\S]*?\son\s+([a-z_]+\.[a-z_0-9]+)/g)) {
    found.push({ kind: 'trigger', key: `${m[2]} ${m[1]}`, file });
  }
  return found;
}

/** Statements that take apart what a migration built. */
export function teardownsIn(sql: string): string[] {
  const top = topLevelSql(sql).toLowerCase();
  return [...top.matchAll(/\b(drop\s+(?:function|policy|trigger|view)\b[^;]*|alter\s+(?:function|policy)\b[^;]*|alter\s+table\b[^;]*\bdrop\s+constraint\b[^;]*)/g)]
    .map((m) => (m[1] ?? '').replace(/\s+/g, ' ').trim());
}

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
