/**
 * Holds, expiry and the waitlist, as guests live them: a paid booking holds seats until it is
 * paid or its hold runs out; seats that come back go to the people waiting, in joining order,
 * as a held booking ("offer") that lasts two hours; a party too big for what came back keeps its
 * place while smaller parties behind it are served. And when the host cancels the event,
 * everyone is told and every paid guest gets a full refund request.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools, failure } from "../support/db.ts";
import {
  type BookingRow,
  bookEvent,
  confirmPayment,
  createGuests,
  createHost,
  expireHold,
  inventory,
  publishedEvent,
  rpc,
  runExpiryJob,
  seatsLeft,
} from "../support/events.ts";
import type { TestUser } from "../support/users.ts";

let host: TestUser;

beforeAll(async () => {
  host = await createHost("wait_host");
});

afterAll(closeTestPools);

interface EntryRow {
  id: string;
  status: string;
  quantity: number;
  booking_id: string | null;
  offer_expires_at: Date | null;
}

const joinWaitlist = (guest: TestUser, eventId: string, ticketTypeId: string, quantity: number) =>
  rpc<EntryRow>(guest, "select * from public.join_waitlist($1, $2, $3)", [eventId, ticketTypeId, quantity]);

/** The guest's latest waitlist entry for the event, as they see it. */
async function entryOf(guest: TestUser, eventId: string): Promise<EntryRow | undefined> {
  const rows = await rpc<EntryRow>(
    guest,
    `select id, status, quantity, booking_id, offer_expires_at from public.waitlist_entries
      where event_id = $1 and guest_id = $2 order by created_at desc limit 1`,
    [eventId, guest.id],
  );
  return rows[0];
}

async function bookingById(id: string): Promise<BookingRow & { cancel_reason: string | null }> {
  const { rows } = await ownerQuery<BookingRow & { cancel_reason: string | null }>("select * from public.bookings where id = $1", [id]);
  return rows[0]!;
}

/** The guest's active booking for the event, if any. */
async function activeBooking(guest: TestUser, eventId: string): Promise<BookingRow | undefined> {
  const rows = await rpc<BookingRow>(
    guest,
    "select * from public.bookings where event_id = $1 and guest_id = $2 and status in ('held', 'pending_approval', 'confirmed')",
    [eventId, guest.id],
  );
  return rows[0];
}

/** Notifications of one type the user sees in their inbox. */
const inbox = (user: TestUser, type: string) =>
  rpc<{ type: string; title: string; body: string | null; data: Record<string, string> }>(
    user,
    "select type, title, body, data from public.notifications where type = $1 order by created_at",
    [type],
  );

/** Minutes from now until `at`. */
const minutesUntil = (at: Date | null): number => ((at?.getTime() ?? Number.NaN) - Date.now()) / 60_000;

