/**
 * Chat benchmark (issue 5). Two measurements, each against a baseline taken in the same run on
 * the same cluster:
 *
 * 1. send_message throughput through RLS as real users, as a ratio to a bare INSERT into
 *    public.messages (goal ≥ 0.4×). Both sides run the same number of concurrent connections,
 *    one round trip and one transaction per message; the bare insert still fires the table's
 *    triggers (seq, broadcasts, read pointer, notification queue), so the ratio is the price of
 *    the API itself: the request context, membership and block checks, validation, the rate
 *    limit and idempotency. Senders are spread over enough users to stay under the 30 per 10 s
 *    rate limit, which is part of what is measured.
 * 2. my_conversations(null, 20) latency for a user with 1,000 conversations over 1,000,000
 *    messages (goal p95 ≤ 5 ms), next to a one-row primary-key read made the same way (the
 *    round-trip floor). Data is generated in bulk SQL.
 *
 * After its timed calls each path runs once more, profiled (pg_stat_statements track = all:
 * 800 send_message calls, 70 first-page my_conversations calls); the slowest leaf statement is
 * printed beside its row and the profiles below the table.
 *
 *   tsx bench/chat.ts          # on its own throwaway cluster; prints the table
 *
 * `chatBench(env)` is the module entry for a bench runner: it receives a migrated database and
 * returns the rows. Loops are bounded; connections go to 127.0.0.1 only.
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { createProfiler, type PathProfile } from './lib/profile.ts';
import { printReport, slowestLine, type PathRow } from './lib/report.ts';

export interface ChatBenchEnv {
  /** role postgres (what PostgREST's authenticator becomes); bypasses nothing it should not */
  appUrl: string;
  /** superuser, for bulk data generation */
  adminUrl: string;
}

export interface ChatBenchOptions {
  /** concurrent connections for the throughput runs */
  workers: number;
  /** messages per worker per run */
  messagesPerWorker: number;
  /** alternating bare / send_message rounds (the medians are compared) */
  rounds: number;
  /** my_conversations timing samples */
  samples: number;
  log: (line: string) => void;
}

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  /** value / baselineValue */
  ratio: number;
  goal: string;
  met: boolean;
  /** the slowest leaf statement of the path's profiled pass */
  slowest?: string;
}

export interface ChatBenchOutcome {
  rows: BenchRow[];
  /** send_message and my_conversations, each profiled once after the timed runs */
  profiles: PathProfile[];
}

const DEFAULTS: ChatBenchOptions = {
  workers: 8,
  messagesPerWorker: 1_500,
  rounds: 3,
  samples: 400,
  log: (line) => process.stderr.write(`${line}\n`),
};

const SENDER_PAIRS = 600; // 1,200 users per throughput set; 10 messages each per round
const HEAVY_CONVERSATIONS = 1_000;
const MESSAGES_PER_CONVERSATION = 1_000;

