/**
 * search_events under a realistic catalogue: 100,000 published public events around four cities
 * with one ticket type each, queried as an anonymous API request (role anon, PostgREST's request
 * context) in a mix of shapes. Baseline: a bare indexed listing select on the same table, timed
 * the same way (one statement round trip inside its transaction).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { applyRequestContext } from '../../functions/_shared/db.ts';
import { adminPool } from '../../tests/support/db.ts';
import { wasInterrupted } from '../../scripts/lib/throwaway.ts';
import { median, percentile, pick, seededRandom, since } from './stats.ts';

export const CATEGORIES = [
  'music', 'nightlife', 'food_drink', 'sports_fitness', 'arts_culture', 'tech', 'business', 'community',
  'education', 'outdoors', 'wellness', 'family', 'games', 'other',
] as const;

/** Title/description vocabulary; every event draws 3 title words and 8–15 description words. */
export const WORDS = [
  'jazz', 'rock', 'indie', 'techno', 'house', 'salsa', 'tango', 'swing', 'blues', 'folk', 'punk', 'soul', 'funk',
  'opera', 'choir', 'piano', 'guitar', 'drum', 'vinyl', 'karaoke', 'comedy', 'poetry', 'theatre', 'cinema', 'film',
  'gallery', 'painting', 'sketch', 'pottery', 'photo', 'design', 'craft', 'market', 'brunch', 'dinner', 'supper',
  'tasting', 'wine', 'beer', 'coffee', 'cocktail', 'street', 'food', 'vegan', 'bbq', 'picnic', 'bakery', 'cheese',
  'run', 'ride', 'yoga', 'pilates', 'climb', 'hike', 'swim', 'football', 'tennis', 'chess', 'boardgame', 'quiz',
  'trivia', 'hackathon', 'meetup', 'startup', 'python', 'rust', 'data', 'ai', 'ux', 'product', 'founders',
  'networking', 'workshop', 'talk', 'lecture', 'book', 'club', 'reading', 'writing', 'language', 'exchange',
  'kids', 'family', 'garden', 'park', 'river', 'beach', 'sunset', 'rooftop', 'night', 'morning', 'weekend',
  'festival', 'party', 'social', 'community', 'charity', 'volunteer', 'meditation', 'breathwork', 'dance',
  'disco', 'retro', 'live', 'session', 'open', 'mic', 'late', 'summer', 'winter', 'city', 'harbour', 'old', 'town',
] as const;

/** A word only about 0.1% of events carry (niche searches are common: genres, typos, names). */
export const RARE_WORD = 'zydeco';

export const CITIES = [
  { name: 'Lisbon', lat: 38.7223, lng: -9.1393, timezone: 'Europe/Lisbon', currency: 'EUR' },
  { name: 'London', lat: 51.5074, lng: -0.1278, timezone: 'Europe/London', currency: 'GBP' },
  { name: 'New York', lat: 40.7128, lng: -74.006, timezone: 'America/New_York', currency: 'USD' },
  { name: 'Berlin', lat: 52.52, lng: 13.405, timezone: 'Europe/Berlin', currency: 'EUR' },
] as const;

export interface GenerateOutcome {
  events: number;
  ticketTypes: number;
  elapsedMs: number;
}

/**
 * Bulk-loads the catalogue as the superuser. Row triggers are skipped for the load only
 * (`set local session_replication_role = replica`, which ends with the transaction): the event
 * validation trigger costs ~30–70 ms per row (its time-zone check reads pg_timezone_names), which
 * would make 100,000 rows take over an hour. The data is valid by construction (same checks).
 * Ticket types get no inventory slots: search never reads them.
 */
