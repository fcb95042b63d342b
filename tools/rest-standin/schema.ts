/**
 * The schema cache, as PostgREST builds it at start-up: the exposed schemas' tables and views
 * with their columns, primary keys and foreign keys (view columns traced to their base columns
 * through the view's query tree, as PostgREST does, so a view over a table embeds like it), and
 * the functions callable as RPC.
 */
import type pg from 'pg';

export interface Relation {
  schema: string;
  name: string;
  kind: 'table' | 'view';
  columns: string[];
  primaryKey: string[];
  /** Primary key and unique constraints: a to-one embed when the referencing columns are one. */
  uniqueKeys: string[][];
}

export interface ForeignKey {
  name: string;
  /** the referencing side */
  from: { schema: string; name: string; columns: string[] };
  /** the referenced side */
  to: { schema: string; name: string; columns: string[] };
}

export interface RpcFunction {
  schema: string;
  name: string;
  /** IN arguments in order, with their type and whether they have a default. */
  args: { name: string; type: string; hasDefault: boolean }[];
  variadic: boolean;
  unnamedArgs: boolean;
  volatility: 'i' | 's' | 'v';
  returnsSet: boolean;
  returnType: string;
  /** c: composite row, b/d/e/r/m: scalar, p: pseudo (void, record, trigger). */
  returnKind: string;
  returnsVoid: boolean;
  /** OUT/TABLE columns: `returns setof record` without them needs a column list (unsupported). */
  hasOutArgs: boolean;
}

export interface SchemaCache {
  schemas: string[];
  relations: Map<string, Relation>;
  foreignKeys: ForeignKey[];
  functions: Map<string, RpcFunction[]>;
}

export const key = (schema: string, name: string): string => `${schema}.${name}`;

const RELATIONS_SQL = `
select n.nspname as schema, c.relname as name, c.relkind::text as relkind,
       array_agg(a.attname::text order by a.attnum) as columns,
       coalesce((select array_agg(a2.attname::text order by k.ord)
                   from pg_constraint pk
                   cross join lateral unnest(pk.conkey) with ordinality as k(attnum, ord)
                   join pg_attribute a2 on a2.attrelid = pk.conrelid and a2.attnum = k.attnum
                  where pk.conrelid = c.oid and pk.contype = 'p'), '{}') as primary_key,
       coalesce((select json_agg((select json_agg(a3.attname::text) from unnest(u.conkey) k3(attnum)
                                    join pg_attribute a3 on a3.attrelid = u.conrelid and a3.attnum = k3.attnum))
                   from pg_constraint u where u.conrelid = c.oid and u.contype in ('p', 'u')), '[]') as unique_keys
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
 where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'f')
 group by n.nspname, c.relname, c.relkind, c.oid`;

/** Foreign keys between any tables (the base tables of exposed views may live in other schemas). */
const FOREIGN_KEYS_SQL = `
select con.conname::text as name,
       n1.nspname::text as from_schema, c1.relname::text as from_name,
       (select array_agg(a.attname::text order by k.ord) from unnest(con.conkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as from_columns,
       n2.nspname::text as to_schema, c2.relname::text as to_name,
       (select array_agg(a.attname::text order by k.ord) from unnest(con.confkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as to_columns
  from pg_constraint con
  join pg_class c1 on c1.oid = con.conrelid join pg_namespace n1 on n1.oid = c1.relnamespace
  join pg_class c2 on c2.oid = con.confrelid join pg_namespace n2 on n2.oid = c2.relnamespace
 where con.contype = 'f' and n1.nspname not in ('pg_catalog', 'information_schema')`;

/**
 * View column → base column, read from the view's rewrite rule (each TargetEntry's resorigtbl and
 * resorigcol), as PostgREST does. A view column traced to two different origins is left out.
 */
const VIEW_COLUMNS_SQL = `
select vn.nspname::text as view_schema, v.relname::text as view_name, m[1] as view_column,
       bn.nspname::text as base_schema, b.relname::text as base_name, ba.attname::text as base_column
  from pg_class v
  join pg_namespace vn on vn.oid = v.relnamespace
  join pg_rewrite r on r.ev_class = v.oid
  cross join lateral regexp_matches(r.ev_action::text,
        ':resname (\\S+) :ressortgroupref \\d+ :resorigtbl (\\d+) :resorigcol (\\d+)', 'g') as m
  join pg_class b on b.oid = m[2]::oid
  join pg_namespace bn on bn.oid = b.relnamespace
  join pg_attribute ba on ba.attrelid = b.oid and ba.attnum = m[3]::int2
 where v.relkind in ('v', 'm') and vn.nspname = any($1::text[]) and m[2] <> '0'`;

const FUNCTIONS_SQL = `
select n.nspname::text as schema, p.proname::text as name, p.provolatile::text as volatility, p.proretset as returns_set,
       format_type(p.prorettype, null) as return_type, t.typtype::text as return_kind,
       p.pronargs as nargs, p.pronargdefaults as ndefaults, p.provariadic <> 0 as variadic,
       coalesce(p.proargnames, '{}') as arg_names, coalesce(p.proargmodes::text[], '{}') as arg_modes,
       array(select format_type(x, null) from unnest(p.proargtypes) x) as arg_types
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
  join pg_type t on t.oid = p.prorettype
 where n.nspname = any($1::text[]) and p.prokind = 'f'`;

