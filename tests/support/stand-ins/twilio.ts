/**
 * STAND-IN for Twilio's Messages API (https://www.twilio.com/docs/messaging/api/message-resource),
 * for tests and benchmarks only. It checks what the real API checks for
 * POST /2010-04-01/Accounts/{AccountSid}/Messages.json — HTTP Basic auth with the Account SID and
 * auth token (401, error 20003), the account in the path (404, 20404), a form body with To
 * (21604; E.164 or whatsapp:+E.164, else 21211), From or MessagingServiceSid (21603; WhatsApp
 * needs a whatsapp: sender, 63007) and Body (21602; ≤ 1600 characters, 21617) — answers
 * `201` with the message resource's fields (`sid` SM…, `status: queued`, num_segments, num_media,
 * price_unit, subresource_uris, …; www.twilio.com/docs/messaging/api/message-resource) and errors in Twilio's shape
 * `{code, message, more_info, status}`. It has no idempotency, like the real API. It can fail
 * or hang on demand (`failures`; a hang may come after sending: the indeterminate case) and build the signed status callbacks Twilio sends
 * (`statusCallbackRequest`).
 */
import { randomBytes } from "node:crypto";
import { twilioSignature } from "../../../functions/_shared/alerts/signatures.ts";
import { FailureQueue, serve, sleep, type StandInRequest, type StandInResponse } from "./http.ts";

export interface SentMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
}

export interface TwilioStandIn {
  url: string;
  accountSid: string;
  authToken: string;
  messages: SentMessage[];
  requests: number;
  failures: FailureQueue;
  /** The status callback Twilio would POST for `message` (signed with the auth token). */
  statusCallbackRequest(message: SentMessage, status: string, extra?: Record<string, string>): Promise<Request>;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const MESSAGES: Record<number, string> = {
  20429: "Too Many Requests", 20500: "Internal Server Error", 20503: "Service Unavailable",
  21610: "Attempt to send to unsubscribed recipient", 21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
};

function twilioError(status: number, code: number, message: string, headers?: Record<string, string>): StandInResponse {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, ...(headers === undefined ? {} : { headers }) };
}

const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

export async function startTwilioStandIn(
  accountSid = `AC${hex(16)}`, authToken = hex(16),
): Promise<TwilioStandIn> {
  const messages: SentMessage[] = [];
  const failures = new FailureQueue();
  const state = { requests: 0 };
  const path = `/2010-04-01/Accounts/${accountSid}/Messages.json`;

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
    if (req.method !== "POST" || !/^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/.test(req.path)) {
      return twilioError(404, 20404, "The requested resource was not found");
    }
    state.requests += 1;
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
    if (req.headers.authorization !== expected) return twilioError(401, 20003, "Authenticate");
    if (req.path !== path) return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
    const failure = failures.take();
    if (failure !== null) pendingHang = failure;
    if (failure !== null && failure.sendFirst !== true) {
      const code = failure.code ?? (failure.status === 429 ? 20429 : 20500);
      return twilioError(failure.status, code, MESSAGES[code] ?? "Injected failure (stand-in)",
        failure.retryAfterSeconds === undefined ? undefined : { "Retry-After": String(failure.retryAfterSeconds) });
    }
    if (!(req.headers["content-type"] ?? "").includes("application/x-www-form-urlencoded")) {
      return twilioError(400, 20001, "Content-Type must be application/x-www-form-urlencoded");
    }
    const form = new URLSearchParams(req.body);
    const to = form.get("To");
    const from = form.get("From");
    const service = form.get("MessagingServiceSid");
    const body = form.get("Body");
    if (to === null || to === "") return twilioError(400, 21604, "A 'To' phone number is required.");
    const whatsapp = to.startsWith("whatsapp:");
    if (!E164.test(whatsapp ? to.slice("whatsapp:".length) : to)) {
      return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    }
    if ((from === null || from === "") && (service === null || service === "")) {
      return twilioError(400, 21603, "A 'From' phone number is required.");
    }
    if (whatsapp && (from === null || !from.startsWith("whatsapp:"))) {
      return twilioError(400, 63007, "Twilio could not find a Channel with the specified From address");
    }
    if (body === null || body === "") return twilioError(400, 21602, "Message body is required.");
    if (body.length > 1600) return twilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    const message: SentMessage = { sid: `SM${hex(16)}`, to, from, messagingServiceSid: service, body, statusCallback: form.get("StatusCallback") };
    messages.push(message);
    const now = new Date().toUTCString();
    return {
      status: 201,
      body: {
        sid: message.sid, account_sid: accountSid, to, from, messaging_service_sid: service, body, status: "queued",
        num_segments: String(Math.ceil(body.length / 153)), num_media: "0", direction: "outbound-api", api_version: "2010-04-01",
        date_created: now, date_updated: now, date_sent: null, error_code: null, error_message: null, price: null, price_unit: "USD",
        uri: `${path.replace(".json", "")}/${message.sid}.json`,
        subresource_uris: { media: `${path.replace(".json", "")}/${message.sid}/Media.json`, feedback: `${path.replace(".json", "")}/${message.sid}/Feedback.json` },
      },
    };
  };

  const server = await serve(handle);
  return {
    url: server.url,
    accountSid,
    authToken,
    messages,
    get requests() {
      return state.requests;
    },
    failures,
    async statusCallbackRequest(message, status, extra = {}) {
      if (message.statusCallback === null) throw new Error("the message has no StatusCallback");
      // Twilio adds ErrorCode to failed and undelivered callbacks (www.twilio.com/docs/messaging/guides/track-outbound-message-status).
      const failure: Record<string, string> = status === "failed" || status === "undelivered" ? { ErrorCode: "30003" } : {};
      const params = new URLSearchParams({
        MessageSid: message.sid, SmsSid: message.sid, AccountSid: accountSid, MessageStatus: status, SmsStatus: status,
        To: message.to, From: message.from ?? "", ApiVersion: "2010-04-01", ...failure, ...extra,
      });
      const signature = await twilioSignature(authToken, message.statusCallback, params.entries());
      return new Request(message.statusCallback, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": hex(16) },
        body: params.toString(),
      });
    },
    close: server.close,
  };
}
