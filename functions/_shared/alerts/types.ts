/**
 * The vocabulary of outbound alerts, shared by the dispatcher, the templates and the providers.
 *
 * A delivery is one notification on one channel (email, SMS, WhatsApp), claimed from the outbox
 * (`private.claim_alert_deliveries`). A provider sends a rendered message and answers with an
 * outcome the dispatcher records (`private.complete_alert_deliveries`).
 */
import { z } from "zod";

export const CHANNELS = ["email", "sms", "whatsapp"] as const;
export type Channel = (typeof CHANNELS)[number];

/** The public facts of the event a notification is about (from `private.claim_alert_deliveries`). */
export const eventSummarySchema = z.object({
  id: z.string(),
  title: z.string(),
  starts_at: z.string(),
  ends_at: z.string(),
  timezone: z.string(),
  venue_name: z.string().nullable(),
  city: z.string().nullable(),
});

/** One row of `private.claim_alert_deliveries`. */
export const claimedDeliverySchema = z.object({
  id: z.uuid(),
  claim_token: z.uuid(),
  attempt: z.number().int().min(1),
  max_attempts: z.number().int().min(1),
  channel: z.enum(CHANNELS),
  type: z.string(),
  destination: z.string().nullable(),
  locale: z.string().nullable(),
  display_name: z.string().nullable(),
  title: z.string(),
  body: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  event: eventSummarySchema.nullable(),
});
export type ClaimedDelivery = z.infer<typeof claimedDeliverySchema>;

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** What a provider is asked to send. `email` for the email channel, `text` for SMS/WhatsApp. */
export type OutboundMessage =
  | { deliveryId: string; channel: "email"; to: string; email: EmailContent }
  | { deliveryId: string; channel: "sms" | "whatsapp"; to: string; text: string };

/** A provider's answer. `retryable` failures are tried again with backoff; `permanent` ones are dead letters. */
export type SendOutcome =
  | { kind: "sent"; providerMessageId: string }
  | { kind: "retryable"; error: string; retryAfterMs?: number }
  | { kind: "permanent"; error: string };

export type ProviderName = "resend" | "twilio" | "sink";

export interface Provider {
  readonly name: ProviderName;
  send(message: OutboundMessage): Promise<SendOutcome>;
  /** Optional: many messages in one call (the sink records a whole batch in one statement). */
  sendBatch?(messages: readonly OutboundMessage[]): Promise<SendOutcome[]>;
}

export type ProviderSet = Record<Channel, Provider>;

/** One outcome for `private.complete_alert_deliveries`. */
export interface DeliveryResult {
  id: string;
  claim_token: string;
  outcome: "sent" | "retry" | "dead";
  provider?: ProviderName;
  provider_message_id?: string;
  error?: string;
  retry_at?: string;
}
