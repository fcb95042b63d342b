/**
 * One notification catalogue, checked (issue 14): every notification type code sends is
 * registered (a row of private.notification_types: its category, defaults per channel and a row
 * in everyone's preference grid) with a template in every supported locale, every registered
 * type is sent by something, and no template belongs to a type that does not exist.
 *
 * What code sends is read from the source, where the types are literals:
 *   private.notify(<user>, '<type>', …)            any migration or edge function
 *   private.notify_from(<actor>, <user>, '<type>', …)
 *   private.notify_admins('<type>', …)
 *   insert into public.notifications (…, type, …) select|values (…, '<type>', …)
 * A call whose type is not a literal cannot be checked and is a problem itself, except where a
 * helper passes its own p_type parameter on (notify_from and notify_admins forwarding to notify).
 * tests/alerts/catalogue.test.ts runs this over the repository and the migrated database, and
 * shows it failing; `tsx scripts/ci-checks.ts all` runs it as a CI check (catalogueCheck).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type pg from 'pg';
import { LOCALES, TEMPLATES } from '../../functions/_shared/alerts/templates.ts';

export interface SentType {
  type: string;
  /** `path:line` of the call. */
  where: string;
}

export interface CatalogueInput {
  sent: readonly SentType[];
  /** Calls whose type is computed, `path:line: call`. */
  unknowable: readonly string[];
  /** private.notification_types.type */
  registered: readonly string[];
  /** type → the locales it has a template in */
  templates: Readonly<Record<string, readonly string[]>>;
  locales: readonly string[];
}

const TYPE = /^'([a-z][a-z0-9_.]*)'$/;
const SQL_TYPE = /^(uuid|text|jsonb|json|integer|int|bigint|boolean|numeric|timestamptz|timestamp with time zone|date|time)(\[\])?$/;

/** Splits an argument or column list at its top-level commas (not inside (), [] or quotes). */
export function topLevelParts(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && (ch === '(' || ch === '[')) depth++;
    else if (!quoted && (ch === ')' || ch === ']')) {
      if (depth === 0) {
        parts.push(text.slice(start, i));
        return parts.map((p) => p.trim());
      }
      depth--;
    } else if (!quoted && depth === 0 && ch === ',') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** SQL without its `--` comments (a comment may mention a call that is not one). */
function withoutComments(sql: string): string {
  return sql.split('\n').map((line) => {
    let quoted = false;
    for (let i = 0; i < line.length - 1; i++) {
      if (line[i] === "'") quoted = !quoted;
      if (!quoted && line[i] === '-' && line[i + 1] === '-') return line.slice(0, i);
    }
    return line;
  }).join('\n');
}

