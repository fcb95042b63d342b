/**
 * Which stack the demo talks to, and whether the stack that answers is that one.
 *
 * The demo is pointed at a stack with the values `npm start`'s status block prints: the API URL,
 * the anon and service_role keys (or the JWT secret they are minted from), the DB URL, and the
 * Stripe stand-in. Unset, each comes from the same environment `npm start` reads, so with both
 * started in the same shell the demo finds the stack on its own.
 *
 * `checkStack()` only reads: it refuses (nothing written) when no stack answers
 * (`StackNotRunning`) or when what answers is not the stack the demo was pointed at
 * (`StackMismatch`): keys not signed with the JWT secret, an API that refuses the keys, a
 * database whose newest users are not users of the API's Auth, a Stripe stand-in that delivers
 * its webhooks to another stack.
 */
import { jwtVerify, decodeJwt } from 'jose';
import pg from 'pg';
import { createClient } from '@supabase/supabase-js';
import { APP_ROLE, dbUrl, devDbPort, functionsPort, jwtSecret } from '../config.ts';
import { mintApiKey } from '../keys.ts';
import { STANDIN_DEFAULT_PORT } from '../../../tools/stripe-standin/config.ts';

export interface DemoStack {
  /** The API URL apps use (status block: "API URL"). */
  apiUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  /** The project's JWT secret: the demo only checks that the keys were signed with it. */
  jwtSecret: string;
  /** The database as `postgres` (status block: "DB URL"), for operator steps, as Studio's SQL editor connects. */
  dbUrl: string;
  /** The Stripe stand-in's base URL (never the real Stripe). */
  stripeUrl: string;
}

/** Where each value came from, for the messages that refuse a stack. */
export type DemoStackSources = Record<keyof DemoStack, string>;

export interface DemoTarget {
  stack: DemoStack;
  sources: DemoStackSources;
}

/** No stack answers (or not all of it): run `npm start` first. */
export class StackNotRunning extends Error {
  constructor(what: string) {
    super(`The local Rally stack is not running or not ready yet (${what}): run npm start first, then npm run demo in another terminal.`);
    this.name = 'StackNotRunning';
  }
}

/** A stack answers, but it is not the one the demo was pointed at. */
export class StackMismatch extends Error {
  constructor(what: string) {
    super(`The stack that answers is not the one the demo was pointed at: ${what}. Nothing was written. ` +
      'Run the demo with the values the stack\'s status block prints (SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY ' +
      'or SUPABASE_JWT_SECRET, SUPABASE_DB_URL, STRIPE_STANDIN_PORT), or from the shell that runs npm start.');
    this.name = 'StackMismatch';
  }
}

const PROBE_TIMEOUT_MS = 3_000;
/** How many of the database's newest users are looked up in the API's Auth. */
const USERS_COMPARED = 5;
const CHECK_AUTH = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

/** The stack the environment points at: explicit values first, else what `npm start` would use. */
export async function demoTarget(): Promise<DemoTarget> {
  const env = process.env;
  const secret = jwtSecret();
  const secretSource = env.SUPABASE_JWT_SECRET ? 'SUPABASE_JWT_SECRET' : 'the default local JWT secret';
  const stripePort = Number(env.STRIPE_STANDIN_PORT || STANDIN_DEFAULT_PORT);
  const stack: DemoStack = {
    apiUrl: (env.SUPABASE_URL || `http://127.0.0.1:${functionsPort()}`).replace(/\/+$/, ''),
    anonKey: env.SUPABASE_ANON_KEY || await mintApiKey('anon', secret),
    serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY || await mintApiKey('service_role', secret),
    jwtSecret: secret,
    dbUrl: env.SUPABASE_DB_URL || dbUrl(APP_ROLE, devDbPort()),
    stripeUrl: `http://127.0.0.1:${stripePort}`,
  };
  const sources: DemoStackSources = {
    apiUrl: env.SUPABASE_URL ? 'SUPABASE_URL' : env.RALLY_FUNCTIONS_PORT ? 'RALLY_FUNCTIONS_PORT' : 'the default port 54321',
    anonKey: env.SUPABASE_ANON_KEY ? 'SUPABASE_ANON_KEY' : `minted from ${secretSource}`,
    serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY ? 'SUPABASE_SERVICE_ROLE_KEY' : `minted from ${secretSource}`,
    jwtSecret: secretSource,
    dbUrl: env.SUPABASE_DB_URL ? 'SUPABASE_DB_URL' : env.RALLY_DB_PORT ? 'RALLY_DB_PORT' : 'the default port 54330',
    stripeUrl: env.STRIPE_STANDIN_PORT ? 'STRIPE_STANDIN_PORT' : `the default port ${STANDIN_DEFAULT_PORT}`,
  };
  return { stack, sources };
}

