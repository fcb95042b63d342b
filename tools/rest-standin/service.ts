/**
 * STAND-IN for the Data API (PostgREST) at /rest/v1, for the local stack and tests. It is NOT
 * PostgREST; it serves the subset apps use, the way PostgREST serves it (docs/local-stack.md):
 *
 * - tables and views: GET/HEAD with `select=` (columns, renames, casts, one level of embedded
 *   resources), filters, `or=`/`and=`, `order=`, `limit`/`offset`, `Range`; POST (insert, upsert
 *   with `on_conflict` + `Prefer: resolution=…`), PATCH, DELETE with `Prefer: return=…`;
 *   `Prefer: count=exact`; `Accept: application/vnd.pgrst.object+json` (`.single()`).
 * - `/rpc/<fn>`: POST with named JSON arguments; GET (and HEAD) with arguments in the query string,
 *   run in a READ ONLY transaction; results filtered/ordered/limited like a table when they are rows.
 *
 * Each request is one transaction on a connection as `authenticator`, as PostgREST runs it:
 * `role` from the JWT (anon without one), `request.jwt.claims`, `request.method`, `request.path`,
 * `request.headers`, `request.cookies` and `search_path` set transaction-locally, then the role's
 * own settings (`alter role … set statement_timeout`) likewise. Only the schemas in
 * `[api] schemas` are served (`Accept-Profile`/`Content-Profile` select one; others: 406 PGRST106).
 * The schema cache reloads on `NOTIFY pgrst, 'reload schema'`, as PostgREST's does.
 * Errors carry PostgREST's body and SQLSTATE → HTTP status. What it does not support answers 501
 * with code PGRST501 naming the feature.
 */
import type { IncomingMessage } from 'node:http';
import { errors as joseErrors, jwtVerify } from 'jose';
import pg from 'pg';
import { z } from 'zod';
import { bearerToken, BodyTooLarge, dbUrlAs, readBody, sendJson } from '../api-gateway/http.ts';
import type { ApiService, ServiceContext, ServiceRequest } from '../api-gateway/service.ts';
import { fromPgError, isPgError, notImplemented, restError, RestError } from './errors.ts';
import { parsePrefer, parseQuery, QueryError, Unsupported, type Preferences, type ReadQuery } from './query.ts';
import { key, loadSchemaCache, type Relation, type RpcFunction, type SchemaCache } from './schema.ts';
import { ident, orderSql, Params, qualified, selectListSql, whereSql } from './sql.ts';

const apiTable = z.looseObject({
  schemas: z.array(z.string()).default(['public', 'graphql_public']),
  extra_search_path: z.array(z.string()).default(['public', 'extensions']),
  max_rows: z.number().int().positive().default(1000),
});

const OBJECT_MEDIA = 'application/vnd.pgrst.object+json';

interface Claims {
  role: string;
  raw: Record<string, unknown>;
}

interface Plan {
  sql: string;
  params: unknown[];
  readOnly: boolean;
  /** the result is one JSON value (a scalar function), not rows */
  scalar: boolean;
  /** a function returning one composite row answers an object */
  singleRow: boolean;
  status: number;
  offset: number;
  count: boolean;
  write: boolean;
}

interface Outcome {
  body: string | null;
  pageCount: number;
  total: number | null;
}

