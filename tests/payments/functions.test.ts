/**
 * The payments functions over HTTP, through the gateway, against the Stripe stand-in: every
 * refusal with its status and code (and nothing written), and the answers apps rely on.
 */
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { anonKey, serviceRoleKey } from "../support/jwt.ts";
import { CONNECT_WEBHOOK_SECRET, type PaymentsHarness, startPayments, WEBHOOK_SECRET } from "../support/payments.ts";
import { createUser, issueAccessToken, type TestUser } from "../support/users.ts";
import { envOverride } from "../support/env.ts";

let h: PaymentsHarness;

beforeAll(async () => {
  h = await startPayments();
});

afterAll(async () => {
  await h.close();
  await closeTestPools();
});

async function signed(payload: string, secret: string, timestamp?: number): Promise<string> {
  return Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, ...(timestamp === undefined ? {} : { timestamp }) });
}

async function postWebhook(payload: string, signature: string | null, path = ""): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${h.functionsUrl}/stripe-webhook${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(signature === null ? {} : { "Stripe-Signature": signature }) },
    body: payload,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function event(id: string, type: string, object: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id, object: "event", type, created: Math.floor(Date.now() / 1000), livemode: false, api_version: "2026-10-28.endive",
    data: { object }, ...extra });
}

describe("stripe-webhook", () => {
  it("refuses a request without a signature, with a wrong one, or signed with the other endpoint's secret, and stores nothing", async () => {
    const payload = event("evt_Sig1", "customer.created", { object: "customer", id: "cus_sig" });
    expect(await postWebhook(payload, null)).toMatchObject({ status: 400, body: { error: { code: "missing_signature" } } });
    expect(await postWebhook(payload, await signed(payload, "whsec_wrong"))).toMatchObject({ status: 400, body: { error: { code: "invalid_signature" } } });
    expect(await postWebhook(payload, await signed(payload, CONNECT_WEBHOOK_SECRET))).toMatchObject({ status: 400 });
    expect(await postWebhook(payload, await signed(payload, WEBHOOK_SECRET), "/connect")).toMatchObject({ status: 400 });
    const { rows } = await ownerQuery("select 1 from private.stripe_events where id = 'evt_Sig1'");
    expect(rows).toEqual([]);
  });

  it("refuses a signature older than the 300-second tolerance (a replayed capture)", async () => {
    const payload = event("evt_Sig2", "customer.created", { object: "customer", id: "cus_old" });
    const old = Math.floor(Date.now() / 1000) - 301;
    expect(await postWebhook(payload, await signed(payload, WEBHOOK_SECRET, old))).toMatchObject({ status: 400, body: { error: { code: "invalid_signature" } } });
  });

  it("refuses a body that is not the one signed (tampered amount)", async () => {
    const payload = event("evt_Sig3", "customer.created", { object: "customer", id: "cus_t" });
    const signature = await signed(payload, WEBHOOK_SECRET);
    expect(await postWebhook(payload.replace("cus_t", "cus_u"), signature)).toMatchObject({ status: 400 });
  });

  it("stores an unknown event type as ignored (not dropped), and a redelivery is a duplicate", async () => {
    const payload = event("evt_UnknownHttp", "invoice.paid", { object: "invoice", id: "in_1" });
    expect(await postWebhook(payload, await signed(payload, WEBHOOK_SECRET))).toEqual({ status: 200, body: { received: true, result: "ignored" } });
    expect(await postWebhook(payload, await signed(payload, WEBHOOK_SECRET))).toEqual({ status: 200, body: { received: true, result: "duplicate" } });
    const { rows } = await ownerQuery<{ status: string; payload: { type: string } }>("select status, payload from private.stripe_events where id = 'evt_UnknownHttp'");
    expect(rows).toEqual([{ status: "ignored", payload: expect.objectContaining({ type: "invoice.paid" }) }]);
  });

  it("accepts Connect events on /connect with the Connect secret", async () => {
    const payload = event("evt_ConnectHttp", "account.updated", { object: "account", id: "acct_nobody" }, { account: "acct_nobody" });
    expect(await postWebhook(payload, await signed(payload, CONNECT_WEBHOOK_SECRET), "/connect")).toEqual({ status: 200, body: { received: true, result: "processed" } });
    const { rows } = await ownerQuery<{ endpoint: string; result: string }>("select endpoint, result from private.stripe_events where id = 'evt_ConnectHttp'");
    expect(rows).toEqual([{ endpoint: "connect", result: "unknown_account" }]);
  });

  it("answers 503 not_configured when the endpoint's secret is not set", async () => {
    const env = envOverride();
    env.set({ STRIPE_CONNECT_WEBHOOK_SECRET: undefined });
    try {
      const payload = event("evt_Nocfg", "account.updated", { object: "account", id: "acct_x" });
      expect(await postWebhook(payload, await signed(payload, CONNECT_WEBHOOK_SECRET), "/connect"))
        .toMatchObject({ status: 503, body: { error: { code: "not_configured", details: { variables: ["STRIPE_CONNECT_WEBHOOK_SECRET"] } } } });
    } finally {
      env.restore();
    }
  });
});

