/**
 * Attack class: getting into an invite-only event without being invited, and using invitations
 * to pester people. A stranger, the person the host blocked, a revoked invitee and a guest of
 * another event try every door an app has (the events view, book_event, invite links, the
 * invitation RPCs, the tables directly); a host loops revoke-and-invite on one person. Each is
 * refused with its documented code, or sees nothing, and nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, asAnon, closeTestPools, failure } from "../support/db.ts";
import { createGuests, createHost, publishedEvent, rpc } from "../support/events.ts";
import { createInviteLink } from "../support/ticketing.ts";
import { createUser, type TestUser } from "../support/users.ts";

let host: TestUser;
let invitee: TestUser;
let stranger: TestUser;
let blocked: TestUser;
let eventId: string;
let ticketTypeId: string;
let link: { id: string; token: string };

beforeAll(async () => {
  host = await createHost("intruded_host");
  [invitee, stranger, blocked] = await Promise.all([createUser(), createUser(), createUser()]);
  await rpc(host, "select * from public.block_user($1)", [blocked.id]);
  ({ event: { id: eventId }, ticketTypeId } = await publishedEvent(host, { visibility: "private" }, { capacity: 20 }));
  await rpc(host, "select * from public.invite_to_event($1, $2)", [eventId, [invitee.id]]);
  link = await createInviteLink(host, eventId, 50);
});

afterAll(closeTestPools);

async function counts(): Promise<{ invitations: number; bookings: number; uses: number }> {
  const { rows } = await ownerQuery<{ invitations: number; bookings: number; uses: number }>(
    `select (select count(*)::int from public.event_invitations where event_id = $1) as invitations,
            (select count(*)::int from public.bookings where event_id = $1) as bookings,
            (select uses from public.event_invite_links where id = $2) as uses`, [eventId, link.id]);
  return rows[0]!;
}

describe("a stranger probing a private event", () => {
  it("sees nothing through the events view, ticket types, search or the feed", async () => {
    const [seen] = await rpc<{ events: number; tickets: number; search: number }>(stranger,
      `select (select count(*)::int from public.events where id = $1) as events,
              (select count(*)::int from public.ticket_types where event_id = $1) as tickets,
              (select count(*)::int from public.search_events() s where s.id = $1) as search`, [eventId]);
    expect(seen).toEqual({ events: 0, tickets: 0, search: 0 });
    const anon = await asAnon((db) => db.query<{ n: number }>("select count(*)::int as n from public.events where id = $1", [eventId]));
    expect(anon.rows[0]!.n).toBe(0);
  });

  it("cannot book it, invite anyone, make a link, or read the invitations and links", async () => {
    const before = await counts();
    expect(await failure(rpc(stranger, "select * from public.book_event($1, $2, 1)", [eventId, ticketTypeId])))
      .toMatchObject({ code: "22023", hint: "event_not_found" });
    expect(await failure(rpc(stranger, "select * from public.invite_to_event($1, $2)", [eventId, [stranger.id]])))
      .toMatchObject({ code: "22023", hint: "event_not_found" });
    expect(await failure(rpc(stranger, "select * from public.create_invite_link($1)", [eventId])))
      .toMatchObject({ code: "22023", hint: "event_not_found" });
    expect(await failure(rpc(stranger, "select * from public.revoke_invitation($1, $2)", [eventId, invitee.id])))
      .toMatchObject({ code: "42501", hint: "not_event_staff" });
    expect(await failure(rpc(stranger, "select * from public.revoke_invite_link($1)", [link.id])))
      .toMatchObject({ code: "22023", hint: "invite_link_not_found" });
    const [read] = await rpc<{ invitations: number; links: number }>(stranger,
      `select (select count(*)::int from public.event_invitations where event_id = $1) as invitations,
              (select count(*)::int from public.event_invite_links where event_id = $1) as links`, [eventId]);
    expect(read).toEqual({ invitations: 0, links: 0 });
    expect(await counts()).toEqual(before);
  });

  it("cannot invite themselves by writing the table, nor bump a link's uses", async () => {
    const before = await counts();
    expect(await failure(rpc(stranger, "insert into public.event_invitations (event_id, user_id) values ($1, $2)", [eventId, stranger.id])))
      .toMatchObject({ code: "42501" });
    expect(await failure(rpc(stranger, "update public.event_invite_links set uses = 0 where id = $1", [link.id])))
      .toMatchObject({ code: "42501" });
    expect(await counts()).toEqual(before);
  });

  it("guessing tokens gets invite_link_not_found, whatever the shape", async () => {
    const before = await counts();
    for (const guess of ["", "x".repeat(24), link.token.slice(0, 23) + (link.token.endsWith("A") ? "B" : "A"), "' or 1=1 --", "ä".repeat(24), "a".repeat(5000)]) {
      expect(await failure(rpc(stranger, "select * from public.redeem_invite_link($1)", [guess])))
        .toMatchObject({ code: "22023", hint: "invite_link_not_found" });
    }
    expect(await counts()).toEqual(before);
  });
});

describe("the person the host blocked", () => {
  it("is not_invitable by name (the same answer as an unknown id) and a link does not let them in", async () => {
    const before = await counts();
    const rows = await rpc<{ user_id: string; status: string }>(host, "select * from public.invite_to_event($1, $2)", [eventId, [blocked.id]]);
    expect(rows).toEqual([{ user_id: blocked.id, status: "not_invitable" }]);
    expect(await failure(rpc(blocked, "select * from public.redeem_invite_link($1)", [link.token])))
      .toMatchObject({ code: "22023", hint: "invite_link_not_found" });
    expect(await counts()).toEqual(before);
  });
});

describe("an invitee the host removed", () => {
  it("loses the event and cannot come back through a link", async () => {
    const removed = await createUser();
    await rpc(host, "select * from public.invite_to_event($1, $2)", [eventId, [removed.id]]);
    await rpc(host, "select * from public.revoke_invitation($1, $2)", [eventId, removed.id]);
    const before = await counts();
    const [seen] = await rpc<{ n: number }>(removed, "select count(*)::int as n from public.events where id = $1", [eventId]);
    expect(seen!.n).toBe(0);
    expect(await failure(rpc(removed, "select * from public.redeem_invite_link($1)", [link.token])))
      .toMatchObject({ code: "P0001", hint: "invitation_revoked" });
    expect(await failure(rpc(removed, "select * from public.book_event($1, $2, 1)", [eventId, ticketTypeId])))
      .toMatchObject({ code: "22023", hint: "event_not_found" });
    expect(await counts()).toEqual(before);
  });
});

describe("a host pestering people with invitations", () => {
  it("a revoke-and-invite loop tells the person once a day, not once per loop", async () => {
    const target = await createUser();
    for (let i = 0; i < 10; i++) {
      await rpc(host, "select * from public.invite_to_event($1, $2)", [eventId, [target.id]]);
      await rpc(host, "select * from public.revoke_invitation($1, $2)", [eventId, target.id]);
    }
    const { rows } = await ownerQuery<{ n: number }>(
      "select count(*)::int as n from public.notifications where user_id = $1 and type = 'event_invitation'", [target.id]);
    expect(rows[0]!.n).toBe(1);
  });

  it("someone who declined is never told again", async () => {
    const target = await createUser();
    await rpc(host, "select * from public.invite_to_event($1, $2)", [eventId, [target.id]]);
    await rpc(target, "select * from public.decline_invitation($1)", [eventId]);
    for (let i = 0; i < 5; i++) {
      const [row] = await rpc<{ status: string }>(host, "select * from public.invite_to_event($1, $2)", [eventId, [target.id]]);
      expect(row!.status).toBe("already_invited");
    }
    const { rows } = await ownerQuery<{ n: number }>(
      "select count(*)::int as n from public.notifications where user_id = $1 and type = 'event_invitation'", [target.id]);
    expect(rows[0]!.n).toBe(1);
  });

  it("more than 100 people per call, or 500 new invitations per event per day, are refused and nothing is written", async () => {
    const { event } = await publishedEvent(host, { visibility: "private" });
    expect(await failure(rpc(host, "select * from public.invite_to_event($1, $2)", [event.id, Array.from({ length: 101 }, () => crypto.randomUUID())])))
      .toMatchObject({ code: "22023", hint: "too_many_invitees" });
    const crowd = await createGuests(501, "crowd");
    for (let i = 0; i < 500; i += 100) {
      await rpc(host, "select * from public.invite_to_event($1, $2)", [event.id, crowd.slice(i, i + 100).map((p) => p.id)]);
    }
    expect(await failure(rpc(host, "select * from public.invite_to_event($1, $2)", [event.id, [crowd[500]!.id]])))
      .toMatchObject({ code: "P0001", hint: "invitation_limit" });
    const { rows } = await ownerQuery<{ n: number; told: number }>(
      `select count(*)::int as n, (select count(*)::int from public.notifications where user_id = $2 and type = 'event_invitation') as told
         from public.event_invitations where event_id = $1`, [event.id, crowd[500]!.id]);
    expect(rows[0]).toEqual({ n: 500, told: 0 });
  });
});
