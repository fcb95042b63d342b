/**
 * Attack class: calendar snoopers — people reading someone else's calendar, or an address the
 * event keeps for confirmed guests, through the calendar function: a guessed or stale feed
 * token, another guest's booking id, a booking that was never confirmed or was cancelled, a
 * deleted account's old feed. Each gets a documented refusal (401, 403 not_your_booking, 404
 * feed_not_found) or an entry without the exact address — never the address, never the feed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler } from "../../functions/calendar/handler.ts";
import { asUser, closeTestPools, ownerQuery } from "../support/db.ts";
import { bookEvent, createHost, publishedEvent, rpc } from "../support/events.ts";
import { createUser, type TestUser } from "../support/users.ts";

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

const ADDRESS = "Rua Nova do Carvalho 24";
const get = (path: string, token?: string): Promise<Response> =>
  handler(new Request(`http://127.0.0.1:54321${path}`, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } }));
const feedPath = async (user: TestUser): Promise<string> => {
  const [feed] = await rpc<{ path: string }>(user, "select path from public.create_calendar_feed()");
  return String(feed?.path).replace(/^\/functions\/v1/, "");
};

let host: TestUser;
let victim: TestUser;
let snoop: TestUser;
let victimBooking: string;
let pendingBooking: string;

beforeAll(async () => {
  host = await createHost("cal_host");
  [victim, snoop] = await Promise.all([createUser(), createUser()]);
  const open = await publishedEvent(host, { title: "Secret warehouse party" });
  const approval = await publishedEvent(host, { title: "Invite-ish supper", requires_approval: true });
  victimBooking = (await bookEvent(victim, open.event.id, open.ticketTypeId, 1)).id;
  pendingBooking = (await bookEvent(snoop, approval.event.id, approval.ticketTypeId, 1)).id;
});

describe("someone else's feed", () => {
  it("is not reached with a guessed, truncated or altered token", async () => {
    const path = await feedPath(victim);
    const token = path.split("/").at(-1)?.replace(".ics", "") ?? "";
    const flipped = (token[0] === "A" ? "B" : "A") + token.slice(1);
    for (const attempt of [`/calendar/feed/${flipped}.ics`, `/calendar/feed/${token.slice(0, 42)}.ics`, `/calendar/feed/${"A".repeat(43)}.ics`,
      `/calendar/feed/${token}x.ics`, `/calendar/feed/${victim.id}.ics`]) {
      const res = await get(attempt);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain("warehouse");
    }
    expect((await get(path)).status).toBe(200);
  });

  it("stops at once for a token that was replaced; rotating in a loop stops at the calendar_feed limit", async () => {
    const rotator = await createUser();
    const first = await feedPath(rotator);
    let last = first;
    let made = 1;
    let refusal: { code: string; hint: string | undefined } | undefined;
    while (refusal === undefined && made < 30) {
      try {
        last = await feedPath(rotator);
        made += 1;
      } catch (err) {
        refusal = { code: (err as { code: string }).code, hint: (err as { hint?: string }).hint };
      }
    }
    expect(made).toBe(10);
    expect(refusal).toEqual({ code: "P0001", hint: "rate_limited" });
    expect((await get(first)).status).toBe(404);
    expect((await get(last)).status).toBe(200);
    const { rows } = await ownerQuery<{ n: string }>("select count(*) as n from private.calendar_feeds where user_id = $1", [rotator.id]);
    expect(rows[0]?.n).toBe("1");
  });

  it("is gone with a deleted account", async () => {
    const leaver = await createUser();
    const path = await feedPath(leaver);
    await rpc(leaver, "select public.delete_my_account($1)", [leaver.username]);
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "feed_not_found" } });
    const { rows } = await ownerQuery<{ n: string }>("select count(*) as n from private.calendar_feeds where user_id = $1", [leaver.id]);
    expect(rows[0]?.n).toBe("0");
  });
});

describe("someone else's booking", () => {
  it("is refused to another guest, the anon key and a missing token", async () => {
    const other = await get(`/calendar/bookings/${victimBooking}.ics`, snoop.token);
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: { code: "not_your_booking" } });
    expect((await get(`/calendar/bookings/${victimBooking}.ics`)).status).toBe(401);
  });
});

describe("an address kept for confirmed guests", () => {
  it("is not in the file of a booking still waiting for approval", async () => {
    const text = await (await get(`/calendar/bookings/${pendingBooking}.ics`, snoop.token)).text();
    expect(text).toContain("STATUS:TENTATIVE");
    expect(text).not.toContain(ADDRESS);
    expect(text).not.toContain("GEO:");
  });

  it("leaves the file and the feed of a guest who cancelled", async () => {
    const guest = await createUser();
    const { event, ticketTypeId } = await publishedEvent(host, { title: "Rooftop" });
    const booking = await bookEvent(guest, event.id, ticketTypeId, 1);
    const path = await feedPath(guest);
    expect(await (await get(path)).text()).toContain(ADDRESS);
    await asUser(guest.claims, (db) => db.query("select public.cancel_booking($1)", [booking.id]));
    const file = await (await get(`/calendar/bookings/${booking.id}.ics`, guest.token)).text();
    expect(file).toContain("STATUS:CANCELLED");
    expect(file).not.toContain(ADDRESS);
    expect(await (await get(path)).text()).not.toContain("Rooftop");
  });
});
