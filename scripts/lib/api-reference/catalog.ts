/**
 * Reads what the Data API exposes from pg_catalog of a migrated database: the functions and
 * relations of schema `public`, with comments, arguments, grants, RLS policies and triggers, plus
 * every function body of the project's own schemas (for the error and broadcast scans).
 * The queries sort everything, so the reference is deterministic.
 */
import pg from 'pg';

export const API_ROLES = ['anon', 'authenticated', 'service_role'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** Schemas whose function bodies are scanned (the project's own code, not the platform's). */
export const SCANNED_SCHEMAS = ['public', 'private', 'admin'] as const;

export interface CatalogArgument {
  name: string;
  type: string;
  mode: 'in' | 'out' | 'inout' | 'variadic' | 'table';
  default: string | null;
}

export interface CatalogFunction {
  name: string;
  /** name(argtypes), as `comment on function` and `grant` spell it */
  signature: string;
  comment: string | null;
  arguments: CatalogArgument[];
  returns: string;
  returnsSet: boolean;
  volatility: 'immutable' | 'stable' | 'volatile';
  securityDefiner: boolean;
  /** API roles with EXECUTE */
  callers: ApiRole[];
  /** the single argument is a row of this public table/view: a PostgREST computed field */
  computedFieldOf: string | null;
}

export type Privilege = 'select' | 'insert' | 'update' | 'delete';
export const PRIVILEGES: readonly Privilege[] = ['select', 'insert', 'update', 'delete'];

/** What one role may do with one relation: all columns, some columns, or nothing. */
export type Access = { kind: 'all' } | { kind: 'columns'; columns: string[] } | { kind: 'none' };

export interface CatalogColumn {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
  generated: boolean;
  comment: string | null;
}

export interface CatalogPolicy {
  name: string;
  command: string;
  roles: string[];
  permissive: boolean;
}

export interface CatalogTrigger {
  name: string;
  /** schema.name of the trigger function */
  function: string;
  events: string[];
  timing: 'before' | 'after' | 'instead of';
}

export interface CatalogRelation {
  name: string;
  kind: 'table' | 'view' | 'materialized view' | 'partitioned table' | 'foreign table';
  comment: string | null;
  columns: CatalogColumn[];
  rowSecurity: boolean;
  securityInvoker: boolean;
  /** primary key columns in key order (none for views) */
  primaryKey: string[];
  access: Record<ApiRole, Record<Privilege, Access>>;
  policies: CatalogPolicy[];
  triggers: CatalogTrigger[];
}

export interface CatalogBody {
  /** schema.name */
  name: string;
  source: string;
  /** input parameter names in order */
  argNames: string[];
  /** its `comment on function` (one overload's, when several have one) */
  comment: string | null;
}

export interface Catalog {
  functions: CatalogFunction[];
  /** functions in public that no API role may execute (hooks, trigger functions) */
  internalFunctions: string[];
  relations: CatalogRelation[];
  bodies: CatalogBody[];
  /** every trigger on a table or view of the scanned schemas (for the error scan) */
  tableTriggers: TableTrigger[];
}

export interface TableTrigger {
  /** schema.table */
  table: string;
  function: string;
  events: string[];
}

const FUNCTIONS_SQL = `
select p.oid::int as oid,
       p.proname as name,
       p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' as signature,
       obj_description(p.oid, 'pg_proc') as comment,
       pg_get_function_result(p.oid) as returns,
       p.proretset as returns_set,
       p.provolatile as volatility,
       p.prosecdef as security_definer,
       array(select r from unnest(array['anon', 'authenticated', 'service_role']) r
              where has_function_privilege(r, p.oid, 'execute') order by r collate "C") as callers,
       coalesce((select json_agg(json_build_object(
                   'name', coalesce(a.name, ''), 'type', format_type(a.type, null), 'mode', a.mode,
                   'default', case when a.mode in ('i', 'b', 'v') then pg_get_function_arg_default(p.oid, a.pos::int) end)
                   order by a.pos)
                 from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]),
                             coalesce(p.proargmodes, array_fill('i'::"char", array[p.pronargs::int])),
                             coalesce(p.proargnames, array_fill(''::text, array[coalesce(cardinality(p.proallargtypes), p.pronargs::int)])))
                      with ordinality as a(type, mode, name, pos)), '[]'::json) as arguments,
       (select c.relname from pg_class c
         where p.pronargs = 1 and c.reltype = p.proargtypes[0] and c.relnamespace = 'public'::regnamespace) as computed_field_of
  from pg_proc p
 where p.pronamespace = 'public'::regnamespace
   and p.prokind in ('f', 'p')
   and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
 order by p.proname, pg_get_function_identity_arguments(p.oid) collate "C"`;

const RELATIONS_SQL = `
select c.oid::int as oid,
       c.relname as name,
       c.relkind as kind,
       obj_description(c.oid, 'pg_class') as comment,
       c.relrowsecurity as row_security,
       coalesce('security_invoker=true' = any(c.reloptions) or 'security_invoker=on' = any(c.reloptions), false) as security_invoker,
       array(select a.attname::text from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
              where i.indrelid = c.oid and i.indisprimary order by array_position(i.indkey::int2[], a.attnum)) as primary_key
  from pg_class c
 where c.relnamespace = 'public'::regnamespace
   and c.relkind in ('r', 'v', 'm', 'p', 'f')
   and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
 order by c.relname`;

const COLUMNS_SQL = `
select a.attrelid::int as oid, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
       not a.attnotnull as nullable, pg_get_expr(d.adbin, d.adrelid) as default,
       a.attgenerated <> '' as generated, col_description(a.attrelid, a.attnum) as comment,
       (select json_object_agg(r, array(select pr from unnest(array['select', 'insert', 'update']) pr
                                         where has_column_privilege(r, a.attrelid, a.attnum, pr)))
          from unnest(array['anon', 'authenticated', 'service_role']) r) as column_privileges
  from pg_attribute a
  left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
 where a.attrelid = any($1::oid[]) and a.attnum > 0 and not a.attisdropped
 order by a.attrelid, a.attnum`;

const TABLE_PRIVILEGES_SQL = `
select c.oid::int as oid, r as role, pr as privilege, has_table_privilege(r, c.oid, pr) as granted
  from pg_class c
 cross join unnest(array['anon', 'authenticated', 'service_role']) r
 cross join unnest(array['select', 'insert', 'update', 'delete']) pr
 where c.oid = any($1::oid[])`;

const POLICIES_SQL = `
select tablename as relation, policyname as name, lower(cmd) as command, roles::text[] as roles,
       permissive = 'PERMISSIVE' as permissive
  from pg_policies
 where schemaname = 'public'
 order by tablename, policyname`;

const TRIGGERS_SQL = `
select cn.nspname as schema, c.relname as relation, t.tgname as name, n.nspname || '.' || p.proname as function,
       t.tgtype::int as type
  from pg_trigger t
  join pg_class c on c.oid = t.tgrelid
  join pg_namespace cn on cn.oid = c.relnamespace
  join pg_proc p on p.oid = t.tgfoid
  join pg_namespace n on n.oid = p.pronamespace
 where cn.nspname = any($1::text[]) and not t.tgisinternal
 order by cn.nspname, c.relname, t.tgname`;

const BODIES_SQL = `
select n.nspname || '.' || p.proname as name, p.prosrc as source, obj_description(p.oid, 'pg_proc') as comment,
       array(select a.name
               from unnest(coalesce(p.proargnames, '{}'::text[]),
                           coalesce(p.proargmodes, array_fill('i'::"char", array[coalesce(cardinality(p.proargnames), 0)]))) as a(name, mode)
              where a.mode in ('i', 'b', 'v')) as "argNames"
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = any($1::text[]) and p.prolang in (select oid from pg_language where lanname in ('plpgsql', 'sql'))
 order by n.nspname collate "C", p.proname, p.oid`;

interface FunctionRow {
  name: string;
  signature: string;
  comment: string | null;
  returns: string;
  returns_set: boolean;
  volatility: string;
  security_definer: boolean;
  callers: string[];
  arguments: Array<{ name: string; type: string; mode: string; default: string | null }>;
  computed_field_of: string | null;
}

interface RelationRow {
  oid: number;
  name: string;
  kind: string;
  comment: string | null;
  row_security: boolean;
  security_invoker: boolean;
  primary_key: string[];
}

interface ColumnRow {
  oid: number;
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
  generated: boolean;
  comment: string | null;
  column_privileges: Record<string, string[]>;
}

const MODES: Record<string, CatalogArgument['mode']> = { i: 'in', o: 'out', b: 'inout', v: 'variadic', t: 'table' };
const VOLATILITY: Record<string, CatalogFunction['volatility']> = { i: 'immutable', s: 'stable', v: 'volatile' };
const KINDS: Record<string, CatalogRelation['kind']> = {
  r: 'table', v: 'view', m: 'materialized view', p: 'partitioned table', f: 'foreign table',
};

function isApiRole(role: string): role is ApiRole {
  return (API_ROLES as readonly string[]).includes(role);
}

/** Trigger type bits (pg_trigger.tgtype): 2 before, 64 instead of; 4 insert, 8 delete, 16 update, 32 truncate. */
export function decodeTriggerType(type: number): Pick<CatalogTrigger, 'events' | 'timing'> {
  const events = [
    ...(type & 4 ? ['insert'] : []),
    ...(type & 16 ? ['update'] : []),
    ...(type & 8 ? ['delete'] : []),
    ...(type & 32 ? ['truncate'] : []),
  ];
  const timing = type & 64 ? 'instead of' : type & 2 ? 'before' : 'after';
  return { events, timing };
}

export async function readCatalog(dbUrl: string): Promise<Catalog> {
  const client = new pg.Client({ connectionString: dbUrl, application_name: 'rally gen:api' });
  await client.connect();
  try {
    // One snapshot for every query.
    await client.query('begin isolation level repeatable read read only');
    const functionRows = (await client.query<FunctionRow>(FUNCTIONS_SQL)).rows;
    const relationRows = (await client.query<RelationRow>(RELATIONS_SQL)).rows;
    const oids = relationRows.map((row) => row.oid);
    const columnRows = (await client.query<ColumnRow>(COLUMNS_SQL, [oids])).rows;
    const privilegeRows = (await client.query<{ oid: number; role: string; privilege: Privilege; granted: boolean }>(TABLE_PRIVILEGES_SQL, [oids])).rows;
    const policyRows = (await client.query<CatalogPolicy & { relation: string }>(POLICIES_SQL)).rows;
    const triggerRows = (await client.query<{ schema: string; relation: string; name: string; function: string; type: number }>(TRIGGERS_SQL, [SCANNED_SCHEMAS])).rows;
    const bodies = (await client.query<CatalogBody>(BODIES_SQL, [SCANNED_SCHEMAS])).rows;
    await client.query('commit');

    const functions: CatalogFunction[] = [];
    const internalFunctions: string[] = [];
    for (const row of functionRows) {
      const callers = row.callers.filter(isApiRole);
      if (callers.length === 0) {
        internalFunctions.push(row.signature);
        continue;
      }
      functions.push({
        name: row.name,
        signature: row.signature,
        comment: row.comment,
        arguments: row.arguments.map((arg) => ({ name: arg.name, type: arg.type, mode: MODES[arg.mode] ?? 'in', default: arg.default })),
        returns: row.returns,
        returnsSet: row.returns_set,
        volatility: VOLATILITY[row.volatility] ?? 'volatile',
        securityDefiner: row.security_definer,
        callers,
        computedFieldOf: row.computed_field_of,
      });
    }

    const relations = relationRows.map((row): CatalogRelation => {
      const columns = columnRows.filter((column) => column.oid === row.oid);
      const access = {} as Record<ApiRole, Record<Privilege, Access>>;
      for (const role of API_ROLES) {
        const byPrivilege = {} as Record<Privilege, Access>;
        for (const privilege of PRIVILEGES) {
          const whole = privilegeRows.some((p) => p.oid === row.oid && p.role === role && p.privilege === privilege && p.granted);
          const some = columns.filter((column) => (column.column_privileges[role] ?? []).includes(privilege)).map((column) => column.name);
          byPrivilege[privilege] = whole ? { kind: 'all' } : some.length > 0 ? { kind: 'columns', columns: some } : { kind: 'none' };
        }
        access[role] = byPrivilege;
      }
      return {
        name: row.name,
        kind: KINDS[row.kind] ?? 'table',
        comment: row.comment,
        columns: columns.map((column) => ({
          name: column.name,
          type: column.type,
          nullable: column.nullable,
          default: column.default,
          generated: column.generated,
          comment: column.comment,
        })),
        rowSecurity: row.row_security,
        securityInvoker: row.security_invoker,
        primaryKey: row.primary_key,
        access,
        policies: policyRows
          .filter((policy) => policy.relation === row.name)
          .map((policy) => ({ name: policy.name, command: policy.command, roles: [...policy.roles].sort(), permissive: policy.permissive })),
        triggers: triggerRows
          .filter((trigger) => trigger.schema === 'public' && trigger.relation === row.name)
          .map((trigger) => ({ name: trigger.name, function: trigger.function, ...decodeTriggerType(trigger.type) })),
      };
    });
    const tableTriggers = triggerRows.map((trigger) => ({
      table: `${trigger.schema}.${trigger.relation}`, function: trigger.function, events: decodeTriggerType(trigger.type).events,
    }));
    return { functions, internalFunctions, relations, bodies, tableTriggers };
  } finally {
    await client.end();
  }
}
