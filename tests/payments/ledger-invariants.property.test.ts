/**
 * Ledger invariants after random sequences of money events (fast-check), driven through the
 * production appliers directly in SQL (no HTTP, so hundreds of steps run quickly): payments,
 * releases, transfers and reversals, payout requests, payouts paid or failed, refunds (some
 * failing), dead-lettered commands, disputes won and lost. After every step:
 *   - every ledger transaction sums to zero per currency and has two or more entries;
 *   - every cached host balance equals the sum of its entries;
 *   - nothing is ever in transit or paid out in negative;
 *   - the refunds clearing account holds exactly the refunds still in flight at Stripe.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { ledgerInvariantViolations } from "../support/payments.ts";
import { createUser, type TestUser } from "../support/users.ts";

afterAll(async () => {
  await closeTestPools();
});

const rid = (prefix: string): string => `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
const now = (): number => Math.floor(Date.now() / 1000);

interface World {
  host: TestUser;
  account: string;
  eventId: string;
  bookings: { bookingId: string; paymentId: string; intent: string; charge: string; amount: number }[];
}

async function ingest(type: string, object: Record<string, unknown>, account?: string): Promise<void> {
  const event = { id: rid("evt"), object: "event", type, created: now(), livemode: false, data: { object }, ...(account === undefined ? {} : { account }) };
  await ownerQuery("select private.ingest_stripe_event($1::jsonb, $2, false)", [JSON.stringify(event), account === undefined ? "platform" : "connect"]);
}

async function world(): Promise<World> {
  // The player below answers every due command as Stripe, whoever's it is: commands earlier test
  // files and earlier worlds left behind are parked first, so each world's steps are its own
  // (in the full suite hundreds of them made the property outlive its timeout).
  await ownerQuery(`update private.payment_commands set next_attempt_at = now() + interval '10 years', locked_until = null,
                           status = 'pending' where status in ('pending', 'processing')`);
  const host = await createUser();
  const account = rid("acct");
  await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [host.id]);
  await ownerQuery(`insert into private.stripe_accounts (host_id, account_id, details_submitted, charges_enabled, payouts_enabled, transfers_capability)
                    values ($1, $2, true, true, true, 'active')`, [host.id, account]);
  await ownerQuery("select private.sync_host_payouts_enabled($1)", [host.id]);
  const { eventId, ticketId } = await asUser(host.claims, async (db) => {
    const e = await db.query<{ id: string }>(`insert into public.events (title, starts_at, ends_at, timezone, refund_policy)
      values ('Property night', now() + interval '20 days', now() + interval '20 days 2 hours', 'UTC', 'flexible') returning id`);
    const t = await db.query<{ id: string }>(`insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
      values ($1, 'T', 1999, 'EUR', 40, 10) returning id`, [e.rows[0]?.id]);
    await db.query("select public.publish_event($1)", [e.rows[0]?.id]);
    return { eventId: e.rows[0]?.id ?? "", ticketId: t.rows[0]?.id ?? "" };
  });
  const bookings: World["bookings"] = [];
  for (let i = 0; i < 4; i += 1) {
    const guest = await createUser();
    const prepared = await asUser(guest.claims, async (db) => {
      const b = await db.query<{ id: string }>("select id from public.book_event($1, $2, $3)", [eventId, ticketId, i + 1]);
      const p = await db.query<{ payment_id: string; amount_cents: string }>("select payment_id, amount_cents from private.prepare_checkout($1)", [b.rows[0]?.id]);
      return { bookingId: b.rows[0]?.id ?? "", paymentId: p.rows[0]?.payment_id ?? "", amount: Number(p.rows[0]?.amount_cents) };
    });
    const intent = rid("pi");
    await ownerQuery("select private.record_payment_intent($1, $2::jsonb)",
      [prepared.paymentId, JSON.stringify({ object: "payment_intent", id: intent, status: "requires_payment_method", amount: prepared.amount, currency: "eur", created: now() })]);
    bookings.push({ ...prepared, intent, charge: rid("ch") });
  }
  return { host, account, eventId, bookings };
}

/** What the player made as Stripe: each transfer's amount and how much of it was reversed. */
const transfersMade = new Map<string, { amount: number; reversed: number }>();

