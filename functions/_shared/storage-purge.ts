/**
 * The storage purge worker (functions/storage-purge): deletes the files in
 * private.storage_purge_queue (a deleted account's avatar, their drafts' covers) through the
 * Storage API, which deletes the storage.objects row and the bytes together.
 *
 *   repeat (until the queue is drained, `maxBatches` batches, or `budgetMs`):
 *     claim a batch (its own transaction; FOR UPDATE SKIP LOCKED, leased)
 *     per bucket, one `storage.from(bucket).remove(names)` (DELETE /storage/v1/object/{bucket}),
 *       outside any transaction, with a timeout shorter than the lease
 *     record the outcomes in one call (only rows this claim still holds)
 *
 * Idempotent: the Storage API answers 200 for names it no longer has (it deletes what it
 * finds), so a retry after a lost answer is a success; the SQL believes "purged" only once the
 * storage.objects row is really gone. A failed call is retried after exponential backoff with
 * jitter; the SQL turns a retry past max_attempts into a dead letter
 * (admin.storage_purge_dead_letters). A 400 (the request itself is wrong) is dead at once.
 */
import { createClient, type SupabaseClientOptions } from "@supabase/supabase-js";
import { z } from "zod";
import { retryDelayMs, type BackoffPolicy } from "./alerts/backoff.ts";
import type { DbClient } from "./db.ts";

export const claimedPurgeSchema = z.object({
  bucket_id: z.string(),
  name: z.string(),
  claim_token: z.string(),
  attempt: z.number().int(),
  max_attempts: z.number().int(),
});
export type ClaimedPurge = z.infer<typeof claimedPurgeSchema>;

export interface PurgeResult {
  bucket_id: string;
  name: string;
  claim_token: string;
  outcome: "purged" | "retry" | "dead";
  error?: string;
  retry_at?: string;
}

/** What one Storage API delete call came to. */
export type RemoveOutcome =
  | { kind: "removed" }
  | { kind: "retryable"; error: string }
  | { kind: "permanent"; error: string };

/** Deletes `names` in `bucket` through the Storage API. Never throws. */
export type Remover = (bucket: string, names: readonly string[]) => Promise<RemoveOutcome>;

export interface PurgeOptions {
  batchSize: number;
  maxBatches: number;
  budgetMs: number;
  leaseSeconds: number;
}

export const DEFAULT_PURGE: PurgeOptions = { batchSize: 100, maxBatches: 10, budgetMs: 20_000, leaseSeconds: 60 };

/** How long one Storage API call may take by default; the handler keeps it inside half the lease. */
export const DEFAULT_REMOVE_TIMEOUT_MS = 15_000;

/** Storage is not a person's inbox: retry sooner than alerts (10–20 s, then doubling, ≤ 30 min). */
export const PURGE_BACKOFF: BackoffPolicy = { baseMs: 20_000, capMs: 30 * 60_000 };

/** The Storage API takes at most this many names per call (storage-api's delete limit is higher). */
export const MAX_NAMES_PER_CALL = 100;

export interface PurgeDeps {
  claim(limit: number, leaseSeconds: number): Promise<ClaimedPurge[]>;
  complete(results: readonly PurgeResult[]): Promise<number>;
  remove: Remover;
  now?: () => number;
  random?: () => number;
}

