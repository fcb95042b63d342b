/**
 * POST /functions/v1/payments-worker (verify_jwt = true, service_role key only) — drains the
 * payment command outbox: transfers, transfer reversals, refunds, payouts, PaymentIntent
 * cancellations and Stripe balance transaction look-ups (fees, settlement amounts). Scheduled
 * (pg_cron + pg_net every 30 s in production; the local stack runner locally); safe to run
 * concurrently (FOR UPDATE SKIP LOCKED) and to call by hand.
 *
 *   request   {} or { "max_commands": 1–1000, "batch_size": 1–100, "time_budget_ms": 100–55000 }
 *   200       { "claimed", "succeeded", "retried", "dead", "failures": [{ id, kind, code, outcome }] }
 *   401 without a token; 403 forbidden for anything but the service role; 413 payload_too_large
 *   (body over 4 KiB, read no further); 503 not_configured.
 */
import { z } from "zod";
import { requireServiceRole } from "../_shared/auth.ts";
import { json, readJson } from "../_shared/json.ts";
import { drainPaymentCommands } from "../_shared/payment-commands.ts";
import { routeByMethod } from "../_shared/router.ts";
import { getStripe } from "../_shared/stripe.ts";

export const body = z.object({
  max_commands: z.number().int().min(1).max(1000).optional(),
  batch_size: z.number().int().min(1).max(100).optional(),
  time_budget_ms: z.number().int().min(100).max(55_000).optional(),
}).default({});

export const handler = routeByMethod({
  POST: async (req) => {
    await requireServiceRole(req, "the payments worker");
    const input = await readJson(req, body);
    const report = await drainPaymentCommands({
      stripe: getStripe(),
      ...(input.max_commands === undefined ? {} : { maxCommands: input.max_commands }),
      ...(input.batch_size === undefined ? {} : { batchSize: input.batch_size }),
      ...(input.time_budget_ms === undefined ? {} : { timeBudgetMs: input.time_budget_ms }),
    });
    return json(report, { headers: { "Cache-Control": "no-store" } });
  },
});
