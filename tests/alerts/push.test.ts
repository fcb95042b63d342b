/**
 * Push through FCM's HTTP v1 API, end to end: the app registers its device (register_push_device),
 * a direct message becomes a message_received notification (the chat job), the alert outbox
 * fans it out per device, and the dispatcher's FCM adapter — a service-account OAuth token from
 * the token endpoint, then messages:send — pushes it to the FCM stand-in with the conversation's
 * collapse key and the unread count as the badge. A device FCM calls UNREGISTERED loses its token
 * at once. dispatch-alerts picks FCM from FCM_SERVICE_ACCOUNT_JSON.
 */
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runDispatch } from "../../functions/_shared/alerts/dispatcher.ts";
import { claimDeliveries, completeDeliveries, recordSinkAlerts } from "../../functions/_shared/alerts/outbox.ts";
import { createFcmProvider } from "../../functions/_shared/alerts/providers/fcm.ts";
import { createAccessTokenSource } from "../../functions/_shared/alerts/providers/google-oauth.ts";
import { createSinkProvider } from "../../functions/_shared/alerts/providers/sink.ts";
import { closePool, withServiceRole } from "../../functions/_shared/db.ts";
import { handler as dispatchHandler } from "../../functions/dispatch-alerts/handler.ts";
import { asUser, closeTestPools, ownerQuery } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { signJwt } from "../support/jwt.ts";
import { startFcmStandIn, type FcmStandIn } from "../support/stand-ins/fcm.ts";
import { createUser, type TestUser } from "../support/users.ts";

let fcm: FcmStandIn;
let pool: pg.Pool;

beforeAll(async () => {
  fcm = await startFcmStandIn();
  pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 3 });
});
afterAll(async () => {
  await fcm.close();
  await pool.end();
  await closePool();
  await closeTestPools();
});
// Deliveries left by other test files are not this file's business.
beforeEach(async () => {
  await ownerQuery("update private.alert_deliveries set status = 'skipped', finished_at = now() where status in ('pending', 'sending')");
});
afterEach(() => fcm.failures.recover());

const tokens = () => createAccessTokenSource(fcm.serviceAccount);

async function dispatch(tokenSource = tokens()): Promise<void> {
  const sink = createSinkProvider((records) => withServiceRole((db) => recordSinkAlerts(db, records), { pool }));
  await runDispatch({
    claim: (limit, lease) => withServiceRole((db) => claimDeliveries(db, limit, lease), { pool }),
    complete: (results) => withServiceRole((db) => completeDeliveries(db, results), { pool }),
    providers: { email: sink, sms: sink, whatsapp: sink,
                 push: createFcmProvider({ projectId: fcm.projectId, baseUrl: fcm.url, tokens: tokenSource }) },
    appUrl: "https://rally.example",
  }, { batchSize: 50, maxBatches: 5, concurrency: 5, budgetMs: 10_000, leaseSeconds: 60 });
}

/** `from` writes `text` to `to` in their direct conversation; the chat job tells `to` (nobody is looking). */
async function directMessage(from: TestUser, to: TestUser, text: string): Promise<string> {
  const conversationId = await asUser(from.claims, async (db) => {
    const { rows } = await db.query<{ id: string }>("select id from public.start_direct_conversation($1)", [to.id]);
    await db.query("select public.send_message($1, 'text', $2)", [rows[0]!.id, text]);
    return rows[0]!.id;
  });
  await ownerQuery("update public.conversation_members set notified_at = null where conversation_id = $1", [conversationId]);
  await ownerQuery("select private.notify_unread_messages()");
  return conversationId;
}

async function register(user: TestUser, token: string, platform: "android" | "ios" | "web"): Promise<void> {
  await asUser(user.claims, (db) => db.query("select public.register_push_device($1, $2)", [token, platform]));
}

const devicesOf = async (user: TestUser): Promise<string[]> =>
  (await ownerQuery<{ token: string }>("select token from public.push_devices where user_id = $1 order by token", [user.id])).rows.map((r) => r.token);

