/**
 * POST /functions/v1/resend-webhook (verify_jwt = false: Resend calls it): Resend's email
 * events (email.sent, email.delivered, email.bounced, email.complained, email.failed,
 * email.suppressed, …),
 * delivered by Svix.
 *
 * Verified with the Svix headers (svix-id, svix-timestamp within 5 minutes, svix-signature:
 * HMAC-SHA256 with RESEND_WEBHOOK_SECRET over `id.timestamp.body`). Stored once per svix-id
 * (Svix retries are duplicates), applied forward-only to the delivery named by the
 * `delivery_id` tag the dispatcher set (or found by email_id). A hard bounce, a spam
 * complaint or Resend's own suppression (email.suppressed, which also fails the delivery)
 * suppresses email to that user.
 *
 * 200 { outcome }; 401 invalid_signature / stale_webhook; 400 validation_failed / invalid_json;
 * 413 payload_too_large past 256 KiB (read no further; Resend's events are a few KiB);
 * 503 not_configured without RESEND_WEBHOOK_SECRET.
 */
import { z } from "zod";
import { withServiceRole } from "../_shared/db.ts";
import { NotConfiguredError, readEnv } from "../_shared/env.ts";
import { HttpError, unauthorized, validationError } from "../_shared/http-errors.ts";
import { json, nestingDepth, readBodyText, storableInPostgres } from "../_shared/json.ts";
import { routeByMethod } from "../_shared/router.ts";
import { applyProviderStatus } from "../_shared/alerts/outbox.ts";
import { resendStatus } from "../_shared/alerts/provider-status.ts";
import { verifySvixSignature } from "../_shared/alerts/signatures.ts";

const tagsSchema = z.union([
  z.array(z.object({ name: z.string(), value: z.string() })),
  z.record(z.string(), z.string()),
]).optional();

/** The largest body read (256 KiB). */
export const MAX_BODY_BYTES = 256 * 1024;

export const eventSchema = z.looseObject({
  type: z.string().min(1).max(64),
  created_at: z.string().optional(),
  data: z.looseObject({
    email_id: z.string().min(1).max(128).optional(),
    tags: tagsSchema,
    bounce: z.looseObject({ message: z.string().optional(), type: z.string().optional() }).optional(),
    failed: z.looseObject({ reason: z.string().optional() }).optional(),
    suppressed: z.looseObject({ message: z.string().optional(), type: z.string().optional() }).optional(),
  }),
});

/** Resend's events nest three or four levels deep; anything far deeper is not one of them. */
const MAX_EVENT_DEPTH = 32;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function deliveryIdFromTags(tags: z.infer<typeof tagsSchema>): string | null {
  if (tags === undefined) return null;
  const value = Array.isArray(tags) ? tags.find((tag) => tag.name === "delivery_id")?.value : tags.delivery_id;
  return value !== undefined && UUID.test(value) ? value : null;
}

export const handler = routeByMethod({
  POST: async (req) => {
    const secret = readEnv("RESEND_WEBHOOK_SECRET");
    if (secret === undefined) throw new NotConfiguredError(["RESEND_WEBHOOK_SECRET"]);
    const body = await readBodyText(req, MAX_BODY_BYTES);
    const svixId = req.headers.get("svix-id");
    const verdict = await verifySvixSignature(secret, {
      id: svixId, timestamp: req.headers.get("svix-timestamp"), signature: req.headers.get("svix-signature"),
    }, body, Math.floor(Date.now() / 1000));
    if (verdict === "stale_timestamp") throw unauthorized("stale_webhook", "The webhook timestamp is too old or in the future.");
    if (verdict !== "valid" || svixId === null) throw unauthorized("invalid_signature", "The webhook signature does not match.");
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      throw new HttpError(400, "invalid_json", "The request body is not valid JSON.");
    }
    // The event is stored as jsonb after JSON.stringify, which recurses: bound the nesting (Resend's events nest 3 deep).
    if (!storableInPostgres(value) || nestingDepth(value) > MAX_EVENT_DEPTH) {
      throw new HttpError(400, "invalid_json", "The request body is not valid JSON.");
    }
    const parsed = eventSchema.safeParse(value);
    if (!parsed.success) throw validationError(parsed.error, "The webhook event is not one Rally understands.");
    const event = parsed.data;
    const update = resendStatus(event.type, event.data.suppressed?.type);
    const outcome = await withServiceRole((db) => applyProviderStatus(db, {
      provider: "resend",
      eventId: svixId,
      deliveryId: deliveryIdFromTags(event.data.tags),
      messageId: event.data.email_id ?? null,
      status: update.status,
      rawStatus: event.type,
      error: event.data.bounce?.message ?? event.data.failed?.reason ?? event.data.suppressed?.message ?? (update.status === "failed" ? event.type : null),
      suppress: update.suppress,
      payload: event,
    }));
    return json({ outcome });
  },
});
