/**
 * The storage purge worker against the real database and the Storage API stand-in: a deleted
 * account's avatar stays reachable only until the next purge run, which deletes its row and bytes
 * through the Storage API exactly once; a failing or hanging Storage API is retried with backoff
 * (deleting what is already gone counts as done) and dead-lettered after bounded attempts, visible
 * to operators; only the service role can run the worker.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { classifyRemoveError, removalCalls, resultFor, type ClaimedPurge } from "../../functions/_shared/storage-purge.ts";
import { handler as purgeHandler } from "../../functions/storage-purge/handler.ts";
import { startStorageStandin, type StorageStandin } from "../../tools/storage-standin/server.ts";
import { createGateway } from "../../scripts/functions-gateway.ts";
import { FUNCTIONS } from "../../scripts/lib/api-reference/edge-functions.ts";
import { ownerQuery, appPool, asServiceRole, asUser, closeTestPools } from "../support/db.ts";
import { envOverride, testEnv } from "../support/env.ts";
import { anonKey, signJwt } from "../support/jwt.ts";
import { createUser, type TestUser } from "../support/users.ts";

let storage: StorageStandin;
let serviceKey: string;
const env = envOverride();

beforeAll(async () => {
  storage = await startStorageStandin({ dbUrl: testEnv("SUPABASE_DB_URL"), jwtSecret: testEnv("SUPABASE_JWT_SECRET") });
  serviceKey = await signJwt({ role: "service_role", iss: "supabase-demo" });
});
afterEach(() => {
  storage.recover();
  env.restore();
});
afterAll(async () => {
  await storage.close();
  await closePool();
  await closeTestPools();
});

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

const runPurge = (token: string | null = serviceKey, body: unknown = {}): Promise<Response> => {
  env.set({ SUPABASE_URL: storage.url, SUPABASE_SERVICE_ROLE_KEY: serviceKey });
  return purgeHandler(new Request("http://127.0.0.1:54321/storage-purge", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  }));
};

/** A person with an uploaded avatar who then deletes their account; returns the avatar's name. */
async function deletedWithAvatar(): Promise<{ user: TestUser; name: string }> {
  const user = await createUser();
  const name = `${user.id}/avatar.png`;
  await storage.putObject("avatars", name, PNG, "image/png", user.id);
  await ownerQuery("update public.profiles set avatar_path = $2 where id = $1", [user.id, name]);
  await asUser(user.claims, (db) => db.query("select public.delete_my_account($1)", [user.username]));
  return { user, name };
}

async function queueRow(name: string) {
  const { rows } = await ownerQuery<{ status: string; attempts: number; last_error: string | null; purged_at: Date | null;
                                      next_attempt_at: Date; dead_at: Date | null }>(
    "select status, attempts, last_error, purged_at, next_attempt_at, dead_at from private.storage_purge_queue where bucket_id = 'avatars' and name = $1",
    [name]);
  return rows[0];
}

const rowExists = async (name: string): Promise<boolean> =>
  (await ownerQuery("select 1 from storage.objects where bucket_id = 'avatars' and name = $1", [name])).rowCount === 1;

const publicUrl = (name: string): Promise<Response> =>
  fetch(`${storage.url}/storage/v1/object/public/avatars/${name}`, { headers: { apikey: "anon" } });

const makeDue = (name: string) =>
  ownerQuery("update private.storage_purge_queue set next_attempt_at = now() where bucket_id = 'avatars' and name = $1 and status = 'pending'", [name]);

const successfulDeletes = (name: string): number =>
  storage.deleteCalls.filter((call) => call.status === 200 && call.deleted.includes(name)).length;

