/**
 * request_payout under contention: twenty parallel requests (each on its own connection, as
 * twenty PostgREST requests would be) never overdraw the host's available balance — each waits
 * for the lock on it, sees what the previous ones took, and is refused with insufficient_funds
 * once the money is gone.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyRequestContext } from "../../functions/_shared/db.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { ledgerInvariantViolations, walletOf } from "../support/payments.ts";
import { createUser, type TestUser } from "../support/users.ts";

let pool: pg.Pool;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 20, application_name: "rally-payout-race" });
});

afterAll(async () => {
  await pool.end();
  await closeTestPools();
});

/** A host with payouts set up and `available` minor units released to them. */
export async function fundedHost(available: number, currency = "EUR"): Promise<TestUser> {
  const host = await createUser();
  const account = `acct_${host.id.replaceAll("-", "").slice(0, 16)}`;
  await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [host.id]);
  await ownerQuery(`insert into private.stripe_accounts (host_id, account_id, details_submitted, charges_enabled, payouts_enabled, transfers_capability)
                    values ($1, $2, true, true, true, 'active')`, [host.id, account]);
  await ownerQuery(`select private.post_ledger_transaction('test:fund:' || $1::text, 'adjustment',
                      private.ledger_entries_of(private.ledger_entry('platform_cash', null, $3, $2::bigint),
                                                private.ledger_entry('host_available', $1::uuid, $3, -$2::bigint)))`, [host.id, available, currency]);
  return host;
}

async function requestPayout(host: TestUser, amount: number): Promise<"ok" | string> {
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

describe("20 parallel request_payout calls", () => {
  it("take exactly what is available and refuse the rest with insufficient_funds", async () => {
    const host = await fundedHost(1000);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => requestPayout(host, 100)));
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(10);
    expect(outcomes.filter((o) => o === "insufficient_funds")).toHaveLength(10);
    expect(await walletOf(host)).toEqual({ pending: 0, available: 0, in_transit: 1000, paid_out: 0 });
    const { rows } = await ownerQuery<{ payouts: string; commands: string }>(
      `select (select count(*) from private.payouts where host_id = $1) as payouts,
              (select count(*) from private.payment_commands where host_id = $1 and kind = 'create_payout') as commands`, [host.id]);
    expect(rows[0]).toEqual({ payouts: "10", commands: "10" });
  });

  it("with amounts that do not divide the balance, never go below zero", async () => {
    const host = await fundedHost(1000);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => requestPayout(host, 100 + (i % 3) * 75)));
    const taken = outcomes.reduce((sum, o, i) => sum + (o === "ok" ? 100 + (i % 3) * 75 : 0), 0);
    const wallet = await walletOf(host);
    expect(wallet.available).toBeGreaterThanOrEqual(0);
    expect(wallet.available + wallet.in_transit).toBe(1000);
    expect(wallet.in_transit).toBe(taken);
    expect(outcomes.every((o) => o === "ok" || o === "insufficient_funds")).toBe(true);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });
});
