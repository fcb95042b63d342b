/**
 * POST /functions/v1/twilio-inbound (verify_jwt = false: Twilio calls it): Twilio's
 * incoming-message webhook for Rally's SMS and WhatsApp senders (set it as the sender's "A
 * message comes in" URL). A user's WhatsApp message opens that number's 24-hour
 * customer-service window, inside which Rally may send free-form WhatsApp text; outside it only
 * approved templates go (docs/social-and-alerts.md). STOP (UNSUBSCRIBE, CANCEL, QUIT, END) on
 * WhatsApp withdraws the WhatsApp opt-in; Twilio itself handles those keywords for SMS.
 *
 * Verified exactly as twilio-status is: X-Twilio-Signature over TWILIO_INBOUND_WEBHOOK_URL
 * (default $SUPABASE_URL/functions/v1/twilio-inbound) plus the query string and the sorted
 * fields, and AccountSid must be ours. Stored once per MessageSid (Twilio retries are
 * duplicates).
 *
 * 200 with empty TwiML (`<Response/>`: Rally does not reply), header X-Rally-Outcome:
 * recorded | duplicate | opted_out; 403 invalid_signature, wrong_account; 400 validation_failed;
 * 413 payload_too_large past 64 KiB; 503 not_configured without TWILIO_AUTH_TOKEN /
 * TWILIO_ACCOUNT_SID.
 */
import { z } from "zod";
import { withServiceRole } from "../_shared/db.ts";
import { validationError } from "../_shared/http-errors.ts";
import { routeByMethod } from "../_shared/router.ts";
import { requireOurAccount, twilioWebhookSettings, verifiedTwilioForm } from "../_shared/alerts/twilio-webhook.ts";

/** The largest body read (64 KiB: a WhatsApp message is at most a few KiB of form fields). */
export const MAX_BODY_BYTES = 64 * 1024;

const E164 = /^\+[1-9][0-9]{6,14}$/;

export const formSchema = z.looseObject({
  MessageSid: z.string().regex(/^[A-Z]{2}[0-9a-f]{32}$/),
  AccountSid: z.string().min(1).max(64),
  From: z.string().regex(/^(whatsapp:)?\+[1-9][0-9]{6,14}$/),
  To: z.string().min(1).max(64),
  Body: z.string().max(1600).optional(),
});

/** `whatsapp:+447…` → WhatsApp from +447…; `+447…` → SMS. */
export function inboundSender(from: string): { channel: "whatsapp" | "sms"; phone: string } {
  const whatsapp = from.startsWith("whatsapp:");
  const phone = whatsapp ? from.slice("whatsapp:".length) : from;
  if (!E164.test(phone)) throw new Error(`not an E.164 sender: ${from}`);
  return { channel: whatsapp ? "whatsapp" : "sms", phone };
}

export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export const handler = routeByMethod({
  POST: async (req) => {
    const config = twilioWebhookSettings("TWILIO_INBOUND_WEBHOOK_URL", "twilio-inbound");
    const fields = await verifiedTwilioForm(req, config, MAX_BODY_BYTES);
    const parsed = formSchema.safeParse(fields);
    if (!parsed.success) throw validationError(parsed.error, "The incoming message is missing fields.");
    const form = parsed.data;
    requireOurAccount(form.AccountSid, config);
    const sender = inboundSender(form.From);
    const outcome = await withServiceRole(async (db) => {
      const { rows } = await db.query<{ outcome: string }>(
        "select private.record_inbound_message($1, $2, $3, $4, $5) as outcome",
        [form.MessageSid, sender.channel, sender.phone, form.To, form.Body ?? null],
      );
      return rows[0]?.outcome ?? "recorded";
    });
    return new Response(EMPTY_TWIML, { status: 200, headers: { "Content-Type": "text/xml; charset=utf-8", "X-Rally-Outcome": outcome } });
  },
});
