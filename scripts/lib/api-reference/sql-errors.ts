/**
 * The errors an RPC can raise, from two sources that are shown side by side:
 *  - documented: the "Errors: 22023 a / b; 42501 c, P0001 d." sentence of its `comment on`;
 *  - raised: every literal `private.raise_error('<sqlstate>', '<hint>', …)` in its body and,
 *    transitively, in the bodies of the `private.` / `public.` / `admin.` functions it calls (by name, all
 *    overloads), including the insert triggers of the tables it inserts into (an
 *    `insert into public.x` / `private.x` reaches the triggers that fire on insert into x; one
 *    level: writes made by trigger functions are not followed further). Updates are not
 *    followed: in RPCs they change the platform's own state (counters, statuses), and following
 *    them would list every validation of the row as if the caller could trip it. Errors PostgreSQL raises itself (permission denied,
 *    constraint violations) have no hint and are not listed. This over-approximates a little:
 *    a callee's error is listed even when the caller has already ruled it out.
 */
import { compareText, findQualifiedCalls, stringLiteral, stringLiterals, stripSqlComments } from './sql-text.ts';

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

const SEPARATOR = /^(,|\/|;|or|and)$/;

/**
 * Reads the "Errors:" sentence of a comment: SQLSTATEs each followed by hint codes, separated by
 * `,`, `/`, `;`, `or`, `and`; a parenthesised remark is skipped. A code stands alone between
 * separators, so two words in a row are prose ("… and the obstacles of delete_my_account"):
 * reading stops there, as it does at the first other character (usually the full stop).
 */
export function documentedErrors(comment: string | null): ApiError[] {
  if (comment === null) return [];
  const errors: ApiError[] = [];
  for (const match of comment.matchAll(/\bErrors?:/g)) {
    const words = errorSentenceTokens(comment, match.index + match[0].length);
    let state: string | null = null;
    for (const [i, word] of words.entries()) {
      if (SQLSTATE.test(word)) state = word;
      else if (SEPARATOR.test(word)) continue;
      else if (state === null || !HINT.test(word)) break;
      else if (HINT.test(words[i + 1] ?? '') && !SEPARATOR.test(words[i + 1] ?? '') && !SQLSTATE.test(words[i + 1] ?? '')) break;
      else errors.push({ sqlstate: state, hint: word });
    }
  }
  return sortErrors(errors);
}

/** The tokens of an "Errors:" sentence from `at`, parenthesised remarks left out. */
function errorSentenceTokens(comment: string, at: number): string[] {
  const words: string[] = [];
  for (;;) {
    TOKEN.lastIndex = at;
    const token = TOKEN.exec(comment);
    if (token === null) return words;
    at = TOKEN.lastIndex;
    const word = token[1] ?? '';
    if (!word.startsWith('(')) words.push(word);
  }
}

/** A function body as the catalog holds it: qualified name and source. */
export interface FunctionBody {
  /** `schema.name`, lower case */
  name: string;
  source: string;
}

/** Literal raise_error calls and `raise exception using` statements in one body (non-literal arguments are skipped). */
export function directErrors(source: string): ApiError[] {
  const errors: ApiError[] = [];
  for (const call of findQualifiedCalls(source, ['private'])) {
    if (call.name !== 'private.raise_error') continue;
    const sqlstate = stringLiteral(call.args[0] ?? '');
    const hint = stringLiteral(call.args[1] ?? '');
    if (sqlstate !== null && hint !== null && SQLSTATE.test(sqlstate)) errors.push({ sqlstate, hint });
  }
  // `raise exception using errcode = '…', hint = '…'` with literal values (the rate limiter raises
  // this way, to attach a DETAIL).
  for (const raise of stripSqlComments(source).matchAll(/\braise\s+exception\s+using\b([^;]*);/gi)) {
    const options = raise[1] ?? '';
    const sqlstate = /\berrcode\s*=\s*'([^']*)'/i.exec(options)?.[1];
    const hint = /\bhint\s*=\s*'([a-z][a-z0-9_]*)'/i.exec(options)?.[1];
    if (sqlstate !== undefined && hint !== undefined && SQLSTATE.test(sqlstate)) errors.push({ sqlstate, hint });
  }
  return errors;
}

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

