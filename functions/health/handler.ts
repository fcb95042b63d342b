/**
 * GET /functions/v1/health (verify_jwt = false): is the function runtime up, and can it reach
 * the database? Always 200 while the runtime answers; the database state is in the body so a
 * load balancer and a person can tell the two failures apart.
 */
import { pingDatabase } from "../_shared/db.ts";
import { json } from "../_shared/json.ts";
import { routeByMethod } from "../_shared/router.ts";

/** How long the database gets to answer `select 1` before it counts as unreachable. */
const DB_PING_TIMEOUT_MS = 1_500;

export const handler = routeByMethod({
  GET: async () => {
    const database = await pingDatabase(DB_PING_TIMEOUT_MS);
    return json({ status: "ok", database, time: new Date().toISOString() }, {
      headers: { "Cache-Control": "no-store" },
    });
  },
});