/** Plays Stripe for every due command (any host's): succeed (with the object Stripe would return) or give up. */
async function runCommands(outcome: "succeed" | "die"): Promise<void> {
  const { rows } = await ownerQuery<{ id: string; kind: string; payload: Record<string, unknown> }>(
    "select id, kind, payload from private.claim_payment_commands(100, 60)");
  for (const c of rows) {
    const p = c.payload;
    const meta = (p.metadata ?? {}) as Record<string, string>;
    if (outcome === "die" && (c.kind === "create_refund" || c.kind === "create_payout")) {
      await ownerQuery("select private.fail_payment_command($1, 'test_refused', 'refused by the property test', false)", [c.id]);
      continue;
    }
    let result: Record<string, unknown>;
    switch (c.kind) {
      case "create_transfer":
        result = { object: "transfer", id: rid("tr"), amount: p.amount, currency: p.currency, destination: p.destination, metadata: meta, created: now() };
        transfersMade.set(String(result.id), { amount: Number(p.amount), reversed: 0 });
        break;
      case "reverse_transfer":
        if (p.transfer_id === undefined) {
          await ownerQuery("select private.fail_payment_command($1, 'not_ready', 'no transfer yet', true)", [c.id]);
          continue;
        }
        {
          // Stripe refuses a reversal larger than what its transfer still holds (a 400 no retry fixes).
          const made = transfersMade.get(String(p.transfer_id));
          if (made !== undefined) {
            expect(Number(p.amount), `reversal of ${String(p.amount)} from ${String(p.transfer_id)}, which holds ${made.amount - made.reversed}`)
              .toBeLessThanOrEqual(made.amount - made.reversed);
            made.reversed += Number(p.amount);
          }
        }
        result = { object: "transfer_reversal", id: rid("trr"), amount: p.amount, currency: p.currency, transfer: p.transfer_id, metadata: meta, created: now() };
        break;
      case "create_refund":
        result = { object: "refund", id: rid("re"), amount: p.amount, currency: "eur", status: "succeeded", payment_intent: p.payment_intent, metadata: meta };
        break;
      case "create_payout":
        result = { object: "payout", id: rid("po"), amount: p.amount, currency: p.currency, status: "pending", metadata: meta };
        break;
      case "sync_balance_transaction":
        result = { object: "balance_transaction", id: p.balance_transaction, fee: 88, currency: "eur", source: null };
        break;
      default:
        result = { object: "payment_intent", id: p.payment_intent_id, status: "canceled" };
    }
    await ownerQuery("select private.complete_payment_command($1, $2::jsonb)", [c.id, JSON.stringify(result)]);
  }
}

type Step =
  | { op: "pay"; i: number }
  | { op: "release" }
  | { op: "commands"; outcome: "succeed" | "die" }
  | { op: "payout"; amount: number }
  | { op: "payout_result"; status: "paid" | "failed" }
  | { op: "refund"; i: number; amount: number }
  | { op: "refund_fails" }
  | { op: "dispute"; i: number; outcome: "won" | "lost"; fee: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant("pay" as const), i: fc.integer({ min: 0, max: 3 }) }),
  fc.constant({ op: "release" as const }),
  fc.record({ op: fc.constant("commands" as const), outcome: fc.constantFrom("succeed" as const, "die" as const) }),
  fc.record({ op: fc.constant("payout" as const), amount: fc.integer({ min: 1, max: 6000 }) }),
  fc.record({ op: fc.constant("payout_result" as const), status: fc.constantFrom("paid" as const, "failed" as const) }),
  fc.record({ op: fc.constant("refund" as const), i: fc.integer({ min: 0, max: 3 }), amount: fc.integer({ min: 1, max: 4000 }) }),
  fc.constant({ op: "refund_fails" as const }),
  fc.record({ op: fc.constant("dispute" as const), i: fc.integer({ min: 0, max: 3 }), outcome: fc.constantFrom("won" as const, "lost" as const), fee: fc.constantFrom(0, 1500) }),
);