interface FunctionRow {
  schema: string; name: string; volatility: 'i' | 's' | 'v'; returns_set: boolean; return_type: string; return_kind: string;
  nargs: number; ndefaults: number; variadic: boolean; arg_names: string[]; arg_modes: string[]; arg_types: string[];
}

export async function loadSchemaCache(db: pg.Pool, schemas: string[]): Promise<SchemaCache> {
  const relations = new Map<string, Relation>();
  const { rows: relRows } = await db.query<{ schema: string; name: string; relkind: string; columns: string[]; primary_key: string[]; unique_keys: string[][] }>(RELATIONS_SQL, [schemas]);
  for (const r of relRows) {
    relations.set(key(r.schema, r.name), { schema: r.schema, name: r.name, kind: r.relkind === 'v' || r.relkind === 'm' ? 'view' : 'table', columns: r.columns, primaryKey: r.primary_key, uniqueKeys: r.unique_keys });
  }
  const { rows: fkRows } = await db.query<{ name: string; from_schema: string; from_name: string; from_columns: string[]; to_schema: string; to_name: string; to_columns: string[] }>(FOREIGN_KEYS_SQL);
  const baseKeys: ForeignKey[] = fkRows.map((r) => ({
    name: r.name, from: { schema: r.from_schema, name: r.from_name, columns: r.from_columns }, to: { schema: r.to_schema, name: r.to_name, columns: r.to_columns },
  }));
  const { rows: viewRows } = await db.query<{ view_schema: string; view_name: string; view_column: string; base_schema: string; base_name: string; base_column: string }>(VIEW_COLUMNS_SQL, [schemas]);
  // view -> base table -> base column -> view column (unambiguous only)
  const lineage = new Map<string, Map<string, string>>();
  const conflicts = new Set<string>();
  for (const row of viewRows) {
    const view = relations.get(key(row.view_schema, row.view_name));
    if (view === undefined || !view.columns.includes(row.view_column)) continue;
    const mapKey = `${key(row.view_schema, row.view_name)}|${key(row.base_schema, row.base_name)}`;
    const map = lineage.get(mapKey) ?? new Map<string, string>();
    const existing = map.get(row.base_column);
    if (existing !== undefined && existing !== row.view_column) conflicts.add(`${mapKey}|${row.base_column}`);
    map.set(row.base_column, row.view_column);
    lineage.set(mapKey, map);
  }
  type Side = { schema: string; name: string; map: Map<string, string> | null };
  /** The relation itself (map null: same columns) and every view that traces columns to it. */
  const viewsOf = (schema: string, name: string): Side[] => {
    const out: Side[] = [{ schema, name, map: null }];
    for (const [mapKey, map] of lineage) {
      const [viewKey, baseKey] = mapKey.split('|');
      if (baseKey !== key(schema, name)) continue;
      const view = relations.get(viewKey as string);
      if (view !== undefined) out.push({ schema: view.schema, name: view.name, map: new Map([...map].filter(([base]) => !conflicts.has(`${mapKey}|${base}`))) });
    }
    return out;
  };
  const foreignKeys: ForeignKey[] = [];
  for (const fk of baseKeys) {
    for (const from of viewsOf(fk.from.schema, fk.from.name)) {
      const fromCols = from.map === null ? fk.from.columns : fk.from.columns.map((c) => from.map?.get(c));
      if (fromCols.some((c) => c === undefined)) continue;
      for (const to of viewsOf(fk.to.schema, fk.to.name)) {
        const toCols = to.map === null ? fk.to.columns : fk.to.columns.map((c) => to.map?.get(c));
        if (toCols.some((c) => c === undefined)) continue;
        if (!relations.has(key(from.schema, from.name)) || !relations.has(key(to.schema, to.name))) continue;
        foreignKeys.push({ name: fk.name, from: { schema: from.schema, name: from.name, columns: fromCols as string[] }, to: { schema: to.schema, name: to.name, columns: toCols as string[] } });
      }
    }
  }
  const functions = new Map<string, RpcFunction[]>();
  const { rows: fnRows } = await db.query<FunctionRow>(FUNCTIONS_SQL, [schemas]);
  for (const f of fnRows) {
    const inArgs: { name: string; type: string; hasDefault: boolean }[] = [];
    let typeIndex = 0;
    let unnamed = false;
    const total = f.arg_modes.length > 0 ? f.arg_modes.length : f.nargs;
    for (let i = 0; i < total; i += 1) {
      const mode = f.arg_modes[i] ?? 'i';
      if (mode === 'o' || mode === 't') continue;
      const name = f.arg_names[i] ?? '';
      if (name === '') unnamed = true;
      inArgs.push({ name, type: f.arg_types[typeIndex] ?? 'unknown', hasDefault: typeIndex >= f.nargs - f.ndefaults });
      typeIndex += 1;
    }
    const fn: RpcFunction = {
      schema: f.schema, name: f.name, args: inArgs, variadic: f.variadic, unnamedArgs: unnamed, volatility: f.volatility,
      returnsSet: f.returns_set, returnType: f.return_type, returnKind: f.return_kind, returnsVoid: f.return_type === 'void',
      hasOutArgs: f.arg_modes.some((m) => m === 'o' || m === 't' || m === 'b'),
    };
    const list = functions.get(key(f.schema, f.name)) ?? [];
    list.push(fn);
    functions.set(key(f.schema, f.name), list);
  }
  return { schemas, relations, foreignKeys, functions };
}
