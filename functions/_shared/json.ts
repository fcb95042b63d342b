/**
 * JSON in and out. Responses are always `application/json; charset=utf-8`; request bodies are
 * parsed with a zod schema so handlers only ever see typed, validated input.
 */
import type { z } from "zod";
import { HttpError, validationError } from "./http-errors.ts";

const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON response (200 unless told otherwise). */
export function json(body: unknown, init: { status?: number; headers?: HeadersInit } = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("Content-Type", JSON_TYPE);
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers });
}

/**
 * Parses the request body as JSON and validates it: 400 `invalid_json` when it is not JSON,
 * 400 `validation_failed` (zod issues in details) when it does not match the schema.
 */
export async function readJson<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const text = await req.text();
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
