/**
 * Typed access to the function environment.
 *
 * Handlers run under Deno (Edge Runtime, the local gateway) and under Node (vitest), so this
 * module never touches `Deno` at import time: it asks `globalThis.Deno?.env` first, then
 * `process.env`. Values are read on every call, not cached, so tests can change them.
 *
 * A missing or malformed required variable is a deployment problem, not the caller's: it
 * surfaces as 503 `not_configured`, naming the variable but never echoing its value.
 */
import { z } from "zod";
import { HttpError } from "./http-errors.ts";

/** The variables Supabase injects into every edge function (plus the JWT secret we set). */
const schemas = {
  SUPABASE_URL: z.url(),
  SUPABASE_ANON_KEY: z.string().min(1),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1),
  SUPABASE_JWT_SECRET: z.string().min(1),
  SUPABASE_DB_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
} as const;

export type EnvName = keyof typeof schemas;
export type Env = { [K in EnvName]: string };

/** Thrown for a missing or malformed variable; `errorResponse()` renders it as 503. */
export class NotConfiguredError extends HttpError {
  readonly variables: readonly string[];

  constructor(variables: readonly string[]) {
    super(503, "not_configured", "This function is not configured on the server yet.", {
      details: { variables: [...variables] },
    });
    this.variables = variables;
  }
}

interface EnvSource {
  get(name: string): string | undefined;
}

/** The structural bits of the two runtimes we read from; typed so no `any` is needed. */
type RuntimeGlobals = {
  Deno?: { env: EnvSource };
  process?: { env: Record<string, string | undefined> };
};

/** Raw read of any variable (also non-Supabase ones such as `RALLY_*`); empty counts as unset. */
export function readEnv(name: string): string | undefined {
  const g = globalThis as RuntimeGlobals;
  const value = g.Deno !== undefined ? g.Deno.env.get(name) : g.process?.env[name];
  return value === undefined || value === "" ? undefined : value;
}

/**
 * Reads and validates the named variables, all or nothing:
 * `const { SUPABASE_DB_URL } = requireEnv("SUPABASE_DB_URL")`.
 */
export function requireEnv<K extends EnvName>(...names: K[]): Pick<Env, K> {
  const bad: string[] = [];
  const out: Partial<Pick<Env, K>> = {};
  for (const name of names) {
    const parsed = schemas[name].safeParse(readEnv(name));
    if (parsed.success) out[name] = parsed.data;
    else bad.push(name);
  }
  if (bad.length > 0) throw new NotConfiguredError(bad);
  return out as Pick<Env, K>;
}

/** One optional variable, validated when present (a malformed value is still not_configured). */
export function optionalEnv(name: EnvName): string | undefined {
  return readEnv(name) === undefined ? undefined : requireEnv(name)[name];
}
