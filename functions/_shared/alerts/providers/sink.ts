/**
 * The sink provider: records every alert in the database (`private.alert_sink`) instead of
 * sending it. The default when no provider keys are set, so local development and CI exercise
 * the whole pipeline — outbox, claims, templates, outcomes — without sending anything. Like a
 * real provider it is idempotent: the same delivery id gives back the same message id.
 */
import type { OutboundMessage, Provider, SendOutcome } from "../types.ts";

export interface SinkRecord {
  deliveryId: string;
  channel: OutboundMessage["channel"];
  destination: string;
  subject: string | null;
  text: string;
  html: string | null;
}

/** Stores one record and returns its id. */
export type SinkRecorder = (record: SinkRecord) => Promise<string>;

export function createSinkProvider(record: SinkRecorder): Provider {
  return {
    name: "sink",
    async send(message: OutboundMessage): Promise<SendOutcome> {
      try {
        const id = await record(message.channel === "email"
          ? { deliveryId: message.deliveryId, channel: "email", destination: message.to, subject: message.email.subject,
              text: message.email.text, html: message.email.html }
          : { deliveryId: message.deliveryId, channel: message.channel, destination: message.to, subject: null,
              text: message.text, html: null });
        return { kind: "sent", providerMessageId: `sink_${id}` };
      } catch (err) {
        return { kind: "retryable", error: `sink: ${err instanceof Error ? err.message : String(err)}` };
      }
    },
  };
}
