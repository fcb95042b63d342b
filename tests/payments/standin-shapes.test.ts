/**
 * The stand-in cannot drift from the pinned API version: its parameter trees, object fields and
 * event types are read from stripe-node 23.1.0's type declarations (the committed
 * shapes/stripe-api.json must match what the installed stripe-node says), and every object the
 * stand-in returns or sends in a webhook — driven through a whole money story with the real
 * stripe-node client — carries every field the type declares as always present, and no field
 * the type does not know.
 */
import { readFileSync } from "node:fs";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatShapes, SHAPES_FILE } from "../../tools/stripe-standin/shapes/generate.ts";
import { readStripeShapes, type StripeApiShapes } from "../../tools/stripe-standin/shapes/read-stripe-types.ts";
import { startStripeStandin, type StripeStandin } from "../../tools/stripe-standin/server.ts";

let standin: StripeStandin;
let shapes: StripeApiShapes;

beforeAll(async () => {
  standin = await startStripeStandin({ delivery: "manual", refunds: "manual", payouts: "manual" });
  shapes = JSON.parse(readFileSync(SHAPES_FILE, "utf8")) as StripeApiShapes;
});

afterAll(async () => {
  await standin.close();
});

const TYPE_BY_OBJECT: Record<string, string> = {
  account: "Account", account_link: "AccountLink", payment_intent: "PaymentIntent", charge: "Charge", balance_transaction: "BalanceTransaction",
  refund: "Refund", transfer: "Transfer", transfer_reversal: "TransferReversal", payout: "Payout", dispute: "Dispute", event: "Event",
  balance: "Balance", capability: "Capability",
};

/** What is wrong with an object against its type: missing always-present fields, unknown fields. */
function problems(value: Record<string, unknown>): string[] {
  const name = TYPE_BY_OBJECT[String(value.object)];
  if (name === undefined) return [`no type for object ${String(value.object)}`];
  const shape = shapes.objects[name];
  if (shape === undefined) return [`no shape for ${name}`];
  const out: string[] = [];
  for (const field of shape.fields) {
    if (!shape.optional.includes(field) && !(field in value)) out.push(`${name} lacks ${field}`);
  }
  for (const field of Object.keys(value)) if (!shape.fields.includes(field) && field !== "lastResponse") out.push(`${name} has unknown field ${field}`);
  return out;
}

describe("the shapes file", () => {
  it("matches the installed stripe-node's type declarations (regenerate with npm run gen:stripe-shapes)", () => {
    expect(readFileSync(SHAPES_FILE, "utf8")).toBe(formatShapes(readStripeShapes()));
    expect(shapes.apiVersion).toBe("2026-10-28.endive");
    expect(shapes.stripeNodeVersion).toBe("23.1.0");
  });

  it("knows every event type Rally's webhook applies, with the object each carries", () => {
    const applied: Record<string, string> = {
      "payment_intent.succeeded": "PaymentIntent", "payment_intent.payment_failed": "PaymentIntent", "payment_intent.canceled": "PaymentIntent",
      "payment_intent.processing": "PaymentIntent", "payment_intent.requires_action": "PaymentIntent", "payment_intent.created": "PaymentIntent",
      "charge.succeeded": "Charge", "charge.updated": "Charge", "charge.refunded": "Charge", "charge.captured": "Charge",
      "refund.created": "Refund", "refund.updated": "Refund", "refund.failed": "Refund", "charge.refund.updated": "Refund",
      "charge.dispute.created": "Dispute", "charge.dispute.updated": "Dispute", "charge.dispute.closed": "Dispute",
      "charge.dispute.funds_withdrawn": "Dispute", "charge.dispute.funds_reinstated": "Dispute",
      "transfer.created": "Transfer", "transfer.updated": "Transfer", "transfer.reversed": "Transfer",
      "payout.created": "Payout", "payout.updated": "Payout", "payout.paid": "Payout", "payout.failed": "Payout", "payout.canceled": "Payout",
      "account.updated": "Account", "capability.updated": "Capability",
    };
    for (const [type, object] of Object.entries(applied)) expect(shapes.events[type], type).toBe(object);
  });
});