export async function chatBench(env: ChatBenchEnv, options: Partial<ChatBenchOptions> = {}): Promise<ChatBenchOutcome> {
  const opts: ChatBenchOptions = { ...DEFAULTS, ...options };
  const admin = new pg.Client({ connectionString: env.adminUrl, application_name: 'bench-chat' });
  await admin.connect();
  try {
    opts.log('chat bench: creating users and conversations');
    const rpcSet = await createPairs(admin, 'rpc', SENDER_PAIRS);
    const bareSet = await createPairs(admin, 'bare', SENDER_PAIRS);
    const warmSet = await createPairs(admin, 'warm', 50);
    await admin.query('analyze');

    opts.log('chat bench: warming up');
    await throughput(env.appUrl, warmSet, opts.workers, 100, 'rpc');
    await throughput(env.appUrl, warmSet, opts.workers, 100, 'bare');

    // Alternating rounds, medians: the machine may be busy with other work, and the table grows.
    opts.log(`chat bench: ${opts.rounds} rounds of ${opts.workers} workers × ${opts.messagesPerWorker} messages, bare insert then send_message`);
    const bareRuns: number[] = [];
    const rpcRuns: number[] = [];
    for (let round = 0; round < opts.rounds; round += 1) {
      bareRuns.push(await throughput(env.appUrl, bareSet, opts.workers, opts.messagesPerWorker, 'bare'));
      rpcRuns.push(await throughput(env.appUrl, rpcSet, opts.workers, opts.messagesPerWorker, 'rpc'));
      opts.log(`chat bench: round ${round + 1}: bare ${bareRuns.at(-1)?.toFixed(0)} msg/s, send_message ${rpcRuns.at(-1)?.toFixed(0)} msg/s`);
    }
    const bare = percentile(bareRuns, 50);
    const rpc = percentile(rpcRuns, 50);

    opts.log('chat bench: generating 1,000 conversations over 1,000,000 messages');
    const heavy = await createHeavyUser(admin, rpcSet);
    opts.log('chat bench: timing my_conversations');
    const floor = await latencies(env.appUrl, heavy, opts.samples, `select id from public.profiles where id = '${heavy.id}'`);
    const first = await latencies(env.appUrl, heavy, opts.samples, 'select * from public.my_conversations(null, 20)');
    const deepCursor = await pageCursor(env.appUrl, heavy, 25);
    const deep = await latencies(env.appUrl, heavy, opts.samples,
      `select * from public.my_conversations(${literal(deepCursor)}, 20)`);
    // Profiled pass (pg_stat_statements track = all), after the timed calls it describes and
    // before the worst case below changes the read pointers; profiling slows what it watches.
    // latencies() warms up with 20 requests before its 50: per-call figures divide by all 70.
    opts.log('chat bench: profiled my_conversations pass (not timed)');
    const profiler = await createProfiler(admin);
    const inboxProfile = await profiler.profile('my_conversations first page (1,000 conversations, 1M messages)', 70, [], async () => {
      await latencies(env.appUrl, heavy, 50, 'select * from public.my_conversations(null, 20)');
    });
    await admin.query('update public.conversation_members set last_read_seq = 0 where user_id = $1', [heavy.id]);
    const allUnread = await latencies(env.appUrl, heavy, opts.samples, 'select * from public.my_conversations(null, 20)');

    opts.log('chat bench: profiled send_message pass (not timed)');
    const sendProfile = await profiler.profile('send_message (8 connections, RLS)', opts.workers * 100, [], async () => {
      await throughput(env.appUrl, rpcSet, opts.workers, 100, 'rpc');
    });

    const floorP95 = percentile(floor, 95);
    const withSlowest = (r: BenchRow, profile: PathProfile): BenchRow => {
      const slowest = slowestLine(profile);
      return slowest === undefined ? r : { ...r, slowest };
    };
    const rows = [
      withSlowest(row('send_message throughput (RLS, as users)', rpc, 'msg/s', 'bare INSERT into messages', bare, '≥ 0.4× bare insert',
          rpc / bare >= 0.4), sendProfile),
      withSlowest(row('my_conversations p95, first page (1,000 conversations, 1M messages)', percentile(first, 95), 'ms',
          'primary-key read p95', floorP95, '≤ 5 ms', percentile(first, 95) <= 5), inboxProfile),
      row('my_conversations p50, first page', percentile(first, 50), 'ms', 'primary-key read p50', percentile(floor, 50), '—', true),
      row('my_conversations p95, page 25 (by cursor)', percentile(deep, 95), 'ms', 'primary-key read p95', floorP95, '≤ 5 ms',
          percentile(deep, 95) <= 5),
      row('my_conversations p95, every conversation 1,000 unread (worst case)', percentile(allUnread, 95), 'ms',
          'primary-key read p95', floorP95, 'informative', true),
    ];
    return { rows, profiles: [sendProfile, inboxProfile] };
  } finally {
    await admin.end();
  }
}

