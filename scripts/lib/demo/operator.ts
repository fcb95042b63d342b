/**
 * Operator steps of the demo: what no app can do, done in SQL as `postgres` (the role Studio's
 * SQL editor uses) and named as such in the story. Running a scheduled job now (the job's own
 * command from `cron.job`, so it is exactly what pg_cron runs), the release-hold knob, and the
 * checks of things no app may see (the alert outbox, the ledger).
 */
import pg from 'pg';

export type OperatorDb = pg.Pool;

export function operatorDb(dbUrl: string): OperatorDb {
  return new pg.Pool({ connectionString: dbUrl, max: 2, application_name: 'rally-demo-operator' });
}

/** The command pg_cron runs for `jobName`. */
async function jobCommand(db: pg.Pool | pg.PoolClient, jobName: string): Promise<string> {
  const { rows } = await db.query<{ command: string }>('select command from cron.job where jobname = $1', [jobName]);
  const command = rows[0]?.command;
  if (command === undefined) throw new Error(`no pg_cron job ${jobName} in cron.job`);
  return command;
}

/** Runs a scheduled job once, now, with its own command; returns the command. */
export async function runJobNow(db: OperatorDb, jobName: string): Promise<string> {
  const command = await jobCommand(db, jobName);
  await db.query(command);
  return command;
}

/**
 * Runs `rally-release-host-earnings` once with `payment_settings.release_hold_hours = 0`: the knob
 * is changed, the job run and the knob put back in one transaction, so no other session (pg_cron's
 * own run of the job included) ever sees the shortened hold. Returns the hold it put back.
 */
export async function releaseEarningsNow(db: OperatorDb): Promise<number> {
  const client = await db.connect();
  try {
    await client.query('begin');
    const { rows: [held] } = await client.query<{ hours: number }>('select release_hold_hours as hours from private.payment_settings for update');
    const hours = held?.hours ?? 48;
    await client.query('update private.payment_settings set release_hold_hours = 0, updated_at = now()');
    await client.query(await jobCommand(client, 'rally-release-host-earnings'));
    await client.query('update private.payment_settings set release_hold_hours = $1, updated_at = now()', [hours]);
    await client.query('commit');
    return hours;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export async function platformFeeBps(db: OperatorDb): Promise<number> {
  const { rows } = await db.query<{ bps: number }>('select platform_fee_bps as bps from private.payment_settings');
  const bps = rows[0]?.bps;
  if (bps === undefined) throw new Error('private.payment_settings has no row');
  return bps;
}

export interface EmailDelivery {
  status: string;
  provider: string;
  destination: string;
}

/** The e-mail alert of one notification, once the dispatcher has sent it. */
export async function sentEmailOf(db: OperatorDb, notificationId: string): Promise<EmailDelivery | undefined> {
  const { rows } = await db.query<EmailDelivery>(
    `select status, provider, destination from private.alert_deliveries where notification_id = $1 and channel = 'email'`, [notificationId]);
  const row = rows[0];
  return row !== undefined && ['sent', 'delivered'].includes(row.status) ? row : undefined;
}

/** Where the e-mail alert of one notification stands, and how many alerts were due before it (for a step that gave up). */
export async function emailDeliveryState(db: OperatorDb, notificationId: string): Promise<string> {
  const { rows } = await db.query<{ state: string }>(
    `select format('status %s, %s attempt(s), lease until %s, last error %s; %s alert(s) due before it',
                   d.status, d.attempts, coalesce(d.lease_expires_at::text, 'none'), coalesce(d.last_error, 'none'),
                   (select count(*) from private.alert_deliveries x where x.status = 'pending' and x.next_attempt_at < d.next_attempt_at)) as state
       from private.alert_deliveries d where d.notification_id = $1 and d.channel = 'email'`, [notificationId]);
  return rows[0]?.state ?? 'no e-mail delivery exists for it';
}

/** Ledger transactions of these payments or this host's accounts, and how many do not sum to zero per currency. */
export async function ledgerBalance(db: OperatorDb, paymentIds: string[], hostId: string): Promise<{ checked: number; unbalanced: number }> {
  const { rows } = await db.query<{ n: string; unbalanced: string }>(
    `select count(distinct t.id) as n,
            count(distinct t.id) filter (where t.id in (select e.transaction_id from private.ledger_entries e
                                                         group by e.transaction_id, e.currency having sum(e.amount) <> 0)) as unbalanced
       from private.ledger_transactions t
      where t.payment_id = any($1::uuid[])
         or exists (select 1 from private.ledger_entries e join private.ledger_accounts a on a.id = e.account_id
                     where e.transaction_id = t.id and a.host_id = $2)`,
    [paymentIds, hostId]);
  return { checked: Number(rows[0]?.n ?? 0), unbalanced: Number(rows[0]?.unbalanced ?? 0) };
}
