/**
 * The reference as Markdown. Pure: the same model always gives the same bytes (everything is
 * sorted before it gets here or here; no dates, no absolute paths).
 */
import type { Access, ApiRole, CatalogFunction, CatalogRelation, Privilege } from './catalog.ts';
import { API_ROLES, PRIVILEGES } from './catalog.ts';
import type { ApiError } from './sql-errors.ts';
import { errorKey } from './sql-errors.ts';
import type { EndpointSpec, HttpErrorSpec } from './edge-functions.ts';
import { summarizeSchema, type SchemaSummary } from './json-schema.ts';
import type { EventSpec, TopicSpec } from './realtime.ts';
import { compareText } from './sql-text.ts';
import { rpcExample, shownDefault, tableCalls } from './client-examples.ts';

export interface RpcModel {
  fn: CatalogFunction;
  documented: ApiError[];
  raised: ApiError[];
  /** the title of the capability whose migration defines it (null: none, a generator problem) */
  capability: string | null;
}

export interface RelationModel {
  relation: CatalogRelation;
  /** errors the relation's triggers may raise on writes */
  writeErrors: ApiError[];
  capability: string | null;
}

export interface EndpointModel {
  spec: EndpointSpec;
  errors: HttpErrorSpec[];
}

export interface FunctionModel {
  name: string;
  verifyJwt: boolean;
  methods: string[];
  endpoints: EndpointModel[];
  capability: string | null;
}

export interface CapabilityHeading {
  title: string;
  /** its document, relative to docs/ */
  doc: string;
}

export interface ReferenceModel {
  /** the sections, in order */
  capabilities: readonly CapabilityHeading[];
  /** the errors every RPC that needs a signed-in user inherits from private.require_user */
  inherited: ApiError[];
  rpcs: RpcModel[];
  internalFunctions: string[];
  relations: RelationModel[];
  functions: FunctionModel[];
  topics: readonly TopicSpec[];
  events: readonly EventSpec[];
}

/** Text safe inside a Markdown table cell. */
export function cell(text: string | null | undefined): string {
  if (text === null || text === undefined || text === '') return '';
  return text.replace(/\r?\n\s*/g, ' ').replace(/\|/g, '\\|').trim();
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** GitHub's heading id for a heading that is just `name` in backticks. */
function anchor(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_ -]+/g, '').replace(/ /g, '-');
}

function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [];
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`), ''];
}

function paragraph(text: string | null): string[] {
  return text === null || text.trim() === '' ? ['*(no comment)*', ''] : [text.trim(), ''];
}

// ---------------------------------------------------------------------------------------------
// RPCs
// ---------------------------------------------------------------------------------------------

function inputArguments(fn: CatalogFunction): CatalogFunction['arguments'] {
  return fn.arguments.filter((arg) => arg.mode === 'in' || arg.mode === 'inout' || arg.mode === 'variadic');
}

function codeBlock(text: string): string[] {
  return ['```ts', text, '```', ''];
}

/** What `data` holds: supabase-js answers sets as arrays and one composite row as an object. */
function returnsText(fn: CatalogFunction, relations: ReadonlySet<string>): string {
  if (/^TABLE\(/i.test(fn.returns)) return '`data`: an array of rows (columns below)';
  const type = fn.returns.replace(/^SETOF\s+/i, '');
  if (type === 'void') return '`data`: null (the function returns nothing)';
  const shown = relations.has(type) ? `[${code(type)}](#${anchor(type)})` : code(type);
  if (fn.returnsSet) return `\`data\`: an array of ${shown} ${relations.has(type) ? 'rows' : 'values'}`;
  return relations.has(type) ? `\`data\`: one ${shown} row (an object)` : `\`data\`: ${shown}`;
}

/** True when `raised` holds every inherited error: the function calls private.require_user. */
export function needsSignedInUser(raised: readonly ApiError[], inherited: readonly ApiError[]): boolean {
  const keys = new Set(raised.map(errorKey));
  return inherited.length > 0 && inherited.every((error) => keys.has(errorKey(error)));
}

/** Rows of an RPC's error table, without the inherited errors (stated once, in Conventions). */
function errorRows(model: { documented: ApiError[]; raised: ApiError[] }, omit: readonly ApiError[]): string[][] {
  const documented = new Set(model.documented.map(errorKey));
  const raised = new Set(model.raised.map(errorKey));
  const omitted = new Set(omit.map(errorKey));
  const all = new Map<string, ApiError>();
  for (const error of [...model.documented, ...model.raised]) if (!omitted.has(errorKey(error))) all.set(errorKey(error), error);
  return [...all.values()]
    .sort((a, b) => compareText(a.sqlstate, b.sqlstate) || compareText(a.hint, b.hint))
    .map((error) => [
      code(error.sqlstate),
      code(error.hint),
      documented.has(errorKey(error)) ? '✓' : '',
      raised.has(errorKey(error)) ? '✓' : '',
    ]);
}

