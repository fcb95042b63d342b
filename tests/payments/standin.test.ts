/**
 * The Stripe stand-in keeps Stripe's contract where Rally depends on it: authentication,
 * error shapes, idempotency (same key + same parameters → the same answer, replayed; other
 * parameters → 400 idempotency_error), failure injection, and webhooks signed so that
 * stripe-node's constructEventAsync accepts them — and retried when the endpoint fails.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStripeStandin, type StripeStandin } from "../../tools/stripe-standin/server.ts";

let standin: StripeStandin;

function client(options: { key?: string; retries?: number; timeout?: number } = {}): Stripe {
  return new Stripe(options.key ?? "sk_test_standin_tests", {
    apiVersion: "2026-10-28.endive", httpClient: Stripe.createFetchHttpClient(), host: "127.0.0.1", port: standin.port, protocol: "http",
    maxNetworkRetries: options.retries ?? 0, timeout: options.timeout ?? 5000,
  });
}

async function raw(path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${standin.url}${path}`, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

const form = (key: string, body: string, extra: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/x-www-form-urlencoded", ...extra },
  body,
});

beforeAll(async () => {
  standin = await startStripeStandin({ retryDelaysMs: [20, 20] });
});

afterAll(async () => {
  await standin.close();
});

describe("authentication and errors", () => {
  it("answers 401 without a key, with a bad key, and for live keys", async () => {
    expect(await raw("/v1/balance")).toMatchObject({ status: 401, body: { error: { type: "invalid_request_error" } } });
    expect((await raw("/v1/balance", { headers: { Authorization: "Bearer nope" } })).status).toBe(401);
    expect((await raw("/v1/balance", { headers: { Authorization: "Bearer sk_live_123" } })).status).toBe(401);
    await expect(client({ key: "sk_live_abc" }).balance.retrieve()).rejects.toMatchObject({ type: "StripeAuthenticationError" });
  });

  it("uses Stripe's error shape and says it is a stand-in for unknown routes", async () => {
    const res = await raw("/v1/subscriptions", form("sk_test_x", "customer=cus_1"));
    expect(res.status).toBe(404);
    expect(String((res.body.error as Record<string, unknown>).message)).toContain("stand-in");
    expect(res.headers.get("stripe-standin")).toBe("true");
    await expect(client().paymentIntents.create({ amount: 10, currency: "eur" })).rejects.toMatchObject({
      type: "StripeInvalidRequestError", code: "amount_too_small", param: "amount",
    });
    await expect(client().refunds.create({})).rejects.toMatchObject({ type: "StripeInvalidRequestError", statusCode: 400 });
    await expect(client().transfers.retrieve("tr_missing")).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
  });
});

describe("strict parameters (the pinned API version's, from stripe-node's types)", () => {
  it("refuses an unknown parameter with Stripe's parameter_unknown error naming it, at any depth, and runs nothing", async () => {
    const before = standin.store.paymentIntents.size;
    const top = await raw("/v1/payment_intents", form("sk_test_a", "amount=1000&currency=eur&colour=blue"));
    expect(top).toMatchObject({ status: 400, body: { error: { type: "invalid_request_error", code: "parameter_unknown", param: "colour", message: "Received unknown parameter: colour" } } });
    const deep = await raw("/v1/accounts", form("sk_test_a", "controller[fees][payer]=application&controller[fees][who]=x"));
    expect(deep).toMatchObject({ status: 400, body: { error: { code: "parameter_unknown", param: "controller[fees][who]" } } });
    await expect(client().refunds.create({ payment_intent: "pi_x", amount: 5, refund_everything: true } as never))
      .rejects.toMatchObject({ type: "StripeInvalidRequestError", code: "parameter_unknown", param: "refund_everything", statusCode: 400 });
    const get = await raw("/v1/balance?currency=eur", { headers: { Authorization: "Bearer sk_test_a" } });
    expect(get).toMatchObject({ status: 400, body: { error: { code: "parameter_unknown", param: "currency" } } });
    expect(standin.store.paymentIntents.size).toBe(before);
  });

  it("refuses a parameter Stripe takes but the stand-in does not implement, instead of ignoring it", async () => {
    const res = await raw("/v1/payment_intents", form("sk_test_a", "amount=1000&currency=eur&on_behalf_of=acct_1"));
    expect(res).toMatchObject({ status: 400, body: { error: { code: "standin_unsupported", param: "on_behalf_of" } } });
  });

  it("refuses a missing required parameter with parameter_missing", async () => {
    await expect(client().transfers.create({ amount: 10, currency: "eur" } as never)).rejects.toMatchObject({ code: "parameter_missing", param: "destination" });
  });
});

describe("idempotency", () => {
  it("the same key with the same parameters replays the first answer, marked Idempotent-Replayed", async () => {
    const first = await raw("/v1/payment_intents", form("sk_test_a", "amount=1000&currency=eur&metadata[b]=1", { "Idempotency-Key": "k-1" }));
    const again = await raw("/v1/payment_intents", form("sk_test_a", "currency=eur&metadata[b]=1&amount=1000", { "Idempotency-Key": "k-1" }));
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect([...standin.store.paymentIntents.values()].filter((pi) => pi.metadata.b === "1")).toHaveLength(1);
  });

  it("the same key with other parameters is a 400 idempotency_error and runs nothing", async () => {
    await raw("/v1/payment_intents", form("sk_test_a", "amount=1000&currency=eur&metadata[b]=2", { "Idempotency-Key": "k-2" }));
    const other = await raw("/v1/payment_intents", form("sk_test_a", "amount=1001&currency=eur&metadata[b]=2", { "Idempotency-Key": "k-2" }));
    expect(other).toMatchObject({ status: 400, body: { error: { type: "idempotency_error" } } });
    await expect(client({ key: "sk_test_a" }).paymentIntents.create({ amount: 2000, currency: "eur" }, { idempotencyKey: "k-2" }))
      .rejects.toMatchObject({ type: "StripeIdempotencyError" });
    expect([...standin.store.paymentIntents.values()].filter((pi) => pi.metadata.b === "2")).toHaveLength(1);
  });

  it("does not save a request whose parameters failed validation: the corrected retry with the same key runs", async () => {
    const first = await raw("/v1/payment_intents", form("sk_test_a", "amount=1&currency=eur", { "Idempotency-Key": "k-3" }));
    expect(first).toMatchObject({ status: 400, body: { error: { code: "amount_too_small", param: "amount" } } });
    const corrected = await raw("/v1/payment_intents", form("sk_test_a", "amount=1500&currency=eur", { "Idempotency-Key": "k-3" }));
    expect(corrected.status).toBe(200);
    expect(corrected.headers.get("idempotent-replayed")).toBeNull();
    const unknown = await raw("/v1/payment_intents", form("sk_test_a", "amount=1500&currency=eur&surprise=1", { "Idempotency-Key": "k-3b" }));
    expect(unknown.status).toBe(400);
    expect((await raw("/v1/payment_intents", form("sk_test_a", "amount=1500&currency=eur", { "Idempotency-Key": "k-3b" }))).status).toBe(200);
  });

  it("saves what the endpoint refused once it ran (balance_insufficient): the same key replays it, a fresh key runs again", async () => {
    const account = await client().accounts.create({ capabilities: { transfers: { requested: true } } });
    const stripe = client();
    const ask = (key: string) => stripe.payouts.create({ amount: 100, currency: "eur" }, { idempotencyKey: key, stripeAccount: account.id });
    await expect(ask("po-1")).rejects.toMatchObject({ statusCode: 400, code: "balance_insufficient" });
    standin.store.adjust(account.id, "eur", 100);
    const replayed = await raw("/v1/payouts", form("sk_test_standin_tests", "amount=100&currency=eur", { "Idempotency-Key": "po-1", "Stripe-Account": account.id }));
    expect(replayed).toMatchObject({ status: 400, body: { error: { code: "balance_insufficient" } } });
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect((await ask("po-2")).status).toBe("pending");
  });

  it("a retry while the first request with its key still runs gets 409 idempotency_key_in_use, and nothing is saved for it", async () => {
    standin.injectFault({ path: "/v1/payment_intents", method: "POST", mode: "slow", delayMs: 400 });
    const body = "amount=990&currency=eur&metadata[slow]=1";
    const first = raw("/v1/payment_intents", form("sk_test_a", body, { "Idempotency-Key": "k-slow" }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await raw("/v1/payment_intents", form("sk_test_a", body, { "Idempotency-Key": "k-slow" }));
    expect(second).toMatchObject({ status: 409, body: { error: { code: "idempotency_key_in_use" } } });
    const done = await first;
    const third = await raw("/v1/payment_intents", form("sk_test_a", body, { "Idempotency-Key": "k-slow" }));
    expect(third.body.id).toBe(done.body.id);
    expect(third.headers.get("idempotent-replayed")).toBe("true");
  });

  it("keys are scoped to the API key and the connected account", async () => {
    const a = await raw("/v1/payment_intents", form("sk_test_a", "amount=500&currency=eur", { "Idempotency-Key": "k-4" }));
    const b = await raw("/v1/payment_intents", form("sk_test_b", "amount=500&currency=eur", { "Idempotency-Key": "k-4" }));
    expect(a.body.id).not.toBe(b.body.id);
  });
});

describe("failure injection", () => {
  it("error_before: nothing runs and nothing is saved, so the retry with the same key runs once", async () => {
    standin.injectFault({ path: "/v1/payment_intents", method: "POST", mode: "error_before", status: 503 });
    const stripe = client({ retries: 2 });
    const intent = await stripe.paymentIntents.create({ amount: 777, currency: "eur", metadata: { f: "before" } }, { idempotencyKey: "f-1" });
    expect(intent.amount).toBe(777);
    expect([...standin.store.paymentIntents.values()].filter((pi) => pi.metadata.f === "before")).toHaveLength(1);
  });

  it("error_after: it runs, but the 500 is saved and replayed for that key (the indeterminate case)", async () => {
    standin.injectFault({ path: "/v1/payment_intents", method: "POST", mode: "error_after" });
    const stripe = client({ retries: 2 });
    await expect(stripe.paymentIntents.create({ amount: 778, currency: "eur", metadata: { f: "after" } }, { idempotencyKey: "f-2" }))
      .rejects.toMatchObject({ type: "StripeAPIError", statusCode: 500 });
    await expect(stripe.paymentIntents.create({ amount: 778, currency: "eur", metadata: { f: "after" } }, { idempotencyKey: "f-2" }))
      .rejects.toMatchObject({ statusCode: 500 });
    expect([...standin.store.paymentIntents.values()].filter((pi) => pi.metadata.f === "after")).toHaveLength(1);
  });

  it("timeout: the client gives up, retries with the same key and gets the one object that was made", async () => {
    standin.injectFault({ path: "/v1/payment_intents", method: "POST", mode: "timeout", delayMs: 1500 });
    const stripe = client({ retries: 2, timeout: 300 });
    const intent = await stripe.paymentIntents.create({ amount: 779, currency: "eur", metadata: { f: "timeout" } }, { idempotencyKey: "f-3" });
    expect(intent.amount).toBe(779);
    expect([...standin.store.paymentIntents.values()].filter((pi) => pi.metadata.f === "timeout")).toHaveLength(1);
  });

  it("faults can be injected over HTTP by another process", async () => {
    expect((await raw("/_standin/faults", { method: "POST", body: JSON.stringify({ path: "/v1/balance", mode: "error_before" }) })).status).toBe(200);
    await expect(client().balance.retrieve()).rejects.toMatchObject({ statusCode: 500 });
    expect((await client().balance.retrieve()).object).toBe("balance");
  });
});

describe("webhooks", () => {
  it("signs events so stripe-node verifies them, and retries until the endpoint answers 2xx", async () => {
    const secret = "whsec_standin_test";
    const received: Stripe.Event[] = [];
    let failuresLeft = 1;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        void Stripe.webhooks.constructEventAsync(body, String(req.headers["stripe-signature"]), secret, 300, Stripe.createSubtleCryptoProvider())
          .then((evt) => {
            if (failuresLeft > 0) {
              failuresLeft -= 1;
              res.writeHead(500).end();
              return;
            }
            received.push(evt);
            res.writeHead(200).end("{}");
          }, () => res.writeHead(400).end());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    standin.setWebhooks({ url, secret }, null);
    try {
      const intent = await client().paymentIntents.create({ amount: 900, currency: "eur" });
      await client().paymentIntents.confirm(intent.id, { payment_method: "pm_card_visa" });
      await standin.idle();
      // The failed first delivery is retried later, so it arrives last: Stripe does not promise order either.
      // Asynchronous capture: charge.updated brings the balance transaction after charge.succeeded.
      expect(received.map((e) => e.type).sort()).toEqual(["charge.succeeded", "charge.updated", "payment_intent.created", "payment_intent.succeeded"]);
      const deliveries = standin.deliveries.filter((d) => received.some((e) => e.id === d.eventId));
      expect(deliveries.filter((d) => d.status === 500)).toHaveLength(1);
    } finally {
      standin.setWebhooks(null, null);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
