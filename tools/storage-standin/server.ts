/**
 * STAND-IN for the Supabase Storage API (storage-api behind the platform gateway), for the local
 * stack and tests only. It is NOT Supabase Storage: every answer carries `Storage-Standin: true`
 * and the status output names it a stand-in. It speaks the routes Rally's storage-purge worker
 * (and a browser showing a public avatar) use, faithful to storage-api's contract for them:
 *
 * - Gateway: every request needs an `apikey` header (the platform gateway answers 401
 *   `{"message": "No API key found in request"}` without one) — supabase-js sends it.
 * - `DELETE /storage/v1/object/{bucket}` with `{"prefixes": [names]}` (supabase-js
 *   `storage.from(bucket).remove(names)`): `Authorization: Bearer <project JWT>` verified with the
 *   JWT secret, else 403 AccessDenied; `prefixes` a non-empty array of strings, else 400. Like
 *   storage-api's `deleteObjects`, in ONE transaction as the caller's role (service_role bypasses
 *   RLS; a user deletes only what the storage.objects policies let them): deletes the
 *   storage.objects rows it finds (`set local storage.allow_delete_query = 'true'`, as storage-api
 *   does), then those objects' bytes from the backend (here an in-memory store); a backend failure
 *   rolls the rows back. Names without a row are skipped silently. Answers 200 with the deleted
 *   objects (storage-api's objectSchema fields), `[]` when none were found.
 * - `GET /storage/v1/object/public/{bucket}/{name}`: the bytes when the bucket is public and the
 *   row exists, else 400 `{statusCode: "404", error: "not_found", message: "Object not found"}` —
 *   what a public avatar URL answers.
 * - Errors in storage-api's shape `{statusCode: "<status>", error, message}`.
 *
 * Fail on demand (`failNext`, `failAlways`, `recover`): answer a 5xx without touching anything,
 * hang past the client's timeout (optionally after deleting: the answer is lost, the work done),
 * or fail the backend delete (rows roll back, 500).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify } from "jose";
import pg from "pg";

export interface StorageFault {
  /** "error": answer `status` (default 503) before doing anything; "hang": answer after `hangMs`;
   *  "backend": the bytes cannot be deleted, so the rows roll back and the answer is a 500. */
  mode: "error" | "hang" | "backend";
  status?: number;
  hangMs?: number;
  /** With "hang": do the deletion first, then hang (the indeterminate case). */
  afterDelete?: boolean;
}

export interface StorageStandinOptions {
  /** Postgres URL the stand-in writes storage.objects with (role postgres, which may SET ROLE to the API roles). */
  dbUrl: string;
  jwtSecret: string;
  /** 0 (default): a free port on 127.0.0.1. */
  port?: number;
  log?: (line: string) => void;
}

export interface DeleteCall {
  bucket: string;
  prefixes: string[];
  role: string | null;
  status: number;
  deleted: string[];
}

export interface StorageStandin {
  /** Base URL: use it as SUPABASE_URL (routes live under /storage/v1). */
  url: string;
  /** Uploads an object as the Storage API would: a storage.objects row and its bytes. */
  putObject(bucket: string, name: string, bytes: Uint8Array, mimetype?: string, ownerId?: string): Promise<void>;
  /** Whether the backend still holds bytes for this object. */
  hasBytes(bucket: string, name: string): boolean;
  /** Every DELETE that reached the stand-in (past the gateway's apikey check). */
  deleteCalls: DeleteCall[];
  failNext(count: number, fault: StorageFault): void;
  failAlways(fault: StorageFault): void;
  recover(): void;
  close(): Promise<void>;
}

const STANDIN_HEADERS = { "Content-Type": "application/json", "Storage-Standin": "true" };

interface Answer {
  status: number;
  body: unknown;
  raw?: Uint8Array;
  contentType?: string;
}

const storageError = (status: number, error: string, message: string): Answer =>
  ({ status, body: { statusCode: String(status), error, message } });

class BackendFailure extends Error {}

