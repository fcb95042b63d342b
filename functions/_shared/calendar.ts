/**
 * iCalendar (RFC 5545) files from calendar entries, with the `ics` generator: one VEVENT per
 * event, times in UTC (calendar apps show them in the reader's zone), text escaped and folded by
 * the library. The database decides what an entry may show (private.calendar_entries: the exact
 * address and link only for those allowed to see them); this module only renders.
 */
import * as ics from "ics";

export interface CalendarEntry {
  event_id: string;
  booking_id: string | null;
  role: "guest" | "staff";
  title: string;
  description: string;
  starts_at: Date;
  ends_at: Date;
  timezone: string;
  location: string | null;
  latitude: number | null;
  longitude: number | null;
  online_url: string | null;
  status: "CONFIRMED" | "TENTATIVE" | "CANCELLED";
  sequence: number;
  last_modified: Date;
  host_name: string;
  quantity: number | null;
}

export interface CalendarOptions {
  /** The app's base URL; each event links to `<appUrl>/events/<id>`. */
  appUrl: string;
  /** X-WR-CALNAME: the name a calendar app gives a subscription. */
  name?: string;
}

export class CalendarRenderError extends Error {
  override readonly name = "CalendarRenderError";
}

/** One UID per event, the same in every file and feed, so calendars never show an event twice. */
export const eventUid = (eventId: string): string => `${eventId}@rally`;

export const eventUrl = (appUrl: string, eventId: string): string => `${appUrl.replace(/\/+$/, "")}/events/${eventId}`;

/** The text under the title: what the host wrote, then who hosts, the tickets and the link. */
export function entryDescription(entry: CalendarEntry, appUrl: string): string {
  const lines = [entry.description.trim()];
  const facts = [`Hosted by ${entry.host_name}.`];
  if (entry.role === "staff") facts.push("You are hosting this event.");
  else if (entry.quantity !== null) facts.push(`${entry.quantity} ${entry.quantity === 1 ? "ticket" : "tickets"}.`);
  if (entry.status === "TENTATIVE") facts.push("Not confirmed yet: the address is shown once your booking is confirmed.");
  if (entry.status === "CANCELLED") facts.push("Cancelled.");
  lines.push(facts.join(" "));
  if (entry.online_url !== null) lines.push(`Join online: ${entry.online_url}`);
  lines.push(eventUrl(appUrl, entry.event_id));
  return lines.filter((l) => l !== "").join("\n\n");
}

export function toIcsEvent(entry: CalendarEntry, appUrl: string): ics.EventAttributes {
  const event: ics.EventAttributes = {
    uid: eventUid(entry.event_id),
    title: entry.title,
    description: entryDescription(entry, appUrl),
    start: entry.starts_at.getTime(),
    startInputType: "utc",
    startOutputType: "utc",
    end: entry.ends_at.getTime(),
    endInputType: "utc",
    endOutputType: "utc",
    status: entry.status,
    sequence: entry.sequence,
    lastModified: entry.last_modified.getTime(),
    url: eventUrl(appUrl, entry.event_id),
    busyStatus: entry.status === "CANCELLED" ? "FREE" : "BUSY",
  };
  const location = entry.location ?? entry.online_url;
  if (location !== null) event.location = location;
  if (entry.latitude !== null && entry.longitude !== null) event.geo = { lat: entry.latitude, lon: entry.longitude };
  return event;
}

/** A VCALENDAR with one VEVENT per entry (none is a valid, empty calendar). */
export function renderCalendar(entries: readonly CalendarEntry[], options: CalendarOptions): string {
  const header: ics.HeaderAttributes = { productId: "-//Rally//Rally events//EN", method: "PUBLISH" };
  if (options.name !== undefined) header.calName = options.name;
  const { error, value } = ics.createEvents(entries.map((e) => toIcsEvent(e, options.appUrl)), header);
  if (error !== null || value === null) throw new CalendarRenderError(error?.message ?? "the calendar could not be rendered");
  return value;
}
