/**
 * Email through Resend's HTTP API (POST /emails), exactly as documented: Bearer API key, JSON
 * body with from, to, subject, html and text, and the delivery id as `Idempotency-Key`, so a
 * retry after a timeout never sends the email twice (Resend returns the first answer for 24 h).
 * The delivery id also travels as a tag, so Resend's webhooks name the delivery directly.
 * Base URL from RESEND_API_BASE (the tests point it at a local stand-in).
 */
import type { OutboundMessage, Provider, SendOutcome } from "../types.ts";
import { DEFAULT_TIMEOUT_MS, failureOutcome, field, isAnswer, post, type FetchLike } from "./http.ts";

export interface ResendConfig {
  apiKey: string;
  baseUrl: string;
  from: string;
  timeoutMs?: number;
  fetch?: FetchLike;
  now?: () => number;
}

export const RESEND_DEFAULT_BASE = "https://api.resend.com";

function describe(body: unknown): string {
  const name = field(body, "name");
  const message = field(body, "message");
  return [typeof name === "string" ? name : null, typeof message === "string" ? message : null].filter(Boolean).join(": ") || "no error body";
}

/**
 * Resend's two 409s (resend.com/docs/api-reference/errors): `concurrent_idempotent_requests`
 * (the first request with this key is still being processed: a retry gets its answer) and
 * `invalid_idempotent_request` (the key was used with another payload: no retry can succeed).
 */
export function retryableConflict(body: unknown): boolean {
  return field(body, "name") === "concurrent_idempotent_requests";
}

export function createResendProvider(config: ResendConfig): Provider {
  const fetchImpl: FetchLike = config.fetch ?? ((input, init) => fetch(input, init));
  const now = config.now ?? Date.now;
  const url = `${config.baseUrl.replace(/\/+$/, "")}/emails`;
  return {
    name: "resend",
    async send(message: OutboundMessage): Promise<SendOutcome> {
      if (message.channel !== "email") return { kind: "permanent", error: `resend sends email, not ${message.channel}` };
      const answer = await post(fetchImpl, url, {
        headers: {
          Authorization: `Bearer ${config.apiKey}`,
          "Content-Type": "application/json",
          "Idempotency-Key": message.deliveryId,
          "User-Agent": "rally-dispatch-alerts/1",
        },
        body: JSON.stringify({
          from: config.from,
          to: [message.to],
          subject: message.email.subject,
          html: message.email.html,
          text: message.email.text,
          tags: [{ name: "delivery_id", value: message.deliveryId }],
        }),
      }, config.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      if (!isAnswer(answer)) return answer;
      if (answer.status >= 200 && answer.status < 300) {
        const id = field(answer.body, "id");
        return typeof id === "string" && id !== ""
          ? { kind: "sent", providerMessageId: id }
          : { kind: "retryable", error: `HTTP ${answer.status} without an email id` };
      }
      return failureOutcome(answer, describe, now(), retryableConflict);
    },
  };
}
