/**
 * Ticket transfers under concurrency, through requests as PostgREST runs them: a guest cancelling
 * while the recipient accepts, a recipient accepting twice at once, and the door scanning a seat's
 * old code while its new holder accepts it. In every interleaving exactly one side wins and the
 * rows agree with it: never a cancelled booking with a new holder, never two holders, never a
 * checked-in seat handed on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { createGuests, createHost, publishedEvent, type RacingClients, racingClients, rpc } from "../support/events.ts";
import type { TestUser } from "../support/users.ts";

let host: TestUser;
let people: TestUser[];
let race: RacingClients;

beforeAll(async () => {
  host = await createHost("transfer_host");
  people = await createGuests(24, "transferee");
  race = await racingClients(8);
});

afterAll(async () => {
  await race?.end();
  await closeTestPools();
});

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(() => "ok", (e: { code?: string; hint?: string }) => {
    if (e.code === undefined) throw e;
    return e.hint ?? e.code;
  });

async function bookOne(guest: TestUser, eventId: string, ticketTypeId: string, quantity = 1): Promise<string> {
  const [row] = await rpc<{ id: string }>(guest, "select id from public.book_event($1, $2, $3)", [eventId, ticketTypeId, quantity]);
  return row!.id;
}

async function offer(from: TestUser, bookingId: string, to: TestUser, seatNo: number | null = null): Promise<string> {
  const [row] = await rpc<{ id: string }>(from, "select id from public.transfer_booking($1, $2, $3)", [bookingId, to.id, seatNo]);
  return row!.id;
}

describe("a guest cancelling while the recipient accepts", () => {
  it("in 8 races exactly one of them wins each time, and the booking says which", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 50 });
    for (let round = 0; round < 8; round++) {
      const seller = people[round * 2]!;
      const buyer = people[round * 2 + 1]!;
      const bookingId = await bookOne(seller, event.id, ticketTypeId);
      const transferId = await offer(seller, bookingId, buyer);

      const [cancel, accept] = await Promise.all([
        outcome(race.asUser(seller.claims, (db) => db.query("select * from public.cancel_booking($1)", [bookingId]))),
        outcome(race.asUser(buyer.claims, (db) => db.query("select * from public.accept_booking_transfer($1)", [transferId]))),
      ]);

      const { rows: [b] } = await ownerQuery<{ status: string; guest_id: string }>("select status, guest_id from public.bookings where id = $1", [bookingId]);
      const { rows: [t] } = await ownerQuery<{ status: string }>("select status from public.booking_transfers where id = $1", [transferId]);
      if (accept === "ok") {
        expect(cancel).toBe("not_your_booking");
        expect(b).toEqual({ status: "confirmed", guest_id: buyer.id });
        expect(t!.status).toBe("accepted");
      } else {
        expect(cancel).toBe("ok");
        expect(accept).toBe("transfer_void");
        expect(b).toEqual({ status: "cancelled", guest_id: seller.id });
        expect(t!.status).toBe("pending");
      }
    }
  });
});

describe("accepting the same offer from two devices at once", () => {
  it("takes it once; the second answer is transfer_not_pending", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 10, max_per_booking: 3 });
    const [payer, friend] = [people[16]!, people[17]!];
    const bookingId = await bookOne(payer, event.id, ticketTypeId, 3);
    const transferId = await offer(payer, bookingId, friend, 2);

    const answers = await Promise.all(Array.from({ length: 4 }, () =>
      outcome(race.asUser(friend.claims, (db) => db.query("select * from public.accept_booking_transfer($1)", [transferId])))));

    expect(answers.sort()).toEqual(["ok", "transfer_not_pending", "transfer_not_pending", "transfer_not_pending"]);
    const { rows } = await ownerQuery<{ seat_no: number; holder_id: string | null }>(
      "select seat_no, holder_id from public.booking_seats where booking_id = $1 order by seat_no", [bookingId]);
    expect(rows).toEqual([{ seat_no: 1, holder_id: null }, { seat_no: 2, holder_id: friend.id }, { seat_no: 3, holder_id: null }]);
  });
});

describe("the door scanning a seat while it changes hands", () => {
  it("either the old code checks in and the offer is void, or the new holder has it and the old code is dead", async () => {
    const startsSoon = new Date(Date.now() + 60 * 60 * 1000);
    const { event, ticketTypeId } = await publishedEvent(host, { starts_at: startsSoon }, { capacity: 40, max_per_booking: 2 });
    const seen = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const [payer, friend] = [people[18 + round * 2]!, people[19 + round * 2]!];
      const bookingId = await bookOne(payer, event.id, ticketTypeId, 2);
      const { rows: [seat] } = await ownerQuery<{ check_in_code: string }>(
        "select check_in_code from public.booking_seats where booking_id = $1 and seat_no = 2", [bookingId]);
      const transferId = await offer(payer, bookingId, friend, 2);

      const [scan, accept] = await Promise.all([
        outcome(race.asUser(host.claims, (db) => db.query("select * from public.check_in($1)", [seat!.check_in_code]))),
        outcome(race.asUser(friend.claims, (db) => db.query("select * from public.accept_booking_transfer($1)", [transferId]))),
      ]);
      seen.add(`${scan}/${accept}`);

      const { rows: [after] } = await ownerQuery<{ holder_id: string | null; checked_in: boolean; code: string }>(
        "select holder_id, checked_in_at is not null as checked_in, check_in_code as code from public.booking_seats where booking_id = $1 and seat_no = 2",
        [bookingId]);
      if (scan === "ok") {
        expect(accept).toBe("transfer_void");
        expect(after).toMatchObject({ holder_id: null, checked_in: true, code: seat!.check_in_code });
      } else {
        expect([scan, accept]).toEqual(["invalid_code", "ok"]);
        expect(after).toMatchObject({ holder_id: friend.id, checked_in: false });
        expect(after!.code).not.toBe(seat!.check_in_code);
      }
    }
    expect(seen.size).toBeGreaterThan(0);
  });
});
