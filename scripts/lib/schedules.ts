/**
 * Local stand-in for the platform's pg_cron (+ pg_net) schedules. Debian's pg_cron 1.4 cannot run
 * sub-minute jobs and there is no pg_net package, so `npm start` runs each job itself on the same
 * interval: SQL jobs as role postgres, function jobs as a POST to the local functions gateway with
 * the service_role key (what pg_cron + pg_net do in production). Capabilities append their jobs to
 * SCHEDULED_JOBS.
 */
import pg from 'pg';

interface JobBase {
  /** the same name the migration gives the pg_cron job, so logs line up */
  name: string;
  intervalMs: number;
}

export type ScheduledJob =
  | (JobBase & { sql: string })
  /** POST {} to /functions/v1/<functionName> with the service_role key */
  | (JobBase & { functionName: string });

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [
  // Payments: drains the payment command outbox (20261125120800_payment_schedules.sql schedules
  // it every 30 s through pg_net in production).
  { name: 'rally-payments-worker', intervalMs: 10_000, functionName: 'payments-worker' },
];

export interface ScheduleRunner {
  stop(): Promise<void>;
}

/** Where function jobs are sent; without it they are skipped (and say so once). */
export interface FunctionTarget {
  functionsUrl: string;
  serviceRoleKey: string;
}

export function startSchedules(
  dbUrl: string,
  log: (line: string) => void,
  jobs: readonly ScheduledJob[] = SCHEDULED_JOBS,
  functions?: FunctionTarget,
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
  functions: FunctionTarget | undefined,
): Promise<void> {
  if (running.has(job.name)) return;
  running.add(job.name);
  try {
    if ('sql' in job) {
      await pool.query(job.sql);
    } else if (functions !== undefined) {
      const res = await fetch(`${functions.functionsUrl}/${job.functionName}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${functions.serviceRoleKey}`, 'Content-Type': 'application/json' },
        body: '{}',
      });
      if (!res.ok) log(`schedules: ${job.name} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      else await res.arrayBuffer();
    }
  } catch (error) {
    log(`schedules: ${job.name} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    running.delete(job.name);
  }
}
