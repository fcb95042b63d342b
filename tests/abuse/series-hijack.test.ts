/**
 * Attack class: series hijackers — people repeating, moving or cancelling dates of an event they
 * do not run (a stranger, a guest, a check-in co-host), and rules built to hurt (thousands of
 * dates, sub-daily frequencies, rules that never match, which would make the recurrence library
 * walk to the year 9999). Each is refused with its documented code and nothing is written: no
 * event, no series, no changed date, no cancelled booking, and a rule bomb costs milliseconds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler } from "../../functions/event-series/handler.ts";
import { asAnon, closeTestPools, ownerQuery, failure } from "../support/db.ts";
import { addTicketType, bookEvent, createEvent, createHost, publishEvent, rpc } from "../support/events.ts";
import { createUser, type TestUser } from "../support/users.ts";

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

const post = (body: unknown, token: string): Promise<Response> =>
  handler(new Request("http://127.0.0.1:54321/event-series", {
    method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify(body),
  }));

let host: TestUser;
let guest: TestUser;
let stranger: TestUser;
let doorman: TestUser;
let single: string;
let dates: string[];
let guestBooking: string;

async function snapshot(): Promise<string> {
  const { rows } = await ownerQuery<{ s: string }>(
    `select (select count(*) from public.event_series where host_id = $1) || ' series, ' ||
            (select string_agg(e.status || '@' || e.starts_at::text || '@' || coalesce(e.venue_name, ''), ';' order by e.id)
               from private.events e where e.host_id = $1) || ', booking ' ||
            (select status from public.bookings where id = $2) as s`, [host.id, guestBooking]);
  return rows[0]?.s ?? "";
}

beforeAll(async () => {
  host = await createHost("series_host");
  [guest, stranger, doorman] = await Promise.all([createUser(), createUser(), createUser()]);
  const start = new Date(Date.now() + 9 * 24 * 3600 * 1000);
  const event = await createEvent(host, { starts_at: start, ends_at: new Date(start.getTime() + 2 * 3600 * 1000) });
  await addTicketType(host, event.id, { capacity: 20 });
  await publishEvent(host, event.id);
  const made = await post({ event_id: event.id, rrule: "FREQ=WEEKLY;COUNT=3" }, host.token);
  dates = ((await made.json()) as { occurrences: { event_id: string }[] }).occurrences.map((o) => o.event_id);
  const other = await createEvent(host, { starts_at: start, ends_at: new Date(start.getTime() + 3600 * 1000) });
  await addTicketType(host, other.id);
  await publishEvent(host, other.id);
  single = other.id;
  for (const id of [...dates, single]) {
    await ownerQuery("insert into public.event_cohosts (event_id, user_id, role) values ($1, $2, 'checkin')", [id, doorman.id]);
  }
  const { rows } = await ownerQuery<{ id: string }>("select id from public.ticket_types where event_id = $1", [dates[2]]);
  guestBooking = (await bookEvent(guest, dates[2] ?? "", rows[0]?.id ?? "", 1)).id;
});

describe("people who do not run the event", () => {
  it("cannot repeat it (a stranger, a guest, a check-in co-host)", async () => {
    const before = await snapshot();
    for (const who of [stranger, guest, doorman]) {
      const res = await post({ event_id: single, rrule: "FREQ=DAILY;COUNT=50" }, who.token);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "not_event_staff" } });
    }
    expect(await snapshot()).toBe(before);
  });

  it("cannot move this and the following dates", async () => {
    const before = await snapshot();
    for (const who of [stranger, guest, doorman]) {
      const err = await failure(rpc(who, "select * from public.change_event_occurrences($1, 'following', '03:00', null, 'Nowhere')", [dates[0]]));
      expect([err.code, err.hint]).toEqual(["42501", "not_event_staff"]);
    }
    expect(await snapshot()).toBe(before);
  });

  it("cannot cancel them (nor can a check-in co-host), and the guest's booking stands", async () => {
    const before = await snapshot();
    for (const who of [stranger, guest, doorman]) {
      const err = await failure(rpc(who, "select * from public.cancel_event_occurrences($1, 'following', 'pranked')", [dates[0]]));
      expect([err.code, err.hint]).toEqual(["42501", "not_your_event"]);
    }
    expect(await snapshot()).toBe(before);
    expect(before).toMatch(/booking confirmed$/);
  });

  it("anonymous callers are refused before anything is read", async () => {
    const { rows } = await ownerQuery<{ n: string }>("select count(*) as n from public.notifications where user_id = $1", [guest.id]);
    const err = await failure(asAnon((db) => db.query("select * from public.cancel_event_occurrences($1, 'following')", [dates[0]])));
    expect([err.code, err.hint]).toEqual(["42501", "not_authenticated"]);
    const after = await ownerQuery<{ n: string }>("select count(*) as n from public.notifications where user_id = $1", [guest.id]);
    expect(after.rows[0]?.n).toBe(rows[0]?.n);
  });
});

describe("the series' own columns", () => {
  it("cannot be written through public.events, by the host either", async () => {
    const before = await snapshot();
    const moved = await failure(rpc(host, "update public.events set series_id = null where id = $1", [dates[1]]));
    expect([moved.code, moved.hint]).toEqual(["22023", "not_editable"]);
    const slipped = await failure(rpc(host,
      `insert into public.events (title, starts_at, ends_at, timezone, series_id, series_position)
       values ('Slipped in', now() + interval '30 days', now() + interval '30 days 1 hour', 'UTC', $1, 9)`, [dates[0]]));
    expect([slipped.code, slipped.hint]).toEqual(["22023", "use_event_series"]);
    expect(await snapshot()).toBe(before);
  });
});

describe("a host repeating events over and over", () => {
  it("stops at the event_series limit (10 an hour; a preview is free), and the refused call writes nothing", async () => {
    const busy = await createHost("series_loop");
    const answers: number[] = [];
    for (let i = 0; i < 11; i += 1) {
      const start = new Date(Date.now() + (30 + i) * 24 * 3600 * 1000);
      const draft = await createEvent(busy, { starts_at: start, ends_at: new Date(start.getTime() + 3600 * 1000) });
      if (i === 0) expect((await post({ event_id: draft.id, rrule: "FREQ=DAILY;COUNT=2", preview: true }, busy.token)).status).toBe(200);
      const res = await post({ event_id: draft.id, rrule: "FREQ=DAILY;COUNT=2" }, busy.token);
      answers.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
        expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
        const { rows } = await ownerQuery<{ n: string }>("select count(*) as n from private.events where series_id = $1", [draft.id]);
        expect(rows[0]?.n).toBe("0");
      }
    }
    expect(answers).toEqual([...Array(10).fill(201), 429]);
  });
});

describe("rules built to hurt", () => {
  it.each([
    ["FREQ=DAILY;COUNT=5000", "too_many_occurrences"],
    ["FREQ=SECONDLY;COUNT=100", "unsupported_rrule"],
    ["FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;COUNT=100", "unsupported_rrule"],
    ["FREQ=DAILY;INTERVAL=-1;COUNT=3", "invalid_rrule"],
    ["FREQ=DAILY;BYMONTHDAY=31;BYMONTH=2;COUNT=3", "unsupported_rrule"],
    ["FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2;COUNT=3", "rrule_not_synchronized"],
    ["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3", "rrule_not_synchronized"],
    ["FREQ=WEEKLY", "rrule_unbounded"],
  ])("%s is refused with %s, quickly, writing nothing", async (rrule, code) => {
    const before = await snapshot();
    const started = performance.now();
    const res = await post({ event_id: single, rrule }, host.token);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code } });
    expect(await snapshot()).toBe(before);
  });
});
