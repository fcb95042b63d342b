/**
 * The payments worker losing its database connection (fast-check over where).
 *
 * A host's money path — a guest's refund, the transfer of the host's share, the host's payout —
 * runs through the real payments-worker function. For each of the three commands the worker is
 * called once with the fault proxy cutting its connection at a chosen query: while claiming
 * (before or after the claim committed), or after Stripe answered, while recording the answer
 * (before or after that COMMIT ran), or while recording a failure. The worker answers 503; the
 * command is picked up again (a pending command when it is due, a claimed one when its lease has
 * run out — the test moves the clock instead of waiting) and Stripe is called again with the
 * same idempotency key.
 *
 * After recovery: each Stripe object exists exactly once (one refund, one transfer, one payout),
 * no command is dead, and the ledger, the wallet and the statuses equal a run without faults.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { serviceRoleKey } from "../support/jwt.ts";
import { ledgerInvariantViolations, walletOf } from "../support/payments.ts";
import type { PgFault } from "../support/pg-fault-proxy.ts";
import { createUser } from "../support/users.ts";
import { expireLeases, type FaultyPayments, startFaultyPayments, tally } from "./support.ts";

let env: FaultyPayments;
let serviceKey: string;

beforeAll(async () => {
  env = await startFaultyPayments();
  serviceKey = await serviceRoleKey();
});

afterAll(async () => {
  await env.close();
  await closeTestPools();
});

interface Outcome {
  atStripe: { refunds: number; transfers: number; payouts: number };
  state: string[];
  wallet: Record<string, number>;
  ledger: Record<string, number>;
}

async function story(faults: readonly (PgFault | null)[]): Promise<{ outcome: Outcome; answers: number[]; bodies: unknown[] }> {
  const { h, proxy } = env;
  const answers: number[] = [];
  const bodies: unknown[] = [];
  const host = await h.readyHost();
  const gig = await h.paidEvent(host, { price: 4000, policy: "flexible" });
  const [g1, g2] = [await createUser(), await createUser()];
  const cancelled = await h.bookAndPay(g1, gig);
  await h.bookAndPay(g2, gig);
  await h.work();

  const openCommands = async (): Promise<number> => {
    const { rows: [row] } = await ownerQuery<{ n: number }>(
      "select count(*)::int as n from private.payment_commands where host_id = $1 and status in ('pending', 'processing')", [host.id]);
    return row?.n ?? 0;
  };

  /** One worker run (one command) with the connection cut, then recovery. */
  const faultedStep = async (fault: PgFault | null): Promise<void> => {
    h.standin.setDelivery("manual"); // no webhook traffic in the proxy while the fault is armed
    if (fault !== null) proxy.arm(fault);
    const res = await h.call("payments-worker", { token: serviceKey, body: { max_commands: 1, batch_size: 1 } });
    proxy.disarm();
    h.standin.setDelivery("auto");
    await h.settle();
    answers.push(res.status);
    bodies.push(res.body);
    if (res.status !== 200) expect(res.body).toMatchObject({ error: { code: "database_unavailable" } });
    for (let round = 0; round < 15 && (await openCommands()) > 0; round += 1) {
      await expireLeases();
      await h.work();
    }
    expect(await openCommands()).toBe(0);
  };

  await asUser(g1.claims, (db) => db.query("select public.cancel_booking($1)", [cancelled.bookingId]));
  await faultedStep(faults[0] ?? null);
  await h.endEvent(gig.eventId);
  await h.release();
  await faultedStep(faults[1] ?? null);
  await asUser(host.claims, (db) => db.query("select public.request_payout(2000, 'EUR')"));
  await faultedStep(faults[2] ?? null);
  await h.settle();

  const { rows: [account] } = await ownerQuery<{ account_id: string }>("select account_id from private.stripe_accounts where host_id = $1", [host.id]);
  const store = h.standin.store;
  const { rows: state } = await ownerQuery<{ line: string }>(
    `select 'command ' || kind || ' ' || status as line from private.payment_commands where host_id = $1
     union all select 'refund ' || r.status || ' ' || r.amount_cents from private.refunds r join private.payments p on p.id = r.payment_id where p.host_id = $1
     union all select 'payout ' || status || ' ' || amount_cents from private.payouts where host_id = $1
     union all select 'transfer ' || t.amount_cents || ' reversed ' || t.amount_reversed_cents from private.stripe_transfers t
       join private.payments p on p.id = t.payment_id where p.host_id = $1
     order by 1`, [host.id]);
  const { rows: ledger } = await ownerQuery<{ line: string }>(
    `select t.kind || ' ' || a.kind || ' ' || e.amount as line
       from private.ledger_transactions t join private.ledger_entries e on e.transaction_id = t.id
       join private.ledger_accounts a on a.id = e.account_id
      where t.host_id = $1 or t.payment_id in (select id from private.payments where host_id = $1)`, [host.id]);
  return {
    answers,
    bodies,
    outcome: {
      atStripe: {
        refunds: [...store.refunds.values()].filter((r) => r.payment_intent === cancelled.paymentIntentId).length,
        transfers: [...store.transfers.values()].filter((t) => t.destination === account?.account_id).length,
        payouts: [...store.payouts.values()].filter((p) => p.account === account?.account_id).length,
      },
      state: state.map((r) => r.line),
      wallet: { ...(await walletOf(host)) },
      ledger: tally(ledger.map((r) => r.line)),
    },
  };
}

