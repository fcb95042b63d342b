/**
 * The vocabulary of outbound alerts, shared by the dispatcher, the templates and the providers.
 *
 * A delivery is one notification on one channel (email, SMS, WhatsApp, push — one per device),
 * claimed from the outbox (`private.claim_alert_deliveries`). A provider sends a rendered
 * message and answers with an outcome the dispatcher records (`private.complete_alert_deliveries`).
 */
import { z } from "zod";

export const CHANNELS = ["email", "sms", "whatsapp", "push"] as const;
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
  /** The recipient's own time zone (profiles.timezone). */
  timezone: z.string().nullable(),
  display_name: z.string().nullable(),
  title: z.string(),
  body: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  event: eventSummarySchema.nullable(),
  /** Push: the device's platform. */
  device_platform: z.enum(["android", "ios", "web"]).nullable(),
  /** Push: the recipient's unread in-app notifications, for the app icon's badge. */
  badge: z.number().int().nullable(),
  /** WhatsApp outside the 24-hour window: the approved template (null inside it: free-form text). */
  whatsapp_content_sid: z.string().nullable(),
  whatsapp_variables: z.array(z.string()).nullable(),
});
export type ClaimedDelivery = z.infer<typeof claimedDeliverySchema>;

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** An approved WhatsApp template with its placeholder values ({"1": "…", "2": "…"}). */
export interface WhatsAppTemplate {
  contentSid: string;
  variables: Record<string, string>;
}

export type PushPlatform = "android" | "ios" | "web";

/** A push notification, provider-neutral (FCM today; APNs direct or Expo would read the same). */
export interface PushContent {
  title: string;
  body: string;
  /** Where tapping it leads, and the ids the app needs (string values only, as FCM requires). */
  data: Record<string, string>;
  /** Pushes with the same key replace each other (one per conversation), or null. */
  collapseKey: string | null;
  /** The app icon's badge (iOS), or null to leave it. */
  badge: number | null;
}

/**
 * What a provider is asked to send. `email` for email, `text` for SMS; WhatsApp has `text` (the
 * free-form message, inside the 24-hour window) and `template` (outside it, what is sent
 * instead); push has the device token in `to`.
 */
export type OutboundMessage =
  | { deliveryId: string; channel: "email"; to: string; email: EmailContent }
  | { deliveryId: string; channel: "sms"; to: string; text: string }
  | { deliveryId: string; channel: "whatsapp"; to: string; text: string; template: WhatsAppTemplate | null }
  | { deliveryId: string; channel: "push"; to: string; platform: PushPlatform; push: PushContent };

/**
 * A provider's answer. `retryable` failures are tried again with backoff; `permanent` ones are
 * dead letters; `forgetDestination` (push) says the device token is gone for good.
 */
export type SendOutcome =
  | { kind: "sent"; providerMessageId: string }
  | { kind: "retryable"; error: string; retryAfterMs?: number }
  | { kind: "permanent"; error: string; forgetDestination?: boolean };

export type ProviderName = "resend" | "twilio" | "fcm" | "sink";

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
  /** Push: delete the device (FCM says its token is unregistered). */
  forget_device?: boolean;
}
