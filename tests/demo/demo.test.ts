/**
 * `npm run demo` cannot rot: the same story (scripts/lib/demo/story.ts) runs here against the
 * test cluster, the real Deno functions gateway and the Stripe stand-in, each on a free port and
 * wired as `npm start` wires them (the stand-in delivers signed webhooks to the gateway's
 * stripe-webhook; the functions reach the stand-in through STRIPE_API_BASE).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports.ts';
import { startGateway, type Gateway } from '../../scripts/lib/gateway.ts';
import { apiKeys } from '../../scripts/lib/keys.ts';
import { assertStackAnswers, type DemoStack, StackNotRunning } from '../../scripts/lib/demo/stack.ts';
import { runDemo, type DemoResult } from '../../scripts/lib/demo/story.ts';
import { money, summaryLines } from '../../scripts/lib/demo/report.ts';
import { startStripeStandin, type StripeStandin } from '../../tools/stripe-standin/server.ts';
import { envOverride, testEnv } from '../support/env.ts';
import { ownerQuery, closeTestPools } from '../support/db.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsxCli = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const PLATFORM_SECRET = 'whsec_demo_test_platform';
const CONNECT_SECRET = 'whsec_demo_test_connect';

let standin: StripeStandin;
let gateway: Gateway;
let stack: DemoStack;
const env = envOverride();

async function releaseHoldHours(): Promise<number> {
  const { rows } = await ownerQuery<{ h: number }>('select release_hold_hours as h from private.payment_settings');
  return rows[0]?.h ?? Number.NaN;
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the gateway at ${url} never became healthy`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  standin = await startStripeStandin({ retryDelaysMs: [100, 500, 2000] });
  env.set({
    STRIPE_SECRET_KEY: undefined, STRIPE_API_BASE: standin.url, STRIPE_WEBHOOK_SECRET: PLATFORM_SECRET,
    STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
  });
  const keys = await apiKeys();
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  gateway = await startGateway({
    port, supabaseUrl: apiUrl, dbUrl: testEnv('SUPABASE_DB_URL'), anonKey: keys.anonKey, serviceRoleKey: keys.serviceRoleKey,
    jwtSecret: keys.jwtSecret,
  });
  const functionsUrl = `${apiUrl}/functions/v1`;
  standin.setWebhooks({ url: `${functionsUrl}/stripe-webhook`, secret: PLATFORM_SECRET },
    { url: `${functionsUrl}/stripe-webhook/connect`, secret: CONNECT_SECRET });
  await waitForHealth(`${functionsUrl}/health`);
  stack = {
    // The demo's sign-ups are its GoTrue stand-in (scripts/lib/demo/auth.ts), which plays the
    // platform: it connects as the superuser and acts as supabase_auth_admin.
    dbUrl: testEnv('SUPABASE_DB_URL'), adminDbUrl: testEnv('RALLY_ADMIN_DB_URL'), functionsUrl, stripeUrl: standin.url, ...keys,
  };
});

afterAll(async () => {
  await gateway?.stop();
  await standin?.close();
  await closeTestPools();
  env.restore();
});

describe('npm run demo', () => {
  let result: DemoResult;
  const printed: string[] = [];

  let holdBefore: number;

  it('walks the whole story and every step happens as expected', async () => {
    holdBefore = await releaseHoldHours();
    result = await runDemo(stack, { log: (line) => printed.push(line), startsInSeconds: 20, lengthSeconds: 2 });
    const failed = result.steps.filter((s) => !s.ok).map((s) => `${s.n}. ${s.title}: ${s.detail}`);
    expect(failed, printed.join('\n')).toEqual([]);
    expect(result.ok, result.failure).toBe(true);
    expect(result.steps.length).toBeGreaterThanOrEqual(20);
  }, 180_000);

  it('leaves the host with the money the story moved: €45 earned, €30 paid out, the dispute and its fee taken from pending', () => {
    expect(result.hostWallet).toEqual({ pending: -1500, available: 1500, in_transit: 0, paid_out: 3000 });
    // The platform kept its 10 % fee of the paid booking (the disputed one's fee went back into the dispute).
    expect(result.platformDelta?.platform_fees).toBe(-500);
  });

  it('prints who does what and the wallet balances at the key points, and ends with a summary', () => {
    const text = printed.join('\n');
    expect(text).toContain('GoTrue stand-in: user created directly in auth.users');
    expect(text).toContain('POST /functions/v1/checkout');
    expect(text).toMatch(/pending €45\.00 · available €0\.00/);
    expect(text).toMatch(/available €15\.00 · in transit €0\.00 · paid out €30\.00/);
    expect(text).toContain(`demo: all ${result.steps.length} steps happened as expected`);
  });

  it('puts the release hold back: nobody else ever runs with the shortened hold', async () => {
    expect(await releaseHoldHours()).toBe(holdBefore);
  });

  it('names everyone after the run, so running it again on the same database does not collide', async () => {
    expect(result.run).toMatch(/^[0-9a-f]{6}$/);
    const { rows } = await ownerQuery<{ username: string }>(
      'select username from public.profiles where username = any($1) order by username',
      [[`maya_${result.run}`, `priya_${result.run}`, `sam_${result.run}`]]);
    expect(rows.map((r) => r.username)).toEqual([`maya_${result.run}`, `priya_${result.run}`, `sam_${result.run}`]);
    expect(printed.join('\n')).toContain(`maya_${result.run} onboards with Stripe Connect`);
  });
});

describe('when the stack is not running', () => {
  it('refuses clearly and says to run npm start first', async () => {
    const closed = await freePort();
    const down: DemoStack = {
      ...stack, functionsUrl: `http://127.0.0.1:${closed}/functions/v1`, stripeUrl: `http://127.0.0.1:${closed}`,
    };
    await expect(assertStackAnswers(down)).rejects.toThrow(StackNotRunning);
    await expect(assertStackAnswers(down)).rejects.toThrow(/run npm start first/);
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

  it('npm run demo exits 2 with "run npm start first" when no stack answers', async () => {
    const closed = String(await freePort());
    const run = spawnSync(process.execPath, [tsxCli, 'scripts/demo.ts'], {
      cwd: repoRoot, encoding: 'utf8', timeout: 60_000,
      env: { ...process.env, RALLY_DB_PORT: closed, RALLY_FUNCTIONS_PORT: closed, STRIPE_STANDIN_PORT: closed },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('run npm start first');
    expect(run.stdout).toBe('');
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
