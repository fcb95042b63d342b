/**
 * What the fuzzing gate found, one story each, pinned so it cannot come back. Each call is made
 * exactly as PostgREST makes it (the JSON body coerced by json_to_record, then the call), with
 * the input the fuzzer found; docs/fuzzing.md lists the findings.
 */
import { afterAll, describe, expect, it } from "vitest";
import { adminQuery, asUser, closeTestPools } from "../support/db.ts";
import { failure } from "../support/events.ts";
import { createUser } from "../support/users.ts";

afterAll(async () => {
  await closeTestPools();
});

describe("fuzzing findings stay fixed", () => {
  it("a user who sends a nested list of notification ids gets invalid_ids, and their notifications stay unread", async () => {
    const reader = await createUser();
    const fan = await createUser();
    await asUser(fan.claims, (db) => db.query("select public.follow_user($1)", [reader.id]));
    const { rows: [note] } = await adminQuery<{ id: string }>(
      "select id from public.notifications where user_id = $1 and read_at is null limit 1", [reader.id]);
    expect(note).toBeDefined();
    const body = JSON.stringify({ p_ids: [[note?.id], [note?.id]] });
    const err = await failure(asUser(reader.claims, (db) =>
      db.query(`select r.* from json_to_record($1::json) as _ ("p_ids" uuid[])
                 cross join lateral public.mark_notifications_read(p_ids := _.p_ids) as r`, [body])));
    expect(err).toMatchObject({ code: "22023", hint: "invalid_ids" });
    const { rows } = await adminQuery("select 1 from public.notifications where user_id = $1 and read_at is null", [reader.id]);
    expect(rows.length).toBeGreaterThan(0);
  });
});
