/**
 * The sink provider: records every alert (email, SMS, WhatsApp, push) in the database
 * (`private.alert_sink`) instead of sending it. The default when no provider keys are set, so local development and CI exercise
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

/** Stores records and returns their ids, in order. */
export type SinkRecorder = (records: readonly SinkRecord[]) => Promise<string[]>;

/** What the sink keeps of a message: for a WhatsApp template, its Content SID and variables as the subject. */
export function sinkRecord(message: OutboundMessage): SinkRecord {
  const base = { deliveryId: message.deliveryId, channel: message.channel, destination: message.to };
  switch (message.channel) {
    case "email":
      return { ...base, subject: message.email.subject, text: message.email.text, html: message.email.html };
    case "sms":
      return { ...base, subject: null, text: message.text, html: null };
    case "whatsapp":
      return { ...base, text: message.text, html: null,
               subject: message.template === null ? null
                 : `template ${message.template.contentSid} ${JSON.stringify(message.template.variables)}` };
    case "push":
      return { ...base, subject: message.push.title, text: message.push.body, html: null };
  }
}

export function createSinkProvider(record: SinkRecorder): Provider {
  const sendBatch = async (messages: readonly OutboundMessage[]): Promise<SendOutcome[]> => {
    try {
      const ids = await record(messages.map(sinkRecord));
      return messages.map((_, index): SendOutcome => {
        const id = ids[index];
        return id === undefined ? { kind: "retryable", error: "sink: no id recorded" } : { kind: "sent", providerMessageId: `sink_${id}` };
      });
    } catch (err) {
      const error = `sink: ${err instanceof Error ? err.message : String(err)}`;
      return messages.map((): SendOutcome => ({ kind: "retryable", error }));
    }
  };
  return {
    name: "sink",
    sendBatch,
    async send(message: OutboundMessage): Promise<SendOutcome> {
      const [outcome] = await sendBatch([message]);
      return outcome ?? { kind: "retryable", error: "sink: nothing recorded" };
    },
  };
}
