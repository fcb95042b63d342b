/**
 * The API's RPCs, read from pg_catalog (never a hand-written list, so a new RPC is fuzzed the
 * day it is added): every function in schema `public` that `anon` or `authenticated` may
 * execute, with its input parameters, their types resolved through domains and arrays, and
 * which of them have defaults (PostgREST lets a caller leave those out).
 */
import { ownerQuery } from "../db.ts";

export type TypeKind =
  | "uuid" | "text" | "int2" | "int4" | "int8" | "numeric" | "float" | "bool" | "timestamptz" | "timestamp"
  | "date" | "time" | "interval" | "json" | "enum" | "composite" | "other";

export interface ParamType {
  /** As written in a column definition list (`format_type`), e.g. `uuid[]`, `public.ticket_types`. */
  sql: string;
  kind: TypeKind;
  /** Array of `kind` (one dimension as PostgREST sends it). */
  array: boolean;
  /** Enum labels, when kind is enum. */
  labels: string[];
  /** pg_type oid of the (element) type, for composite row samples. */
  oid: number;
}

export interface RpcParam {
  /** The parameter's name, or null for an unnamed one (then it is passed by position). */
  name: string | null;
  type: ParamType;
  hasDefault: boolean;
}

export interface Rpc {
  name: string;
  /** `name(argtype, …)`, as `regprocedure` prints it. */
  signature: string;
  params: RpcParam[];
  returnsSet: boolean;
  /** Stable or immutable: PostgREST also serves it on GET, in a read-only transaction. */
  readOnly: boolean;
  executableBy: { anon: boolean; authenticated: boolean };
}

interface ProcRow {
  name: string;
  signature: string;
  arg_names: (string | null)[] | null;
  arg_types: string[] | null;
  nargs: number;
  ndefaults: number;
  retset: boolean;
  volatility: string;
  anon: boolean;
  authenticated: boolean;
}

interface TypeRow {
  oid: string;
  sql: string;
  base: string;
  elem_base: string | null;
  typtype: string;
  elem_typtype: string | null;
  labels: string[] | null;
  element_oid: string;
}

const KINDS: Record<string, TypeKind> = {
  uuid: "uuid", text: "text", "character varying": "text", character: "text", citext: "text", name: "text",
  smallint: "int2", integer: "int4", bigint: "int8", numeric: "numeric", real: "float", "double precision": "float",
  boolean: "bool", "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp", date: "date",
  "time without time zone": "time", "time with time zone": "time", interval: "interval", json: "json", jsonb: "json",
};

function kindOf(base: string, typtype: string): TypeKind {
  if (typtype === "e") return "enum";
  if (typtype === "c") return "composite";
  return KINDS[base] ?? "other";
}

async function describeTypes(oids: string[]): Promise<Map<string, ParamType>> {
  const { rows } = await ownerQuery<TypeRow>(
    `select t.oid::text as oid, pg_catalog.format_type(t.oid, null) as sql,
            pg_catalog.format_type(coalesce(nullif(b.typbasetype, 0), b.oid), null) as base,
            pg_catalog.format_type(coalesce(nullif(eb.typbasetype, 0), eb.oid), null) as elem_base,
            b.typtype::text as typtype, eb.typtype::text as elem_typtype,
            (select array_agg(e.enumlabel order by e.enumsortorder) from pg_catalog.pg_enum e
              where e.enumtypid = coalesce(nullif(eb.oid, 0), b.oid)) as labels,
            coalesce(eb.oid, b.oid)::text as element_oid
       from pg_catalog.pg_type t
       join pg_catalog.pg_type b on b.oid = coalesce(nullif(t.typbasetype, 0), t.oid)
       left join pg_catalog.pg_type e on e.oid = nullif(b.typelem, 0) and b.typcategory = 'A'
       left join pg_catalog.pg_type eb on eb.oid = coalesce(nullif(e.typbasetype, 0), e.oid)
      where t.oid = any($1::oid[])`,
    [oids],
  );
  return new Map(rows.map((r) => {
    const array = r.elem_base !== null;
    const base = array ? r.elem_base ?? "" : r.base;
    const typtype = array ? r.elem_typtype ?? "b" : r.typtype;
    return [r.oid, { sql: r.sql, kind: kindOf(base, typtype), array, labels: r.labels ?? [], oid: Number(r.element_oid) }];
  }));
}

/** Every RPC of the API, in name order. */
export async function loadRpcs(): Promise<Rpc[]> {
  const { rows } = await ownerQuery<ProcRow>(
    `select p.proname as name, p.oid::regprocedure::text as signature,
            case when p.proargmodes is null then p.proargnames
                 else array(select n from unnest(p.proargnames, p.proargmodes) as a (n, m) where m in ('i', 'b', 'v')) end as arg_names,
            (select array_agg(t::text order by i) from unnest(p.proargtypes::oid[]) with ordinality as x (t, i)) as arg_types,
            p.pronargs as nargs, p.pronargdefaults as ndefaults, p.proretset as retset, p.provolatile::text as volatility,
            has_function_privilege('anon', p.oid, 'execute') as anon,
            has_function_privilege('authenticated', p.oid, 'execute') as authenticated
       from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.prokind = 'f'
        and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute'))
      order by p.proname, p.oid`,
  );
  const types = await describeTypes([...new Set(rows.flatMap((r) => r.arg_types ?? []))]);
  return rows.map((r) => ({
    name: r.name,
    signature: r.signature,
    returnsSet: r.retset,
    readOnly: r.volatility !== "v",
    executableBy: { anon: r.anon, authenticated: r.authenticated },
    params: (r.arg_types ?? []).map((oid, i) => {
      const type = types.get(oid);
      if (type === undefined) throw new Error(`type ${oid} of ${r.signature} not found`);
      const name = r.arg_names?.[i];
      return { name: name === undefined || name === null || name === "" ? null : name, type, hasDefault: i >= r.nargs - r.ndefaults };
    }),
  }));
}

/**
 * Words the API understands, for valid-looking text: the string literals of every check
 * constraint and of every function body in `public` and `private` (statuses, kinds, channels,
 * categories, policies, currencies, notification types…).
 */
export async function loadVocabulary(): Promise<string[]> {
  const { rows } = await ownerQuery<{ src: string }>(
    `select pg_catalog.pg_get_constraintdef(c.oid) as src from pg_catalog.pg_constraint c
       join pg_catalog.pg_namespace n on n.oid = c.connamespace
      where c.contype = 'c' and n.nspname in ('public', 'private')
     union all
     select p.prosrc from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private')`,
  );
  const words = new Set<string>();
  for (const { src } of rows) {
    for (const match of src.matchAll(/'([A-Za-z][A-Za-z0-9_.:\/ -]{0,39})'/g)) {
      if (match[1] !== undefined) words.add(match[1]);
    }
  }
  return [...words].sort();
}
