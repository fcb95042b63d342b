/**
 * The errors an RPC can raise, from two sources that are shown side by side:
 *  - documented: the "Errors: 22023 a / b; 42501 c, P0001 d." sentence of its `comment on`;
 *  - raised: every literal `private.raise_error('<sqlstate>', '<hint>', …)` in its body and,
 *    transitively, in the bodies of the `private.` / `public.` functions it calls (by name, all
 *    overloads), including the insert triggers of the tables it inserts into (an
 *    `insert into public.x` / `private.x` reaches the triggers that fire on insert into x; one
 *    level: writes made by trigger functions are not followed further). Updates are not
 *    followed: in RPCs they change the platform's own state (counters, statuses), and following
 *    them would list every validation of the row as if the caller could trip it. Errors PostgreSQL raises itself (permission denied,
 *    constraint violations) have no hint and are not listed. This over-approximates a little:
 *    a callee's error is listed even when the caller has already ruled it out.
 */
import { compareText, findQualifiedCalls, stringLiteral, stripSqlComments } from './sql-text.ts';

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
  return [...unique.values()].sort((a, b) => compareText(a.sqlstate, b.sqlstate) || compareText(a.hint, b.hint));
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const HINT = /^[a-z][a-z0-9_]*$/;
const TOKEN = /\s*(\([^)]*\)|\/|,|;|\bor\b|\band\b|[0-9A-Z]{5}\b|[a-z][a-z0-9_]*)/y;

/**
 * Reads the "Errors:" sentence of a comment: SQLSTATEs each followed by hint codes, separated by
 * `,`, `/`, `;`, `or`, `and`; a parenthesised remark is skipped. Reading stops at the first
 * other character (usually the full stop).
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
      if (word.startsWith('(')) continue;
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
/** A trigger as the error scan needs it. */
export interface TriggerLink {
  /** schema.table */
  table: string;
  function: string;
  events: readonly string[];
}

const WRITE = /\b(insert\s+into|update|delete\s+from)\s+(?:only\s+)?(public|private)\s*\.\s*([a-z_][a-z0-9_]*)/gi;

/** `schema.table` and event of every write in a body (comments ignored). */
export function writesIn(source: string): Array<{ table: string; event: string }> {
  const writes: Array<{ table: string; event: string }> = [];
  for (const match of stripSqlComments(source).matchAll(WRITE)) {
    const verb = (match[1] ?? '').toLowerCase();
    const event = verb.startsWith('insert') ? 'insert' : verb.startsWith('delete') ? 'delete' : 'update';
    writes.push({ table: `${(match[2] ?? '').toLowerCase()}.${(match[3] ?? '').toLowerCase()}`, event });
  }
  return writes;
}

export function raisedErrors(bodies: readonly FunctionBody[], triggers: readonly TriggerLink[] = []): Map<string, ApiError[]> {
  const sources = new Map<string, string[]>();
  for (const body of bodies) sources.set(body.name, [...(sources.get(body.name) ?? []), body.source]);
  const direct = new Map<string, ApiError[]>();
  const callees = new Map<string, Set<string>>();
  const fires = new Map<string, Set<string>>();
  for (const [name, texts] of sources) {
    direct.set(name, texts.flatMap(directErrors));
    const called = new Set<string>();
    const fired = new Set<string>();
    for (const text of texts) {
      for (const call of findQualifiedCalls(text, ['private', 'public'])) {
        if (call.name !== name && sources.has(call.name)) called.add(call.name);
      }
      for (const write of writesIn(text)) {
        for (const trigger of triggers) {
          if (write.event === 'insert' && trigger.table === write.table && trigger.events.includes('insert') && trigger.function !== name) {
            fired.add(trigger.function);
          }
        }
      }
    }
    callees.set(name, called);
    fires.set(name, fired);
  }
  const result = new Map<string, ApiError[]>();
  for (const name of sources.keys()) {
    // Triggers are followed one level deep: the writes a trigger function makes (counters,
    // ledger postings, mirrors) are the platform's own and would only add noise.
    const seen = new Set<string>([`${name}|call`]);
    const queue: Array<[string, boolean]> = [[name, false]];
    const found: ApiError[] = [];
    while (queue.length > 0) {
      const [current, inTrigger] = queue.pop() as [string, boolean];
      found.push(...(direct.get(current) ?? []));
      const next: Array<[string, boolean]> = [...(callees.get(current) ?? [])].map((callee) => [callee, inTrigger]);
      if (!inTrigger) for (const trigger of fires.get(current) ?? []) next.push([trigger, true]);
      for (const [fn, viaTrigger] of next) {
        const key = `${fn}|${viaTrigger ? 'trigger' : 'call'}`;
        if (!seen.has(key)) {
          seen.add(key);
          queue.push([fn, viaTrigger]);
        }
      }
    }
    result.set(name, sortErrors(found));
  }
  return result;
}
