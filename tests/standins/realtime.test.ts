// The Realtime stand-in (tools/realtime-standin) driven by the real realtime-js inside
// supabase-js, against the throwaway database with Rally's policies on realtime.messages:
// private joins authorized by RLS, Broadcast from Database in commit order, client broadcasts
// checked by the insert policy, presence, token refresh revoking access, and the refusals.
import { createClient, type RealtimeChannel, type SupabaseClient } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startRealtimeStandin, type RealtimeStandin } from "../../tools/realtime-standin/server.ts";
import { adminQuery, asUser, closeTestPools, ownerQuery } from "../support/db.ts";
import { groupWithMembers } from "../support/groups.ts";
import { testEnv } from "../support/env.ts";
import { anonKey, signJwt, userClaims } from "../support/jwt.ts";
import { createUser, type TestUser } from "../support/users.ts";

let standin: RealtimeStandin;
let anon: string;
const clients: SupabaseClient[] = [];

beforeAll(async () => {
  standin = await startRealtimeStandin({
    dbUrl: testEnv("SUPABASE_DB_URL"),
    // The janitor plays Realtime's own partition upkeep, which connects as supabase_admin.
    adminDbUrl: testEnv("RALLY_ADMIN_DB_URL"),
    jwtSecret: testEnv("SUPABASE_JWT_SECRET"),
    channelErrorBackoffMs: 10,
    pollIntervalMs: 20,
  });
  anon = await anonKey();
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.removeAllChannels()));
  await standin?.close();
  await closeTestPools();
});

/**
 * A supabase-js client whose requests carry `token` (the `accessToken` option, as an app with
 * third-party auth would): `tokens.set(client, next)` then `client.realtime.setAuth()` rotates it.
 */
const tokens = new Map<SupabaseClient, string>();
async function clientWith(token: string): Promise<SupabaseClient> {
  const holder: { client?: SupabaseClient } = {};
  const client = createClient(standin.url, anon, {
    accessToken: async () => (holder.client === undefined ? token : tokens.get(holder.client) ?? token),
  });
  holder.client = client;
  tokens.set(client, token);
  clients.push(client);
  await client.realtime.setAuth(); // fetch the token before the first join (realtime-js would race)
  return client;
}

interface Subscribed {
  status: string;
  error?: Error;
}

function subscribe(channel: RealtimeChannel): Promise<Subscribed> {
  return new Promise((resolve) => {
    channel.subscribe((status, error) => {
      if (status !== "CLOSED") resolve(error === undefined ? { status } : { status, error });
    });
  });
}

