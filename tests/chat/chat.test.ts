/**
 * Chat against the real database, one PostgREST-like request per transaction: concurrent
 * senders leave exact unread counts and a gap-free order, concurrent retries with one client id
 * send one message, a refunded guest loses the event chat on their very next request, and the
 * broadcasts land on the right private topics.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, asServiceRole, asUser, closeTestPools, failure, one } from "../support/db.ts";
import { groupWithMembers } from "../support/groups.ts";
import { createUser, type TestUser } from "../support/users.ts";

interface MessageRow {
  id: string;
  seq: string;
  conversation_id: string;
  body: string | null;
}

const send = (user: TestUser, conversationId: string, body: string, clientId: string | null = null): Promise<MessageRow> =>
  asUser(user.claims, (db) =>
    one<MessageRow>(db, "select id, seq, conversation_id, body from public.send_message($1, 'text', $2, p_client_id => $3)", [
      conversationId,
      body,
      clientId,
    ]),
  );

const unreadCount = (user: TestUser, conversationId: string): Promise<number> =>
  asUser(user.claims, async (db) => {
    const row = await one<{ unread_count: number }>(
      db,
      "select unread_count from public.my_conversations(null, 100) where conversation_id = $1",
      [conversationId],
    );
    return row.unread_count;
  });

/** Rejects with the database error, so tests can assert SQLSTATE and hint. */
afterAll(async () => {
  await closeTestPools();
});

describe("sending concurrently", () => {
  let senders: TestUser[];
  let reader: TestUser;
  let groupId: string;

  beforeAll(async () => {
    senders = await Promise.all([createUser(), createUser(), createUser(), createUser()]);
    reader = await createUser();
    const [owner] = senders;
    if (owner === undefined) throw new Error("no owner");
    groupId = await groupWithMembers(owner, [...senders.slice(1), reader], "Race");
  });

  it("gives an exact unread count and a gap-free order after 4 people send 10 messages each at once", async () => {
    await Promise.all(
      senders.map(async (sender, s) => {
        for (let i = 0; i < 10; i += 1) await send(sender, groupId, `sender ${s} message ${i}`);
      }),
    );
    expect(await unreadCount(reader, groupId)).toBe(40);
    // Each sender's own messages are read by sending; they see the others' messages after their last one.
    const { rows } = await ownerQuery<{ seq: string }>(
      "select seq from public.messages where conversation_id = $1 order by seq",
      [groupId],
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    const last = await ownerQuery<{ last_seq: string }>("select last_seq from public.conversations where id = $1", [groupId]);
    expect(Number(last.rows[0]?.last_seq)).toBe(41);
  });

  it("sends one message when the same client id is retried by several requests at once", async () => {
    const [first] = senders;
    if (first === undefined) throw new Error("no sender");
    const answers = await Promise.all(Array.from({ length: 6 }, () => send(first, groupId, "exactly once", "retry-key-1")));
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    const { rows } = await ownerQuery<{ n: string }>(
      "select count(*) as n from public.messages where sender_id = $1 and client_id = 'retry-key-1'",
      [first.id],
    );
    expect(Number(rows[0]?.n)).toBe(1);
    const seqs = await ownerQuery<{ gaps: string }>(
      "select max(seq) - count(*) as gaps from public.messages where conversation_id = $1",
      [groupId],
    );
    expect(Number(seqs.rows[0]?.gaps)).toBe(0);
  });

  it("marks read exactly: the reader is back to zero, and a later message counts one", async () => {
    await asUser(reader.claims, (db) => db.query("select public.mark_conversation_read($1)", [groupId]));
    expect(await unreadCount(reader, groupId)).toBe(0);
    const [first] = senders;
    if (first === undefined) throw new Error("no sender");
    await send(first, groupId, "one more");
    expect(await unreadCount(reader, groupId)).toBe(1);
  });
});

describe("event chat follows the booking", () => {
  it("lets a refunded guest read nothing on their next request", async () => {
    const host = await createUser();
    const guest = await createUser();
    await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [host.id]);
    const { eventId, ticketTypeId } = await asUser(host.claims, async (db) => {
      const event = await one<{ id: string }>(
        db,
        `insert into public.events (title, starts_at, ends_at, timezone)
         values ('Vitest social', now() + interval '4 days', now() + interval '4 days 2 hours', 'UTC') returning id`,
      );
      const ticket = await one<{ id: string }>(
        db,
        "insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values ($1, 'Free', 0, 'EUR', 5) returning id",
        [event.id],
      );
      await db.query("select public.publish_event($1)", [event.id]);
      return { eventId: event.id, ticketTypeId: ticket.id };
    });
    const booking = await asUser(guest.claims, (db) =>
      one<{ id: string; status: string }>(db, "select id, status from public.book_event($1, $2, 1)", [eventId, ticketTypeId]),
    );
    expect(booking.status).toBe("confirmed");
    const chat = await ownerQuery<{ id: string }>("select id from public.conversations where event_id = $1", [eventId]);
    const chatId = chat.rows[0]?.id ?? "";
    await send(host, chatId, "Welcome, everyone!");

    const before = await asUser(guest.claims, (db) => db.query("select body from public.conversation_messages($1)", [chatId]));
    expect(before.rows).toEqual([{ body: "Welcome, everyone!" }]);

    // The payments capability refunds the booking (as the service role).
    await asServiceRole((db) => db.query("update public.bookings set status = 'refunded' where id = $1", [booking.id]));

    const denied = await failure(asUser(guest.claims, (db) => db.query("select * from public.conversation_messages($1)", [chatId])));
    expect({ code: denied.code, hint: denied.hint }).toEqual({ code: "42501", hint: "not_a_member" });
    const rows = await asUser(guest.claims, (db) => db.query("select id from public.messages where conversation_id = $1", [chatId]));
    expect(rows.rowCount).toBe(0);
    const refused = await failure(send(guest, chatId, "Can I still talk?"));
    expect(refused.hint).toBe("not_a_member");
    const list = await asUser(guest.claims, (db) => db.query("select conversation_id from public.my_conversations()"));
    expect(list.rows).toEqual([]);
  });
});

describe("broadcasts", () => {
  it("puts message_created on conversation:<id> as a private broadcast, and conversation_activity on each member's user:<id>", async () => {
    const ana = await createUser();
    const ben = await createUser();
    const dm = await asUser(ana.claims, (db) =>
      one<{ id: string }>(db, "select id from public.start_direct_conversation($1)", [ben.id]),
    );
    const message = await send(ana, dm.id, "Broadcast me", "ana-b-1");
    const { rows } = await ownerQuery<{ topic: string; event: string; private: boolean; body: string | null; message_id: string | null }>(
      `select topic, event, private, payload ->> 'body' as body, coalesce(payload ->> 'message_id', payload ->> 'id') as message_id
         from realtime.messages
        where (payload ->> 'id' = $1 or payload ->> 'message_id' = $1) order by topic`,
      [message.id],
    );
    expect(rows).toEqual(
      [
        { topic: `conversation:${dm.id}`, event: "message_created", private: true, body: "Broadcast me", message_id: message.id },
        { topic: `user:${ana.id}`, event: "conversation_activity", private: true, body: null, message_id: message.id },
        { topic: `user:${ben.id}`, event: "conversation_activity", private: true, body: null, message_id: message.id },
      ].sort((a, b) => a.topic.localeCompare(b.topic)),
    );
  });
});
