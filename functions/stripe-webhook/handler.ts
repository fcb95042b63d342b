/**
 * POST /functions/v1/stripe-webhook           the platform endpoint (STRIPE_WEBHOOK_SECRET)
 * POST /functions/v1/stripe-webhook/connect   the Connect endpoint (STRIPE_CONNECT_WEBHOOK_SECRET)
 * verify_jwt = false: Stripe sends no JWT; the Stripe-Signature header is the only
 * authentication, checked on the raw body with stripe-node's constructEventAsync (SubtleCrypto,
 * 300 s tolerance) against that endpoint's own secret.
 *
 * A verified event is stored once and applied in the same database transaction
 * (private.ingest_stripe_event). Answers:
 *   200 { "received": true, "result": "processed" | "ignored" | "duplicate" }
 *   400 missing_signature / invalid_signature / invalid_json — Stripe will not retry these usefully
 *   413 payload_too_large — a body over 1 MiB is refused before it is read whole (Stripe's
 *       events are a few KiB; the largest, with expanded lists, stay well under this)
 *   500 the event could not be applied (rolled back; Stripe retries for up to three days)
 *   503 not_configured (the endpoint's secret is missing), database_unavailable
 */
import Stripe from "stripe";
import { withServiceRole } from "../_shared/db.ts";
import { badRequest, HttpError } from "../_shared/http-errors.ts";
import { json, readBodyText, storableInPostgres } from "../_shared/json.ts";
import { isPgError } from "../_shared/pg-errors.ts";
import { routeByMethod } from "../_shared/router.ts";
import { expectedLivemode, type WebhookEndpoint, webhookCrypto, webhookSecret } from "../_shared/stripe.ts";

/** The largest body read (1 MiB): anything bigger is not a Stripe event. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Stripe's default: a signature older than five minutes is refused (replay protection). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** Which endpoint a request came to: `/stripe-webhook/connect` is the Connect one. */
export function endpointOf(req: Request): WebhookEndpoint {
  const segments = new URL(req.url).pathname.split("/").filter((s) => s !== "");
  return segments.at(-1) === "connect" ? "connect" : "platform";
}

/** Verifies the signature on the raw body; returns the event as JSON. */
export async function verifyEvent(rawBody: string, signature: string | null, secret: string): Promise<Stripe.Event> {
  if (signature === null || signature.trim() === "") {
    throw badRequest("missing_signature", "The Stripe-Signature header is missing.");
  }
  try {
    return await Stripe.webhooks.constructEventAsync(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS, webhookCrypto);
  } catch (err) {
    if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
      throw badRequest("invalid_signature", "The Stripe signature does not match this endpoint, or is too old.");
    }
    throw badRequest("invalid_json", "The webhook body is not a Stripe event.");
  }
}

export const handler = routeByMethod({
  POST: async (req) => {
    const endpoint = endpointOf(req);
    const secret = webhookSecret(endpoint);
    const rawBody = await readBodyText(req, MAX_BODY_BYTES);
    const event = await verifyEvent(rawBody, req.headers.get("Stripe-Signature"), secret);
    if (!storableInPostgres(event)) {
      // JSON allows \u0000 and unpaired surrogates, PostgreSQL's jsonb does not; Stripe never sends them.
      throw badRequest("invalid_json", "The webhook body is not a Stripe event.");
    }
    try {
      const result = await withServiceRole(async (db) => {
        const { rows } = await db.query<{ result: string }>("select private.ingest_stripe_event($1::jsonb, $2, $3) as result",
          [rawBody, endpoint, expectedLivemode()]);
        return rows[0]?.result ?? "processed";
      });
      return json({ received: true, result });
    } catch (err) {
      if (err instanceof HttpError) throw err;
      // Rolled back: note it for operators (best effort), then let Stripe retry.
      const message = err instanceof Error ? err.message : String(err);
      await withServiceRole((db) => db.query("select private.record_stripe_event_failure($1, $2, $3)", [event.id, event.type, message]))
        .catch(() => undefined);
      // The raw body is what PostgreSQL parses as jsonb. It can hold what the parsed event does
      // not show (an earlier duplicate key carrying \u0000 or a lone surrogate escape), and
      // ingest_stripe_event guards every cast of its own, so these codes mean the body itself.
      if (isPgError(err) && (err.code === "22P02" || err.code === "22P05")) {
        throw badRequest("invalid_json", "The webhook body is not a Stripe event.");
      }
      throw err;
    }
  },
});
