/**
 * The recurring-series and calendar functions under Deno, over HTTP through the functions
 * gateway: the `rrule` and `ics` npm packages must load and run in the edge runtime as they do in
 * Node (vitest covers the behaviour; this proves the runtime).
 *
 *   deno test --allow-all --config functions/deno.json tests/smoke/
 */
import { assert, canCreateUsers, deno, jwtSecret, startGateway } from "./gateway.ts";
import { asUser, closeTestPools } from "../support/db.ts";
import { addTicketType, createEvent, createHost, publishEvent } from "../support/events.ts";
import type { TestUser } from "../support/users.ts";

deno.test({
  name: "event-series and calendar run under Deno",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const gateway = await startGateway({ ...deno.env.toObject(), RALLY_FUNCTIONS_PORT: "0", SUPABASE_JWT_SECRET: jwtSecret });
    try {
      let host: TestUser | undefined;
      let eventId = "";

      await t.step({
        name: "POST /event-series expands a rule with rrule and makes the dates",
        ignore: !canCreateUsers,
        fn: async () => {
          host = await createHost();
          const start = new Date(Date.now() + 15 * 24 * 3600 * 1000);
          const event = await createEvent(host, { starts_at: start, ends_at: new Date(start.getTime() + 2 * 3600 * 1000), timezone: "America/New_York" });
          eventId = event.id;
          await addTicketType(host, event.id);
          await publishEvent(host, event.id);
          const res = await fetch(`${gateway.baseUrl}/event-series`, {
            method: "POST",
            headers: { Authorization: `Bearer ${host.token}`, "Content-Type": "application/json" },
            body: JSON.stringify({ event_id: eventId, rrule: "FREQ=DAILY;COUNT=3" }),
          });
          const body = (await res.json()) as { occurrences?: unknown[] };
          assert(res.status === 201, `event-series answered ${res.status}: ${JSON.stringify(body)}\n${gateway.output()}`);
          assert(body.occurrences?.length === 3, `occurrences: ${JSON.stringify(body.occurrences)}`);
        },
      });

      await t.step({
        name: "GET /calendar/feed/<token>.ics renders the host's dates with ics, without credentials",
        ignore: !canCreateUsers,
        fn: async () => {
          if (host === undefined) throw new Error("the series step did not run");
          const [feed] = (await asUser(host.claims, (db) => db.query<{ path: string }>("select path from public.create_calendar_feed()"))).rows;
          const res = await fetch(`${gateway.baseUrl}${String(feed?.path).replace(/^\/functions\/v1/, "")}`);
          const text = await res.text();
          assert(res.status === 200, `calendar answered ${res.status}: ${text}\n${gateway.output()}`);
          assert(res.headers.get("content-type") === "text/calendar; charset=utf-8", `content type ${res.headers.get("content-type")}`);
          assert(text.startsWith("BEGIN:VCALENDAR\r\n") && text.trimEnd().endsWith("END:VCALENDAR"), "a whole VCALENDAR");
          assert((text.match(/BEGIN:VEVENT/g) ?? []).length === 3, `three events in:\n${text}`);
          assert(text.includes(`UID:${eventId}@rally`), "the first date's UID");
        },
      });
    } finally {
      await gateway.stop();
      await closeTestPools();
    }
  },
});
