/**
 * POST /functions/v1/twilio-status (verify_jwt = false: Twilio calls it): Twilio's message
 * status callbacks for SMS and WhatsApp.
 *
 * Verified with X-Twilio-Signature (HMAC-SHA1 with TWILIO_AUTH_TOKEN over the URL Twilio called
 * — TWILIO_STATUS_CALLBACK_URL plus this request's query string — and the sorted form fields),
 * and the AccountSid must be ours. Stored once per MessageSid:MessageStatus (Twilio retries are
 * duplicates), applied forward-only to the delivery named by ?delivery_id (set by the
 * dispatcher) or found by MessageSid. A WhatsApp delivery failed with error 63016 (outside the
 * 24-hour window) falls back to SMS or is skipped, as the user chose (private.fall_back_to_sms).
 *
 * 200 { outcome: applied | recorded | duplicate | unmatched }; 403 invalid_signature;
 * 400 validation_failed; 413 payload_too_large past 64 KiB (a status callback is a few hundred
 * bytes of form fields); 503 not_configured without TWILIO_AUTH_TOKEN / TWILIO_ACCOUNT_SID.
 */
import { z } from "zod";
import { withServiceRole } from "../_shared/db.ts";
import { validationError } from "../_shared/http-errors.ts";
import { json } from "../_shared/json.ts";
import { routeByMethod } from "../_shared/router.ts";
import { applyProviderStatus } from "../_shared/alerts/outbox.ts";
import { twilioStatus } from "../_shared/alerts/provider-status.ts";
import { requireOurAccount, twilioWebhookSettings, verifiedTwilioForm } from "../_shared/alerts/twilio-webhook.ts";

/** The largest body read (64 KiB). */
export const MAX_BODY_BYTES = 64 * 1024;

export const formSchema = z.looseObject({
  MessageSid: z.string().min(1).max(64),
  MessageStatus: z.string().min(1).max(32),
  AccountSid: z.string().min(1).max(64),
  ErrorCode: z.string().max(16).optional(),
  ErrorMessage: z.string().max(500).optional(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const handler = routeByMethod({
  POST: async (req) => {
    const config = twilioWebhookSettings("TWILIO_STATUS_CALLBACK_URL", "twilio-status");
    const fields = await verifiedTwilioForm(req, config, MAX_BODY_BYTES);
    const parsed = formSchema.safeParse(fields);
    if (!parsed.success) throw validationError(parsed.error, "The status callback is missing fields.");
    const form = parsed.data;
    requireOurAccount(form.AccountSid, config);
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
      payload: fields,
    }));
    return json({ outcome });
  },
});
