/**
 * Stand-in for the Realtime server's partition upkeep of `realtime.messages` (supabase/realtime
 * `Realtime.Tenants.create_messages_partitions/1` on connect and in its janitor,
 * `Realtime.Messages.delete_old_messages/1`): one partition per UTC day from yesterday to
 * today + 3, owned by supabase_realtime_admin, and partitions of days before "now − 72 hours"
 * dropped. There is no default partition, so without this a Broadcast finds no partition and
 * `realtime.send` stores nothing. It connects as the platform's superuser, as the server does
 * with its own admin role; the test runner runs it after the platform contract and `npm start`
 * every hour.
 */
import pg from 'pg';

const DAY_MS = 86_400_000;
const RETENTION_MS = 72 * 3_600_000;
const PARTITION_NAME = /^messages_(\d{4})_(\d{2})_(\d{2})$/;
/** The days the server keeps a partition for, relative to today: yesterday through today + 3. */
const KEPT_DAYS = [-1, 0, 1, 2, 3];

export interface JanitorOutcome {
  created: string[];
  dropped: string[];
}

/** `messages_YYYY_MM_DD` and its [from, to) bounds for the UTC day containing `day`. */
export function partitionFor(day: Date): { name: string; from: string; to: string } {
  const from = isoDay(day);
  return { name: `messages_${from.replaceAll('-', '_')}`, from, to: isoDay(new Date(day.getTime() + DAY_MS)) };
}

/** A partition whose whole day lies before the retention limit's day is dropped. */
export function isExpired(partitionName: string, now: Date): boolean {
  const match = PARTITION_NAME.exec(partitionName);
  if (!match) return false;
  const limitDay = isoDay(new Date(now.getTime() - RETENTION_MS));
  return `${match[1]}-${match[2]}-${match[3]}` < limitDay;
}

export async function maintainRealtimePartitions(adminUrl: string, now: Date = new Date()): Promise<JanitorOutcome> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'realtime stand-in janitor' });
  await client.connect();
  try {
    const outcome: JanitorOutcome = { created: [], dropped: [] };
    const existing = new Set(await partitionNames(client));
    for (const offset of KEPT_DAYS) {
      const partition = partitionFor(new Date(now.getTime() + offset * DAY_MS));
      if (existing.has(partition.name)) continue;
      await client.query(
        `create table if not exists realtime.${partition.name} partition of realtime.messages
           for values from ('${partition.from}') to ('${partition.to}')`,
      );
      await client.query(`alter table realtime.${partition.name} owner to supabase_realtime_admin`);
      outcome.created.push(partition.name);
    }
    for (const name of existing) {
      if (!isExpired(name, now)) continue;
      await client.query(`drop table if exists realtime.${name}`);
      outcome.dropped.push(name);
    }
    return outcome;
  } finally {
    await client.end();
  }
}

async function partitionNames(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `select child.relname as name
       from pg_inherits
       join pg_class parent on parent.oid = pg_inherits.inhparent
       join pg_class child on child.oid = pg_inherits.inhrelid
       join pg_namespace ns on ns.oid = parent.relnamespace
      where ns.nspname = 'realtime' and parent.relname = 'messages'`,
  );
  return result.rows.map((row) => row.name).filter((name) => PARTITION_NAME.test(name));
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
