/**
 * The local stack's part in the platform's schedules. The migrations schedule every job with
 * pg_cron; jobs that call an edge function do it with pg_net, reading the project URL and the
 * service-role key from Vault. `npm start` therefore:
 *   - stores those two Vault secrets for the local gateway (the step an operator does once per
 *     project on the platform), so the jobs' `net.http_post` calls reach the local functions;
 *   - runs the pg_net stand-in worker (scripts/lib/net-worker.ts) that sends them;
 *   - and, only where pg_cron is older than 1.5 (Debian's 1.4 has no seconds syntax, so the
 *     migrations fall back to once a minute), also runs the own command of the jobs the platform
 *     runs every few seconds at the platform's interval, as role postgres. pg_cron keeps its
 *     minutely run of them, so admin.scheduled_jobs shows them scheduled, active and healthy;
 *     the workers they call claim their rows with `for update skip locked`, so an extra call
 *     finds nothing twice.
 */
import pg from 'pg';

/** The jobs the platform runs on a seconds schedule (pg_cron ≥ 1.5), by their pg_cron names. */
export const SECONDS_JOBS: readonly { name: string; intervalMs: number }[] = [
  // The alert outbox (docs/social-and-alerts.md).
  { name: 'rally-dispatch-alerts', intervalMs: 10_000 },
  // The payment command outbox (docs/payments.md).
  { name: 'rally-payments-worker', intervalMs: 30_000 },
  // The storage purge queue (docs/account-deletion.md): how long a deleted account's public
  // avatar URL can still answer.
  { name: 'rally-storage-purge', intervalMs: 10_000 },
];

export interface ScheduleRunner {
  /** how many pg_cron jobs are scheduled and active */
  activeJobs: number;
  stop(): Promise<void>;
}

/** Creates or updates the Vault secrets the function-calling jobs read. */
export async function storeScheduleSecrets(dbUrl: string, projectUrl: string, serviceRoleKey: string): Promise<void> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    for (const [name, value] of [['project_url', projectUrl], ['service_role_key', serviceRoleKey]] as const) {
      const existing = await client.query<{ id: string; decrypted_secret: string }>(
        'select id, decrypted_secret from vault.decrypted_secrets where name = $1', [name]);
      const secret = existing.rows[0];
      if (!secret) await client.query('select vault.create_secret($1, $2)', [value, name]);
      else if (secret.decrypted_secret !== value) await client.query('select vault.update_secret($1, $2)', [secret.id, value]);
    }
  } finally {
    await client.end();
  }
}

export async function startSchedules(dbUrl: string, log: (line: string) => void): Promise<ScheduleRunner> {
  const pool = new pg.Pool({ connectionString: dbUrl, max: 2, application_name: 'rally-schedules' });
  // A failed job must not crash the stack: the pool reports idle-client errors here instead.
  pool.on('error', (error) => log(`schedules: connection error: ${error.message}`));
  const active = await pool.query<{ count: number }>('select count(*)::int as count from cron.job where active');
  const version = await pool.query<{ seconds: boolean }>(
    `select (regexp_match(extversion, '^(\\d+)\\.(\\d+)'))::integer[] >= array[1, 5] as seconds
       from pg_extension where extname = 'pg_cron'`,
  );
  const timers: NodeJS.Timeout[] = [];
  if (version.rows[0]?.seconds === false) {
    for (const job of SECONDS_JOBS) {
      const row = await pool.query<{ command: string }>(
        `select command from cron.job where jobname = $1 and username = current_user`, [job.name]);
      const scheduled = row.rows[0];
      if (!scheduled) {
        log(`schedules: ${job.name} is not scheduled in pg_cron; nothing runs it`);
        continue;
      }
      const running = { now: false };
      timers.push(setInterval(() => void runCommand(pool, job.name, scheduled.command, running, log), job.intervalMs));
    }
    log(`schedules: pg_cron has no seconds schedules here; ${timers.length} jobs also run every few seconds from npm start`);
  }
  return {
    activeJobs: active.rows[0]?.count ?? 0,
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      await pool.end();
    },
  };
}

/** Skips a tick while the previous run of the same job is still going, like pg_cron does. */
async function runCommand(pool: pg.Pool, name: string, command: string, running: { now: boolean }, log: (line: string) => void): Promise<void> {
  if (running.now) return;
  running.now = true;
  try {
    await pool.query(command);
  } catch (error) {
    log(`schedules: ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    running.now = false;
  }
}