const SIGNED_IN = 'Needs a signed-in user: also the account errors of `require_user` ([Conventions](#conventions)).';

function renderRpc(model: RpcModel, relations: ReadonlySet<string>, inherited: readonly ApiError[]): string[] {
  const fn = model.fn;
  const lines = [`### ${code(fn.name)}`, '', ...paragraph(fn.comment)];
  lines.push(...codeBlock(rpcExample(fn)));
  const readOnly = fn.volatility === 'volatile' ? '' : ` Read-only (${fn.volatility}): also \`supabase.rpc('${fn.name}', { … }, { get: true })\`, a GET.`;
  lines.push(`${returnsText(fn, relations)}.${readOnly}`, '');
  lines.push(
    `Callable by: ${fn.callers.map(code).join(', ')} · ${fn.volatility}${fn.securityDefiner ? ' · security definer' : ''} · SQL: ${code(`public.${fn.signature}`)}`,
    '',
  );
  const args = inputArguments(fn);
  lines.push(...table(['argument', 'type', 'default'], args.map((arg) => [code(arg.name), code(arg.type), arg.default === null ? 'required' : code(shownDefault(arg.default))])));
  const columns = fn.arguments.filter((arg) => arg.mode === 'table' || arg.mode === 'out');
  if (columns.length > 0) {
    lines.push(...table(['column', 'type'], columns.map((arg) => [code(arg.name), code(arg.type)])));
  }
  const signedIn = needsSignedInUser(model.raised, inherited);
  if (signedIn) lines.push(SIGNED_IN, '');
  const errors = errorRows(model, signedIn ? inherited : []);
  if (errors.length > 0) lines.push('Errors:', '', ...table(['SQLSTATE', 'hint', 'in comment', 'raised in code'], errors));
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Tables and views
// ---------------------------------------------------------------------------------------------

function accessText(access: Access): string {
  if (access.kind === 'all') return '✓';
  if (access.kind === 'none') return '—';
  return `columns: ${access.columns.map(code).join(', ')}`;
}

function rlsFor(relation: CatalogRelation, role: ApiRole, privilege: Privilege): string {
  if (relation.access[role][privilege].kind === 'none') return '';
  if (role === 'service_role' || !relation.rowSecurity) return '';
  const policies = relation.policies.filter((p) => (p.command === privilege || p.command === 'all') && (p.roles.includes(role) || p.roles.includes('public')));
  return policies.length === 0 ? ' (RLS: no rows)' : ' (RLS)';
}

function renderRelation(model: RelationModel, inherited: readonly ApiError[]): string[] {
  const relation = model.relation;
  const flags: string[] = [relation.kind];
  if (relation.kind === 'table' || relation.kind === 'partitioned table') flags.push(relation.rowSecurity ? 'RLS on' : 'RLS OFF');
  if (relation.kind === 'view') flags.push(relation.securityInvoker ? 'security_invoker (the caller\'s RLS applies)' : 'security definer view');
  const lines = [`### ${code(relation.name)}`, '', `*${flags.join(', ')}* · ${code(`supabase.from('${relation.name}')`)}`, '', ...paragraph(relation.comment)];
  lines.push(...codeBlock(tableCalls(relation)));
  lines.push(...table(
    ['role', ...PRIVILEGES],
    API_ROLES.map((role) => [code(role), ...PRIVILEGES.map((privilege) => `${accessText(relation.access[role][privilege])}${rlsFor(relation, role, privilege)}`)]),
  ));
  if (relation.policies.length > 0) {
    lines.push(`RLS policies: ${relation.policies.map((p) => `${p.command} to ${p.roles.join(', ')} — “${cell(p.name)}”${p.permissive ? '' : ' (restrictive)'}`).join('; ')}.`, '');
  } else if (relation.rowSecurity) {
    lines.push('RLS policies: none (API roles see no rows; only the service role and security-definer functions read it).', '');
  }
  const writable = relation.triggers.filter((t) => t.events.some((e) => e !== 'truncate'));
  if (writable.length > 0) {
    lines.push(`Triggers: ${writable.map((t) => `${code(t.name)} (${t.timing} ${t.events.join('/')})`).join(', ')}.`, '');
  }
  const signedIn = needsSignedInUser(model.writeErrors, inherited);
  const omitted = new Set((signedIn ? inherited : []).map(errorKey));
  const writeErrors = model.writeErrors.filter((e) => !omitted.has(errorKey(e)));
  if (signedIn) lines.push('Writes need a signed-in user: also the account errors of `require_user` ([Conventions](#conventions)).', '');
  if (writeErrors.length > 0) {
    lines.push(`Writes may raise: ${writeErrors.map((e) => `${e.sqlstate} ${code(e.hint)}`).join(', ')}.`, '');
  }
  lines.push(...table(
    ['column', 'type', 'nullable', 'default', 'description'],
    relation.columns.map((column) => [
      code(column.name),
      code(column.type),
      column.nullable ? 'yes' : 'no',
      column.generated ? 'generated' : column.default === null ? '' : code(cell(column.default)),
      cell(column.comment),
    ]),
  ));
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Edge functions
// ---------------------------------------------------------------------------------------------

function renderSchema(title: string, summary: SchemaSummary, note?: string, request = true): string[] {
  const lines: string[] = [];
  const extra = !request ? 'exactly these fields'
    : summary.extra === 'refused' ? 'other fields are refused' : summary.extra === 'allowed' ? 'other fields are accepted' : 'other fields are ignored';
  const head = `${title}${summary.optional ? ' (optional)' : ''}${note === undefined ? '' : ` — ${note}`}`;
  if (summary.fields.length === 0) {
    lines.push(`${head}: ${code(summary.type)}${summary.type === 'object' ? ` with no fields; ${extra}` : ''}.`, '');
    return lines;
  }
  lines.push(`${head}; ${extra}:`, '');
  lines.push(...table(
    ['field', 'type', 'required', 'rules', 'description'],
    summary.fields.map((row) => [code(row.field), row.type, row.required ? 'yes' : 'no', cell(row.rules), cell(row.description)]),
  ));
  return lines;
}

function renderEndpoint(fn: FunctionModel, endpoint: EndpointModel): string[] {
  const spec = endpoint.spec;
  const lines = [`#### ${code(`${spec.method} /functions/v1${spec.path}`)}`, '', spec.summary, ''];
  const auth = fn.verifyJwt ? 'verify_jwt = true (the gateway wants a project JWT)' : 'verify_jwt = false (no JWT; the function checks the caller itself)';
  lines.push(`Caller: ${spec.caller} · ${auth}${spec.headers === undefined ? '' : ` · headers: ${spec.headers.map(code).join(', ')}`}`, '');
  const request = spec.request;
  if (request !== undefined) {
    const label = request.kind === 'query' ? 'Query' : request.kind === 'form' ? 'Form body' : 'Body';
    if (request.schema === undefined) lines.push(`${label}: ${request.note ?? 'raw'}.`, '');
    else lines.push(...renderSchema(label, summarizeSchema(request.schema, 'input'), request.note));
  }
  lines.push(...renderSchema('200 response', summarizeSchema(spec.response, 'output'), undefined, false));
  lines.push('Errors (`{ "error": { "code", "message", "details"? } }`):', '');
  lines.push(...table(['status', 'code', 'note'], endpoint.errors.map((e) => [String(e.status), code(e.code), cell(e.note)])));
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Realtime
// ---------------------------------------------------------------------------------------------

function renderRealtime(topics: readonly TopicSpec[], events: readonly EventSpec[]): string[] {
  const lines = ['## Realtime', ''];
  lines.push(
    'Private channels only: `supabase.channel(topic, { config: { private: true } })`. Joining is authorized by the RLS policies on `realtime.messages` (`private.realtime_can_receive` / `private.realtime_can_send`); anonymous clients join nothing.',
    '',
  );
  lines.push(...table(
    ['topic', 'who may receive', 'receive', 'who may send', 'send', 'notes'],
    topics.map((t) => [
      code(t.topic), cell(t.receive.who), t.receive.extensions.join(', ') || '—', cell(t.send.who), t.send.extensions.join(', ') || '—', cell(t.notes),
    ]),
  ));
  for (const topic of topics) {
    const onTopic = events.filter((e) => e.topic === topic.topic);
    if (onTopic.length === 0) continue;
    lines.push(`### ${code(topic.topic)}`, '');
    lines.push(...table(
      ['event', 'sent by', 'when', 'payload'],
      onTopic.map((e) => [
        code(e.event),
        e.source === 'database' ? 'database' : 'apps',
        cell(e.when),
        e.rowOf !== undefined
          ? `the [${code(e.rowOf)}](#${anchor(e.rowOf)}) row (its columns)`
          : Object.entries(e.payload).map(([field, about]) => `${code(field)}: ${cell(about)}`).join('; '),
      ]),
    ));
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

/** One capability's section: what apps call, then each in detail. */
function renderCapability(
  heading: CapabilityHeading | null,
  parts: { rpcs: RpcModel[]; computed: RpcModel[]; relations: RelationModel[]; functions: FunctionModel[] },
  relationNames: ReadonlySet<string>,
  inherited: readonly ApiError[],
): string[] {
  const lines = heading === null
    ? ['## Not filed under a capability', '', 'Defined by a migration that scripts/lib/api-reference/capabilities.ts does not list (`npm run gen:api` says which).', '']
    : [`## ${heading.title}`, '', `Explained in [${heading.doc}](${heading.doc}).`, ''];
  lines.push(...table(
    ['RPC', 'callable by', 'summary'],
    parts.rpcs.map((rpc) => [`[${code(rpc.fn.name)}](#${anchor(rpc.fn.name)})`, rpc.fn.callers.join(', '), cell(firstSentence(rpc.fn.comment))]),
  ));
  lines.push(...table(
    ['table or view', 'kind', 'summary'],
    parts.relations.map((r) => [`[${code(r.relation.name)}](#${anchor(r.relation.name)})`, r.relation.kind, cell(firstSentence(r.relation.comment))]),
  ));
  lines.push(...table(
    ['edge function', 'methods', 'verify_jwt'],
    parts.functions.map((fn) => [`[${code(fn.name)}](#${anchor(fn.name)})`, fn.methods.join(', '), fn.verifyJwt ? 'true' : 'false']),
  ));
  for (const rpc of parts.rpcs) lines.push(...renderRpc(rpc, relationNames, inherited));
  if (parts.computed.length > 0) {
    lines.push('Computed fields (functions of one table row, selected like columns: `supabase.from(\'ticket_types\').select(\'*, seats_left\')`):', '');
    for (const rpc of parts.computed) {
      lines.push(`- ${code(`${rpc.fn.computedFieldOf}.${rpc.fn.name}`)} → ${code(rpc.fn.returns)} (callable by ${rpc.fn.callers.join(', ')}): ${cell(rpc.fn.comment)}`);
    }
    lines.push('');
  }
  for (const relation of parts.relations) lines.push(...renderRelation(relation, inherited));
  for (const fn of parts.functions) {
    lines.push(`### ${code(fn.name)}`, '');
    for (const endpoint of fn.endpoints) lines.push(...renderEndpoint(fn, endpoint));
  }
  return lines;
}

export function renderReference(model: ReferenceModel): string {
  const relationNames = new Set(model.relations.map((r) => r.relation.name));
  const sections: Array<CapabilityHeading | null> = [...model.capabilities];
  const titleOf = (capability: string | null): CapabilityHeading | null => model.capabilities.find((c) => c.title === capability) ?? null;
  const partsOf = (heading: CapabilityHeading | null) => ({
    rpcs: model.rpcs.filter((rpc) => rpc.fn.computedFieldOf === null && titleOf(rpc.capability) === heading),
    computed: model.rpcs.filter((rpc) => rpc.fn.computedFieldOf !== null && titleOf(rpc.capability) === heading),
    relations: model.relations.filter((r) => titleOf(r.capability) === heading),
    functions: model.functions.filter((fn) => titleOf(fn.capability) === heading),
  });
  const unfiled = partsOf(null);
  if (Object.values(unfiled).some((list) => list.length > 0)) sections.push(null);
  const filled = sections.map((heading) => ({ heading, parts: partsOf(heading) }))
    .filter(({ parts }) => Object.values(parts).some((list) => list.length > 0));
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  const contents = filled.map(({ heading, parts }) => {
    const title = heading?.title ?? 'Not filed under a capability';
    const sizes = [
      parts.rpcs.length > 0 ? count(parts.rpcs.length, 'RPC', 'RPCs') : '',
      parts.relations.length > 0 ? count(parts.relations.length, 'table', 'tables') : '',
      parts.functions.length > 0 ? count(parts.functions.length, 'function', 'functions') : '',
    ].filter(Boolean).join(', ');
    return `[${title}](#${anchor(title)}) (${sizes})`;
  });
  const inherited = model.inherited.map((e) => code(errorKey(e))).join(', ');
  const lines: string[] = [
    '# Rally API reference',
    '',
    '<!-- Generated by `npm run gen:api` (scripts/gen-api-reference.ts). Do not edit by hand: change the migrations\' `comment on`, the edge functions\' zod schemas or scripts/lib/api-reference/, then regenerate. `npm run gen:api -- --check` (in `tsx scripts/ci-checks.ts all`) fails when this file is stale. -->',
    '',
    'What apps may call, generated from a freshly migrated database (pg_catalog: `comment on` texts, arguments, grants, RLS policies, triggers), the edge functions\' own zod schemas and `supabase/config.toml`, and the Realtime registry (`scripts/lib/api-reference/realtime.ts`, checked against every broadcast in the SQL). Grouped by capability: each RPC, table and view under the capability of the migration that defines it (`scripts/lib/api-reference/capabilities.ts`).',
    '',
    `Contents: [Conventions](#conventions) · ${contents.join(' · ')} · [Realtime](#realtime) (${model.topics.length} topics, ${model.events.length} events)`,
    '',
    '## Conventions',
    '',
    '- Roles: `anon` (the anon key, no user), `authenticated` (a signed-in user\'s JWT), `service_role` (the service role key; server-side only). Admins are `authenticated` users with `app_metadata.role = \'admin\'`.',
    '- RPCs are called as `supabase.rpc(name, { p_… })`; every argument is named. `data` is what the function returns, `error` carries `code` (SQLSTATE), `hint` and `message`. “Callable by” is the EXECUTE grant. Most RPCs are granted to `anon` too, so a signed-out call gets Rally\'s own `42501 not_authenticated` instead of a bare permission error.',
    '- SQL errors: SQLSTATE `22023` bad input, `42501` forbidden, `P0001` a broken business rule; the `hint` is a stable snake_case code, the message a sentence for people. One RPC is one transaction: nothing is half-written. supabase-js shows them as `error.code` (SQLSTATE), `error.hint`, `error.message`.',
    `- Needs a signed-in user: an RPC that acts for a user first calls \`private.require_user()\` (signed in, account exists, not deleted, not suspended), so it can also raise ${inherited}. They are stated here once; each such RPC says “Needs a signed-in user” instead of listing them, and so does a table whose writes need one.`,
    '- Errors per RPC: “in comment” = listed in its `comment on` (“Errors: …”); “raised in code” = a literal `private.raise_error(sqlstate, hint, …)` in its body or, transitively, in a `private.`/`public.`/`admin.` function it calls. A code a comment lists but nothing raises fails `npm run gen:api`. PostgreSQL\'s own errors (permission denied on a column, constraint violations) carry no hint and are not listed.',
    '- Tables and views: the `supabase.from(…)` calls an app may make, then what each API role may do (grants; ✓ = every column), and whether row-level security then filters rows. “RLS: no rows” = granted but no policy lets that role see or change a row.',
    '- Edge functions are called as `supabase.functions.invoke(name, { method, body })` or over HTTP at `<project URL>/functions/v1/<name>`, and answer `{ "error": { "code", "message", "details"? } }`; a database error maps `22023` → 400, `42501` → 403, `P0001` → 422 with the SQL hint as `code`.',
    '- Examples are supabase-js calls on `const supabase = createClient<Database>(SUPABASE_URL, SUPABASE_ANON_KEY)` (`Database` from `types/database.ts`), signed in where the call needs a user. They run unchanged against `npm start` (the Data API stand-in, docs/local-stack.md) and a hosted project. RPC examples are typed: each argument\'s value has its SQL type (`\'00000000-…\'` stands for a real id, `\'<name>\'` for a text you choose), required arguments as code, optional ones commented out with their defaults. Table examples show the shape of each call an app\'s role may make; the names stand for your values.',
    '',
  ];
  if (model.internalFunctions.length > 0) {
    lines.push(`Not callable by any API role (hooks and internals): ${model.internalFunctions.map(code).join(', ')}.`, '');
  }
  for (const { heading, parts } of filled) lines.push(...renderCapability(heading, parts, relationNames, model.inherited));
  lines.push(...renderRealtime(model.topics, model.events));
  while (lines.at(-1) === '') lines.pop();
  return `${lines.join('\n')}\n`;
}

/** The first sentence of a comment, for summary tables. */
export function firstSentence(comment: string | null): string {
  if (comment === null) return '';
  const flat = comment.replace(/\s+/g, ' ').trim();
  const match = /^(.*?[.!?])(\s+[A-Z(]|$)/.exec(flat);
  return match?.[1] ?? flat;
}
