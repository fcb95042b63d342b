/**
 * The database connection dropped mid-webhook (fast-check over where it drops).
 *
 * Two guests pay for a host's event (one with a card that is then disputed), and the first
 * cancels and is refunded: Stripe emits payment_intent.*, charge.succeeded, charge.dispute.*,
 * refund.created and charge.refunded. Each event is delivered to the real stripe-webhook
 * function (through the functions gateway) while the fault proxy cuts the function's database
 * connection at a chosen query — before or after `begin`, the request context, the
 * ingest_stripe_event call or the COMMIT (after a COMMIT ran, the answer is lost: the
 * indeterminate case). Then Stripe redelivers: every event again, one to three times, shuffled,
 * and finally its own queue once more.
 *
 * The function answers 2xx only for an event that is committed, and 5xx (so Stripe retries)
 * otherwise; after recovery the outcome is exactly the one of a run without faults — bookings,
 * payments, refunds, disputes, every ledger line, every notification and every alert outbox row,
 * each once — and the ledger is balanced.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEvent } from "../../tools/stripe-standin/store.ts";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { ledgerInvariantViolations } from "../support/payments.ts";
import type { PgFault } from "../support/pg-fault-proxy.ts";
import { createUser } from "../support/users.ts";
import { shuffled } from "../support/shuffle.ts";
import { type FaultyPayments, startFaultyPayments, tally } from "./support.ts";

let env: FaultyPayments;

beforeAll(async () => {
  env = await startFaultyPayments();
});

afterAll(async () => {
  await env.close();
  await closeTestPools();
});

interface PlannedFault extends PgFault {
  /** Which event of the run (modulo their number) gets the fault. */
  pick: number;
}

interface Outcome {
  state: string[];
  ledger: Record<string, number>;
  notifications: Record<string, number>;
  alerts: Record<string, number>;
  events: { stored: number; emitted: number };
}

/**
 * Runs the whole story; `faults` cut the function's connection on first delivery of the picked
 * events; `seed` and `copies` shape the redelivery storm. Returns what can be compared across
 * runs (no ids, only roles: host, guest 1, guest 2).
 */
async function story(faults: readonly PlannedFault[], seed: number, copies: number): Promise<Outcome> {
  const { h, proxy } = env;
  h.standin.setDelivery("auto");
  const host = await h.readyHost();
  const gig = await h.paidEvent(host, { price: 3000, policy: "flexible" });
  const [g1, g2] = [await createUser(), await createUser()];
  h.standin.setDelivery("manual");
  const firstEvent = h.standin.store.events.length;

  const pay = async (guest: typeof g1, method: string) => {
    const bookingId = await h.book(guest, gig);
    const checkout = await h.checkout(guest, bookingId);
    expect(checkout.status).toBe(200);
    const intentId = String(checkout.body.payment_intent_id);
    await h.stripe.paymentIntents.confirm(intentId, { payment_method: method });
    return { bookingId, intentId, paymentId: String(checkout.body.payment_id) };
  };

  /** Delivers the events Stripe emitted since `from`, each once, with the planned faults. */
  const deliverWithFaults = async (from: number, faultsHere: readonly PlannedFault[]): Promise<void> => {
    await h.settle();
    const events = h.standin.store.events.slice(from) as StripeEvent[];
    const byIndex = new Map(faultsHere.map((f) => [f.pick % Math.max(events.length, 1), f]));
    for (const [index, event] of events.entries()) {
      const fault = byIndex.get(index);
      if (fault !== undefined) proxy.arm({ atQuery: fault.atQuery, when: fault.when });
      const status = await h.standin.deliver(event);
      proxy.disarm();
      const { rowCount } = await ownerQuery("select 1 from private.stripe_events where id = $1", [event.id]);
      if (status !== null && status >= 200 && status < 300) {
        // 2xx only for what is committed.
        expect(rowCount, `${event.type} answered ${status}`).toBe(1);
      } else {
        // Otherwise a 5xx, which Stripe retries (never a 4xx, which it would give up on).
        expect(fault, `${event.type} failed without a fault`).toBeDefined();
        expect(status, `${event.type} under ${JSON.stringify(fault)}`).toBeGreaterThanOrEqual(500);
      }
    }
  };

  // Both guests pay; every event of that phase is delivered once, some with the connection cut.
  const p1 = await pay(g1, "pm_card_visa");
  const p2 = await pay(g2, "pm_card_createDispute");
  const half = Math.ceil(faults.length / 2);
  await deliverWithFaults(firstEvent, faults.slice(0, half));
  await redeliver(firstEvent, seed, copies);

  // Guest 1 cancels (flexible policy: a full refund); the worker makes the refund at Stripe.
  const refundPhase = h.standin.store.events.length;
  await asUser(g1.claims, (db) => db.query("select public.cancel_booking($1)", [p1.bookingId]));
  await h.work();
  await deliverWithFaults(refundPhase, faults.slice(half));

  // Recovery: Stripe redelivers everything, shuffled and repeated, then its own queue in order.
  await redeliver(firstEvent, seed + 1, copies);
  await h.standin.deliverQueued();
  await h.work();
  await h.standin.deliverQueued();
  await h.settle();

  const emitted = (h.standin.store.events.slice(firstEvent) as StripeEvent[]).map((e) => e.id);
  const { rows: [stored] } = await ownerQuery<{ n: number }>(
    "select count(*)::int as n from private.stripe_events where id = any($1) and status in ('processed', 'ignored')", [emitted]);

  const roles = [host.id, g1.id, g2.id];
  const role = (id: string): string => ["host", "guest1", "guest2"][roles.indexOf(id)] ?? "other";
  const bookings = [p1.bookingId, p2.bookingId];
  const { rows: state } = await ownerQuery<{ line: string }>(
    `select 'booking ' || (case b.id when $1 then 1 else 2 end) || ' ' || b.status as line from public.bookings b where b.id = any(array[$1, $2]::uuid[])
     union all select 'payment ' || (case p.booking_id when $1 then 1 else 2 end) || ' ' || p.status || ' refunded ' || p.amount_refunded_cents
       from private.payments p where p.booking_id = any(array[$1, $2]::uuid[])
     union all select 'refund ' || r.status || ' ' || r.amount_cents from private.refunds r where r.booking_id = any(array[$1, $2]::uuid[])
     union all select 'dispute ' || d.status || ' ' || d.amount_cents from private.disputes d
       join private.payments p on p.id = d.payment_id where p.booking_id = any(array[$1, $2]::uuid[])
     order by 1`, bookings);
  const { rows: ledger } = await ownerQuery<{ line: string }>(
    `select t.kind || ' ' || a.kind || ' ' || e.currency || ' ' || e.amount as line
       from private.ledger_transactions t join private.ledger_entries e on e.transaction_id = t.id
       join private.ledger_accounts a on a.id = e.account_id
      where t.payment_id in (select id from private.payments where booking_id = any(array[$1, $2]::uuid[]))
         or t.booking_id = any(array[$1, $2]::uuid[])`, bookings);
  const { rows: notifications } = await ownerQuery<{ user_id: string; type: string }>(
    "select user_id, type from public.notifications where user_id = any($1)", [roles]);
  const { rows: alerts } = await ownerQuery<{ user_id: string; type: string; channel: string }>(
    "select user_id, type, channel from private.alert_deliveries where user_id = any($1)", [roles]);
  return {
    state: state.map((r) => r.line),
    ledger: tally(ledger.map((r) => r.line)),
    notifications: tally(notifications.map((n) => `${role(n.user_id)} ${n.type}`)),
    alerts: tally(alerts.map((a) => `${role(a.user_id)} ${a.type} ${a.channel}`)),
    events: { stored: stored?.n ?? 0, emitted: emitted.length },
  };

  /** Stripe redelivers every event of the run `copies` times, shuffled; all are answered 2xx. */
  async function redeliver(from: number, shuffleSeed: number, times: number): Promise<void> {
    await h.settle();
    const events = h.standin.store.events.slice(from) as StripeEvent[];
    const storm = shuffled(events.flatMap((event) => Array.from({ length: times }, () => event)), shuffleSeed);
    for (const event of storm) {
      const status = await h.standin.deliver(event);
      expect(status, `redelivered ${event.type}`).toBe(200);
    }
  }
}

