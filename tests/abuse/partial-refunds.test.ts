/**
 * Attack class: money sequences the happy path never takes. The review found that after an
 * admin's goodwill (partial) refund, cancel_event told the guest "you will get a full refund" and
 * refunded nothing more, and cancel_booking failed with a raw 23505. A booking now has any number
 * of admin refunds and at most one cancellation refund, which gives back what the policy allows
 * minus what was already refunded.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, asServiceRole, closeTestPools } from "../support/db.ts";
import { rpc } from "../support/events.ts";
import {
  ledgerInvariantViolations, type PaymentsHarness, resetPaymentSettings, setPaymentSettings, startPayments, walletOf,
} from "../support/payments.ts";
import { createUser, issueAccessToken, type TestUser } from "../support/users.ts";

let h: PaymentsHarness;
let admin: TestUser;

beforeAll(async () => {
  h = await startPayments();
  await setPaymentSettings({ platform_fee_bps: 1000, release_hold_hours: 48 });
  admin = await createUser();
  await asServiceRole((db) => db.query("select public.set_user_admin($1, true)", [admin.id]));
  admin = { ...admin, ...(await issueAccessToken(admin.id)) };
});

afterAll(async () => {
  await resetPaymentSettings();
  await h.close();
  await closeTestPools();
});

async function refundedAtStripe(bookingId: string): Promise<number> {
  const { rows } = await ownerQuery<{ total: string | null }>(
    "select sum(amount_cents) as total from private.refunds where booking_id = $1 and status = 'succeeded'", [bookingId]);
  return Number(rows[0]?.total ?? 0);
}

describe("an admin's goodwill refund, then a cancellation", () => {
  it("cancel_event gives back the rest, and says so", async () => {
    const host = await h.readyHost();
    const guest = await createUser();
    const gig = await h.paidEvent(host, { price: 5000, startsInDays: 20 });
    const paid = await h.bookAndPay(guest, gig);
    await rpc(admin, "select * from public.admin_refund_booking($1, 'Late start, 30 % back', 1500)", [paid.bookingId]);
    await h.work();
    expect(await refundedAtStripe(paid.bookingId)).toBe(1500);

    await rpc(host, "select * from public.cancel_event($1, 'Storm warning')", [gig.eventId]);
    await h.work();
    expect(await refundedAtStripe(paid.bookingId)).toBe(5000);
    const { rows } = await ownerQuery<{ body: string; refund: number }>(
      "select body, (data ->> 'refund_cents')::int as refund from public.notifications where user_id = $1 and type = 'event_cancelled'",
      [guest.id]);
    expect(rows[0]?.refund).toBe(3500);
    expect(rows[0]?.body).toContain("the rest of your payment");
    expect(await walletOf(host)).toEqual({ pending: 0, available: 0, in_transit: 0, paid_out: 0 });
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  it("cancel_booking refunds what the policy allows minus what was already refunded, without a raw error", async () => {
    const host = await h.readyHost();
    const guest = await createUser();
    const gig = await h.paidEvent(host, { price: 4000, startsInDays: 30, policy: "flexible" });
    const paid = await h.bookAndPay(guest, gig);
    await rpc(admin, "select * from public.admin_refund_booking($1, 'Wrong ticket type', 1000)", [paid.bookingId]);
    await h.work();
    const [quote] = await rpc<{ refundable_cents: string }>(guest, "select refundable_cents from public.refund_quote($1)", [paid.bookingId]);
    expect(quote?.refundable_cents).toBe("3000");
    await rpc(guest, "select * from public.cancel_booking($1)", [paid.bookingId]);
    await h.work();
    expect(await refundedAtStripe(paid.bookingId)).toBe(4000);
    expect(await ledgerInvariantViolations()).toEqual([]);
  });

  it("an admin cannot refund more than is left", async () => {
    const host = await h.readyHost();
    const guest = await createUser();
    const gig = await h.paidEvent(host, { price: 2000, startsInDays: 30 });
    const paid = await h.bookAndPay(guest, gig);
    await rpc(admin, "select * from public.admin_refund_booking($1, 'Half back', 1000)", [paid.bookingId]);
    await expect(rpc(admin, "select * from public.admin_refund_booking($1, 'Too much', 1500)", [paid.bookingId]))
      .rejects.toMatchObject({ code: "P0001", hint: "refund_exceeds_payment" });
    const { rows } = await ownerQuery<{ n: string }>("select count(*) as n from private.refund_requests where booking_id = $1", [paid.bookingId]);
    expect(rows[0]?.n).toBe("1");
  });
});
