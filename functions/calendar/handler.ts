/**
 * GET /functions/v1/calendar/… (verify_jwt = false: calendar apps send no JWT) — iCalendar files.
 *
 *   GET /calendar/bookings/<booking id>.ics   Authorization: Bearer <the guest's access token>
 *       200 text/calendar: the booking's event (CONFIRMED, TENTATIVE while held or pending, or
 *       CANCELLED); the exact address, location and link only once the booking is confirmed.
 *   GET /calendar/feed/<token>.ics            no credentials: the token is the credential
 *       200 text/calendar: the subscriber's active bookings and the events they host or
 *       co-host, from 30 days ago on (create_calendar_feed() gives the token).
 *
 * Errors: 401 (bookings: no or bad token); 403 not_your_booking; 404 booking_not_found,
 * feed_not_found (unknown, replaced or revoked token), not_found (any other path).
 */
import { z } from "zod";
import { requireUser } from "../_shared/auth.ts";
import { DEFAULT_APP_URL } from "../_shared/alerts/config.ts";
import { type CalendarEntry, renderCalendar } from "../_shared/calendar.ts";
import { withServiceRole, withUserContext } from "../_shared/db.ts";
import { readEnv } from "../_shared/env.ts";
import { notFound, remapDbError } from "../_shared/http-errors.ts";
import { routeByMethod } from "../_shared/router.ts";

/** What the path names, after the function's own name: `bookings/<uuid>[.ics]` or `feed/<token>[.ics]`. */
export const calendarPath = z.union([
  z.object({ kind: z.literal("bookings"), id: z.uuid() }),
  z.object({ kind: z.literal("feed"), token: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }),
]);
export type CalendarPath = z.infer<typeof calendarPath>;

export function parseCalendarPath(pathname: string): CalendarPath | null {
  const segments = pathname.split("/").filter((s) => s !== "");
  const [kind, file] = segments.slice(-2);
  const value = file?.replace(/\.ics$/, "");
  const parsed = calendarPath.safeParse(kind === "feed" ? { kind, token: value } : { kind, id: value });
  return parsed.success ? parsed.data : null;
}

const ENTRY_COLUMNS = `event_id, booking_id, role, title, description, starts_at, ends_at, timezone, location, latitude, longitude,
                       online_url, status, sequence, last_modified, host_name, quantity`;

function calendarResponse(body: string, filename: string, cacheControl: string): Response {
  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": "text/calendar; charset=utf-8",
      "Content-Disposition": `inline; filename="${filename}"`,
      "Cache-Control": cacheControl,
    },
  });
}

const appUrl = (): string => readEnv("RALLY_APP_URL") ?? DEFAULT_APP_URL;

async function bookingCalendar(req: Request, bookingId: string): Promise<Response> {
  const claims = await requireUser(req);
  let entries: CalendarEntry[];
  try {
    entries = await withUserContext(claims, async (db) =>
      (await db.query<CalendarEntry>(`select ${ENTRY_COLUMNS} from private.booking_calendar($1)`, [bookingId])).rows,
    { readOnly: true });
  } catch (err) {
    throw remapDbError(err, { booking_not_found: 404 });
  }
  return calendarResponse(renderCalendar(entries, { appUrl: appUrl() }), `rally-booking-${bookingId}.ics`, "private, no-store");
}

async function feedCalendar(token: string): Promise<Response> {
  const entries = await withServiceRole(async (db) => {
    const { rows: [owner] } = await db.query<{ user_id: string | null }>("select private.calendar_feed_user($1) as user_id", [token]);
    if (owner?.user_id == null) return null;
    return (await db.query<CalendarEntry>(`select ${ENTRY_COLUMNS} from private.calendar_entries($1, null)`, [owner.user_id])).rows;
  });
  if (entries === null) throw notFound("feed_not_found", "No calendar feed has this address (it may have been replaced or revoked).");
  return calendarResponse(renderCalendar(entries, { appUrl: appUrl(), name: "Rally" }), "rally.ics", "private, max-age=300");
}

export const handler = routeByMethod({
  GET: async (req) => {
    const path = parseCalendarPath(new URL(req.url).pathname);
    if (path === null) throw notFound("not_found", "Use /calendar/bookings/<booking id>.ics or /calendar/feed/<token>.ics.");
    return path.kind === "bookings" ? bookingCalendar(req, path.id) : feedCalendar(path.token);
  },
});
