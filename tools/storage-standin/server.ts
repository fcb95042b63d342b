/**
 * STAND-IN for the Supabase Storage API (storage-api), for the local stack and tests only. It is
 * NOT Supabase Storage: every answer carries `Storage-Standin: true` and the status block names
 * it a stand-in. It serves the object routes storage-js calls, doing the SQL storage-api does
 * (src/storage/database/pg.ts, uploader.ts, object.ts), with bytes kept in memory:
 *
 * - Every object operation runs in one transaction scoped like storage-api's
 *   (src/internal/database/postgres/scope.ts): `set_config('role', <JWT role>)`,
 *   `request.jwt.claim.role`, `request.jwt`, `request.jwt.claim.sub`, `request.jwt.claims`,
 *   `request.headers`, `request.method`, `request.path`, `storage.operation`,
 *   `storage.allow_delete_query`; so RLS on storage.objects decides, as the caller.
 *   `Authorization: Bearer <project JWT>` is required (else 400 AccessDenied, as storage-api).
 * - Upload `POST /object/{bucket}/{name}` (`x-upsert: true` to replace), `PUT` (update):
 *   multipart (storage-js with a Blob/File) or a raw body with its Content-Type. The bucket is
 *   read as superuser; its `allowed_mime_types` (wildcards like `image/*`) and the smaller of its
 *   `file_size_limit` and the global `[storage] file_size_limit` of config.toml are enforced;
 *   then the insert (or upsert) is tried as the caller and rolled back (canUpload), the bytes
 *   stored, and the row written as superuser with owner, version and metadata
 *   (`size`, `mimetype`, `eTag`, `cacheControl`, `lastModified`, `contentLength`,
 *   `httpStatusCode`). Answers `{Id, Key}`.
 * - Download `GET|HEAD /object/{bucket}/{name}` and `/object/authenticated/…` (a select as the
 *   caller), `/object/public/{bucket}/{name}` (public buckets only, no RLS), `/object/info/…`.
 * - `POST /object/list/{bucket}` (prefix, search, limit, offset, sortBy; folders first-level,
 *   as storage.search answers), `DELETE /object/{bucket}` (`{prefixes}`) and
 *   `DELETE /object/{bucket}/{name}`.
 * - Signed URLs: `POST /object/sign/{bucket}/{name}` (`{expiresIn}`, the object must be visible
 *   to the caller), `POST /object/sign/{bucket}` (`{expiresIn, paths}`), and
 *   `GET /object/sign/{bucket}/{name}?token=` (HS256 with the JWT secret, bound to the path,
 *   scope `download`).
 * - `GET /bucket` and `GET /bucket/{id}` as the caller (RLS on storage.buckets).
 * - Errors in storage-api's shape `{statusCode: "<code>", code, error, message}` with its HTTP
 *   status (400 for everything but 500s, as storage-api renders them for compatibility).
 *   Anything else (bucket writes, move, copy, signed uploads, image transforms, TUS, S3,
 *   list-v2) answers 501 naming the feature.
 *
 * Fail on demand (`failNext`, `failAlways`, `recover`) for the object delete: answer a 5xx
 * without touching anything, hang past the client's timeout (optionally after deleting), or fail
 * the backend delete (rows roll back, 500).
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify, SignJWT } from "jose";
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
  /** Postgres URL the stand-in connects with (role postgres, which may SET ROLE to the API roles). */
  dbUrl: string;
  jwtSecret: string;
  /** The global upload limit in bytes (config.toml `[storage] file_size_limit`); default 50 MiB. */
  fileSizeLimit?: number;
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

