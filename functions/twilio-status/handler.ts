/**
 * POST /functions/v1/twilio-status (verify_jwt = false: Twilio calls it): Twilio's message
 * status callbacks for SMS and WhatsApp.
 *
 * Verified with X-Twilio-Signature (HMAC-SHA1 with TWILIO_AUTH_TOKEN over the URL Twilio called
 * — TWILIO_STATUS_CALLBACK_URL plus this request's query string — and the sorted form fields),
 * and the AccountSid must be ours. Stored once per MessageSid:MessageStatus (Twilio retries are
 * duplicates), applied forward-only to the delivery named by ?delivery_id (set by the
 * dispatcher) or found by MessageSid.
 *
 * 200 { outcome: applied | recorded | duplicate | unmatched }; 403 invalid_signature;
 * 400 validation_failed; 413 payload_too_large past 64 KiB (a status callback is a few hundred
 * bytes of form fields); 503 not_configured without TWILIO_AUTH_TOKEN / TWILIO_ACCOUNT_SID.
 */
import { z } from "zod";
import { withServiceRole } from "../_shared/db.ts";
import { NotConfiguredError, readEnv } from "../_shared/env.ts";
import { badRequest, forbidden, validationError } from "../_shared/http-errors.ts";
import { json, readBodyText, storableInPostgres } from "../_shared/json.ts";
import { routeByMethod } from "../_shared/router.ts";
import { applyProviderStatus } from "../_shared/alerts/outbox.ts";
import { twilioStatus } from "../_shared/alerts/provider-status.ts";
import { verifyTwilioSignature } from "../_shared/alerts/signatures.ts";

/** The largest body read (64 KiB). */
export const MAX_BODY_BYTES = 64 * 1024;

export const formSchema = z.looseObject({
  MessageSid: z.string().min(1).max(64),
  MessageStatus: z.string().min(1).max(32),
  AccountSid: z.string().min(1).max(64),
  ErrorCode: z.string().max(16).optional(),
  ErrorMessage: z.string().max(500).optional(),
});

/** The URL Twilio was given (and signs): the configured callback URL with this request's query. */
export function signedUrl(callbackUrl: string, requestUrl: string): string {
  const base = callbackUrl.split("?")[0] ?? callbackUrl;
  return base + new URL(requestUrl).search;
}

function settings(): { authToken: string; accountSid: string; callbackUrl: string } {
  const authToken = readEnv("TWILIO_AUTH_TOKEN");
  const accountSid = readEnv("TWILIO_ACCOUNT_SID");
  const supabaseUrl = readEnv("SUPABASE_URL");
  const callbackUrl = readEnv("TWILIO_STATUS_CALLBACK_URL")
    ?? (supabaseUrl === undefined ? undefined : `${supabaseUrl.replace(/\/+$/, "")}/functions/v1/twilio-status`);
  const missing = [
    ...(authToken === undefined ? ["TWILIO_AUTH_TOKEN"] : []),
    ...(accountSid === undefined ? ["TWILIO_ACCOUNT_SID"] : []),
    ...(callbackUrl === undefined ? ["TWILIO_STATUS_CALLBACK_URL"] : []),
  ];
  if (authToken === undefined || accountSid === undefined || callbackUrl === undefined) throw new NotConfiguredError(missing);
  return { authToken, accountSid, callbackUrl };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const handler = routeByMethod({
  POST: async (req) => {
    const config = settings();
    const params = new URLSearchParams(await readBodyText(req, MAX_BODY_BYTES));
    const valid = await verifyTwilioSignature(config.authToken, signedUrl(config.callbackUrl, req.url), params.entries(),
      req.headers.get("X-Twilio-Signature"));
    if (!valid) throw forbidden("invalid_signature", "The X-Twilio-Signature does not match this request.");
    const fields = Object.fromEntries(params);
    if (!storableInPostgres(fields)) throw badRequest("invalid_form", "The status callback carries characters that cannot be stored.");
    const parsed = formSchema.safeParse(fields);
    if (!parsed.success) throw validationError(parsed.error, "The status callback is missing fields.");
    const form = parsed.data;
    if (form.AccountSid !== config.accountSid) throw forbidden("wrong_account", "This callback is for another Twilio account.");
    const deliveryId = new URL(req.url).searchParams.get("delivery_id");
    const update = twilioStatus(form.MessageStatus);
    const outcome = await withServiceRole((db) => applyProviderStatus(db, {
      provider: "twilio",
      eventId: `${form.MessageSid}:${form.MessageStatus}`,
      deliveryId: deliveryId !== null && UUID.test(deliveryId) ? deliveryId : null,
      messageId: form.MessageSid,
      status: update.status,
      rawStatus: form.MessageStatus,
      error: form.ErrorCode === undefined ? null : `Twilio error ${form.ErrorCode}${form.ErrorMessage === undefined ? "" : `: ${form.ErrorMessage}`}`,
      suppress: update.suppress,
      payload: Object.fromEntries(params),
    }));
    return json({ outcome });
  },
});
