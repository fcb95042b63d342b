// The 200 response shapes the API reference declares for the payments functions (checkout,
// connect-onboarding, payments-worker, stripe-webhook) against real answers over HTTP, through
// the gateway and the Stripe stand-in: a declared field that is never sent, or a sent field the
// reference does not list, fails here.
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { FUNCTIONS, type HttpMethod } from "../../scripts/lib/api-reference/edge-functions.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { serviceRoleKey } from "../support/jwt.ts";
import { type PaymentsHarness, startPayments, WEBHOOK_SECRET } from "../support/payments.ts";
import { createUser, issueAccessToken } from "../support/users.ts";

let h: PaymentsHarness;

beforeAll(async () => {
  h = await startPayments();
});

afterAll(async () => {
  await h.close();
  await closeTestPools();
});

function declared(name: string, method: HttpMethod, path = `/${name}`): z.ZodType {
  const endpoint = FUNCTIONS.find((fn) => fn.name === name)?.endpoints.find((e) => e.method === method && e.path === path);
  if (endpoint === undefined) throw new Error(`the reference does not describe ${method} ${path}`);
  return endpoint.response;
}

function issues(schema: z.ZodType, body: unknown): string[] {
  const parsed = schema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

describe("payments functions answer exactly what the API reference declares", () => {
  it("connect-onboarding POST and GET, for a host starting and checking onboarding", async () => {
    const user = await createUser();
    await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [user.id]);
    const host = { ...user, ...(await issueAccessToken(user.id)) };
    const started = await h.call("connect-onboarding", { token: host.token, body: {} });
    expect(started.status).toBe(200);
    expect(issues(declared("connect-onboarding", "POST"), started.body)).toEqual([]);
    const status = await h.call("connect-onboarding", { method: "GET", token: host.token, path: "?refresh=true" });
    expect(status.status).toBe(200);
    expect(issues(declared("connect-onboarding", "GET"), status.body)).toEqual([]);
  });

  it("checkout, for a guest paying a held booking", async () => {
    const host = await h.readyHost();
    const event = await h.paidEvent(host);
    const guestUser = await createUser();
    const guest = { ...guestUser, ...(await issueAccessToken(guestUser.id)) };
    const bookingId = await h.book(guest, event);
    const res = await h.checkout(guest, bookingId);
    expect(res.status).toBe(200);
    expect(issues(declared("checkout", "POST"), res.body)).toEqual([]);
  });

  it("payments-worker, run with the service role key", async () => {
    const res = await h.call("payments-worker", { token: await serviceRoleKey(), body: {} });
    expect(res.status).toBe(200);
    expect(issues(declared("payments-worker", "POST"), res.body)).toEqual([]);
  });

  it("stripe-webhook, for a signed platform event", async () => {
    const payload = JSON.stringify({
      id: `evt_ApiRef${crypto.randomUUID().slice(0, 8)}`, object: "event", type: "customer.created", created: Math.floor(Date.now() / 1000),
      livemode: false, api_version: "2026-10-28.endive", data: { object: { object: "customer", id: "cus_apiref" } },
    });
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: WEBHOOK_SECRET });
    const res = await fetch(`${h.functionsUrl}/stripe-webhook`, {
      method: "POST", headers: { "Content-Type": "application/json", "Stripe-Signature": signature }, body: payload,
    });
    expect(res.status).toBe(200);
    expect(issues(declared("stripe-webhook", "POST"), await res.json())).toEqual([]);
  });
});
