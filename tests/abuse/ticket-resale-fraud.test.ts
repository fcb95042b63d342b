/**
 * Attack class: ticket transfers turned against people. A guest sells a seat and then cancels the
 * booking for a refund; a stranger tries to take, give away, accept, decline or withdraw tickets
 * that are not theirs, or to move seats by writing the tables; a guest hammers someone with
 * offers; the door is shown a dead code. Each is refused with its documented code and nothing is
 * written (no booking changes, no refund request, no seat moves).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools, failure } from "../support/db.ts";
import { confirmPayment, createHost, publishedEvent, rpc } from "../support/events.ts";
import { createUser, type TestUser } from "../support/users.ts";

let host: TestUser;
let payer: TestUser;
let friend: TestUser;
let stranger: TestUser;
let eventId: string;
let ticketTypeId: string;
let bookingId: string;

beforeAll(async () => {
  host = await createHost("resale_host");
  [payer, friend, stranger] = await Promise.all([createUser(), createUser(), createUser()]);
  ({ event: { id: eventId }, ticketTypeId } = await publishedEvent(host, { refund_policy: "flexible" },
    { capacity: 20, max_per_booking: 4, price_cents: 4000 }));
  const [row] = await rpc<{ id: string }>(payer, "select id from public.book_event($1, $2, 2)", [eventId, ticketTypeId]);
  bookingId = row!.id;
  await confirmPayment(bookingId);
});

afterAll(closeTestPools);

async function state(): Promise<{ booking: string; holders: (string | null)[]; refunds: number; transfers: number }> {
  const { rows } = await ownerQuery<{ booking: string; holders: (string | null)[]; refunds: number; transfers: number }>(
    `select (select status || ':' || guest_id from public.bookings where id = $1) as booking,
            (select array_agg(holder_id order by seat_no) from public.booking_seats where booking_id = $1) as holders,
            (select count(*)::int from private.refund_requests where booking_id = $1) as refunds,
            (select count(*)::int from public.booking_transfers where booking_id = $1) as transfers`, [bookingId]);
  return rows[0]!;
}

describe("selling a seat, then cancelling the booking for a refund", () => {
  it("is refused with seats_transferred once the buyer holds the seat, and no refund is requested", async () => {
    const [offer] = await rpc<{ id: string }>(payer, "select id from public.transfer_booking($1, $2, 2)", [bookingId, friend.id]);
    await rpc(friend, "select * from public.accept_booking_transfer($1)", [offer!.id]);
    const before = await state();
    expect(before.holders).toEqual([null, friend.id]);

    expect(await failure(rpc(payer, "select * from public.cancel_booking($1)", [bookingId])))
      .toMatchObject({ code: "P0001", hint: "seats_transferred" });
    expect(await state()).toEqual(before);
  });
});

describe("a stranger and other people's tickets", () => {
  it("cannot offer, accept, decline or withdraw them", async () => {
    const [offer] = await rpc<{ id: string }>(payer, "select id from public.transfer_booking($1, $2, 1)", [bookingId, (await createUser()).id]);
    const before = await state();
    expect(await failure(rpc(stranger, "select * from public.transfer_booking($1, $2)", [bookingId, stranger.id])))
      .toMatchObject({ code: "22023", hint: "booking_not_found" });
    expect(await failure(rpc(stranger, "select * from public.transfer_booking($1, $2, 2)", [bookingId, stranger.id])))
      .toMatchObject({ code: "22023", hint: "booking_not_found" });
    for (const fn of ["accept_booking_transfer", "decline_booking_transfer", "cancel_booking_transfer"]) {
      expect(await failure(rpc(stranger, `select * from public.${fn}($1)`, [offer!.id])))
        .toMatchObject({ code: "22023", hint: "transfer_not_found" });
    }
    // The seat's holder cannot hand on seats that are not theirs either.
    expect(await failure(rpc(friend, "select * from public.transfer_booking($1, $2, 1)", [bookingId, stranger.id])))
      .toMatchObject({ code: "22023", hint: "booking_not_found" });
    expect(await state()).toEqual(before);
    await rpc(payer, "select * from public.cancel_booking_transfer($1)", [offer!.id]);
  });

  it("cannot move a seat or forge an offer by writing the tables", async () => {
    const before = await state();
    expect(await failure(rpc(stranger, "update public.booking_seats set holder_id = $2 where booking_id = $1", [bookingId, stranger.id])))
      .toMatchObject({ code: "42501" });
    expect(await failure(rpc(stranger,
      `insert into public.booking_transfers (booking_id, event_id, from_user_id, to_user_id, status, expires_at)
       values ($1, $2, $3, $4, 'accepted', now() + interval '1 day')`, [bookingId, eventId, payer.id, stranger.id])))
      .toMatchObject({ code: "42501" });
    const [seen] = await rpc<{ seats: number; codes: number }>(stranger,
      "select count(*)::int as seats, count(check_in_code)::int as codes from public.booking_seats where booking_id = $1", [bookingId]);
    expect(seen).toEqual({ seats: 0, codes: 0 });
    expect(await state()).toEqual(before);
  });

  it("the payer no longer sees the check-in code of the seat she gave away", async () => {
    const rows = await rpc<{ seat_no: number }>(payer, "select seat_no from public.booking_seats where booking_id = $1 order by seat_no", [bookingId]);
    expect(rows.map((r) => r.seat_no)).toEqual([1]);
  });
});

describe("pestering someone with offers", () => {
  it("an offer-and-withdraw loop tells the recipient once, and stops at 20 offers a day", async () => {
    const [target, pest] = [await createUser(), await createUser()];
    const [own] = await rpc<{ id: string }>(pest, "select id from public.book_event($1, $2, 1)", [eventId, ticketTypeId]);
    await confirmPayment(own!.id);
    const errors: string[] = [];
    for (let i = 0; i < 21; i++) {
      try {
        const [offer] = await rpc<{ id: string }>(pest, "select id from public.transfer_booking($1, $2)", [own!.id, target.id]);
        await rpc(pest, "select * from public.cancel_booking_transfer($1)", [offer!.id]);
      } catch (err) {
        errors.push((err as { hint?: string }).hint ?? "error");
      }
    }
    expect(errors).toEqual(["transfer_limit"]);
    const { rows } = await ownerQuery<{ n: number }>(
      "select count(*)::int as n from public.notifications where user_id = $1 and type = 'ticket_transfer_offered'", [target.id]);
    expect(rows[0]!.n).toBe(1);
  });
});

describe("unpaid and blocked", () => {
  it("a held (unpaid) booking cannot be handed on, and nobody receives a ticket across a block", async () => {
    const buyer = await createUser();
    const [held] = await rpc<{ id: string }>(buyer, "select id from public.book_event($1, $2, 1)", [eventId, ticketTypeId]);
    expect(await failure(rpc(buyer, "select * from public.transfer_booking($1, $2)", [held!.id, friend.id])))
      .toMatchObject({ code: "P0001", hint: "booking_not_confirmed" });
    await confirmPayment(held!.id);
    const enemy = await createUser();
    await rpc(enemy, "select * from public.block_user($1)", [buyer.id]);
    expect(await failure(rpc(buyer, "select * from public.transfer_booking($1, $2)", [held!.id, enemy.id])))
      .toMatchObject({ code: "P0001", hint: "recipient_not_eligible" });
    const { rows } = await ownerQuery<{ n: number }>("select count(*)::int as n from public.booking_transfers where booking_id = $1", [held!.id]);
    expect(rows[0]!.n).toBe(0);
  });
});
