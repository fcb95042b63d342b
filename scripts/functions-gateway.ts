/**
 * Local edge-functions gateway: what `supabase functions serve` (Edge Runtime behind Kong) does,
 * without Docker.
 *
 *   deno run --allow-net --allow-env --allow-read --allow-sys --config functions/deno.json \
 *     scripts/functions-gateway.ts
 *
 * - Reads `supabase/config.toml`: every `[functions.<name>]` table (enabled unless
 *   `enabled = false`; `verify_jwt` defaults to true; `entrypoint` is relative to `supabase/`,
 *   default `functions/<name>/index.ts` there). It serves each function's `handler.ts`, the
 *   sibling of its entrypoint (index.ts only wires that handler to `Deno.serve`).
 * - Serves `http://127.0.0.1:${RALLY_FUNCTIONS_PORT ?? 54321}/functions/v1/<name>[/*]`, on
 *   loopback only. Port 0 picks a free port; the ready line tells which.
 * - `verify_jwt = true`: requires `Authorization: Bearer <jwt>` signed with SUPABASE_JWT_SECRET,
 *   any role (the anon key passes, as on the platform); else 401 `invalid_jwt` /
 *   `missing_authorization`. CORS preflights (OPTIONS) pass without a token, as browsers send
 *   none.
 * - Like Edge Runtime, the handler sees the path without `/functions/v1`:
 *   `/functions/v1/me/x?y=1` arrives as `/me/x?y=1`.
 * - With RALLY_STORAGE_UPSTREAM set (`npm start` sets it to the Storage API stand-in), requests
 *   under `/storage/v1/` are passed through to it unchanged, as the platform's API gateway routes
 *   them to the Storage API: SUPABASE_URL/storage/v1 (what supabase-js uses) then works locally.
 * - Prints `functions ready on http://127.0.0.1:<port>/functions/v1 (<names>)` once listening;
 *   SIGINT/SIGTERM close the server and the database pool and exit 0.
 *
 * The pure parts (config parsing, request routing) are exported for the vitest suite.
 */
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { verifyBearer } from "../functions/_shared/auth.ts";
import { corsHeaders } from "../functions/_shared/cors.ts";
import { closePool } from "../functions/_shared/db.ts";
import { readEnv } from "../functions/_shared/env.ts";
import { errorResponse, HttpError, notFound } from "../functions/_shared/http-errors.ts";

export type Handler = (req: Request) => Promise<Response>;

/**
 * One function from config.toml. Locations are file URLs, not paths: this module avoids `node:`
 * imports because `deno check` with the functions' import map (nodeModulesDir "manual", config
 * in functions/) cannot find @types/node for them.
 */
export interface FunctionSpec {
  name: string;
  verifyJwt: boolean;
  /** The configured entrypoint (index.ts). */
  entrypoint: string;
  /** The handler module served: `handler.ts` beside the entrypoint. */
  handlerUrl: string;
}

export interface LoadedFunction extends FunctionSpec {
  handler: Handler;
}

export const FUNCTIONS_PREFIX = "/functions/v1/";

/** The Supabase CLI's slug rule for function names. */
const SLUG = /^[A-Za-z][A-Za-z0-9_-]*$/;

const functionTable = z.looseObject({
  enabled: z.boolean().default(true),
  verify_jwt: z.boolean().default(true),
  entrypoint: z.string().min(1).optional(),
});

const configFile = z.looseObject({
  functions: z.record(z.string(), functionTable).default({}),
});

/**
 * The enabled functions declared in a config.toml, sorted by name. Paths are resolved against
 * `supabaseDir` (the folder holding config.toml, as a URL ending in `/`), as the CLI does.
 */
export function parseFunctionsConfig(tomlText: string, supabaseDir: URL): FunctionSpec[] {
  const config = configFile.parse(parseToml(tomlText));
  const specs: FunctionSpec[] = [];
  for (const [name, table] of Object.entries(config.functions)) {
    if (!SLUG.test(name)) throw new Error(`config.toml: invalid function name ${JSON.stringify(name)}`);
    if (!table.enabled) continue;
    const entrypoint = new URL(table.entrypoint ?? `functions/${name}/index.ts`, supabaseDir);
    specs.push({
      name,
      verifyJwt: table.verify_jwt,
      entrypoint: entrypoint.href,
      handlerUrl: new URL("handler.ts", entrypoint).href,
    });
  }
  return specs.sort((a, b) => a.name.localeCompare(b.name));
}

/** Imports every function's handler module; each must export `handler(req): Promise<Response>`. */
export async function loadFunctions(specs: readonly FunctionSpec[]): Promise<LoadedFunction[]> {
  return Promise.all(specs.map(async (spec) => {
    const mod: Record<string, unknown> = await import(spec.handlerUrl);
    const handler = mod.handler;
    if (typeof handler !== "function") {
      throw new Error(`function ${spec.name}: ${spec.handlerUrl} does not export a \`handler\` function`);
    }
    return { ...spec, handler: handler as Handler };
  }));
}

