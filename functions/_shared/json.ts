/**
 * JSON in and out. Responses are always `application/json; charset=utf-8`; request bodies are
 * parsed with a zod schema so handlers only ever see typed, validated input.
 */
import type { z } from "zod";
import { HttpError, payloadTooLarge, validationError } from "./http-errors.ts";

const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON response (200 unless told otherwise). */
export function json(body: unknown, init: { status?: number; headers?: HeadersInit } = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("Content-Type", JSON_TYPE);
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers });
}

/** The body cap of the small JSON endpoints (checkout, connect-onboarding, contact-points, workers). */
export const SMALL_BODY_BYTES = 4 * 1024;

/**
 * The request body as text, read no further than `maxBytes`: a declared Content-Length over the
 * cap is refused before anything is read, and a body without one (chunked) is read chunk by chunk
 * and abandoned as soon as it passes the cap. Either way 413 `payload_too_large`, so a client
 * cannot make a function buffer 100 MB to learn it was too big. Bytes are decoded as UTF-8.
 */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const declared = req.headers.get("Content-Length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > maxBytes) {
    await req.body?.cancel().catch(() => undefined);
    throw payloadTooLarge(maxBytes);
  }
  if (req.body === null) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw payloadTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(body);
}

/**
 * Parses the request body as JSON and validates it: 413 `payload_too_large` past `maxBytes`
 * (read no further), 400 `invalid_json` when it is not JSON, 400 `validation_failed` (zod issues
 * in details) when it does not match the schema.
 */
export async function readJson<S extends z.ZodType>(req: Request, schema: S, maxBytes = SMALL_BODY_BYTES): Promise<z.infer<S>> {
  const text = await readBodyText(req, maxBytes);
  let value: unknown;
  try {
    value = text === "" ? undefined : JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "The request body is not valid JSON.");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/** Validates URL search params (each key's last value) with a zod schema. */
export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw validationError(parsed.error, "The query parameters are not valid.");
  return parsed.data;
}

/** A NUL, or a surrogate without its pair. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when every string in `value` (keys included) can be stored in PostgreSQL's text and
 * jsonb: no NUL character and no unpaired UTF-16 surrogate. JSON allows both (`"\u0000"`,
 * `"\udfff"`), PostgreSQL refuses them (22P05/22P02), so a body carrying them must be refused
 * as bad input before it reaches the database, not fail there with a 500.
 */
export function storableInPostgres(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === "string") {
      if (UNSTORABLE.test(item)) return false;
    } else if (Array.isArray(item)) {
      for (const inner of item) pending.push(inner);
    } else if (typeof item === "object" && item !== null) {
      for (const [key, inner] of Object.entries(item)) pending.push(key, inner);
    }
  }
  return true;
}

/**
 * How deeply `value` nests (a scalar is 0, `[]` and `{}` are 1), counted without recursion so
 * any depth JSON.parse accepted can be measured. Bodies that are later re-serialised
 * (JSON.stringify recurses) must be bounded: a few thousand levels overflow its stack.
 */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: { item: unknown; depth: number }[] = [{ item: value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === undefined) break;
    const { item, depth } = next;
    if (typeof item !== "object" || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const inner of Array.isArray(item) ? item : Object.values(item)) pending.push({ item: inner, depth: depth + 1 });
  }
  return deepest;
}
