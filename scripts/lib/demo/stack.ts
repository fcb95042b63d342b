/**
 * Where the demo finds the running local stack (`npm start`): the database as `postgres` (what
 * edge functions and PostgREST use) and as `supabase_admin` (what GoTrue does behind its API),
 * the functions gateway, the Stripe stand-in, and the API keys. `findRunningStack()` checks each
 * one answers and otherwise fails with a `StackNotRunning` that says "run npm start first".
 */
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { ADMIN_ROLE, APP_ROLE, STACK_LOCK_FILE, dbUrl, devDbPort, functionsPort } from '../config.ts';
import { apiKeys } from '../keys.ts';
import { isAlive } from '../lock.ts';
import { STANDIN_DEFAULT_PORT } from '../../../tools/stripe-standin/config.ts';

export interface DemoStack {
  /** role `postgres`, as PostgREST and edge functions connect */
  dbUrl: string;
  /** superuser `supabase_admin`, as GoTrue and the platform's jobs act behind the API */
  adminDbUrl: string;
  /** `http://127.0.0.1:<port>/functions/v1` */
  functionsUrl: string;
  /** the Stripe stand-in's base URL (never the real Stripe) */
  stripeUrl: string;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
}

export class StackNotRunning extends Error {
  constructor(what: string) {
    super(`The local Rally stack is not running or not ready yet (${what}): run npm start first, then npm run demo in another terminal.`);
    this.name = 'StackNotRunning';
  }
}

const PROBE_TIMEOUT_MS = 3_000;

/** The stack `npm start` runs with this environment (RALLY_DB_PORT, RALLY_FUNCTIONS_PORT, STRIPE_STANDIN_PORT). */
export async function findRunningStack(): Promise<DemoStack> {
  if (process.env.STRIPE_SECRET_KEY) {
    throw new StackNotRunning('STRIPE_SECRET_KEY is set, so npm start talks to the real Stripe; the demo only runs against the Stripe stand-in');
  }
  if (!existsSync(STACK_LOCK_FILE) || !isAlive(Number(readFileSync(STACK_LOCK_FILE, 'utf8').trim()))) {
    throw new StackNotRunning(`no live npm start process (lock ${STACK_LOCK_FILE})`);
  }
  const keys = await apiKeys();
  const stack: DemoStack = {
    dbUrl: dbUrl(APP_ROLE, devDbPort()),
    adminDbUrl: dbUrl(ADMIN_ROLE, devDbPort()),
    functionsUrl: `http://127.0.0.1:${functionsPort()}/functions/v1`,
    stripeUrl: `http://127.0.0.1:${Number(process.env.STRIPE_STANDIN_PORT ?? STANDIN_DEFAULT_PORT)}`,
    ...keys,
  };
  await assertStackAnswers(stack);
  return stack;
}

/** Every piece the story uses must answer; the first that does not is named. */
export async function assertStackAnswers(stack: DemoStack): Promise<void> {
  const client = new pg.Client({ connectionString: stack.dbUrl, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new StackNotRunning(`database at ${redact(stack.dbUrl)} does not answer: ${messageOf(error)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  await probe(`${stack.functionsUrl}/health`, 'edge functions gateway');
  const standin = await probe(`${stack.stripeUrl}/_standin/health`, 'Stripe stand-in');
  if (standin.headers.get('stripe-standin') !== 'true') {
    throw new StackNotRunning(`${stack.stripeUrl} answers but is not the Stripe stand-in`);
  }
}

async function probe(url: string, what: string): Promise<Response> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res;
  } catch (error) {
    throw new StackNotRunning(`${what} at ${url} does not answer: ${messageOf(error)}`);
  }
}

function redact(url: string): string {
  return url.replace(/:\/\/([^:]+):[^@]*@/, '://$1:***@');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