describe("a deleted account's avatar", () => {
  it("answers at its public URL until the next purge run, which deletes row and bytes exactly once", async () => {
    const { name } = await deletedWithAvatar();
    expect(await queueRow(name)).toMatchObject({ status: "pending", attempts: 0, purged_at: null });
    expect(await rowExists(name)).toBe(true);
    expect((await publicUrl(name)).status).toBe(200);

    const res = await runPurge();
    expect(res.status).toBe(200);
    const body: unknown = await res.json();
    expect(body).toMatchObject({ purged: expect.any(Number), dead: 0 });
    const declared = FUNCTIONS.find((fn) => fn.name === "storage-purge")?.endpoints[0]?.response;
    expect(declared?.safeParse(body).success, "the answer matches docs/api-reference.md").toBe(true);

    expect(await rowExists(name)).toBe(false);
    expect(storage.hasBytes("avatars", name)).toBe(false);
    const row = await queueRow(name);
    expect(row).toMatchObject({ status: "purged", attempts: 1 });
    expect(row?.purged_at).toBeInstanceOf(Date);
    expect((await publicUrl(name)).status).toBe(400);

    expect((await runPurge()).status).toBe(200);
    expect(successfulDeletes(name)).toBe(1);
    expect(storage.deleteCalls.filter((call) => call.prefixes.includes(name))).toHaveLength(1);
  });

  it("is deleted exactly once when two workers run at the same time", async () => {
    const names = (await Promise.all(Array.from({ length: 12 }, () => deletedWithAvatar()))).map((d) => d.name);
    const [a, b] = await Promise.all([runPurge(serviceKey, { batch_size: 3 }), runPurge(serviceKey, { batch_size: 3 })]);
    expect([a?.status, b?.status]).toEqual([200, 200]);
    for (const name of names) {
      expect(await queueRow(name)).toMatchObject({ status: "purged", attempts: 1 });
      expect(storage.deleteCalls.filter((call) => call.prefixes.includes(name))).toHaveLength(1);
      expect(storage.hasBytes("avatars", name)).toBe(false);
    }
  });

  it("is retried with backoff when the Storage API fails, hangs or loses its backend, then purged", async () => {
    env.set({ STORAGE_PURGE_TIMEOUT_MS: "300" });
    const { name } = await deletedWithAvatar();

    storage.failNext(1, { mode: "error", status: 503 });
    expect((await runPurge()).status).toBe(200);
    let row = await queueRow(name);
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    expect(row?.last_error).toContain("503");
    expect(row?.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 5_000);
    expect(await rowExists(name)).toBe(true);
    expect((await runPurge()).status).toBe(200);
    expect((await queueRow(name))?.attempts).toBe(1);

    await makeDue(name);
    storage.failNext(1, { mode: "backend" });
    await runPurge();
    row = await queueRow(name);
    expect(row).toMatchObject({ status: "pending", attempts: 2 });
    expect(row?.last_error).toContain("500");
    expect(await rowExists(name)).toBe(true);
    expect(storage.hasBytes("avatars", name)).toBe(true);

    // The Storage API deletes, then the answer is lost: the worker times out and retries; the
    // retry finds nothing left to delete, which is success.
    await makeDue(name);
    storage.failNext(1, { mode: "hang", hangMs: 1_500, afterDelete: true });
    await runPurge();
    row = await queueRow(name);
    expect(row).toMatchObject({ status: "pending", attempts: 3 });
    expect(row?.last_error).toContain("unreachable");
    expect(await rowExists(name)).toBe(false);

    await makeDue(name);
    await runPurge();
    expect(await queueRow(name)).toMatchObject({ status: "purged", attempts: 4 });
    expect(storage.hasBytes("avatars", name)).toBe(false);
    expect(successfulDeletes(name)).toBe(1);
  });

  it("becomes a dead letter operators see after its last attempt, and can be queued again", async () => {
    const { name } = await deletedWithAvatar();
    await ownerQuery("update private.storage_purge_queue set max_attempts = 3 where bucket_id = 'avatars' and name = $1", [name]);
    storage.failAlways({ mode: "error", status: 500 });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await makeDue(name);
      expect((await runPurge()).status).toBe(200);
    }
    expect(await queueRow(name)).toMatchObject({ status: "dead", attempts: 3 });
    await makeDue(name);
    await runPurge();
    expect((await queueRow(name))?.attempts).toBe(3);

    const { rows } = await appPool().query<{ last_error: string; next_step: string }>(
      "select last_error, next_step from admin.storage_purge_dead_letters where bucket_id = 'avatars' and name = $1", [name]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.last_error).toContain("500");
    expect(rows[0]?.next_step).toContain("private.requeue_storage_purge");
    await expect(asServiceRole((db) => db.query("select * from admin.storage_purge_dead_letters"))).rejects.toThrow(/permission denied/);

    storage.recover();
    await appPool().query("select private.requeue_storage_purge('avatars', $1)", [name]);
    await runPurge();
    expect(await queueRow(name)).toMatchObject({ status: "purged" });
    expect(await rowExists(name)).toBe(false);
  });
});

