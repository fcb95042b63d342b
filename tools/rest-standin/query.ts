/**
 * PostgREST's URL grammar, the subset the Data API stand-in serves: `select=` (columns, renames,
 * casts, `*`, one level of embedded resources with `!hint`/`!inner`/`!left`), horizontal filters
 * (`eq neq gt gte lt lte like ilike in is`, each with `not.`), `or=`/`and=` trees, `order=`,
 * `limit=`, `offset=`. Anything else in the grammar throws `Unsupported` naming the feature (the
 * service answers 501), and malformed input throws `QueryError` (400 with PostgREST's PGRST100).
 * No npm package parses PostgREST's grammar on the server side, so this is kept small and tested
 * (tests/rest-standin/query.test.ts).
 */

export class QueryError extends Error {
  constructor(message: string, readonly details: string | null = null) {
    super(message);
  }
}

export class Unsupported extends Error {
  constructor(readonly feature: string) {
    super(`The Data API stand-in does not support ${feature}`);
  }
}

export interface SelectColumn {
  kind: 'column';
  name: string;
  alias: string | null;
  cast: string | null;
}
export interface SelectStar {
  kind: 'star';
}
export interface SelectEmbed {
  kind: 'embed';
  relation: string;
  alias: string | null;
  /** `!hint`: a foreign key constraint name or a column. */
  hint: string | null;
  inner: boolean;
  items: SelectItem[];
}
export type SelectItem = SelectColumn | SelectStar | SelectEmbed;

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'in', 'is'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Condition {
  kind: 'condition';
  column: string;
  negated: boolean;
  operator: Operator;
  /** For `in`: the list; for `is`: one of null/true/false/unknown; otherwise the raw value. */
  value: string | string[];
}
export interface Logic {
  kind: 'logic';
  op: 'and' | 'or';
  negated: boolean;
  children: Filter[];
}
export type Filter = Condition | Logic;

export interface OrderTerm {
  column: string;
  direction: 'asc' | 'desc';
  nulls: 'first' | 'last' | null;
}

const UNSUPPORTED_OPERATORS: Record<string, string> = {
  match: 'the match operator', imatch: 'the imatch operator', fts: 'full-text search filters (fts)',
  plfts: 'full-text search filters (plfts)', phfts: 'full-text search filters (phfts)', wfts: 'full-text search filters (wfts)',
  cs: 'the contains operator (cs)', cd: 'the contained-by operator (cd)', ov: 'the overlap operator (ov)',
  sl: 'range operators (sl)', sr: 'range operators (sr)', nxr: 'range operators (nxr)', nxl: 'range operators (nxl)',
  adj: 'range operators (adj)', isdistinct: 'the isdistinct operator',
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** A column or relation name as PostgREST accepts it: an identifier, or a double-quoted name. */
function fieldName(raw: string, what: string): string {
  const text = raw.trim();
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) return text.slice(1, -1).replace(/""/g, '"');
  if (text.includes('->')) throw new Unsupported(`JSON paths (${text}) in ${what}`);
  if (!IDENT.test(text)) throw new QueryError(`"failed to parse ${what} parameter (${raw})"`, `unexpected "${text}"`);
  return text;
}

/** Splits on `sep` at depth 0, honouring parentheses and double quotes. */
export function splitTopLevel(text: string, sep = ','): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] as string;
    if (ch === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (!quoted && ch === '(') depth += 1;
    if (!quoted && ch === ')') depth -= 1;
    if (depth < 0) throw new QueryError('unbalanced parentheses', text);
    if (!quoted && depth === 0 && ch === sep) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth !== 0 || quoted) throw new QueryError('unbalanced parentheses or quotes', text);
  parts.push(current);
  return parts;
}

