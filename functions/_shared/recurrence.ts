/**
 * Recurring series: an RFC 5545 RRULE value expanded into the local wall-clock starts of its
 * occurrences, with the `rrule` library.
 *
 * The expansion runs in floating local time: DTSTART is the first event's wall-clock start in its
 * own zone (written as if it were UTC, the library's floating-time convention), so "every Tuesday
 * at 19:00" is 19:00 on every date whatever the clocks do; the database turns each local start
 * into an instant in the event's zone (private.local_to_instant, RFC 5545 §3.3.5). The library's
 * own TZID handling is never used.
 *
 * rrule.js accepts much that RFC 5545 does not (a negative INTERVAL loops forever, an unknown
 * weekday crashes), so the rule is checked against the RFC's grammar first, for the parts a series
 * may use; the time of day comes from the event (BYHOUR, BYMINUTE, BYSECOND are refused), and a
 * series has an end (COUNT or UNTIL), at most 100 dates, within two years.
 *
 * The library also walks period by period up to the year 9999 when a rule produces no further
 * date (its UNTIL is only compared with dates it produced): a daily rule that can never match,
 * such as the 31st of February, costs tens of seconds of CPU. Two things bound that walk:
 * - the rule is expanded on a calendar moved forward by a multiple of 400 years, to within 400
 *   years of 9999, and the dates moved back: the Gregorian calendar repeats exactly every 400
 *   years (146,097 days, 20,871 weeks: the same weekdays, leap days and ISO weeks), so the dates
 *   are the same and at most 400 years are left to walk (4,800 monthly periods);
 * - daily and weekly rules may only filter by weekday and month, and the event's own date is
 *   checked against those filters before the library runs: a rule that matches its first date
 *   matches again within a year, so the walk ends soon after the two-year window.
 */
import rrulePkg from "rrule";
import type { Options } from "rrule";
import { badRequest, type HttpError } from "./http-errors.ts";

const { RRule } = rrulePkg;

export const MAX_OCCURRENCES = 100;
export const MAX_SPAN_YEARS = 2;

/** A wall-clock date-time without a zone: `YYYY-MM-DDTHH:MM:SS` with an optional fraction. */
export type LocalDateTime = string;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?$/;

const WEEKDAY = "(?:MO|TU|WE|TH|FR|SA|SU)";
const list = (item: string): RegExp => new RegExp(`^${item}(?:,${item})*$`);
const signed = (max: number) => (v: string): boolean => {
  const n = Number(v);
  return Number.isInteger(n) && n !== 0 && Math.abs(n) <= max;
};
const eachIn = (v: string, ok: (part: string) => boolean): boolean => v.split(",").every(ok);

/** The rule parts a series may use, each with its RFC 5545 value grammar (§3.3.10). */
const PARTS: Record<string, (value: string) => boolean> = {
  FREQ: (v) => ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"].includes(v),
  INTERVAL: (v) => /^\d{1,3}$/.test(v) && Number(v) >= 1,
  COUNT: (v) => /^\d{1,4}$/.test(v) && Number(v) >= 1,
  UNTIL: (v) => /^\d{8}(?:T\d{6}Z?)?$/.test(v),
  BYDAY: (v) => list(`(?:[+-]?(?:[1-9]|[1-4]\\d|5[0-3]))?${WEEKDAY}`).test(v),
  BYMONTHDAY: (v) => list("[+-]?\\d{1,2}").test(v) && eachIn(v, signed(31)),
  BYYEARDAY: (v) => list("[+-]?\\d{1,3}").test(v) && eachIn(v, signed(366)),
  BYWEEKNO: (v) => list("[+-]?\\d{1,2}").test(v) && eachIn(v, signed(53)),
  BYMONTH: (v) => list("\\d{1,2}").test(v) && eachIn(v, (m) => Number(m) >= 1 && Number(m) <= 12),
  BYSETPOS: (v) => list("[+-]?\\d{1,3}").test(v) && eachIn(v, signed(366)),
  WKST: (v) => new RegExp(`^${WEEKDAY}$`).test(v),
};
const TIME_OF_DAY_PARTS = ["BYHOUR", "BYMINUTE", "BYSECOND"];
/** What daily and weekly rules may filter by (see the header: they must not be able to never match). */
const DAILY_WEEKLY_PARTS = ["FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTH", "WKST"];
const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

