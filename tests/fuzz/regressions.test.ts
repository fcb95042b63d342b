/**
 * What the fuzzing gate found, one story each, pinned so it cannot come back. Each call is made
 * exactly as PostgREST makes it (the JSON body coerced by json_to_record, then the call), with
 * the input the fuzzer found; docs/fuzzing.md lists the findings.
 */
import Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { svixSignature, twilioSignature } from "../../functions/_shared/alerts/signatures.ts";
import { closePool } from "../../functions/_shared/db.ts";
import { nestingDepth, storableInPostgres } from "../../functions/_shared/json.ts";
import { handler as resendWebhook } from "../../functions/resend-webhook/handler.ts";
import { handler as stripeWebhook } from "../../functions/stripe-webhook/handler.ts";
import { handler as twilioStatus } from "../../functions/twilio-status/handler.ts";
import { ownerQuery, asUser, closeTestPools, failure } from "../support/db.ts";
import { useFileEnv } from "../support/file-env.ts";
import { databaseSnapshot, diffSnapshots } from "../support/fuzz/snapshot.ts";
import { createHost, publishedEvent } from "../support/events.ts";
import { createUser } from "../support/users.ts";

const STRIPE_SECRET = "whsec_regression_platform";
const SVIX_SECRET = `whsec_${Buffer.from("resend-webhook-regression-secret").toString("base64")}`;
const TWILIO = { sid: "AC0123456789abcdef0123456789abcdef", token: "0123456789abcdef0123456789abcdef", url: "https://rally.example/functions/v1/twilio-status" };
useFileEnv({
  STRIPE_WEBHOOK_SECRET: STRIPE_SECRET, RESEND_WEBHOOK_SECRET: SVIX_SECRET, TWILIO_ACCOUNT_SID: TWILIO.sid,
  TWILIO_AUTH_TOKEN: TWILIO.token, TWILIO_STATUS_CALLBACK_URL: TWILIO.url,
});

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

/** A body JSON allows and PostgreSQL's jsonb refuses: a NUL escape, then a lone surrogate escape. */
const UNSTORABLE_STRINGS = ["\\u0000", "\\udfff"];