export async function generateCatalogue(hostIds: readonly string[], count: number): Promise<GenerateOutcome> {
  const started = performance.now();
  const client = await adminPool().connect();
  try {
    await client.query('begin');
    await client.query('set local session_replication_role = replica');
    const events = await client.query(
      `with cities(i, name, lat, lng, tz) as (select * from unnest($4::int[], $5::text[], $6::float8[], $7::float8[], $8::text[]))
       insert into private.events (host_id, title, description, category, starts_at, ends_at, timezone, venue_name, city,
                                   location, visibility, status, published_at, refund_policy)
       select ($1::uuid[])[1 + (g % cardinality($1::uuid[]))],
              initcap(w.words[1 + floor(random() * w.n)::int] || ' ' || w.words[1 + floor(random() * w.n)::int] || ' '
                      || w.words[1 + floor(random() * w.n)::int]) || case when g % 1000 = 7 then ' ' || $9 else '' end,
              (select string_agg(w.words[1 + floor(random() * w.n)::int + 0 * k], ' ')
                 from generate_series(1, 8 + g % 8) as k),
              ($3::text[])[1 + floor(random() * cardinality($3::text[]))::int],
              t.starts_at, t.starts_at + interval '3 hours', c.tz, 'Venue ' || (g % 500), c.name,
              extensions.st_setsrid(extensions.st_makepoint(
                c.lng + p.r * sin(p.theta) / (111.32 * cos(radians(c.lat))),
                c.lat + p.r * cos(p.theta) / 111.32), 4326)::extensions.geography,
              'public', 'published', now(), 'moderate'
         from generate_series(1, $10::int) as g
         cross join (select $2::text[] as words, cardinality($2::text[]) as n) as w
         join cities c on c.i = g % 4
         cross join lateral (select 50 * sqrt(random()) + 0 * g as r, 2 * pi() * random() + 0 * g as theta) as p
         cross join lateral (select date_trunc('hour', now()) + interval '1 day'
                                    + (floor(random() * 180 * 24 * 4) + 0 * g) * interval '15 minutes' as starts_at) as t`,
      [
        hostIds, WORDS, CATEGORIES, CITIES.map((_, i) => i), CITIES.map((c) => c.name), CITIES.map((c) => c.lat),
        CITIES.map((c) => c.lng), CITIES.map((c) => c.timezone), RARE_WORD, count,
      ],
    );
    const tickets = await client.query(
      `insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
       select e.id, 'General admission',
              case when random() < 0.3 then 0 else (5 + floor(random() * 96))::bigint * 100 end,
              case e.city when 'London' then 'GBP' when 'New York' then 'USD' else 'EUR' end,
              50 + floor(random() * 451)::int, 10
         from private.events e
        where e.host_id = any ($1::uuid[])`,
      [hostIds],
    );
    await client.query('commit');
    // Vacuum too, so autovacuum does not wake up on 100,000 fresh rows in the middle of the timing.
    await client.query('vacuum (analyze) private.events, public.ticket_types');
    return { events: events.rowCount ?? 0, ticketTypes: tickets.rowCount ?? 0, elapsedMs: since(started) };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Arguments of public.search_events (null = not given). */
export interface SearchArgs {
  query: string | null;
  lat: number | null;
  lng: number | null;
  radiusKm: number | null;
  startsAfter: string | null;
  startsBefore: string | null;
  category: string | null;
  maxPriceCents: number | null;
  cursor: string | null;
  limit: number | null;
}

const NO_ARGS: SearchArgs = {
  query: null, lat: null, lng: null, radiusKm: null, startsAfter: null, startsBefore: null, category: null,
  maxPriceCents: null, cursor: null, limit: null,
};

export interface Shape {
  name: string;
  description: string;
  /** the arguments of call `i`; `page2` shapes get a cursor from an untimed first page */
  args: (random: () => number) => SearchArgs;
  page2?: boolean;
}

const localDate = (daysAhead: number): string => {
  const d = new Date(Date.now() + daysAhead * 86_400_000);
  return `${d.toISOString().slice(0, 10)} 00:00:00`;
};

const textQuery = (random: () => number): string =>
  random() < 0.5 ? pick(random, WORDS) : `${pick(random, WORDS)} ${pick(random, WORDS)}`;

export const SHAPES: readonly Shape[] = [
  { name: 'browse', description: 'no filters (soonest upcoming)', args: () => ({ ...NO_ARGS }) },
  { name: 'text', description: '1–2 common words', args: (r) => ({ ...NO_ARGS, query: textQuery(r) }) },
  { name: 'text_rare', description: `rare word (~0.1% of events)`, args: () => ({ ...NO_ARGS, query: RARE_WORD }) },
  {
    name: 'text_geo',
    description: '1–2 words within 10 km of a city',
    args: (r) => {
      const city = pick(r, CITIES);
      return { ...NO_ARGS, query: textQuery(r), lat: city.lat, lng: city.lng, radiusKm: 10 };
    },
  },
  {
    name: 'geo_dates',
    description: '25 km of a city, a 3-day local window 1–60 days out',
    args: (r) => {
      const city = pick(r, CITIES);
      const day = 1 + Math.floor(r() * 60);
      return { ...NO_ARGS, lat: city.lat, lng: city.lng, radiusKm: 25, startsAfter: localDate(day), startsBefore: localDate(day + 3) };
    },
  },
  {
    name: 'category_price',
    description: 'a category, cheapest ticket ≤ 20.00',
    args: (r) => ({ ...NO_ARGS, category: pick(r, CATEGORIES), maxPriceCents: 2000 }),
  },
  { name: 'text_page2', description: 'text search, page 2 via cursor', args: (r) => ({ ...NO_ARGS, query: textQuery(r) }), page2: true },
];

const SEARCH_SQL = `select * from public.search_events(
  p_query => $1::text, p_lat => $2::float8, p_lng => $3::float8, p_radius_km => $4::float8,
  p_starts_after => $5::timestamp, p_starts_before => $6::timestamp, p_category => $7::text,
  p_max_price_cents => $8::bigint, p_cursor => $9::text, p_limit => $10::int)`;

const BASELINE_SQL = `select id from private.events
  where status = 'published' and visibility = 'public' and starts_at > now()
  order by starts_at, id limit 20`;

const ANON_CLAIMS = { role: 'anon', iss: 'supabase-demo' } as const;

const params = (a: SearchArgs): unknown[] => [
  a.query, a.lat, a.lng, a.radiusKm, a.startsAfter, a.startsBefore, a.category, a.maxPriceCents, a.cursor, a.limit,
];

/**
 * A shape's contract floor: the same filter as private.search_events (text match, rounded-distance
 * test, local dates with their instant bounds, category, cheapest visible ticket) and the same
 * card columns (rounded location, distance, rank, cheapest price, cursor), as one plain statement
 * on private.events — no argument checks, no request context, no block test — built for the
 * arguments given so the planner picks the best index, with the price lookup after the limit
 * unless the price is filtered on. Keyset position as (starts_at, id) for page 2.
 */
export function floorStatement(a: SearchArgs, after: { at: string; id: string } | null): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown, cast: string): string => {
    values.push(value);
    return `$${values.length}::${cast}`;
  };
  const where = ["e.status = 'published'", "e.visibility = 'public'", 'e.ends_at > now()'];
  const query = a.query === null ? null : `websearch_to_tsquery('simple', ${param(a.query, 'text')})`;
  if (query !== null) where.push(`e.search_vector @@ ${query}`);
  const point = a.lat === null || a.lng === null ? null
    : `extensions.st_setsrid(extensions.st_makepoint(${param(a.lng, 'float8')}, ${param(a.lat, 'float8')}), 4326)::extensions.geography`;
  const rounded = 'extensions.st_snaptogrid(e.location::extensions.geometry, 0.01)::extensions.geography';
  if (point !== null) {
    const radius = param(Math.max(a.radiusKm ?? 25, 1) * 1000, 'float8');
    where.push(`extensions.st_dwithin(e.location, ${point}, ${radius} + 1500)`, `extensions.st_dwithin(${rounded}, ${point}, ${radius})`);
  }
  if (a.category !== null) where.push(`e.category = ${param(a.category, 'text')}`);
  if (a.startsAfter !== null) {
    const at = param(a.startsAfter, 'timestamp');
    where.push(`e.starts_at_local >= ${at}`, `e.starts_at >= (${at} - interval '14 hours') at time zone 'UTC'`);
  }
  if (a.startsBefore !== null) {
    const at = param(a.startsBefore, 'timestamp');
    where.push(`e.starts_at_local < ${at}`, `e.starts_at < (${at} + interval '12 hours') at time zone 'UTC'`);
  }
  if (after !== null) where.push(`(e.starts_at, e.id) > (${param(after.at, 'timestamptz')}, ${param(after.id, 'uuid')})`);
  const price = `cross join lateral (select min(t.price_cents) as min_price_cents, min(t.currency) as currency
                   from public.ticket_types t where t.event_id = e.id and not t.hidden) price`;
  if (a.maxPriceCents !== null) where.push(`price.min_price_cents <= ${param(a.maxPriceCents, 'bigint')}`);
  const limit = param(a.limit ?? 20, 'int');
  const filtered = `select e.* from private.events e ${a.maxPriceCents !== null ? price : ''}
    where ${where.join(' and ')} order by e.starts_at, e.id limit ${limit}`;
  const text = `select e.id, e.host_id, e.title, e.description, e.category, e.starts_at, e.ends_at, e.timezone, e.venue_name, e.city,
       ${rounded} as location, e.online_url is not null as is_online, e.requires_approval, e.refund_policy, e.cover_path,
       price.min_price_cents, price.currency,
       ${point === null ? 'null::float8' : `round((extensions.st_distance(${rounded}, ${point}) / 1000)::numeric, 1)::float8`} as distance_km,
       ${query === null ? 'null::real' : `ts_rank(e.search_vector, ${query})`} as relevance,
       translate(encode(convert_to(to_char(e.starts_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '|' || e.id::text, 'UTF8'), 'base64'), E'\n', '') as cursor,
       e.starts_at as after_at, e.id as after_id
  from (${filtered}) e
  ${price}
 order by e.starts_at, e.id`;
  return { text, values };
}

