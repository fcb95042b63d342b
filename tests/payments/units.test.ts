/**
 * Pure pieces of the payments code: Stripe error classification, what each command asks of
 * Stripe, the PaymentIntent and account parameters, redirect checks, configuration, and the
 * stand-in's form decoding.
 */
import { afterEach, describe, expect, it } from "vitest";
import { stripeRequestFor } from "../../functions/_shared/payment-commands.ts";
import { classifyStripeError, stripeCall } from "../../functions/_shared/stripe-errors.ts";
import { expectedLivemode, stripeSettings } from "../../functions/_shared/stripe.ts";
import { paymentIntentParams } from "../../functions/checkout/handler.ts";
import { accountParams, redirectUrls } from "../../functions/connect-onboarding/handler.ts";
import { endpointOf } from "../../functions/stripe-webhook/handler.ts";
import { canonical, parseForm } from "../../tools/stripe-standin/form.ts";
import { envOverride } from "../support/env.ts";

const env = envOverride();
afterEach(() => env.restore());

describe("classifyStripeError", () => {
  it("retries what may succeed later with the same idempotency key", () => {
    expect(classifyStripeError({ type: "StripeConnectionError", message: "socket hang up" })).toMatchObject({ retryable: true });
    expect(classifyStripeError({ type: "StripeAPIError", statusCode: 500, message: "boom" })).toMatchObject({ retryable: true, statusCode: 500 });
    expect(classifyStripeError({ type: "StripeRateLimitError", statusCode: 429 })).toMatchObject({ retryable: true });
    expect(classifyStripeError({ type: "StripeAuthenticationError", statusCode: 401 })).toMatchObject({ retryable: true });
    expect(classifyStripeError({ type: "StripeInvalidRequestError", statusCode: 409, code: "idempotency_key_in_use" })).toMatchObject({ retryable: true });
  });

  it("gives up on what will never succeed", () => {
    expect(classifyStripeError({ type: "StripeInvalidRequestError", statusCode: 400, code: "amount_too_large" }))
      .toMatchObject({ retryable: false, code: "amount_too_large", statusCode: 400 });
    expect(classifyStripeError({ type: "StripeIdempotencyError", statusCode: 400 })).toMatchObject({ retryable: false, code: "StripeIdempotencyError" });
    expect(classifyStripeError({ type: "StripePermissionError", statusCode: 403 })).toMatchObject({ retryable: false });
  });

  it("retries balance_insufficient later with a fresh idempotency key: Stripe replays that saved 400 for the old one (docs.stripe.com/error-low-level)", () => {
    expect(classifyStripeError({ type: "StripeInvalidRequestError", statusCode: 400, code: "balance_insufficient" }))
      .toMatchObject({ retryable: true, freshKey: true, code: "balance_insufficient", statusCode: 400 });
    expect(classifyStripeError({ type: "StripeInvalidRequestError", statusCode: 400, code: "amount_too_large" })).toMatchObject({ freshKey: false });
    expect(classifyStripeError({ type: "StripeAPIError", statusCode: 500 })).toMatchObject({ retryable: true, freshKey: false });
  });

  it("follows Stripe-Should-Retry: true", () => {
    expect(classifyStripeError({ type: "StripeInvalidRequestError", statusCode: 400, headers: { "stripe-should-retry": "true" } }))
      .toMatchObject({ retryable: true });
  });
});

describe("stripeCall (a Stripe call while serving a request)", () => {
  it("answers 503 stripe_unavailable, which the client may retry, when Stripe is down or slow", async () => {
    const outage = { type: "StripeConnectionError", message: "socket hang up" };
    await expect(stripeCall(() => Promise.reject(outage))).rejects.toMatchObject({
      status: 503, code: "stripe_unavailable", message: expect.stringMatching(/try again/i), cause: outage,
    });
  });

  it("does not call a refused request an outage: the Stripe error goes on unchanged (a 500 on Rally's side)", async () => {
    const refused = { type: "StripeInvalidRequestError", statusCode: 400, code: "parameter_invalid_integer", message: "Invalid integer" };
    await expect(stripeCall(() => Promise.reject(refused))).rejects.toBe(refused);
  });

  it("passes a successful answer through", async () => {
    await expect(stripeCall(() => Promise.resolve({ id: "pi_1" }))).resolves.toEqual({ id: "pi_1" });
  });
});

describe("stripeRequestFor", () => {
  it("turns each command into exactly one Stripe call with its parameters", () => {
    expect(stripeRequestFor({ kind: "create_transfer", payload: { amount: 4500, currency: "eur", destination: "acct_1", source_transaction: "ch_1", transfer_group: "b1", metadata: { booking_id: "b1" } } }))
      .toEqual({ kind: "create_transfer", params: { amount: 4500, currency: "eur", destination: "acct_1", source_transaction: "ch_1", transfer_group: "b1", metadata: { booking_id: "b1" } } });
    expect(stripeRequestFor({ kind: "create_payout", payload: { amount: 100, currency: "eur", stripe_account: "acct_9", metadata: {} } }))
      .toEqual({ kind: "create_payout", stripeAccount: "acct_9", params: { amount: 100, currency: "eur", metadata: {} } });
    expect(stripeRequestFor({ kind: "create_refund", payload: { payment_intent: "pi_1", amount: 5, reason: "requested_by_customer", metadata: {} } }))
      .toMatchObject({ kind: "create_refund", params: { payment_intent: "pi_1", amount: 5 } });
    expect(stripeRequestFor({ kind: "sync_balance_transaction", payload: { balance_transaction: "txn_1" } })).toEqual({ kind: "sync_balance_transaction", balanceTransactionId: "txn_1" });
  });

  it("waits for the transfer before reversing it", () => {
    expect(stripeRequestFor({ kind: "reverse_transfer", payload: { amount: 10, currency: "eur", metadata: {} } })).toMatchObject({ kind: "not_ready" });
    expect(stripeRequestFor({ kind: "reverse_transfer", payload: { amount: 10, currency: "eur", transfer_id: "tr_1", metadata: {} } }))
      .toEqual({ kind: "reverse_transfer", transferId: "tr_1", params: { amount: 10, metadata: {} } });
  });

  it("refuses a malformed payload instead of sending it", () => {
    expect(() => stripeRequestFor({ kind: "create_payout", payload: { amount: -1, currency: "eur", stripe_account: "acct_1" } })).toThrow();
    expect(() => stripeRequestFor({ kind: "create_transfer", payload: { amount: 10, currency: "EURO", destination: "acct_1" } })).toThrow();
  });
});

