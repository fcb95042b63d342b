/**
 * The Realtime stand-in mounted on the API gateway under /realtime/v1 (docs/local-stack.md):
 * WebSocket upgrades at /realtime/v1/websocket, plain HTTP under /realtime/v1/api/….
 *
 * It connects as `postgres` for channels: Supabase Realtime connects as `supabase_admin`, the
 * superuser the local contract keeps for the platform's own work; `postgres` has what channels
 * need (REPLICATION for the slot, membership in the API roles to impersonate callers, BYPASSRLS
 * for the read probes). Only the janitor, which creates and drops realtime.messages' daily
 * partitions (owned by supabase_realtime_admin), connects as `supabase_admin` (local password
 * `postgres`), as Realtime's does.
 *
 *   RALLY_REALTIME_ERROR_BACKOFF_MS  pause before a refused join is answered (default 5000, as
 *                                   Realtime's CHANNEL_ERROR_BACKOFF_MS)
 */
import type { ApiService, ServiceFactory } from "../api-gateway/service.ts";
import { dbUrlAs } from "../api-gateway/http.ts";
import { createRealtimeCore } from "./server.ts";

export const createRealtimeService: ServiceFactory = async (context): Promise<ApiService> => {
  const backoff = process.env.RALLY_REALTIME_ERROR_BACKOFF_MS;
  if (backoff !== undefined && backoff !== "" && !(Number.isInteger(Number(backoff)) && Number(backoff) >= 0)) {
    throw new Error(`RALLY_REALTIME_ERROR_BACKOFF_MS must be a whole number of milliseconds, got ${JSON.stringify(backoff)}`);
  }
  const core = await createRealtimeCore({
    dbUrl: context.dbUrl,
    adminDbUrl: dbUrlAs(context.dbUrl, "supabase_admin"),
    jwtSecret: context.jwtSecret,
    log: context.log,
    ...(backoff === undefined || backoff === "" ? {} : { channelErrorBackoffMs: Number(backoff) }),
  });
  return {
    prefix: "/realtime/v1",
    description: "Realtime STAND-IN (tools/realtime-standin; not Supabase Realtime): Broadcast from Database, client broadcast and presence on private channels authorized by RLS; no Postgres Changes",
    handle: async ({ req, res }) => core.handleRequest(req, res),
    upgrade: (req, socket, head) => core.handleUpgrade(req, socket, head),
    close: () => core.close(),
  };
};