describe("POST /functions/v1/storage-purge", () => {
  it("answers only to the service role, and nothing happens for anyone else", async () => {
    const { user, name } = await deletedWithAvatar();
    const other = await createUser();
    const calls = storage.deleteCalls.length;
    expect((await runPurge(null)).status).toBe(401);
    expect((await runPurge("not-a-jwt")).status).toBe(401);
    const asOther = await runPurge(other.token);
    expect(asOther.status).toBe(403);
    expect(await asOther.json()).toMatchObject({ error: { code: "service_role_only" } });
    expect((await runPurge(user.token)).status).toBe(403);
    expect((await runPurge(await anonKey())).status).toBe(403);
    expect(storage.deleteCalls.length).toBe(calls);
    expect(await queueRow(name)).toMatchObject({ status: "pending", attempts: 0 });
    expect(await rowExists(name)).toBe(true);
    await runPurge();
    expect(await queueRow(name)).toMatchObject({ status: "purged" });
  });

  it("rejects bad options without claiming anything", async () => {
    const { name } = await deletedWithAvatar();
    const res = await runPurge(serviceKey, { batch_size: 0 });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "validation_failed" } });
    expect(await queueRow(name)).toMatchObject({ status: "pending", attempts: 0 });
    await runPurge();
  });
});

describe("the outbox SQL", () => {
  it("believes 'purged' only when the object's row is gone, and ignores results of a claim it no longer holds", async () => {
    const { name } = await deletedWithAvatar();
    const claimed = await asServiceRole((db) => db.query<{ bucket_id: string; name: string; claim_token: string }>(
      "select bucket_id, name, claim_token from private.claim_storage_purges(1000, 60)"));
    const mine = claimed.rows.find((row) => row.name === name);
    expect(mine).toBeDefined();
    const complete = (results: unknown) =>
      asServiceRole((db) => db.query<{ n: number }>("select private.complete_storage_purges($1::jsonb) as n", [JSON.stringify(results)]));
    const stale = await complete([{ ...mine, claim_token: crypto.randomUUID(), outcome: "purged" }]);
    expect(stale.rows[0]?.n).toBe(0);
    await complete([{ ...mine, outcome: "purged" }]);
    const row = await queueRow(name);
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    expect(row?.last_error).toContain("still in storage.objects");
    await expect(complete([{ ...mine, outcome: "maybe" }])).rejects.toThrow(/purged, retry or dead/);
    // Everything else claimed above goes back for the next run.
    await complete(claimed.rows.filter((row) => row.name !== name).map((row) => ({ ...row, outcome: "retry", error: "test" })));
    await makeDue(name);
    await runPurge();
    expect(await queueRow(name)).toMatchObject({ status: "purged" });
  });

  it("is for the worker only: users cannot claim or complete", async () => {
    const ana = await createUser();
    await expect(asUser(ana.claims, (db) => db.query("select * from private.claim_storage_purges(10, 60)"))).rejects.toThrow(/permission denied/);
    await expect(asUser(ana.claims, (db) => db.query("select private.complete_storage_purges('[]')"))).rejects.toThrow(/permission denied/);
  });
});