export async function createRestService(context: ServiceContext): Promise<ApiService> {
  const api = apiTable.parse(context.config.api ?? {});
  const pool = new pg.Pool({ connectionString: dbUrlAs(context.dbUrl, 'authenticator'), max: 8, application_name: 'rally-rest-standin' });
  pool.on('error', (error) => context.log(`data api stand-in: connection error: ${error.message}`));
  const secret = new TextEncoder().encode(context.jwtSecret);
  let cache: SchemaCache | null = null;
  let roleSettings = new Map<string, [string, string][]>();
  // `NOTIFY pgrst, 'reload schema'` (what migrations and Studio send) reloads the cache, as PostgREST does.
  const listener = new pg.Client({ connectionString: dbUrlAs(context.dbUrl, 'authenticator'), application_name: 'rally-rest-standin-listener' });
  listener.on('error', (error) => context.log(`data api stand-in: listener error: ${error.message}`));
  listener.on('notification', (message) => {
    if (message.channel === 'pgrst' && (message.payload === undefined || message.payload === '' || message.payload.startsWith('reload'))) cache = null;
  });
  await listener.connect();
  await listener.query('listen pgrst');

  /** PostgREST loads its schema cache at start and on NOTIFY pgrst; this loads on first use and on demand. */
  async function schemaCache(): Promise<SchemaCache> {
    if (cache !== null) return cache;
    const loaded = await loadSchemaCache(pool, api.schemas);
    const { rows } = await pool.query<{ rolname: string; setconfig: string[] }>(
      `select r.rolname::text, s.setconfig from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
        where s.setdatabase in (0, (select oid from pg_database where datname = current_database())) order by s.setdatabase`);
    const settings = new Map<string, [string, string][]>();
    for (const row of rows) {
      const list = settings.get(row.rolname) ?? [];
      for (const item of row.setconfig) {
        const eq = item.indexOf('=');
        if (eq > 0) list.push([item.slice(0, eq), item.slice(eq + 1)]);
      }
      settings.set(row.rolname, list);
    }
    roleSettings = settings;
    cache = loaded;
    return loaded;
  }

  async function claimsOf(req: IncomingMessage): Promise<Claims> {
    const token = bearerToken(req);
    if (token === null) return { role: 'anon', raw: { role: 'anon' } };
    try {
      const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
      const raw = payload as Record<string, unknown>;
      return { role: typeof raw.role === 'string' && raw.role !== '' ? raw.role : 'anon', raw };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new RestError(401, { code: 'PGRST303', message: 'JWT expired', details: null, hint: null },
          { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="JWT expired"' });
      }
      const reason = error instanceof joseErrors.JWSSignatureVerificationFailed ? 'JWSError JWSInvalidSignature' : 'JWSError (CompactDecodeError Invalid number of parts: Expected 3 parts; got 1)';
      throw new RestError(401, { code: 'PGRST301', message: reason, details: null, hint: null },
        { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${reason}"` });
    }
  }

  function chosenSchema(req: IncomingMessage, reading: boolean): string {
    const header = reading ? req.headers['accept-profile'] : req.headers['content-profile'];
    const wanted = typeof header === 'string' ? header.trim() : undefined;
    if (wanted === undefined || wanted === '') return api.schemas[0] as string;
    if (!api.schemas.includes(wanted)) {
      throw restError(406, 'PGRST106', `Invalid schema: ${wanted}`, null, `Only the following schemas are exposed: ${api.schemas.join(', ')}`);
    }
    return wanted;
  }

  function wantsObject(req: IncomingMessage): boolean {
    const accept = req.headers.accept ?? '';
    if (accept.includes('text/csv')) throw notImplemented('Accept: text/csv');
    if (accept.includes('nulls=stripped')) throw notImplemented('Accept: …;nulls=stripped (stripNulls)');
    if (accept.includes('application/vnd.pgrst.plan')) throw notImplemented('execution plans (explain)');
    if (accept.includes('application/geo+json')) throw notImplemented('Accept: application/geo+json');
    if (accept.includes('application/octet-stream') || accept.includes('text/plain') || accept.includes('text/xml')) throw notImplemented(`Accept: ${accept}`);
    return accept.includes(OBJECT_MEDIA);
  }

  /** `Range: 0-9` (and `limit`/`offset`) → one limit and offset, capped by `[api] max_rows`. */
  function window(req: IncomingMessage, query: ReadQuery): { limit: number; offset: number } {
    let offset = query.offset ?? 0;
    let limit = query.limit ?? api.max_rows;
    const range = req.headers.range;
    if (typeof range === 'string' && range.trim() !== '') {
      const match = /^(?:items=)?(\d+)-(\d*)$/.exec(range.trim());
      if (match === null) throw restError(416, 'PGRST103', 'Requested range not satisfiable', `An invalid range was given: ${range}`);
      const from = Number(match[1]);
      offset = Math.max(offset, from);
      if (match[2] !== '') limit = Math.min(limit, Number(match[2]) - from + 1);
    }
    return { limit: Math.min(limit, api.max_rows), offset };
  }

  function readPlan(c: SchemaCache, relation: Relation, req: IncomingMessage, query: ReadQuery, prefs: Preferences): Plan {
    const params = new Params();
    const extra: string[] = [];
    const list = selectListSql(c, relation, '_t', query.select, extra);
    const where = whereSql('_t', query.filters, params, extra);
    const { limit, offset } = window(req, query);
    const source = `${qualified(relation.schema, relation.name)} _t`;
    const total = prefs.count === 'exact' ? `(select count(*) from ${source}${where})` : 'null::bigint';
    const sql = `select coalesce(json_agg(_pgrst_row), '[]'::json)::text as body, count(*) as page_count, ${total} as total
      from (select ${list} from ${source}${where}${orderSql('_t', query.order)} limit ${limit} offset ${offset}) _pgrst_row`;
    return { sql, params: params.values, readOnly: true, scalar: false, singleRow: false, status: 200, offset, count: prefs.count === 'exact', write: false };
  }

  /** The payload of an insert or update: an object or an array of objects, with known columns only. */
  function payloadColumns(relation: Relation, body: unknown, columnsParam: string[] | null, many: boolean): { rows: Record<string, unknown>[]; columns: string[] } {
    const rows = Array.isArray(body) ? body : [body];
    if (!many && Array.isArray(body)) throw notImplemented('PATCH with an array body');
    if (rows.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) {
      throw restError(400, 'PGRST102', 'All object keys must match', null, null);
    }
    const objects = rows as Record<string, unknown>[];
    const columns = columnsParam ?? Object.keys(objects[0] ?? {});
    if (columnsParam === null) {
      const first = JSON.stringify([...columns].sort());
      if (objects.some((o) => JSON.stringify(Object.keys(o).sort()) !== first)) throw restError(400, 'PGRST102', 'All object keys must match');
    }
    for (const column of columns) {
      if (!relation.columns.includes(column)) {
        throw restError(400, 'PGRST204', `Could not find the '${column}' column of '${relation.name}' in the schema cache`);
      }
    }
    return { rows: objects, columns };
  }

  function returningPlan(c: SchemaCache, relation: Relation, modifySql: string, params: Params, query: ReadQuery, prefs: Preferences, status: number): Plan {
    const representation = prefs.return === 'representation';
    const list = representation ? selectListSql(c, relation, '_t', query.select, []) : '1';
    const sql = `with _pgrst_mod as (${modifySql})
      select ${representation ? `coalesce(json_agg(_pgrst_row), '[]'::json)::text` : 'null::text'} as body, count(*) as page_count, null::bigint as total
        from (select ${list} from _pgrst_mod _t) _pgrst_row`;
    return { sql, params: params.values, readOnly: false, scalar: false, singleRow: false, status, offset: 0, count: false, write: true };
  }

  function insertPlan(c: SchemaCache, relation: Relation, body: unknown, query: ReadQuery, prefs: Preferences): Plan {
    const { rows, columns } = payloadColumns(relation, body, query.columns, true);
    if (prefs.missing === 'default' && rows.some((r) => columns.some((col) => !(col in r)))) {
      throw notImplemented('Prefer: missing=default for objects that leave out some columns');
    }
    const params = new Params();
    const cols = columns.map(ident).join(', ');
    const table = qualified(relation.schema, relation.name);
    let conflict = '';
    if (prefs.resolution !== null) {
      const target = query.onConflict ?? relation.primaryKey;
      if (target.length === 0) throw restError(400, 'PGRST107', `on_conflict is required: ${relation.name} has no primary key`);
      const updates = columns.filter((col) => !target.includes(col)).map((col) => `${ident(col)} = excluded.${ident(col)}`);
      conflict = prefs.resolution === 'ignore-duplicates' || updates.length === 0
        ? ` on conflict (${target.map(ident).join(', ')}) do nothing`
        : ` on conflict (${target.map(ident).join(', ')}) do update set ${updates.join(', ')}`;
    } else if (query.onConflict !== null) {
      // on_conflict without a resolution preference is a plain insert in PostgREST.
    }
    const source = `select ${columns.length === 0 ? '' : cols} from json_populate_recordset(null::${table}, ${params.add(JSON.stringify(rows))}::json)`;
    const modify = columns.length === 0
      ? `insert into ${table} default values returning ${table}.*`
      : `insert into ${table} (${cols}) ${source}${conflict} returning ${table}.*`;
    if (columns.length === 0 && rows.length !== 1) throw notImplemented('inserting several rows of defaults');
    return returningPlan(c, relation, modify, params, query, prefs, 201);
  }

  function updatePlan(c: SchemaCache, relation: Relation, body: unknown, query: ReadQuery, prefs: Preferences): Plan {
    if (query.limit !== null || query.order.length > 0) throw notImplemented('limit/order on PATCH');
    const { columns } = payloadColumns(relation, body, null, false);
    const params = new Params();
    const table = qualified(relation.schema, relation.name);
    if (columns.length === 0) {
      // PostgREST answers an empty PATCH without touching any row.
      return { sql: `select '[]'::text as body, 0::bigint as page_count, null::bigint as total`, params: [], readOnly: false, scalar: false, singleRow: false, status: prefs.return === 'representation' ? 200 : 204, offset: 0, count: false, write: true };
    }
    const payload = params.add(JSON.stringify(body));
    const set = columns.map((col) => `${ident(col)} = _pgrst_in.${ident(col)}`).join(', ');
    const where = whereSql('_t', query.filters, params, []);
    const modify = `update ${table} as _t set ${set} from (select * from json_populate_record(null::${table}, ${payload}::json)) _pgrst_in${where} returning _t.*`;
    return returningPlan(c, relation, modify, params, query, prefs, prefs.return === 'representation' ? 200 : 204);
  }

  function deletePlan(c: SchemaCache, relation: Relation, query: ReadQuery, prefs: Preferences): Plan {
    if (query.limit !== null || query.order.length > 0) throw notImplemented('limit/order on DELETE');
    const params = new Params();
    const table = qualified(relation.schema, relation.name);
    const modify = `delete from ${table} as _t${whereSql('_t', query.filters, params, [])} returning _t.*`;
    return returningPlan(c, relation, modify, params, query, prefs, prefs.return === 'representation' ? 200 : 204);
  }

  function findFunction(c: SchemaCache, schema: string, name: string, argNames: string[]): RpcFunction {
    const overloads = c.functions.get(key(schema, name)) ?? [];
    const fits = overloads.filter((f) => !f.unnamedArgs && argNames.every((a) => f.args.some((x) => x.name === a))
      && f.args.every((x) => x.hasDefault || argNames.includes(x.name)));
    if (fits.length === 0) {
      const single = overloads.find((f) => f.args.length === 1 && (f.args[0]?.name === '' || ['json', 'jsonb'].includes(f.args[0]?.type ?? '')));
      if (single !== undefined && single.unnamedArgs) throw notImplemented('functions with a single unnamed json argument');
      throw restError(404, 'PGRST202', `Could not find the function ${schema}.${name}(${argNames.join(', ')}) in the schema cache`,
        `Searched for the function ${schema}.${name}${argNames.length === 0 ? ' without parameters' : ` with parameters ${argNames.join(', ')}`} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
        null);
    }
    if (fits.length > 1) {
      throw restError(300, 'PGRST203', `Could not choose the best candidate function between: ${fits.map((f) => `${schema}.${name}(${f.args.map((a) => `${a.name} => ${a.type}`).join(', ')})`).join(', ')}`,
        null, 'Try renaming the parameters or the function itself in the database so function overloading can be resolved');
    }
    const fn = fits[0] as RpcFunction;
    if (fn.variadic) throw notImplemented('variadic functions');
    if (fn.returnType === 'record' && !fn.hasOutArgs) throw notImplemented('functions returning an undeclared record');
    return fn;
  }

  function rpcPlan(c: SchemaCache, schema: string, name: string, args: Record<string, unknown>, req: IncomingMessage, rest: URLSearchParams, argKeys: Set<string>, readOnly: boolean, prefs: Preferences): Plan {
    const fn = findFunction(c, schema, name, Object.keys(args));
    const params = new Params();
    const provided = fn.args.filter((a) => a.name in args);
    const argsJson = params.add(JSON.stringify(args));
    const recordDef = provided.map((a) => `${ident(a.name)} ${a.type}`).join(', ');
    const call = `${qualified(fn.schema, fn.name)}(${provided.map((a) => `${ident(a.name)} := _pgrst_args.${ident(a.name)}`).join(', ')})`;
    const from = provided.length === 0 ? '' : ` from json_to_record(${argsJson}::json) as _pgrst_args(${recordDef})`;
    const query = parseQuery(rest, argKeys);
    const rows = fn.returnsSet || fn.returnKind === 'c' || (fn.returnType === 'record' && fn.hasOutArgs);
    if (!rows) {
      if (query.filters.length > 0 || query.order.length > 0 || query.select.some((s) => s.kind !== 'star')) {
        throw notImplemented('select, filters or order on a function returning a scalar');
      }
      const sql = `select to_json(${call})::text as body, 1::bigint as page_count, null::bigint as total${provided.length === 0 ? '' : from}`;
      if (provided.length === 0) params.values.length = 0;
      return { sql, params: params.values, readOnly, scalar: true, singleRow: false, status: fn.returnsVoid ? 204 : 200, offset: 0, count: false, write: false };
    }
    const scalarSet = fn.returnKind !== 'c' && fn.returnType !== 'record';
    if (scalarSet && (query.filters.length > 0 || query.order.length > 0 || query.select.some((s) => s.kind !== 'star'))) {
      throw notImplemented('select, filters or order on a function returning a set of scalars');
    }
    const source = provided.length === 0 ? ` from ${call} _t` : `${from} cross join lateral ${call} _t`;
    if (provided.length === 0) params.values.length = 0;
    // format_type qualifies a type that is not on authenticator's search_path ("$user", public).
    const [typeSchema, typeName] = fn.returnType.includes('.') ? fn.returnType.split('.', 2) as [string, string] : ['public', fn.returnType];
    const resultRelation = c.relations.get(key(typeSchema.replace(/"/g, ''), typeName.replace(/"/g, ''))) ?? null;
    const extra: string[] = [];
    const list = scalarSet ? '_t' : selectListSql(c, resultRelation, '_t', query.select, extra);
    const where = whereSql('_t', query.filters, params, extra);
    const { limit, offset } = window(req, query);
    const inner = `select ${list}${source}${where}${orderSql('_t', query.order)} limit ${limit} offset ${offset}`;
    const total = prefs.count === 'exact' ? `(select count(*)${source}${where})` : 'null::bigint';
    const agg = scalarSet ? `json_agg(_pgrst_row._t)` : `json_agg(_pgrst_row)`;
    const sql = `select coalesce(${agg}, '[]'::json)::text as body, count(*) as page_count, ${total} as total from (${inner}) _pgrst_row`;
    return { sql, params: params.values, readOnly, scalar: false, singleRow: !fn.returnsSet, status: 200, offset, count: prefs.count === 'exact', write: false };
  }

  async function execute(plan: Plan, claims: Claims, req: IncomingMessage, path: string, schema: string): Promise<Outcome & { client: pg.PoolClient }> {
    const client = await pool.connect();
    try {
      await client.query(plan.readOnly ? 'begin isolation level read committed read only' : 'begin isolation level read committed');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const searchPath = [schema, ...api.extra_search_path].map(ident).join(', ');
      await client.query(
        `select set_config('search_path', $1, true), set_config('role', $2, true), set_config('request.jwt.claims', $3, true),
                set_config('request.method', $4, true), set_config('request.path', $5, true), set_config('request.headers', $6, true),
                set_config('request.cookies', '{}', true)`,
        [searchPath, claims.role, JSON.stringify(claims.raw), req.method ?? 'GET', `/${path.replace(/^\/+/, '')}`, JSON.stringify(headers)]);
      for (const [name, value] of roleSettings.get(claims.role) ?? []) {
        await client.query('select set_config($1, $2, true)', [name, value]);
      }
      const { rows } = await client.query<{ body: string | null; page_count: string; total: string | null }>(plan.sql, plan.params);
      const row = rows[0];
      return { client, body: row?.body ?? null, pageCount: Number(row?.page_count ?? 0), total: row?.total === null || row?.total === undefined ? null : Number(row.total) };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      client.release();
      throw error;
    }
  }

  async function finish(client: pg.PoolClient, commit: boolean): Promise<void> {
    try {
      await client.query(commit ? 'commit' : 'rollback');
    } finally {
      client.release();
    }
  }

  function parseBody(raw: Buffer, req: IncomingMessage): unknown {
    const type = req.headers['content-type'] ?? 'application/json';
    if (!type.includes('application/json') && raw.length > 0) throw notImplemented(`request bodies of type ${type}`);
    if (raw.length === 0) return {};
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch (error) {
      throw restError(400, 'PGRST102', 'Empty or invalid json', error instanceof Error ? error.message : null);
    }
  }

  async function handle(request: ServiceRequest): Promise<void> {
    const { req, res, path, query } = request;
    const method = req.method ?? 'GET';
    const reading = method === 'GET' || method === 'HEAD';
    let authenticated = false;
    try {
      if (method === 'PUT') throw notImplemented('PUT (single-row upsert)');
      if (!['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'].includes(method)) throw restError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
      const claims = await claimsOf(req);
      authenticated = claims.role !== 'anon';
      const schema = chosenSchema(req, reading);
      const prefs = parsePrefer(req.headers.prefer);
      const single = wantsObject(req);
      const c = await schemaCache();
      const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
      if (segments.length === 0) throw notImplemented('the OpenAPI root (GET /rest/v1/)');
      let plan: Plan;
      if (segments[0] === 'rpc' && segments.length === 2) {
        const name = segments[1] as string;
        const fnArgs = c.functions.get(key(schema, name))?.flatMap((f) => f.args.map((a) => a.name)) ?? [];
        if (reading) {
          const args: Record<string, unknown> = {};
          for (const [k, v] of query) if (fnArgs.includes(k)) args[k] = v;
          plan = rpcPlan(c, schema, name, args, req, query, new Set(Object.keys(args)), true, prefs);
        } else if (method === 'POST') {
          const body = parseBody(await readBody(req), req);
          if (typeof body !== 'object' || body === null || Array.isArray(body)) throw notImplemented('RPC with a non-object body (Prefer: params=single-object)');
          plan = rpcPlan(c, schema, name, body as Record<string, unknown>, req, query, new Set(), false, prefs);
        } else {
          throw restError(405, 'PGRST101', 'Only GET, HEAD and POST are allowed for calling functions');
        }
      } else if (segments.length === 1) {
        const relation = c.relations.get(key(schema, segments[0] as string));
        if (relation === undefined) {
          throw restError(404, 'PGRST205', `Could not find the table '${schema}.${segments[0]}' in the schema cache`);
        }
        const parsed = parseQuery(query);
        if (reading) plan = readPlan(c, relation, req, parsed, prefs);
        else if (method === 'POST') plan = insertPlan(c, relation, parseBody(await readBody(req), req), parsed, prefs);
        else if (method === 'PATCH') plan = updatePlan(c, relation, parseBody(await readBody(req), req), parsed, prefs);
        else plan = deletePlan(c, relation, parsed, prefs);
      } else {
        throw restError(404, 'PGRST125', `Invalid path specified in request URL: /rest/v1${path}`);
      }
      const outcome = await execute(plan, claims, req, path, schema);
      let body: string | null = outcome.body;
      if (single && !plan.scalar) {
        const rows = JSON.parse(body ?? '[]') as unknown[];
        if (plan.write && prefs.return !== 'representation') {
          // nothing is returned, nothing to check
        } else if (rows.length !== 1) {
          await finish(outcome.client, false);
          throw restError(406, 'PGRST116', 'JSON object requested, multiple (or no) rows returned', `The result contains ${rows.length} rows`);
        } else {
          body = JSON.stringify(rows[0]);
        }
      } else if (plan.singleRow && !plan.scalar) {
        const rows = JSON.parse(body ?? '[]') as unknown[];
        body = JSON.stringify(rows[0] ?? null);
      }
      await finish(outcome.client, true);
      const headers: Record<string, string> = { 'Content-Type': `${single ? OBJECT_MEDIA : 'application/json'}; charset=utf-8` };
      if (!plan.scalar) {
        const totalText = outcome.total === null ? '*' : String(outcome.total);
        headers['Content-Range'] = outcome.pageCount === 0 || plan.write
          ? `*/${totalText}`
          : `${plan.offset}-${plan.offset + outcome.pageCount - 1}/${totalText}`;
      }
      let status = plan.status;
      if (!plan.write && outcome.total !== null && outcome.total > 0 && plan.offset >= outcome.total && outcome.pageCount === 0 && plan.offset > 0) {
        throw restError(416, 'PGRST103', 'Requested range not satisfiable', `An offset of ${plan.offset} was requested, but there are only ${outcome.total} rows.`);
      }
      if (!plan.write && outcome.total !== null && outcome.pageCount < outcome.total && outcome.pageCount > 0) status = 206;
      const noBody = method === 'HEAD' || status === 204 || (plan.write && prefs.return !== 'representation');
      res.writeHead(noBody && status === 200 && plan.write ? 204 : status, noBody ? { ...headers, 'Content-Length': 0 } : { ...headers, 'Content-Length': Buffer.byteLength(body ?? 'null') });
      res.end(noBody ? undefined : body ?? 'null');
    } catch (error) {
      let failure: RestError;
      if (error instanceof RestError) failure = error;
      else if (error instanceof Unsupported) failure = notImplemented(error.feature);
      else if (error instanceof QueryError) failure = restError(400, 'PGRST100', error.message, error.details);
      else if (error instanceof BodyTooLarge) failure = restError(413, 'PGRST413', 'Payload Too Large');
      else if (isPgError(error)) {
        failure = fromPgError(error, authenticated);
        if (error.code === '42P01' || error.code === '42703' || error.code === '42883') cache = null;
      } else {
        context.log(`data api stand-in: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        failure = restError(500, 'PGRST000', error instanceof Error ? error.message : String(error));
      }
      sendJson(res, failure.status, failure.body, failure.headers);
    }
  }

  return {
    prefix: '/rest/v1',
    description: 'Data API STAND-IN (PostgREST contract, the subset apps use; not PostgREST), tools/rest-standin',
    handle,
    async close() {
      await listener.end().catch(() => undefined);
      await pool.end();
    },
  };
}