describe("a sold-out paid event and its waitlist", () => {
  it("freed seats go to the people waiting, in joining order, and the offer is paid to convert", async () => {
    const [ana, ben, cleo, dan] = await createGuests(4, "queue");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 2, max_per_booking: 2, price_cents: 2000 });

    // Ana holds both seats while she pays; Ben (party of 2) and then Cleo (1) join the waitlist.
    const anaHold = await bookEvent(ana!, event.id, ticketTypeId, 2);
    expect(anaHold).toMatchObject({ status: "held", amount_cents: "4000" });
    expect(minutesUntil(anaHold.hold_expires_at)).toBeGreaterThan(14);
    expect(minutesUntil(anaHold.hold_expires_at)).toBeLessThanOrEqual(15);
    expect(await joinWaitlist(ben!, event.id, ticketTypeId, 2)).toMatchObject([{ status: "waiting", quantity: 2 }]);
    expect(await joinWaitlist(cleo!, event.id, ticketTypeId, 1)).toMatchObject([{ status: "waiting", quantity: 1 }]);

    // Dan, arriving late, is told it is sold out.
    expect(await failure(bookEvent(dan!, event.id, ticketTypeId, 1))).toMatchObject({ code: "P0001", hint: "sold_out" });

    // Ana never pays: her hold expires and Ben, first in line, gets both seats for two hours.
    await expireHold(anaHold.id);
    await runExpiryJob();
    expect(await bookingById(anaHold.id)).toMatchObject({ status: "expired", cancel_reason: "expired" });
    const benOffer = await activeBooking(ben!, event.id);
    expect(benOffer).toMatchObject({ status: "held", quantity: 2, amount_cents: "4000" });
    expect(minutesUntil(benOffer!.hold_expires_at)).toBeGreaterThan(119);
    expect(minutesUntil(benOffer!.hold_expires_at)).toBeLessThanOrEqual(120);
    expect(await entryOf(ben!, event.id)).toMatchObject({ status: "offered", booking_id: benOffer!.id });
    const benNotes = await inbox(ben!, "waitlist_offer");
    expect(benNotes).toHaveLength(1);
    expect(benNotes[0]!.data).toMatchObject({ event_id: event.id, booking_id: benOffer!.id });
    expect(await entryOf(cleo!, event.id)).toMatchObject({ status: "waiting", booking_id: null });
    expect(await inbox(cleo!, "waitlist_offer")).toEqual([]);
    expect(await seatsLeft(ticketTypeId)).toBe(0);

    // Ben lets his offer lapse: it passes to Cleo, next in line.
    await expireHold(benOffer!.id);
    await runExpiryJob();
    expect(await bookingById(benOffer!.id)).toMatchObject({ status: "expired" });
    expect(await entryOf(ben!, event.id)).toMatchObject({ status: "expired" });
    const cleoOffer = await activeBooking(cleo!, event.id);
    expect(cleoOffer).toMatchObject({ status: "held", quantity: 1, amount_cents: "2000" });
    expect(await entryOf(cleo!, event.id)).toMatchObject({ status: "offered", booking_id: cleoOffer!.id });
    expect(await inbox(cleo!, "waitlist_offer")).toHaveLength(1);

    // Nobody is waiting any more, so Dan can now book the seat that is left.
    expect(await seatsLeft(ticketTypeId)).toBe(1);
    expect(await bookEvent(dan!, event.id, ticketTypeId, 1)).toMatchObject({ status: "held" });
    expect(await seatsLeft(ticketTypeId)).toBe(0);

    // Cleo pays: the payments capability confirms the booking and her waitlist entry converts.
    expect(await confirmPayment(cleoOffer!.id)).toBe(true);
    expect(await bookingById(cleoOffer!.id)).toMatchObject({ status: "confirmed", hold_expires_at: null });
    expect(await entryOf(cleo!, event.id)).toMatchObject({ status: "converted" });
    expect(await inbox(cleo!, "booking_confirmed")).toHaveLength(1);

    const inv = await inventory(ticketTypeId);
    expect(inv).toMatchObject({ capacity: 2, taken: 2, allocated: 2 });
  });

  it("a party too big for the freed seats keeps its place while a smaller party behind it gets them", async () => {
    const [ana, xavi, trio, solo] = await createGuests(4, "skip");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 3, max_per_booking: 3, price_cents: 1000 });
    await bookEvent(ana!, event.id, ticketTypeId, 2);
    const xaviHold = await bookEvent(xavi!, event.id, ticketTypeId, 1);
    await joinWaitlist(trio!, event.id, ticketTypeId, 3);
    await joinWaitlist(solo!, event.id, ticketTypeId, 1);

    await expireHold(xaviHold.id);
    await runExpiryJob();

    expect(await entryOf(trio!, event.id)).toMatchObject({ status: "waiting", booking_id: null });
    const soloOffer = await activeBooking(solo!, event.id);
    expect(soloOffer).toMatchObject({ status: "held", quantity: 1 });
    expect(await entryOf(solo!, event.id)).toMatchObject({ status: "offered", booking_id: soloOffer!.id });
    expect(await seatsLeft(ticketTypeId)).toBe(0);
  });

  it("while a party waits, a newcomer is told sold_out even though seats are free", async () => {
    const [ana, xavi, trio, dan] = await createGuests(4, "hold");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 3, max_per_booking: 3, price_cents: 1000 });
    await bookEvent(ana!, event.id, ticketTypeId, 1);
    const xaviHold = await bookEvent(xavi!, event.id, ticketTypeId, 2);
    await joinWaitlist(trio!, event.id, ticketTypeId, 3);

    await expireHold(xaviHold.id);
    await runExpiryJob();

    expect(await seatsLeft(ticketTypeId)).toBe(2);
    expect(await entryOf(trio!, event.id)).toMatchObject({ status: "waiting" });
    expect(await failure(bookEvent(dan!, event.id, ticketTypeId, 1))).toMatchObject({ code: "P0001", hint: "sold_out" });
  });

  it("a party that fits the free seats and joins the waitlist behind a bigger party is offered them at once", async () => {
    // Two seats are free but reserved for the waitlist, where a party of 3 cannot use them.
    // Dan, told sold_out, joins the waitlist with a party of 2: the seats fit him, so he must
    // get the offer now rather than wait for some later cancellation that may never come.
    const [ana, xavi, trio, dan] = await createGuests(4, "stuck");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 3, max_per_booking: 3, price_cents: 1000 });
    await bookEvent(ana!, event.id, ticketTypeId, 1);
    const xaviHold = await bookEvent(xavi!, event.id, ticketTypeId, 2);
    await joinWaitlist(trio!, event.id, ticketTypeId, 3);
    await expireHold(xaviHold.id);
    await runExpiryJob();
    expect(await seatsLeft(ticketTypeId)).toBe(2);

    await joinWaitlist(dan!, event.id, ticketTypeId, 2);
    await runExpiryJob();

    expect(await entryOf(dan!, event.id)).toMatchObject({ status: "offered" });
    expect(await activeBooking(dan!, event.id)).toMatchObject({ status: "held", quantity: 2 });
    expect(await seatsLeft(ticketTypeId)).toBe(0);
  });

  it("a payment that lands after the hold expired still confirms the booking when the seat is free", async () => {
    const [ana] = await createGuests(1, "late");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 1, max_per_booking: 1, price_cents: 1500 });
    const anaHold = await bookEvent(ana!, event.id, ticketTypeId, 1);
    await expireHold(anaHold.id);
    await runExpiryJob();
    expect(await seatsLeft(ticketTypeId)).toBe(1);

    expect(await confirmPayment(anaHold.id)).toBe(true);

    expect(await bookingById(anaHold.id)).toMatchObject({ status: "confirmed" });
    expect(await seatsLeft(ticketTypeId)).toBe(0);
    expect(await inventory(ticketTypeId)).toMatchObject({ taken: 1, allocated: 1 });
  });

  it("a payment that lands after the seat went to the waitlist is refused (to be refunded) and the offer stands", async () => {
    const [ben, cleo] = await createGuests(2, "toolate");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 1, max_per_booking: 1, price_cents: 1500 });
    const benHold = await bookEvent(ben!, event.id, ticketTypeId, 1);
    await joinWaitlist(cleo!, event.id, ticketTypeId, 1);
    await expireHold(benHold.id);
    await runExpiryJob();
    const cleoOffer = await activeBooking(cleo!, event.id);
    expect(cleoOffer).toMatchObject({ status: "held" });

    expect(await confirmPayment(benHold.id)).toBe(false);

    expect(await bookingById(benHold.id)).toMatchObject({ status: "expired" });
    expect(await bookingById(cleoOffer!.id)).toMatchObject({ status: "held" });
    expect(await inventory(ticketTypeId)).toMatchObject({ taken: 1, allocated: 1 });
  });
});