export interface StorageCore {
  /** Serves one request; `path` is the part after /storage/v1 (e.g. `/object/avatars/a.png`). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Uploads an object as the Storage API would: a storage.objects row and its bytes. */
  putObject(bucket: string, name: string, bytes: Uint8Array, mimetype?: string, ownerId?: string): Promise<void>;
  /** Whether the backend still holds bytes for this object. */
  hasBytes(bucket: string, name: string): boolean;
  /** Every DELETE of objects that reached the stand-in. */
  deleteCalls: DeleteCall[];
  failNext(count: number, fault: StorageFault): void;
  failAlways(fault: StorageFault): void;
  recover(): void;
  close(): Promise<void>;
}

export interface StorageStandin extends Omit<StorageCore, "handle"> {
  /** Base URL: use it as SUPABASE_URL (routes live under /storage/v1). */
  url: string;
}

export const DEFAULT_FILE_SIZE_LIMIT = 50 * 1024 * 1024;
const STANDIN_HEADER = { "Storage-Standin": "true" };
const SIGNED_URL_SCOPE = "download";

/** storage-api's error (StorageBackendError.render) with its HTTP status. */
class StorageError extends Error {
  constructor(readonly status: number, readonly code: string, readonly error: string, message: string) {
    super(message);
  }
  get httpStatus(): number {
    return this.status >= 500 ? 500 : 400;
  }
}

const ERRORS = {
  accessDenied: (message: string) => new StorageError(403, "AccessDenied", "Unauthorized", message),
  noSuchBucket: () => new StorageError(404, "NoSuchBucket", "Bucket not found", "Bucket not found"),
  noSuchKey: () => new StorageError(404, "NoSuchKey", "not_found", "Object not found"),
  keyAlreadyExists: () => new StorageError(409, "KeyAlreadyExists", "Duplicate", "The resource already exists"),
  invalidMimeType: (mimeType: string) => new StorageError(415, "InvalidMimeType", "invalid_mime_type", `mime type ${mimeType} is not supported`),
  entityTooLarge: () => new StorageError(413, "EntityTooLarge", "Payload too large", "The object exceeded the maximum allowed size"),
  invalidRequest: (message: string) => new StorageError(400, "InvalidRequest", "InvalidRequest", message),
  invalidJwt: (message: string) => new StorageError(400, "InvalidJWT", "InvalidJWT", message),
  invalidSignature: (message = "Invalid signature") => new StorageError(400, "InvalidSignature", "InvalidSignature", message),
  internal: (message: string) => new StorageError(500, "InternalError", "InternalError", message),
  notSupported: (feature: string) => new StorageError(501, "NotImplemented", "not_implemented", `the Storage stand-in does not support ${feature}`),
};

/** Maps a Postgres error as storage-api's DatabaseError mapping does. */
function fromDatabase(error: unknown): StorageError {
  const pgError = error as { code?: string; message?: string };
  if (pgError.code === "42501") {
    return ERRORS.accessDenied((pgError.message ?? "").includes("row-level security") ? "new row violates row-level security policy" : pgError.message ?? "Access denied");
  }
  if (pgError.code === "23505") return ERRORS.keyAlreadyExists();
  return ERRORS.internal(pgError.message ?? String(error));
}

interface Scope {
  role: string;
  claims: Record<string, unknown>;
  jwt: string;
  headers: Record<string, string>;
  method: string;
  path: string;
}

interface ObjectRow {
  id: string;
  name: string;
  bucket_id: string;
  owner: string | null;
  owner_id: string | null;
  version: string | null;
  metadata: Record<string, unknown> | null;
  user_metadata: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  last_accessed_at: Date;
}

class BackendFailure extends Error {}

interface Upload {
  bytes: Uint8Array;
  mimeType: string;
  cacheControl: string;
  userMetadata: Record<string, unknown> | null;
}