describe("push for a direct message", () => {
  it("reaches the registered device through FCM, with the conversation's collapse key and the unread count as the badge", async () => {
    const sender = await createUser({ userMetadata: { display_name: "Maya" } });
    const bea = await createUser({ userMetadata: { display_name: "Bea" } });
    const phone = fcm.device("ios");
    await register(bea, phone, "ios");
    const conversationId = await directMessage(sender, bea, "Are you coming tonight?");
    await dispatch();

    const pushed = fcm.messages.filter((m) => m.token === phone);
    expect(pushed).toHaveLength(1);
    const unread = Number((await ownerQuery<{ n: number }>(
      "select count(*)::int as n from public.notifications where user_id = $1 and read_at is null", [bea.id])).rows[0]?.n);
    expect(unread).toBe(2); // her welcome and the message
    expect(pushed[0]?.message).toEqual({
      token: phone,
      notification: { title: "Maya", body: "Are you coming tonight?" },
      data: { type: "message_received", url: `https://rally.example/messages/${conversationId}`, conversation_id: conversationId,
              message_id: expect.any(String) },
      apns: {
        headers: { "apns-priority": "10", "apns-collapse-id": `conversation:${conversationId}` },
        payload: { aps: { badge: unread, "thread-id": `conversation:${conversationId}`, sound: "default" } },
      },
    });
    const { rows } = await ownerQuery<{ status: string; provider: string; provider_message_id: string }>(
      "select status, provider, provider_message_id from private.alert_deliveries where user_id = $1 and channel = 'push'", [bea.id]);
    expect(rows).toEqual([{ status: "sent", provider: "fcm", provider_message_id: pushed[0]?.name }]);
  });

  it("forgets a device FCM says is unregistered, and keeps pushing to the others", async () => {
    const sender = await createUser({ userMetadata: { display_name: "Leo" } });
    const cai = await createUser();
    const oldPhone = fcm.device("android");
    const newPhone = fcm.device("android");
    await register(cai, oldPhone, "android");
    await register(cai, newPhone, "android");
    fcm.uninstall(oldPhone); // the app was removed from the old phone
    const conversationId = await directMessage(sender, cai, "Tickets are on sale");
    await dispatch();

    expect(fcm.messages.filter((m) => m.token === newPhone).map((m) => m.message.android)).toEqual([{
      priority: "high", collapse_key: `conversation:${conversationId}`,
      notification: { tag: `conversation:${conversationId}`, notification_count: 2 },
    }]);
    expect(fcm.messages.filter((m) => m.token === oldPhone)).toEqual([]);
    expect(await devicesOf(cai)).toEqual([newPhone]);
    const { rows } = await ownerQuery<{ status: string; last_error: string }>(
      `select d.status, d.last_error from private.alert_deliveries d where d.user_id = $1 and d.channel = 'push' and d.status <> 'sent'`, [cai.id]);
    expect(rows).toEqual([{ status: "dead", last_error: "HTTP 404: UNREGISTERED: Requested entity was not found." }]);

    // The next message goes to the remaining phone only.
    await directMessage(sender, cai, "Last call");
    await dispatch();
    expect(fcm.messages.filter((m) => m.token === newPhone)).toHaveLength(2);
    expect((await ownerQuery("select 1 from private.alert_deliveries where user_id = $1 and channel = 'push'", [cai.id])).rowCount).toBe(3);
  });

  it("retries when FCM is over quota, reusing one access token", async () => {
    const sender = await createUser({ userMetadata: { display_name: "Ana" } });
    const dan = await createUser();
    const phone = fcm.device("ios");
    await register(dan, phone, "ios");
    fcm.failures.failNext(1, { status: 429, retryAfterSeconds: 120 });
    await directMessage(sender, dan, "Hi");
    const source = tokens();
    const before = fcm.tokensIssued;
    await dispatch(source);
    const { rows } = await ownerQuery<{ status: string; next_attempt_at: Date; last_error: string }>(
      "select status, next_attempt_at, last_error from private.alert_deliveries where user_id = $1 and channel = 'push'", [dan.id]);
    expect(rows[0]).toMatchObject({ status: "pending", last_error: "HTTP 429: QUOTA_EXCEEDED: Quota exceeded." });
    expect(rows[0]!.next_attempt_at.getTime()).toBeGreaterThanOrEqual(Date.now() + 110_000);
    await ownerQuery("update private.alert_deliveries set next_attempt_at = now() where user_id = $1 and channel = 'push'", [dan.id]);
    await dispatch(source);
    expect(fcm.messages.filter((m) => m.token === phone)).toHaveLength(1);
    expect(fcm.tokensIssued - before).toBe(1);
  });
});

describe("dispatch-alerts with FCM configured", () => {
  const saved: Record<string, string | undefined> = {};
  const setEnv = (name: string, value: string | undefined): void => {
    if (!(name in saved)) saved[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) setEnv(name, value);
  });
  const call = async (): Promise<Response> => dispatchHandler(new Request("http://127.0.0.1:54321/dispatch-alerts", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${await signJwt({ role: "service_role", iss: "supabase-demo" })}` },
    body: JSON.stringify({ batch_size: 100 }),
  }));

  it("reads the service account from FCM_SERVICE_ACCOUNT_JSON (base64 too) and pushes", async () => {
    for (const name of ["RESEND_API_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]) setEnv(name, undefined);
    setEnv("FCM_SERVICE_ACCOUNT_JSON", Buffer.from(JSON.stringify(fcm.serviceAccount)).toString("base64"));
    setEnv("FCM_API_BASE", fcm.url);
    const sender = await createUser({ userMetadata: { display_name: "Ivo" } });
    const eve = await createUser();
    const phone = fcm.device("web");
    await register(eve, phone, "web");
    await directMessage(sender, eve, "See you there");
    const res = await call();
    expect(res.status).toBe(200);
    const body = await res.json() as { providers: Record<string, string>; by_channel: Record<string, number> };
    expect(body.providers).toEqual({ email: "sink", sms: "sink", whatsapp: "sink", push: "fcm" });
    expect(body.by_channel.push).toBeGreaterThanOrEqual(1);
    expect(fcm.messages.filter((m) => m.token === phone).map((m) => m.message.notification)).toEqual([{ title: "Ivo", body: "See you there" }]);
  });

  it("refuses a service account it cannot read, naming the variable", async () => {
    setEnv("FCM_SERVICE_ACCOUNT_JSON", "{\"type\": \"authorized_user\"}");
    const res = await call();
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "not_configured", details: { variables: ["FCM_SERVICE_ACCOUNT_JSON"] } } });
  });
});