/** Which functions each function reaches: the ones it calls, and the insert triggers of its writes. */
function reachability(bodies: readonly FunctionBody[], triggers: readonly TriggerLink[]): {
  sources: Map<string, string[]>;
  reached: Map<string, string[]>;
} {
  const sources = new Map<string, string[]>();
  for (const body of bodies) sources.set(body.name, [...(sources.get(body.name) ?? []), body.source]);
  const callees = new Map<string, Set<string>>();
  const fires = new Map<string, Set<string>>();
  for (const [name, texts] of sources) {
    const called = new Set<string>();
    const fired = new Set<string>();
    for (const text of texts) {
      for (const call of findQualifiedCalls(text, ['private', 'public', 'admin'])) {
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
  const reached = new Map<string, string[]>();
  for (const name of sources.keys()) {
    // Triggers are followed one level deep: the writes a trigger function makes (counters,
    // ledger postings, mirrors) are the platform's own and would only add noise.
    const seen = new Set<string>([`${name}|call`]);
    const queue: Array<[string, boolean]> = [[name, false]];
    const found: string[] = [];
    while (queue.length > 0) {
      const [current, inTrigger] = queue.pop() as [string, boolean];
      found.push(current);
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
    reached.set(name, found);
  }
  return { sources, reached };
}

/**
 * For every function: the errors raised in it or in anything it reaches (cycles are fine).
 * Bodies sharing a name (overloads) are one node.
 */
export function raisedErrors(bodies: readonly FunctionBody[], triggers: readonly TriggerLink[] = []): Map<string, ApiError[]> {
  const { sources, reached } = reachability(bodies, triggers);
  const direct = new Map([...sources].map(([name, texts]) => [name, texts.flatMap(directErrors)]));
  return new Map([...reached].map(([name, fns]) => [name, sortErrors(fns.flatMap((fn) => direct.get(fn) ?? []))]));
}

/** SQLSTATEs of raise_error calls whose hint is computed (e.g. an obstacle's code read from a row). */
function computedHintStates(source: string): string[] {
  return findQualifiedCalls(source, ['private'])
    .filter((call) => call.name === 'private.raise_error' && stringLiteral(call.args[1] ?? '') === null)
    .map((call) => stringLiteral(call.args[0] ?? '') ?? '')
    .filter((state) => SQLSTATE.test(state));
}

/** A function whose comment documents errors, as the documented-errors check reads it. */
export interface CommentedBody extends FunctionBody {
  comment: string | null;
}

/**
 * Errors a function's comment documents that neither it nor anything it calls can raise (by
 * the same scan as the reference's "raised in code"): a stale comment, one line each. A comment
 * must not promise a code an app can never see, or apps handle errors that never come and miss
 * the ones that do.
 */
export function documentedButNeverRaised(bodies: readonly CommentedBody[], triggers: readonly TriggerLink[] = []): string[] {
  const { sources, reached } = reachability(bodies, triggers);
  const raised = raisedErrors(bodies, triggers);
  const problems = new Set<string>();
  for (const body of bodies) {
    const can = new Set((raised.get(body.name) ?? []).map(errorKey));
    // A hint computed at run time (raise_error('P0001', v_obstacle.code, …)) can be any code the
    // reached code spells out as a string: those count as raised with that SQLSTATE.
    const texts = (reached.get(body.name) ?? []).flatMap((fn) => sources.get(fn) ?? []);
    const computed = new Set(texts.flatMap(computedHintStates));
    const spelled = new Set(texts.flatMap(stringLiterals));
    for (const error of documentedErrors(body.comment)) {
      if (can.has(errorKey(error)) || (computed.has(error.sqlstate) && spelled.has(error.hint))) continue;
      problems.add(`${body.name}: its comment documents ${errorKey(error)}, which neither it nor anything it calls raises`);
    }
  }
  return [...problems].sort(compareText);
}