export async function startStorageStandin(options: StorageStandinOptions): Promise<StorageStandin> {
  const pool = new pg.Pool({ connectionString: options.dbUrl, max: 4, application_name: "rally-storage-standin" });
  pool.on("error", (error) => options.log?.(`storage stand-in: connection error: ${error.message}`));
  const secret = new TextEncoder().encode(options.jwtSecret);
  const bytes = new Map<string, Uint8Array>();
  const key = (bucket: string, name: string): string => `${bucket}/${name}`;
  const deleteCalls: DeleteCall[] = [];
  let queue: StorageFault[] = [];
  let always: StorageFault | null = null;
  const takeFault = (): StorageFault | null => queue.shift() ?? always;

  async function claimsOf(req: IncomingMessage): Promise<Record<string, unknown> | null> {
    const token = (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "");
    try {
      const { payload } = await jwtVerify(token, secret, { algorithms: ["HS256"] });
      return payload as Record<string, unknown>;
    } catch {
      return null;
    }
  }

  async function deleteObjects(bucket: string, prefixes: string[], claims: Record<string, unknown>, fault: StorageFault | null): Promise<Answer> {
    const role = typeof claims.role === "string" ? claims.role : "anon";
    if (!["anon", "authenticated", "service_role"].includes(role)) return storageError(403, "Unauthorized", "role not allowed");
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('storage.allow_delete_query', 'true', true)",
        [role, JSON.stringify(claims)]);
      const { rows } = await client.query<{ name: string; version: string | null }>(
        `delete from storage.objects where bucket_id = $1 and name = any ($2::text[])
         returning name, bucket_id, owner, owner_id, id, updated_at, created_at, last_accessed_at, metadata, user_metadata, version`,
        [bucket, prefixes]);
      if (fault?.mode === "backend") throw new BackendFailure("the storage backend could not delete the objects");
      await client.query("commit");
      for (const row of rows) bytes.delete(key(bucket, row.name));
      deleteCalls.push({ bucket, prefixes, role, status: 200, deleted: rows.map((r) => r.name) });
      return { status: 200, body: rows };
    } catch (err) {
      await client.query("rollback").catch(() => undefined);
      deleteCalls.push({ bucket, prefixes, role, status: 500, deleted: [] });
      if (err instanceof BackendFailure) return storageError(500, "InternalError", err.message);
      return storageError(500, "DatabaseError", err instanceof Error ? err.message : String(err));
    } finally {
      client.release();
    }
  }

  async function publicObject(bucket: string, name: string): Promise<Answer> {
    const { rows } = await pool.query<{ mimetype: string | null }>(
      `select o.metadata ->> 'mimetype' as mimetype from storage.objects o join storage.buckets b on b.id = o.bucket_id
        where b.public and o.bucket_id = $1 and o.name = $2`, [bucket, name]);
    const data = bytes.get(key(bucket, name));
    const row = rows[0];
    if (row === undefined || data === undefined) return storageError(400, "not_found", "Object not found");
    return { status: 200, body: null, raw: data, contentType: row.mimetype ?? "application/octet-stream" };
  }

  async function route(req: IncomingMessage, body: string): Promise<Answer> {
    if (req.headers.apikey === undefined || req.headers.apikey === "") {
      return { status: 401, body: { message: "No API key found in request" } };
    }
    const url = new URL(req.url ?? "/", "http://standin.local");
    const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
    if (parts[0] !== "storage" || parts[1] !== "v1" || parts[2] !== "object") return storageError(404, "not_found", "Route not found");
    if (req.method === "GET" && parts[3] === "public" && parts.length >= 6) {
      return publicObject(parts[4] as string, parts.slice(5).join("/"));
    }
    if (req.method === "DELETE" && parts.length === 4) {
      const claims = await claimsOf(req);
      if (claims === null) return storageError(403, "Unauthorized", "invalid signature");
      let prefixes: unknown;
      try {
        prefixes = (JSON.parse(body) as { prefixes?: unknown }).prefixes;
      } catch {
        return storageError(400, "Bad Request", "Body is not valid JSON");
      }
      if (!Array.isArray(prefixes) || prefixes.length === 0 || !prefixes.every((p) => typeof p === "string")) {
        return storageError(400, "Bad Request", "body/prefixes must be a non-empty array of strings");
      }
      const fault = takeFault();
      if (fault?.mode === "error") {
        deleteCalls.push({ bucket: parts[3] as string, prefixes, role: null, status: fault.status ?? 503, deleted: [] });
        return storageError(fault.status ?? 503, "ServiceUnavailable", "stand-in: failure injected on demand");
      }
      if (fault?.mode === "hang" && fault.afterDelete !== true) {
        await sleep(fault.hangMs ?? 30_000);
        deleteCalls.push({ bucket: parts[3] as string, prefixes, role: null, status: 504, deleted: [] });
        return storageError(504, "GatewayTimeout", "stand-in: answered late on demand");
      }
      const answer = await deleteObjects(parts[3] as string, prefixes as string[], claims, fault);
      if (fault?.mode === "hang") await sleep(fault.hangMs ?? 30_000);
      return answer;
    }
    return storageError(404, "not_found", "Route not found");
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void route(req, Buffer.concat(chunks).toString("utf8"))
        .catch((err: unknown) => storageError(500, "InternalError", err instanceof Error ? err.message : String(err)))
        .then((answer) => {
          if (res.destroyed) return;
          if (answer.raw !== undefined) {
            res.writeHead(answer.status, { "Content-Type": answer.contentType ?? "application/octet-stream", "Storage-Standin": "true" });
            res.end(answer.raw);
          } else {
            res.writeHead(answer.status, STANDIN_HEADERS);
            res.end(JSON.stringify(answer.body));
          }
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    deleteCalls,
    async putObject(bucket, name, data, mimetype = "image/png", ownerId) {
      await pool.query(
        `insert into storage.objects (bucket_id, name, owner_id, metadata) values ($1, $2, $3, $4)
         on conflict (bucket_id, name) do update set metadata = excluded.metadata, updated_at = now()`,
        [bucket, name, ownerId ?? null, JSON.stringify({ mimetype, size: data.byteLength })]);
      bytes.set(key(bucket, name), data);
    },
    hasBytes: (bucket, name) => bytes.has(key(bucket, name)),
    failNext(count, fault) {
      for (let i = 0; i < count; i++) queue.push(fault);
    },
    failAlways(fault) {
      always = fault;
    },
    recover() {
      queue = [];
      always = null;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
