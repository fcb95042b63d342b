/**
 * POST /functions/v1/dispatch-alerts (verify_jwt = true, service role only): drains the alert
 * outbox once — claims due deliveries in batches, sends them through Resend / Twilio / the sink,
 * records the outcomes — and answers with what it did. Scheduled: pg_cron + pg_net on the
 * platform, `npm start` locally (every 10 s).
 *
 * Body (optional JSON): { batch_size?: 1–500 (100), max_batches?: 1–100 (20), concurrency?: 1–50 (10),
 *                         budget_ms?: 100–120000 (20000), lease_seconds?: 10–3600 (120) }
 * 200: { batches, claimed, sent, retried, dead, by_channel: {email, sms, whatsapp},
 *        providers: {email, sms, whatsapp}, duration_ms }
 * 401 without a valid JWT; 403 service_role_only for any other role; 400 validation_failed;
 * 413 payload_too_large (body over 4 KiB, read no further);
 * 503 not_configured when a provider is half configured (names the variables).
 */
import { z } from "zod";
import { requireServiceRole } from "../_shared/auth.ts";
import { withServiceRole } from "../_shared/db.ts";
import { json, readJson } from "../_shared/json.ts";
import { routeByMethod } from "../_shared/router.ts";
import { alertsConfig } from "../_shared/alerts/config.ts";
import { DEFAULT_DISPATCH, runDispatch } from "../_shared/alerts/dispatcher.ts";
import { claimDeliveries, completeDeliveries, recordSinkAlerts } from "../_shared/alerts/outbox.ts";
import { buildProviders } from "../_shared/alerts/providers/index.ts";

export const optionsSchema = z.strictObject({
  batch_size: z.number().int().min(1).max(500).optional(),
  max_batches: z.number().int().min(1).max(100).optional(),
  concurrency: z.number().int().min(1).max(50).optional(),
  budget_ms: z.number().int().min(100).max(120_000).optional(),
  lease_seconds: z.number().int().min(10).max(3600).optional(),
}).optional();

export const handler = routeByMethod({
  POST: async (req) => {
    await requireServiceRole(req, "the alert dispatcher");
    const body = (await readJson(req, optionsSchema)) ?? {};
    const config = alertsConfig();
    const providers = buildProviders(config, { recordSink: (records) => withServiceRole((db) => recordSinkAlerts(db, records)) });
    const started = Date.now();
    const summary = await runDispatch({
      claim: (limit, leaseSeconds) => withServiceRole((db) => claimDeliveries(db, limit, leaseSeconds)),
      complete: (results) => withServiceRole((db) => completeDeliveries(db, results)),
      providers,
      appUrl: config.appUrl,
    }, {
      batchSize: body.batch_size ?? DEFAULT_DISPATCH.batchSize,
      maxBatches: body.max_batches ?? DEFAULT_DISPATCH.maxBatches,
      concurrency: body.concurrency ?? DEFAULT_DISPATCH.concurrency,
      budgetMs: body.budget_ms ?? DEFAULT_DISPATCH.budgetMs,
      leaseSeconds: body.lease_seconds ?? DEFAULT_DISPATCH.leaseSeconds,
      ...(config.providerTimeoutMs === undefined ? {} : { sendTimeoutMs: config.providerTimeoutMs }),
    });
    return json({
      batches: summary.batches, claimed: summary.claimed, sent: summary.sent, retried: summary.retried, dead: summary.dead,
      by_channel: summary.byChannel, providers: config.choice, duration_ms: Date.now() - started,
    });
  },
});
