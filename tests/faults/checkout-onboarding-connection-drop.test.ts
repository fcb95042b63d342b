/**
 * The checkout function losing its database connection (fast-check over where): while reading
 * the booking (before Stripe is called) or while recording the PaymentIntent Stripe created
 * (before or after that COMMIT ran). The guest gets a retryable 503 database_unavailable; the
 * retry creates nothing new at Stripe (idempotency key = booking id) and answers with the
 * booking's one PaymentIntent, and paying it confirms the booking once.
 *
 * The same for Connect onboarding: wherever its connection drops — reading the host's account,
 * saving the account Stripe created, reading it back — the retry leaves the host with one
 * connected account (idempotency key connect-account-<host>).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import type { PgFault } from "../support/pg-fault-proxy.ts";
import { createUser, issueAccessToken } from "../support/users.ts";
import { type FaultyPayments, startFaultyPayments } from "./support.ts";

let env: FaultyPayments;

beforeAll(async () => {
  env = await startFaultyPayments();
});

afterAll(async () => {
  await env.close();
  await closeTestPools();
});

describe("checkout losing its database connection", () => {
  it("answers 503 database_unavailable, and the retry returns the booking's one PaymentIntent", async () => {
    const { h, proxy } = env;
    const host = await h.readyHost();
    const gig = await h.paidEvent(host, { price: 2600, capacity: 100 });
    // prepare_checkout as the guest = queries 1–4; record_payment_intent = 5–8 (its COMMIT is the 8th).
    const cut = fc.record({ atQuery: fc.integer({ min: 1, max: 8 }), when: fc.constantFrom<PgFault["when"]>("before_query", "after_query") });
    await fc.assert(fc.asyncProperty(cut, async (fault) => {
      const guest = await createUser();
      const bookingId = await h.book(guest, gig);
      h.standin.setDelivery("manual"); // no webhook traffic in the proxy while the fault is armed
      proxy.arm(fault);
      const first = await h.checkout(guest, bookingId);
      proxy.disarm();
      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({ error: { code: "database_unavailable", message: expect.stringMatching(/try again/i) } });
      const retry = await h.checkout(guest, bookingId);
      expect(retry.status).toBe(200);
      const intents = [...h.standin.store.paymentIntents.values()].filter((pi) => pi.metadata.booking_id === bookingId);
      expect(intents).toHaveLength(1); // created once, whether or not the first try reached Stripe
      expect(retry.body.payment_intent_id).toBe(intents[0]?.id);
      h.standin.setDelivery("auto");
      await h.stripe.paymentIntents.confirm(String(retry.body.payment_intent_id), { payment_method: "pm_card_visa" });
      await h.settle();
      const { rows } = await ownerQuery<{ status: string }>("select status from public.bookings where id = $1", [bookingId]);
      expect(rows).toEqual([{ status: "confirmed" }]);
      const { rows: notes } = await ownerQuery("select 1 from public.notifications where user_id = $1 and type = 'booking_confirmed'", [guest.id]);
      expect(notes).toHaveLength(1);
    }), { numRuns: 10, examples: [[{ atQuery: 8, when: "after_query" }], [{ atQuery: 7, when: "before_query" }]] });
  });
});

describe("Connect onboarding losing its database connection", () => {
  it("answers 503 database_unavailable, and the retry leaves the host with one connected account", async () => {
    const { h, proxy } = env;
    // my_connect_account = 1–4, Stripe creates the account, save_connect_account = 5–8, read back = 9–12.
    const cut = fc.record({ atQuery: fc.integer({ min: 1, max: 12 }), when: fc.constantFrom<PgFault["when"]>("before_query", "after_query") });
    await fc.assert(fc.asyncProperty(cut, async (fault) => {
      const user = await createUser();
      await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [user.id]);
      const host = { ...user, ...(await issueAccessToken(user.id)) };
      h.standin.setDelivery("manual");
      proxy.arm(fault);
      const first = await h.call("connect-onboarding", { token: host.token, body: {} });
      proxy.disarm();
      h.standin.setDelivery("auto");
      await h.settle();
      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({ error: { code: "database_unavailable" } });
      const retry = await h.call("connect-onboarding", { token: host.token, body: {} });
      expect(retry.status).toBe(200);
      const accounts = [...h.standin.store.accounts.values()].filter((a) => a.metadata.host_id === host.id);
      expect(accounts).toHaveLength(1);
      expect(retry.body.account_id).toBe(accounts[0]?.id);
      // Webhooks the retry caused must be delivered before the next case arms the proxy:
      // the proxy counts queries across all connections, so a late delivery would take the cut.
      await h.settle();
    }), { numRuns: 10, examples: [[{ atQuery: 8, when: "after_query" }], [{ atQuery: 6, when: "before_query" }]] });
  });
});
