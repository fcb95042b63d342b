/**
 * Attack class: repeat until it hurts (issue 13, findings 8 and 12). One account loops a write it
 * is allowed to make — events back to back, book and cancel, follow, view, message, remind,
 * report, create groups, call Stripe through checkout and connect-onboarding, ask for SMS codes —
 * and is stopped by the limiter: P0001 rate_limited from the database, 429 with Retry-After from
 * the edge functions, and nothing written past the limit. Defaults are used where a loop of that
 * length is cheap; otherwise the test sets a smaller limit the way an operator would
 * (admin.set_rate_limit) and puts it back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { ownerQuery, asAnon, asUser, closeTestPools, failure } from "../support/db.ts";
import { bookEvent, createEvent, createHost, publishedEvent, rpc } from "../support/events.ts";
import { bulkUsers, withRateLimit } from "../support/limits.ts";
import { startPayments, type PaymentsHarness } from "../support/payments.ts";
import { createUser } from "../support/users.ts";

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

const count = async (sql: string, params: unknown[] = []): Promise<number> =>
  Number((await ownerQuery<{ n: string }>(sql, params)).rows[0]?.n ?? NaN);

describe("the limiter under concurrency", () => {
  it("thirty parallel reports against a limit of twenty file exactly twenty", async () => {
    const reporter = await createUser();
    const targets = await bulkUsers(30, "target");
    const outcomes = await Promise.allSettled(targets.map((id) =>
      rpc(reporter, "select public.report_content('user', $1, 'spam')", [id])));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(20);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(refused).toHaveLength(10);
    for (const r of refused) expect(r.reason).toMatchObject({ code: "P0001", hint: "rate_limited" });
    expect(await count("select count(*) as n from private.content_reports where reporter_id = $1", [reporter.id])).toBe(20);
  });
});

describe("database writes an account can repeat", () => {
  it("a host creating events back to back stops at 30 an hour; the 31st writes nothing", async () => {
    const host = await createHost("burst");
    await asUser(host.claims, (db) => db.query(
      `insert into public.events (title, starts_at, ends_at, timezone)
       select 'Back to back ' || g, now() + interval '20 days', now() + interval '20 days 2 hours', 'UTC'
         from generate_series(1, 30) g`));
    const err = await failure(createEvent(host));
    expect(err).toMatchObject({ code: "P0001", hint: "rate_limited" });
    expect(err.message).toMatch(/^Too many new events: at most 30 per 1 hour\. Try again in \d+ (seconds|minutes)\.$/);
    expect(await count("select count(*) as n from private.events where host_id = $1", [host.id])).toBe(30);
  });

  it("30 book-and-cancel loops on a free event stop at the booking limit (20 an hour)", async () => {
    const host = await createHost("loops");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 50 });
    const guest = await createUser();
    let completed = 0;
    let refusedAt: { code: string; hint: string | undefined } | null = null;
    for (let i = 0; i < 30 && refusedAt === null; i += 1) {
      try {
        const booking = await bookEvent(guest, event.id, ticketTypeId);
        await rpc(guest, "select public.cancel_booking($1)", [booking.id]);
        completed += 1;
      } catch (err) {
        refusedAt = err as { code: string; hint: string | undefined };
      }
    }
    expect(completed).toBe(20);
    expect(refusedAt).toMatchObject({ code: "P0001", hint: "rate_limited" });
    expect(await count("select count(*) as n from public.bookings where guest_id = $1", [guest.id])).toBe(20);
    expect(await count("select count(*) as n from public.bookings where guest_id = $1 and status = 'cancelled'", [guest.id])).toBe(20);
  });

  it("a guest's own cancellations have their own limit; the host cancelling is not counted against the guest", async () => {
    await withRateLimit("booking_cancel", 2, "1 hour", async () => {
      const host = await createHost("cancels");
      const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 50 });
      const guest = await createUser();
      for (let i = 0; i < 2; i += 1) {
        const b = await bookEvent(guest, event.id, ticketTypeId);
        await rpc(guest, "select public.cancel_booking($1)", [b.id]);
      }
      const third = await bookEvent(guest, event.id, ticketTypeId);
      expect(await failure(rpc(guest, "select public.cancel_booking($1)", [third.id]))).toMatchObject({ hint: "rate_limited" });
      expect((await ownerQuery("select status from public.bookings where id = $1", [third.id])).rows).toEqual([{ status: "confirmed" }]);
      await rpc(host, "select public.cancel_booking($1)", [third.id]);
      expect((await ownerQuery("select status, cancel_reason from public.bookings where id = $1", [third.id])).rows)
        .toEqual([{ status: "cancelled", cancel_reason: "host_cancelled" }]);
    });
  });

  it("waitlist join-and-leave loops count as bookings and cancellations", async () => {
    await withRateLimit("booking", 2, "1 hour", async () => {
      const host = await createHost("wait");
      const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 1, max_per_booking: 1 });
      await bookEvent(await createUser(), event.id, ticketTypeId);
      const guest = await createUser();
      for (let i = 0; i < 2; i += 1) {
        await rpc(guest, "select public.join_waitlist($1, $2, 1)", [event.id, ticketTypeId]);
        await rpc(guest, "select public.leave_waitlist($1)", [event.id]);
      }
      expect(await failure(rpc(guest, "select public.join_waitlist($1, $2, 1)", [event.id, ticketTypeId])))
        .toMatchObject({ hint: "rate_limited" });
      expect(await count("select count(*) as n from public.waitlist_entries where guest_id = $1", [guest.id])).toBe(2);
    });
  });

  it("follow loops stop at the limit, whether through follow_user or an insert into follows; following again is free", async () => {
    await withRateLimit("follow", 3, "1 hour", async () => {
      const fan = await createUser();
      const idols = await bulkUsers(5, "idol");
      for (const id of idols.slice(0, 3)) await rpc(fan, "select public.follow_user($1)", [id]);
      await rpc(fan, "select public.follow_user($1)", [idols[0]]);
      expect(await failure(rpc(fan, "select public.follow_user($1)", [idols[3]]))).toMatchObject({ hint: "rate_limited" });
      expect(await failure(rpc(fan, "insert into public.follows (follower_id, followee_id) values ($1, $2)", [fan.id, idols[4]])))
        .toMatchObject({ hint: "rate_limited" });
      // Unfollow-and-follow churn is the same loop.
      await rpc(fan, "select public.unfollow_user($1)", [idols[0]]);
      expect(await failure(rpc(fan, "select public.follow_user($1)", [idols[0]]))).toMatchObject({ hint: "rate_limited" });
      expect(await count("select count(*) as n from public.follows where follower_id = $1", [fan.id])).toBe(2);
      expect(await count("select following_count as n from public.profiles where id = $1", [fan.id])).toBe(2);
    });
  });

  it("view inflation: a signed-in viewer gets 300 an hour, anonymous visitors 600 per event; the host's own visits are not counted", async () => {
    const host = await createHost("views");
    const { event } = await publishedEvent(host);
    const viewer = await createUser();
    const views = "select count(*) as n from private.event_views where event_id = $1";
    await rpc(viewer, "select count(public.record_event_view($1)) from generate_series(1, 300)", [event.id]);
    expect(await failure(rpc(viewer, "select public.record_event_view($1)", [event.id]))).toMatchObject({ hint: "rate_limited" });
    await asAnon((db) => db.query("select count(public.record_event_view($1)) from generate_series(1, 600)", [event.id]));
    expect(await failure(asAnon((db) => db.query("select public.record_event_view($1)", [event.id]))))
      .toMatchObject({ code: "P0001", hint: "rate_limited" });
    expect(await count(views, [event.id])).toBe(900);
    // Another event's anonymous visitors have their own allowance.
    const other = await publishedEvent(host);
    expect((await asAnon((db) => db.query("select public.record_event_view($1) as counted", [other.event.id]))).rows)
      .toEqual([{ counted: true }]);
    expect((await rpc(host, "select public.record_event_view($1) as counted", [event.id]))).toEqual([{ counted: false }]);
    expect(await count(views, [event.id])).toBe(900);
  });

  it("messages and chat reminders: a flood stops at the limit and the refused message is not written", async () => {
    const sender = await createUser();
    const friend = await createUser();
    const [dm] = await rpc<{ id: string }>(sender, "select id from public.start_direct_conversation($1)", [friend.id]);
    await withRateLimit("message", 30, "1 hour", async () => {
      await rpc(sender, "select count(public.send_message($1, 'text', 'flood ' || g)) from generate_series(1, 30) g", [dm!.id]);
      expect(await failure(rpc(sender, "select public.send_message($1, 'text', 'one more')", [dm!.id]))).toMatchObject({ hint: "rate_limited" });
    });
    expect(await count("select count(*) as n from public.messages where sender_id = $1", [sender.id])).toBe(30);
    // Reminders notify everyone when they fire: ten an hour, on top of the message limit.
    const reminder = "select public.send_message($1, 'reminder', 'Bring snacks', null, null, now() + interval '1 day')";
    const setter = await createUser();
    const [dm2] = await rpc<{ id: string }>(setter, "select id from public.start_direct_conversation($1)", [friend.id]);
    for (let i = 0; i < 10; i += 1) await rpc(setter, reminder, [dm2!.id]);
    expect(await failure(rpc(setter, reminder, [dm2!.id]))).toMatchObject({ hint: "rate_limited" });
    expect(await count("select count(*) as n from public.messages where sender_id = $1 and kind = 'reminder'", [setter.id])).toBe(10);
  });

  it("groups: ten new groups an hour, and adding or inviting people costs one call per person", async () => {
    const maker = await createUser();
    for (let i = 0; i < 10; i += 1) await rpc(maker, "select public.create_group_conversation($1)", [`Group ${i}`]);
    expect(await failure(rpc(maker, "select public.create_group_conversation('Eleventh')"))).toMatchObject({ hint: "rate_limited" });
    expect(await count("select count(*) as n from public.conversations where created_by = $1", [maker.id])).toBe(10);
    await withRateLimit("group_people", 5, "1 hour", async () => {
      const admin = await createUser();
      const people = await bulkUsers(6, "people");
      expect(await failure(rpc(admin, "select public.create_group_conversation('Too many', $1::uuid[])", [people])))
        .toMatchObject({ hint: "rate_limited" });
      expect(await count("select count(*) as n from public.conversations where created_by = $1", [admin.id])).toBe(0);
      expect(await count("select count(*) as n from public.group_invitations where user_id = any ($1::uuid[])", [people])).toBe(0);
      // Add-and-remove loops: each add and each removal is a person.
      const [group] = await rpc<{ id: string }>(admin, "select id from public.create_group_conversation('Loop', $1::uuid[])", [people.slice(0, 1)]);
      await rpc(admin, "select public.remove_conversation_member($1, $2)", [group!.id, people[0]]);
      await rpc(admin, "select public.add_conversation_members($1, $2::uuid[])", [group!.id, people.slice(0, 1)]);
      await rpc(admin, "select public.remove_conversation_member($1, $2)", [group!.id, people[0]]);
      await rpc(admin, "select public.add_conversation_members($1, $2::uuid[])", [group!.id, people.slice(0, 1)]);
      expect(await failure(rpc(admin, "select public.remove_conversation_member($1, $2)", [group!.id, people[0]])))
        .toMatchObject({ hint: "rate_limited" });
    });
  });
});

describe("holding seats", () => {
  it("one guest's request for every seat of an approval-only event holds none of them", async () => {
    const host = await createHost("approval");
    const { event, ticketTypeId } = await publishedEvent(host, { requires_approval: true }, { capacity: 10, max_per_booking: 10 });
    const hoarder = await createUser();
    const hoard = await bookEvent(hoarder, event.id, ticketTypeId, 10);
    expect(hoard).toMatchObject({ status: "pending_approval" });
    expect(await count("select private.seats_left($1) as n", [ticketTypeId])).toBe(10);
    const guest = await createUser();
    const request = await bookEvent(guest, event.id, ticketTypeId, 2);
    await rpc(host, "select public.approve_booking($1)", [request.id]);
    expect(await count("select private.seats_left($1) as n", [ticketTypeId])).toBe(8);
    // Approval still never oversells: the hoarder's request no longer fits.
    expect(await failure(rpc(host, "select public.approve_booking($1)", [hoard.id]))).toMatchObject({ code: "P0001", hint: "sold_out" });
    expect((await ownerQuery("select status from public.bookings where id = $1", [hoard.id])).rows).toEqual([{ status: "pending_approval" }]);
    expect(await count("select private.seats_left($1) as n", [ticketTypeId])).toBe(8);
  });
});

describe("edge functions that call Stripe or an SMS provider", () => {
  let h: PaymentsHarness;
  beforeAll(async () => {
    h = await startPayments();
  });
  afterAll(async () => {
    await h.close();
  });

  const post = (name: string, token: string, body: unknown): Promise<Response> =>
    fetch(`${h.functionsUrl}/${name}`, {
      method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` }, body: JSON.stringify(body),
    });

  it("checkout: the 21st call in an hour is 429 with Retry-After and never reaches Stripe", async () => {
    const host = await h.readyHost();
    const gig = await h.paidEvent(host, { price: 1500 });
    const guest = await createUser();
    const bookingId = await h.book(guest, gig);
    for (let i = 0; i < 20; i += 1) expect((await h.checkout(guest, bookingId)).status).toBe(200);
    const intents = h.standin.store.paymentIntents.size;
    const res = await post("checkout", guest.token, { booking_id: bookingId });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ error: { code: "rate_limited", details: { action: "checkout", limit: 20 } } });
    expect(h.standin.store.paymentIntents.size).toBe(intents);
    // Book, checkout, cancel loops on other bookings are the same account's calls.
    const second = await h.book(guest, await h.paidEvent(host, { price: 900 }));
    expect((await h.checkout(guest, second)).status).toBe(429);
    expect(h.standin.store.paymentIntents.size).toBe(intents);
  });

  it("a refused checkout (someone else's booking) costs the caller nothing", async () => {
    const host = await h.readyHost();
    const gig = await h.paidEvent(host);
    const owner = await createUser();
    const prober = await createUser();
    const bookingId = await h.book(owner, gig);
    for (let i = 0; i < 25; i += 1) expect((await h.checkout(prober, bookingId)).status).toBe(403);
    expect(await count("select count(*) as n from private.rate_limit_buckets where action = 'checkout' and key = $1", [prober.id])).toBe(0);
  });

  it("connect-onboarding: the 11th Stripe call in an hour is 429; reading the status stays free", async () => {
    const host = await h.readyHost(); // one onboarding call
    for (let i = 0; i < 8; i += 1) expect((await post("connect-onboarding", host.token, {})).status).toBe(200);
    expect((await h.call("connect-onboarding", { method: "GET", token: host.token, path: "?refresh=true" })).status).toBe(200);
    const res = await post("connect-onboarding", host.token, {});
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect((await h.call("connect-onboarding", { method: "GET", token: host.token, path: "?refresh=true" })).status).toBe(429);
    expect((await h.call("connect-onboarding", { method: "GET", token: host.token })).status).toBe(200);
  });

  it("contact-points: five codes an hour per user, five a day per number from all accounts together", async () => {
    const sms = "select count(*) as n from private.alert_sink where channel = 'sms' and destination = $1";
    const asker = await createUser();
    for (let i = 0; i < 5; i += 1) expect((await post("contact-points", asker.token, { phone: `+35191700000${i}` })).status).toBe(200);
    const res = await post("contact-points", asker.token, { phone: "+351917000009" });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await count(sms, ["+351917000009"])).toBe(0);
    // Six accounts asking codes for one number: it receives five.
    const victim = "+351917000099";
    const accounts = await Promise.all(Array.from({ length: 6 }, () => createUser()));
    const statuses: number[] = [];
    for (const account of accounts) statuses.push((await post("contact-points", account.token, { phone: victim })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(await count(sms, [victim])).toBe(5);
  });
});
