/**
 * Attack class: malformed writes. Every write a signed-in user can make directly through the Data
 * API (the tables and the events view granted to `authenticated`) is tried with what breaks a
 * constraint — a duplicate, an unknown id, a value out of range — and must be refused with the
 * error contract (docs/conventions.md, "Errors"): SQLSTATE 22023, 42501 or P0001 with a snake_case hint, or
 * PostgreSQL's own 42501 for a column the role has no grant on. Never a bare 23505 / 23503 /
 * 23514, which apps cannot tell apart and PostgREST answers 409/400 with Postgres' wording.
 * Nothing is written: each attempt is one failed request, and the table is unchanged after it.
 * Following, blocking or reacting a second time is not an error but a no-op (what the RPCs
 * follow_user / block_user answer), so those repeats must succeed and write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, asUser, closeTestPools, failure } from "../support/db.ts";
import { addTicketType, bookEvent, createEvent, createHost, publishEvent, rpc } from "../support/events.ts";
import { createUser, type TestUser } from "../support/users.ts";

const RALLY_CODES = new Set(["22023", "42501", "P0001"]);

let host: TestUser;
let guest: TestUser;
let other: TestUser;
let draftId: string;
let publishedId: string;
let ticketTypeId: string;
let messageId: string;

beforeAll(async () => {
  host = await createHost("ec_host");
  guest = await createUser();
  other = await createUser();
  draftId = (await createEvent(host)).id;
  const published = await createEvent(host);
  publishedId = published.id;
  ticketTypeId = await addTicketType(host, publishedId, { capacity: 5 });
  await publishEvent(host, publishedId);
  await bookEvent(guest, publishedId, ticketTypeId, 1);
  // A direct conversation between guest and other, with one message to react to.
  const [conv] = await rpc<{ id: string }>(guest, "select id from public.start_direct_conversation($1)", [other.id]);
  const [msg] = await rpc<{ id: string }>(guest, "select id from public.send_message($1, 'text', 'hello')", [conv?.id]);
  messageId = msg?.id ?? "";
  // The follow, block, co-host and reaction that the duplicates below collide with.
  await asUser(guest.claims, (db) => db.query("insert into public.follows (follower_id, followee_id) values ($1, $2)", [guest.id, host.id]));
  await asUser(other.claims, (db) => db.query("insert into public.blocks (blocker_id, blocked_id) values ($1, $2)", [other.id, host.id]));
  await asUser(host.claims, (db) =>
    db.query("insert into public.event_cohosts (event_id, user_id, role) values ($1, $2, 'checkin')", [draftId, guest.id]));
  await asUser(guest.claims, (db) =>
    db.query("insert into public.message_reactions (message_id, user_id, emoji) values ($1, $2, '👍')", [messageId, guest.id]));
});

afterAll(closeTestPools);

interface Attempt {
  name: string;
  who: () => TestUser;
  sql: string;
  params: () => unknown[];
  /** The table whose row count must not change. */
  table: string;
}

const unknownId = "00000000-0000-4000-8000-000000000001";

