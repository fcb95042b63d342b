/**
 * Push through Firebase Cloud Messaging's HTTP v1 API, as documented
 * (firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send):
 * `POST {FCM_API_BASE}/v1/projects/{project_id}/messages:send` with a service account's OAuth
 * 2.0 access token (./google-oauth.ts) and `{message: {token, notification, data, android, apns,
 * webpush}}`; 200 answers `{name: "projects/…/messages/…"}`. Android and iOS both go through
 * FCM (iOS through the APNs options FCM forwards):
 *   - collapse key per conversation: android.collapse_key and android.notification.tag,
 *     apns-collapse-id and the thread-id, so a newer message replaces the older one;
 *   - the unread count as the badge: apns.payload.aps.badge (and Android's notification_count);
 *   - data values are strings only, as FCM requires.
 * Errors (google.rpc status with details of type google.firebase.fcm.v1.FcmError):
 *   404 UNREGISTERED, 403 SENDER_ID_MISMATCH, 400 INVALID_ARGUMENT with an FcmError detail (the
 *   token is not a valid registration token) → permanent, and the token is forgotten at once;
 *   400 with a google.rpc.BadRequest detail (our payload) → permanent; 401 → retryable after
 *   dropping the cached access token; 429 QUOTA_EXCEEDED (Retry-After), 500, 503 → retryable.
 * FCM has no idempotency key: a dispatcher killed between FCM's answer and recording it may
 * push once more when its lease expires (at-least-once, like Twilio).
 *
 * Another push service (APNs directly, Expo) is another Provider for the `push` channel that
 * reads the same OutboundMessage; buildProviders (./index.ts) picks it from the configuration.
 */
import type { OutboundMessage, Provider, SendOutcome } from "../types.ts";
import { AccessTokenError, type AccessTokenSource } from "./google-oauth.ts";
import { DEFAULT_TIMEOUT_MS, failureOutcome, field, isAnswer, post, type FetchLike } from "./http.ts";

export const FCM_DEFAULT_BASE = "https://fcm.googleapis.com";

export interface FcmConfig {
  projectId: string;
  baseUrl: string;
  tokens: AccessTokenSource;
  timeoutMs?: number;
  fetch?: FetchLike;
  now?: () => number;
}

type PushMessage = Extract<OutboundMessage, { channel: "push" }>;

/** The FCM v1 `message` for one device. */
export function fcmMessage(message: PushMessage): Record<string, unknown> {
  const { push } = message;
  const body: Record<string, unknown> = {
    token: message.to,
    notification: { title: push.title, body: push.body },
    data: push.data,
  };
  if (message.platform === "android") {
    body.android = {
      priority: "high",
      ...(push.collapseKey === null ? {} : { collapse_key: push.collapseKey }),
      notification: {
        ...(push.collapseKey === null ? {} : { tag: push.collapseKey }),
        ...(push.badge === null ? {} : { notification_count: push.badge }),
      },
    };
  } else if (message.platform === "ios") {
    body.apns = {
      headers: { "apns-priority": "10", ...(push.collapseKey === null ? {} : { "apns-collapse-id": push.collapseKey }) },
      payload: {
        aps: {
          ...(push.badge === null ? {} : { badge: push.badge }),
          ...(push.collapseKey === null ? {} : { "thread-id": push.collapseKey }),
          sound: "default",
        },
      },
    };
  } else {
    const link = push.data.url;
    body.webpush = {
      // Web Push's replacement key: at most 32 URL-safe characters (the conversation id's hex).
      ...(push.collapseKey === null ? {} : { headers: { Topic: push.collapseKey.replace(/^[a-z]+:/, "").replace(/[^A-Za-z0-9_-]/g, "").slice(0, 32) } }),
      ...(link !== undefined && link.startsWith("https://") ? { fcm_options: { link } } : {}),
    };
  }
  return body;
}

/** FcmError.errorCode and the detail types of a google.rpc error body. */
export function fcmErrorCode(body: unknown): { errorCode: string | null; badRequest: boolean; status: string | null; message: string | null } {
  const error = field(body, "error");
  const details = field(error, "details");
  let errorCode: string | null = null;
  let badRequest = false;
  if (Array.isArray(details)) {
    for (const detail of details) {
      const type = field(detail, "@type");
      if (type === "type.googleapis.com/google.firebase.fcm.v1.FcmError" && typeof field(detail, "errorCode") === "string") {
        errorCode = field(detail, "errorCode") as string;
      }
      if (type === "type.googleapis.com/google.rpc.BadRequest") badRequest = true;
    }
  }
  const status = field(error, "status");
  const message = field(error, "message");
  return { errorCode, badRequest, status: typeof status === "string" ? status : null, message: typeof message === "string" ? message : null };
}

function describe(body: unknown): string {
  const { errorCode, status, message } = fcmErrorCode(body);
  return [errorCode ?? status, message].filter(Boolean).join(": ") || "no error body";
}

/** Whether FCM's answer means the registration token will never work again. */
export function tokenIsGone(status: number, body: unknown): boolean {
  const { errorCode, badRequest } = fcmErrorCode(body);
  return (status === 404 && errorCode === "UNREGISTERED")
    || (status === 403 && errorCode === "SENDER_ID_MISMATCH")
    || (status === 400 && errorCode === "INVALID_ARGUMENT" && !badRequest);
}

export function createFcmProvider(config: FcmConfig): Provider {
  const fetchImpl: FetchLike = config.fetch ?? ((input, init) => fetch(input, init));
  const now = config.now ?? Date.now;
  const url = `${config.baseUrl.replace(/\/+$/, "")}/v1/projects/${encodeURIComponent(config.projectId)}/messages:send`;
  return {
    name: "fcm",
    async send(message: OutboundMessage): Promise<SendOutcome> {
      if (message.channel !== "push") return { kind: "permanent", error: `fcm sends push, not ${message.channel}` };
      let accessToken: string;
      try {
        accessToken = await config.tokens.get();
      } catch (err) {
        // A key Google refuses is an operator's to fix; the push waits (401/403 are retried too).
        const reason = err instanceof AccessTokenError || err instanceof Error ? err.message : String(err);
        return { kind: "retryable", error: `no FCM access token: ${reason}`.slice(0, 1000) };
      }
      const answer = await post(fetchImpl, url, {
        headers: {
          Authorization: `Bearer ${accessToken}`,
          "Content-Type": "application/json; charset=utf-8",
          Accept: "application/json",
          "User-Agent": "rally-dispatch-alerts/1",
        },
        body: JSON.stringify({ message: fcmMessage(message) }),
      }, config.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      if (!isAnswer(answer)) return answer;
      if (answer.status >= 200 && answer.status < 300) {
        const name = field(answer.body, "name");
        return typeof name === "string" && name !== ""
          ? { kind: "sent", providerMessageId: name }
          : { kind: "retryable", error: `HTTP ${answer.status} without a message name` };
      }
      if (tokenIsGone(answer.status, answer.body)) {
        return { kind: "permanent", error: `HTTP ${answer.status}: ${describe(answer.body)}`.slice(0, 1000), forgetDestination: true };
      }
      if (answer.status === 401) config.tokens.invalidate();
      return failureOutcome(answer, describe, now());
    },
  };
}