interface CallResult {
  ms: number;
  rows: number;
  cursor: string | null;
  error: string | null;
}

/** One anonymous API request: transaction, PostgREST request context, the RPC (timed), commit. */
async function searchCall(client: pg.Client, args: SearchArgs): Promise<CallResult> {
  await client.query('begin');
  try {
    await applyRequestContext(client, ANON_CLAIMS);
    const started = performance.now();
    const result = await client.query<{ cursor: string }>(SEARCH_SQL, params(args));
    const ms = since(started);
    await client.query('commit');
    const last = result.rows[result.rows.length - 1];
    return { ms, rows: result.rowCount ?? 0, cursor: last?.cursor ?? null, error: null };
  } catch (err) {
    await client.query('rollback');
    const message = err instanceof pg.DatabaseError ? `${err.code ?? '?'}/${err.hint ?? err.message}` : String(err);
    return { ms: Number.NaN, rows: 0, cursor: null, error: message };
  }
}

/** A shape's contract floor (floorStatement), timed the same way as the baseline. */
async function floorCall(client: pg.Client, args: SearchArgs, after: { at: string; id: string } | null): Promise<CallResult & { after: { at: string; id: string } | null }> {
  const statement = floorStatement(args, after);
  await client.query('begin');
  try {
    const started = performance.now();
    const result = await client.query<{ after_at: Date; after_id: string }>(statement.text, statement.values);
    const ms = since(started);
    await client.query('commit');
    const last = result.rows[result.rows.length - 1];
    return { ms, rows: result.rowCount ?? 0, cursor: null, error: null,
             after: last === undefined ? null : { at: last.after_at.toISOString(), id: last.after_id } };
  } catch (err) {
    await client.query('rollback');
    return { ms: Number.NaN, rows: 0, cursor: null, error: String(err), after: null };
  }
}