const isUuid = (value: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** storage-api's validateMimeType: exact types or `type/*`. */
function mimeAllowed(mimeType: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const [type] = mimeType.split("/");
  return allowed.some((entry) => entry === mimeType || (entry.endsWith("/*") && entry.slice(0, -2) === type));
}

/** storage-api's mustBeValidKey. */
function validKey(name: string): boolean {
  return name !== "" && !name.split("/").some((part) => part === "" || part === "." || part === "..")
    && /^(\w|\/|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$/u.test(name);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function createStorageCore(options: Omit<StorageStandinOptions, "port">): StorageCore {
  const pool = new pg.Pool({ connectionString: options.dbUrl, max: 6, application_name: "rally-storage-standin" });
  pool.on("error", (error) => options.log?.(`storage stand-in: connection error: ${error.message}`));
  const secret = new TextEncoder().encode(options.jwtSecret);
  const globalLimit = options.fileSizeLimit ?? DEFAULT_FILE_SIZE_LIMIT;
  const bytes = new Map<string, Uint8Array>();
  const key = (bucket: string, name: string): string => `${bucket}/${name}`;
  const deleteCalls: DeleteCall[] = [];
  let queue: StorageFault[] = [];
  let always: StorageFault | null = null;
  const takeFault = (): StorageFault | null => queue.shift() ?? always;

  /** One transaction scoped to the caller (or the superuser), as storage-api runs its queries. */
  async function inScope<T>(scope: Scope, operation: string, work: (client: pg.PoolClient) => Promise<T>, commit = true): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query("begin");
      try {
        await client.query(
          `select set_config('role', $1, true), set_config('request.jwt.claim.role', $2, true), set_config('request.jwt', $3, true),
                  set_config('request.jwt.claim.sub', $4, true), set_config('request.jwt.claims', $5, true),
                  set_config('request.headers', $6, true), set_config('request.method', $7, true),
                  set_config('request.path', $8, true), set_config('storage.operation', $9, true),
                  set_config('storage.allow_delete_query', 'true', true)`,
          [scope.role, String(scope.claims.role ?? scope.role), scope.jwt, typeof scope.claims.sub === "string" ? scope.claims.sub : "",
            JSON.stringify(scope.claims), JSON.stringify(scope.headers), scope.method, scope.path, operation],
        );
        const result = await work(client);
        await client.query(commit ? "commit" : "rollback");
        return result;
      } catch (error) {
        await client.query("rollback").catch(() => undefined);
        throw error;
      }
    } finally {
      client.release();
    }
  }

  const superUser = (scope: Scope): Scope => ({ ...scope, role: "postgres" });

  async function scopeOf(req: IncomingMessage, path: string): Promise<Scope> {
    const jwt = (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "");
    let claims: Record<string, unknown>;
    try {
      claims = (await jwtVerify(jwt, secret, { algorithms: ["HS256"] })).payload as Record<string, unknown>;
    } catch (error) {
      throw ERRORS.accessDenied(error instanceof Error ? error.message : "invalid JWT");
    }
    const role = typeof claims.role === "string" ? claims.role : "anon";
    if (!["anon", "authenticated", "service_role"].includes(role)) throw ERRORS.accessDenied("Access denied: Invalid role");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
    return { role, claims, jwt, headers, method: req.method ?? "GET", path };
  }

  async function findBucket(bucket: string, scope: Scope): Promise<{ id: string; public: boolean; file_size_limit: string | null; allowed_mime_types: string[] | null }> {
    const row = await inScope(superUser(scope), "storage.bucket.get", async (client) =>
      (await client.query<{ id: string; public: boolean; file_size_limit: string | null; allowed_mime_types: string[] | null }>(
        "select id, public, file_size_limit, allowed_mime_types from storage.buckets where id = $1", [bucket])).rows[0]);
    if (row === undefined) throw ERRORS.noSuchBucket();
    return row;
  }

  async function findObject(bucket: string, name: string, scope: Scope, operation: string): Promise<ObjectRow> {
    const row = await inScope(scope, operation, async (client) =>
      (await client.query<ObjectRow>("select * from storage.objects where name = $1 and bucket_id = $2 limit 1", [name, bucket])).rows[0])
      .catch((error: unknown) => {
        throw error instanceof StorageError ? error : fromDatabase(error);
      });
    if (row === undefined) throw ERRORS.noSuchKey();
    return row;
  }

  async function parseUpload(req: IncomingMessage): Promise<Upload> {
    const body = await readBody(req);
    const contentType = req.headers["content-type"] ?? "";
    if (contentType.startsWith("multipart/form-data")) {
      const form = await new Request("http://standin.local/", { method: "POST", headers: { "content-type": contentType }, body: new Uint8Array(body) }).formData();
      let file: File | null = null;
      for (const value of form.values()) if (typeof value !== "string") file ??= value;
      if (file === null) throw ERRORS.invalidRequest("No content provided");
      const metadata = form.get("metadata");
      return {
        bytes: new Uint8Array(await file.arrayBuffer()),
        mimeType: file.type === "" ? "text/plain" : file.type,
        cacheControl: `max-age=${typeof form.get("cacheControl") === "string" ? String(form.get("cacheControl")) : "3600"}`,
        userMetadata: typeof metadata === "string" && metadata !== "" ? JSON.parse(metadata) as Record<string, unknown> : null,
      };
    }
    const xMetadata = req.headers["x-metadata"];
    return {
      bytes: new Uint8Array(body),
      mimeType: contentType === "" ? "text/plain;charset=UTF-8" : contentType,
      cacheControl: typeof req.headers["cache-control"] === "string" ? req.headers["cache-control"] : "no-cache",
      userMetadata: typeof xMetadata === "string" ? JSON.parse(Buffer.from(xMetadata, "base64").toString("utf8")) as Record<string, unknown> : null,
    };
  }

  async function upload(req: IncomingMessage, bucket: string, name: string, isUpsert: boolean, scope: Scope): Promise<unknown> {
    if (!validKey(name)) throw ERRORS.invalidRequest(`Invalid key: ${name}`);
    const row = await findBucket(bucket, scope);
    const file = await parseUpload(req);
    const mimeType = file.mimeType.split(";")[0]?.trim() ?? file.mimeType;
    if (!mimeAllowed(mimeType, row.allowed_mime_types ?? [])) throw ERRORS.invalidMimeType(mimeType);
    const limit = Math.min(globalLimit, row.file_size_limit === null ? Infinity : Number(row.file_size_limit));
    if (file.bytes.byteLength > limit) throw ERRORS.entityTooLarge();
    const owner = typeof scope.claims.sub === "string" ? scope.claims.sub : null;
    const version = randomUUID();
    const permission = { mimetype: file.mimeType, contentLength: file.bytes.byteLength };
    // canUpload: the insert (or upsert) as the caller, rolled back.
    await inScope(scope, "storage.object.upload", async (client) => {
      const sql = isUpsert
        ? `insert into storage.objects (name, owner, owner_id, bucket_id, metadata, user_metadata, version) values ($1, $2, $3, $4, $5, $6, '1')
           on conflict (name, bucket_id) do update set metadata = excluded.metadata, user_metadata = excluded.user_metadata,
             version = excluded.version, owner = excluded.owner, owner_id = excluded.owner_id returning *`
        : `insert into storage.objects (name, owner, owner_id, bucket_id, metadata, user_metadata, version) values ($1, $2, $3, $4, $5, $6, '1')`;
      await client.query(sql, [name, owner !== null && isUuid(owner) ? owner : null, owner, bucket, JSON.stringify(permission), JSON.stringify(file.userMetadata)]);
    }, false).catch((error: unknown) => {
      throw fromDatabase(error);
    });
    const eTag = `"${createHash("md5").update(file.bytes).digest("hex")}"`;
    const metadata = {
      eTag, size: file.bytes.byteLength, mimetype: file.mimeType, cacheControl: file.cacheControl,
      lastModified: new Date().toUTCString(), contentLength: file.bytes.byteLength, httpStatusCode: 200,
    };
    bytes.set(key(bucket, `${name}\u0000${version}`), file.bytes);
    // completeUpload as superuser: lock, upsert the row, drop the previous version's bytes.
    const stored = await inScope(superUser(scope), "storage.object.upload", async (client) => {
      const previous = (await client.query<{ version: string | null }>(
        "select version from storage.objects where name = $1 and bucket_id = $2 for update", [name, bucket])).rows[0];
      const { rows } = await client.query<ObjectRow>(
        `insert into storage.objects (name, owner, owner_id, bucket_id, metadata, user_metadata, version) values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (name, bucket_id) do update set metadata = excluded.metadata, user_metadata = excluded.user_metadata,
           version = excluded.version, owner = excluded.owner, owner_id = excluded.owner_id, updated_at = now() returning *`,
        [name, owner !== null && isUuid(owner) ? owner : null, owner, bucket, JSON.stringify(metadata), JSON.stringify(file.userMetadata), version]);
      return { row: rows[0] as ObjectRow, previous: previous?.version ?? null };
    }).catch((error: unknown) => {
      bytes.delete(key(bucket, `${name}\u0000${version}`));
      throw fromDatabase(error);
    });
    bytes.delete(key(bucket, `${name}\u0000${version}`));
    bytes.set(key(bucket, name), file.bytes);
    return { Id: stored.row.id, Key: `${bucket}/${name}` };
  }

  function sendObject(res: ServerResponse, row: ObjectRow, bucket: string, method: string): void {
    const data = bytes.get(key(bucket, row.name));
    if (data === undefined) throw ERRORS.noSuchKey();
    const metadata = row.metadata ?? {};
    res.writeHead(200, {
      ...STANDIN_HEADER,
      "Content-Type": String(metadata.mimetype ?? "application/octet-stream"),
      "Content-Length": String(data.byteLength),
      "Cache-Control": String(metadata.cacheControl ?? "no-cache"),
      ETag: String(metadata.eTag ?? ""),
      "Last-Modified": new Date(row.updated_at).toUTCString(),
    });
    res.end(method === "HEAD" ? undefined : data);
  }

  async function deleteObjects(bucket: string, prefixes: string[], scope: Scope, fault: StorageFault | null): Promise<unknown> {
    try {
      const rows = await inScope(scope, "storage.object.delete_many", async (client) => {
        const { rows: deleted } = await client.query<ObjectRow>(
          `delete from storage.objects where bucket_id = $1 and name = any ($2::text[])
           returning name, bucket_id, owner, owner_id, id, updated_at, created_at, last_accessed_at, metadata, user_metadata, version`,
          [bucket, prefixes]);
        if (fault?.mode === "backend") throw new BackendFailure("the storage backend could not delete the objects");
        return deleted;
      });
      for (const row of rows) bytes.delete(key(bucket, row.name));
      deleteCalls.push({ bucket, prefixes, role: scope.role, status: 200, deleted: rows.map((r) => r.name) });
      return rows;
    } catch (error) {
      deleteCalls.push({ bucket, prefixes, role: scope.role, status: 500, deleted: [] });
      if (error instanceof BackendFailure) throw ERRORS.internal(error.message);
      throw fromDatabase(error);
    }
  }

  async function list(bucket: string, body: Record<string, unknown>, scope: Scope): Promise<unknown> {
    let prefix = typeof body.prefix === "string" ? body.prefix : "";
    if (prefix.length > 0 && !prefix.endsWith("/")) prefix = `${prefix}/`;
    const search = typeof body.search === "string" ? body.search : "";
    const limit = Math.min(Number(body.limit ?? 100) || 100, 1500);
    const offset = Number(body.offset ?? 0) || 0;
    const sortBy = (body.sortBy ?? {}) as { column?: unknown; order?: unknown };
    const column = ["name", "updated_at", "created_at", "last_accessed_at"].includes(String(sortBy.column)) ? String(sortBy.column) : "name";
    const order = String(sortBy.order ?? "asc").toLowerCase() === "desc" ? "desc" : "asc";
    const like = (prefix + search).replace(/[\\%_]/g, (c) => `\\${c}`);
    const start = prefix === "" ? 1 : prefix.split("/").length;
    const levels = (prefix + search).split("/").length;
    // storage.search (the Storage API's own function): the next level below the prefix, folders
    // as name-only rows, files with their metadata; as the caller, so RLS filters both.
    return inScope(scope, "storage.object.list", async (client) => (await client.query(
      `select * from (
         select distinct on (folder) folder as name, null::uuid as id, null::timestamptz as updated_at, null::timestamptz as created_at,
                null::timestamptz as last_accessed_at, null::jsonb as metadata
           from (select array_to_string(path_tokens[$1:$2], '/') as folder from storage.objects
                  where name ilike $3 || '%' and bucket_id = $4 and array_length(path_tokens, 1) <> $2) f
         union all
         select array_to_string(path_tokens[$1:$2], '/'), id, updated_at, created_at, last_accessed_at, metadata from storage.objects
          where name ilike $3 || '%' and bucket_id = $4 and array_length(path_tokens, 1) = $2
       ) entries order by ${column === "name" ? `name collate "C" ${order}` : `(id is not null), ${column} ${order}`} limit $5 offset $6`,
      [start, levels, like, bucket, limit, offset])).rows).catch((error: unknown) => {
      throw fromDatabase(error);
    });
  }

  async function sign(bucket: string, name: string, expiresIn: number): Promise<string> {
    const token = await new SignJWT({ url: `${bucket}/${name}`, scope: SIGNED_URL_SCOPE })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt().setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn).sign(secret);
    return `/object/sign/${bucket}/${name}?token=${token}`;
  }

  const expiresInOf = (body: Record<string, unknown>): number => {
    const value = Number(body.expiresIn);
    if (!Number.isInteger(value) || value < 1) throw ERRORS.invalidRequest("body/expiresIn must be >= 1");
    return value;
  };

  async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const text = (await readBody(req)).toString("utf8");
    if (text === "") return {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      return parsed as Record<string, unknown>;
    } catch {
      throw ERRORS.invalidRequest("Body is not valid JSON");
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<unknown> {
    const method = req.method ?? "GET";
    // `path` is after /storage/v1 (the gateway hands it over); the query comes from the request.
    const url = new URL(path.split("?")[0] ?? "/", "http://standin.local");
    url.search = new URL(req.url ?? "/", "http://standin.local").search;
    const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
    const [area, first, second] = parts;
    const rest = (from: number): string => parts.slice(from).join("/");
    if (area === "bucket") {
      if (method !== "GET") throw ERRORS.notSupported("bucket changes through the API (buckets come from the storage_buckets migration)");
      const scope = await scopeOf(req, path);
      const rows = await inScope(scope, "storage.bucket.list", async (client) => (await client.query(
        `select id, name, owner, public, file_size_limit, allowed_mime_types, created_at, updated_at from storage.buckets
          ${first === undefined ? "" : "where id = $1"} order by id`, first === undefined ? [] : [first])).rows).catch((error: unknown) => {
        throw fromDatabase(error);
      });
      if (first === undefined) return rows;
      if (rows[0] === undefined) throw ERRORS.noSuchBucket();
      return rows[0];
    }
    if (area !== "object" || first === undefined) throw ERRORS.notSupported(`${method} ${url.pathname}`);

    if (first === "public" && (method === "GET" || method === "HEAD") && parts.length >= 4) {
      const bucket = second as string;
      const name = rest(3);
      const found = await pool.query<ObjectRow>(
        `select o.* from storage.objects o join storage.buckets b on b.id = o.bucket_id where b.public and o.bucket_id = $1 and o.name = $2`,
        [bucket, name]);
      const row = found.rows[0];
      if (row === undefined) {
        const bucketRow = await pool.query("select 1 from storage.buckets where id = $1 and public", [bucket]);
        throw bucketRow.rowCount === 0 ? ERRORS.noSuchBucket() : ERRORS.noSuchKey();
      }
      sendObject(res, row, bucket, method);
      return undefined;
    }
    if (first === "sign" && method === "GET" && parts.length >= 4) {
      const bucket = second as string;
      const name = rest(3);
      const token = url.searchParams.get("token") ?? "";
      let payload: Record<string, unknown>;
      try {
        payload = (await jwtVerify(token, secret, { algorithms: ["HS256"] })).payload as Record<string, unknown>;
      } catch (error) {
        throw ERRORS.invalidJwt(error instanceof Error ? error.message : "Invalid JWT");
      }
      if (payload.scope !== undefined && payload.scope !== SIGNED_URL_SCOPE) throw ERRORS.invalidSignature(`Token is not scoped for ${SIGNED_URL_SCOPE}`);
      if (payload.url !== `${bucket}/${name}`) throw ERRORS.invalidSignature();
      const row = (await pool.query<ObjectRow>("select * from storage.objects where bucket_id = $1 and name = $2", [bucket, name])).rows[0];
      if (row === undefined) throw ERRORS.noSuchKey();
      sendObject(res, row, bucket, method);
      return undefined;
    }

    const scope = await scopeOf(req, path);
    if (first === "sign" && method === "POST") {
      const body = await jsonBody(req);
      const expiresIn = expiresInOf(body);
      if (parts.length >= 4) {
        const bucket = second as string;
        const name = rest(3);
        await findObject(bucket, name, scope, "storage.object.sign");
        return { signedURL: await sign(bucket, name, expiresIn) };
      }
      const bucket = second as string;
      const paths = body.paths;
      if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string")) throw ERRORS.invalidRequest("body/paths must be an array of strings");
      const visible = await inScope(scope, "storage.object.sign_many", async (client) => new Set((await client.query<{ name: string }>(
        "select name from storage.objects where bucket_id = $1 and name = any ($2::text[])", [bucket, paths])).rows.map((r) => r.name)));
      return Promise.all((paths as string[]).map(async (name) => visible.has(name)
        ? { error: null, path: name, signedURL: await sign(bucket, name, expiresIn) }
        : { error: "Either the object does not exist or you do not have access to it", path: name, signedURL: null }));
    }
    if (first === "list" && method === "POST" && second !== undefined) {
      return list(second, await jsonBody(req), scope);
    }
    if (first === "info" && method === "GET") {
      const offset = second === "authenticated" || second === "public" ? 3 : 2;
      const bucket = parts[offset];
      if (bucket === undefined) throw ERRORS.notSupported(`${method} ${url.pathname}`);
      const row = await findObject(bucket, rest(offset + 1), scope, "storage.object.info");
      const metadata = row.metadata ?? {};
      return {
        id: row.id, name: row.name, version: row.version, bucket_id: row.bucket_id, size: metadata.size ?? null,
        content_type: metadata.mimetype ?? null, cache_control: metadata.cacheControl ?? null, etag: metadata.eTag ?? null,
        metadata: row.user_metadata, last_modified: row.updated_at, created_at: row.created_at,
      };
    }
    if (["list", "info", "sign", "move", "copy", "upload", "list-v2"].includes(first)) {
      throw ERRORS.notSupported(`${method} /object/${first}`);
    }
    // /object/{bucket}[/{name}] and /object/authenticated/{bucket}/{name}
    const authenticated = first === "authenticated";
    const bucket = authenticated ? second : first;
    const name = rest(authenticated ? 3 : 2);
    if (bucket === undefined) throw ERRORS.notSupported(`${method} ${url.pathname}`);
    if ((method === "GET" || method === "HEAD") && name !== "") {
      sendObject(res, await findObject(bucket, name, scope, "storage.object.download"), bucket, method);
      return undefined;
    }
    if (authenticated) throw ERRORS.notSupported(`${method} ${url.pathname}`);
    if (method === "POST" && name !== "") return upload(req, bucket, name, req.headers["x-upsert"] === "true", scope);
    if (method === "PUT" && name !== "") return upload(req, bucket, name, true, scope);
    if (method === "DELETE") {
      const prefixes = name !== "" ? [name] : (await jsonBody(req)).prefixes;
      if (!Array.isArray(prefixes) || prefixes.length === 0 || !prefixes.every((p) => typeof p === "string")) {
        throw ERRORS.invalidRequest("body/prefixes must be a non-empty array of strings");
      }
      const fault = takeFault();
      if (fault?.mode === "error") {
        deleteCalls.push({ bucket, prefixes, role: null, status: fault.status ?? 503, deleted: [] });
        throw new StorageError(fault.status ?? 503, "ServiceUnavailable", "ServiceUnavailable", "stand-in: failure injected on demand");
      }
      if (fault?.mode === "hang" && fault.afterDelete !== true) {
        await sleep(fault.hangMs ?? 30_000);
        deleteCalls.push({ bucket, prefixes, role: null, status: 504, deleted: [] });
        throw new StorageError(504, "GatewayTimeout", "GatewayTimeout", "stand-in: answered late on demand");
      }
      const deleted = await deleteObjects(bucket, prefixes as string[], scope, fault);
      if (fault?.mode === "hang") await sleep(fault.hangMs ?? 30_000);
      if (name !== "") {
        if ((deleted as unknown[]).length === 0) throw ERRORS.noSuchKey();
        return { message: "Successfully deleted" };
      }
      return deleted;
    }
    throw ERRORS.notSupported(`${method} ${url.pathname}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const body = await route(req, res, path);
      if (res.headersSent || res.destroyed) return;
      res.writeHead(200, { "Content-Type": "application/json", ...STANDIN_HEADER });
      res.end(JSON.stringify(body));
    } catch (caught) {
      if (res.headersSent || res.destroyed) return;
      const error = caught instanceof StorageError ? caught : ERRORS.internal(caught instanceof Error ? caught.message : String(caught));
      if (!(caught instanceof StorageError)) options.log?.(`storage stand-in: ${req.method} ${path}: ${caught instanceof Error ? caught.stack : String(caught)}`);
      // Injected 5xx faults keep their status so clients see what a failing Storage API answers.
      const status = error.code === "ServiceUnavailable" || error.code === "GatewayTimeout" ? error.status : error.status === 501 ? 501 : error.httpStatus;
      req.resume();
      res.writeHead(status, { "Content-Type": "application/json", ...STANDIN_HEADER });
      res.end(JSON.stringify({ statusCode: String(error.status), code: error.code, error: error.error, message: error.message }));
    }
  }

  return {
    handle,
    deleteCalls,
    async putObject(bucket, name, data, mimetype = "image/png", ownerId) {
      await pool.query(
        `insert into storage.objects (bucket_id, name, owner_id, metadata, version) values ($1, $2, $3, $4, $5)
         on conflict (bucket_id, name) do update set metadata = excluded.metadata, updated_at = now()`,
        [bucket, name, ownerId ?? null, JSON.stringify({ mimetype, size: data.byteLength }), randomUUID()]);
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
    close: () => pool.end(),
  };
}

/** The stand-in on its own port (tests): routes under /storage/v1. */
export async function startStorageStandin(options: StorageStandinOptions): Promise<StorageStandin> {
  const core = createStorageCore(options);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").replace(/^\/storage\/v1(?=\/|$)/, "");
    if (path === req.url) {
      req.resume();
      res.writeHead(404, { "Content-Type": "application/json", ...STANDIN_HEADER });
      res.end(JSON.stringify({ statusCode: "404", code: "NotFound", error: "not_found", message: "Route not found" }));
      return;
    }
    void core.handle(req, res, path === "" ? "/" : path);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const { handle: _handle, ...rest } = core;
  return {
    ...rest,
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await core.close();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
