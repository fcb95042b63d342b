/**
 * The errors an RPC can raise, from two sources that are shown side by side:
 *  - documented: the "Errors: 22023 a / b; 42501 c, P0001 d." sentence of its `comment on`;
 *  - raised: every literal `private.raise_error('<sqlstate>', '<hint>', …)` in its body and,
 *    transitively, in the bodies of the `private.` / `public.` functions it calls (by name, all
 *    overloads). Trigger functions of tables it writes are not followed (the reference lists
 *    those under each table instead), and errors PostgreSQL raises itself (permission denied,
 *    constraint violations) have no hint and are not listed.
 */
import { findQualifiedCalls, stringLiteral } from './sql-text.ts';

export interface ApiError {
  sqlstate: string;
  hint: string;
}

export function errorKey(error: ApiError): string {
  return `${error.sqlstate} ${error.hint}`;
}

export function sortErrors(errors: Iterable<ApiError>): ApiError[] {
  const unique = new Map<string, ApiError>();
  for (const error of errors) unique.set(errorKey(error), error);
  return [...unique.values()].sort((a, b) => a.sqlstate.localeCompare(b.sqlstate) || a.hint.localeCompare(b.hint));
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const HINT = /^[a-z][a-z0-9_]*$/;
const TOKEN = /\s*(\/|,|;|\bor\b|\band\b|[0-9A-Z]{5}\b|[a-z][a-z0-9_]*)/y;

/**
 * Reads the "Errors:" sentence of a comment: SQLSTATEs each followed by hint codes, separated by
 * `,`, `/`, `;`, `or`, `and`. Reading stops at the first other character (usually the full stop).
 */
export function documentedErrors(comment: string | null): ApiError[] {
  if (comment === null) return [];
  const errors: ApiError[] = [];
  for (const match of comment.matchAll(/\bErrors?:/g)) {
    let at = match.index + match[0].length;
    let state: string | null = null;
    for (;;) {
      TOKEN.lastIndex = at;
      const token = TOKEN.exec(comment);
      if (token === null) break;
      at = TOKEN.lastIndex;
      const word = token[1] ?? '';
      if (SQLSTATE.test(word)) state = word;
      else if (state !== null && HINT.test(word) && word !== 'or' && word !== 'and') errors.push({ sqlstate: state, hint: word });
    }
  }
  return sortErrors(errors);
}

/** A function body as the catalog holds it: qualified name and source. */
export interface FunctionBody {
  /** `schema.name`, lower case */
  name: string;
  source: string;
}

/** Literal raise_error calls in one body (non-literal arguments are skipped). */
export function directErrors(source: string): ApiError[] {
  const errors: ApiError[] = [];
  for (const call of findQualifiedCalls(source, ['private'])) {
    if (call.name !== 'private.raise_error') continue;
    const sqlstate = stringLiteral(call.args[0] ?? '');
    const hint = stringLiteral(call.args[1] ?? '');
    if (sqlstate !== null && hint !== null && SQLSTATE.test(sqlstate)) errors.push({ sqlstate, hint });
  }
  return errors;
}

/**
 * For every function: the errors raised in it or in anything it calls (cycles are fine). Bodies
 * sharing a name (overloads) are one node.
 */
export function raisedErrors(bodies: readonly FunctionBody[]): Map<string, ApiError[]> {
  const sources = new Map<string, string[]>();
  for (const body of bodies) sources.set(body.name, [...(sources.get(body.name) ?? []), body.source]);
  const direct = new Map<string, ApiError[]>();
  const callees = new Map<string, Set<string>>();
  for (const [name, texts] of sources) {
    direct.set(name, texts.flatMap(directErrors));
    const called = new Set<string>();
    for (const text of texts) {
      for (const call of findQualifiedCalls(text, ['private', 'public'])) {
        if (call.name !== name && sources.has(call.name)) called.add(call.name);
      }
    }
    callees.set(name, called);
  }
  const result = new Map<string, ApiError[]>();
  for (const name of sources.keys()) {
    const seen = new Set<string>([name]);
    const queue = [name];
    const found: ApiError[] = [];
    while (queue.length > 0) {
      const current = queue.pop() as string;
      found.push(...(direct.get(current) ?? []));
      for (const next of callees.get(current) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    result.set(name, sortErrors(found));
  }
  return result;
}