async function runFloorCall(client: pg.Client, shape: Shape, random: () => number): Promise<CallResult> {
  if (shape.page2 !== true) return floorCall(client, shape.args(random), null);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const args = shape.args(random);
    const first = await floorCall(client, args, null);
    if (first.error !== null) return first;
    if (first.after !== null && first.rows === 20) return floorCall(client, args, first.after);
  }
  return { ms: Number.NaN, rows: 0, cursor: null, error: 'bench/no page 2 found' };
}

async function baselineCall(client: pg.Client): Promise<CallResult> {
  await client.query('begin');
  try {
    const started = performance.now();
    const result = await client.query(BASELINE_SQL);
    const ms = since(started);
    await client.query('commit');
    return { ms, rows: result.rowCount ?? 0, cursor: null, error: null };
  } catch (err) {
    await client.query('rollback');
    return { ms: Number.NaN, rows: 0, cursor: null, error: String(err) };
  }
}

export interface ShapeOutcome {
  name: string;
  description: string;
  calls: number;
  errors: Record<string, number>;
  avgRows: number;
  p50Ms: number;
  p95Ms: number;
  ratioP50: number;
  ratioP95: number;
  /** the shape's contract floor (floorStatement), timed the same way */
  floor: { calls: number; p50Ms: number; p95Ms: number; avgRows: number; errors: Record<string, number> };
}

