/**
 * The Stripe webhook under Deno (the Edge Runtime's engine): stripe-node's worker build with
 * SubtleCrypto verifies a signature made by stripe-node's generateTestHeaderStringAsync, and
 * the verified event is stored once in the database.
 *
 *   deno test --allow-all --config functions/deno.json tests/smoke/
 *
 * Needs SUPABASE_DB_URL (the test runner provides it); without it the database step is skipped.
 */
import Stripe from "stripe";
import { closePool } from "../../functions/_shared/db.ts";
import { readEnv } from "../../functions/_shared/env.ts";
import { handler } from "../../functions/stripe-webhook/handler.ts";

interface DenoTestApi {
  test(definition: { name: string; sanitizeOps?: boolean; sanitizeResources?: boolean; fn: () => Promise<void> }): void;
  env: { set(name: string, value: string): void };
}

const deno = (globalThis as { Deno?: DenoTestApi }).Deno;
if (deno === undefined) throw new Error("tests/smoke runs under `deno test`, not vitest or node.");

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const SECRET = "whsec_deno_smoke_secret";

async function post(payload: string, signature: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await handler(new Request("http://127.0.0.1/stripe-webhook", {
    method: "POST", headers: { "Stripe-Signature": signature, "Content-Type": "application/json" }, body: payload,
  }));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

deno.test({
  name: "stripe-webhook verifies signatures with SubtleCrypto under Deno and stores the event once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    deno.env.set("STRIPE_WEBHOOK_SECRET", SECRET);
    const id = `evt_denosmoke${crypto.randomUUID().replaceAll("-", "")}`;
    const payload = JSON.stringify({
      id, object: "event", type: "customer.created", created: Math.floor(Date.now() / 1000), livemode: false,
      data: { object: { id: "cus_deno", object: "customer" } },
    });
    const bad = await post(payload, await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: "whsec_other" }));
    assert(bad.status === 400, `a wrong signature answers 400, got ${bad.status}`);
    if (readEnv("SUPABASE_DB_URL") === undefined) return;
    try {
      const header = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: SECRET });
      const first = await post(payload, header);
      assert(first.status === 200 && first.body.result === "ignored", `first delivery: ${JSON.stringify(first)}`);
      const again = await post(payload, header);
      assert(again.status === 200 && again.body.result === "duplicate", `redelivery: ${JSON.stringify(again)}`);
    } finally {
      await closePool();
    }
  },
});
