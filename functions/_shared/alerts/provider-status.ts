/**
 * Provider callback payloads → the outbox's status vocabulary (sent | delivered | failed), plus
 * whether the address must be suppressed. Statuses that do not move a delivery (queued,
 * opened, clicked, delayed) map to `status: null`: they are stored, not applied.
 */
export type DeliveryStatus = "sent" | "delivered" | "failed";

export interface StatusUpdate {
  status: DeliveryStatus | null;
  suppress: "bounced" | "complained" | null;
}

/** Twilio MessageStatus values (SMS and WhatsApp). */
export function twilioStatus(messageStatus: string): StatusUpdate {
  switch (messageStatus) {
    case "sent":
      return { status: "sent", suppress: null };
    case "delivered":
    case "read":
      return { status: "delivered", suppress: null };
    case "undelivered":
    case "failed":
    case "canceled":
      return { status: "failed", suppress: null };
    default:
      return { status: null, suppress: null };
  }
}

/**
 * Resend webhook event types (resend.com/docs/webhooks). email.suppressed: Resend did not send
 * the email because the address is on its suppression list (a previous bounce or complaint), so
 * the delivery failed and Rally stops emailing that address too; `suppressedType` is the event's
 * `data.suppressed.type`.
 */
export function resendStatus(type: string, suppressedType?: string): StatusUpdate {
  switch (type) {
    case "email.sent":
      return { status: "sent", suppress: null };
    case "email.delivered":
      return { status: "delivered", suppress: null };
    case "email.bounced":
      return { status: "failed", suppress: "bounced" };
    case "email.failed":
      return { status: "failed", suppress: null };
    case "email.complained":
      return { status: null, suppress: "complained" };
    case "email.suppressed":
      return { status: "failed", suppress: suppressedType === "complaint" ? "complained" : "bounced" };
    default:
      return { status: null, suppress: null };
  }
}
