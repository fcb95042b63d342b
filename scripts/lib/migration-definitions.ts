/**
 * What a migration defines, read from its text: the functions, policies, triggers, tables and
 * views its top-level statements create (comments and dollar-quoted bodies left out). Shared by
 * the migration-tree check (tests/config/migration-tree.test.ts) and the API reference, which
 * files each public function and table under the capability of the migration that defines it.
 */
export interface Definition {
  kind: 'function' | 'policy' | 'trigger' | 'relation';
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

/** The functions, policies, triggers, tables and views a migration's top-level statements create. */
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
  for (const m of top.matchAll(/create\s+(?:or\s+replace\s+)?(?:materialized\s+)?(?:table|view)\s+(?:if\s+not\s+exists\s+)?([a-z_]+\.[a-z_0-9]+)/g)) {
    found.push({ kind: 'relation', key: m[1] ?? '', file });
  }
  return found;
}

/** Statements that take apart what a migration built. */
export function teardownsIn(sql: string): string[] {
  const top = topLevelSql(sql).toLowerCase();
  return [...top.matchAll(/\b(drop\s+(?:function|policy|trigger|view)\b[^;]*|alter\s+(?:function|policy)\b[^;]*|alter\s+table\b[^;]*\bdrop\s+constraint\b[^;]*)/g)]
    .map((m) => (m[1] ?? '').replace(/\s+/g, ' ').trim());
}