describe("connect-onboarding", () => {
  let guest: TestUser;

  beforeAll(async () => {
    guest = await createUser();
  });

  it("is for signed-in hosts only", async () => {
    expect(await h.call("connect-onboarding", { method: "GET" })).toMatchObject({ status: 401 });
    expect(await h.call("connect-onboarding", { method: "GET", token: await anonKey() })).toMatchObject({ status: 401 });
    expect(await h.call("connect-onboarding", { token: guest.token, body: {} })).toMatchObject({ status: 403, body: { error: { code: "not_a_host" } } });
  });

  it("refuses redirects to other sites and creates nothing", async () => {
    const user = await createUser();
    await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [user.id]);
    const host = { ...user, ...(await issueAccessToken(user.id)) };
    const res = await h.call("connect-onboarding", { token: host.token, body: { return_url: "https://evil.example/steal" } });
    expect(res).toMatchObject({ status: 400, body: { error: { code: "redirect_not_allowed" } } });
    expect(await h.call("connect-onboarding", { token: host.token, body: { country: "gb" } })).toMatchObject({ status: 400, body: { error: { code: "validation_failed" } } });
    const { rows } = await ownerQuery("select 1 from private.stripe_accounts where host_id = $1", [host.id]);
    expect(rows).toEqual([]);
  });

  it("creates one Express account per host however often it is called, with an onboarding link each time", async () => {
    const user = await createUser();
    await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [user.id]);
    const host = { ...user, ...(await issueAccessToken(user.id)) };
    const first = await h.call("connect-onboarding", { token: host.token, body: { return_url: "http://127.0.0.1:3000/done" } });
    const second = await h.call("connect-onboarding", { token: host.token, body: {} });
    expect(first.status).toBe(200);
    expect(second.body.account_id).toBe(first.body.account_id);
    expect(first.body).toMatchObject({ payouts_enabled: false, details_submitted: false, standin: true });
    expect(String(first.body.onboarding_url)).toContain(String(first.body.account_id));
    const account = h.standin.store.accounts.get(String(first.body.account_id));
    expect(account?.metadata).toEqual({ host_id: host.id });
    expect(account?.settings).toMatchObject({ payouts: { schedule: { interval: "manual" } } });
    const status = await h.call("connect-onboarding", { method: "GET", token: host.token, path: "?refresh=true" });
    expect(status).toMatchObject({ status: 200, body: { account_id: first.body.account_id, payouts_enabled: false } });
  });
});

