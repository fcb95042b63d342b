/**
 * `npm start`: the whole local stack without Docker — database (.rally/db), platform contract,
 * migrations, seed, edge functions (Deno gateway), the pg_net stand-in's worker that pg_cron's
 * jobs call the functions through — then a status block like
 * `supabase status`. Ctrl-C (SIGINT/SIGTERM) stops everything this process started.
 *
 *   tsx scripts/stack.ts start [--reset]
 */
import { RallyError } from './lib/errors.ts';
import { logLine, runMain } from './lib/cli.ts';
import { STACK_LOCK_FILE, functionsPort } from './lib/config.ts';
import { acquireLock, type Lock } from './lib/lock.ts';
import { applyDevDb, startDevCluster, stopDevDb, type DevDb } from './lib/dev-db.ts';
import { apiKeys, type ApiKeys } from './lib/keys.ts';
import { startApiStack, type ApiStack } from './lib/api-stack.ts';
import { startSchedules, storeScheduleSecrets, type ScheduleRunner } from './lib/schedules.ts';
import { startNetWorker, type NetWorker } from './lib/net-worker.ts';
import { formatStatus } from './lib/status.ts';
import { startStripeStandin, type StripeStandin } from '../tools/stripe-standin/server.ts';
import { STANDIN_CONNECT_WEBHOOK_SECRET, STANDIN_DEFAULT_PORT, STANDIN_WEBHOOK_SECRET, standinEnvOptions } from '../tools/stripe-standin/config.ts';

const USAGE = 'usage: tsx scripts/stack.ts start [--reset]';

interface Running {
  lock: Lock;
  db?: DevDb;
  api?: ApiStack;
  schedules?: ScheduleRunner;
  netWorker?: NetWorker;
  stripeStandin?: StripeStandin;
}

async function main(): Promise<number> {
  const [command, ...flags] = process.argv.slice(2);
  if (command !== 'start') throw new RallyError('USAGE', USAGE);
  const running: Running = { lock: acquireLock(STACK_LOCK_FILE, 'npm start') };
  const stop = waitForStopSignal();
  try {
    try {
      await bringUp(running, flags.includes('--reset'));
    } catch (error) {
      // Ctrl-C during start-up kills psql or the CLI; say so rather than blame the SQL.
      if (stop.received()) {
        logLine('interrupted during start-up');
        return 130;
      }
      throw error;
    }
    const stopRequested = stop.promise;
    const reason = await Promise.race([stopRequested, functionsExit(running.api)]);
    logLine(`\nstopping (${reason})…`);
    return reason.startsWith('edge functions') ? 1 : 0;
  } finally {
    await tearDown(running);
  }
}

async function bringUp(running: Running, reset: boolean): Promise<void> {
  running.db = await startDevCluster({ reset, log: logLine });
  await applyDevDb(running.db, logLine);
  const keys = await apiKeys();
  const port = functionsPort();
  const apiUrl = `http://127.0.0.1:${port}`;
  running.stripeStandin = await maybeStartStripeStandin(`${apiUrl}/functions/v1/stripe-webhook`);
  running.api = await startApiStack({
    dbUrl: running.db.appUrl, port, keys, log: logLine,
    ...(process.env.RALLY_STORAGE_UPSTREAM ? { storageUpstream: process.env.RALLY_STORAGE_UPSTREAM } : {}),
  });
  running.netWorker = await startNetWorker(running.db.adminUrl, logLine);
  await storeScheduleSecrets(running.db.appUrl, apiUrl, keys.serviceRoleKey);
  running.schedules = await startSchedules(running.db.appUrl, logLine);
  process.stdout.write(
    formatStatus({
      apiUrl,
      db: running.db,
      keys,
      services: running.api.descriptions,
      scheduledJobs: running.schedules.activeJobs,
      stripeStandinUrl: running.stripeStandin?.url ?? null,
    }),
  );
}

/**
 * Without STRIPE_SECRET_KEY the functions talk to the local Stripe stand-in (STRIPE_STANDIN_PORT,
 * default 54350), which signs and delivers its webhooks to stripe-webhook. The functions get its
 * address and the webhook secrets through the environment the gateway inherits.
 */
async function maybeStartStripeStandin(webhookUrl: string): Promise<StripeStandin | undefined> {
  if (process.env.STRIPE_SECRET_KEY) return undefined;
  process.env.STRIPE_WEBHOOK_SECRET ??= STANDIN_WEBHOOK_SECRET;
  process.env.STRIPE_CONNECT_WEBHOOK_SECRET ??= STANDIN_CONNECT_WEBHOOK_SECRET;
  const standin = await startStripeStandin({
    port: Number(process.env.STRIPE_STANDIN_PORT ?? STANDIN_DEFAULT_PORT),
    platformWebhook: { url: webhookUrl, secret: process.env.STRIPE_WEBHOOK_SECRET },
    connectWebhook: { url: `${webhookUrl}/connect`, secret: process.env.STRIPE_CONNECT_WEBHOOK_SECRET },
    ...standinEnvOptions(process.env),
    log: logLine,
  });
  process.env.STRIPE_API_BASE = standin.url;
  logLine(`stripe: stand-in (not Stripe) on ${standin.url}`);
  return standin;
}

interface StopSignal {
  promise: Promise<string>;
  received(): boolean;
}

function waitForStopSignal(): StopSignal {
  let received = false;
  const promise = new Promise<string>((resolve) => {
    // Handlers stay installed: npm and tsx forward Ctrl-C too, and a second signal must not
    // kill us (default action) in the middle of the cleanup.
    const onSignal = (signal: NodeJS.Signals): void => {
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return { promise, received: () => received };
}

/** Edge functions that die on their own take the stack down, so the status block never lies. */
function functionsExit(api: ApiStack | undefined): Promise<string> {
  if (!api) return new Promise(() => undefined);
  return new Promise((resolve) => api.functions.child.once('exit', (code) => resolve(`edge functions exited with ${code ?? 'a signal'}`)));
}

/** Stops what this process started; a database that was already running (db:start) stays up. */
async function tearDown(running: Running): Promise<void> {
  try {
    await running.schedules?.stop();
    await running.netWorker?.stop();
    await running.api?.close();
    await running.stripeStandin?.close();
    if (running.db?.startedHere) await stopDevDb(logLine);
    else if (running.db) logLine('database: left running (it was started by npm run db:start; npm run db:stop stops it)');
  } finally {
    running.lock.release();
  }
}

runMain(main);