describe("objects the stand-in returns and sends", () => {
  it("the check itself fails on a missing or an unknown field", () => {
    expect(problems({ object: "refund", id: "re_1", colour: "red" })).toEqual(expect.arrayContaining(["Refund lacks amount", "Refund has unknown field colour"]));
  });

  it("carry every always-present field of the pinned version and nothing unknown, across a whole money story", async () => {
    const stripe = new Stripe("sk_test_shapes", {
      apiVersion: "2026-10-28.endive", httpClient: Stripe.createFetchHttpClient(), host: "127.0.0.1", port: standin.port, protocol: "http", maxNetworkRetries: 0,
    });
    const returned: object[] = [];
    const keep = <T extends object>(value: T): T => {
      returned.push(value);
      return value;
    };
    const account = keep(await stripe.accounts.create({ capabilities: { transfers: { requested: true } }, controller: { stripe_dashboard: { type: "express" }, fees: { payer: "application" }, losses: { payments: "application" } } }));
    keep(await stripe.accountLinks.create({ account: account.id, type: "account_onboarding", return_url: "http://x.test/r", refresh_url: "http://x.test/f" }));
    standin.store.completeOnboarding(account.id);
    keep(await stripe.accounts.retrieve(account.id));
    const intent = keep(await stripe.paymentIntents.create({ amount: 5000, currency: "usd", automatic_payment_methods: { enabled: true }, metadata: { a: "1" } }));
    keep(await stripe.paymentIntents.confirm(intent.id, { payment_method: "pm_card_visa" }));
    await standin.idle();
    const paid = keep(await stripe.paymentIntents.retrieve(intent.id));
    const charge = keep(await stripe.charges.retrieve(String(paid.latest_charge)));
    keep(await stripe.balanceTransactions.retrieve(String(charge.balance_transaction)));
    const refund = keep(await stripe.refunds.create({ payment_intent: intent.id, amount: 1000 }));
    standin.store.settleRefund(refund.id, "succeeded");
    keep(await stripe.refunds.retrieve(refund.id));
    const transfer = keep(await stripe.transfers.create({ amount: 2000, currency: "eur", destination: account.id, source_transaction: charge.id }));
    keep(await stripe.transfers.createReversal(transfer.id, { amount: 500 }));
    keep(await stripe.transfers.retrieve(transfer.id));
    const payout = keep(await stripe.payouts.create({ amount: 700, currency: "eur" }, { stripeAccount: account.id }));
    standin.store.settlePayout(payout.id, "paid");
    standin.store.settlePayout(payout.id, "failed");
    keep(await stripe.payouts.retrieve(payout.id, {}, { stripeAccount: account.id }));
    const disputed = await stripe.paymentIntents.create({ amount: 3000, currency: "eur" });
    await stripe.paymentIntents.confirm(disputed.id, { payment_method: "pm_card_createDispute" });
    await standin.idle();
    const dispute = [...standin.store.disputes.values()].find((d) => d.payment_intent === disputed.id);
    expect(dispute).toBeDefined();
    keep(await stripe.disputes.update(dispute?.id ?? "", { evidence: { uncategorized_text: "losing_evidence" }, submit: true }));
    await standin.idle();
    standin.store.openAppeal(dispute?.id ?? "");
    keep(await stripe.disputes.update(dispute?.id ?? "", { evidence: { appeal: { card: { reason_for_filing: "winning_evidence" } } }, submit: true }));
    await standin.idle();
    keep(await stripe.disputes.retrieve(dispute?.id ?? ""));
    keep(await stripe.balance.retrieve());
    const events = await stripe.events.list({ limit: 100 });
    for (const event of events.data) keep(event);

    const sent = standin.store.events;
    const types = new Set(sent.map((e) => e.type));
    for (const type of ["account.updated", "capability.updated", "payment_intent.created", "charge.succeeded", "charge.updated", "payment_intent.succeeded",
      "refund.created", "refund.updated", "charge.refunded", "transfer.created", "transfer.reversed", "payout.created", "payout.paid", "payout.failed",
      "charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.updated", "charge.dispute.closed", "charge.dispute.funds_reinstated"]) {
      expect(types, `the story produced ${type}`).toContain(type);
    }
    const all: Record<string, unknown>[] = [...returned, ...sent].map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);
    for (const event of sent) {
      const data = event.data as { object: Record<string, unknown> };
      all.push(data.object);
      expect(shapes.events[event.type], `${event.type} is an event type of the pinned version`).toBeDefined();
      expect(TYPE_BY_OBJECT[String(data.object.object)], `${event.type} carries a ${shapes.events[event.type]}`).toBe(shapes.events[event.type]);
    }
    expect(all.flatMap(problems)).toEqual([]);
    expect(new Set(all.map((o) => o.object)).size).toBe(Object.keys(TYPE_BY_OBJECT).length);
  });
});
