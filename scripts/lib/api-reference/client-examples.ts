/**
 * The supabase-js calls the reference shows: each RPC as a typed `supabase.rpc('name', { p_… })`
 * example built from its arguments, and each table or view as the `supabase.from('…')` reads and
 * writes its grants allow an app. Pure: the same catalog always gives the same text.
 *
 * Example values follow each argument's type (a uuid, a number, an ISO timestamp, …) or its
 * default when that is a literal, so the required-arguments call type-checks against
 * types/database.ts and reaches the function on the Data API (tests/api-reference/client-examples.test.ts
 * checks both); optional arguments are shown commented out.
 */
import type { ApiRole, CatalogArgument, CatalogFunction, CatalogRelation, Privilege } from './catalog.ts';

export const EXAMPLE_UUID = '00000000-0000-0000-0000-000000000000';

export interface ExampleArgument {
  name: string;
  type: string;
  value: unknown;
  required: boolean;
  /** the default as SQL shows it (null when required) */
  default: string | null;
}

function inputArguments(fn: CatalogFunction): CatalogArgument[] {
  return fn.arguments.filter((arg) => arg.mode === 'in' || arg.mode === 'inout' || arg.mode === 'variadic');
}

/** A literal SQL default as the JS value supabase-js would send; undefined for expressions and null. */
export function literalDefault(expr: string): unknown {
  const text = expr.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  const quoted = /^'((?:[^']|'')*)'::[a-z ]+$/i.exec(text);
  if (quoted?.[1] !== undefined) return quoted[1].replace(/''/g, "'");
  if (/^'\{\}'::[a-z ]+\[\]$/i.test(text)) return [];
  return undefined;
}

/** A value of the argument's type, named after it where the type says nothing more. */
export function exampleValue(type: string, name: string): unknown {
  const array = /^(.*)\[\]$/.exec(type);
  if (array?.[1] !== undefined) return [exampleValue(array[1], name)];
  switch (type) {
    case 'uuid':
      return EXAMPLE_UUID;
    case 'integer': case 'bigint': case 'smallint': case 'numeric': case 'double precision': case 'real':
      return 1;
    case 'boolean':
      return true;
    case 'timestamp with time zone':
      return '2026-12-05T20:00:00Z';
    case 'timestamp without time zone':
      return '2026-12-05T20:00:00';
    case 'date':
      return '2026-12-05';
    case 'time without time zone':
      return '20:00:00';
    case 'interval':
      return '1 hour';
    case 'json': case 'jsonb':
      return {};
    default:
      return `<${name.replace(/^p_/, '')}>`;
  }
}

export function exampleArguments(fn: CatalogFunction): ExampleArgument[] {
  return inputArguments(fn).map((arg) => {
    const fromDefault = arg.default === null ? undefined : literalDefault(arg.default);
    return {
      name: arg.name, type: arg.type, required: arg.default === null, default: arg.default,
      value: fromDefault ?? exampleValue(arg.type, arg.name),
    };
  });
}

/** A JS literal: strings in single quotes, arrays and objects inline. */
export function jsLiteral(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(jsLiteral).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${k}: ${jsLiteral(v)}`).join(', ')} }`;
  }
  return String(value);
}

/** The arguments of the call as written (required ones), for tests that make the call. */
export function requiredArgumentsObject(fn: CatalogFunction): Record<string, unknown> {
  return Object.fromEntries(exampleArguments(fn).filter((arg) => arg.required).map((arg) => [arg.name, arg.value]));
}

/**
 * `const { data, error } = await supabase.rpc('name', { … });` with one line per argument: the
 * required ones as code, the optional ones commented out, each with its type.
 */