/** The same sources for a stack handed over whole (tests). */
export function givenSources(): DemoStackSources {
  return { apiUrl: 'given', anonKey: 'given', serviceRoleKey: 'given', jwtSecret: 'given', dbUrl: 'given', stripeUrl: 'given' };
}

/**
 * Every piece the story uses answers, and belongs to the stack the demo was pointed at. Reads
 * only; the first problem is thrown.
 */
export async function checkStack(stack: DemoStack, sources: DemoStackSources = givenSources()): Promise<void> {
  if (process.env.STRIPE_SECRET_KEY) {
    throw new StackNotRunning('STRIPE_SECRET_KEY is set, so npm start talks to the real Stripe; the demo only runs against the Stripe stand-in');
  }
  await checkApiAnswers(stack, sources);
  await checkKeysSignedWithSecret(stack, sources);
  await checkApiAcceptsKeys(stack, sources);
  await checkDatabaseIsTheApis(stack, sources);
  await checkStripeStandin(stack, sources);
}

async function checkApiAnswers(stack: DemoStack, sources: DemoStackSources): Promise<void> {
  const url = `${stack.apiUrl}/functions/v1/health`;
  let answer: Probed;
  try {
    answer = await probe(url);
  } catch (error) {
    throw new StackNotRunning(`the API at ${stack.apiUrl} (${sources.apiUrl}) does not answer: ${messageOf(error)}`);
  }
  const body = parseJson(answer.text);
  if (answer.status !== 200 || body?.status !== 'ok') {
    throw new StackMismatch(`${stack.apiUrl} (${sources.apiUrl}) answers, but not as a Rally API (GET /functions/v1/health → ${answer.status})`);
  }
}

async function checkKeysSignedWithSecret(stack: DemoStack, sources: DemoStackSources): Promise<void> {
  const secret = new TextEncoder().encode(stack.jwtSecret);
  for (const [key, role, label] of [[stack.anonKey, 'anon', 'anonKey'], [stack.serviceRoleKey, 'service_role', 'serviceRoleKey']] as const) {
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(key);
    } catch {
      throw new StackMismatch(`the ${role} key (${sources[label]}) is not a JWT`);
    }
    if (claims.role !== role) throw new StackMismatch(`the ${role} key (${sources[label]}) carries role ${JSON.stringify(claims.role)}, not ${role}`);
    try {
      await jwtVerify(key, secret);
    } catch {
      throw new StackMismatch(`the ${role} key (${sources[label]}) is not signed with the JWT secret (${sources.jwtSecret})`);
    }
  }
}

/** The gateway takes both keys, and the Data API verifies the service role's JWT with the stack's secret. */
async function checkApiAcceptsKeys(stack: DemoStack, sources: DemoStackSources): Promise<void> {
  for (const [key, role, label] of [[stack.anonKey, 'anon', 'anonKey'], [stack.serviceRoleKey, 'service_role', 'serviceRoleKey']] as const) {
    const read = await createClient(stack.apiUrl, key, CHECK_AUTH).from('currencies').select('code').limit(1);
    if (read.error !== null) {
      throw new StackMismatch(`the API at ${stack.apiUrl} refuses the ${role} key (${sources[label]}): ${read.status} ${read.error.message}`);
    }
  }
}

/**
 * The database is the one behind the API: its newest users are users of the API's Auth
 * (`auth.admin.getUserById`), created at the same instant. Another stack with the same seed has
 * the same ids, never the same times.
 */
