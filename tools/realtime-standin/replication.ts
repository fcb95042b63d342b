/**
 * Broadcast from Database, read the way Supabase Realtime reads it: logical decoding with the
 * `pgoutput` plugin over the publication `supabase_realtime_messages_publication` (see
 * Realtime.Tenants.ReplicationConnection). Realtime streams a TEMPORARY slot; the stand-in
 * creates a temporary slot too and polls it through the SQL interface
 * (`pg_logical_slot_get_binary_changes`), which returns the same pgoutput messages. So rows reach
 * subscribers only once committed, in commit order, whatever the partitions are called (daily
 * `messages_YYYY_MM_DD` or a default partition: the relation name only has to start with
 * `messages`, as Realtime checks), and a rolled-back row (an authorization probe) never appears.
 *
 * Needs `wal_level = logical` (as on every Supabase project); the local clusters start with it.
 */
import pg from "pg";

export const MESSAGES_PUBLICATION = "supabase_realtime_messages_publication";

/** One committed row of realtime.messages, as Realtime's handler reads it. */
export interface MessageRow {
  id: string;
  topic: string;
  event: string;
  private: boolean;
  /** The jsonb `payload` column as text. */
  payloadJson: string;
  insertedAt: string;
}

interface Relation {
  namespace: string;
  name: string;
  columns: string[];
}

/** Decodes pgoutput protocol version 1 messages; keeps the relation cache between calls. */
export class PgOutputDecoder {
  private readonly relations = new Map<number, Relation>();

  /** The realtime.messages row an Insert message carries, or null for any other message. */
  decode(message: Buffer): MessageRow | null {
    const reader = new Reader(message);
    const tag = String.fromCharCode(reader.byte());
    if (tag === "R") {
      const id = reader.int32();
      const namespace = reader.cstring();
      const name = reader.cstring();
      reader.byte(); // replica identity
      const count = reader.int16();
      const columns: string[] = [];
      for (let i = 0; i < count; i++) {
        reader.byte(); // flags
        columns.push(reader.cstring());
        reader.int32(); // type oid
        reader.int32(); // type modifier
      }
      this.relations.set(id, { namespace, name, columns });
      return null;
    }
    if (tag !== "I") return null;
    const relation = this.relations.get(reader.int32());
    if (relation === undefined || relation.namespace !== "realtime" || !relation.name.startsWith("messages")) return null;
    if (String.fromCharCode(reader.byte()) !== "N") return null;
    const values = readTuple(reader, relation.columns);
    const { id, topic, event, payload, inserted_at: insertedAt } = values;
    // Realtime skips rows without these (get_or_error in handle_message).
    if (id == null || topic == null || event == null || values.private == null || insertedAt == null) return null;
    return { id, topic, event, private: values.private === "t", payloadJson: payload ?? "null", insertedAt };
  }
}

function readTuple(reader: Reader, columns: string[]): Record<string, string | null> {
  const count = reader.int16();
  const values: Record<string, string | null> = {};
  for (let i = 0; i < count; i++) {
    const kind = String.fromCharCode(reader.byte());
    const name = columns[i] ?? `column_${i}`;
    if (kind === "t" || kind === "b") values[name] = reader.bytes(reader.int32()).toString("utf8");
    else values[name] = null; // 'n' null, 'u' unchanged TOAST (not sent for inserts)
  }
  return values;
}

class Reader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}
  byte(): number {
    return this.buffer.readUInt8(this.offset++);
  }
  int16(): number {
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }
  int32(): number {
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }
  bytes(length: number): Buffer {
    const value = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
  cstring(): string {
    const end = this.buffer.indexOf(0, this.offset);
    if (end === -1) throw new Error("pgoutput: unterminated string");
    const value = this.buffer.toString("utf8", this.offset, end);
    this.offset = end + 1;
    return value;
  }
}

export interface MessageStreamOptions {
  dbUrl: string;
  /** Pause between two reads of the slot, in ms (default 50). */
  pollIntervalMs?: number;
  onRow: (row: MessageRow) => void;
  log?: (line: string) => void;
}

export interface MessageStream {
  /** Resolves after every change committed before the call has been handed to onRow. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export class ReplicationSetupError extends Error {}

/** Opens the temporary slot and starts polling it. */
export async function startMessageStream(options: MessageStreamOptions): Promise<MessageStream> {
  const client = new pg.Client({ connectionString: options.dbUrl, application_name: "rally-realtime-standin-replication" });
  await client.connect();
  const slot = `rally_realtime_standin_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  try {
    const { rows: [setting] } = await client.query<{ wal_level: string }>("select current_setting('wal_level') as wal_level");
    if (setting?.wal_level !== "logical") {
      throw new ReplicationSetupError(
        `Realtime stand-in: wal_level is '${setting?.wal_level ?? "unknown"}', Broadcast from Database needs 'logical' ` +
          "(the local clusters start with it; restart a database started by an older checkout: npm run db:stop).",
      );
    }
    const { rowCount } = await client.query("select 1 from pg_publication where pubname = $1", [MESSAGES_PUBLICATION]);
    // Realtime's replication connection creates its publication when it connects (the platform's
    // migrations only drop old ones); so does the stand-in, tolerating a concurrent creator.
    if (rowCount === 0) {
      await client.query(`create publication ${MESSAGES_PUBLICATION} for table realtime.messages`).catch((error: { code?: string }) => {
        if (error.code !== "42710") throw error;
      });
    }
    await client.query("select pg_create_logical_replication_slot($1, 'pgoutput', true)", [slot]);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }

  const decoder = new PgOutputDecoder();
  let closed = false;
  let reading: Promise<void> = Promise.resolve();
  let failures = 0;

  const readOnce = async (): Promise<void> => {
    const { rows } = await client.query<{ data: Buffer }>(
      `select data from pg_logical_slot_get_binary_changes($1, null, null,
         'proto_version', '1', 'publication_names', $2)`,
      [slot, MESSAGES_PUBLICATION],
    );
    for (const { data } of rows) {
      const row = decoder.decode(data);
      if (row !== null) options.onRow(row);
    }
  };
  const read = (): Promise<void> => {
    reading = reading.then(readOnce).then(
      () => {
        failures = 0;
      },
      (error: unknown) => {
        failures += 1;
        if (failures === 1 || failures % 100 === 0) {
          options.log?.(`realtime stand-in: reading ${slot} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
    );
    return reading;
  };
  const interval = options.pollIntervalMs ?? 50;
  let timer: NodeJS.Timeout | undefined;
  const loop = (): void => {
    void read().then(() => {
      if (!closed) timer = setTimeout(loop, interval);
    });
  };
  loop();
  client.on("error", (error) => options.log?.(`realtime stand-in: replication connection error: ${error.message}`));

  return {
    flush: () => read(),
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      await reading;
      // A temporary slot is dropped with its session.
      await client.end().catch(() => undefined);
    },
  };
}