const attempts: Attempt[] = [
  { name: "follow a user who does not exist", who: () => guest, table: "public.follows",
    sql: "insert into public.follows (follower_id, followee_id) values ($1, $2)", params: () => [guest.id, unknownId] },
  { name: "follow oneself", who: () => guest, table: "public.follows",
    sql: "insert into public.follows (follower_id, followee_id) values ($1, $1)", params: () => [guest.id] },
  { name: "block a user who does not exist", who: () => other, table: "public.blocks",
    sql: "insert into public.blocks (blocker_id, blocked_id) values ($1, $2)", params: () => [other.id, unknownId] },
  { name: "block oneself", who: () => other, table: "public.blocks",
    sql: "insert into public.blocks (blocker_id, blocked_id) values ($1, $1)", params: () => [other.id] },
  { name: "add the same co-host twice", who: () => host, table: "public.event_cohosts",
    sql: "insert into public.event_cohosts (event_id, user_id, role) values ($1, $2, 'manager')", params: () => [draftId, guest.id] },
  { name: "add a co-host who does not exist", who: () => host, table: "public.event_cohosts",
    sql: "insert into public.event_cohosts (event_id, user_id, role) values ($1, $2, 'manager')", params: () => [draftId, unknownId] },
  { name: "give a co-host an unknown role", who: () => host, table: "public.event_cohosts",
    sql: "update public.event_cohosts set role = 'owner' where event_id = $1 and user_id = $2", params: () => [draftId, guest.id] },
  { name: "react to a message that does not exist", who: () => guest, table: "public.message_reactions",
    sql: "insert into public.message_reactions (message_id, user_id, emoji) values ($1, $2, '👍')", params: () => [unknownId, guest.id] },
  { name: "add a ticket type with an id already taken", who: () => host, table: "public.ticket_types",
    sql: "insert into public.ticket_types (id, event_id, name, price_cents, currency, capacity) values ($1, $2, 'Copy', 0, 'EUR', 5)",
    params: () => [ticketTypeId, draftId] },
  { name: "delete a ticket type guests booked", who: () => host, table: "public.ticket_types",
    sql: "delete from public.ticket_types where id = $1", params: () => [ticketTypeId] },
  { name: "add a ticket type to an event that does not exist", who: () => host, table: "public.ticket_types",
    sql: "insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values ($1, 'Ghost', 0, 'EUR', 5)",
    params: () => [unknownId] },
  { name: "create an event with a location out of range", who: () => host, table: "private.events",
    sql: `insert into public.events (title, starts_at, ends_at, timezone, location)
          values ('Far away', now() + interval '2 days', now() + interval '2 days 2 hours', 'UTC', 'SRID=4326;POINT(200 100)')`,
    params: () => [] },
  { name: "move a draft to a location out of range", who: () => host, table: "private.events",
    sql: "update public.events set location = 'POINT(-9.1 95)' where id = $1", params: () => [draftId] },
  { name: "review a booking that does not exist", who: () => guest, table: "public.reviews",
    sql: "insert into public.reviews (booking_id, rating) values ($1, 5)", params: () => [unknownId] },
  { name: "take a username with the wrong characters", who: () => guest, table: "public.profiles",
    sql: "update public.profiles set username = 'Bad Name!' where id = $1", params: () => [guest.id] },
];

// Doing the same thing twice is not an error: the second is a no-op, as the RPCs answer.
const repeats: Attempt[] = [
  { name: "follow someone twice", who: () => guest, table: "public.follows",
    sql: "insert into public.follows (follower_id, followee_id) values ($1, $2)", params: () => [guest.id, host.id] },
  { name: "block someone twice", who: () => other, table: "public.blocks",
    sql: "insert into public.blocks (blocker_id, blocked_id) values ($1, $2)", params: () => [other.id, host.id] },
  { name: "react twice with the same emoji", who: () => guest, table: "public.message_reactions",
    sql: "insert into public.message_reactions (message_id, user_id, emoji) values ($1, $2, '👍')", params: () => [messageId, guest.id] },
];

const count = async (table: string): Promise<number> =>
  Number((await ownerQuery<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]?.n);

describe("direct writes that break a constraint get Rally's error contract, and write nothing", () => {
  it.each(attempts.map((a) => [a.name, a] as const))("%s", async (_name, attempt) => {
    const before = await count(attempt.table);
    const error = await failure(asUser(attempt.who().claims, (db) => db.query(attempt.sql, attempt.params())));
    expect(RALLY_CODES.has(error.code), `${attempt.name}: ${error.code} ${error.message}`).toBe(true);
    expect(error.hint ?? "", `${attempt.name}: ${error.code} ${error.message} has no Rally code`).toMatch(/^[a-z][a-z0-9_]+$/);
    expect(await count(attempt.table)).toBe(before);
  });
});

describe("doing the same thing twice is a no-op: no error, nothing more written", () => {
  it.each(repeats.map((a) => [a.name, a] as const))("%s", async (_name, attempt) => {
    const before = await count(attempt.table);
    const result = await asUser(attempt.who().claims, (db) => db.query(attempt.sql, attempt.params()));
    expect(result.rowCount).toBe(0);
    expect(await count(attempt.table)).toBe(before);
  });
});
