/**
 * What Realtime's janitor does to `realtime.messages` (Realtime.Tenants.create_messages_partitions
 * and Realtime.Messages.delete_old_messages): daily partitions `messages_YYYY_MM_DD` from
 * yesterday to three days ahead, owned by `supabase_realtime_admin`, and partitions older than
 * 72 hours dropped. Realtime runs it when it connects to a project and every 4 hours; it connects
 * as `supabase_admin`, and so does this (partitions of a table the realtime admin owns).
 *
 * A partition that cannot be created is skipped as Realtime skips it (on the local contract's
 * default partition, days that already have rows there); a default partition is never dropped.
 */
import pg from "pg";

export const JANITOR_INTERVAL_MS = 4 * 3600_000;

const isoDay = (date: Date): string => date.toISOString().slice(0, 10);
const addDays = (date: Date, days: number): Date => new Date(date.getTime() + days * 86_400_000);

/** Names and bounds of the partitions Realtime keeps around `today`. */
export function partitionsAround(today: Date): { name: string; from: string; to: string }[] {
  return [-1, 0, 1, 2, 3].map((offset) => {
    const day = addDays(today, offset);
    return { name: `messages_${isoDay(day).replaceAll("-", "_")}`, from: isoDay(day), to: isoDay(addDays(day, 1)) };
  });
}

/** Partitions whose day is before the 72-hour limit (Realtime's delete_old_messages). */
export function partitionsToDrop(names: readonly string[], now: Date): string[] {
  const limit = isoDay(new Date(now.getTime() - 72 * 3600_000));
  return names.filter((name) => {
    const match = /^messages_(\d{4})_(\d{2})_(\d{2})$/.exec(name);
    return match !== null && `${match[1]}-${match[2]}-${match[3]}` < limit;
  });
}

export async function maintainMessagePartitions(adminDbUrl: string, log: (line: string) => void, now = new Date()): Promise<void> {
  const client = new pg.Client({ connectionString: adminDbUrl, application_name: "rally-realtime-standin-janitor" });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `select child.relname as name from pg_inherits
         join pg_class parent on parent.oid = pg_inherits.inhparent
         join pg_class child on child.oid = pg_inherits.inhrelid
         join pg_namespace n on n.oid = child.relnamespace
        where parent.relname = 'messages' and n.nspname = 'realtime'`);
    for (const name of partitionsToDrop(rows.map((r) => r.name), now)) {
      await client.query(`drop table if exists realtime.${pg.escapeIdentifier(name)}`);
    }
    for (const partition of partitionsAround(now)) {
      try {
        await client.query("begin");
        await client.query(`create table if not exists realtime.${pg.escapeIdentifier(partition.name)} partition of realtime.messages
                              for values from (${pg.escapeLiteral(partition.from)}) to (${pg.escapeLiteral(partition.to)})`);
        await client.query(`alter table realtime.${pg.escapeIdentifier(partition.name)} owner to supabase_realtime_admin`);
        await client.query("commit");
      } catch (error) {
        await client.query("rollback");
        // 23514: rows for that day sit in a default partition (the local contract's); 42P07: exists.
        const code = (error as { code?: string }).code;
        if (code !== "23514" && code !== "42P07") log(`realtime stand-in: PartitionCreationFailed ${partition.name}: ${(error as Error).message}`);
      }
    }
  } finally {
    await client.end();
  }
}
