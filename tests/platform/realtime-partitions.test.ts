/**
 * `realtime.messages` keeps one partition per day and no default partition, as the Realtime
 * server leaves it. These tests play the Realtime server (its partition janitor, and a server
 * that has not created today's partition yet), so they connect as `supabase_admin`.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { isExpired, maintainRealtimePartitions, partitionFor } from "../../scripts/lib/realtime-janitor.ts";
import { adminPool, closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";

afterAll(closeTestPools);

const at = (iso: string): Date => new Date(iso);

describe("the Realtime server's partition rules", () => {
  it("names a day's partition and bounds it to that UTC day", () => {
    expect(partitionFor(at("2026-12-31T23:59:59Z"))).toEqual({ name: "messages_2026_12_31", from: "2026-12-31", to: "2027-01-01" });
  });

  it("drops a day only once all of it is older than 72 hours", () => {
    const now = at("2026-12-10T06:00:00Z");
    expect(isExpired("messages_2026_12_06", now)).toBe(true);
    expect(isExpired("messages_2026_12_07", now)).toBe(false);
    expect(isExpired("messages_default", now)).toBe(false);
  });
});

describe("maintainRealtimePartitions", () => {
  it("keeps yesterday to today + 3 and drops partitions past the retention", async () => {
    await adminPool().query(
      "create table if not exists realtime.messages_2020_01_01 partition of realtime.messages for values from ('2020-01-01') to ('2020-01-02')",
    );
    const outcome = await maintainRealtimePartitions(testEnv("RALLY_ADMIN_DB_URL"));
    expect(outcome.dropped).toContain("messages_2020_01_01");
    const { rows } = await adminPool().query<{ name: string; owner: string }>(
      `select c.relname as name, c.relowner::regrole::text as owner from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'realtime.messages'::regclass order by 1`,
    );
    const now = Date.now();
    const wanted = [-1, 0, 1, 2, 3].map((d) => partitionFor(new Date(now + d * 86_400_000)).name);
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(wanted));
    expect(rows.map((r) => r.name)).not.toContain("messages_2020_01_01");
    expect(new Set(rows.map((r) => r.owner))).toEqual(new Set(["supabase_realtime_admin"]));
  });

  it("when today's partition is missing, realtime.send warns and stores nothing, and the caller's transaction goes on", async () => {
    const client = new pg.Client({ connectionString: testEnv("RALLY_ADMIN_DB_URL") });
    const notices: string[] = [];
    client.on("notice", (notice) => notices.push(notice.message ?? ""));
    await client.connect();
    try {
      await client.query("begin");
      await client.query(`alter table realtime.messages detach partition realtime.${partitionFor(new Date()).name}`);
      await client.query("select realtime.send('{\"n\":1}'::jsonb, 'probe', 'partition:missing', true)");
      const { rows } = await client.query("select 1 from realtime.messages where topic = 'partition:missing'");
      expect(rows).toHaveLength(0);
      expect(notices.some((n) => n.startsWith("WarnSendingBroadcastMessage: no partition of relation"))).toBe(true);
      await expect(client.query("select 1 as still_usable")).resolves.toMatchObject({ rowCount: 1 });
    } finally {
      await client.query("rollback");
      await client.end();
    }
  });
});