async function checkDatabaseIsTheApis(stack: DemoStack, sources: DemoStackSources): Promise<void> {
  const where = `the database at ${redact(stack.dbUrl)} (${sources.dbUrl})`;
  const client = new pg.Client({ connectionString: stack.dbUrl, connectionTimeoutMillis: PROBE_TIMEOUT_MS, application_name: 'rally-demo-check' });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new StackMismatch(`${where} does not answer (${messageOf(error)}), but the API at ${stack.apiUrl} does, so it is not that stack's database`);
  }
  let rows: { id: string; created_ms: string }[];
  try {
    // Deleted accounts are left out: their rows are scrubbed and their ban never ends.
    ({ rows } = await client.query<{ id: string; created_ms: string }>(
      `select id::text, floor(extract(epoch from created_at) * 1000)::bigint::text as created_ms
         from auth.users where deleted_at is null and created_at is not null order by created_at desc, id limit $1`, [USERS_COMPARED]));
  } catch (error) {
    throw new StackMismatch(`${where} is not a Supabase database (${messageOf(error)})`);
  } finally {
    await client.end().catch(() => undefined);
  }
  if (rows.length === 0) throw new StackMismatch(`${where} has no users, so it cannot be matched to the API at ${stack.apiUrl}`);
  const service = createClient(stack.apiUrl, stack.serviceRoleKey, CHECK_AUTH);
  let strangers = 0;
  for (const row of rows) {
    const { data, error } = await service.auth.admin.getUserById(row.id);
    if (error !== null || data.user === null || Date.parse(data.user.created_at) !== Number(row.created_ms)) strangers += 1;
  }
  if (strangers > 0) {
    throw new StackMismatch(`${where} is not the one the API at ${stack.apiUrl} serves: ${strangers} of its ${rows.length} newest users ` +
      'are not users of the API\'s Auth, or were created there at another time (another stack with the same seed?)');
  }
}

async function checkStripeStandin(stack: DemoStack, sources: DemoStackSources): Promise<void> {
  let answer: Probed;
  try {
    answer = await probe(`${stack.stripeUrl}/_standin/health`);
  } catch (error) {
    // The API answers, so the stack is up: its Stripe is elsewhere (another port, or the real Stripe).
    throw new StackMismatch(`the Stripe stand-in at ${stack.stripeUrl} (${sources.stripeUrl}) does not answer (${messageOf(error)}), but the API at ${stack.apiUrl} does; ` +
      'the demo runs only against the stack\'s own Stripe stand-in');
  }
  const body = parseJson(answer.text);
  if (answer.status !== 200 || answer.headers.get('stripe-standin') !== 'true' || body === undefined) {
    throw new StackMismatch(`${stack.stripeUrl} (${sources.stripeUrl}) answers but is not the Stripe stand-in`);
  }
  const webhooks = body.webhooks as { platform?: string | null } | undefined;
  const expected = `${stack.apiUrl}/functions/v1/stripe-webhook`;
  const target = webhooks?.platform ?? null;
  if (target === null || !sameEndpoint(target, expected)) {
    throw new StackMismatch(`the Stripe stand-in at ${stack.stripeUrl} (${sources.stripeUrl}) delivers its webhooks to ${target ?? 'nowhere'}, not to ${expected}`);
  }
}

/** Same scheme, port and path, and the same host once the loopback names are folded. */
export function sameEndpoint(a: string, b: string): boolean {
  const norm = (text: string): string => {
    const url = new URL(text);
    const host = ['localhost', '[::1]', '::1'].includes(url.hostname) ? '127.0.0.1' : url.hostname;
    return `${url.protocol}//${host}:${url.port || (url.protocol === 'https:' ? '443' : '80')}${url.pathname.replace(/\/+$/, '')}`;
  };
  return norm(a) === norm(b);
}

interface Probed {
  status: number;
  headers: Headers;
  text: string;
}

async function probe(url: string): Promise<Probed> {
  const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function redact(url: string): string {
  return url.replace(/:\/\/([^:]+):[^@]*@/, '://$1:***@');
}

function messageOf(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return `${error.message} (${error.cause.message})`;
  return error instanceof Error ? error.message : String(error);
}
