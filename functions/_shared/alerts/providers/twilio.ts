/**
 * SMS and WhatsApp through Twilio's Messages API
 * (POST /2010-04-01/Accounts/{AccountSid}/Messages.json), as documented: HTTP Basic auth with
 * the Account SID and auth token, form-encoded To, From (or MessagingServiceSid), Body and
 * StatusCallback. WhatsApp uses the same endpoint with `whatsapp:+E.164` on both ends; outside
 * the 24-hour customer-service window it sends the approved template instead of a Body:
 * `ContentSid` (HX…) and `ContentVariables` (a JSON object of placeholder values, {"1": "…"}),
 * with the WhatsApp sender in From (Twilio no longer requires a Messaging Service for Content
 * templates). Free-form Body outside the window is what Twilio fails with error 63016.
 * The status callback URL carries the delivery id, so callbacks name the delivery directly (the
 * query string is part of what Twilio signs). Twilio has no idempotency key for message
 * creation: a dispatcher that dies between Twilio's answer and recording it may send once more
 * when the lease expires (at-least-once, documented). Base URL from TWILIO_API_BASE.
 */
import type { OutboundMessage, Provider, SendOutcome } from "../types.ts";
import { DEFAULT_TIMEOUT_MS, failureOutcome, field, isAnswer, post, type FetchLike } from "./http.ts";

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  baseUrl: string;
  /** E.164 sender for SMS, or use messagingServiceSid. */
  smsFrom?: string;
  messagingServiceSid?: string;
  /** WhatsApp sender, `+E.164` or `whatsapp:+E.164`. */
  whatsappFrom?: string;
  /** Public URL of the twilio-status function. */
  statusCallbackUrl?: string;
  timeoutMs?: number;
  fetch?: FetchLike;
  now?: () => number;
}

export const TWILIO_DEFAULT_BASE = "https://api.twilio.com";

const whatsappAddress = (number: string): string => (number.startsWith("whatsapp:") ? number : `whatsapp:${number}`);

function describe(body: unknown): string {
  const code = field(body, "code");
  const message = field(body, "message");
  return [typeof code === "number" ? `error ${code}` : null, typeof message === "string" ? message : null].filter(Boolean).join(": ") || "no error body";
}

export function createTwilioProvider(config: TwilioConfig): Provider {
  const fetchImpl: FetchLike = config.fetch ?? ((input, init) => fetch(input, init));
  const now = config.now ?? Date.now;
  const url = `${config.baseUrl.replace(/\/+$/, "")}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Messages.json`;
  const authorization = `Basic ${btoa(`${config.accountSid}:${config.authToken}`)}`;
  return {
    name: "twilio",
    async send(message: OutboundMessage): Promise<SendOutcome> {
      if (message.channel === "email" || message.channel === "push") {
        return { kind: "permanent", error: `twilio sends SMS and WhatsApp, not ${message.channel}` };
      }
      const form = new URLSearchParams();
      if (message.channel === "whatsapp") {
        if (config.whatsappFrom === undefined) return { kind: "retryable", error: "TWILIO_WHATSAPP_FROM is not set" };
        form.set("To", whatsappAddress(message.to));
        form.set("From", whatsappAddress(config.whatsappFrom));
      } else {
        form.set("To", message.to);
        if (config.messagingServiceSid !== undefined) form.set("MessagingServiceSid", config.messagingServiceSid);
        else if (config.smsFrom !== undefined) form.set("From", config.smsFrom);
        else return { kind: "retryable", error: "TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID is not set" };
      }
      if (message.channel === "whatsapp" && message.template !== null) {
        form.set("ContentSid", message.template.contentSid);
        form.set("ContentVariables", JSON.stringify(message.template.variables));
      } else {
        form.set("Body", message.text);
      }
      if (config.statusCallbackUrl !== undefined) {
        const callback = new URL(config.statusCallbackUrl);
        callback.searchParams.set("delivery_id", message.deliveryId);
        form.set("StatusCallback", callback.toString());
      }
      const answer = await post(fetchImpl, url, {
        headers: {
          Authorization: authorization,
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
          "User-Agent": "rally-dispatch-alerts/1",
        },
        body: form.toString(),
      }, config.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      if (!isAnswer(answer)) return answer;
      if (answer.status >= 200 && answer.status < 300) {
        const sid = field(answer.body, "sid");
        return typeof sid === "string" && sid !== ""
          ? { kind: "sent", providerMessageId: sid }
          : { kind: "retryable", error: `HTTP ${answer.status} without a message sid` };
      }
      return failureOutcome(answer, describe, now());
    },
  };
}
