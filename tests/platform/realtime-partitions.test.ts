/**
 * `realtime.messages` keeps one partition per day and no default partition, as the Realtime
 * server leaves it (the naming rules are unit-tested in tests/standins/realtime-janitor.test.ts).
 * These tests play the Realtime server — its janitor on the database, and a server that has not
 * created today's partition yet — so they connect as `supabase_admin`.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { maintainMessagePartitions, partitionsAround } from "../../tools/realtime-standin/maintenance.ts";
import { adminPool, closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";

afterAll(closeTestPools);

const todaysPartition = (): string => partitionsAround(new Date())[1]!.name;

describe("realtime.messages partitions on the contract", () => {
  it("the janitor keeps yesterday to today + 3, owned by supabase_realtime_admin, and drops partitions past the retention", async () => {
    await adminPool().query(
      "create table if not exists realtime.messages_2020_01_01 partition of realtime.messages for values from ('2020-01-01') to ('2020-01-02')",
    );
    await maintainMessagePartitions(testEnv("RALLY_ADMIN_DB_URL"), (line) => console.error(line));
    const { rows } = await adminPool().query<{ name: string; owner: string }>(
      `select c.relname as name, c.relowner::regrole::text as owner from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'realtime.messages'::regclass order by 1`,
    );
    const names = rows.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(partitionsAround(new Date()).map((p) => p.name)));
    expect(names).not.toContain("messages_2020_01_01");
    expect(new Set(rows.map((r) => r.owner))).toEqual(new Set(["supabase_realtime_admin"]));
  });

  it("when today's partition is missing, realtime.send warns and stores nothing, and the caller's transaction goes on", async () => {
    const client = new pg.Client({ connectionString: testEnv("RALLY_ADMIN_DB_URL") });
    const notices: string[] = [];
    client.on("notice", (notice) => notices.push(notice.message ?? ""));
    await client.connect();
    try {
      await client.query("begin");
      await client.query(`alter table realtime.messages detach partition realtime.${todaysPartition()}`);
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
