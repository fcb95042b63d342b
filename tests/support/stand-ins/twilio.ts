/**
 * STAND-IN for Twilio's Messages API (https://www.twilio.com/docs/messaging/api/message-resource),
 * for tests and benchmarks only. It checks what the real API checks for
 * POST /2010-04-01/Accounts/{AccountSid}/Messages.json — HTTP Basic auth with the Account SID and
 * auth token (401, error 20003), the account in the path (404, 20404), a form body with To
 * (21604; E.164 or whatsapp:+E.164, else 21211), From or MessagingServiceSid (21603; WhatsApp
 * needs a whatsapp: sender, 63007) and Body (21602; ≤ 1600 characters, 21617) or ContentSid
 * (21655 when the account has no such content; ContentVariables must be a JSON object of
 * strings, 21656) — answers `201` with the message resource's fields (`sid` SM…, `status: queued`,
 * num_segments, num_media, price_unit, subresource_uris, …;
 * www.twilio.com/docs/messaging/api/message-resource) and errors in Twilio's shape
 * `{code, message, more_info, status}`. It has no idempotency, like the real API.
 *
 * WhatsApp's rules, as Twilio applies them (www.twilio.com/docs/api/errors/63016): a business may
 * send free-form text (Body) only within 24 hours of the user's last inbound message to that
 * sender (the customer-service window, opened with `inbound()`); outside it only a Content
 * template approved for WhatsApp (`createContent(…, {whatsappApproved: true})`) sent as
 * ContentSid + ContentVariables. Like Twilio, the request itself is accepted (201 queued) and the
 * message then fails: status `failed`, error_code 63016 (63028 when the variables do not fill
 * the template's placeholders), visible in GET …/Messages/{sid}.json and in the status callback
 * (`statusCallbackRequest(message, "failed")` carries that ErrorCode). A sent template message's
 * `body` is the template with its variables filled in, as the recipient reads it.
 *
 * It can fail or hang on demand (`failures`; a hang may come after sending: the indeterminate
 * case), build the signed status callbacks Twilio sends (`statusCallbackRequest`) and the signed
 * incoming-message webhook (`inbound`).
 */
import { randomBytes } from "node:crypto";
import { twilioSignature } from "../../../functions/_shared/alerts/signatures.ts";
import { FailureQueue, serve, sleep, type StandInRequest, type StandInResponse } from "./http.ts";

export interface SentMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  /** What the recipient reads: the Body, or the Content template with its variables filled in. */
  body: string;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  statusCallback: string | null;
  /** queued, or failed when Twilio refused it after accepting the request (WhatsApp's window). */
  status: "queued" | "failed";
  errorCode: number | null;
}