const invalid = (message: string): HttpError => badRequest("invalid_rrule", message);

/** The rule's parts, checked against RFC 5545's grammar; the value may start with `RRULE:`. */
export function checkRecurrenceRule(text: string): Map<string, string> {
  const value = text.trim().replace(/^RRULE:/i, "").toUpperCase();
  if (value === "" || /[\r\n]/.test(value)) throw invalid("Give one RRULE value, e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10.");
  const parts = new Map<string, string>();
  for (const part of value.split(";")) {
    const [name = "", partValue, ...rest] = part.split("=");
    if (partValue === undefined || rest.length > 0 || name === "") throw invalid(`"${part}" is not NAME=VALUE.`);
    if (parts.has(name)) throw invalid(`${name} appears twice.`);
    if (TIME_OF_DAY_PARTS.includes(name)) {
      throw badRequest("unsupported_rrule", `${name} is not used: every occurrence starts at the event's own time of day.`);
    }
    if (name === "FREQ" && ["HOURLY", "MINUTELY", "SECONDLY"].includes(partValue)) {
      throw badRequest("unsupported_rrule", "A series repeats daily, weekly, monthly or yearly.");
    }
    const check = PARTS[name];
    if (check === undefined) throw invalid(`${name} is not a rule part a series can use (DTSTART comes from the event).`);
    if (!check(partValue)) throw invalid(`${name}=${partValue} is not a valid value.`);
    parts.set(name, partValue);
  }
  const freq = parts.get("FREQ");
  if (freq === undefined) throw invalid("FREQ is required.");
  if (freq === "DAILY" || freq === "WEEKLY") {
    const other = [...parts.keys()].find((name) => !DAILY_WEEKLY_PARTS.includes(name));
    if (other !== undefined) {
      throw badRequest("unsupported_rrule", `A ${freq.toLowerCase()} series filters by BYDAY and BYMONTH only; for ${other} use FREQ=MONTHLY or FREQ=YEARLY.`);
    }
    if (/\d/.test(parts.get("BYDAY") ?? "")) throw invalid("BYDAY takes no ordinal (such as 1MO) in a daily or weekly rule.");
  }
  if (freq === "MONTHLY" && /(?:^|,)[+-]?(?:[6-9]|\d{2})[A-Z]/.test(parts.get("BYDAY") ?? "")) {
    throw invalid("In a monthly rule a BYDAY ordinal is 1 to 5 (or -1 to -5).");
  }
  if (parts.has("COUNT") && parts.has("UNTIL")) throw invalid("COUNT and UNTIL cannot both be given.");
  if (!parts.has("COUNT") && !parts.has("UNTIL")) {
    throw badRequest("rrule_unbounded", "A series needs an end: add COUNT (number of dates) or UNTIL (last date).");
  }
  if (Number(parts.get("COUNT") ?? "0") > MAX_OCCURRENCES) {
    throw badRequest("too_many_occurrences", `A series has at most ${MAX_OCCURRENCES} dates.`);
  }
  return parts;
}

/** The rule as stored and shown: its checked parts, upper case, without an RRULE: prefix. */
export function recurrenceRuleText(text: string): string {
  return [...checkRecurrenceRule(text)].map(([name, value]) => `${name}=${value}`).join(";");
}

const notSynchronized = (): HttpError =>
  badRequest("rrule_not_synchronized", "The rule must start on the event's own date (e.g. BYDAY=TU for an event on a Tuesday).");