describe("offers on a free event", () => {
  it("a waiting guest accepts a free offer and is confirmed", async () => {
    const [ana, ben, cleo] = await createGuests(3, "accept");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 1, max_per_booking: 1 });
    const anaBooking = await bookEvent(ana!, event.id, ticketTypeId, 1);
    await joinWaitlist(ben!, event.id, ticketTypeId, 1);

    await rpc(ana!, "select * from public.cancel_booking($1)", [anaBooking.id]);
    const offer = await activeBooking(ben!, event.id);
    expect(offer).toMatchObject({ status: "held", amount_cents: "0" });
    expect(await inbox(ben!, "waitlist_offer")).toHaveLength(1);

    // Nobody else can take Ben's offer.
    expect(await failure(rpc(cleo!, "select * from public.accept_waitlist_offer($1)", [offer!.id])))
      .toMatchObject({ code: "22023", hint: "booking_not_found" });

    const [accepted] = await rpc<BookingRow>(ben!, "select * from public.accept_waitlist_offer($1)", [offer!.id]);
    expect(accepted).toMatchObject({ id: offer!.id, status: "confirmed", hold_expires_at: null });
    expect(await entryOf(ben!, event.id)).toMatchObject({ status: "converted" });
    expect(await inbox(ben!, "booking_confirmed")).toHaveLength(1);
    expect(await failure(rpc(ben!, "select * from public.accept_waitlist_offer($1)", [offer!.id])))
      .toMatchObject({ code: "P0001", hint: "no_open_offer" });
  });

  it("a paid offer cannot be accepted without paying", async () => {
    const [ana, ben] = await createGuests(2, "mustpay");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 1, max_per_booking: 1, price_cents: 900 });
    const anaHold = await bookEvent(ana!, event.id, ticketTypeId, 1);
    await joinWaitlist(ben!, event.id, ticketTypeId, 1);
    await rpc(ana!, "select * from public.cancel_booking($1)", [anaHold.id]);
    const offer = await activeBooking(ben!, event.id);

    expect(await failure(rpc(ben!, "select * from public.accept_waitlist_offer($1)", [offer!.id])))
      .toMatchObject({ code: "P0001", hint: "payment_required" });
  });

  it("a guest who leaves the waitlist with an open offer passes it to the next in line", async () => {
    const [ana, ben, cleo] = await createGuests(3, "leave");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 1, max_per_booking: 1 });
    const anaBooking = await bookEvent(ana!, event.id, ticketTypeId, 1);
    await joinWaitlist(ben!, event.id, ticketTypeId, 1);
    await joinWaitlist(cleo!, event.id, ticketTypeId, 1);
    await rpc(ana!, "select * from public.cancel_booking($1)", [anaBooking.id]);
    const benOffer = await activeBooking(ben!, event.id);
    expect(benOffer).toMatchObject({ status: "held" });

    const [left] = await rpc<EntryRow>(ben!, "select * from public.leave_waitlist($1)", [event.id]);

    expect(left).toMatchObject({ status: "left" });
    expect(await bookingById(benOffer!.id)).toMatchObject({ status: "cancelled" });
    expect(await activeBooking(ben!, event.id)).toBeUndefined();
    const cleoOffer = await activeBooking(cleo!, event.id);
    expect(cleoOffer).toMatchObject({ status: "held", quantity: 1 });
    expect(await entryOf(cleo!, event.id)).toMatchObject({ status: "offered", booking_id: cleoOffer!.id });
    expect(await inventory(ticketTypeId)).toMatchObject({ taken: 1, allocated: 1 });
    expect(await failure(rpc(ben!, "select * from public.leave_waitlist($1)", [event.id])))
      .toMatchObject({ code: "P0001", hint: "not_waiting" });
  });

  it("a request holds no seat until approved; seats an approved guest frees go to the waitlist as a request", async () => {
    const [ana, ben, cy] = await createGuests(3, "decline");
    const { event, ticketTypeId } = await publishedEvent(host, { requires_approval: true }, { capacity: 1, max_per_booking: 1 });
    const request = await bookEvent(ana!, event.id, ticketTypeId, 1);
    expect(request).toMatchObject({ status: "pending_approval" });
    expect(await inventory(ticketTypeId)).toMatchObject({ taken: 0, allocated: 0 });
    const other = await bookEvent(cy!, event.id, ticketTypeId, 1);
    await rpc(host, "select * from public.decline_booking($1)", [other.id]);
    expect(await inbox(cy!, "booking_declined")).toHaveLength(1);
    await rpc(host, "select * from public.approve_booking($1)", [request.id]);
    expect(await inventory(ticketTypeId)).toMatchObject({ taken: 1, allocated: 1 });
    await joinWaitlist(ben!, event.id, ticketTypeId, 1);

    await rpc(ana!, "select * from public.cancel_booking($1)", [request.id]);

    expect(await bookingById(request.id)).toMatchObject({ status: "cancelled" });
    expect(await activeBooking(ben!, event.id)).toMatchObject({ status: "held" });
    // The event needs approval, so accepting the offer makes a request for the host.
    const offer = await activeBooking(ben!, event.id);
    const [accepted] = await rpc<BookingRow>(ben!, "select * from public.accept_waitlist_offer($1)", [offer!.id]);
    expect(accepted).toMatchObject({ status: "pending_approval" });
    const [approved] = await rpc<BookingRow>(host, "select * from public.approve_booking($1)", [offer!.id]);
    expect(approved).toMatchObject({ status: "confirmed" });
  });
});

