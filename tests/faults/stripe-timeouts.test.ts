/**
 * Stripe timing out (or failing before it ran anything) while a guest starts checkout or a host
 * starts Connect onboarding (fast-check over how often and how). stripe-node retries on its own
 * with the same idempotency key (STRIPE_MAX_NETWORK_RETRIES = 2); when every try fails the
 * client gets a clear, retryable 503 stripe_unavailable; when it retries, it gets the same
 * PaymentIntent / connected account — one per booking, one per host, whatever happened before.
 *
 * The indeterminate 500 (Stripe ran the request, then failed, and saved that 500 for the key):
 * checkout answers 503 while Stripe replays the saved 500, until the payment_intent.created
 * webhook records the intent; then checkout finds that one intent. (Had Stripe failed before
 * creating anything, the key would answer 500 until Stripe forgets it, 24 h — the documented
 * weaker case; the guest books again.)
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultSpec } from "../../tools/stripe-standin/server.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { type Http, type PaymentsHarness, startPayments } from "../support/payments.ts";
import { createUser, issueAccessToken } from "../support/users.ts";

let h: PaymentsHarness;

beforeAll(async () => {
  h = await startPayments();
  process.env.STRIPE_TIMEOUT_MS = "250";
});

afterAll(async () => {
  h.standin.clearFaults();
  await h.close();
  await closeTestPools();
});

const faultArb = (path: string): fc.Arbitrary<FaultSpec> => fc.record({
  mode: fc.constantFrom<FaultSpec["mode"]>("timeout", "error_before"),
  times: fc.integer({ min: 1, max: 3 }),
}).map((f) => ({ ...f, path, method: "POST", delayMs: 500 }));

/** Every try timing out: the client must see the outage. */
const allTriesTimeOut = (path: string): FaultSpec => ({ path, method: "POST", mode: "timeout", times: 3, delayMs: 500 });

let unavailable = 0;

/** The answer must be a success or Stripe's outage, stated clearly and retryable. */
function expectOkOrUnavailable(res: Http): void {
  if (res.status === 200) return;
  unavailable += 1;
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ error: { code: "stripe_unavailable", message: expect.stringMatching(/try again/i) } });
}

/** Retries as an app would, a bounded number of times, once Stripe has recovered. */
async function retryUntilOk(call: () => Promise<Http>): Promise<Http> {
  let res = await call();
  for (let i = 0; i < 3 && res.status !== 200; i += 1) res = await call();
  expect(res.status).toBe(200);
  return res;
}

describe("checkout while Stripe times out", () => {
  it("answers 200 or a clear 503, and a retry yields the booking's one PaymentIntent", async () => {
    unavailable = 0;
    const host = await h.readyHost();
    const gig = await h.paidEvent(host, { price: 2200, capacity: 200 });
    await fc.assert(fc.asyncProperty(fc.array(faultArb("/v1/payment_intents"), { minLength: 1, maxLength: 2 }), async (faults) => {
      const guest = await createUser();
      const bookingId = await h.book(guest, gig);
      for (const fault of faults) h.standin.injectFault(fault);
      const first = await h.checkout(guest, bookingId);
      h.standin.clearFaults();
      expectOkOrUnavailable(first);
      const ok = await retryUntilOk(() => h.checkout(guest, bookingId));
      const intents = [...h.standin.store.paymentIntents.values()].filter((pi) => pi.metadata.booking_id === bookingId);
      expect(intents).toHaveLength(1);
      expect(ok.body.payment_intent_id).toBe(intents[0]?.id);
      if (first.status === 200) expect(first.body.payment_intent_id).toBe(intents[0]?.id);
      // …and paying it confirms the booking once.
      await h.stripe.paymentIntents.confirm(String(ok.body.payment_intent_id), { payment_method: "pm_card_visa" });
      await h.settle();
      const { rows } = await ownerQuery<{ status: string }>("select status from public.bookings where id = $1", [bookingId]);
      expect(rows).toEqual([{ status: "confirmed" }]);
      const { rows: notes } = await ownerQuery("select 1 from public.notifications where user_id = $1 and type = 'booking_confirmed'", [guest.id]);
      expect(notes).toHaveLength(1);
    }), { numRuns: 6, examples: [[[allTriesTimeOut("/v1/payment_intents")]]] });
    expect(unavailable).toBeGreaterThan(0);
  });

  it("after an indeterminate 500, the payment_intent.created webhook heals checkout: one PaymentIntent, found again", async () => {
    const host = await h.readyHost();
    const gig = await h.paidEvent(host, { price: 1800 });
    const guest = await createUser();
    const bookingId = await h.book(guest, gig);
    h.standin.setDelivery("manual");
    h.standin.injectFault({ path: "/v1/payment_intents", method: "POST", mode: "error_after" });
    const first = await h.checkout(guest, bookingId);
    const again = await h.checkout(guest, bookingId);
    h.standin.clearFaults();
    // Stripe ran it, then failed, and replays that 500 for the key: the client can only be told to retry.
    for (const res of [first, again]) {
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: { code: "stripe_unavailable" } });
    }
    // Stripe's payment_intent.created event tells Rally which intent the booking has.
    h.standin.setDelivery("auto");
    await h.settle();
    const healed = await h.checkout(guest, bookingId);
    expect(healed.status).toBe(200);
    const intents = [...h.standin.store.paymentIntents.values()].filter((pi) => pi.metadata.booking_id === bookingId);
    expect(intents).toHaveLength(1);
    expect(healed.body.payment_intent_id).toBe(intents[0]?.id);
  });
});

describe("Connect onboarding while Stripe times out", () => {
  it("answers 200 or a clear 503, and a retry leaves the host with one connected account", async () => {
    unavailable = 0;
    const arb = fc.constantFrom("/v1/accounts", "/v1/account_links").chain((path) => fc.array(faultArb(path), { minLength: 1, maxLength: 2 }));
    await fc.assert(fc.asyncProperty(arb, async (faults) => {
      const user = await createUser();
      await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [user.id]);
      const host = { ...user, ...(await issueAccessToken(user.id)) };
      for (const fault of faults) h.standin.injectFault(fault);
      const first = await h.call("connect-onboarding", { token: host.token, body: {} });
      h.standin.clearFaults();
      expectOkOrUnavailable(first);
      const ok = await retryUntilOk(() => h.call("connect-onboarding", { token: host.token, body: {} }));
      expect(String(ok.body.onboarding_url)).toMatch(/^http/);
      const accounts = [...h.standin.store.accounts.values()].filter((a) => a.metadata.host_id === host.id);
      expect(accounts).toHaveLength(1);
      expect(ok.body.account_id).toBe(accounts[0]?.id);
      const { rows } = await ownerQuery<{ account_id: string }>("select account_id from private.stripe_accounts where host_id = $1", [host.id]);
      expect(rows).toEqual([{ account_id: accounts[0]?.id }]);
    }), { numRuns: 6, examples: [[[allTriesTimeOut("/v1/accounts")]], [[allTriesTimeOut("/v1/account_links")]]] });
    expect(unavailable).toBeGreaterThan(0);
  });
});
