/**
 * Attack class: payout-schedule tampering — getting money out sooner, or someone else's, through
 * the schedule: a guest or a stranger setting a schedule, anyone writing payout_schedules
 * directly (to pull next_run_at into the past or point a row at another host), a host whose
 * money is still pending, one who owes Rally (negative available), a suspended host, and
 * a host changing the schedule again and again. The schedule only ever pays out what
 * request_payout would: the available balance, under the same lock and refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeTestPools, ownerQuery, failure } from "../support/db.ts";
import { rpc } from "../support/events.ts";
import { walletOf } from "../support/payments.ts";
import { createUser, type TestUser } from "../support/users.ts";

afterAll(closeTestPools);

/** A host with a ready Stripe account and the given pending / available amounts (EUR). */
async function host(pending: number, available: number): Promise<TestUser> {
  const user = await createUser();
  await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [user.id]);
  await ownerQuery(`insert into private.stripe_accounts (host_id, account_id, details_submitted, charges_enabled, payouts_enabled, transfers_capability)
                    values ($1, $2, true, true, true, 'active')`, [user.id, `acct_${user.id.replaceAll("-", "").slice(0, 16)}`]);
  await ownerQuery(`select private.post_ledger_transaction('test:abuse-fund:' || $1::text, 'adjustment',
                      private.ledger_entries_of(private.ledger_entry('platform_cash', null, 'EUR', $2::bigint + $3::bigint),
                                                private.ledger_entry('host_pending', $1::uuid, 'EUR', -$2::bigint),
                                                private.ledger_entry('host_available', $1::uuid, 'EUR', -$3::bigint)))`,
    [user.id, pending, available]);
  return user;
}

const payoutsOf = async (user: TestUser): Promise<number> =>
  Number((await ownerQuery<{ n: string }>("select count(*) as n from private.payouts where host_id = $1", [user.id])).rows[0]?.n);
const scheduleOf = async (user: TestUser): Promise<Record<string, unknown> | undefined> =>
  (await ownerQuery("select \"interval\", weekly_anchor, monthly_anchor, next_run_at, last_outcome from public.payout_schedules where host_id = $1",
    [user.id])).rows[0];
const makeDue = (user: TestUser): Promise<unknown> =>
  ownerQuery("update public.payout_schedules set next_run_at = now() - interval '1 minute' where host_id = $1", [user.id]);
const runJob = (): Promise<unknown> => ownerQuery("select private.run_scheduled_payouts()");

let hana: TestUser;
let guest: TestUser;

beforeAll(async () => {
  hana = await host(0, 5000);
  guest = await createUser();
});

describe("who may schedule", () => {
  it("a guest has no wallet to schedule", async () => {
    const err = await failure(rpc(guest, "select * from public.set_payout_schedule('weekly')"));
    expect([err.code, err.hint]).toEqual(["42501", "not_a_host"]);
    expect(await scheduleOf(guest)).toBeUndefined();
  });

  it("nobody writes payout_schedules directly: not to pull a run forward, not for another host", async () => {
    await rpc(hana, "select * from public.set_payout_schedule('monthly', null, 28)");
    const before = await scheduleOf(hana);
    const forward = await failure(rpc(hana, "update public.payout_schedules set next_run_at = now() - interval '1 day' where host_id = $1", [hana.id]));
    expect(forward.code).toBe("42501");
    const planted = await failure(rpc(guest, `insert into public.payout_schedules (host_id, "interval", weekly_anchor, next_run_at)
                                              values ($1, 'weekly', 'monday', now())`, [hana.id]));
    expect(planted.code).toBe("42501");
    const wiped = await failure(rpc(guest, "delete from public.payout_schedules where host_id = $1", [hana.id]));
    expect(wiped.code).toBe("42501");
    expect(await scheduleOf(hana)).toEqual(before);
    expect(await rpc(guest, "select * from public.payout_schedules")).toEqual([]);
  });

  it("changing the schedule again and again stops at the payout_schedule limit, keeps one row and pays nothing by itself", async () => {
    // One change was made above; the limit is 20 an hour.
    let changes = 1;
    let refusal: { code: string; hint: string | undefined } | undefined;
    for (let i = 0; i < 40 && refusal === undefined; i += 1) {
      const args = i % 2 === 0 ? ["weekly", "friday", null] : ["monthly", null, 1 + (i % 28)];
      try {
        await rpc(hana, "select * from public.set_payout_schedule($1, $2, $3)", args);
        changes += 1;
      } catch (err) {
        refusal = { code: (err as { code: string }).code, hint: (err as { hint?: string }).hint };
      }
    }
    expect(changes).toBe(20);
    expect(refusal).toEqual({ code: "P0001", hint: "rate_limited" });
    const { rows } = await ownerQuery<{ n: string }>("select count(*) as n from public.payout_schedules where host_id = $1", [hana.id]);
    expect(rows[0]?.n).toBe("1");
    expect(await payoutsOf(hana)).toBe(0);
    expect((await scheduleOf(hana))?.next_run_at).toBeInstanceOf(Date);
    expect(((await scheduleOf(hana))?.next_run_at as Date).getTime()).toBeGreaterThan(Date.now());
  });
});

describe("what a due schedule pays", () => {
  it("only available money: pending earnings stay pending", async () => {
    const early = await host(9000, 0);
    await rpc(early, "select * from public.set_payout_schedule('weekly')");
    await makeDue(early);
    await runJob();
    expect(await payoutsOf(early)).toBe(0);
    expect(await walletOf(early)).toMatchObject({ pending: 9000, available: 0, in_transit: 0 });
    expect((await scheduleOf(early))?.last_outcome).toBe("nothing_available");
  });

  it("nothing to a host who owes Rally", async () => {
    const debtor = await host(3000, -1200);
    await rpc(debtor, "select * from public.set_payout_schedule('weekly')");
    await makeDue(debtor);
    await runJob();
    expect(await payoutsOf(debtor)).toBe(0);
    expect(await walletOf(debtor)).toMatchObject({ pending: 3000, available: -1200, in_transit: 0 });
  });

  it("nothing to a suspended host, whose money stays in the wallet", async () => {
    const suspended = await host(0, 4000);
    await rpc(suspended, "select * from public.set_payout_schedule('weekly')");
    await ownerQuery("update public.profiles set host_status = 'suspended' where id = $1", [suspended.id]);
    await makeDue(suspended);
    await runJob();
    expect(await payoutsOf(suspended)).toBe(0);
    expect(await walletOf(suspended)).toMatchObject({ available: 4000, in_transit: 0 });
    expect((await scheduleOf(suspended))?.last_outcome).toBe("host_suspended");
  });

  it("exactly the available balance, once, to the host it belongs to", async () => {
    await makeDue(hana);
    await runJob();
    await runJob();
    const { rows } = await ownerQuery<{ host_id: string; amount_cents: string }>(
      "select host_id, amount_cents from private.payouts where host_id = $1", [hana.id]);
    expect(rows).toEqual([{ host_id: hana.id, amount_cents: "5000" }]);
    expect(await walletOf(hana)).toMatchObject({ available: 0, in_transit: 5000 });
  });
});
