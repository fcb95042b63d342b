/**
 * Attack classes: people outside a thing acting on it — a stranger, a removed member, the
 * blocked person, a refunded guest, a revoked admin. The review found anyone outside a
 * conversation could delete any of its messages by id (a NULL permission test never raised),
 * and that cancel_event, delete_message and admin_delete_account trusted an admin claim until
 * the token expired. Each attempt here must be refused with 42501 and leave the data as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, asServiceRole, closeTestPools, failure, one, ownerPool } from "../support/db.ts";
import { addTicketType, bookEvent, createEvent, createHost, publishEvent, publishedEvent, rpc } from "../support/events.ts";
import { createUser, issueAccessToken, type TestUser } from "../support/users.ts";

afterAll(closeTestPools);

const messageState = (id: string): Promise<{ body: string | null; deleted_at: Date | null }> =>
  one(ownerPool(), "select body, deleted_at from public.messages where id = $1", [id]);

const send = async (user: TestUser, conversationId: string, body: string): Promise<string> => {
  const [row] = await rpc<{ id: string }>(user, "select id from public.send_message($1, 'text', $2)", [conversationId, body]);
  return row?.id ?? "";
};

const deleteAs = (user: TestUser, messageId: string) => rpc(user, "select * from public.delete_message($1)", [messageId]);

describe("deleting someone else's message", () => {
  let ana: TestUser;
  let ben: TestUser;
  let cal: TestUser;
  let stranger: TestUser;
  let groupId: string;
  let message: string;

  beforeAll(async () => {
    [ana, ben, cal, stranger] = await Promise.all([createUser(), createUser(), createUser(), createUser()]);
    // Ben and Cal follow Ana, so she may add them to her group.
    for (const member of [ben, cal]) await rpc(member, "select * from public.follow_user($1)", [ana.id]);
    const [group] = await rpc<{ id: string }>(ana, "select id from public.create_group_conversation('Book club', $1)", [[ben.id, cal.id]]);
    groupId = group?.id ?? "";
    message = await send(ben, groupId, "Chapter 3 by Friday");
  });

  it("a stranger who never belonged to the conversation is refused", async () => {
    const err = await failure(deleteAs(stranger, message));
    expect([err.code, err.hint]).toEqual(["42501", "not_a_member"]);
    expect(await messageState(message)).toMatchObject({ body: "Chapter 3 by Friday", deleted_at: null });
  });

  it("a member who was removed is refused", async () => {
    await rpc(ana, "select * from public.remove_conversation_member($1, $2)", [groupId, cal.id]);
    const err = await failure(deleteAs(cal, message));
    expect(err.code).toBe("42501");
    expect(await messageState(message)).toMatchObject({ body: "Chapter 3 by Friday", deleted_at: null });
  });

  it("the person the author blocked is refused in their direct conversation", async () => {
    const [direct] = await rpc<{ id: string }>(ana, "select id from public.start_direct_conversation($1)", [stranger.id]);
    const words = await send(ana, direct?.id ?? "", "Please stop");
    await rpc(ana, "select * from public.block_user($1)", [stranger.id]);
    const err = await failure(deleteAs(stranger, words));
    expect(err.code).toBe("42501");
    expect(await messageState(words)).toMatchObject({ body: "Please stop", deleted_at: null });
  });

  it("a guest whose booking was cancelled is refused in the event chat", async () => {
    const host = await createHost("abuse_host");
    const guest = await createUser();
    const { event, ticketTypeId } = await publishedEvent(host);
    const booking = await bookEvent(guest, event.id, ticketTypeId, 1);
    const { rows } = await ownerQuery<{ id: string }>("select id from public.conversations where event_id = $1", [event.id]);
    const chat = rows[0]?.id ?? "";
    const welcome = await send(host, chat, "Doors at 8");
    await rpc(guest, "select * from public.cancel_booking($1)", [booking.id]);
    const err = await failure(deleteAs(guest, welcome));
    expect(err.code).toBe("42501");
    expect(await messageState(welcome)).toMatchObject({ body: "Doors at 8", deleted_at: null });
  });

  it("while the author and the conversation's admin still can", async () => {
    const own = await send(ben, groupId, "typo");
    await deleteAs(ben, own);
    expect((await messageState(own)).deleted_at).not.toBeNull();
    await deleteAs(ana, message);
    expect((await messageState(message)).deleted_at).not.toBeNull();
  });
});

describe("a revoked admin, with the token issued while they were one", () => {
  let admin: TestUser;
  let host: TestUser;
  let victim: TestUser;
  let eventId: string;
  let messageId: string;

  beforeAll(async () => {
    admin = await createUser();
    await asServiceRole((db) => db.query("select public.set_user_admin($1, true)", [admin.id]));
    admin = { ...admin, ...(await issueAccessToken(admin.id)) };
    host = await createHost("revoked_host");
    victim = await createUser();
    const event = await createEvent(host);
    await addTicketType(host, event.id);
    await publishEvent(host, event.id);
    eventId = event.id;
    const [direct] = await rpc<{ id: string }>(victim, "select id from public.start_direct_conversation($1)", [host.id]);
    messageId = await send(victim, direct?.id ?? "", "See you there");
    // Revoked now; the old token still says admin for up to an hour.
    await asServiceRole((db) => db.query("select public.set_user_admin($1, false)", [admin.id]));
  });

  it("cannot cancel someone else's event", async () => {
    const err = await failure(rpc(admin, "select * from public.cancel_event($1, 'abuse')", [eventId]));
    expect([err.code, err.hint]).toEqual(["42501", "not_your_event"]);
    const { rows } = await ownerQuery<{ status: string }>("select status from private.events where id = $1", [eventId]);
    expect(rows[0]?.status).toBe("published");
  });

  it("cannot delete other people's messages", async () => {
    const err = await failure(deleteAs(admin, messageId));
    expect(err.code).toBe("42501");
    expect(await messageState(messageId)).toMatchObject({ body: "See you there", deleted_at: null });
  });

  it("cannot delete an account", async () => {
    const { rows } = await ownerQuery<{ username: string }>("select username from public.profiles where id = $1", [victim.id]);
    const err = await failure(rpc(admin, "select public.admin_delete_account($1, $2)", [victim.id, rows[0]?.username]));
    expect([err.code, err.hint]).toEqual(["42501", "admin_only"]);
    const after = await ownerQuery<{ deleted_at: Date | null }>("select deleted_at from public.profiles where id = $1", [victim.id]);
    expect(after.rows[0]?.deleted_at).toBeNull();
  });

  it("cannot use the admin RPCs", async () => {
    const err = await failure(rpc(admin, "select * from public.admin_suspend_user($1, 'because')", [victim.id]));
    expect([err.code, err.hint]).toEqual(["42501", "admin_only"]);
  });
});

describe("a guest the host blocked, waiting for a seat", () => {
  it("gets no waitlist offer when a seat frees up; the next person in line does", async () => {
    const host = await createHost("wl_host");
    const [holder, blocked, patient] = await Promise.all([createUser(), createUser(), createUser()]);
    const { event, ticketTypeId } = await publishedEvent(host, {}, { capacity: 1, max_per_booking: 1 });
    const seat = await bookEvent(holder, event.id, ticketTypeId, 1);
    await rpc(blocked, "select * from public.join_waitlist($1, $2, 1)", [event.id, ticketTypeId]);
    await rpc(patient, "select * from public.join_waitlist($1, $2, 1)", [event.id, ticketTypeId]);
    await rpc(host, "select * from public.block_user($1)", [blocked.id]);
    await rpc(holder, "select * from public.cancel_booking($1)", [seat.id]);
    const { rows } = await ownerQuery<{ guest_id: string; status: string }>(
      "select guest_id, status from public.bookings where event_id = $1 and status = 'confirmed' or (event_id = $1 and status = 'held')",
      [event.id]);
    expect(rows.map((r) => r.guest_id)).toEqual([patient.id]);
    const offers = await ownerQuery<{ n: string }>(
      "select count(*) as n from public.notifications where user_id = $1 and type = 'waitlist_offer'", [blocked.id]);
    expect(offers.rows[0]?.n).toBe("0");
  });
});
