/**
 * Recurring series: the rule checks and the expansion (functions/_shared/recurrence.ts), and the
 * event-series function against the real database — a weekly series across the night London's
 * clocks go forward stays at 19:00 local time.
 */
import fc from "fast-check";
import rrulePkg from "rrule";
import { afterAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler } from "../../functions/event-series/handler.ts";
import { checkRecurrenceRule, expandRecurrence, recurrenceRuleText } from "../../functions/_shared/recurrence.ts";
import { asUser, closeTestPools } from "../support/db.ts";
import { addTicketType, createEvent, createHost, publishEvent } from "../support/events.ts";
import { createUser } from "../support/users.ts";

const { RRule } = rrulePkg;

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe("checking a rule against RFC 5545", () => {
  it("accepts the rules hosts write and normalises them", () => {
    expect(recurrenceRuleText("RRULE:freq=weekly;byday=TU,TH;count=10")).toBe("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10");
    expect(recurrenceRuleText("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270101")).toBe("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270101");
    expect(recurrenceRuleText("FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=21;COUNT=2")).toBe("FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=21;COUNT=2");
  });

  it.each([
    ["", "invalid_rrule"],
    ["FREQ=WEEKLY;COUNT=3\nEXDATE:20270101", "invalid_rrule"],
    ["FREQ=WEEKLY;INTERVAL=-2;COUNT=3", "invalid_rrule"],
    ["FREQ=WEEKLY;INTERVAL=0;COUNT=3", "invalid_rrule"],
    ["FREQ=WEEKLY;BYDAY=XX;COUNT=3", "invalid_rrule"],
    ["FREQ=WEEKLY;BYDAY=+MO;COUNT=3", "invalid_rrule"],
    ["FREQ=WEEKLY;COUNT=abc", "invalid_rrule"],
    ["FREQ=WEEKLY;COUNT=3;COUNT=4", "invalid_rrule"],
    ["FREQ=WEEKLY;COUNT=3;UNTIL=20270101", "invalid_rrule"],
    ["FREQ=WEEKLY;FOO=1;COUNT=3", "invalid_rrule"],
    ["DTSTART=20270101T100000;FREQ=DAILY;COUNT=2", "invalid_rrule"],
    ["COUNT=3", "invalid_rrule"],
    ["FREQ=MONTHLY;BYMONTHDAY=32;COUNT=3", "invalid_rrule"],
    ["FREQ=MONTHLY;BYDAY=6TU;COUNT=3", "invalid_rrule"],
    ["FREQ=WEEKLY;BYDAY=1TU;COUNT=3", "invalid_rrule"],
    ["FREQ=HOURLY;COUNT=3", "unsupported_rrule"],
    ["FREQ=DAILY;BYHOUR=9;COUNT=3", "unsupported_rrule"],
    ["FREQ=DAILY;BYMONTHDAY=1;COUNT=3", "unsupported_rrule"],
    ["FREQ=WEEKLY;BYSETPOS=1;COUNT=3", "unsupported_rrule"],
    ["FREQ=WEEKLY", "rrule_unbounded"],
    ["FREQ=DAILY;COUNT=101", "too_many_occurrences"],
  ])("refuses %j with %s", (rule, code) => {
    expect(codeOf(() => checkRecurrenceRule(rule))).toBe(code);
  });
});

