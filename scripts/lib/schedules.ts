/**
 * Local stand-in for the platform's pg_cron (+ pg_net) schedules. Debian's pg_cron 1.4 cannot run
 * sub-minute jobs and there is no pg_net package, so `npm start` runs each job's SQL itself, as
 * role postgres, on the same interval, and calls scheduled edge functions over HTTP with the
 * service-role key (what pg_net does on the platform). Capabilities append their jobs to
 * SCHEDULED_JOBS.
 */
import pg from 'pg';

interface JobTiming {
  /** the same name the migration gives the pg_cron job, so logs line up */
  name: string;
  intervalMs: number;
}

/** SQL run as role postgres. */
export interface SqlJob extends JobTiming {
  sql: string;
}

/** POST /functions/v1/<function> with the service-role key and an empty JSON body. */
export interface FunctionJob extends JobTiming {
  function: string;
}

export type ScheduledJob = SqlJob | FunctionJob;

/** Where scheduled functions are served, and the key they are called with. */
export interface FunctionsTarget {
  url: string;
  serviceRoleKey: string;
}

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [
  // The alert outbox (docs/social-and-alerts.md); on the platform: pg_cron + pg_net, every 10 s.
  { name: 'rally-dispatch-alerts', intervalMs: 10_000, function: 'dispatch-alerts' },
  // The payment command outbox (docs/payments.md); on the platform: pg_cron + pg_net, every 30 s.
  { name: 'rally-payments-worker', intervalMs: 10_000, function: 'payments-worker' },
  // The storage purge queue (docs/account-deletion.md); on the platform: pg_cron + pg_net, every
  // 10 s. The interval is how long a deleted account's public avatar URL can still answer.
  { name: 'rally-storage-purge', intervalMs: 10_000, function: 'storage-purge' },
];

export interface ScheduleRunner {
  stop(): Promise<void>;
}

export function startSchedules(
  dbUrl: string,
  log: (line: string) => void,
  jobs: readonly ScheduledJob[] = SCHEDULED_JOBS,
  functions?: FunctionsTarget,
): ScheduleRunner {
  const pool = new pg.Pool({ connectionString: dbUrl, max: 2, application_name: 'rally-schedules' });
  // A failed job must not crash the stack: the pool reports idle-client errors here instead.
  pool.on('error', (error) => log(`schedules: connection error: ${error.message}`));
  const running = new Set<string>();
  const runnable = jobs.filter((job) => {
    if ('sql' in job || functions !== undefined) return true;
    log(`schedules: ${job.name} skipped (edge functions are not served)`);
    return false;
  });
  const timers = runnable.map((job) => setInterval(() => void runJob(pool, job, running, log, functions), job.intervalMs));
  return {
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      await pool.end();
    },
  };
}

/** Skips a tick while the previous run of the same job is still going, like pg_cron does. */
async function runJob(
  pool: pg.Pool,
  job: ScheduledJob,
  running: Set<string>,
  log: (line: string) => void,
  functions: FunctionsTarget | undefined,
): Promise<void> {
  if (running.has(job.name)) return;
  running.add(job.name);
  try {
    if ('sql' in job) await pool.query(job.sql);
    else if (functions !== undefined) await callFunction(functions, job.function);
  } catch (error) {
    log(`schedules: ${job.name} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    running.delete(job.name);
  }
}

async function callFunction(target: FunctionsTarget, name: string): Promise<void> {
  const res = await fetch(`${target.url.replace(/\/+$/, '')}/${name}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${target.serviceRoleKey}`, 'Content-Type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status} ${text.slice(0, 300)}`);
}
