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
}

export interface RelationModel {
  relation: CatalogRelation;
  /** errors the relation's triggers may raise on writes */
  writeErrors: ApiError[];
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
}

export interface ReferenceModel {
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

function errorRows(model: { documented: ApiError[]; raised: ApiError[] }): string[][] {
  const documented = new Set(model.documented.map(errorKey));
  const raised = new Set(model.raised.map(errorKey));
  const all = new Map<string, ApiError>();
  for (const error of [...model.documented, ...model.raised]) all.set(errorKey(error), error);
  return [...all.values()]
    .sort((a, b) => compareText(a.sqlstate, b.sqlstate) || compareText(a.hint, b.hint))
    .map((error) => [
      code(error.sqlstate),
      code(error.hint),
      documented.has(errorKey(error)) ? '✓' : '',
      raised.has(errorKey(error)) ? '✓' : '',
    ]);
}

function renderRpc(model: RpcModel, relations: ReadonlySet<string>): string[] {
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
  const errors = errorRows(model);
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

function renderRelation(model: RelationModel): string[] {
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
  if (model.writeErrors.length > 0) {
    lines.push(`Writes may raise: ${model.writeErrors.map((e) => `${e.sqlstate} ${code(e.hint)}`).join(', ')}.`, '');
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

export function renderReference(model: ReferenceModel): string {
  const rpcs = model.rpcs.filter((rpc) => rpc.fn.computedFieldOf === null);
  const computed = model.rpcs.filter((rpc) => rpc.fn.computedFieldOf !== null);
  const lines: string[] = [
    '# Rally API reference',
    '',
    '<!-- Generated by `npm run gen:api` (scripts/gen-api-reference.ts). Do not edit by hand: change the migrations\' `comment on`, the edge functions\' zod schemas or scripts/lib/api-reference/, then regenerate. `npm run gen:api -- --check` (in `tsx scripts/ci-checks.ts all`) fails when this file is stale. -->',
    '',
    'What apps may call, generated from a freshly migrated database (pg_catalog: `comment on` texts, arguments, grants, RLS policies, triggers), the edge functions\' own zod schemas and `supabase/config.toml`, and the Realtime registry (`scripts/lib/api-reference/realtime.ts`, checked against every broadcast in the SQL).',
    '',
    `Contents: [RPCs](#rpcs) (${rpcs.length}) · [computed fields](#computed-fields) (${computed.length}) · [tables and views](#tables-and-views) (${model.relations.length}) · [edge functions](#edge-functions) (${model.functions.length}) · [Realtime](#realtime) (${model.topics.length} topics, ${model.events.length} events)`,
    '',
    '## Conventions',
    '',
    '- Roles: `anon` (the anon key, no user), `authenticated` (a signed-in user\'s JWT), `service_role` (the service role key; server-side only). Admins are `authenticated` users with `app_metadata.role = \'admin\'`.',
    '- “Callable by” is the EXECUTE grant. Most RPCs are granted to `anon` too, so a signed-out call gets Rally\'s own `42501 not_authenticated` instead of a bare permission error.',
    '- SQL errors: SQLSTATE `22023` bad input, `42501` forbidden, `P0001` a broken business rule; the `hint` is a stable snake_case code, the message a sentence for people. One RPC is one transaction: nothing is half-written. supabase-js shows them as `error.code` (SQLSTATE), `error.hint`, `error.message`.',
    '- Errors per RPC: “in comment” = listed in its `comment on` (“Errors: …”); “raised in code” = a literal `private.raise_error(sqlstate, hint, …)` in its body or, transitively, in a `private.`/`public.` function it calls. PostgreSQL\'s own errors (permission denied on a column, constraint violations) carry no hint and are not listed.',
    '- Edge functions answer `{ "error": { "code", "message", "details"? } }`; a database error maps `22023` → 400, `42501` → 403, `P0001` → 422 with the SQL hint as `code`.',
    '- Examples are supabase-js calls on `const supabase = createClient<Database>(SUPABASE_URL, SUPABASE_ANON_KEY)` (`Database` from `types/database.ts`), signed in where the call needs a user. They run unchanged against `npm start` (the Data API stand-in, docs/local-stack.md) and a hosted project. RPC examples are typed: each argument\'s value has its SQL type (`\'00000000-…\'` stands for a real id, `\'<name>\'` for a text you choose), required arguments as code, optional ones commented out with their defaults. Table examples show the shape of each call an app\'s role may make; the names stand for your values.',
    '',
    '## RPCs',
    '',
    'Called as `supabase.rpc(name, { p_… })`; every argument is named. `data` is what the function returns, `error` carries `code` (SQLSTATE), `hint` and `message`.',
    '',
    ...table(
      ['function', 'callable by', 'summary'],
      rpcs.map((rpc) => [`[${code(rpc.fn.name)}](#${anchor(rpc.fn.name)})`, rpc.fn.callers.join(', '), cell(firstSentence(rpc.fn.comment))]),
    ),
  ];
  const relationNames = new Set(model.relations.map((r) => r.relation.name));
  for (const rpc of rpcs) lines.push(...renderRpc(rpc, relationNames));
  lines.push('## Computed fields', '', 'Functions of one table row, selected like columns: `supabase.from(\'ticket_types\').select(\'*, seats_left\')`.', '');
  for (const rpc of computed) {
    lines.push(`- ${code(`${rpc.fn.computedFieldOf}.${rpc.fn.name}`)} → ${code(rpc.fn.returns)} (callable by ${rpc.fn.callers.join(', ')}): ${cell(rpc.fn.comment)}`);
  }
  lines.push('');
  if (model.internalFunctions.length > 0) {
    lines.push(`Not callable by any API role (hooks and internals): ${model.internalFunctions.map(code).join(', ')}.`, '');
  }
  lines.push(
    '## Tables and views',
    '',
    'The `supabase.from(…)` calls an app may make, then what each API role may do (grants; ✓ = every column), and whether row-level security then filters rows. “RLS: no rows” = granted but no policy lets that role see or change a row.',
    '',
  );
  for (const relation of model.relations) lines.push(...renderRelation(relation));
  lines.push('## Edge functions', '', 'Called as `supabase.functions.invoke(name, { method, body })` or over HTTP at `<project URL>/functions/v1/<name>`.', '');
  lines.push(...table(
    ['function', 'methods', 'verify_jwt'],
    model.functions.map((fn) => [code(fn.name), fn.methods.join(', '), fn.verifyJwt ? 'true' : 'false']),
  ));
  for (const fn of model.functions) {
    lines.push(`### ${code(fn.name)}`, '');
    for (const endpoint of fn.endpoints) lines.push(...renderEndpoint(fn, endpoint));
  }
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