/** Splits `/functions/v1/<name>/<rest>` into the name and the path the function sees. */
export function routeOf(pathname: string): { name: string; path: string } | null {
  if (!pathname.startsWith(FUNCTIONS_PREFIX)) return null;
  const rest = pathname.slice(FUNCTIONS_PREFIX.length);
  const slash = rest.indexOf("/");
  const name = slash === -1 ? rest : rest.slice(0, slash);
  return name === "" ? null : { name, path: `/${rest}` };
}

/** Errors from the gateway itself carry CORS headers so browsers can read them. */
const gatewayError = (err: unknown): Response => errorResponse(err, { headers: corsHeaders });

export const STORAGE_PREFIX = "/storage/v1/";

export interface GatewayOptions {
  /** Base URL requests under /storage/v1/ are passed to (RALLY_STORAGE_UPSTREAM); none: 404. */
  storageUpstream?: string;
}

/** Passes a request through to the Storage API upstream, path and query unchanged. */
async function proxyStorage(req: Request, url: URL, upstream: string): Promise<Response> {
  const target = new URL(url.pathname + url.search, upstream.replace(/\/+$/, "") + "/");
  try {
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
    return await fetch(target, { method: req.method, headers: req.headers, body, redirect: "manual" });
  } catch (err) {
    return gatewayError(new HttpError(503, "storage_unavailable", `The Storage API at ${upstream} did not answer.`, {
      details: { reason: err instanceof Error ? err.message : String(err) },
    }));
  }
}

/** The request handler for a set of loaded functions. */
export function createGateway(functions: readonly LoadedFunction[], options: GatewayOptions = {}): Handler {
  const byName = new Map(functions.map((fn) => [fn.name, fn]));
  return async (req) => {
    const url = new URL(req.url);
    if (url.pathname.startsWith(STORAGE_PREFIX) && options.storageUpstream !== undefined) {
      return proxyStorage(req, url, options.storageUpstream);
    }
    const route = routeOf(url.pathname);
    const fn = route === null ? undefined : byName.get(route.name);
    if (route === null || fn === undefined) {
      return gatewayError(notFound("function_not_found", `No function is served at ${url.pathname}.`));
    }
    if (fn.verifyJwt && req.method !== "OPTIONS") {
      try {
        await verifyBearer(req);
      } catch (err) {
        return gatewayError(err);
      }
    }
    const inner = new URL(route.path + url.search, url.origin);
    try {
      return await fn.handler(new Request(inner, req));
    } catch (err) {
      // Handlers render their own errors; this is a handler bug, answered as a clean 500.
      return gatewayError(err);
    }
  };
}

/** The listening port: RALLY_FUNCTIONS_PORT, else 54321 (the API port `supabase start` uses). */
export function gatewayPort(value: string | undefined): number {
  if (value === undefined) return 54321;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`RALLY_FUNCTIONS_PORT must be a port number, got ${JSON.stringify(value)}`);
  }
  return port;
}

/**
 * The few Deno APIs the gateway needs. Declared here because `tsc` (which checks scripts/ with
 * Node types) has no `Deno` global; under Deno the real object satisfies this shape.
 */
interface DenoRuntime {
  serve(
    options: { hostname: string; port: number; onListen: (addr: { hostname: string; port: number }) => void },
    handler: Handler,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
  addSignalListener(signal: "SIGINT" | "SIGTERM", listener: () => void): void;
  env: { set(name: string, value: string): void };
  readTextFile(path: URL): Promise<string>;
  exit(code: number): never;
}

async function main(deno: DenoRuntime): Promise<void> {
  const supabaseDir = new URL("../supabase/", import.meta.url);
  const specs = parseFunctionsConfig(await deno.readTextFile(new URL("config.toml", supabaseDir)), supabaseDir);
  const functions = await loadFunctions(specs);
  const names = functions.map((fn) => fn.name).join(", ");
  const storageUpstream = readEnv("RALLY_STORAGE_UPSTREAM");

  const server = deno.serve({
    hostname: "127.0.0.1",
    port: gatewayPort(readEnv("RALLY_FUNCTIONS_PORT")),
    onListen: ({ hostname, port }) => {
      // Edge Runtime injects SUPABASE_URL (the API URL); locally this gateway is that URL.
      if (readEnv("SUPABASE_URL") === undefined) deno.env.set("SUPABASE_URL", `http://${hostname}:${port}`);
      console.log(`functions ready on http://${hostname}:${port}/functions/v1 (${names})`);
    },
  }, createGateway(functions, storageUpstream === undefined ? {} : { storageUpstream }));

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await server.shutdown();
    await closePool().catch(() => {});
    deno.exit(0);
  };
  deno.addSignalListener("SIGINT", () => void stop());
  deno.addSignalListener("SIGTERM", () => void stop());
  await server.finished;
}

const runtime = globalThis as { Deno?: DenoRuntime };
if ((import.meta as ImportMeta & { main?: boolean }).main === true && runtime.Deno !== undefined) {
  await main(runtime.Deno);
}
