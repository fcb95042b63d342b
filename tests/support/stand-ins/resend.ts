/**
 * STAND-IN for the Resend API (https://resend.com/docs/api-reference/emails/send-email), for
 * tests and benchmarks only. It checks what the real API checks for POST /emails — the Bearer
 * API key (401 missing_api_key, 403 invalid_api_key), a JSON body with `from`, `to` (≤ 50),
 * `subject` and `html` or `text` (422 validation_error / missing_required_field) — answers
 * `200 {"id": …}`, honours `Idempotency-Key` (same key and payload → the same answer without
 * sending again; same key, other payload → 409 invalid_idempotent_request) and answers errors in
 * Resend's shape `{statusCode, name, message}` (resend.com/docs/api-reference/errors: 409
 * `invalid_idempotent_request` for the same key with another payload, 409
 * `concurrent_idempotent_requests` while the first request with the key is still being processed).
 * It can fail or hang on demand (`failures`; a hang may come after sending: the indeterminate
 * case; an injected 409 is the concurrent one) and build Svix-signed webhook requests like
 * Resend's (`webhookRequest`) with the published event payloads (resend-node's
 * WebhookEventPayload; resend.com/docs/webhooks): `data` carries email_id, message_id, from,
 * to, subject, created_at and `tags` as an object (name → value); email.bounced adds
 * `bounce {message, subType, type}`, email.failed `failed {reason}`, email.suppressed
 * `suppressed {message, type}`, email.clicked `click {…}`. Unknown event types are refused.
 */
import { randomUUID } from "node:crypto";
import { svixSignature } from "../../../functions/_shared/alerts/signatures.ts";
import { FailureQueue, serve, sleep, type StandInRequest, type StandInResponse } from "./http.ts";

export interface SentEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  html: string | null;
  text: string | null;
  tags: { name: string; value: string }[];
  idempotencyKey: string | null;
}

export interface ResendStandIn {
  url: string;
  apiKey: string;
  emails: SentEmail[];
  /** Every POST /emails that reached the stand-in, accepted or not. */
  requests: number;
  failures: FailureQueue;
  /** A webhook request as Resend (through Svix) would send it to `endpoint`. */
  webhookRequest(endpoint: string, secret: string, type: string, email: SentEmail, extra?: Record<string, unknown>,
    options?: { timestamp?: number; id?: string }): Promise<Request>;
  close(): Promise<void>;
}

const NAMES: Record<number, string> = {
  400: "invalid_request", 409: "concurrent_idempotent_requests", 429: "rate_limit_exceeded", 500: "internal_server_error", 503: "service_unavailable",
};

/** The email events Resend sends (resend-node's WebhookEvent, email.* part), with what each adds to `data`. */
export const RESEND_EMAIL_EVENTS: Record<string, Record<string, unknown>> = {
  "email.sent": {},
  "email.scheduled": {},
  "email.delivered": {},
  "email.delivery_delayed": {},
  "email.complained": {},
  "email.opened": {},
  "email.bounced": { bounce: { message: "The recipient's mail server permanently rejected the email.", subType: "General", type: "Permanent" } },
  "email.failed": { failed: { reason: "The email could not be sent." } },
  "email.suppressed": { suppressed: { message: "The recipient is on the suppression list because of a previous bounce.", type: "bounce" } },
  "email.clicked": { click: { ipAddress: "127.0.0.1", link: "https://rally.example/", timestamp: "2026-01-01T00:00:00.000Z", userAgent: "stand-in" } },
};

function error(status: number, name: string, message: string, headers?: Record<string, string>): StandInResponse {
  return { status, body: { statusCode: status, name, message }, ...(headers === undefined ? {} : { headers }) };
}