describe("expanding a rule from the event's local start", () => {
  it("keeps the local time of day on every date, fractions of a second included", () => {
    expect(expandRecurrence("FREQ=WEEKLY;BYDAY=TU;COUNT=3", "2027-03-16T19:00:00.250000"))
      .toEqual(["2027-03-16T19:00:00.250000", "2027-03-23T19:00:00.250000", "2027-03-30T19:00:00.250000"]);
  });

  it("takes RFC 5545's calendar rules: last Friday, the 31st only in long months, a date-only UNTIL includes its day", () => {
    expect(expandRecurrence("FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", "2027-01-29T20:00:00")).toEqual(
      ["2027-01-29T20:00:00", "2027-02-26T20:00:00", "2027-03-26T20:00:00"]);
    expect(expandRecurrence("FREQ=MONTHLY;BYMONTHDAY=31;COUNT=3", "2027-01-31T18:30:00")).toEqual(
      ["2027-01-31T18:30:00", "2027-03-31T18:30:00", "2027-05-31T18:30:00"]);
    expect(expandRecurrence("FREQ=DAILY;UNTIL=20270103", "2027-01-01T23:00:00")).toEqual(
      ["2027-01-01T23:00:00", "2027-01-02T23:00:00", "2027-01-03T23:00:00"]);
  });

  it.each([
    ["FREQ=WEEKLY;BYDAY=WE;COUNT=3", "rrule_not_synchronized"],
    ["FREQ=DAILY;BYMONTH=4;COUNT=3", "rrule_not_synchronized"],
    ["FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2;COUNT=3", "rrule_not_synchronized"],
    ["FREQ=YEARLY;BYMONTHDAY=30;BYMONTH=2;COUNT=3", "rrule_not_synchronized"],
    ["FREQ=DAILY;COUNT=1", "series_too_short"],
    ["FREQ=YEARLY;COUNT=4", "series_too_long"],
    ["FREQ=WEEKLY;UNTIL=20300101", "series_too_long"],
  ])("refuses %j for an event on Tuesday 16 March 2027 with %s", (rule, code) => {
    expect(codeOf(() => expandRecurrence(rule, "2027-03-16T19:00:00"))).toBe(code);
  });

  it("answers quickly even for rules that can never match again", () => {
    const started = performance.now();
    for (const rule of ["FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2;COUNT=3", "FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO;BYMONTH=1;COUNT=3",
      "FREQ=MONTHLY;BYDAY=5MO;BYMONTH=2;COUNT=3"]) {
      codeOf(() => expandRecurrence(rule, "2027-03-16T19:00:00"));
    }
    // Unbounded, the first of these walks 95,000 months (and a daily one millions of days).
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("gives the library's own dates: the 400-year shift changes nothing (property)", () => {
    const weekdays = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;
    fc.assert(fc.property(
      fc.date({ min: new Date("2026-01-01T00:00:00Z"), max: new Date("2060-12-31T00:00:00Z"), noInvalidDate: true }),
      fc.constantFrom("DAILY", "WEEKLY", "MONTHLY", "YEARLY"),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 2, max: 30 }),
      fc.subarray([...weekdays]),
      fc.boolean(),
      (day, freq, interval, count, extraDays, byMonthDay) => {
        const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 19, 30));
        const ownDay = weekdays[(start.getUTCDay() + 6) % 7] ?? "MO";
        const parts = [`FREQ=${freq}`, `INTERVAL=${interval}`, `COUNT=${count}`];
        if (freq !== "YEARLY") parts.push(`BYDAY=${[...new Set([ownDay, ...extraDays])].join(",")}`);
        if (byMonthDay && (freq === "MONTHLY" || freq === "YEARLY")) parts.push(`BYMONTHDAY=${start.getUTCDate()}`);
        const rule = parts.join(";");
        const limit = new Date(start);
        limit.setUTCFullYear(limit.getUTCFullYear() + 2);
        const direct = new RRule({ ...RRule.parseString(rule), dtstart: start, tzid: null }).between(start, limit, true)
          .map((d) => d.toISOString().slice(0, 19));
        const local = start.toISOString().slice(0, 19);
        let ours: string[] | string;
        try {
          ours = expandRecurrence(rule, local);
        } catch (err) {
          ours = String((err as { code?: string }).code);
        }
        const expected = direct.length < count ? "series_too_long" : direct.length < 2 ? "series_too_short" : direct;
        expect(ours).toEqual(expected);
      }), { numRuns: 200 });
  });
});

/** The last Sunday of March two years from now, when London's clocks go forward. */
function clocksForward(): Date {
  const year = new Date().getUTCFullYear() + 2;
  const lastOfMarch = new Date(Date.UTC(year, 2, 31));
  return new Date(Date.UTC(year, 2, 31 - lastOfMarch.getUTCDay()));
}

const post = (body: unknown, token?: string): Promise<Response> =>
  handler(new Request("http://127.0.0.1:54321/event-series", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  }));

interface SeriesAnswer {
  series_id: string | null;
  rrule: string;
  timezone: string;
  occurrences: { event_id: string | null; position: number; starts_at: string; ends_at: string }[];
}

