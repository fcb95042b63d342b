/**
 * `npm run demo` cannot rot: the same story (scripts/lib/demo/story.ts) runs here through
 * supabase-js against the API stack `npm start` serves (the gateway with the Auth, Data API,
 * Realtime and Storage stand-ins and the edge functions under Deno) on the test cluster, and the
 * Stripe stand-in, each on a free port and wired as `npm start` wires them. The demo's refusals
 * are checked too: no stack, and a stack that is not the one it was pointed at (keys, JWT secret,
 * database, Stripe stand-in), with nothing written.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports.ts';
import { startApiStack, type ApiStack } from '../../scripts/lib/api-stack.ts';
import { apiKeys, mintApiKey } from '../../scripts/lib/keys.ts';
import { checkStack, type DemoStack, sameEndpoint, StackMismatch, StackNotRunning } from '../../scripts/lib/demo/stack.ts';
import { runDemo, type DemoResult } from '../../scripts/lib/demo/story.ts';
import { money, summaryLines } from '../../scripts/lib/demo/report.ts';
import { startStripeStandin, type StripeStandin } from '../../tools/stripe-standin/server.ts';
import { STANDIN_CONNECT_WEBHOOK_SECRET, STANDIN_WEBHOOK_SECRET } from '../../tools/stripe-standin/config.ts';
import { envOverride, testEnv } from '../support/env.ts';
import { adminQuery, closeTestPools, ownerQuery } from '../support/db.ts';
import { createUser } from '../support/users.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsxCli = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const OTHER_SECRET = 'another-projects-jwt-secret-with-32-or-more-characters';
/** What a person's shell may hold that would point the demo elsewhere. */
const POINTERS = ['SUPABASE_URL', 'SUPABASE_ANON_KEY', 'SUPABASE_SERVICE_ROLE_KEY', 'SUPABASE_DB_URL', 'SUPABASE_JWT_SECRET',
  'STRIPE_SECRET_KEY', 'RALLY_DB_PORT', 'RALLY_FUNCTIONS_PORT', 'STRIPE_STANDIN_PORT'] as const;

let standin: StripeStandin;
let api: ApiStack;
let stack: DemoStack;
const env = envOverride();

async function releaseHoldHours(): Promise<number> {
  const { rows } = await ownerQuery<{ h: number }>('select release_hold_hours as h from private.payment_settings');
  return rows[0]?.h ?? Number.NaN;
}

async function writtenRows(): Promise<string> {
  const { rows } = await ownerQuery<{ n: string }>(
    `select (select count(*) from auth.users) || '/' || (select count(*) from auth.sessions) || '/' || (select count(*) from public.profiles) as n`);
  return rows[0]?.n ?? '';
}

/**
 * The demo's command line with only the given pointers in its environment. Asynchronous: the
 * API stack it talks to runs in this process.
 */