describe("the Storage API stand-in", () => {
  const del = (bucket: string, prefixes: unknown, headers: Record<string, string>) =>
    fetch(`${storage.url}/storage/v1/object/${bucket}`, {
      method: "DELETE", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify({ prefixes }),
    });

  // The API key is the gateway's business (tools/api-gateway); Storage checks the JWT itself and,
  // like storage-api, renders AccessDenied as HTTP 400 with statusCode "403".
  it("checks the JWT and validates prefixes, as the Storage API does", async () => {
    const forged = await del("avatars", ["x/y.png"], { apikey: serviceKey, Authorization: "Bearer forged.token.here" });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ statusCode: "403", error: "Unauthorized" });
    expect((await del("avatars", [], { apikey: serviceKey, Authorization: `Bearer ${serviceKey}` })).status).toBe(400);
  });

  it("deletes for a user only what the storage policies let them, and answers what it deleted", async () => {
    const ivy = await createUser();
    const joe = await createUser();
    await storage.putObject("avatars", `${ivy.id}/a.png`, PNG, "image/png", ivy.id);
    await storage.putObject("avatars", `${joe.id}/a.png`, PNG, "image/png", joe.id);
    const res = await del("avatars", [`${ivy.id}/a.png`, `${joe.id}/a.png`, `${ivy.id}/never.png`],
      { apikey: await anonKey(), Authorization: `Bearer ${ivy.token}` });
    expect(res.status).toBe(200);
    expect((await res.json() as { name: string }[]).map((o) => o.name)).toEqual([`${ivy.id}/a.png`]);
    expect(storage.hasBytes("avatars", `${ivy.id}/a.png`)).toBe(false);
    expect(storage.hasBytes("avatars", `${joe.id}/a.png`)).toBe(true);
    expect(await rowExists(`${joe.id}/a.png`)).toBe(true);
  });
});

describe("the local functions gateway", () => {
  it("passes /storage/v1 to the Storage API stand-in, so SUPABASE_URL/storage/v1 works as on the platform", async () => {
    const user = await createUser();
    await storage.putObject("avatars", `${user.id}/g.png`, PNG, "image/png", user.id);
    const request = () => new Request("http://127.0.0.1:54321/storage/v1/object/avatars", {
      method: "DELETE", headers: { apikey: serviceKey, Authorization: `Bearer ${serviceKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ prefixes: [`${user.id}/g.png`] }),
    });
    const without = await createGateway([])(request());
    expect(without.status).toBe(404);
    expect(await rowExists(`${user.id}/g.png`)).toBe(true);
    const res = await createGateway([], { storageUpstream: storage.url })(request());
    expect(res.status).toBe(200);
    expect(res.headers.get("storage-standin")).toBe("true");
    expect(await rowExists(`${user.id}/g.png`)).toBe(false);
  });
});

describe("the worker's pure parts", () => {
  const row = (bucket: string, name: string, attempt = 1): ClaimedPurge => ({ bucket_id: bucket, name, claim_token: "t", attempt, max_attempts: 8 });

  it("calls the Storage API once per bucket, at most 100 names a call", () => {
    const rows = [...Array.from({ length: 150 }, (_, i) => row("avatars", `a${i}`)), row("event-covers", "c")];
    expect(removalCalls(rows).map((call) => [call.bucket, call.rows.length])).toEqual([["avatars", 100], ["avatars", 50], ["event-covers", 1]]);
  });

  it("treats 400 as permanent and everything else as worth retrying, later each time", () => {
    expect(classifyRemoveError({ status: 400, message: "bad" }).kind).toBe("permanent");
    expect(classifyRemoveError({ status: 403, message: "key" }).kind).toBe("retryable");
    expect(classifyRemoveError(new Error("fetch failed"))).toMatchObject({ kind: "retryable", error: expect.stringContaining("unreachable") });
    const at = (attempt: number) => Date.parse(resultFor(row("avatars", "a", attempt), { kind: "retryable", error: "x" }, 0, () => 0).retry_at ?? "");
    expect(at(1)).toBe(10_000);
    expect(at(2)).toBe(20_000);
    expect(at(20)).toBe(15 * 60_000);
  });
});