export async function startResendStandIn(apiKey = `re_test_${randomUUID().replaceAll("-", "")}`): Promise<ResendStandIn> {
  const emails: SentEmail[] = [];
  const failures = new FailureQueue();
  const idempotent = new Map<string, { payload: string; answer: StandInResponse }>();
  const state = { requests: 0 };

  const handle = async (req: StandInRequest): Promise<StandInResponse> => {
    const answer = respond(req);
    const failure = pendingHang;
    pendingHang = null;
    if (failure?.hangMs !== undefined) await sleep(failure.hangMs);
    return answer;
  };

  /** The hang (if any) the request being processed asked for. */
  let pendingHang: { hangMs?: number } | null = null;

  const respond = (req: StandInRequest): StandInResponse => {
    if (req.method !== "POST" || req.path !== "/emails") return error(404, "not_found", "The requested endpoint does not exist.");
    state.requests += 1;
    const auth = req.headers.authorization;
    if (auth === undefined || !auth.startsWith("Bearer ")) {
      return error(401, "missing_api_key", "Missing API key in the authorization header. Include the following header Authorization: Bearer YOUR_API_KEY in the request.");
    }
    if (auth !== `Bearer ${apiKey}`) return error(403, "invalid_api_key", "API key is invalid");
    const failure = failures.take();
    if (failure !== null) pendingHang = failure;
    if (failure !== null && failure.sendFirst !== true) {
      return error(failure.status, NAMES[failure.status] ?? "application_error", "Injected failure (stand-in).",
        failure.retryAfterSeconds === undefined ? undefined : { "Retry-After": String(failure.retryAfterSeconds) });
    }
    if (!(req.headers["content-type"] ?? "").includes("application/json")) {
      return error(422, "validation_error", "Content-Type must be application/json.");
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return error(422, "validation_error", "The request body is not valid JSON.");
    }
    for (const field of ["from", "to", "subject"]) {
      if (body[field] === undefined || body[field] === "") return error(422, "missing_required_field", `Missing \`${field}\` field.`);
    }
    if (typeof body.html !== "string" && typeof body.text !== "string") {
      return error(422, "validation_error", "Either `html` or `text` must be provided.");
    }
    const to = Array.isArray(body.to) ? body.to.map(String) : [String(body.to)];
    if (to.length > 50) return error(422, "validation_error", "Too many recipients: the maximum is 50.");
    if (!to.every((address) => /^[^@\s]+@[^@\s]+$/.test(address))) return error(422, "validation_error", "Invalid `to` field.");

    const key = typeof req.headers["idempotency-key"] === "string" ? req.headers["idempotency-key"] : null;
    if (key !== null) {
      if (key.length === 0 || key.length > 256) return error(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
      const seen = idempotent.get(key);
      if (seen !== undefined) {
        return seen.payload === req.body
          ? seen.answer
          : error(409, "invalid_idempotent_request", "Same idempotency key used with a different request payload. Change your idempotency key or payload.");
      }
    }
    const email: SentEmail = {
      id: randomUUID(), from: String(body.from), to, subject: String(body.subject),
      html: typeof body.html === "string" ? body.html : null, text: typeof body.text === "string" ? body.text : null,
      tags: Array.isArray(body.tags) ? (body.tags as { name: string; value: string }[]) : [], idempotencyKey: key,
    };
    emails.push(email);
    const answer: StandInResponse = { status: 200, body: { id: email.id } };
    if (key !== null) idempotent.set(key, { payload: req.body, answer });
    return answer;
  };

  const server = await serve(handle);
  return {
    url: server.url,
    apiKey,
    emails,
    get requests() {
      return state.requests;
    },
    failures,
    async webhookRequest(endpoint, secret, type, email, extra = {}, options = {}) {
      const required = RESEND_EMAIL_EVENTS[type];
      if (required === undefined) throw new Error(`Resend sends no ${type} event (stand-in)`);
      const id = options.id ?? `msg_${randomUUID().replaceAll("-", "")}`;
      const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
      const body = JSON.stringify({
        type,
        created_at: new Date().toISOString(),
        data: {
          created_at: new Date().toISOString(), email_id: email.id, message_id: `<${email.id}@email.resend.standin>`, from: email.from,
          to: email.to, subject: email.subject, tags: Object.fromEntries(email.tags.map((tag) => [tag.name, tag.value])), ...required, ...extra,
        },
      });
      return new Request(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", "svix-id": id, "svix-timestamp": timestamp,
                   "svix-signature": await svixSignature(secret, id, timestamp, body) },
        body,
      });
    },
    close: server.close,
  };
}