export interface ContentTemplate {
  sid: string;
  /** twilio/text body with {{1}}, {{2}} … placeholders. */
  body: string;
  whatsappApproved: boolean;
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
  /** A Content template, as the Content Template Builder makes them (HX…), approved for WhatsApp or not. */
  createContent(body: string, options?: { whatsappApproved?: boolean }): ContentTemplate;
  /**
   * `from` (E.164) writes to the WhatsApp sender `to` (or by SMS with channel "sms"): opens the
   * 24-hour window, and returns the incoming-message webhook Twilio would POST to `webhookUrl`,
   * signed with the auth token.
   */
  inbound(from: string, to: string, body: string, webhookUrl: string, channel?: "whatsapp" | "sms"): Promise<Request>;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const WINDOW_MS = 24 * 3600 * 1000;
const MESSAGES: Record<number, string> = {
  63016: "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.",
  63028: "Number of parameters provided does not match the expected number of parameters",
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
  const contents = new Map<string, ContentTemplate>();
  /** The last inbound WhatsApp message per E.164 number (the customer-service window). */
  const lastInbound = new Map<string, number>();
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
    const fetched = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\/([A-Z]{2}[0-9a-f]{32})\.json$/.exec(req.path);
    if (req.method === "GET" && fetched !== null) return fetchMessage(req, fetched[1] ?? "");
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
    const contentSid = form.get("ContentSid");
    let text: string;
    let variables: Record<string, string> | null = null;
    let content: ContentTemplate | null = null;
    if (contentSid !== null && contentSid !== "") {
      content = contents.get(contentSid) ?? null;
      if (content === null) return twilioError(400, 21655, "The ContentSid is Invalid.");
      const raw = form.get("ContentVariables");
      if (raw !== null) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          parsed = null;
        }
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)
            || Object.values(parsed).some((value) => typeof value !== "string")) {
          return twilioError(400, 21656, "The ContentVariables Parameter is invalid.");
        }
        variables = parsed as Record<string, string>;
      }
      text = content.body.replace(/\{\{(\d+)\}\}/g, (whole, n: string) => variables?.[n] ?? whole);
    } else {
      if (body === null || body === "") return twilioError(400, 21602, "Message body is required.");
      if (body.length > 1600) return twilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
      text = body;
    }
    // Accepted now, refused by WhatsApp right after: outside the window only an approved template goes.
    let errorCode: number | null = null;
    if (whatsapp) {
      const opened = lastInbound.get(to.slice("whatsapp:".length));
      const inWindow = opened !== undefined && Date.now() - opened < WINDOW_MS;
      if (content === null && !inWindow) errorCode = 63016;
      else if (content !== null && !inWindow && !content.whatsappApproved) errorCode = 63016;
      else if (content !== null && /\{\{\d+\}\}/.test(text)) errorCode = 63028;
    }
    const message: SentMessage = {
      sid: `SM${hex(16)}`, to, from, messagingServiceSid: service, body: text, contentSid: content?.sid ?? null,
      contentVariables: variables, statusCallback: form.get("StatusCallback"), status: errorCode === null ? "queued" : "failed", errorCode,
    };
    messages.push(message);
    const now = new Date().toUTCString();
    return {
      status: 201,
      body: {
        sid: message.sid, account_sid: accountSid, to, from, messaging_service_sid: service, body: text, status: "queued",
        num_segments: String(Math.ceil(text.length / 153)), num_media: "0", direction: "outbound-api", api_version: "2010-04-01",
        date_created: now, date_updated: now, date_sent: null, error_code: null, error_message: null, price: null, price_unit: "USD",
        uri: `${path.replace(".json", "")}/${message.sid}.json`,
        subresource_uris: { media: `${path.replace(".json", "")}/${message.sid}/Media.json`, feedback: `${path.replace(".json", "")}/${message.sid}/Feedback.json` },
      },
    };
  };

  const fetchMessage = (req: StandInRequest, sid: string): StandInResponse => {
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
    if (req.headers.authorization !== expected) return twilioError(401, 20003, "Authenticate");
    const message = messages.find((m) => m.sid === sid);
    if (message === undefined) return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
    return {
      status: 200,
      body: {
        sid: message.sid, account_sid: accountSid, to: message.to, from: message.from, body: message.body, status: message.status,
        error_code: message.errorCode, error_message: message.errorCode === null ? null : MESSAGES[message.errorCode] ?? null,
        direction: "outbound-api", api_version: "2010-04-01",
      },
    };
  };

  /** A webhook request signed as Twilio signs them (X-Twilio-Signature over the URL and sorted fields). */
  const signedPost = async (url: string, params: URLSearchParams): Promise<Request> => {
    const signature = await twilioSignature(authToken, url, params.entries());
    return new Request(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": hex(16) },
      body: params.toString(),
    });
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
      // Twilio adds ErrorCode to failed and undelivered callbacks (www.twilio.com/docs/messaging/guides/track-outbound-message-status):
      // why WhatsApp refused the message (e.g. 63016), else a carrier's 30003.
      const failure: Record<string, string> = status === "failed" || status === "undelivered"
        ? { ErrorCode: String(message.errorCode ?? 30003) } : {};
      const params = new URLSearchParams({
        MessageSid: message.sid, SmsSid: message.sid, AccountSid: accountSid, MessageStatus: status, SmsStatus: status,
        To: message.to, From: message.from ?? "", ApiVersion: "2010-04-01", ...failure, ...extra,
      });
      return signedPost(message.statusCallback, params);
    },
    createContent(body, options = {}) {
      const content: ContentTemplate = { sid: `HX${hex(16)}`, body, whatsappApproved: options.whatsappApproved ?? false };
      contents.set(content.sid, content);
      return content;
    },
    async inbound(from, to, body, webhookUrl, channel = "whatsapp") {
      if (!E164.test(from)) throw new Error(`inbound: ${from} is not E.164`);
      if (channel === "whatsapp") lastInbound.set(from, Date.now());
      const address = (n: string) => (channel === "whatsapp" ? `whatsapp:${n}` : n);
      const sid = `SM${hex(16)}`;
      // The fields of Twilio's incoming-message webhook (www.twilio.com/docs/messaging/guides/webhook-request).
      const params = new URLSearchParams({
        MessageSid: sid, SmsMessageSid: sid, SmsSid: sid, AccountSid: accountSid, From: address(from), To: address(to), Body: body,
        NumMedia: "0", NumSegments: "1", SmsStatus: "received", ApiVersion: "2010-04-01",
        ...(channel === "whatsapp" ? { WaId: from.slice(1), ProfileName: "Stand-in user", MessageType: "text" } : {}),
      });
      return signedPost(webhookUrl, params);
    },
    close: server.close,
  };
}