function row(name: string, value: number, unit: string, baseline: string, baselineValue: number, goal: string, met: boolean): BenchRow {
  return { name, value, unit, baseline, baselineValue, ratio: value / baselineValue, goal, met };
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

interface Sender {
  id: string;
  conversationId: string;
  claims: string;
}

const claimsFor = (id: string): string =>
  JSON.stringify({
    aud: 'authenticated', role: 'authenticated', sub: id, email: `${id}@bench.test`, phone: '',
    app_metadata: { provider: 'email', providers: ['email'] }, user_metadata: {}, aal: 'aal1', is_anonymous: false,
    user_role: 'guest', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600,
  });

/**
 * `pairs` direct conversations between fresh users; both users of a pair send into it. Users and
 * profiles are bulk-loaded with triggers off (the sign-up trigger validates time zones against
 * pg_timezone_names, ~50 ms a user); conversations and members are plain rows.
 */
async function createPairs(admin: pg.Client, prefix: string, pairs: number): Promise<Sender[]> {
  await admin.query('begin');
  await admin.query('set local session_replication_role = replica');
  const { rows } = await admin.query<{ id: string; conversation_id: string }>(
    `with users as (
       insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                               raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
       select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
              $1 || '_' || n || '@bench.test', '', now(), '{"provider":"email","providers":["email"]}',
              jsonb_build_object('username', $1 || '_' || n), now(), now()
         from generate_series(1, $2 * 2) n
       returning id, (raw_user_meta_data ->> 'username') as username
     ), profiles as (
       insert into public.profiles (id, username, display_name)
       select id, username, initcap(replace(username, '_', ' ')) from users
       returning id, username
     ), numbered as (
       select id, (split_part(username, '_', 2))::int as n from profiles
     ), paired as (
       select a.id as a, b.id as b from numbered a join numbered b on b.n = a.n + 1 where a.n % 2 = 1
     ), convs as (
       insert into public.conversations (kind, created_by, direct_user_low, direct_user_high)
       select 'direct', a, least(a, b), greatest(a, b) from paired
       returning id, direct_user_low, direct_user_high
     ), members as (
       insert into public.conversation_members (conversation_id, user_id)
       select id, direct_user_low from convs union all select id, direct_user_high from convs
       returning conversation_id, user_id
     )
     select user_id as id, conversation_id from members`,
    [prefix, pairs],
  );
  await admin.query('commit');
  return rows.map((r) => ({ id: r.id, conversationId: r.conversation_id, claims: claimsFor(r.id) }));
}

interface HeavyUser {
  id: string;
  claims: string;
}

/**
 * One user with 1,000 direct conversations of 1,000 messages each. Bulk-loaded with triggers
 * off (seq, timestamps and the conversation summary written directly, as the triggers would);
 * the 20 most recent conversations have unread messages, the rest are read.
 */
async function createHeavyUser(admin: pg.Client, partners: Sender[]): Promise<HeavyUser> {
  const partnerIds = [...new Set(partners.map((p) => p.id))].slice(0, HEAVY_CONVERSATIONS);
  await admin.query('begin');
  await admin.query('set local session_replication_role = replica');
  const { rows } = await admin.query<{ id: string }>(
    `with u as (
       insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                               raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
       values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
               'heavy@bench.test', '', now(), '{"provider":"email","providers":["email"]}', '{"username":"heavy_chatter"}', now(), now())
       returning id)
     insert into public.profiles (id, username, display_name) select id, 'heavy_chatter', 'Heavy Chatter' from u returning id`,
  );
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('could not create the heavy user');
  await admin.query(
    `create temp table heavy_convs on commit drop as
     select gen_random_uuid() as id, p.partner, p.ord,
            now() - make_interval(mins => (p.ord * 7)::int) as last_at
       from unnest($1::uuid[]) with ordinality as p(partner, ord)`,
    [partnerIds],
  );
  await admin.query(
    `insert into public.conversations (id, kind, created_by, direct_user_low, direct_user_high, last_seq, last_message_at,
                                       last_activity_at, created_at)
     select c.id, 'direct', $1, least($1::uuid, c.partner), greatest($1::uuid, c.partner), $2, c.last_at, c.last_at,
            c.last_at - interval '30 days'
       from heavy_convs c`,
    [id, MESSAGES_PER_CONVERSATION],
  );
  await admin.query(
    `insert into public.messages (conversation_id, seq, sender_id, kind, body, created_at)
     select c.id, s, case when s % 3 = 0 then $1::uuid else c.partner end, 'text',
            'Message number ' || s || ' in a long conversation about plans for the weekend',
            c.last_at - make_interval(mins => ($2 - s)::int)
       from heavy_convs c cross join generate_series(1, $2) s`,
    [id, MESSAGES_PER_CONVERSATION],
  );
  await admin.query(
    `insert into public.conversation_members (conversation_id, user_id, last_read_seq, last_read_at)
     select c.id, $1, case when c.ord <= 20 then $2 - (c.ord * 2) else $2 end, c.last_at from heavy_convs c
     union all
     select c.id, c.partner, $2, c.last_at from heavy_convs c`,
    [id, MESSAGES_PER_CONVERSATION],
  );
  await admin.query(
    `update public.conversation_members m set last_read_message_id = x.id
       from public.messages x where x.conversation_id = m.conversation_id and x.seq = m.last_read_seq and m.user_id = $1`,
    [id],
  );
  await admin.query('commit');
  await admin.query('vacuum analyze public.messages');
  await admin.query('vacuum analyze public.conversations');
  await admin.query('vacuum analyze public.conversation_members');
  return { id, claims: claimsFor(id) };
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** One PostgREST request in one round trip: the request context, the statement, commit. */
const asRequest = (claims: string, sql: string): string =>
  `begin; select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${literal(claims)}, true); ${sql}; commit;`;

/** Messages per second over `workers` connections, each sending `perWorker` messages. */
async function throughput(url: string, senders: Sender[], workers: number, perWorker: number, mode: 'rpc' | 'bare'): Promise<number> {
  const clients = await Promise.all(Array.from({ length: workers }, async () => {
    const client = new pg.Client({ connectionString: url, application_name: `bench-chat-${mode}` });
    await client.connect();
    return client;
  }));
  try {
    const runId = crypto.randomUUID().slice(0, 8);
    const started = performance.now();
    await Promise.all(clients.map(async (client, w) => {
      for (let i = 0; i < perWorker; i += 1) {
        const sender = senders[(w + i * workers) % senders.length];
        if (sender === undefined) throw new Error('no sender');
        const body = literal(`Bench message ${w}-${i}: see you at the park at seven`);
        const clientId = literal(`${mode}-${runId}-${w}-${i}`);
        const sql = mode === 'rpc'
          ? asRequest(sender.claims, `select id from public.send_message(${literal(sender.conversationId)}, 'text', ${body}, p_client_id => ${clientId})`)
          : `insert into public.messages (conversation_id, sender_id, kind, body, client_id) values (${literal(sender.conversationId)}, ${literal(sender.id)}, 'text', ${body}, ${clientId})`;
        await client.query(sql);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    return (workers * perWorker) / seconds;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** Milliseconds per request, measured at the client, one request at a time. */
async function latencies(url: string, user: HeavyUser, samples: number, sql: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-chat-latency' });
  await client.connect();
  try {
    const request = asRequest(user.claims, sql);
    for (let i = 0; i < 20; i += 1) await client.query(request);
    const times: number[] = [];
    for (let i = 0; i < samples; i += 1) {
      const started = performance.now();
      await client.query(request);
      times.push(performance.now() - started);
    }
    return times;
  } finally {
    await client.end();
  }
}

/** The cursor that opens page `page` (20 rows a page) of the user's list, found by paging. */
async function pageCursor(url: string, user: HeavyUser, page: number): Promise<string> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-chat-cursor' });
  await client.connect();
  try {
    let cursor: string | null = null;
    for (let p = 1; p < page; p += 1) {
      const sql: string = `select cursor from public.my_conversations(${cursor === null ? 'null' : literal(cursor)}, 20)`;
      const results = (await client.query(asRequest(user.claims, sql))) as unknown as pg.QueryResult[];
      const page = results.find((r) => r.fields.some((f) => f.name === 'cursor'));
      const last = page?.rows.at(-1) as { cursor?: string } | undefined;
      if (last?.cursor === undefined) throw new Error(`the list ends before page ${p + 1}`);
      cursor = last.cursor;
    }
    if (cursor === null) throw new Error('page must be at least 2');
    return cursor;
  } finally {
    await client.end();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export function formatRows(rows: BenchRow[]): string {
  const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
  return rows
    .map((r) => `${r.met ? 'ok  ' : 'MISS'} ${r.name}: ${fmt(r.value)} ${r.unit} | baseline ${r.baseline}: ${fmt(r.baselineValue)} ${r.unit} | ratio ${r.ratio.toFixed(2)}× | goal ${r.goal}`)
    .join('\n');
}

async function main(): Promise<number> {
  const { withThrowawayDb } = await import('../scripts/lib/throwaway.ts');
  const { logLine } = await import('../scripts/lib/cli.ts');
  const { rows, profiles } = await withThrowawayDb({ testHelpers: false, log: logLine }, (db) =>
    chatBench({ appUrl: db.appUrl, adminUrl: db.adminUrl }, { log: logLine }));
  process.stdout.write(`\n${formatRows(rows)}\n`);
  const ms = (n: number): string => `${n.toFixed(2)} ms`;
  const issueRows: PathRow[] = rows.filter((r) => r.goal !== '—' && !r.goal.startsWith('informative')).map((r) => r.unit === 'ms'
    ? { path: `\`${r.name}\``, rally: ms(r.value), baseline: `${r.baseline} ${ms(r.baselineValue)}`, ratio: null, goal: r.goal, met: r.met,
        ...(r.slowest === undefined ? {} : { slowest: r.slowest }) }
    : { path: `\`${r.name}\``, rally: `${Math.round(r.value)} ${r.unit}`, baseline: `${r.baseline} ${Math.round(r.baselineValue)} ${r.unit}`, ratio: r.ratio, goal: r.goal, met: r.met,
        ...(r.slowest === undefined ? {} : { slowest: r.slowest }) });
  // Speed goals are reported, never fatal: chat checks no invariant beyond every call answering.
  return printReport({ bench: 'chat', rows: issueRows, invariants: [], extra: { rows } }, profiles);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then((code) => { process.exitCode = code; }, (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