describe("POST /functions/v1/event-series against the database", () => {
  it("makes a weekly series across the night the clocks go forward, at 19:00 London time every week", async () => {
    const host = await createHost();
    const sunday = clocksForward();
    const firstTuesday = new Date(sunday.getTime() - 12 * 24 * 3600 * 1000 + 19 * 3600 * 1000); // 19:00 GMT = 19:00 UTC
    const event = await createEvent(host, { starts_at: firstTuesday, ends_at: new Date(firstTuesday.getTime() + 2 * 3600 * 1000), timezone: "Europe/London" });
    await addTicketType(host, event.id, { capacity: 12 });
    await publishEvent(host, event.id);

    const preview = await post({ event_id: event.id, rrule: "FREQ=WEEKLY;BYDAY=TU;COUNT=4", preview: true }, host.token);
    expect(preview.status).toBe(200);
    const previewed = (await preview.json()) as SeriesAnswer;
    expect(previewed.series_id).toBeNull();
    expect(previewed.occurrences.map((o) => o.event_id)).toEqual([event.id, null, null, null]);

    const res = await post({ event_id: event.id, rrule: "rrule:freq=weekly;byday=tu;count=4" }, host.token);
    expect(res.status).toBe(201);
    const made = (await res.json()) as SeriesAnswer;
    expect(made).toMatchObject({ series_id: event.id, rrule: "FREQ=WEEKLY;BYDAY=TU;COUNT=4", timezone: "Europe/London" });
    // Two Tuesdays in GMT (19:00 UTC), two in BST (18:00 UTC): always 19:00 on the clock in London.
    const hours = made.occurrences.map((o) => new Date(o.starts_at).getUTCHours());
    expect(hours).toEqual([19, 19, 18, 18]);
    expect(made.occurrences.map((o) => Date.parse(o.ends_at) - Date.parse(o.starts_at))).toEqual(Array(4).fill(2 * 3600 * 1000));
    expect(made.occurrences.map((o) => o.starts_at)).toEqual(previewed.occurrences.map((o) => o.starts_at));

    const { rows } = await asUser(host.claims, (db) => db.query<{ id: string; local: string; status: string }>(
      `select id, to_char(starts_at at time zone timezone, 'Dy HH24:MI') as local, status from public.events
        where series_id = $1 order by series_position`, [event.id]));
    expect(rows.map((r) => [r.local, r.status])).toEqual(Array(4).fill(["Tue 19:00", "published"]));
    expect(rows.map((r) => r.id)).toEqual(made.occurrences.map((o) => o.event_id));

    const again = await post({ event_id: event.id, rrule: "FREQ=WEEKLY;COUNT=2" }, host.token);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "already_in_series" } });
  });

  it("refuses with the error contract: bad rules 400, strangers 403, unknown events 404, no token 401", async () => {
    const host = await createHost();
    const stranger = await createUser();
    const start = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 5, 3, 18));
    const event = await createEvent(host, { starts_at: start, ends_at: new Date(start.getTime() + 2 * 3600 * 1000), timezone: "UTC" });
    await addTicketType(host, event.id);
    await publishEvent(host, event.id);
    const otherDay = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"][(start.getUTCDay() + 1) % 7];
    const rejected = async (body: unknown, token: string | undefined, status: number, code: string): Promise<void> => {
      const res = await post(body, token);
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ error: { code } });
    };
    await rejected({ event_id: event.id, rrule: "FREQ=WEEKLY;COUNT=3" }, undefined, 401, "missing_authorization");
    await rejected({ event_id: event.id, rrule: "FREQ=WEEKLY;COUNT=3" }, stranger.token, 403, "not_event_staff");
    await rejected({ event_id: crypto.randomUUID(), rrule: "FREQ=WEEKLY;COUNT=3" }, host.token, 404, "event_not_found");
    await rejected({ event_id: event.id, rrule: "FREQ=WEEKLY" }, host.token, 400, "rrule_unbounded");
    await rejected({ event_id: event.id, rrule: `FREQ=WEEKLY;BYDAY=${otherDay};COUNT=3` }, host.token, 400, "rrule_not_synchronized");
    await rejected({ event_id: event.id, rrule: "FREQ=SECONDLY;COUNT=3" }, host.token, 400, "unsupported_rrule");
    await rejected({ event_id: "nope", rrule: "FREQ=WEEKLY;COUNT=3" }, host.token, 400, "validation_failed");
    await rejected({ event_id: event.id, rrule: "x".repeat(501) }, host.token, 400, "validation_failed");
    const { rows } = await asUser(host.claims, (db) => db.query("select 1 from public.events where series_id = $1", [event.id]));
    expect(rows).toHaveLength(0);
  });
});
