/**
 * Scheduled payouts under contention. The schedule's job pays out through the same path as
 * request_payout (private.start_payout, under the lock on the host's available balance), so:
 *
 * - a job run racing ten manual withdrawals never overdraws the balance: together they move
 *   exactly what was available to in transit, and every refusal is insufficient_funds;
 * - five job runs at once pay a host once for the period (the schedule row is claimed with
 *   FOR UPDATE SKIP LOCKED and moved to its next run in the same transaction).
 *
 * Each call runs on its own connection, as separate PostgREST requests and pg_cron runs would.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyRequestContext } from "../../functions/_shared/db.ts";
import { closeTestPools, ownerPool } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { ledgerInvariantViolations, walletOf } from "../support/payments.ts";
import { createUser, type TestUser } from "../support/users.ts";

let pool: pg.Pool;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 12, application_name: "rally-scheduled-payout-race" });
});

afterAll(async () => {
  await pool.end();
  await closeTestPools();
});

/** A host with a ready Stripe account, `available` minor units released, and a weekly schedule that is due. */
async function hostDueForPayout(available: number): Promise<TestUser> {
  const host = await createUser();
  const account = `acct_${host.id.replaceAll("-", "").slice(0, 16)}`;
  const db = ownerPool();
  await db.query("update public.profiles set is_host = true, host_status = 'active' where id = $1", [host.id]);
  await db.query(`insert into private.stripe_accounts (host_id, account_id, details_submitted, charges_enabled, payouts_enabled, transfers_capability)
                  values ($1, $2, true, true, true, 'active')`, [host.id, account]);
  await db.query(`select private.post_ledger_transaction('test:fund:' || $1::text, 'adjustment',
                    private.ledger_entries_of(private.ledger_entry('platform_cash', null, 'EUR', $2::bigint),
                                              private.ledger_entry('host_available', $1::uuid, 'EUR', -$2::bigint)))`, [host.id, available]);
  await db.query(`insert into public.payout_schedules (host_id, "interval", weekly_anchor, next_run_at)
                  values ($1, 'weekly', 'monday', now() - interval '1 minute')`, [host.id]);
  return host;
}

async function requestPayout(host: TestUser, amount: number): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await applyRequestContext(client, host.claims);
    await client.query("select * from public.request_payout($1, 'EUR')", [amount]);
    await client.query("commit");
    return "ok";
  } catch (err) {
    await client.query("rollback");
    return (err as { hint?: string }).hint ?? String(err);
  } finally {
    client.release();
  }
}

/** One run of the job, as pg_cron runs it (its own session, role postgres). */
async function runJob(): Promise<number> {
  const { rows } = await pool.query<{ started: number }>("select private.run_scheduled_payouts() as started");
  return rows[0]?.started ?? 0;
}

async function payoutsOf(host: TestUser): Promise<number[]> {
  const { rows } = await ownerPool().query<{ amount_cents: string }>(
    "select amount_cents from private.payouts where host_id = $1 order by requested_at", [host.id]);
  return rows.map((r) => Number(r.amount_cents));
}

describe("a scheduled payout racing manual withdrawals", () => {
  it("together never move more than was available", async () => {
    const host = await hostDueForPayout(1000);
    const [job, ...manual] = await Promise.all([
      runJob(),
      ...Array.from({ length: 10 }, () => requestPayout(host, 150)),
    ]);
    expect(manual.every((o) => o === "ok" || o === "insufficient_funds")).toBe(true);
    const manualTaken = manual.filter((o) => o === "ok").length * 150;
    const wallet = await walletOf(host);
    expect(wallet.available).toBe(0);
    expect(wallet.in_transit).toBe(1000);
    const payouts = await payoutsOf(host);
    expect(payouts.reduce((a, b) => a + b, 0)).toBe(1000);
    // The job paid whatever the manual requests before it left, or nothing if they took it all.
    expect(job).toBe(manualTaken < 1000 ? 1 : 0);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});

describe("five job runs at once", () => {
  it("pay each due host exactly once for the period", async () => {
    const hosts = await Promise.all([hostDueForPayout(500), hostDueForPayout(700), hostDueForPayout(900)]);
    const started = await Promise.all(Array.from({ length: 5 }, () => runJob()));
    expect(started.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
    for (const [i, host] of hosts.entries()) {
      expect(await payoutsOf(host)).toEqual([[500, 700, 900][i]]);
      expect(await walletOf(host)).toMatchObject({ available: 0, in_transit: [500, 700, 900][i] });
    }
    // Each schedule was run once: a second run in the same period would have found nothing
    // available and recorded nothing_available over paid_out.
    const { rows } = await ownerPool().query<{ outcome: string; due: boolean }>(
      "select last_outcome as outcome, next_run_at <= now() as due from public.payout_schedules where host_id = any($1::uuid[])",
      [hosts.map((h) => h.id)]);
    expect(rows).toEqual(hosts.map(() => ({ outcome: "paid_out", due: false })));
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});
