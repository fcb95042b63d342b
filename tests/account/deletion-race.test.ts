/**
 * Account deletion against requests already under way. A request from the same person that
 * passed `require_user()` before the deletion committed must not leave a booking, a waitlist
 * entry or a follow behind for the deleted account: it waits for the deletion's row lock on the
 * profile and is then refused with `account_deleted`. Each request is its own transaction on its
 * own connection, as PostgREST would run it.
 */
import type pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ownerQuery, asUser, closeTestPools } from "../support/db.ts";
import { createHost, publishedEvent } from "../support/events.ts";
import { createUser, type TestUser } from "../support/users.ts";

afterAll(async () => {
  await closeTestPools();
});

/** Resolves once another backend is waiting for a lock held by `blockerPid`. */
async function someoneWaitsOn(blockerPid: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const { rows } = await ownerQuery<{ waiting: boolean }>(
      "select exists (select 1 from pg_stat_activity where $1 = any (pg_blocking_pids(pid))) as waiting",
      [blockerPid],
    );
    if (rows[0]?.waiting === true) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("no request ever waited for the deletion");
}

/**
 * Runs `write` as `person` while their account deletion is open but not yet committed, then
 * commits the deletion. Resolves to the write's outcome.
 */
async function writeDuringDeletion(person: TestUser, username: string, write: (db: pg.PoolClient) => Promise<unknown>) {
  let commitDeletion!: () => void;
  const deletionMayCommit = new Promise<void>((resolve) => {
    commitDeletion = resolve;
  });
  let deletionPid!: number;
  let deletionRan!: () => void;
  const deletionHasRun = new Promise<void>((resolve) => {
    deletionRan = resolve;
  });
  const deletion = asUser(person.claims, async (db) => {
    deletionPid = (await db.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]?.pid ?? 0;
    await db.query("select public.delete_my_account($1)", [username]);
    deletionRan();
    await deletionMayCommit;
  });
  await deletionHasRun;
  const racing = asUser(person.claims, write).then(
    () => null,
    (err: unknown) => err,
  );
  await someoneWaitsOn(deletionPid);
  commitDeletion();
  await deletion;
  return racing;
}

describe("a request racing its own account deletion", () => {
  it("cannot book once the deletion commits", async () => {
    const host = await createHost("race_host");
    const { event, ticketTypeId } = await publishedEvent(host);
    const guest = await createUser();
    const username = guest.username ?? "";
    const outcome = await writeDuringDeletion(guest, username, (db) =>
      db.query("select * from public.book_event($1, $2, 1, null)", [event.id, ticketTypeId]));
    expect(outcome).toMatchObject({ code: "42501", hint: "account_deleted" });
    const { rows } = await ownerQuery<{ n: string }>("select count(*) as n from public.bookings where guest_id = $1", [guest.id]);
    expect(rows[0]?.n).toBe("0");
  });

  it("cannot follow once the deletion commits, and nobody's counts drift", async () => {
    const other = await createUser();
    const person = await createUser();
    const outcome = await writeDuringDeletion(person, person.username ?? "", (db) =>
      db.query("select public.follow_user($1)", [other.id]));
    expect(outcome).toMatchObject({ code: "42501", hint: "account_deleted" });
    const { rows } = await ownerQuery<{ follows: string; followers: number }>(
      `select (select count(*) from public.follows where follower_id = $1) as follows,
              (select followers_count from public.profiles where id = $2) as followers`,
      [person.id, other.id],
    );
    expect(rows[0]).toEqual({ follows: "0", followers: 0 });
  });

  it("an account that is not being deleted books as usual", async () => {
    const host = await createHost("race_host");
    const { event, ticketTypeId } = await publishedEvent(host);
    const guest = await createUser();
    const { rows } = await asUser(guest.claims, (db) =>
      db.query<{ status: string }>("select status from public.book_event($1, $2, 1, null)", [event.id, ticketTypeId]));
    expect(rows[0]?.status).toBe("confirmed");
  });
});
