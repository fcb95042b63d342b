/**
 * Local stand-in for the platform's pg_cron (+ pg_net) schedules. Debian's pg_cron 1.4 cannot run
 * sub-minute jobs and there is no pg_net package, so `npm start` runs each job's SQL itself, as
 * role postgres, on the same interval. Capabilities append their jobs to SCHEDULED_JOBS.
 */
import pg from 'pg';

export interface ScheduledJob {
  /** the same name the migration gives the pg_cron job, so logs line up */
  name: string;
  intervalMs: number;
  sql: string;
}

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [];

export interface ScheduleRunner {
  stop(): Promise<void>;
}

export function startSchedules(
  dbUrl: string,
  log: (line: string) => void,
  jobs: readonly ScheduledJob[] = SCHEDULED_JOBS,
): ScheduleRunner {
  const pool = new pg.Pool({ connectionString: dbUrl, max: 2, application_name: 'rally-schedules' });
  // A failed job must not crash the stack: the pool reports idle-client errors here instead.
  pool.on('error', (error) => log(`schedules: connection error: ${error.message}`));
  const running = new Set<string>();
  const timers = jobs.map((job) => setInterval(() => void runJob(pool, job, running, log), job.intervalMs));
  return {
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      await pool.end();
    },
  };
}

/** Skips a tick while the previous run of the same job is still going, like pg_cron does. */
async function runJob(pool: pg.Pool, job: ScheduledJob, running: Set<string>, log: (line: string) => void): Promise<void> {
  if (running.has(job.name)) return;
  running.add(job.name);
  try {
    await pool.query(job.sql);
  } catch (error) {
    log(`schedules: ${job.name} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    running.delete(job.name);
  }
}