describe("checkout", () => {
  let host: TestUser;
  let guest: TestUser;
  let other: TestUser;

  beforeAll(async () => {
    host = await h.readyHost();
    guest = await createUser();
    other = await createUser();
  });

  it("validates the request and the caller", async () => {
    expect(await h.call("checkout", { body: {} })).toMatchObject({ status: 401 });
    expect(await h.call("checkout", { token: guest.token, body: { booking_id: "nope" } })).toMatchObject({ status: 400, body: { error: { code: "validation_failed" } } });
    expect(await h.call("checkout", { token: guest.token, body: { booking_id: crypto.randomUUID() } })).toMatchObject({ status: 404, body: { error: { code: "booking_not_found" } } });
    const res = await fetch(`${h.functionsUrl}/checkout`, { method: "GET", headers: { Authorization: `Bearer ${guest.token}` } });
    expect(res.status).toBe(405);
  });

  it("gives the guest one PaymentIntent per booking (same intent on every call) and nobody else any", async () => {
    const gig = await h.paidEvent(host, { price: 1800 });
    const bookingId = await h.book(guest, gig, 2);
    expect(await h.checkout(other, bookingId)).toMatchObject({ status: 403, body: { error: { code: "not_your_booking" } } });
    const first = await h.checkout(guest, bookingId);
    const again = await h.checkout(guest, bookingId);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ booking_id: bookingId, amount_cents: 3600, currency: "EUR", status: "requires_payment_method", standin: true });
    expect(String(first.body.client_secret)).toMatch(/^pi_.+_secret_/);
    expect(again.body.payment_intent_id).toBe(first.body.payment_intent_id);
    const intent = h.standin.store.paymentIntents.get(String(first.body.payment_intent_id));
    expect(intent).toMatchObject({ transfer_group: bookingId, metadata: expect.objectContaining({ booking_id: bookingId }) });
    expect([...h.standin.store.paymentIntents.values()].filter((pi) => pi.transfer_group === bookingId)).toHaveLength(1);
  });

  it("answers 409 hold_expired once the hold is over, and 409 already_paid after payment", async () => {
    const gig = await h.paidEvent(host, { price: 1000 });
    const expired = await h.book(guest, gig);
    await ownerQuery("update public.bookings set hold_expires_at = now() - interval '1 second' where id = $1", [expired]);
    expect(await h.checkout(guest, expired)).toMatchObject({ status: 409, body: { error: { code: "hold_expired" } } });
    await ownerQuery("select private.expire_stale_bookings()");
    const paid = await h.bookAndPay(other, gig);
    expect(await h.checkout(other, paid.bookingId)).toMatchObject({ status: 409, body: { error: { code: "already_paid" } } });
  });

  it("a declined card leaves the booking held (the guest may try again) and books nothing", async () => {
    const gig = await h.paidEvent(host, { price: 1200 });
    const bookingId = await h.book(guest, gig);
    const checkout = await h.checkout(guest, bookingId);
    await expect(h.stripe.paymentIntents.confirm(String(checkout.body.payment_intent_id), { payment_method: "pm_card_chargeDeclined" }))
      .rejects.toMatchObject({ type: "StripeCardError", code: "card_declined" });
    await h.settle();
    const { rows } = await ownerQuery<{ status: string; last_payment_error: string }>(
      "select b.status, p.last_payment_error from public.bookings b join private.payments p on p.booking_id = b.id where b.id = $1", [bookingId]);
    expect(rows[0]).toEqual({ status: "held", last_payment_error: "Your card was declined." });
    const ledger = await ownerQuery("select 1 from private.ledger_transactions where booking_id = $1", [bookingId]);
    expect(ledger.rows).toEqual([]);
  });

  it("answers 503 not_configured when Stripe is not configured at all", async () => {
    const env = envOverride();
    env.set({ STRIPE_API_BASE: undefined });
    try {
      const gig = await h.paidEvent(host, { price: 1000 });
      const bookingId = await h.book(other, gig);
      expect(await h.checkout(other, bookingId)).toMatchObject({ status: 503, body: { error: { code: "not_configured" } } });
    } finally {
      env.restore();
    }
  });
});

describe("payments-worker", () => {
  it("runs only with the service role key", async () => {
    const guest = await createUser();
    expect(await h.call("payments-worker", { body: {} })).toMatchObject({ status: 401 });
    expect(await h.call("payments-worker", { token: await anonKey(), body: {} })).toMatchObject({ status: 403, body: { error: { code: "service_role_only" } } });
    expect(await h.call("payments-worker", { token: guest.token, body: {} })).toMatchObject({ status: 403 });
    expect(await h.call("payments-worker", { token: await serviceRoleKey(), body: { max_commands: 0 } })).toMatchObject({ status: 400 });
    expect(await h.call("payments-worker", { token: await serviceRoleKey(), body: {} })).toMatchObject({ status: 200 });
  });
});