/** A wall-clock time as the library's floating Date (its fields read as UTC), and back. */
function floating(local: LocalDateTime): { date: Date; fraction: string } {
  const m = LOCAL.exec(local);
  if (m === null) throw new Error(`not a local date-time: ${local}`);
  const [, y, mo, d, h, mi, s, fraction = ""] = m;
  return { date: new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))), fraction };
}
const localOf = (date: Date, fraction: string): LocalDateTime => date.toISOString().slice(0, 19) + fraction;

/** The Gregorian cycle: dates move by whole multiples of it without changing weekday or leap day. */
const CYCLE_YEARS = 400;
const LIBRARY_LAST_YEAR = 9999;
function shiftYears(date: Date, years: number): Date {
  const shifted = new Date(date);
  shifted.setUTCFullYear(date.getUTCFullYear() + years);
  return shifted;
}

/** UNTIL in the event's local time; a date alone means until the end of that day. */
function untilOf(value: string): Date {
  const [, y, mo, d, h = "23", mi = "59", s = "59"] = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?$/.exec(value) ?? [];
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}

/**
 * The local starts of a series: the first is `first` itself (the rule must produce it first, as
 * RFC 5545 asks of a DTSTART synchronized with its rule), then every later date of the rule.
 */
export function expandRecurrence(rule: string, first: LocalDateTime): LocalDateTime[] {
  const parts = checkRecurrenceRule(rule);
  const start = floating(first);
  const freq = parts.get("FREQ");
  if (freq === "DAILY" || freq === "WEEKLY") {
    const weekday = WEEKDAYS[(start.date.getUTCDay() + 6) % 7] ?? "";
    const byday = parts.get("BYDAY")?.split(",");
    const bymonth = parts.get("BYMONTH")?.split(",").map(Number);
    if ((byday !== undefined && !byday.includes(weekday)) || (bymonth !== undefined && !bymonth.includes(start.date.getUTCMonth() + 1))) {
      throw notSynchronized();
    }
  }
  const limit = new Date(start.date);
  limit.setUTCFullYear(limit.getUTCFullYear() + MAX_SPAN_YEARS);
  const options: Partial<Options> = RRule.parseString([...parts].filter(([name]) => name !== "UNTIL").map(([n, v]) => `${n}=${v}`).join(";"));
  const until = parts.get("UNTIL");
  if (until !== undefined) {
    options.until = untilOf(until);
    if (options.until > limit) throw badRequest("series_too_long", `A series spans at most ${MAX_SPAN_YEARS} years: bring UNTIL closer.`);
  }
  // Expand on the calendar moved to within 400 years of the library's last year (see the header).
  const shift = CYCLE_YEARS * Math.max(0, Math.floor((LIBRARY_LAST_YEAR - limit.getUTCFullYear()) / CYCLE_YEARS) - 1);
  if (options.until !== undefined && options.until !== null) options.until = shiftYears(options.until, shift);
  const dates = new RRule({ ...options, dtstart: shiftYears(start.date, shift), tzid: null })
    .between(shiftYears(start.date, shift), shiftYears(limit, shift), true, (_date, i) => i <= MAX_OCCURRENCES)
    .map((d) => shiftYears(d, -shift));
  if (dates[0]?.getTime() !== start.date.getTime()) throw notSynchronized();
  if (dates.length > MAX_OCCURRENCES) throw badRequest("too_many_occurrences", `A series has at most ${MAX_OCCURRENCES} dates.`);
  const count = parts.get("COUNT");
  if (count !== undefined && dates.length < Number(count)) {
    throw badRequest("series_too_long", `A series spans at most ${MAX_SPAN_YEARS} years: this rule's ${count} dates take longer.`);
  }
  if (dates.length < 2) throw badRequest("series_too_short", "This rule gives only one date: a series has at least two.");
  return dates.map((d) => localOf(d, start.fraction));
}
