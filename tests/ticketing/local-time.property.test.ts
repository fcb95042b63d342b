/**
 * private.local_to_instant against an independent oracle: the ICU time-zone data Node carries,
 * read through Intl, for local times around real daylight-saving changes (generated at the
 * transitions, where mistakes live) in zones with hour, half-hour and 45-minute changes.
 *
 * RFC 5545 §3.3.5: a local time that happens twice is its first instant; one that never happens
 * is read with the UTC offset in force before the gap.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { closeTestPools, ownerPool } from "../support/db.ts";

afterAll(closeTestPools);

const ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns",
  "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata"];
const MINUTE = 60_000;
const STEP = 15 * MINUTE;

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The wall clock at an instant in a zone, as `YYYY-MM-DDTHH:MM` (Intl, ICU's tz data). */
function wallClock(instant: number, zone: string): string {
  let format = formatters.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-CA", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit" });
    formatters.set(zone, format);
  }
  const p = Object.fromEntries(format.formatToParts(new Date(instant)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}
const offsetAt = (instant: number, zone: string): number => Date.parse(`${wallClock(instant, zone)}:00Z`) - instant;

const transitionCache = new Map<string, number[]>();
/** The instants in a year at which the zone's offset changes (to the quarter hour). */
function transitions(zone: string, year: number): number[] {
  const key = `${zone} ${year}`;
  const cached = transitionCache.get(key);
  if (cached !== undefined) return cached;
  const found: number[] = [];
  const WEEK = 7 * 24 * 3600_000;
  let before = offsetAt(Date.UTC(year, 0, 1), zone);
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += WEEK) {
    const after = offsetAt(t + WEEK, zone);
    if (after === before) continue;
    let lo = t;
    let hi = t + WEEK;
    while (hi - lo > STEP) {
      const mid = lo + Math.floor((hi - lo) / 2 / STEP) * STEP;
      if (offsetAt(mid, zone) === before) lo = mid;
      else hi = mid;
    }
    found.push(hi);
    before = after;
  }
  transitionCache.set(key, found);
  return found;
}

/** The oracle: the earliest instant whose wall clock is `local`, else the gap rule. */
function expectedInstant(local: string, zone: string): number {
  const asUtc = Date.parse(`${local}:00Z`);
  // Every offset the zone uses within a day and a half of that time is a candidate.
  const offsets = new Set<number>();
  for (let k = -6; k <= 6; k += 1) offsets.add(offsetAt(asUtc + k * 6 * 3600_000, zone));
  const matches = [...offsets].map((o) => asUtc - o).filter((t) => wallClock(t, zone) === local);
  if (matches.length > 0) return Math.min(...matches);
  // Skipped by the clocks: walk to the last instant before the gap and read with its offset.
  let t = asUtc - 16 * 3600_000;
  while (wallClock(t + STEP, zone) < local) t += STEP;
  return asUtc - offsetAt(t, zone);
}

describe("private.local_to_instant", () => {
  it("matches the ICU time-zone data around real daylight-saving changes (property)", async () => {
    const cases = fc.sample(fc.record({
      zone: fc.constantFrom(...ZONES),
      year: fc.integer({ min: 2012, max: 2035 }),
      which: fc.nat(),
      minutes: fc.integer({ min: -36, max: 36 }).map((n) => n * 5),
    }), { numRuns: 400, seed: 15_0003 }).map(({ zone, year, which, minutes }) => {
      const changes = transitions(zone, year);
      // A zone without changes (Kolkata) gets ordinary times around noon on a day of that year.
      const at = changes.length > 0 ? (changes[which % changes.length] ?? 0) : Date.UTC(year, which % 12, 1 + (which % 28), 6, 30);
      // The wall-clock time at which the clocks change (read before the change), and around it.
      const changeLocal = Date.parse(`${wallClock(at - STEP, zone)}:00Z`) + STEP;
      const local = new Date(changeLocal + minutes * MINUTE).toISOString().slice(0, 16);
      return { zone, local, expected: new Date(expectedInstant(local, zone)).toISOString() };
    });
    const { rows } = await ownerPool().query<{ instant: Date }>(
      `select private.local_to_instant(l, z) as instant from unnest($1::timestamp[], $2::text[]) with ordinality as c (l, z, n) order by n`,
      [cases.map((c) => c.local.replace("T", " ")), cases.map((c) => c.zone)]);
    const mismatches = cases.map((c, i) => ({ ...c, got: rows[i]?.instant.toISOString() }))
      .filter((c) => c.got !== c.expected).map((c) => `${c.zone} ${c.local}: expected ${c.expected}, got ${c.got}`);
    expect(mismatches).toEqual([]);
    // The sample really reached both kinds of change.
    const twice = cases.filter((c) => {
      const t = Date.parse(c.expected);
      return wallClock(t + 3600_000, c.zone) === c.local || wallClock(t + 1800_000, c.zone) === c.local;
    });
    const never = cases.filter((c) => wallClock(Date.parse(c.expected), c.zone) !== c.local);
    expect(twice.length).toBeGreaterThan(10);
    expect(never.length).toBeGreaterThan(10);
  });
});
