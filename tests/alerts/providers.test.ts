/**
 * The real Resend and Twilio adapters, over HTTP, against local stand-ins of those APIs (named
 * as such: tests/support/stand-ins). The stand-ins check what the real APIs check — auth
 * headers, required fields, formats — and fail on demand.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createResendProvider } from "../../functions/_shared/alerts/providers/resend.ts";
import { createTwilioProvider } from "../../functions/_shared/alerts/providers/twilio.ts";
import type { OutboundMessage } from "../../functions/_shared/alerts/types.ts";
import { startResendStandIn, type ResendStandIn } from "../support/stand-ins/resend.ts";
import { startTwilioStandIn, type TwilioStandIn } from "../support/stand-ins/twilio.ts";

let resend: ResendStandIn;
let twilio: TwilioStandIn;

beforeAll(async () => {
  resend = await startResendStandIn();
  twilio = await startTwilioStandIn();
});
afterAll(async () => {
  await resend.close();
  await twilio.close();
});
beforeEach(() => {
  resend.failures.recover();
  twilio.failures.recover();
});

const email = (deliveryId: string = crypto.randomUUID(), subject = "You're going"): OutboundMessage => ({
  deliveryId, channel: "email", to: "ana@example.test", email: { subject, text: "Plain", html: "<p>Html</p>" },
});
const sms = (to = "+447400123456", channel: "sms" | "whatsapp" = "sms"): OutboundMessage =>
  channel === "sms"
    ? { deliveryId: crypto.randomUUID(), channel, to, text: "Rally: see you tomorrow" }
    : { deliveryId: crypto.randomUUID(), channel, to, text: "Rally: see you tomorrow", template: null };

describe("Resend adapter against the Resend stand-in", () => {
  const provider = () => createResendProvider({ apiKey: resend.apiKey, baseUrl: resend.url, from: "Rally <alerts@rally.example>" });

  it("sends an email with the API key, both bodies, and the delivery id as idempotency key and tag", async () => {
    const message = email();
    const outcome = await provider().send(message);
    expect(outcome).toMatchObject({ kind: "sent" });
    const sent = resend.emails.at(-1)!;
    expect(outcome).toEqual({ kind: "sent", providerMessageId: sent.id });
    expect(sent).toMatchObject({ from: "Rally <alerts@rally.example>", to: ["ana@example.test"], subject: "You're going",
                                 html: "<p>Html</p>", text: "Plain", idempotencyKey: message.deliveryId });
    expect(sent.tags).toEqual([{ name: "delivery_id", value: message.deliveryId }]);
  });

  it("never sends the same delivery twice: a retry gets the first answer", async () => {
    const message = email();
    const before = resend.emails.length;
    const first = await provider().send(message);
    const second = await provider().send(message);
    expect(second).toEqual(first);
    expect(resend.emails.length).toBe(before + 1);
  });

  it("is refused with a wrong key (retryable: the operator fixes the key, the alert still goes)", async () => {
    const outcome = await createResendProvider({ apiKey: "re_wrong", baseUrl: resend.url, from: "a@b.c" }).send(email());
    expect(outcome).toMatchObject({ kind: "retryable", error: expect.stringContaining("HTTP 403: invalid_api_key") });
  });

  it("gets a permanent failure for a message the API refuses (missing subject)", async () => {
    const outcome = await provider().send(email(crypto.randomUUID(), ""));
    expect(outcome).toMatchObject({ kind: "permanent", error: expect.stringContaining("HTTP 422: missing_required_field") });
  });

  it("retries a rate limit after Retry-After, and server errors", async () => {
    resend.failures.failNext(1, { status: 429, retryAfterSeconds: 7 });
    resend.failures.failNext(1, { status: 500 });
    expect(await provider().send(email())).toMatchObject({ kind: "retryable", retryAfterMs: 7000 });
    expect(await provider().send(email())).toMatchObject({ kind: "retryable", error: expect.stringContaining("HTTP 500") });
    expect(await provider().send(email())).toMatchObject({ kind: "sent" });
  });

  it("retries a 409 only when a retry can succeed: the same key still in flight, not the same key with another payload", async () => {
    resend.failures.failNext(1, { status: 409 });
    const message = email();
    expect(await provider().send(message)).toMatchObject({ kind: "retryable", error: expect.stringContaining("HTTP 409: concurrent_idempotent_requests") });
    expect(await provider().send(message)).toMatchObject({ kind: "sent" });
    const changed = await provider().send(email(message.deliveryId, "Another subject"));
    expect(changed).toMatchObject({ kind: "permanent", error: expect.stringContaining("HTTP 409: invalid_idempotent_request") });
  });

  it("treats an unreachable API as retryable", async () => {
    const outcome = await createResendProvider({ apiKey: "k", baseUrl: "http://127.0.0.1:9", from: "a@b.c", timeoutMs: 2000 }).send(email());
    expect(outcome).toMatchObject({ kind: "retryable", error: expect.stringContaining("network error") });
  });
});

describe("Twilio adapter against the Twilio stand-in", () => {
  const provider = () => createTwilioProvider({
    accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url, smsFrom: "+15005550006",
    whatsappFrom: "+14155238886", statusCallbackUrl: "https://rally.example/functions/v1/twilio-status",
  });

  it("sends an SMS with Basic auth, the sender, the body and a status callback naming the delivery", async () => {
    const message = sms();
    const outcome = await provider().send(message);
    const sent = twilio.messages.at(-1)!;
    expect(outcome).toEqual({ kind: "sent", providerMessageId: sent.sid });
    expect(sent.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(sent).toMatchObject({ to: "+447400123456", from: "+15005550006", body: "Rally: see you tomorrow" });
    expect(sent.statusCallback).toBe(`https://rally.example/functions/v1/twilio-status?delivery_id=${message.deliveryId}`);
  });

  it("sends WhatsApp with whatsapp: addresses on both ends", async () => {
    expect(await provider().send(sms("+351912345678", "whatsapp"))).toMatchObject({ kind: "sent" });
    expect(twilio.messages.at(-1)).toMatchObject({ to: "whatsapp:+351912345678", from: "whatsapp:+14155238886" });
  });

  it("uses a messaging service instead of a number when configured", async () => {
    const viaService = createTwilioProvider({ accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url,
                                              messagingServiceSid: "MG0123" });
    expect(await viaService.send(sms())).toMatchObject({ kind: "sent" });
    expect(twilio.messages.at(-1)).toMatchObject({ from: null, messagingServiceSid: "MG0123" });
  });

  it("gets a permanent failure for an invalid number, with Twilio's error code", async () => {
    expect(await provider().send(sms("+12"))).toMatchObject({ kind: "permanent", error: expect.stringContaining("error 21211") });
  });

  it("is refused with a wrong auth token (retryable)", async () => {
    const wrong = createTwilioProvider({ accountSid: twilio.accountSid, authToken: "nope", baseUrl: twilio.url, smsFrom: "+15005550006" });
    expect(await wrong.send(sms())).toMatchObject({ kind: "retryable", error: expect.stringContaining("HTTP 401: error 20003") });
  });

  it("retries server errors and honours Retry-After, but not an unsubscribed recipient", async () => {
    twilio.failures.failNext(1, { status: 503 });
    twilio.failures.failNext(1, { status: 429, retryAfterSeconds: 3 });
    twilio.failures.failNext(1, { status: 400, code: 21610 });
    expect(await provider().send(sms())).toMatchObject({ kind: "retryable" });
    expect(await provider().send(sms())).toMatchObject({ kind: "retryable", retryAfterMs: 3000 });
    expect(await provider().send(sms())).toMatchObject({ kind: "permanent", error: expect.stringContaining("21610") });
  });
});
