/**
 * Shared by the fault-injection tests (tests/faults): the payments harness with its edge
 * functions talking to PostgreSQL through the fault proxy, and small helpers.
 *
 * Only the functions' pool (SUPABASE_DB_URL, read by functions/_shared/db.ts) goes through the
 * proxy; test fixtures written with `ownerQuery` use RALLY_DB_URL, which is never redirected. `asUser` also
 * reads SUPABASE_DB_URL, so it goes through the proxy too: tests arm a fault only around the one
 * call they aim at, when nothing else talks to the database.
 */
import { closePool } from "../../functions/_shared/db.ts";
import { ownerQuery } from "../support/db.ts";
import { envOverride, testEnv } from "../support/env.ts";
import { resetPaymentSettings, startPayments, type PaymentsHarness } from "../support/payments.ts";
import { startPgFaultProxy, type PgFaultProxy } from "../support/pg-fault-proxy.ts";

export interface FaultyPayments {
  h: PaymentsHarness;
  proxy: PgFaultProxy;
  /** Lets pending webhooks arrive, resets the payment settings, and stops everything. */
  close(): Promise<void>;
}

export async function startFaultyPayments(): Promise<FaultyPayments> {
  const proxy = await startPgFaultProxy(testEnv("SUPABASE_DB_URL"));
  const env = envOverride();
  env.set({ SUPABASE_DB_URL: proxy.url });
  await closePool();
  const h = await startPayments();
  return {
    h,
    proxy,
    async close() {
      h.standin.setDelivery("auto");
      await h.settle();
      await resetPaymentSettings();
      await h.close();
      await closePool();
      env.restore();
      await proxy.close();
    },
  };
}

/** `{ a: 2, b: 1 }` from `["a", "b", "a"]`, keys sorted (comparable with toEqual). */
export function tally(items: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of [...items].sort()) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

/** Moves the payment commands' clock: leases run out and backoffs end (what waiting would do). */
export async function expireLeases(): Promise<void> {
  await ownerQuery("update private.payment_commands set locked_until = now() - interval '1 second' where status = 'processing'");
  await ownerQuery("update private.payment_commands set next_attempt_at = now() where status = 'pending'");
}
