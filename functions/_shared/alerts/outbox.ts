/**
 * The SQL the dispatcher and the status callbacks call, run as `service_role` (the only role
 * granted these functions). Each call is its own short transaction: nothing is held open while
 * a provider is called.
 */
import { z } from "zod";
import type { DbClient } from "../db.ts";
import type { SinkRecord } from "./providers/sink.ts";
import { claimedDeliverySchema, type ClaimedDelivery, type DeliveryResult } from "./types.ts";

export async function claimDeliveries(db: DbClient, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
  const { rows } = await db.query(
    `select id, claim_token, attempt, max_attempts, channel, type, destination, locale, timezone, display_name, title, body, data,
            event, device_platform, badge, whatsapp_content_sid, whatsapp_variables
       from private.claim_alert_deliveries($1, $2)`,
    [limit, leaseSeconds],
  );
  return z.array(claimedDeliverySchema).parse(rows);
}

export async function completeDeliveries(db: DbClient, results: readonly DeliveryResult[]): Promise<number> {
  if (results.length === 0) return 0;
  const { rows } = await db.query<{ updated: number }>("select private.complete_alert_deliveries($1::jsonb) as updated", [
    JSON.stringify(results),
  ]);
  return rows[0]?.updated ?? 0;
}

/** The sink: records a batch of alerts in one statement; returns their ids in input order. */
export async function recordSinkAlerts(db: DbClient, records: readonly SinkRecord[]): Promise<string[]> {
  if (records.length === 0) return [];
  const { rows } = await db.query<{ delivery_id: string; id: string }>("select delivery_id, id from private.record_sink_alerts($1::jsonb)", [
    JSON.stringify(records.map((r) => ({ delivery_id: r.deliveryId, channel: r.channel, destination: r.destination, subject: r.subject,
                                         text: r.text, html: r.html }))),
  ]);
  const byDelivery = new Map(rows.map((row) => [row.delivery_id, row.id]));
  return records.map((r) => {
    const id = byDelivery.get(r.deliveryId);
    if (id === undefined) throw new Error(`record_sink_alerts recorded nothing for ${r.deliveryId}`);
    return id;
  });
}

export interface ProviderEvent {
  provider: "resend" | "twilio";
  eventId: string;
  deliveryId: string | null;
  messageId: string | null;
  status: "sent" | "delivered" | "failed" | null;
  rawStatus: string;
  error: string | null;
  suppress: "bounced" | "complained" | null;
  payload: unknown;
}

export type ApplyOutcome = "applied" | "recorded" | "duplicate" | "unmatched";

export async function applyProviderStatus(db: DbClient, event: ProviderEvent): Promise<ApplyOutcome> {
  const { rows } = await db.query<{ outcome: ApplyOutcome }>(
    "select private.apply_provider_status($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) as outcome",
    [event.provider, event.eventId, event.deliveryId, event.messageId, event.status, event.rawStatus, event.error,
     event.suppress, JSON.stringify(event.payload ?? {})],
  );
  const outcome = rows[0]?.outcome;
  if (outcome === undefined) throw new Error("apply_provider_status returned nothing");
  return outcome;
}
