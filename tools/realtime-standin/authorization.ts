/**
 * Private-channel authorization exactly as Supabase Realtime runs it
 * (Realtime.Tenants.Authorization, lib/realtime/tenants/authorization.ex):
 *
 * - read: in one transaction, insert one probe row per extension checked (`broadcast`, and
 *   `presence` when presence is enabled) into realtime.messages as the connection's own role,
 *   then `set_config('role', …)`, `realtime.topic`, `request.jwt.claims`,
 *   `request.jwt.claim.sub`, `request.jwt.claim.role`, `request.headers` (all local), select
 *   the probe ids back under RLS, and roll back. A probe the user can select means read.
 * - write: same settings, then one INSERT per extension inside a savepoint; `42501` means no
 *   write. Rolled back too.
 *
 * Errors map as Realtime maps them: a missing partition (`23514` on messages) is
 * `missing_partition`, `57014` is `query_canceled`, any other database error is an RLS policy
 * error (the join then answers "Unauthorized: You do not have permissions …").
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";

export type Extension = "broadcast" | "presence";

export interface Policies {
  broadcast: { read: boolean | null; write: boolean | null };
  presence: { read: boolean | null; write: boolean | null };
}

export const emptyPolicies = (): Policies => ({ broadcast: { read: null, write: null }, presence: { read: null, write: null } });

export interface AuthorizationContext {
  topic: string;
  claims: Record<string, unknown>;
  role: string;
  sub: string | null;
  headers: Record<string, string>;
}

export type AuthorizationFailure = "missing_partition" | "query_canceled" | "rls_policy_error";

export class AuthorizationError extends Error {
  constructor(readonly reason: AuthorizationFailure, message: string) {
    super(message);
  }
}

function failureOf(error: unknown): AuthorizationError {
  const pgError = error as { code?: string; table?: string; message?: string };
  const message = pgError.message ?? String(error);
  if (pgError.code === "23514" && (pgError.table === undefined || pgError.table.startsWith("messages"))) {
    return new AuthorizationError("missing_partition", message);
  }
  if (pgError.code === "57014") return new AuthorizationError("query_canceled", message);
  return new AuthorizationError("rls_policy_error", message);
}

async function setConnConfig(client: pg.PoolClient, context: AuthorizationContext): Promise<void> {
  await client.query(
    `select set_config('role', $1, true), set_config('realtime.topic', $2, true),
            set_config('request.jwt.claims', $3, true), set_config('request.jwt.claim.sub', $4, true),
            set_config('request.jwt.claim.role', $5, true), set_config('request.headers', $6, true)`,
    [context.role, context.topic, JSON.stringify(context.claims), context.sub ?? "", context.role, JSON.stringify(context.headers)],
  );
}

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    try {
      return await work(client);
    } finally {
      await client.query("rollback");
    }
  } finally {
    client.release();
  }
}

/** Read policies for the given extensions; the others keep their current value. */
export async function authorizeRead(pool: pg.Pool, context: AuthorizationContext, policies: Policies, extensions: Extension[]): Promise<Policies> {
  try {
    return await inTransaction(pool, async (client) => {
      const probes = extensions.map((extension) => ({ extension, id: randomUUID() }));
      await client.query(
        `insert into realtime.messages (id, topic, extension, inserted_at, updated_at)
         select p.id, $1, p.extension, now(), now()
           from unnest($2::uuid[], $3::text[]) as p (id, extension)`,
        [context.topic, probes.map((p) => p.id), probes.map((p) => p.extension)],
      );
      await setConnConfig(client, context);
      const { rows } = await client.query<{ id: string }>("select m.id from realtime.messages m where m.id = any($1::uuid[])", [probes.map((p) => p.id)]);
      const visible = new Set(rows.map((row) => row.id));
      const next = structuredClone(policies);
      for (const probe of probes) next[probe.extension].read = visible.has(probe.id);
      return next;
    });
  } catch (error) {
    throw failureOf(error);
  }
}

/** Write policies: the extensions not checked are set to false, as Realtime does. */
export async function authorizeWrite(pool: pg.Pool, context: AuthorizationContext, policies: Policies, extensions: Extension[]): Promise<Policies> {
  try {
    return await inTransaction(pool, async (client) => {
      await setConnConfig(client, context);
      const next = structuredClone(policies);
      for (const extension of ["broadcast", "presence"] as const) {
        if (!extensions.includes(extension)) {
          next[extension].write = false;
          continue;
        }
        await client.query("savepoint realtime_write_check");
        try {
          await client.query(
            "insert into realtime.messages (topic, extension, inserted_at, updated_at) values ($1, $2, now(), now())",
            [context.topic, extension],
          );
          await client.query("release savepoint realtime_write_check");
          next[extension].write = true;
        } catch (error) {
          await client.query("rollback to savepoint realtime_write_check");
          if ((error as { code?: string }).code !== "42501") throw error;
          next[extension].write = false;
        }
      }
      return next;
    });
  } catch (error) {
    throw failureOf(error);
  }
}