export interface PurgeSummary {
  batches: number;
  claimed: number;
  purged: number;
  retried: number;
  dead: number;
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * A Storage API failure (what supabase-js returns as `error`) → retryable or permanent. 400 means
 * the request is wrong and will stay wrong; everything else (401/403 a key to fix, 404 a bucket
 * to restore, 429, 5xx, timeouts, network errors without a status) can succeed later.
 */
export function classifyRemoveError(error: unknown): RemoveOutcome {
  const status = typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
    ? error.status : undefined;
  const message = describe(error);
  if (status === undefined) return { kind: "retryable", error: `Storage API unreachable: ${message}` };
  const text = `Storage API ${status}: ${message}`;
  return status === 400 ? { kind: "permanent", error: text } : { kind: "retryable", error: text };
}

/** Claimed rows grouped by bucket, in chunks of at most `max` names. */
export function removalCalls(claimed: readonly ClaimedPurge[], max = MAX_NAMES_PER_CALL): { bucket: string; rows: ClaimedPurge[] }[] {
  const byBucket = new Map<string, ClaimedPurge[]>();
  for (const row of claimed) byBucket.set(row.bucket_id, [...(byBucket.get(row.bucket_id) ?? []), row]);
  const calls: { bucket: string; rows: ClaimedPurge[] }[] = [];
  for (const [bucket, rows] of byBucket) {
    for (let i = 0; i < rows.length; i += max) calls.push({ bucket, rows: rows.slice(i, i + max) });
  }
  return calls;
}

/** The result to record for one claimed row after its call's outcome. */
export function resultFor(row: ClaimedPurge, outcome: RemoveOutcome, nowMs: number, random: () => number): PurgeResult {
  const base = { bucket_id: row.bucket_id, name: row.name, claim_token: row.claim_token };
  switch (outcome.kind) {
    case "removed":
      return { ...base, outcome: "purged" };
    case "permanent":
      return { ...base, outcome: "dead", error: outcome.error };
    case "retryable":
      return { ...base, outcome: "retry", error: outcome.error,
               retry_at: new Date(nowMs + retryDelayMs(row.attempt, random, PURGE_BACKOFF)).toISOString() };
  }
}

export async function runPurge(deps: PurgeDeps, options: PurgeOptions = DEFAULT_PURGE): Promise<PurgeSummary> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const started = now();
  const summary: PurgeSummary = { batches: 0, claimed: 0, purged: 0, retried: 0, dead: 0 };
  while (summary.batches < options.maxBatches && now() - started < options.budgetMs) {
    const claimed = await deps.claim(options.batchSize, options.leaseSeconds);
    if (claimed.length === 0) break;
    summary.batches += 1;
    summary.claimed += claimed.length;
    const results: PurgeResult[] = [];
    for (const call of removalCalls(claimed)) {
      const outcome = await deps.remove(call.bucket, call.rows.map((row) => row.name));
      for (const row of call.rows) results.push(resultFor(row, outcome, now(), random));
    }
    await deps.complete(results);
    for (const result of results) {
      if (result.outcome === "purged") summary.purged += 1;
      else if (result.outcome === "dead") summary.dead += 1;
      else summary.retried += 1;
    }
    if (claimed.length < options.batchSize) break;
  }
  return summary;
}

type RealtimeTransport = NonNullable<NonNullable<SupabaseClientOptions<"public">["realtime"]>["transport"]>;

/**
 * The worker never opens a Realtime socket. supabase-js still looks for a WebSocket class when the
 * client is created, and Node 20 (vitest) has none, so it gets one that refuses to be used.
 */
const NO_REALTIME = class {
  constructor() {
    throw new Error("the storage purge worker does not use Realtime");
  }
} as unknown as RealtimeTransport;

/**
 * The Remover over the real Storage API with supabase-js:
 * `createClient(SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY).storage.from(bucket).remove(names)`,
 * each call cut off after `timeoutMs`.
 */
export function createStorageRemover(supabaseUrl: string, serviceRoleKey: string, timeoutMs: number): Remover {
  const timedFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const client = createClient(supabaseUrl, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: timedFetch },
    realtime: { transport: NO_REALTIME },
  });
  return async (bucket, names) => {
    try {
      const { error } = await client.storage.from(bucket).remove([...names]);
      return error === null ? { kind: "removed" } : classifyRemoveError(error);
    } catch (err) {
      return classifyRemoveError(err);
    }
  };
}

// The SQL, run as service_role (the only API role granted these functions); each call its own
// short transaction, nothing held open while the Storage API is called.

export async function claimPurges(db: DbClient, limit: number, leaseSeconds: number): Promise<ClaimedPurge[]> {
  const { rows } = await db.query("select bucket_id, name, claim_token, attempt, max_attempts from private.claim_storage_purges($1, $2)",
    [limit, leaseSeconds]);
  return z.array(claimedPurgeSchema).parse(rows);
}

export async function completePurges(db: DbClient, results: readonly PurgeResult[]): Promise<number> {
  if (results.length === 0) return 0;
  const { rows } = await db.query<{ updated: number }>("select private.complete_storage_purges($1::jsonb) as updated",
    [JSON.stringify(results)]);
  return rows[0]?.updated ?? 0;
}
