/**
 * A booking (or a waitlist entry) racing the event's cancellation never ends up live in the
 * cancelled event. Found by tests/ticketing/series-race: book_event read the event's status
 * without a lock, so a booking whose check ran just before cancel_event locked the event could
 * commit after cancel_event had cancelled the bookings it could see — a confirmed guest and
 * taken seats in a cancelled event. The interleaving is forced here: the cancellation holds its
 * lock (uncommitted) while the booking starts; the booking must wait, then read the event as
 * cancelled.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyRequestContext } from "../../functions/_shared/db.ts";
import { closeTestPools, ownerQuery } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { createHost, inventory, publishedEvent } from "../support/events.ts";
import { createUser, type TestUser } from "../support/users.ts";

let pool: pg.Pool;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: 4, application_name: "rally-cancel-race" });
});

afterAll(async () => {
  await pool.end();
  await closeTestPools();
});

/** Opens a request as `user` and leaves its transaction open. */
async function openRequest(user: TestUser): Promise<pg.PoolClient> {
  const client = await pool.connect();
  await client.query("begin");
  await applyRequestContext(client, user.claims);
  return client;
}

/** Runs `sql` as `user` in its own request; resolves to "ok" or the error's hint. */
async function request(user: TestUser, sql: string, params: unknown[]): Promise<string> {
  const client = await openRequest(user);
  try {
    await client.query(sql, params);
    await client.query("commit");
    return "ok";
  } catch (err) {
    await client.query("rollback");
    return (err as { hint?: string }).hint ?? String(err);
  } finally {
    client.release();
  }
}

const stillWaiting = async (p: Promise<string>): Promise<boolean> =>
  (await Promise.race([p.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 300))]));

describe("a booking that starts while the host's cancellation is in flight", () => {
  it("waits for it and is refused with event_cancelled; nothing is booked or taken", async () => {
    const host = await createHost();
    const guest = await createUser();
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 10 });
    const cancelling = await openRequest(host);
    await cancelling.query("select public.cancel_event($1, 'Flooded')", [event.id]);

    const booking = request(guest, "select public.book_event($1, $2, 1)", [event.id, ticketTypeId]);
    expect(await stillWaiting(booking)).toBe(true);
    await cancelling.query("commit");
    cancelling.release();

    expect(await booking).toBe("event_cancelled");
    const { rows } = await ownerQuery<{ n: string }>(
      "select count(*) as n from public.bookings where event_id = $1 and status in ('held', 'pending_approval', 'confirmed')", [event.id]);
    expect(rows[0]?.n).toBe("0");
    expect(await inventory(ticketTypeId)).toMatchObject({ taken: 0, allocated: 0 });
  });

  it("a waitlist entry started meanwhile is refused too", async () => {
    const host = await createHost();
    const [first, second] = await Promise.all([createUser(), createUser()]);
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 1, max_per_booking: 1 });
    expect(await request(first, "select public.book_event($1, $2, 1)", [event.id, ticketTypeId])).toBe("ok");
    const cancelling = await openRequest(host);
    await cancelling.query("select public.cancel_event($1)", [event.id]);

    const joining = request(second, "select public.join_waitlist($1, $2, 1)", [event.id, ticketTypeId]);
    expect(await stillWaiting(joining)).toBe(true);
    await cancelling.query("commit");
    cancelling.release();

    expect(await joining).not.toBe("ok");
    const { rows } = await ownerQuery<{ n: string }>(
      "select count(*) as n from public.waitlist_entries where event_id = $1 and status in ('waiting', 'offered')", [event.id]);
    expect(rows[0]?.n).toBe("0");
  });
});