function demoCli(env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const clean = { ...process.env };
  for (const name of POINTERS) delete clean[name];
  const child = spawn(process.execPath, [tsxCli, 'scripts/demo.ts'], { cwd: repoRoot, env: { ...clean, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

beforeAll(async () => {
  const keys = await apiKeys();
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  standin = await startStripeStandin({
    port: 0, retryDelaysMs: [100, 500, 2000],
    platformWebhook: { url: `${apiUrl}/functions/v1/stripe-webhook`, secret: STANDIN_WEBHOOK_SECRET },
    connectWebhook: { url: `${apiUrl}/functions/v1/stripe-webhook/connect`, secret: STANDIN_CONNECT_WEBHOOK_SECRET },
  });
  // Realtime answers a refused join after a back-off (5 s on the platform); the story shows two.
  env.set({ RALLY_REALTIME_ERROR_BACKOFF_MS: '100' });
  api = await startApiStack({
    dbUrl: testEnv('SUPABASE_DB_URL'), port, keys, log: () => undefined,
    functionsEnv: { STRIPE_API_BASE: standin.url, STRIPE_WEBHOOK_SECRET: STANDIN_WEBHOOK_SECRET, STRIPE_CONNECT_WEBHOOK_SECRET: STANDIN_CONNECT_WEBHOOK_SECRET },
  });
  stack = { apiUrl: api.url, ...keys, dbUrl: testEnv('SUPABASE_DB_URL'), stripeUrl: standin.url };
}, 120_000);

afterAll(async () => {
  await api?.close();
  await standin?.close();
  await closeTestPools();
  env.restore();
});

describe('npm run demo', () => {
  let result: DemoResult;
  const printed: string[] = [];
  let holdBefore: number;

  it('accepts the stack it is pointed at, deleted accounts and all', async () => {
    await expect(checkStack(stack)).resolves.toBeUndefined();
    // Account deletion scrubs the auth.users row and bans it for a hundred years; the newest such
    // row must not make the stack look like another one.
    const gone = await createUser();
    await ownerQuery(`update auth.users set deleted_at = now(), banned_until = now() + interval '100 years', created_at = now() + interval '1 minute' where id = $1`, [gone.id]);
    await expect(checkStack(stack)).resolves.toBeUndefined();
  });

  it('walks the whole story through supabase-js and every step happens as expected', async () => {
    holdBefore = await releaseHoldHours();
    result = await runDemo(stack, { log: (line) => printed.push(line), startsInSeconds: 20, lengthSeconds: 2 });
    const failed = result.steps.filter((s) => !s.ok).map((s) => `${s.n}. ${s.title}: ${s.detail}`);
    expect(failed, printed.join('\n')).toEqual([]);
    expect(result.ok, result.failure).toBe(true);
    expect(result.steps.length).toBeGreaterThanOrEqual(25);
  }, 180_000);

  it('leaves the host with the money the story moved: €45 earned, €30 paid out, the dispute and its fee taken from pending', () => {
    expect(result.hostWallet).toEqual({ pending: -1500, available: 1500, in_transit: 0, paid_out: 3000 });
    // The platform kept its 10 % fee of the paid booking (the disputed one's fee went back into the dispute).
    expect(result.platformDelta?.platform_fees).toBe(-500);
  });

  it('says at each step which client call it makes, and names what goes around the client', () => {
    const text = printed.join('\n');
    for (const call of ['supabase.auth.signUp', "storage.from('avatars').upload", "rpc('become_host')", 'auth.refreshSession()',
      "functions.invoke('connect-onboarding')", "from('events').insert", "channel('user:<id>', { config: { private: true } })",
      "rpc('search_events', { p_query }, { get: true })", "functions.invoke('checkout', { body: { booking_id } })",
      "storage.from('chat-media')", "rpc('check_in')", "from('reviews').insert", "rpc('request_payout')",
      "rpc('admin_dashboard', { p_view: 'open_disputes' })"]) {
      expect(text).toContain(call);
    }
    expect(text).toContain('Operator step (the service role key');
    expect(text).toContain('operator step: pg_cron job rally-process-promotion-queue run now');
    expect(text).toContain('Stripe acting (the PaymentIntent confirmed with stripe-node');
    expect(text).toContain('operator check in SQL');
    expect(text).toMatch(/Realtime: notification_created on user:/);
    expect(text).toMatch(/Realtime: Unauthorized: You do not have permissions to read from this Channel topic: conversation:/);
    expect(text).toMatch(/pending €45\.00 · available €0\.00/);
    expect(text).toMatch(/available €15\.00 · in transit €0\.00 · paid out €30\.00/);
    // The invite-only next event: an invitation by name, an invite link and a promo code.
    expect(text).toContain("rpc('invite_to_event')");
    expect(text).toMatch(/priya_\w+'s app: ".+ invited you to Rooftop jazz \w+ II"/);
    expect(text).toMatch(/sam_\w+ followed it, used 1 of 10/);
    expect(text).toContain('list €25.00, discount €2.50, to pay €22.50');
    expect(text).toMatch(/PaymentIntent \S+ for €22\.50/);
    expect(text).toContain(`demo: all ${result.steps.length} steps happened as expected`);
  });

  it('puts the release hold back: nobody else ever runs with the shortened hold', async () => {
    expect(await releaseHoldHours()).toBe(holdBefore);
  });

  it('signs everyone up through Auth under names of this run, so running it again does not collide', async () => {
    expect(result.run).toMatch(/^[0-9a-f]{6}$/);
    const { rows } = await ownerQuery<{ username: string; hashed: boolean; sessions: number; admin: boolean }>(
      `select p.username, u.encrypted_password like '$2%' as hashed,
              (select count(*)::int from auth.sessions s where s.user_id = u.id) as sessions,
              coalesce(u.raw_app_meta_data ->> 'role' = 'admin', false) as admin
         from public.profiles p join auth.users u on u.id = p.id where p.username = any($1) order by p.username`,
      [[`maya_${result.run}`, `ops_${result.run}`, `priya_${result.run}`, `sam_${result.run}`]]);
    expect(rows.map((r) => r.username)).toEqual([`maya_${result.run}`, `ops_${result.run}`, `priya_${result.run}`, `sam_${result.run}`]);
    // Real passwords and sessions: they went through the Auth service, not around it.
    expect(rows.every((r) => r.hashed && r.sessions >= 1)).toBe(true);
    expect(rows.filter((r) => r.admin).map((r) => r.username)).toEqual([`ops_${result.run}`]);
  });
});

describe('when no stack answers', () => {
  it('refuses clearly and says to run npm start first', async () => {
    const closed = await freePort();
    await expect(checkStack({ ...stack, apiUrl: `http://127.0.0.1:${closed}` })).rejects.toThrow(StackNotRunning);
    await expect(checkStack({ ...stack, apiUrl: `http://127.0.0.1:${closed}` })).rejects.toThrow(/run npm start first/);
  });

  it('npm run demo exits 2 with "run npm start first"', async () => {
    const closed = String(await freePort());
    const run = await demoCli({ RALLY_DB_PORT: closed, RALLY_FUNCTIONS_PORT: closed, STRIPE_STANDIN_PORT: closed });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('run npm start first');
    expect(run.stdout).toBe('');
  }, 60_000);
});

describe('when the stack that answers is not the one the demo was pointed at', () => {
  it('npm run demo refuses keys minted from another JWT secret, exits 2 and writes nothing', async () => {
    const before = await writtenRows();
    const run = await demoCli({
      SUPABASE_URL: stack.apiUrl, SUPABASE_JWT_SECRET: OTHER_SECRET, SUPABASE_DB_URL: stack.dbUrl, STRIPE_STANDIN_PORT: String(standin.port),
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`the API at ${stack.apiUrl} refuses the anon key (minted from SUPABASE_JWT_SECRET): 401 Invalid authentication credentials`);
    expect(run.stderr).toContain('Nothing was written');
    expect(run.stdout).toBe('');
    expect(await writtenRows()).toBe(before);
  }, 60_000);

  it('takes the status block\'s values from the environment (SUPABASE_URL, keys, JWT secret, SUPABASE_DB_URL, STRIPE_STANDIN_PORT), and that stack passes every check', async () => {
    const { demoTarget } = await import('../../scripts/lib/demo/stack.ts');
    const pointers = envOverride();
    try {
      pointers.set(Object.fromEntries(POINTERS.map((name) => [name, undefined])));
      pointers.set({ SUPABASE_URL: stack.apiUrl, SUPABASE_ANON_KEY: stack.anonKey, SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
        SUPABASE_JWT_SECRET: stack.jwtSecret, SUPABASE_DB_URL: stack.dbUrl, STRIPE_STANDIN_PORT: String(standin.port) });
      const target = await demoTarget();
      expect(target.stack).toEqual(stack);
      await expect(checkStack(target.stack, target.sources)).resolves.toBeUndefined();
    } finally {
      pointers.restore();
    }
  });

  it('refuses keys that are not signed with the JWT secret it was given', async () => {
    await expect(checkStack({ ...stack, jwtSecret: OTHER_SECRET })).rejects.toThrow(/the anon key \(given\) is not signed with the JWT secret/);
    const swapped = { ...stack, anonKey: stack.serviceRoleKey };
    await expect(checkStack(swapped)).rejects.toThrow(/the anon key \(given\) carries role "service_role", not anon/);
  });

  it('refuses an API that does not take its keys', async () => {
    const foreign = { ...stack, jwtSecret: OTHER_SECRET, anonKey: await mintApiKey('anon', OTHER_SECRET), serviceRoleKey: await mintApiKey('service_role', OTHER_SECRET) };
    await expect(checkStack(foreign)).rejects.toThrow(StackMismatch);
    await expect(checkStack(foreign)).rejects.toThrow(/refuses the anon key \(given\): 401 Invalid authentication credentials/);
  });

  it('refuses an address that answers but is not a Rally API', async () => {
    await expect(checkStack({ ...stack, apiUrl: standin.url })).rejects.toThrow(/answers, but not as a Rally API/);
  });

  describe('a database that is not the API\'s', () => {
    const name = `demo_other_stack_${process.pid}`;
    let otherUrl: string;

    // This plays another project's platform (its superuser builds the other database's auth schema).
    beforeAll(async () => {
      await adminQuery(`drop database if exists ${name} with (force)`);
      await adminQuery(`create database ${name}`);
      const url = new URL(stack.dbUrl);
      url.pathname = `/${name}`;
      otherUrl = url.toString();
    });

    afterAll(async () => {
      await adminQuery(`drop database if exists ${name} with (force)`);
    });

    it('refuses one that is not a Supabase database, and one with the same users created at other times (another stack, same seed)', async () => {
      await expect(checkStack({ ...stack, dbUrl: otherUrl })).rejects.toThrow(/is not a Supabase database/);
      const admin = new URL(testEnv('RALLY_ADMIN_DB_URL'));
      admin.pathname = `/${name}`;
      const other = new pg.Client({ connectionString: admin.toString() });
      await other.connect();
      try {
        const { rows } = await adminQuery<{ id: string; created_at: Date }>('select id, created_at from auth.users where deleted_at is null');
        await other.query(`create schema auth; create table auth.users (id uuid primary key, created_at timestamptz, deleted_at timestamptz);
                           grant usage on schema auth to postgres; grant select on auth.users to postgres`);
        for (const row of rows) await other.query('insert into auth.users values ($1, $2::timestamptz - interval \'1 hour\')', [row.id, row.created_at]);
      } finally {
        await other.end();
      }
      await expect(checkStack({ ...stack, dbUrl: otherUrl })).rejects.toThrow(/is not the one the API at .* serves: 5 of its 5 newest users are not users of the API's Auth/);
    });

    it('refuses a database that does not answer while the API does', async () => {
      const url = new URL(stack.dbUrl);
      url.port = String(await freePort());
      await expect(checkStack({ ...stack, dbUrl: url.toString() })).rejects.toThrow(/does not answer .*, but the API at .* does, so it is not that stack's database/);
    });
  });

  it('refuses a Stripe stand-in that delivers its webhooks to another stack, or none that answers', async () => {
    const elsewhere = await startStripeStandin({ port: 0, platformWebhook: { url: 'http://127.0.0.1:1/functions/v1/stripe-webhook', secret: 'whsec_x' } });
    try {
      await expect(checkStack({ ...stack, stripeUrl: elsewhere.url })).rejects.toThrow(/delivers its webhooks to http:\/\/127\.0\.0\.1:1\/functions\/v1\/stripe-webhook, not to/);
    } finally {
      await elsewhere.close();
    }
    const closed = await freePort();
    await expect(checkStack({ ...stack, stripeUrl: `http://127.0.0.1:${closed}` })).rejects.toThrow(/the demo runs only against the stack's own Stripe stand-in/);
  });

  it('treats localhost and 127.0.0.1 as the same address', () => {
    expect(sameEndpoint('http://localhost:54321/functions/v1/stripe-webhook', 'http://127.0.0.1:54321/functions/v1/stripe-webhook')).toBe(true);
    expect(sameEndpoint('http://127.0.0.1:54321/functions/v1/stripe-webhook', 'http://127.0.0.1:54322/functions/v1/stripe-webhook')).toBe(false);
  });
});

describe('when a step does not happen', () => {
  it('stops there, marks it FAIL in the summary and reports the run as failed', async () => {
    const closed = await freePort();
    const printed: string[] = [];
    // Payments are confirmed at a Stripe that does not answer: the story must stop at that step.
    const result = await runDemo({ ...stack, stripeUrl: `http://127.0.0.1:${closed}` },
      { log: (line) => printed.push(line), startsInSeconds: 60, asyncTimeoutMs: 2_000 });
    expect(result.ok).toBe(false);
    const failed = result.steps.filter((s) => !s.ok);
    expect(failed.map((s) => s.title)).toEqual([expect.stringContaining('pays with pm_card_visa')]);
    expect(result.steps.at(-1)?.ok).toBe(false);
    expect(printed.join('\n')).toMatch(/FAIL +\d+\. \S+ pays with pm_card_visa/);
    expect(printed.at(-1)).toMatch(/^demo: stopped at step \d+ — /);
  }, 60_000);
});

describe('the summary', () => {
  it('names the step where the story stopped', () => {
    const lines = summaryLines([
      { n: 1, title: 'sign up', ok: true, detail: '', ms: 3 },
      { n: 2, title: 'pay', ok: false, detail: 'declined', ms: 5 },
    ], 'the PaymentIntent is requires_payment_method');
    expect(lines).toEqual(['ok   1. sign up (3 ms)', 'FAIL 2. pay (5 ms)', 'demo: stopped at step 2 — the PaymentIntent is requires_payment_method']);
    expect(money(-1500)).toBe('−€15.00');
  });
});
