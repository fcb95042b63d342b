/**
 * POST /functions/v1/event-series (verify_jwt = true) — a host repeats an event on an RFC 5545
 * recurrence rule.
 *
 *   request   { "event_id": "<uuid>", "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=10", "preview"?: false }
 *   201       { "series_id", "rrule", "timezone", "occurrences": [{ "event_id", "position", "starts_at", "ends_at" }] }
 *   200       the same with "preview": true — the dates the rule gives, nothing written
 *             (series_id null, event_id null for dates not made yet)
 *
 * The event (draft or published, not begun, not already in a series; its host or a managing
 * co-host) is the first occurrence; the rule is expanded in the event's own time zone from its
 * local start (functions/_shared/recurrence.ts) and each later date becomes an ordinary event
 * (private.create_event_series). UNTIL is read in the event's local time.
 *
 * Errors: 400 validation_failed, invalid_rrule, unsupported_rrule, rrule_unbounded,
 * too_many_occurrences, rrule_not_synchronized, series_too_short, series_too_long; 401; 403
 * not_event_staff; 404 event_not_found; 409 already_in_series, event_closed, event_in_past.
 */
import { z } from "zod";
import { requireUser } from "../_shared/auth.ts";
import { remapDbError } from "../_shared/http-errors.ts";
import { withUserContext } from "../_shared/db.ts";
import { json, readJson } from "../_shared/json.ts";
import { expandRecurrence, recurrenceRuleText } from "../_shared/recurrence.ts";
import { routeByMethod } from "../_shared/router.ts";

export const body = z.object({
  event_id: z.uuid().describe("the event to repeat: the series' first occurrence"),
  rrule: z.string().min(1).max(500).describe("an RFC 5545 RRULE value (FREQ DAILY | WEEKLY | MONTHLY | YEARLY, with COUNT or UNTIL), e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10"),
  preview: z.boolean().default(false).describe("true: answer the dates without making the series"),
});

interface Occurrence {
  event_id: string | null;
  series_position: number;
  starts_at: Date;
  ends_at: Date;
}

const STATUS_BY_CODE = {
  event_not_found: 404,
  already_in_series: 409,
  event_closed: 409,
  event_in_past: 409,
} as const;

export const handler = routeByMethod({
  POST: async (req) => {
    const claims = await requireUser(req);
    const input = await readJson(req, body);
    const rule = recurrenceRuleText(input.rrule);
    let made: { timezone: string; occurrences: Occurrence[] };
    try {
      made = await withUserContext(claims, async (db) => {
        // Locks the event and checks who asks before the rule is expanded.
        const { rows: [template] } = await db.query<{ local_start: string; timezone: string }>(
          `select to_char(local_start, 'YYYY-MM-DD"T"HH24:MI:SS.US') as local_start, timezone from private.series_template($1)`,
          [input.event_id]);
        if (template === undefined) throw new Error("series_template returned no row");
        const localStarts = expandRecurrence(rule, template.local_start);
        const { rows } = await db.query<Occurrence>(
          `select event_id, series_position, starts_at, ends_at
             from private.create_event_series($1, $2, $3::timestamp[], $4) order by series_position`,
          [input.event_id, rule, localStarts, input.preview]);
        return { timezone: template.timezone, occurrences: rows };
      });
    } catch (err) {
      throw remapDbError(err, STATUS_BY_CODE);
    }
    return json({
      series_id: input.preview ? null : input.event_id,
      rrule: rule,
      timezone: made.timezone,
      occurrences: made.occurrences.map((o) => ({
        event_id: o.event_id,
        position: o.series_position,
        starts_at: new Date(o.starts_at).toISOString(),
        ends_at: new Date(o.ends_at).toISOString(),
      })),
    }, { status: input.preview ? 200 : 201 });
  },
});
