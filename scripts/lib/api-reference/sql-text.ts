/**
 * Just enough of a SQL/PL/pgSQL reader for the API reference: drop comments (keeping string
 * literals intact), find calls to a named function, split their arguments at the top level, and
 * read a string literal. Pure functions over text; no database.
 *
 * It reads function bodies as PostgreSQL stores them (`pg_proc.prosrc`), which are plain text
 * with '…' literals (quotes doubled), E'…' literals, $tag$…$tag$ dollar quotes, -- and /* *\/
 * comments (nestable in PostgreSQL), and "quoted identifiers".
 */

/**
 * Code-point order: the reference must sort the same on every machine, and `localeCompare`
 * follows the process's locale.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Replaces every comment with a space; strings, dollar quotes and identifiers are kept as written. */
export function stripSqlComments(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      out += ' ';
      i = end === -1 ? sql.length : end;
      continue;
    }
    if (ch === '/' && next === '*') {
      i = skipBlockComment(sql, i);
      out += ' ';
      continue;
    }
    const quoted = quotedEnd(sql, i);
    if (quoted > i) {
      out += sql.slice(i, quoted);
      i = quoted;
      continue;
    }
    out += ch;
    i += 1;
  }
  return out;
}

/** Index just past a (nested) block comment starting at `start`. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

/**
 * If a quoted token ('…', E'…', "…", $tag$…$tag$) starts at `i`, the index just past it;
 * otherwise `i`. An unterminated token runs to the end of the text.
 */
function quotedEnd(sql: string, i: number): number {
  const ch = sql[i];
  if (ch === "'" || ch === '"') return closingQuote(sql, i + 1, ch);
  if ((ch === 'E' || ch === 'e') && sql[i + 1] === "'" && !isIdentChar(sql[i - 1])) return closingQuote(sql, i + 2, "'", true);
  if (ch === '$' && !isIdentChar(sql[i - 1])) {
    const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64));
    if (tag !== null) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      return end === -1 ? sql.length : end + tag[0].length;
    }
  }
  return i;
}

function closingQuote(sql: string, from: number, quote: string, backslashEscapes = false): number {
  let i = from;
  while (i < sql.length) {
    const ch = sql[i];
    if (backslashEscapes && ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return sql.length;
}

function isIdentChar(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_$]/.test(ch);
}

/**
 * The top-level, comma-separated arguments of the call whose opening parenthesis is at `open`,
 * trimmed; null when the parenthesis is never closed.
 */
export function splitCallArgs(sql: string, open: number): string[] | null {
  if (sql[open] !== '(') throw new Error(`splitCallArgs: no parenthesis at ${open}`);
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  let i = open + 1;
  while (i < sql.length) {
    const quoted = quotedEnd(sql, i);
    if (quoted > i) {
      i = quoted;
      continue;
    }
    const ch = sql[i];
    if (ch === '(' || ch === '[') depth += 1;
    else if (ch === ')' || ch === ']') {
      if (depth === 0) {
        const last = sql.slice(start, i).trim();
        if (last !== '' || args.length > 0) args.push(last);
        return args;
      }
      depth -= 1;
    } else if (ch === ',' && depth === 0) {
      args.push(sql.slice(start, i).trim());
      start = i + 1;
    }
    i += 1;
  }
  return null;
}

/** A call found in SQL text: the name as written (lower-cased) and its top-level arguments. */
export interface SqlCall {
  name: string;
  args: string[];
}

const CALL = /(?<![A-Za-z0-9_$."])([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;

/**
 * Every schema-qualified call `schema.name(…)` in the text (comments ignored, nothing inside
 * string literals), in order of appearance.
 */
export function findQualifiedCalls(sql: string, schemas: readonly string[]): SqlCall[] {
  const text = stripSqlComments(sql);
  const wanted = new Set(schemas.map((s) => s.toLowerCase()));
  const calls: SqlCall[] = [];
  const literalRanges = stringRanges(text);
  for (const match of text.matchAll(CALL)) {
    const schema = (match[1] ?? '').toLowerCase();
    if (!wanted.has(schema)) continue;
    const at = match.index;
    if (literalRanges.some(([from, to]) => at >= from && at < to)) continue;
    const open = at + match[0].length - 1;
    const args = splitCallArgs(text, open);
    if (args === null) continue;
    calls.push({ name: `${schema}.${(match[2] ?? '').toLowerCase()}`, args });
  }
  return calls;
}

/** [start, end) of every quoted token in comment-free text. */
function stringRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let i = 0;
  while (i < text.length) {
    const end = quotedEnd(text, i);
    if (end > i) {
      // A double-quoted identifier is part of a name, not a string; calls may follow it.
      if (text[i] !== '"') ranges.push([i, end]);
      i = end;
    } else {
      i += 1;
    }
  }
  return ranges;
}

/** The value of a plain or E'' string literal (optionally cast, e.g. 'x'::text), else null. */
export function stringLiteral(expr: string): string | null {
  const cast = String.raw`(?:\s*::\s*[A-Za-z_][A-Za-z0-9_ ]*)?$`;
  const text = expr.trim();
  const plain = new RegExp(String.raw`^'((?:[^']|'')*)'${cast}`, 's').exec(text);
  if (plain !== null) return (plain[1] ?? '').replace(/''/g, "'");
  const escaped = new RegExp(String.raw`^[Ee]'((?:[^'\\]|\\.|'')*)'${cast}`, 's').exec(text);
  if (escaped !== null) return (escaped[1] ?? '').replace(/''/g, "'").replace(/\\(.)/gs, '$1');
  return null;
}

/**
 * A topic expression such as `'event:' || v_event.id::text || ':staff'` as a pattern
 * (`event:<id>:staff`): literal parts kept, every other part shown as `<id>`.
 */
export function topicPattern(expr: string): string {
  return splitConcat(expr)
    .map((part) => stringLiteral(part) ?? '<id>')
    .join('');
}

/** Splits an expression on top-level `||`. */
function splitConcat(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < expr.length) {
    const quoted = quotedEnd(expr, i);
    if (quoted > i) {
      i = quoted;
      continue;
    }
    const ch = expr[i];
    if (ch === '(') depth += 1;
    else if (ch === ')') depth -= 1;
    else if (ch === '|' && expr[i + 1] === '|' && depth === 0) {
      parts.push(expr.slice(start, i).trim());
      start = i + 2;
      i += 2;
      continue;
    }
    i += 1;
  }
  parts.push(expr.slice(start).trim());
  return parts;
}

/** The values of every '…' / E'…' string literal in the text (comments ignored). */
export function stringLiterals(sql: string): string[] {
  const text = stripSqlComments(sql);
  const values: string[] = [];
  let i = 0;
  while (i < text.length) {
    const end = quotedEnd(text, i);
    if (end > i) {
      const value = stringLiteral(text.slice(i, end));
      if (value !== null) values.push(value);
      i = end;
    } else {
      i += 1;
    }
  }
  return values;
}
