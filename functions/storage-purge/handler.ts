/**
 * POST /functions/v1/storage-purge (verify_jwt = true, service role only): deletes the files in
 * the storage purge queue (deleted accounts' avatars and draft covers) through the Storage API —
 * claims due rows in batches, calls `storage.from(bucket).remove(names)` per bucket, records the
 * outcomes — and answers with what it did. Scheduled: pg_cron + pg_net on the platform, `npm
 * start` locally (every 10 s). Safe to run concurrently (FOR UPDATE SKIP LOCKED) and by hand.
 *
 * Body (optional JSON): { batch_size?: 1–1000 (100), max_batches?: 1–100 (10),
 *                         budget_ms?: 100–55000 (20000), lease_seconds?: 10–3600 (60) }
 * 200: { batches, claimed, purged, retried, dead, duration_ms }
 * 401 without a valid JWT; 403 service_role_only for any other role; 400 validation_failed;
 * 413 payload_too_large (body over 4 KiB, read no further); 503 not_configured without
 * SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY.
 * Env: SUPABASE_URL (the Storage API is SUPABASE_URL/storage/v1), SUPABASE_SERVICE_ROLE_KEY,
 * SUPABASE_DB_URL; STORAGE_PURGE_TIMEOUT_MS (one Storage API call, default 15000).
 */
import { z } from "zod";
import { requireServiceRole } from "../_shared/auth.ts";
import { withServiceRole } from "../_shared/db.ts";
import { readEnv, requireEnv } from "../_shared/env.ts";
import { json, readJson } from "../_shared/json.ts";
import { routeByMethod } from "../_shared/router.ts";
import { claimPurges, completePurges, createStorageRemover, DEFAULT_PURGE, DEFAULT_REMOVE_TIMEOUT_MS, runPurge } from "../_shared/storage-purge.ts";

export const optionsSchema = z.strictObject({
  batch_size: z.number().int().min(1).max(1000).optional(),
  max_batches: z.number().int().min(1).max(100).optional(),
  budget_ms: z.number().int().min(100).max(55_000).optional(),
  lease_seconds: z.number().int().min(10).max(3600).optional(),
}).optional();

/** STORAGE_PURGE_TIMEOUT_MS, 100–60000; anything else falls back to the default. */
export function removeTimeoutMs(value: string | undefined): number {
  const ms = Number(value);
  return value !== undefined && Number.isInteger(ms) && ms >= 100 && ms <= 60_000 ? ms : DEFAULT_REMOVE_TIMEOUT_MS;
}

export const handler = routeByMethod({
  POST: async (req) => {
    await requireServiceRole(req, "the storage purge");
    const body = (await readJson(req, optionsSchema)) ?? {};
    const env = requireEnv("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY");
    const leaseSeconds = body.lease_seconds ?? DEFAULT_PURGE.leaseSeconds;
    // A call never outlives half the lease, so no other worker claims the rows meanwhile.
    const timeoutMs = Math.min(removeTimeoutMs(readEnv("STORAGE_PURGE_TIMEOUT_MS")), leaseSeconds * 500);
    const started = Date.now();
    const summary = await runPurge({
      claim: (limit, lease) => withServiceRole((db) => claimPurges(db, limit, lease)),
      complete: (results) => withServiceRole((db) => completePurges(db, results)),
      remove: createStorageRemover(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY, timeoutMs),
    }, {
      batchSize: body.batch_size ?? DEFAULT_PURGE.batchSize,
      maxBatches: body.max_batches ?? DEFAULT_PURGE.maxBatches,
      budgetMs: body.budget_ms ?? DEFAULT_PURGE.budgetMs,
      leaseSeconds,
    });
    return json({ ...summary, duration_ms: Date.now() - started }, { headers: { "Cache-Control": "no-store" } });
  },
});
