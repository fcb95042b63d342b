/**
 * SQL for the Data API stand-in's requests: every value is a bind parameter, every name is
 * checked against the schema cache or quoted. The shapes follow what PostgREST generates: rows
 * aggregated to JSON in the database, embedded resources as correlated subqueries.
 */
import { restError, notImplemented } from './errors.ts';
import type { Condition, Filter, OrderTerm, SelectItem } from './query.ts';
import { key, type ForeignKey, type Relation, type SchemaCache } from './schema.ts';

export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const qualified = (schema: string, name: string): string => `${ident(schema)}.${ident(name)}`;

export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const COMPARISON: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

function conditionSql(alias: string, c: Condition, params: Params): string {
  const column = `${alias}.${ident(c.column)}`;
  let sql: string;
  switch (c.operator) {
    case 'like':
    case 'ilike':
      sql = `${column} ${c.operator} ${params.add(String(c.value).replace(/\*/g, '%'))}`;
      break;
    case 'in':
      sql = `${column} = any(${params.add(c.value)})`;
      break;
    case 'is':
      sql = c.value === 'not_null' ? `${column} is not null` : `${column} is ${String(c.value)}`;
      break;
    default:
      sql = `${column} ${COMPARISON[c.operator]} ${params.add(c.value)}`;
  }
  return c.negated ? `not (${sql})` : sql;
}

export function filterSql(alias: string, filter: Filter, params: Params): string {
  if (filter.kind === 'condition') return conditionSql(alias, filter, params);
  if (filter.children.length === 0) return filter.negated ? 'false' : 'true';
  const inner = filter.children.map((f) => filterSql(alias, f, params)).join(` ${filter.op} `);
  return filter.negated ? `not (${inner})` : `(${inner})`;
}

export function whereSql(alias: string, filters: readonly Filter[], params: Params, extra: readonly string[] = []): string {
  const parts = [...filters.map((f) => filterSql(alias, f, params)), ...extra];
  return parts.length === 0 ? '' : ` where ${parts.join(' and ')}`;
}

export function orderSql(alias: string, order: readonly OrderTerm[]): string {
  if (order.length === 0) return '';
  return ` order by ${order.map((o) => `${alias}.${ident(o.column)} ${o.direction}${o.nulls === null ? '' : ` nulls ${o.nulls}`}`).join(', ')}`;
}

export interface Embedding {
  fk: ForeignKey;
  /** to-one: the parent references the embedded relation (or a unique key makes it one-to-one). */
  toOne: boolean;
  /** the embedded relation is the FK's referencing side */
  embeddedIsFrom: boolean;
  target: Relation;
}

/** Finds the one relationship between `parent` and `name`, as PostgREST's PGRST200/PGRST201 rules. */
export function resolveEmbedding(cache: SchemaCache, parent: Relation, name: string, hint: string | null): Embedding {
  const target = cache.relations.get(key(parent.schema, name));
  const notFound = restError(400, 'PGRST200', `Could not find a relationship between '${parent.name}' and '${name}' in the schema cache`,
    `Searched for a foreign key relationship between '${parent.name}' and '${name}'${hint === null ? '' : ` using the hint '${hint}'`} in the schema '${parent.schema}', but no matches were found.`,
    null);
  if (target === undefined) {
    if (parent.columns.includes(name)) throw notImplemented(`embedding by a foreign-key column name (${name})`);
    throw notFound;
  }
  const same = (side: { schema: string; name: string }, rel: Relation): boolean => side.schema === rel.schema && side.name === rel.name;
  const candidates: Embedding[] = [];
  for (const fk of cache.foreignKeys) {
    if (same(fk.from, parent) && same(fk.to, target)) candidates.push({ fk, toOne: true, embeddedIsFrom: false, target });
    else if (same(fk.from, target) && same(fk.to, parent)) {
      const unique = target.uniqueKeys.some((u) => u.length === fk.from.columns.length && u.every((c) => fk.from.columns.includes(c)));
      candidates.push({ fk, toOne: unique, embeddedIsFrom: true, target });
    }
  }
  const matching = hint === null ? candidates : candidates.filter((c) =>
    c.fk.name === hint || (c.fk.from.columns.length === 1 && c.fk.from.columns[0] === hint) || (c.fk.to.columns.length === 1 && c.fk.to.columns[0] === hint));
  if (matching.length === 0) throw notFound;
  if (matching.length > 1) {
    throw restError(300, 'PGRST201', `Could not embed because more than one relationship was found for '${parent.name}' and '${name}'`,
      JSON.stringify(matching.map((m) => ({ cardinality: m.toOne ? 'many-to-one' : 'one-to-many', embedding: `${parent.name} with ${name}`, relationship: `${m.fk.name} using ${m.fk.from.name}(${m.fk.from.columns.join(', ')}) and ${m.fk.to.name}(${m.fk.to.columns.join(', ')})` }))),
      `Try changing '${name}' to one of the following: ${matching.map((m) => `'${name}!${m.fk.name}'`).join(', ')}. Find the desired relationship in the 'details' key.`);
  }
  return matching[0] as Embedding;
}

function joinCondition(e: Embedding, parentAlias: string, embedAlias: string): string {
  const { from, to } = e.fk;
  const [embeddedCols, parentCols] = e.embeddedIsFrom ? [from.columns, to.columns] : [to.columns, from.columns];
  return embeddedCols.map((c, i) => `${embedAlias}.${ident(c)} = ${parentAlias}.${ident(parentCols[i] as string)}`).join(' and ');
}

let aliasCounter = 0;
const nextAlias = (base: string): string => `${base}_${(aliasCounter = (aliasCounter + 1) % 1_000_000)}`;

/** The select list over `alias` (a row of `relation`), embedded resources as subqueries. */
export function selectListSql(cache: SchemaCache, relation: Relation | null, alias: string, items: readonly SelectItem[], extraWhere: string[]): string {
  const out: string[] = [];
  for (const item of items) {
    if (item.kind === 'star') {
      if (relation === null) out.push(`${alias}.*`);
      else out.push(...relation.columns.map((c) => `${alias}.${ident(c)}`));
    } else if (item.kind === 'column') {
      const expr = `${alias}.${ident(item.name)}${item.cast === null ? '' : `::${item.cast}`}`;
      out.push(`${expr} as ${ident(item.alias ?? item.name)}`);
    } else {
      if (relation === null) throw notImplemented('embedding on the result of a function');
      const embedding = resolveEmbedding(cache, relation, item.relation, item.hint);
      const inner = nextAlias('_pgrst_e');
      const row = nextAlias('_pgrst_r');
      const from = `${qualified(embedding.target.schema, embedding.target.name)} ${inner}`;
      const list = selectListSql(cache, embedding.target, inner, item.items, []);
      const condition = joinCondition(embedding, alias, inner);
      const sql = embedding.toOne
        ? `(select row_to_json(${row}) from (select ${list} from ${from} where ${condition} limit 1) ${row})`
        : `coalesce((select json_agg(${row}) from (select ${list} from ${from} where ${condition}) ${row}), '[]'::json)`;
      out.push(`${sql} as ${ident(item.alias ?? item.relation)}`);
      if (item.inner) extraWhere.push(`exists (select 1 from ${from} where ${condition})`);
    }
  }
  return out.length === 0 ? `${alias}.*` : out.join(', ');
}