/** Collects broadcasts of one event; `next(n)` waits for the n-th. */
function collect(channel: RealtimeChannel, event: string): { items: Record<string, unknown>[]; next: (count: number) => Promise<void> } {
  const items: Record<string, unknown>[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  channel.on("broadcast", { event }, (message) => {
    items.push(message as Record<string, unknown>);
    for (const waiter of waiters.filter((w) => items.length >= w.count)) waiter.resolve();
  });
  return {
    items,
    next: (count) => new Promise<void>((resolve, reject) => {
      if (items.length >= count) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} ${event} broadcast(s), got ${items.length}`)), 5_000);
      waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(); } });
    }),
  };
}

/** The WebSocket handshake's HTTP answer. */
function handshake(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("open", () => {
      ws.close();
      resolve({ status: 101, body: null });
    });
    ws.on("unexpected-response", (_request, response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown }));
    });
    ws.on("error", (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

const send = (topic: string, event: string, payload: Record<string, unknown>): Promise<unknown> =>
  ownerQuery("select realtime.send($1::jsonb, $2, $3, true)", [JSON.stringify(payload), event, topic]);

const groupOf = (owner: TestUser, members: TestUser[]): Promise<string> => groupWithMembers(owner, members, "standin test");

describe("Realtime stand-in: private channels", () => {
  it("joins the caller's own user topic and refuses another user's with Realtime's text", async () => {
    const [sam, priya] = [await createUser(), await createUser()];
    const client = await clientWith(sam.token);
    const own = await subscribe(client.channel(`user:${sam.id}`, { config: { private: true } }));
    expect(own.status).toBe("SUBSCRIBED");
    const other = await subscribe(client.channel(`user:${priya.id}`, { config: { private: true } }));
    expect(other.status).toBe("CHANNEL_ERROR");
    expect(other.error?.message).toBe(`Unauthorized: You do not have permissions to read from this Channel topic: user:${priya.id}`);
  });

  it("delivers committed realtime.send rows in commit order, never rolled-back ones, with meta.id", async () => {
    const sam = await createUser();
    const channel = (await clientWith(sam.token)).channel(`user:${sam.id}`, { config: { private: true } });
    const got = collect(channel, "notification_created");
    expect((await subscribe(channel)).status).toBe("SUBSCRIBED");
    const topic = `user:${sam.id}`;
    await send(topic, "notification_created", { n: 1 });
    await ownerQuery("begin; select realtime.send('{\"n\": 99}'::jsonb, 'notification_created', $1, true); rollback;".replace("$1", `'${topic}'`));
    await ownerQuery(`select realtime.send('{"n": 2}'::jsonb, 'notification_created', '${topic}', true),
                             realtime.send('{"n": 3}'::jsonb, 'notification_created', '${topic}', true)`);
    await send(topic, "notification_created", { n: 4 });
    await send(topic, "other_event", { n: 5 });
    await got.next(4);
    await standin.flush();
    // Sam's sign-up also brought his welcome (a notification_created of its own), maybe still on its way when he subscribed.
    const sent = got.items.filter((m) => (m.payload as { type?: string }).type !== "welcome");
    expect(sent.map((m) => (m.payload as { n: number }).n)).toEqual([1, 2, 3, 4]);
    const first = sent[0] as { type: string; event: string; payload: { id: string }; meta?: { id: string } };
    expect(first.type).toBe("broadcast");
    expect(first.meta?.id).toBe(first.payload.id); // realtime.send puts the row id in both
  });

  it("keeps a public (non-private) row off private channels and vice versa", async () => {
    const sam = await createUser();
    const priv = (await clientWith(sam.token)).channel(`user:${sam.id}`, { config: { private: true } });
    const got = collect(priv, "ping");
    expect((await subscribe(priv)).status).toBe("SUBSCRIBED");
    await ownerQuery("select realtime.send('{\"where\": \"public\"}'::jsonb, 'ping', $1, false)", [`user:${sam.id}`]);
    await send(`user:${sam.id}`, "ping", { where: "private" });
    await got.next(1);
    await standin.flush();
    expect(got.items.map((m) => (m.payload as { where: string }).where)).toEqual(["private"]);
  });

  it("lets members send typing broadcasts (insert policy) and drops a non-member's", async () => {
    const [maya, tom] = [await createUser(), await createUser()];
    const conversation = await groupOf(maya, [tom]);
    await standin.flush(); // the group's system message is delivered before anyone subscribes
    const topic = `conversation:${conversation}:typing`;
    const mayaChannel = (await clientWith(maya.token)).channel(topic, { config: { private: true } });
    const seenByMaya = collect(mayaChannel, "typing");
    const tomChannel = (await clientWith(tom.token)).channel(topic, { config: { private: true, broadcast: { ack: true } } });
    expect((await subscribe(mayaChannel)).status).toBe("SUBSCRIBED");
    expect((await subscribe(tomChannel)).status).toBe("SUBSCRIBED");
    expect(await tomChannel.send({ type: "broadcast", event: "typing", payload: { user_id: tom.id } })).toBe("ok");
    await seenByMaya.next(1);
    expect(seenByMaya.items[0]).toMatchObject({ event: "typing", payload: { user_id: tom.id } });

    // conversation:<id> itself accepts no client broadcasts: the message is dropped silently.
    const main = (await clientWith(tom.token)).channel(`conversation:${conversation}`, { config: { private: true } });
    const mayaMain = (await clientWith(maya.token)).channel(`conversation:${conversation}`, { config: { private: true } });
    const forged = collect(mayaMain, "message_created");
    expect((await subscribe(main)).status).toBe("SUBSCRIBED");
    expect((await subscribe(mayaMain)).status).toBe("SUBSCRIBED");
    await main.send({ type: "broadcast", event: "message_created", payload: { body: "forged" } });
    await send(`conversation:${conversation}`, "message_created", { body: "real" });
    await forged.next(1);
    await standin.flush();
    await new Promise((resolve) => setTimeout(resolve, 200)); // room for a wrongly relayed forgery
    const bodies = forged.items.map((m) => (m.payload as { body: string }).body);
    expect(bodies).toContain("real");
    expect(bodies).not.toContain("forged");
  });

  it("syncs presence between members", async () => {
    const [maya, tom] = [await createUser(), await createUser()];
    const conversation = await groupOf(maya, [tom]);
    const topic = `conversation:${conversation}`;
    const mayaChannel = (await clientWith(maya.token)).channel(topic, { config: { private: true, presence: { key: maya.id } } });
    const joined = new Promise<string[]>((resolve) => {
      mayaChannel.on("presence", { event: "sync" }, () => {
        const keys = Object.keys(mayaChannel.presenceState());
        if (keys.includes(tom.id)) resolve(keys);
      });
    });
    const left = new Promise<void>((resolve) => {
      mayaChannel.on("presence", { event: "leave" }, ({ key }) => {
        if (key === tom.id) resolve();
      });
    });
    expect((await subscribe(mayaChannel)).status).toBe("SUBSCRIBED");
    expect(await mayaChannel.track({ online_at: "now" })).toBe("ok");
    const tomChannel = (await clientWith(tom.token)).channel(topic, { config: { private: true, presence: { key: tom.id } } });
    tomChannel.on("presence", { event: "sync" }, () => undefined);
    expect((await subscribe(tomChannel)).status).toBe("SUBSCRIBED");
    expect(await tomChannel.track({ typing: false })).toBe("ok");
    expect((await joined).sort()).toEqual([maya.id, tom.id].sort());
    expect(mayaChannel.presenceState()[tom.id]?.[0]).toMatchObject({ typing: false });

    expect(await tomChannel.untrack()).toBe("ok");
    await left;
  });

  it("closes a channel whose read access is revoked when the client refreshes its token", async () => {
    const [maya, tom] = [await createUser(), await createUser()];
    const conversation = await groupOf(maya, [tom]);
    const client = await clientWith(tom.token);
    const channel = client.channel(`conversation:${conversation}`, { config: { private: true } });
    const system = new Promise<Record<string, unknown>>((resolve) => channel.on("system", {}, (payload) => resolve(payload as Record<string, unknown>)));
    const closed = new Promise<void>((resolve) => {
      channel.subscribe((status) => {
        if (status === "CLOSED") resolve();
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(channel.state).toBe("joined");
    await asUser(tom.claims, (db) => db.query("select public.leave_conversation($1)", [conversation]));
    tokens.set(client, await signJwt(userClaims({ id: tom.id, email: tom.email })));
    await client.realtime.setAuth();
    expect(await system).toMatchObject({
      status: "error",
      message: `You do not have permissions to read from this Channel topic: conversation:${conversation}`,
    });
    await closed;
  });

  it("refuses expired tokens, Postgres Changes and missing topics with the platform's texts", async () => {
    const sam = await createUser();
    const expired = await signJwt(userClaims({ id: sam.id, email: sam.email }), { expiresIn: -30 });
    const client = await clientWith(sam.token);
    const stale = await subscribe((await clientWith(expired)).channel(`user:${sam.id}`, { config: { private: true } }));
    expect(stale.status).toBe("CHANNEL_ERROR");
    expect(stale.error?.message).toMatch(/^InvalidJWTToken: Token has expired (30|31|32) seconds ago$/);

    const changes = client.channel("db-changes").on("postgres_changes", { event: "*", schema: "public", table: "events" }, () => undefined);
    const refused = await subscribe(changes);
    expect(refused.status).toBe("CHANNEL_ERROR");
    expect(refused.error?.message).toContain("does not support Postgres Changes");
  });

  it("answers the socket handshake with 401 when the apikey is missing or not a project JWT", async () => {
    const socketUrl = `${standin.url.replace("http", "ws")}/realtime/v1/websocket?vsn=2.0.0`;
    expect(await handshake(socketUrl)).toEqual({ status: 401, body: { error: "API key is missing" } });
    expect(await handshake(`${socketUrl}&apikey=not-a-jwt`)).toEqual({ status: 401, body: { error: "The token provided is not a valid JWT" } });
    expect(await handshake(`${socketUrl}&apikey=${anon}`)).toEqual({ status: 101, body: null });
  });
});

// Rows reach subscribers from the daily partitions the server creates (the contract has no
// default partition). Creating today's plays the Realtime server, so it runs as supabase_admin.
describe("Realtime stand-in: partitions", () => {
  it("delivers rows stored in a daily partition", async () => {
    const sam = await createUser();
    const channel = (await clientWith(sam.token)).channel(`user:${sam.id}`, { config: { private: true } });
    const got = collect(channel, "daily");
    expect((await subscribe(channel)).status).toBe("SUBSCRIBED");
    const day = new Date().toISOString().slice(0, 10);
    const name = `messages_${day.replaceAll("-", "_")}`;
    const next = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await adminQuery(`create table if not exists realtime.${name} partition of realtime.messages for values from ('${day}') to ('${next}')`);
    await send(`user:${sam.id}`, "daily", { ok: true });
    await got.next(1);
    const { rows } = await ownerQuery<{ partition: string }>(
      "select tableoid::regclass::text as partition from realtime.messages where topic = $1 and event = 'daily'", [`user:${sam.id}`]);
    expect(rows[0]?.partition).toBe(`realtime.${name}`);
  });
});