describe("fuzzing findings stay fixed", () => {
  it("a user who sends a nested list of notification ids gets invalid_ids, and their notifications stay unread", async () => {
    const reader = await createUser();
    const fan = await createUser();
    await asUser(fan.claims, (db) => db.query("select public.follow_user($1)", [reader.id]));
    const { rows: [note] } = await ownerQuery<{ id: string }>(
      "select id from public.notifications where user_id = $1 and read_at is null limit 1", [reader.id]);
    expect(note).toBeDefined();
    const body = JSON.stringify({ p_ids: [[note?.id], [note?.id]] });
    const err = await failure(asUser(reader.claims, (db) =>
      db.query(`select r.* from json_to_record($1::json) as _ ("p_ids" uuid[])
                 cross join lateral public.mark_notifications_read(p_ids := _.p_ids) as r`, [body])));
    expect(err).toMatchObject({ code: "22023", hint: "invalid_ids" });
    const { rows } = await ownerQuery("select 1 from public.notifications where user_id = $1 and read_at is null", [reader.id]);
    expect(rows.length).toBeGreaterThan(0);
  });

  it("a host who sends a nested list of people to invite_to_event gets invalid_argument, and nobody is invited", async () => {
    const host = await createHost("nested_inviter");
    const { event } = await publishedEvent(host, { visibility: "private" });
    const guest = await createUser();
    const body = JSON.stringify({ p_event_id: event.id, p_user_ids: [[guest.id], [guest.id]] });
    const err = await failure(asUser(host.claims, (db) =>
      db.query(`select r.* from json_to_record($1::json) as _ ("p_event_id" uuid, "p_user_ids" uuid[])
                 cross join lateral public.invite_to_event(p_event_id := _.p_event_id, p_user_ids := _.p_user_ids) as r`, [body])));
    expect(err).toMatchObject({ code: "22023", hint: "invalid_argument" });
    const { rows } = await ownerQuery("select 1 from public.event_invitations where event_id = $1", [event.id]);
    expect(rows).toEqual([]);
  });

  it("knows which JSON strings PostgreSQL cannot store", () => {
    expect(storableInPostgres({ a: ["fine", "emoji 👩‍👩‍👧‍👦", { b: "\ud83d\ude00" }] })).toBe(true);
    expect(storableInPostgres({ a: "nul \u0000 inside" })).toBe(false);
    expect(storableInPostgres(["\udfff"])).toBe(false);
    expect(storableInPostgres({ ["key\ud800"]: 1 })).toBe(false);
  });

  it.each(UNSTORABLE_STRINGS)("a Stripe-signed event carrying %s is refused with 400 invalid_json, not a 500, and nothing is written", async (escape) => {
    const payload = `{"id":"evt_${escape}","object":"event","type":"customer.created","created":${Math.floor(Date.now() / 1000)},"livemode":false,"data":{"object":{"id":"cus_1"}}}`;
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: STRIPE_SECRET });
    const before = await databaseSnapshot();
    const res = await stripeWebhook(new Request("http://127.0.0.1/stripe-webhook", {
      method: "POST", headers: { "Content-Type": "application/json", "Stripe-Signature": signature }, body: payload,
    }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_json" } });
    expect(diffSnapshots(before, await databaseSnapshot())).toEqual([]);
  });

  it.each(UNSTORABLE_STRINGS)("a Resend (Svix-signed) event carrying %s is refused with 400 invalid_json and nothing is written", async (escape) => {
    const body = `{"type":"email.delivered","created_at":"2026-11-25T12:00:00Z","data":{"email_id":"re_${escape}"}}`;
    const id = `msg_${crypto.randomUUID()}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const before = await databaseSnapshot();
    const res = await resendWebhook(new Request("http://127.0.0.1/resend-webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json", "svix-id": id, "svix-timestamp": timestamp, "svix-signature": await svixSignature(SVIX_SECRET, id, timestamp, body) },
      body,
    }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_json" } });
    expect(diffSnapshots(before, await databaseSnapshot())).toEqual([]);
  });

  it("a Twilio-signed status callback carrying a NUL is refused with 400 invalid_form and nothing is written", async () => {
    const params = new URLSearchParams({ MessageSid: "SM\u0000x", MessageStatus: "delivered", AccountSid: TWILIO.sid });
    const before = await databaseSnapshot();
    const res = await twilioStatus(new Request("http://127.0.0.1/twilio-status", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": await twilioSignature(TWILIO.token, TWILIO.url, params.entries()) },
      body: params.toString(),
    }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_form" } });
    expect(diffSnapshots(before, await databaseSnapshot())).toEqual([]);
  });

  const stripeEvent = (fields: Record<string, string>): string => {
    const base: Record<string, string> = {
      id: `"evt_reg${crypto.randomUUID().replaceAll("-", "")}"`, object: '"event"', type: '"customer.created"',
      created: String(Math.floor(Date.now() / 1000)), livemode: "false", data: '{"object":{"id":"cus_1"}}',
    };
    return `{${Object.entries({ ...base, ...fields }).map(([k, v]) => `"${k}":${v}`).join(",")}}`;
  };

  it.each([
    ["an id outside Stripe's evt_ alphabet", { id: '"evt_with_underscores"' }],
    ["a created time that is not a number", { created: '"yesterday"' }],
    ["a created time beyond the year 9999", { created: "1e400" }],
    ["a livemode that is not a boolean", { livemode: '"yes"' }],
    ["a data.object that is not an object", { data: '{"object":"cus_1"}' }],
    ["a payment_intent.succeeded whose amount is not a number", {
      type: '"payment_intent.succeeded"',
      data: '{"object":{"id":"pi_reg1","object":"payment_intent","amount":"abc","amount_received":"abc","currency":"eur","status":"succeeded","metadata":{"booking_id":"abc","payment_id":"abc"}}}',
    }],
  ])("a Stripe-signed body with %s is refused with 400 invalid_stripe_event, and no event is stored", async (_what, fields) => {
    const payload = stripeEvent(fields);
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: STRIPE_SECRET });
    const res = await stripeWebhook(new Request("http://127.0.0.1/stripe-webhook", {
      method: "POST", headers: { "Content-Type": "application/json", "Stripe-Signature": signature }, body: payload,
    }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_stripe_event" } });
    const id = (JSON.parse(payload) as { id: string }).id;
    expect((await ownerQuery("select 1 from private.stripe_events where id = $1", [id])).rows).toEqual([]);
  });

  it.each([
    ["block_user", "select public.block_user($1)"],
    ["follow_user", "select public.follow_user($1)"],
    ["start_direct_conversation", "select public.start_direct_conversation($1)"],
    ["set_phone_number", "select public.set_phone_number('+447400123456')"],
  ])("a user whose account was deleted while their token is still valid gets account_not_found from %s, and nothing is written", async (_rpc, sql) => {
    const gone = await createUser();
    const other = await createUser();
    await ownerQuery("delete from auth.users where id = $1", [gone.id]);
    const before = await databaseSnapshot();
    const err = await failure(asUser(gone.claims, (db) => db.query(sql, sql.includes("$1") ? [other.id] : [])));
    expect(err).toMatchObject({ code: "42501", hint: "account_not_found" });
    expect(diffSnapshots(before, await databaseSnapshot())).toEqual([]);
  });

  it("measures nesting without recursion", () => {
    expect([nestingDepth(1), nestingDepth([]), nestingDepth({ a: [1, { b: 2 }] })]).toEqual([0, 1, 3]);
    expect(nestingDepth(JSON.parse(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`))).toBe(100_000);
  });

  it("a Resend (Svix-signed) event nested 5,000 levels deep is refused with 400 invalid_json, not a 500, and nothing is written", async () => {
    const body = `{"type":"email.delivered","data":${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}}`;
    const id = `msg_${crypto.randomUUID()}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const before = await databaseSnapshot();
    const res = await resendWebhook(new Request("http://127.0.0.1/resend-webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json", "svix-id": id, "svix-timestamp": timestamp, "svix-signature": await svixSignature(SVIX_SECRET, id, timestamp, body) },
      body,
    }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_json" } });
    expect(diffSnapshots(before, await databaseSnapshot())).toEqual([]);
  });

  it("a Stripe-signed body whose duplicate key hides a lone surrogate escape is refused with 400 invalid_json, not a 500", async () => {
    const payload = `{"id":"evt_reg${crypto.randomUUID().replaceAll("-", "")}","object":"event","type":"\\udfff","type":"customer.created",` +
      `"created":${Math.floor(Date.now() / 1000)},"livemode":false,"data":{"object":{"id":"cus_1"}}}`;
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: STRIPE_SECRET });
    const res = await stripeWebhook(new Request("http://127.0.0.1/stripe-webhook", {
      method: "POST", headers: { "Content-Type": "application/json", "Stripe-Signature": signature }, body: payload,
    }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_json" } });
    const id = (JSON.parse(payload) as { id: string }).id;
    expect((await ownerQuery("select 1 from private.stripe_events where id = $1", [id])).rows).toEqual([]);
  });
});
