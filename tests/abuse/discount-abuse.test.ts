/**
 * Attack class: guests after a discount or a tier they were not given. They read or write promo
 * codes directly, use another event's code, push a code past its per-guest limit, send hostile
 * strings as codes, and go for a hidden tier by id (booking, waitlist, listing, live seat counts);
 * another host adds codes to an event that is not theirs. Each is refused with its documented
 * code, or sees nothing, and nothing is written. A discount larger than the price makes a ticket
 * free, never negative.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools, failure } from "../support/db.ts";
import { addTicketType, createEvent, createHost, publishEvent, rpc } from "../support/events.ts";
import { addPromoCode } from "../support/ticketing.ts";
import { createUser, type TestUser } from "../support/users.ts";

let host: TestUser;
let otherHost: TestUser;
let guest: TestUser;
let eventId: string;
let generalId: string;
let hiddenId: string;
let otherEventId: string;

beforeAll(async () => {
  host = await createHost("discount_host");
  otherHost = await createHost("other_host");
  guest = await createUser();
  const event = await createEvent(host);
  eventId = event.id;
  generalId = await addTicketType(host, eventId, { name: "General", price_cents: 3000, capacity: 50, max_per_booking: 5 });
  const [hidden] = await rpc<{ id: string }>(host,
    `insert into public.ticket_types (event_id, name, price_cents, currency, capacity, hidden) values ($1, 'Crew', 500, 'EUR', 5, true) returning id`,
    [eventId]);
  hiddenId = hidden!.id;
  await publishEvent(host, eventId);
  await addPromoCode(host, eventId, { code: "TENOFF", percent_off: 10, per_guest_limit: 2 });
  await addPromoCode(host, eventId, { code: "CREWPASS", percent_off: 0, ticket_type_id: hiddenId });
  await addPromoCode(host, eventId, { code: "HUGE", amount_off_cents: 100_000_000 });
  const other = await createEvent(otherHost);
  otherEventId = other.id;
  await addTicketType(otherHost, otherEventId, { price_cents: 1000 });
  await publishEvent(otherHost, otherEventId);
  await addPromoCode(otherHost, otherEventId, { code: "THEIRS", percent_off: 90 });
});

afterAll(closeTestPools);

async function written(): Promise<{ bookings: number; codes: number; waiting: number }> {
  const { rows } = await ownerQuery<{ bookings: number; codes: number; waiting: number }>(
    `select (select count(*)::int from public.bookings where event_id = $1) as bookings,
            (select count(*)::int from public.promo_codes where event_id = $1) as codes,
            (select count(*)::int from public.waitlist_entries where event_id = $1) as waiting`, [eventId]);
  return rows[0]!;
}

describe("guests and the codes table", () => {
  it("a guest reads no codes, cannot add, change or delete one", async () => {
    const before = await written();
    const [seen] = await rpc<{ n: number }>(guest, "select count(*)::int as n from public.promo_codes");
    expect(seen!.n).toBe(0);
    expect(await failure(rpc(guest, "insert into public.promo_codes (event_id, code, percent_off) values ($1, 'MINE', 100)", [eventId])))
      .toMatchObject({ code: "42501" });
    const changed = await rpc(guest, "update public.promo_codes set percent_off = 100 where event_id = $1 returning id", [eventId]);
    expect(changed).toEqual([]);
    expect(await written()).toEqual(before);
  });

  it("another host cannot add a code to an event that is not theirs", async () => {
    const before = await written();
    expect(await failure(rpc(otherHost, "insert into public.promo_codes (event_id, code, percent_off) values ($1, 'RIVAL', 100)", [eventId])))
      .toMatchObject({ code: "42501" });
    expect(await written()).toEqual(before);
  });
});

describe("using codes one was not given", () => {
  it("another event's code, hostile strings and an over-the-limit party are refused, and nothing is written", async () => {
    const before = await written();
    const book = (code: string, quantity = 1) =>
      failure(rpc(guest, "select * from public.book_event($1, $2, $3, null, null, $4)", [eventId, generalId, quantity, code]));
    expect(await book("THEIRS")).toMatchObject({ code: "22023", hint: "promo_code_not_found" });
    for (const hostile of ["", " ", "' or '1'='1", "TENOFF; drop table public.promo_codes", "x".repeat(10_000), "ТЕНОФФ", "TEN%"]) {
      expect(await book(hostile)).toMatchObject({ code: "22023", hint: "promo_code_not_found" });
    }
    expect(await book("TENOFF", 3)).toMatchObject({ code: "P0001", hint: "promo_code_guest_limit" });
    expect(await failure(rpc(guest, "select * from public.preview_promo_code($1, $2)", [eventId, "x".repeat(10_000)])))
      .toMatchObject({ code: "22023", hint: "promo_code_not_found" });
    expect(await written()).toEqual(before);
  });

  it("a discount larger than the price makes the ticket free, never negative", async () => {
    const taker = await createUser();
    const [row] = await rpc<{ status: string; amount_cents: string; discount_cents: string }>(taker,
      "select status, amount_cents, discount_cents from public.book_event($1, $2, 2, null, null, 'huge')", [eventId, generalId]);
    expect(row).toEqual({ status: "confirmed", amount_cents: "0", discount_cents: "6000" });
  });
});

describe("going for the hidden tier by its id", () => {
  it("is refused without its code: booking, waitlist, listing, and a general code do not reach it", async () => {
    const before = await written();
    expect(await failure(rpc(guest, "select * from public.book_event($1, $2, 1)", [eventId, hiddenId])))
      .toMatchObject({ code: "22023", hint: "ticket_type_not_found" });
    expect(await failure(rpc(guest, "select * from public.book_event($1, $2, 1, null, null, 'TENOFF')", [eventId, hiddenId])))
      .toMatchObject({ code: "22023", hint: "ticket_type_not_found" });
    expect(await failure(rpc(guest, "select * from public.join_waitlist($1, $2, 1)", [eventId, hiddenId])))
      .toMatchObject({ code: "22023", hint: "ticket_type_not_found" });
    const listed = await rpc<{ id: string }>(guest, "select id from public.ticket_types where event_id = $1", [eventId]);
    expect(listed.map((t) => t.id)).toEqual([generalId]);
    const previewed = await rpc<{ ticket_type_id: string }>(guest, "select ticket_type_id from public.preview_promo_code($1, 'tenoff')", [eventId]);
    expect(previewed.map((t) => t.ticket_type_id)).toEqual([generalId]);
    expect(await written()).toEqual(before);
  });

  it("its seat counts are never broadcast on the event's public topic", async () => {
    const crew = await createUser();
    await rpc(crew, "select * from public.book_event($1, $2, 1, null, null, 'CREWPASS')", [eventId, hiddenId]);
    const { rows } = await ownerQuery<{ n: number }>(
      "select count(*)::int as n from realtime.messages where topic = $1 and payload ->> 'ticket_type_id' = $2", [`event:${eventId}`, hiddenId]);
    expect(rows[0]!.n).toBe(0);
  });
});