export function rpcExample(fn: CatalogFunction, options: { uncommentOptional?: boolean } = {}): string {
  const args = exampleArguments(fn);
  if (args.length === 0) return `const { data, error } = await supabase.rpc('${fn.name}');`;
  const lines = args.map((arg) => {
    const code = `${arg.name}: ${jsLiteral(arg.value)},`;
    const shown = arg.required || options.uncommentOptional === true ? code : `// ${code}`;
    const note = arg.required ? arg.type : `${arg.type}, optional (default ${shownDefault(arg.default ?? 'null')})`;
    return { shown, note };
  });
  const width = Math.max(...lines.map((line) => line.shown.length));
  return [
    `const { data, error } = await supabase.rpc('${fn.name}', {`,
    ...lines.map((line) => `  ${line.shown.padEnd(width)}  // ${line.note}`),
    '});',
  ].join('\n');
}

/** `NULL::text` → `null`: the cast says nothing a caller needs. */
export function shownDefault(expr: string): string {
  return /^NULL::[a-z0-9_ ."\[\]]+$/i.test(expr) ? 'null' : expr;
}

// ---------------------------------------------------------------------------------------------
// Tables and views
// ---------------------------------------------------------------------------------------------

const APP_ROLES: readonly ApiRole[] = ['anon', 'authenticated'];

/** Columns that pick one row: the primary key, or `id` for a view that has one. */
function rowKey(relation: CatalogRelation): string[] {
  if (relation.primaryKey.length > 0) return relation.primaryKey;
  return relation.columns.some((column) => column.name === 'id') ? ['id'] : [];
}

function rowFilter(relation: CatalogRelation): string {
  const key = rowKey(relation);
  return key.length === 0 ? '.eq(column, value)' : key.map((column) => `.eq('${column}', ${column})`).join('');
}

/** The columns the app roles that hold `privilege` may use: null = all of them. */
function grantedColumns(relation: CatalogRelation, roles: ApiRole[], privilege: Privilege): string[] | null {
  const columns = new Set<string>();
  for (const role of roles) {
    const access = relation.access[role][privilege];
    if (access.kind === 'all') return null;
    if (access.kind === 'columns') for (const column of access.columns) columns.add(column);
  }
  return [...columns];
}

function whoMay(relation: CatalogRelation, roles: ApiRole[], privilege: Privilege): string {
  return roles.map((role) => {
    if (!relation.rowSecurity) return role;
    const filtered = relation.policies.some((p) => (p.command === privilege || p.command === 'all') && (p.roles.includes(role) || p.roles.includes('public')));
    return `${role} (${filtered ? 'RLS' : 'RLS: no rows'})`;
  }).join(', ');
}

/** One line per operation an app may make on the relation, then the service-role-only ones. */
export function tableCalls(relation: CatalogRelation): string {
  const from = `supabase.from('${relation.name}')`;
  const calls: { code: string; who: string }[] = [];
  const serverOnly: Privilege[] = [];
  for (const privilege of ['select', 'insert', 'update', 'delete'] as const) {
    const roles = APP_ROLES.filter((role) => relation.access[role][privilege].kind !== 'none');
    if (roles.length === 0) {
      if (relation.access.service_role[privilege].kind !== 'none') serverOnly.push(privilege);
      continue;
    }
    const columns = grantedColumns(relation, roles, privilege);
    const fields = columns === null ? '…' : columns.join(', ');
    const code = privilege === 'select' ? `${from}.select('${columns === null ? '*' : columns.join(', ')}')`
      : privilege === 'insert' ? `${from}.insert({ ${fields} })`
        : privilege === 'update' ? `${from}.update({ ${fields} })${rowFilter(relation)}`
          : `${from}.delete()${rowFilter(relation)}`;
    const anyColumn = privilege !== 'select' && privilege !== 'delete' && columns === null ? '; any column below' : '';
    calls.push({ code: `await ${code};`, who: `${whoMay(relation, roles, privilege)}${anyColumn}` });
  }
  const width = Math.max(0, ...calls.map((call) => call.code.length));
  const lines = calls.map((call) => `${call.code.padEnd(width)}  // ${call.who}`);
  if (serverOnly.length > 0) lines.push(`// service_role only (server side, never in an app): ${serverOnly.join(', ')}`);
  if (lines.length === 0) lines.push('// no API role may read or write it');
  return lines.join('\n');
}
