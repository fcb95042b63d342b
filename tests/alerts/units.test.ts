/**
 * The pure parts of outbound alerts: templates (per type and locale, escaped, local time across
 * DST), retry timing, phone validation, webhook signatures and provider status mapping.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRetryAfter, retryDelayMs } from "../../functions/_shared/alerts/backoff.ts";
import { normalizePhone } from "../../functions/_shared/alerts/phone.ts";
import { resendStatus, twilioStatus } from "../../functions/_shared/alerts/provider-status.ts";
import {
  constantTimeEqual, svixSignature, twilioSignature, verifySvixSignature, verifyTwilioSignature,
} from "../../functions/_shared/alerts/signatures.ts";
import {
  LOCALES, TEMPLATES, actionUrl, formatEventTime, renderEmail, renderText, resolveLocale,
} from "../../functions/_shared/alerts/templates.ts";
import type { ClaimedDelivery } from "../../functions/_shared/alerts/types.ts";

const EVENT_ID = "7b0e2d5e-6a55-4c4f-9d7e-2f3c1a9b8c01";
const BOOKING_ID = "0c9a1f4e-3b2d-4e5f-8a6b-7c8d9e0f1a2b";

function delivery(overrides: Partial<ClaimedDelivery> = {}): ClaimedDelivery {
  return {
    id: "5d1c6a3e-8f2b-4c7d-9e0a-1b2c3d4e5f60",
    claim_token: "6e2d7b4f-9a3c-4d8e-8f1b-2c3d4e5f6a70",
    attempt: 1,
    max_attempts: 8,
    channel: "email",
    type: "booking_confirmed",
    destination: "ana@example.test",
    locale: "en",
    display_name: "Ana",
    title: "You're going to Spring brunch",
    body: null,
    data: { event_id: EVENT_ID, booking_id: BOOKING_ID },
    event: {
      id: EVENT_ID, title: "Spring brunch", starts_at: "2027-03-14T14:00:00Z", ends_at: "2027-03-14T16:00:00Z",
      timezone: "America/New_York", venue_name: "Café Luna", city: "New York",
    },
    timezone: "America/New_York",
    device_platform: null,
    badge: null,
    whatsapp_content_sid: null,
    whatsapp_variables: null,
    ...overrides,
  };
}

describe("templates", () => {
  it("speak the reader's language, falling back to English", () => {
    expect(resolveLocale("pt-BR")).toBe("pt");
    expect(resolveLocale("es")).toBe("es");
    expect(resolveLocale("de")).toBe("en");
    expect(resolveLocale(null)).toBe("en");
  });

  it("exist for every catalogued type in every locale", () => {
    for (const template of Object.values(TEMPLATES)) {
      for (const locale of LOCALES) expect(typeof template[locale]).toBe("function");
    }
  });

  it("give the start in the event's own zone, after the spring-forward change", () => {
    // 14:00 UTC on 14 March 2027 is 10:00 EDT (New York moved its clocks at 02:00 that morning).
    expect(formatEventTime("2027-03-14T14:00:00Z", "America/New_York", "en")).toMatch(/10:00/);
    expect(formatEventTime("2027-03-14T14:00:00Z", "America/New_York", "en")).toMatch(/EDT/);
    expect(formatEventTime("2027-03-13T15:00:00Z", "America/New_York", "en")).toMatch(/10:00.*EST/);
  });

  it("render a booking confirmation as an email with subject, plain text and HTML", () => {
    const email = renderEmail(delivery(), "https://rally.example");
    expect(email.subject).toBe("You're going to Spring brunch");
    expect(email.text).toContain("Hi Ana,");
    expect(email.text).toContain("Café Luna, New York");
    expect(email.text).toContain(`https://rally.example/bookings/${BOOKING_ID}`);
    expect(email.html).toContain('<html lang="en">');
    expect(email.html).toContain(`href="https://rally.example/bookings/${BOOKING_ID}"`);
  });

  it("render Portuguese copy for a Portuguese reader", () => {
    const email = renderEmail(delivery({ locale: "pt-PT", display_name: "Leo" }), "https://rally.example");
    expect(email.subject).toBe("Vais a Spring brunch");
    expect(email.text).toContain("Olá Leo,");
    expect(email.html).toContain('<html lang="pt">');
  });

  it("escape everything interpolated into HTML", () => {
    const hostile = delivery({
      display_name: '<img src=x onerror="alert(1)">',
      event: { ...delivery().event!, title: "<script>steal()</script> & friends" },
    });
    const { html, subject } = renderEmail(hostile, "https://rally.example");
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;steal()&lt;/script&gt; &amp; friends");
    expect(subject).toContain("<script>"); // subjects are plain text, not HTML
  });

  it("fall back to the notification's own words for a type without a template", () => {
    const email = renderEmail(delivery({ type: "poll_closed", title: "Your poll closed", body: "12 people voted.", event: null, data: {} }),
      "https://rally.example");
    expect(email.subject).toBe("Your poll closed");
    expect(email.text).toContain("12 people voted.");
    expect(email.text).toContain("Open Rally: https://rally.example");
  });

  it("keep SMS and WhatsApp text short, with the link", () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 400 }), (title) => {
      const text = renderText(delivery({ channel: "sms", event: { ...delivery().event!, title } }), "https://rally.example");
      expect(text.length).toBeLessThanOrEqual(320);
      expect(text.endsWith(`https://rally.example/bookings/${BOOKING_ID}`)).toBe(true);
    }));
  });

  it("link to the most specific place in the app", () => {
    expect(actionUrl("https://rally.example/", { event_id: EVENT_ID })).toBe(`https://rally.example/events/${EVENT_ID}`);
    expect(actionUrl("https://rally.example", { username: "maya_runs" })).toBe("https://rally.example/u/maya_runs");
    expect(actionUrl("https://rally.example", { event_id: "not-a-uuid" })).toBe("https://rally.example");
  });
});

describe("retry timing", () => {
  it("grows exponentially with jitter between half and all of the capped ceiling", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, random) => {
      const ceiling = Math.min(30 * 60_000, 30_000 * 2 ** (attempt - 1));
      const delay = retryDelayMs(attempt, () => random);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
      expect(delay).toBeLessThanOrEqual(ceiling);
    }));
  });

  it("never retries sooner than a provider's Retry-After", () => {
    expect(retryDelayMs(1, () => 0, undefined, 90_000)).toBe(90_000);
    expect(parseRetryAfter("120", 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
  });
});

describe("phone numbers", () => {
  it("normalise national formats to E.164 with a country", () => {
    expect(normalizePhone("07400 123456", "GB")).toEqual({ ok: true, e164: "+447400123456", country: "GB" });
    expect(normalizePhone("+351 912 345 678")).toEqual({ ok: true, e164: "+351912345678", country: "PT" });
  });

  it("refuse numbers that cannot exist, and malformed countries", () => {
    expect(normalizePhone("12345")).toMatchObject({ ok: false, code: "invalid_phone" });
    expect(normalizePhone("+44 12", "GB")).toMatchObject({ ok: false, code: "invalid_phone" });
    expect(normalizePhone("07400 123456", "gbr")).toMatchObject({ ok: false, code: "invalid_country" });
  });
});

describe("webhook signatures", () => {
  const params: [string, string][] = [["MessageStatus", "delivered"], ["AccountSid", "AC1"], ["MessageSid", "SM1"]];

  it("match Twilio's documented algorithm (HMAC-SHA1 of the URL and the sorted fields)", async () => {
    const url = "https://rally.example/functions/v1/twilio-status?delivery_id=abc";
    const expected = createHmac("sha1", "token").update(`${url}AccountSidAC1MessageSidSM1MessageStatusdelivered`).digest("base64");
    expect(await twilioSignature("token", url, params)).toBe(expected);
    expect(await verifyTwilioSignature("token", url, params, expected)).toBe(true);
    expect(await verifyTwilioSignature("other", url, params, expected)).toBe(false);
    expect(await verifyTwilioSignature("token", `${url}x`, params, expected)).toBe(false);
    expect(await verifyTwilioSignature("token", url, [...params, ["Extra", "1"]], expected)).toBe(false);
    expect(await verifyTwilioSignature("token", url, params, null)).toBe(false);
  });

  it("match Svix's scheme for Resend, with key rotation and a five-minute window", async () => {
    const secret = `whsec_${Buffer.from("a-32-byte-secret-for-svix-tests!").toString("base64")}`;
    const expected = `v1,${createHmac("sha256", Buffer.from("a-32-byte-secret-for-svix-tests!")).update("msg_1.1700000000.{}").digest("base64")}`;
    expect(await svixSignature(secret, "msg_1", "1700000000", "{}")).toBe(expected);
    const headers = { id: "msg_1", timestamp: "1700000000", signature: `v1,bm90LXRoaXMtb25l ${expected}` };
    expect(await verifySvixSignature(secret, headers, "{}", 1700000100)).toBe("valid");
    expect(await verifySvixSignature(secret, headers, "{ }", 1700000100)).toBe("bad_signature");
    expect(await verifySvixSignature(secret, headers, "{}", 1700000000 + 301)).toBe("stale_timestamp");
    expect(await verifySvixSignature(secret, { ...headers, signature: null }, "{}", 1700000000)).toBe("missing_headers");
  });

  it("compare in constant time", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
  });
});

describe("provider statuses", () => {
  it("map Twilio and Resend events onto sent / delivered / failed", () => {
    expect(twilioStatus("queued").status).toBeNull();
    expect(twilioStatus("sent").status).toBe("sent");
    expect(twilioStatus("read").status).toBe("delivered");
    expect(twilioStatus("undelivered").status).toBe("failed");
    expect(resendStatus("email.delivered")).toEqual({ status: "delivered", suppress: null });
    expect(resendStatus("email.bounced")).toEqual({ status: "failed", suppress: "bounced" });
    expect(resendStatus("email.complained")).toEqual({ status: null, suppress: "complained" });
    expect(resendStatus("email.opened").status).toBeNull();
    expect(resendStatus("email.suppressed", "bounce")).toEqual({ status: "failed", suppress: "bounced" });
    expect(resendStatus("email.suppressed", "complaint")).toEqual({ status: "failed", suppress: "complained" });
  });
});