export function parseSelect(raw: string | null): SelectItem[] {
  if (raw === null || raw.trim() === '') return [{ kind: 'star' }];
  return splitTopLevel(raw.replace(/\s+(?=(?:[^"]*"[^"]*")*[^"]*$)/g, '')).map(parseSelectItem);
}

function parseSelectItem(text: string): SelectItem {
  if (text === '') throw new QueryError('"failed to parse select parameter"', 'empty select item');
  if (text === '*') return { kind: 'star' };
  if (text.startsWith('...')) throw new Unsupported('spread embedding (...relation)');
  const paren = text.indexOf('(');
  if (paren !== -1 && text.endsWith(')')) {
    let head = text.slice(0, paren);
    const inner = text.slice(paren + 1, -1);
    let alias: string | null = null;
    const colon = head.indexOf(':');
    if (colon !== -1) {
      alias = fieldName(head.slice(0, colon), 'select');
      head = head.slice(colon + 1);
    }
    const [relation, ...bangs] = head.split('!');
    let hint: string | null = null;
    let inner_ = false;
    for (const bang of bangs) {
      if (bang === 'inner') inner_ = true;
      else if (bang === 'left') inner_ = false;
      else if (hint === null) hint = fieldName(bang, 'select');
      else throw new QueryError('"failed to parse select parameter"', `unexpected !${bang}`);
    }
    if (['count', 'sum', 'avg', 'min', 'max'].includes(relation ?? '') && inner === '') throw new Unsupported('aggregate functions in select');
    const items = parseSelect(inner);
    if (items.some((item) => item.kind === 'embed')) throw new Unsupported('nested embedding (more than one level)');
    return { kind: 'embed', relation: fieldName(relation ?? '', 'select'), alias, hint, inner: inner_, items };
  }
  let body = text;
  let alias: string | null = null;
  const colon = body.search(/:(?!:)/);
  if (colon !== -1 && body[colon - 1] !== ':') {
    alias = fieldName(body.slice(0, colon), 'select');
    body = body.slice(colon + 1);
  }
  let cast: string | null = null;
  const castAt = body.indexOf('::');
  if (castAt !== -1) {
    cast = body.slice(castAt + 2);
    body = body.slice(0, castAt);
    if (!/^[A-Za-z_][A-Za-z0-9_ ]*(\[\])?$/.test(cast)) throw new QueryError('"failed to parse select parameter"', `bad cast ${cast}`);
  }
  if (/\.(count|sum|avg|min|max)\(\)$/.test(body) || /^count\(\)$/.test(body)) throw new Unsupported('aggregate functions in select');
  return { kind: 'column', name: fieldName(body, 'select'), alias, cast };
}

/** `value` of `col=value`: `[not.]op.operand`. */
export function parseCondition(column: string, value: string): Condition {
  let rest = value;
  let negated = false;
  if (rest.startsWith('not.')) {
    negated = true;
    rest = rest.slice(4);
  }
  const dot = rest.indexOf('.');
  const opText = dot === -1 ? rest : rest.slice(0, dot);
  const operand = dot === -1 ? '' : rest.slice(dot + 1);
  const modifier = /^(\w+)\((any|all)\)$/.exec(opText);
  if (modifier !== null) throw new Unsupported(`the (${modifier[2]}) operator modifier`);
  if (opText in UNSUPPORTED_OPERATORS) throw new Unsupported(UNSUPPORTED_OPERATORS[opText] as string);
  if (!(OPERATORS as readonly string[]).includes(opText) || dot === -1) {
    throw new QueryError(`"failed to parse filter (${value})" (line 1, column ${dot === -1 ? value.length + 1 : 1})`, `unexpected "${opText}" expecting an operator`);
  }
  const operator = opText as Operator;
  if (operator === 'in') return { kind: 'condition', column: fieldName(column, 'filter'), negated, operator, value: parseList(operand) };
  if (operator === 'is') {
    const lowered = operand.toLowerCase();
    if (!['null', 'true', 'false', 'unknown', 'not_null'].includes(lowered)) {
      throw new QueryError(`"failed to parse filter (${value})"`, 'is expects null, not_null, true, false or unknown');
    }
    return { kind: 'condition', column: fieldName(column, 'filter'), negated, operator, value: lowered };
  }
  return { kind: 'condition', column: fieldName(column, 'filter'), negated, operator, value: operand };
}

/** `(a,b,"c,d")` → ['a', 'b', 'c,d']. */
export function parseList(text: string): string[] {
  if (!text.startsWith('(') || !text.endsWith(')')) throw new QueryError(`"failed to parse filter (in.${text})"`, 'expecting a list in parentheses');
  const inner = text.slice(1, -1);
  if (inner === '') return [];
  return splitTopLevel(inner).map((item) => {
    const trimmed = item.trim();
    if (trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2) return trimmed.slice(1, -1).replace(/\\(.)/g, '$1');
    return trimmed;
  });
}

/** `or=(a.eq.1,and(b.gt.2,c.is.null))` as the value of an `or`/`and` parameter (`not.or` too). */
export function parseLogic(key: string, value: string): Logic {
  const negated = key.startsWith('not.');
  const op = (negated ? key.slice(4) : key) as 'and' | 'or';
  if (!value.startsWith('(') || !value.endsWith(')')) throw new QueryError(`"failed to parse logic tree (${value})"`, 'expecting "("');
  return { kind: 'logic', op, negated, children: splitTopLevel(value.slice(1, -1)).map(parseLogicItem) };
}

function parseLogicItem(text: string): Filter {
  const item = text.trim();
  const nested = /^(not\.)?(and|or)\((.*)\)$/s.exec(item);
  if (nested !== null) return parseLogic(`${nested[1] ?? ''}${nested[2]}`, `(${nested[3]})`);
  const dot = item.indexOf('.');
  if (dot === -1) throw new QueryError(`"failed to parse logic tree (${item})"`, 'expecting column.operator.value');
  const column = item.slice(0, dot);
  if (column.includes('->')) throw new Unsupported(`JSON paths (${column}) in filters`);
  if (column.includes('(')) throw new QueryError(`"failed to parse logic tree (${item})"`, null);
  return parseCondition(column, item.slice(dot + 1));
}

export function parseOrder(raw: string): OrderTerm[] {
  return splitTopLevel(raw).map((term) => {
    if (term.includes('(')) throw new Unsupported('ordering by embedded resources');
    const parts = term.split('.');
    const column = fieldName(parts[0] ?? '', 'order');
    let direction: 'asc' | 'desc' = 'asc';
    let nulls: 'first' | 'last' | null = null;
    for (const part of parts.slice(1)) {
      if (part === 'asc' || part === 'desc') direction = part;
      else if (part === 'nullsfirst') nulls = 'first';
      else if (part === 'nullslast') nulls = 'last';
      else throw new QueryError(`"failed to parse order (${raw})"`, `unexpected "${part}"`);
    }
    return { column, direction, nulls };
  });
}

export function parseNonNegative(name: string, raw: string | null): number | null {
  if (raw === null) return null;
  if (!/^\d+$/.test(raw)) throw new QueryError(`"failed to parse ${name} parameter (${raw})"`, 'expecting a non-negative integer');
  return Number(raw);
}

/** The `Prefer` header(s) PostgREST reads, each checked against what the stand-in serves. */
export interface Preferences {
  return: 'representation' | 'minimal' | 'headers-only' | null;
  count: 'exact' | null;
  resolution: 'merge-duplicates' | 'ignore-duplicates' | null;
  missing: 'default' | null;
}

export function parsePrefer(header: string | string[] | undefined): Preferences {
  const prefs: Preferences = { return: null, count: null, resolution: null, missing: null };
  const items = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    const [key, value] = item.split('=').map((s) => s.trim());
    if (key === 'return' && (value === 'representation' || value === 'minimal' || value === 'headers-only')) prefs.return = value;
    else if (key === 'count' && value === 'exact') prefs.count = 'exact';
    else if (key === 'count' && (value === 'planned' || value === 'estimated')) throw new Unsupported(`Prefer: count=${value}`);
    else if (key === 'resolution' && (value === 'merge-duplicates' || value === 'ignore-duplicates')) prefs.resolution = value;
    else if (key === 'missing' && value === 'default') prefs.missing = 'default';
    else if (key === 'tx' || key === 'params' || key === 'max-affected' || key === 'timezone') throw new Unsupported(`Prefer: ${item}`);
    // handling=lenient/strict and unknown preferences are ignored, as PostgREST does by default.
  }
  return prefs;
}

/** Reserved query parameters; every other key is a filter on a column. */
export const RESERVED_PARAMS = new Set(['select', 'order', 'limit', 'offset', 'or', 'and', 'not.or', 'not.and', 'columns', 'on_conflict']);

export interface ReadQuery {
  select: SelectItem[];
  filters: Filter[];
  order: OrderTerm[];
  limit: number | null;
  offset: number | null;
  columns: string[] | null;
  onConflict: string[] | null;
}

/** The whole query string of a table request (or of an RPC, minus the function's arguments). */
export function parseQuery(params: URLSearchParams, skip: ReadonlySet<string> = new Set()): ReadQuery {
  const query: ReadQuery = { select: [{ kind: 'star' }], filters: [], order: [], limit: null, offset: null, columns: null, onConflict: null };
  for (const [key, value] of params) {
    if (skip.has(key)) continue;
    if (key === 'select') query.select = parseSelect(value);
    else if (key === 'order') query.order = parseOrder(value);
    else if (key === 'limit') query.limit = parseNonNegative('limit', value);
    else if (key === 'offset') query.offset = parseNonNegative('offset', value);
    else if (key === 'or' || key === 'and' || key === 'not.or' || key === 'not.and') query.filters.push(parseLogic(key, value));
    else if (key === 'columns') query.columns = splitTopLevel(value).map((c) => fieldName(c, 'columns'));
    else if (key === 'on_conflict') query.onConflict = splitTopLevel(value).map((c) => fieldName(c, 'on_conflict'));
    else if (key.includes('.')) {
      const [first] = key.split('.');
      if (key.endsWith('.or') || key.endsWith('.and') || key.endsWith('.order') || key.endsWith('.limit') || key.endsWith('.offset')) {
        throw new Unsupported(`modifiers on embedded resources (${key})`);
      }
      throw new Unsupported(`filters on embedded resources (${first}.…)`);
    } else query.filters.push(parseCondition(key, value));
  }
  return query;
}