export interface SearchOutcome {
  baseline: { calls: number; p50Ms: number; p95Ms: number };
  shapes: ShapeOutcome[];
  /** the shape with the highest p95 */
  slowest: string | null;
  /** EXPLAIN (ANALYZE, BUFFERS) of every shape, as the function ran it */
  explains: { shape: string; file: string; text: string }[];
}

export interface SearchSpec {
  callsPerShape: number;
  warmupPerShape: number;
  /** stop sampling a shape once its timed calls add up to this much */
  maxMsPerShape: number;
  /** a profiled pass on the benchmark's connection: `body` runs every shape `calls` times */
  profiled?: (client: pg.Client, calls: number, body: () => Promise<void>) => Promise<void>;
}

/**
 * Interleaves the shapes round-robin on one connection, as a PostgREST pool connection serves a
 * mix of requests (plan caches included), so each shape sees the same conditions.
 */
export async function runSearchBench(url: string, spec: SearchSpec): Promise<SearchOutcome> {
  // Connects as the superuser only so the EXPLAIN step below can load auto_explain on this same
  // session; every timed search runs after set_config('role', 'anon'), like PostgREST.
  const client = new pg.Client({ connectionString: url, application_name: 'rally-bench-search' });
  await client.connect();
  try {
    const random = seededRandom(20261125);
    const samples = new Map<string, { ms: number[]; rows: number[]; errors: Record<string, number>; spent: number }>();
    const floorName = (shape: string): string => `floor:${shape}`;
    for (const shape of [...SHAPES.flatMap((s) => [s.name, floorName(s.name)]), 'baseline']) samples.set(shape, { ms: [], rows: [], errors: {}, spent: 0 });
    const total = spec.warmupPerShape + spec.callsPerShape;
    for (let i = 0; i < total && !wasInterrupted(); i += 1) {
      const timed = i >= spec.warmupPerShape;
      for (const name of ['baseline', ...SHAPES.flatMap((s) => [s.name, floorName(s.name)])]) {
        const bucket = samples.get(name);
        if (bucket === undefined || bucket.spent > spec.maxMsPerShape) continue;
        let result: CallResult;
        if (name === 'baseline') {
          result = await baselineCall(client);
        } else if (name.startsWith('floor:')) {
          const shape = SHAPES.find((s) => floorName(s.name) === name);
          if (shape === undefined) continue;
          result = await runFloorCall(client, shape, random);
        } else {
          const shape = SHAPES.find((s) => s.name === name);
          if (shape === undefined) continue;
          result = await runShapeCall(client, shape, random);
        }
        if (!timed) continue;
        if (result.error !== null) {
          bucket.errors[result.error] = (bucket.errors[result.error] ?? 0) + 1;
          continue;
        }
        bucket.ms.push(result.ms);
        bucket.rows.push(result.rows);
        bucket.spent += result.ms;
      }
    }
    const base = samples.get('baseline');
    const baseP50 = median(base?.ms ?? []);
    const shapes: ShapeOutcome[] = SHAPES.map((shape) => {
      const bucket = samples.get(shape.name) ?? { ms: [], rows: [], errors: {}, spent: 0 };
      const p50 = median(bucket.ms);
      const p95 = percentile(bucket.ms, 95);
      const floor = samples.get(floorName(shape.name)) ?? { ms: [], rows: [], errors: {}, spent: 0 };
      return {
        floor: {
          calls: floor.ms.length, p50Ms: median(floor.ms), p95Ms: percentile(floor.ms, 95), errors: floor.errors,
          avgRows: floor.rows.length === 0 ? 0 : floor.rows.reduce((a, b) => a + b, 0) / floor.rows.length,
        },
        name: shape.name,
        description: shape.description,
        calls: bucket.ms.length,
        errors: bucket.errors,
        avgRows: bucket.rows.length === 0 ? 0 : bucket.rows.reduce((a, b) => a + b, 0) / bucket.rows.length,
        p50Ms: p50,
        p95Ms: p95,
        ratioP50: p50 / baseP50,
        ratioP95: p95 / baseP50,
      };
    });
    if (spec.profiled !== undefined && !wasInterrupted()) {
      const perShape = 20;
      await spec.profiled(client, perShape * SHAPES.length, async () => {
        for (let i = 0; i < perShape; i += 1) for (const shape of SHAPES) await runShapeCall(client, shape, random);
      });
    }
    const slowest = [...shapes].sort((a, b) => b.p95Ms - a.p95Ms)[0] ?? null;
    const toExplain = shapes;
    const explains: SearchOutcome['explains'] = [];
    if (!wasInterrupted()) {
      const dir = mkdtempSync(join(tmpdir(), 'rally-bench-'));
      for (const outcome of toExplain) {
        const shape = SHAPES.find((s) => s.name === outcome.name);
        if (shape === undefined) continue;
        const text = await explainShape(client, shape, seededRandom(7));
        const file = join(dir, `explain-${shape.name}.txt`);
        writeFileSync(file, text);
        explains.push({ shape: shape.name, file, text });
      }
    }
    return {
      baseline: { calls: base?.ms.length ?? 0, p50Ms: baseP50, p95Ms: percentile(base?.ms ?? [], 95) },
      shapes,
      slowest: slowest?.name ?? null,
      explains,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function runShapeCall(client: pg.Client, shape: Shape, random: () => number): Promise<CallResult> {
  const args = shape.args(random);
  if (shape.page2 !== true) return searchCall(client, args);
  // Page 1 (untimed) hands out the cursor; a short first page has no page 2, so try a few queries.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const first = await searchCall(client, attempt === 0 ? args : shape.args(random));
    if (first.error !== null) return first;
    if (first.cursor !== null && first.rows === 20) {
      return searchCall(client, { ...(attempt === 0 ? args : shape.args(random)), cursor: first.cursor });
    }
  }
  return { ms: Number.NaN, rows: 0, cursor: null, error: 'bench/no page 2 found' };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the statement inside private.search_events exactly as the API
 * runs it — same session, same cached plan — via auto_explain with nested statements, whose
 * LOG output goes to this client. Runs the shape several times and keeps the last plan.
 */
async function explainShape(client: pg.Client, shape: Shape, random: () => number): Promise<string> {
  const plans: string[] = [];
  const onNotice = (msg: { message?: string | undefined }): void => {
    const text = msg.message ?? '';
    if (text.includes('from private.events e')) plans.push(text);
  };
  await client.query("load 'auto_explain'");
  await client.query(`select set_config('auto_explain.log_min_duration', '0', false),
                             set_config('auto_explain.log_analyze', 'on', false),
                             set_config('auto_explain.log_buffers', 'on', false),
                             set_config('auto_explain.log_timing', 'on', false),
                             set_config('auto_explain.log_nested_statements', 'on', false),
                             set_config('client_min_messages', 'log', false)`);
  client.on('notice', onNotice);
  const argsUsed: SearchArgs[] = [];
  try {
    for (let i = 0; i < 3; i += 1) {
      const args = shape.args(random);
      argsUsed.push(args);
      if (shape.page2 === true) await runShapeCall(client, shape, random);
      else await searchCall(client, args);
    }
  } finally {
    client.off('notice', onNotice);
    await client.query(`select set_config('auto_explain.log_min_duration', '-1', false), set_config('client_min_messages', 'notice', false)`);
  }
  const last = plans[plans.length - 1] ?? '(auto_explain produced no plan for the search statement)';
  return [
    `-- EXPLAIN (ANALYZE, BUFFERS) of the query inside private.search_events, shape ${shape.name} (${shape.description})`,
    `-- captured with auto_explain (log_nested_statements) on the benchmark's own session, role anon`,
    `-- arguments of the last call: ${JSON.stringify(shape.page2 === true ? '(page 2 of a text search)' : argsUsed[argsUsed.length - 1])}`,
    last,
    '',
  ].join('\n');
}