describe("the host cancels the event", () => {
  async function busyEvent() {
    const [paid, unpaid, free, vip, w1, w2] = await createGuests(6, "evcancel");
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 5, max_per_booking: 2, price_cents: 1500 });
    const vipType = (await rpc<{ id: string }>(host,
      `insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
       values ($1, 'VIP', 5000, 'EUR', 1, 1) returning id`, [event.id]))[0]!.id;
    const freeType = (await rpc<{ id: string }>(host,
      `insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
       values ($1, 'Volunteer', 0, 'EUR', 3, 1) returning id`, [event.id]))[0]!.id;

    const paidBooking = await bookEvent(paid!, event.id, ticketTypeId, 2);
    expect(await confirmPayment(paidBooking.id)).toBe(true);
    const unpaidHold = await bookEvent(unpaid!, event.id, ticketTypeId, 1);
    const freeBooking = await bookEvent(free!, event.id, freeType, 1);
    const vipHold = await bookEvent(vip!, event.id, vipType, 1);
    await joinWaitlist(w1!, event.id, vipType, 1);
    await joinWaitlist(w2!, event.id, vipType, 1);
    await expireHold(vipHold.id);
    await runExpiryJob(); // w1 now has an open offer on the VIP seat; w2 is still waiting
    const w1Offer = await activeBooking(w1!, event.id);
    expect(w1Offer).toMatchObject({ status: "held" });

    await rpc(host, "select * from public.cancel_event($1, $2)", [event.id, "The venue flooded."]);
    return { event, types: [ticketTypeId, vipType, freeType], paid: paid!, unpaid: unpaid!, free: free!, w1: w1!, w2: w2!,
             paidBooking, unpaidHold, freeBooking, w1Offer: w1Offer! };
  }

  it("every booking is cancelled, paid guests get a full refund request, everyone is told, and the seats are freed", async () => {
    const s = await busyEvent();

    for (const id of [s.paidBooking.id, s.unpaidHold.id, s.freeBooking.id, s.w1Offer.id]) {
      expect(await bookingById(id)).toMatchObject({ status: "cancelled", cancel_reason: "event_cancelled" });
    }
    const { rows: refunds } = await ownerQuery(
      `select r.booking_id, r.amount_cents::int as amount_cents, r.currency, r.reason, r.status
         from private.refund_requests r join public.bookings b on b.id = r.booking_id where b.event_id = $1`,
      [s.event.id],
    );
    expect(refunds).toEqual([
      { booking_id: s.paidBooking.id, amount_cents: 3000, currency: "EUR", reason: "event_cancelled", status: "pending" },
    ]);
    for (const guest of [s.paid, s.unpaid, s.free, s.w1, s.w2]) {
      const notes = await inbox(guest, "event_cancelled");
      expect(notes).toHaveLength(1);
      expect(notes[0]!.body).toContain("The venue flooded.");
    }
    expect((await inbox(s.paid, "event_cancelled"))[0]!.body).toContain("full refund");
    expect((await inbox(s.unpaid, "event_cancelled"))[0]!.body).not.toContain("refund");
    expect(await entryOf(s.w2, s.event.id)).toMatchObject({ status: "cancelled" });
    for (const type of s.types) {
      const inv = await inventory(type);
      expect(inv).toMatchObject({ taken: 0, allocated: 0 });
    }
    const [again] = await createGuests(1, "after");
    expect(await failure(bookEvent(again!, s.event.id, s.types[0]!, 1))).toMatchObject({ code: "P0001", hint: "event_cancelled" });
    // Cancelling twice changes nothing.
    await rpc(host, "select * from public.cancel_event($1, null)", [s.event.id]);
    const { rows: [count] } = await ownerQuery<{ n: number }>(
      "select count(*)::int as n from private.refund_requests r join public.bookings b on b.id = r.booking_id where b.event_id = $1",
      [s.event.id],
    );
    expect(count?.n).toBe(1);
  });

  it("a guest holding a waitlist offer sees it closed, not still open, once the event is cancelled", async () => {
    const s = await busyEvent();
    expect(await entryOf(s.w1, s.event.id)).toMatchObject({ status: "cancelled" });
  });

  it("only the host can cancel the event", async () => {
    const [guest] = await createGuests(1, "notyours");
    const { event } = await publishedEvent(host, {}, { capacity: 5 });
    expect(await failure(rpc(guest!, "select * from public.cancel_event($1, null)", [event.id])))
      .toMatchObject({ code: "42501", hint: "not_your_event" });
  });
});