async function play(w: World, step: Step): Promise<void> {
  switch (step.op) {
    case "pay": {
      const b = w.bookings[step.i];
      if (b === undefined) return;
      await ingest("payment_intent.succeeded", { object: "payment_intent", id: b.intent, status: "succeeded", amount: b.amount, amount_received: b.amount, currency: "eur", latest_charge: b.charge });
      await ingest("charge.succeeded", { object: "charge", id: b.charge, status: "succeeded", payment_intent: b.intent, amount: b.amount, balance_transaction: rid("txn") });
      return;
    }
    case "release":
      await ownerQuery("update private.events set starts_at = now() - interval '9 days', ends_at = now() - interval '9 days' + interval '2 hours', status = 'completed', completed_at = now() - interval '9 days' + interval '2 hours' where id = $1 and status = 'published'", [w.eventId]);
      await ownerQuery("select private.release_host_earnings()");
      return;
    case "commands":
      await runCommands(step.outcome);
      return;
    case "payout":
      await asUser(w.host.claims, (db) => db.query("select public.request_payout($1, 'EUR')", [step.amount])).catch(() => undefined);
      return;
    case "payout_result": {
      const { rows } = await ownerQuery<{ stripe_payout_id: string; id: string; amount_cents: string }>(
        "select stripe_payout_id, id, amount_cents from private.payouts where host_id = $1 and stripe_payout_id is not null order by random() limit 1", [w.host.id]);
      const p = rows[0];
      if (p === undefined) return;
      await ingest(`payout.${step.status}`, { object: "payout", id: p.stripe_payout_id, status: step.status, amount: Number(p.amount_cents), currency: "eur", metadata: { payout_id: p.id } }, w.account);
      return;
    }
    case "refund": {
      const b = w.bookings[step.i];
      if (b === undefined) return;
      await ownerQuery("select admin.refund_booking($1, $2)", [b.bookingId, step.amount]).catch(() => undefined);
      return;
    }
    case "refund_fails": {
      const { rows } = await ownerQuery<{ stripe_refund_id: string; amount_cents: string; id: string }>(
        `select r.stripe_refund_id, r.amount_cents, r.id from private.refunds r join private.payments p on p.id = r.payment_id
          where p.host_id = $1 and r.status = 'succeeded' order by random() limit 1`, [w.host.id]);
      const r = rows[0];
      if (r === undefined) return;
      await ingest("refund.failed", { object: "refund", id: r.stripe_refund_id, status: "failed", amount: Number(r.amount_cents), currency: "eur", metadata: { refund_id: r.id } });
      return;
    }
    case "dispute": {
      const b = w.bookings[step.i];
      if (b === undefined) return;
      const id = rid("dp");
      const base = { object: "dispute", id, amount: b.amount, currency: "eur", charge: b.charge, payment_intent: b.intent, reason: "fraudulent", created: now() };
      const withdrawn = { id: rid("txn"), amount: -b.amount, fee: step.fee, currency: "eur" };
      await ingest("charge.dispute.created", { ...base, status: "needs_response", balance_transactions: [] });
      await ingest("charge.dispute.funds_withdrawn", { ...base, status: "needs_response", balance_transactions: [withdrawn] });
      const bts = step.outcome === "won" ? [withdrawn, { id: rid("txn"), amount: b.amount, fee: 0, currency: "eur" }] : [withdrawn];
      await ingest("charge.dispute.closed", { ...base, status: step.outcome, balance_transactions: bts });
      return;
    }
  }
}

async function hostViolations(w: World): Promise<string[]> {
  const problems = await ledgerInvariantViolations();
  const { rows: wallet } = await ownerQuery<{ in_transit: string; paid_out: string }>("select in_transit, paid_out from private.host_wallet($1, 'EUR')", [w.host.id]);
  if (Number(wallet[0]?.in_transit) < 0) problems.push(`negative in transit ${wallet[0]?.in_transit}`);
  if (Number(wallet[0]?.paid_out) < 0) problems.push(`negative paid out ${wallet[0]?.paid_out}`);
  const { rows: clearing } = await ownerQuery<{ ledger: string; in_flight: string }>(
    `select coalesce((select -sum(e.amount) from private.ledger_entries e join private.ledger_accounts a on a.id = e.account_id
                        where a.kind = 'refunds' and a.currency = 'EUR'), 0) as ledger,
            coalesce((select sum(amount_cents) from private.refunds where status in ('requested', 'pending') and currency = 'EUR'), 0) as in_flight`);
  if (Number(clearing[0]?.ledger) !== Number(clearing[0]?.in_flight)) {
    problems.push(`refunds clearing ${clearing[0]?.ledger} but ${clearing[0]?.in_flight} in flight`);
  }
  return problems;
}

describe("ledger invariants", () => {
  it("hold after every step of random sequences of money events", async () => {
    await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 30 }), async (steps) => {
      const w = await world();
      for (const [n, step] of steps.entries()) {
        await play(w, step);
        const problems = await hostViolations(w);
        expect(problems, `after step ${n + 1} ${JSON.stringify(step)}`).toEqual([]);
      }
    }), { numRuns: 20 });
  });
});
