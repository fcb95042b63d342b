/**
 * Invitations under concurrency, through requests as PostgREST runs them: an invite link is
 * never used more often than the host allowed, however many people follow it at once; the same
 * person following it twice at once uses it once; and an invitee racing for the last seats of an
 * approval-only private event gets in without approval, exactly as many as there are seats.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { createGuests, createHost, publishedEvent, type RacingClients, racingClients, rpc } from "../support/events.ts";
import { createInviteLink } from "../support/ticketing.ts";
import type { TestUser } from "../support/users.ts";

let host: TestUser;
let guests: TestUser[];
let race: RacingClients;

beforeAll(async () => {
  host = await createHost("invite_host");
  guests = await createGuests(60, "invitee");
  race = await racingClients(30);
});

afterAll(async () => {
  await race?.end();
  await closeTestPools();
});

type Answer = { ok: true } | { ok: false; code: string; hint: string | undefined };

async function all<T>(calls: Promise<T>[]): Promise<Answer[]> {
  return (await Promise.allSettled(calls)).map((r) => {
    if (r.status === "fulfilled") return { ok: true };
    const e = r.reason as { code?: string; hint?: string };
    if (e.code === undefined) throw r.reason;
    return { ok: false, code: e.code, hint: e.hint };
  });
}

describe("an invite link followed by many people at once", () => {
  it("60 people following a link with 7 uses: exactly 7 become invitees, the rest hear invite_link_used_up", async () => {
    const { event } = await publishedEvent(host, { visibility: "private" });
    const link = await createInviteLink(host, event.id, 7);

    const answers = await all(guests.map((g) => race.asUser(g.claims, (db) => db.query("select * from public.redeem_invite_link($1)", [link.token]))));

    expect(answers.filter((a) => a.ok)).toHaveLength(7);
    expect(answers.filter((a) => !a.ok)).toEqual(Array(53).fill({ ok: false, code: "P0001", hint: "invite_link_used_up" }));
    const { rows } = await ownerQuery<{ uses: number; invitees: number }>(
      `select l.uses, (select count(*)::int from public.event_invitations i where i.invite_link_id = l.id) as invitees
         from public.event_invite_links l where l.id = $1`, [link.id]);
    expect(rows[0]).toEqual({ uses: 7, invitees: 7 });
  });

  it("one person following the same link from two devices at once uses it once", async () => {
    const { event } = await publishedEvent(host, { visibility: "private" });
    const link = await createInviteLink(host, event.id, 3);
    const guest = guests[0]!;

    const answers = await all(Array.from({ length: 6 }, () =>
      race.asUser(guest.claims, (db) => db.query("select * from public.redeem_invite_link($1)", [link.token]))));

    expect(answers.every((a) => a.ok)).toBe(true);
    const { rows } = await ownerQuery<{ uses: number }>("select uses from public.event_invite_links where id = $1", [link.id]);
    expect(rows[0]!.uses).toBe(1);
    const seen = await rpc<{ n: number }>(guest, "select count(*)::int as n from public.events where id = $1", [event.id]);
    expect(seen[0]!.n).toBe(1);
  });
});

describe("invitees racing for an approval-only private event", () => {
  it("30 invitees for 10 seats: 10 confirmed without approval, 20 sold out, nobody else can even see it", async () => {
    const { event, ticketTypeId } = await publishedEvent(host, { visibility: "private", requires_approval: true }, { capacity: 10, max_per_booking: 1 });
    const invitees = guests.slice(0, 30);
    await rpc(host, "select * from public.invite_to_event($1, $2)", [event.id, invitees.map((g) => g.id)]);

    const answers = await all(invitees.map((g) =>
      race.asUser(g.claims, (db) => db.query("select * from public.book_event($1, $2, 1)", [event.id, ticketTypeId]))));

    expect(answers.filter((a) => a.ok)).toHaveLength(10);
    expect(new Set(answers.filter((a) => !a.ok).map((a) => (a.ok ? "" : a.hint)))).toEqual(new Set(["sold_out"]));
    const { rows } = await ownerQuery<{ status: string; n: number }>(
      "select status, count(*)::int as n from public.bookings where event_id = $1 group by status", [event.id]);
    expect(rows).toEqual([{ status: "confirmed", n: 10 }]);
    const stranger = guests[45]!;
    const refused = await all([rpc(stranger, "select * from public.book_event($1, $2, 1)", [event.id, ticketTypeId])]);
    expect(refused).toEqual([{ ok: false, code: "22023", hint: "event_not_found" }]);
  });
});