let reference: Outcome;

describe("the payments worker losing its database connection", () => {
  it("without faults: one refund, one transfer, one payout (the reference)", async () => {
    const { outcome, answers } = await story([null, null, null]);
    reference = outcome;
    expect(answers).toEqual([200, 200, 200]);
    expect(outcome.atStripe).toEqual({ refunds: 1, transfers: 1, payouts: 1 });
    expect(outcome.wallet).toEqual({ pending: 0, available: 1600, in_transit: 0, paid_out: 2000 });
    expect(outcome.state).toEqual(expect.arrayContaining(["payout paid 2000", "refund succeeded 4000"]));
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  it("cut while claiming, after Stripe answered, or while recording a failure: every Stripe object once, the same books", async () => {
    const fault: fc.Arbitrary<PgFault | null> = fc.option(fc.record({
      atQuery: fc.integer({ min: 1, max: 10 }),
      when: fc.constantFrom<PgFault["when"]>("before_query", "after_query"),
    }), { freq: 4 });
    const cutsBefore = env.proxy.cuts.length;
    await fc.assert(fc.asyncProperty(fc.tuple(fault, fault, fault), async (faults) => {
      const { outcome, answers } = await story(faults);
      answers.forEach((status, i) => {
        if (faults[i] === null) expect(status).toBe(200);
      });
      expect(outcome).toEqual(reference);
      expect(await ledgerInvariantViolations()).toEqual([]);
    }), { numRuns: 8 });
    expect(env.proxy.cuts.length - cutsBefore).toBeGreaterThan(8);
  });

  it("a COMMIT of Stripe's answer that ran but was never acknowledged is neither undone nor reported as a failure", async () => {
    // Claim = queries 1–4, recording the answer = 5–8: the 8th is its COMMIT.
    const cutsBefore = env.proxy.cuts.length;
    const { outcome, answers, bodies } = await story([{ atQuery: 8, when: "after_query" }, null, null]);
    expect(env.proxy.cuts.slice(cutsBefore)).toEqual([{ query: 8, when: "after_query", sql: "commit" }]);
    // The worker learns from its failure report that the answer was recorded, and says so.
    expect(answers[0]).toBe(200);
    expect(bodies[0]).toMatchObject({ claimed: 1, succeeded: 1, retried: 0, dead: 0, failures: [] });
    expect(outcome).toEqual(reference);
  });
});