describe("checkout and onboarding parameters", () => {
  const ctx = {
    payment_id: "p1", booking_id: "b1", event_id: "e1", host_id: "h1", guest_id: "g1", amount_cents: 5000, currency: "EUR",
    hold_expires_at: new Date(), payment_intent_id: null, payment_status: "created", event_title: "Gig",
  };

  it("a PaymentIntent carries only what never changes for the booking (so the idempotency key always matches)", () => {
    expect(paymentIntentParams(ctx)).toEqual({
      amount: 5000, currency: "eur", transfer_group: "b1", automatic_payment_methods: { enabled: true },
      metadata: { booking_id: "b1", payment_id: "p1", event_id: "e1", host_id: "h1", guest_id: "g1" },
    });
  });

  it("a host account: platform pays fees and owns losses, Express dashboard, transfers only, manual payouts", () => {
    expect(accountParams({ host_id: "h1", email: "h@example.test" }, "GB")).toEqual({
      controller: { fees: { payer: "application" }, losses: { payments: "application" }, requirement_collection: "stripe", stripe_dashboard: { type: "express" } },
      capabilities: { transfers: { requested: true } },
      settings: { payouts: { schedule: { interval: "manual" } } },
      metadata: { host_id: "h1" }, email: "h@example.test", country: "GB",
    });
  });

  it("sends hosts back only to Rally's own sites", () => {
    env.set({ RALLY_SITE_URL: "https://rally.example", RALLY_REDIRECT_ORIGINS: "https://app.rally.example, not a url" });
    expect(redirectUrls({})).toEqual({
      returnUrl: "https://rally.example/host/payouts?onboarding=return", refreshUrl: "https://rally.example/host/payouts?onboarding=refresh",
    });
    expect(redirectUrls({ return_url: "https://app.rally.example/x" }).returnUrl).toBe("https://app.rally.example/x");
    expect(() => redirectUrls({ refresh_url: "https://rally.example.evil.test/" })).toThrow(/Rally's own sites/);
  });

  it("knows which webhook endpoint a request came to", () => {
    expect(endpointOf(new Request("http://x/stripe-webhook/connect", { method: "POST" }))).toBe("connect");
    expect(endpointOf(new Request("http://x/stripe-webhook", { method: "POST" }))).toBe("platform");
  });
});

describe("Stripe configuration", () => {
  it("uses the stand-in when no key is set, and needs its address", () => {
    env.set({ STRIPE_SECRET_KEY: undefined, STRIPE_API_BASE: undefined });
    expect(() => stripeSettings()).toThrow(/not configured/);
    env.set({ STRIPE_API_BASE: "http://127.0.0.1:54350" });
    expect(stripeSettings()).toMatchObject({ standin: true, livemode: false, secretKey: "sk_test_rally_standin" });
  });

  it("with a key talks to Stripe, live keys expect live events, and nonsense is refused", () => {
    env.set({ STRIPE_API_BASE: undefined, STRIPE_SECRET_KEY: "sk_live_abc123" });
    expect(stripeSettings()).toMatchObject({ standin: false, livemode: true, apiBase: null });
    expect(expectedLivemode()).toBe(true);
    env.set({ STRIPE_SECRET_KEY: "pk_test_abc" });
    expect(() => stripeSettings()).toThrow(/secret or restricted key/);
    env.set({ STRIPE_SECRET_KEY: "sk_test_abc", STRIPE_TIMEOUT_MS: "soon" });
    expect(() => stripeSettings()).toThrow(/STRIPE_TIMEOUT_MS/);
  });
});

describe("the stand-in's form decoding (Stripe's bracket encoding)", () => {
  it("reads nested hashes and arrays as stripe-node writes them", () => {
    expect(parseForm("amount=100&metadata[booking_id]=b%201&controller[fees][payer]=application&expand[0]=a&expand[1]=b&x=a+b"))
      .toEqual({ amount: "100", metadata: { booking_id: "b 1" }, controller: { fees: { payer: "application" } }, expand: ["a", "b"], x: "a b" });
    expect(parseForm("")).toEqual({});
  });

  it("compares parameters regardless of order", () => {
    expect(canonical(parseForm("a=1&b[c]=2"))).toBe(canonical(parseForm("b[c]=2&a=1")));
    expect(canonical(parseForm("a=1"))).not.toBe(canonical(parseForm("a=2")));
  });
});