const CALLS: readonly { pattern: RegExp; typeArgument: number }[] = [
  { pattern: /private\.notify\(/g, typeArgument: 1 },
  { pattern: /private\.notify_from\(/g, typeArgument: 2 },
  { pattern: /private\.notify_admins\(/g, typeArgument: 0 },
];

/** The types a source file sends, and the calls whose type is computed. */
export function sentTypesIn(source: string, path: string): { sent: SentType[]; unknowable: string[] } {
  const text = withoutComments(source);
  const lineOf = (index: number): number => text.slice(0, index).split('\n').length;
  const sent: SentType[] = [];
  const unknowable: string[] = [];
  const consider = (expression: string | undefined, index: number, call: string): void => {
    const literal = TYPE.exec(expression ?? '');
    if (literal?.[1] !== undefined) sent.push({ type: literal[1], where: `${path}:${lineOf(index)}` });
    // A helper handing its own p_type on: the types come from its callers, which are read too.
    else if (expression !== 'p_type') unknowable.push(`${path}:${lineOf(index)}: ${call}`);
  };
  for (const { pattern, typeArgument } of CALLS) {
    for (const match of text.matchAll(pattern)) {
      const index = match.index;
      const before = text.slice(Math.max(0, index - 40), index);
      // The function's own definition and its grants name it without calling it.
      if (/(function|execute on function|comment on function)\s+$/i.test(before)) continue;
      const args = topLevelParts(text.slice(index + match[0].length));
      // …and so do lists of signatures (revoke execute on function a(…), private.notify(uuid, text, …)).
      if (args.every((arg) => SQL_TYPE.test(arg))) continue;
      consider(args[typeArgument], index, `${match[0]}${args.slice(0, typeArgument + 1).join(', ')}…`);
    }
  }
  for (const match of text.matchAll(/insert\s+into\s+public\.notifications\s*\(/gi)) {
    const index = match.index;
    const after = text.slice(index + match[0].length);
    const columns = topLevelParts(after);
    const at = columns.indexOf('type');
    if (at === -1) continue;
    const rest = after.slice(after.indexOf(')') + 1);
    const values = /^\s*values\s*\(/i.exec(rest);
    const select = /^\s*(?:select|with)\b/i.exec(rest);
    const expressions = values !== null ? topLevelParts(rest.slice(values[0].length))
      : select !== null ? topLevelParts(rest.slice(rest.search(/\bselect\b/i) + 'select'.length).split(/\bfrom\b/i)[0] ?? '') : [];
    consider(expressions[at], index, 'insert into public.notifications');
  }
  return { sent, unknowable };
}

/** Every .sql and .ts file under `dir`, relative to `root`. */
function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir)).sort()) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sourceFiles(root, path));
    else if (/\.(sql|ts)$/.test(name)) out.push(path);
  }
  return out;
}

/** What the migrations and the edge functions send. */
export function sentTypesInRepository(root: string): { sent: SentType[]; unknowable: string[] } {
  const sent: SentType[] = [];
  const unknowable: string[] = [];
  for (const file of [...sourceFiles(root, join('supabase', 'migrations')), ...sourceFiles(root, 'functions')]) {
    const found = sentTypesIn(readFileSync(join(root, file), 'utf8'), relative(root, join(root, file)));
    sent.push(...found.sent);
    unknowable.push(...found.unknowable);
  }
  return { sent, unknowable };
}

/** What breaks the rule, one sentence each; empty when code, catalogue and templates agree. */
export function catalogueProblems(input: CatalogueInput): string[] {
  const problems: string[] = [];
  const registered = new Set(input.registered);
  const sentBy = new Map<string, string[]>();
  for (const { type, where } of input.sent) sentBy.set(type, [...(sentBy.get(type) ?? []), where]);
  for (const call of input.unknowable) problems.push(`${call} sends a notification type that is not a literal, so the catalogue cannot be checked`);
  for (const [type, where] of [...sentBy].sort(([a], [b]) => a.localeCompare(b))) {
    if (!registered.has(type)) problems.push(`${type} is sent (${where.join(', ')}) but not registered in private.notification_types`);
  }
  for (const type of [...registered].sort()) {
    if (!sentBy.has(type)) problems.push(`${type} is registered but nothing sends it`);
    const locales = input.templates[type] ?? [];
    const missing = input.locales.filter((locale) => !locales.includes(locale));
    if (missing.length > 0) problems.push(`${type} has no template in ${missing.join(', ')}`);
  }
  for (const type of Object.keys(input.templates).sort()) {
    if (!registered.has(type)) problems.push(`the template for ${type} belongs to no registered type`);
  }
  return problems;
}

/** type → the locales functions/_shared/alerts/templates.ts has a template in. */
export function templateLocales(): Record<string, string[]> {
  return Object.fromEntries(Object.entries(TEMPLATES).map(([type, byLocale]) => [type, Object.keys(byLocale)]));
}

/** The check's input: the repository's sends, `db`'s registered types, the templates. */
export async function catalogueInput(db: pg.ClientBase, root: string): Promise<CatalogueInput> {
  const { rows } = await db.query<{ type: string }>('select type from private.notification_types order by type');
  return { ...sentTypesInRepository(root), registered: rows.map((row) => row.type), templates: templateLocales(), locales: LOCALES };
}