let reference: Outcome;

describe("the stripe-webhook function losing its database connection", () => {
  it("without faults: the story books each payment, refund and dispute once (the reference)", async () => {
    reference = await story([], 1, 1);
    if (process.env.FAULTS_DEBUG) console.log(JSON.stringify(reference, null, 1));
    expect(reference.events.stored).toBe(reference.events.emitted);
    expect(reference.state).toEqual(expect.arrayContaining([expect.stringMatching(/^booking 2 confirmed$/), expect.stringMatching(/^dispute /),
                                                            expect.stringMatching(/^refund succeeded 3000$/)]));
    expect(reference.notifications["guest1 booking_confirmed"]).toBe(1);
    expect(reference.notifications["guest2 booking_confirmed"]).toBe(1);
    expect(reference.notifications["host dispute_opened"]).toBe(1);
    expect(reference.alerts["guest1 booking_confirmed email"]).toBe(1);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  it("with the connection cut anywhere, then redelivery storms: the same outcome, every effect once", async () => {
    const fault: fc.Arbitrary<PlannedFault> = fc.record({
      pick: fc.nat({ max: 50 }),
      atQuery: fc.integer({ min: 1, max: 4 }),
      when: fc.constantFrom<PgFault["when"]>("before_query", "after_query"),
    });
    await fc.assert(fc.asyncProperty(fc.array(fault, { minLength: 1, maxLength: 6 }), fc.nat(), fc.integer({ min: 1, max: 3 }),
      async (faults, seed, copies) => {
        const outcome = await story(faults, seed, copies);
        expect(outcome.events.stored).toBe(outcome.events.emitted);
        expect(outcome.state).toEqual(reference.state);
        expect(outcome.ledger).toEqual(reference.ledger);
        expect(outcome.notifications).toEqual(reference.notifications);
        expect(outcome.alerts).toEqual(reference.alerts);
        expect(await ledgerInvariantViolations()).toEqual([]);
      }), { numRuns: 8 });
    if (process.env.FAULTS_DEBUG) console.log(JSON.stringify(env.proxy.cuts));
    expect(env.proxy.cuts.length).toBeGreaterThanOrEqual(8);
  });
});
