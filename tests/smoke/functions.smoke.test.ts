/**
 * Smoke test of the local functions gateway, end to end over HTTP:
 *
 *   deno test --allow-all --config functions/deno.json tests/smoke/
 *
 * Starts scripts/functions-gateway.ts as its own process (port 0: the gateway picks a free port
 * and says which in its ready line), then calls it like an app would. Environment from the test
 * runner: SUPABASE_JWT_SECRET (default: the `supabase start` secret), SUPABASE_DB_URL and
 * RALLY_ADMIN_DB_URL (without them, the signed-in `/me` case is skipped).
 *
 * Deno APIs are reached through a small typed view of `globalThis.Deno` because `tsc` also
 * checks tests/ and has no Deno types; `node:` modules are avoided because `deno check` with the
 * functions' config cannot resolve @types/node (nodeModulesDir "manual").
 */
import { readEnv } from "../../functions/_shared/env.ts";
import { closeTestPools } from "../support/db.ts";
import { anonKey } from "../support/jwt.ts";
import { createUser } from "../support/users.ts";

interface ChildProcess {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<{ code: number; success: boolean }>;
  kill(signal: "SIGTERM" | "SIGKILL"): void;
}

interface TestStep {
  name: string;
  ignore?: boolean;
  fn: () => Promise<void>;
}

interface DenoTestApi {
  test(definition: {
    name: string;
    sanitizeOps?: boolean;
    sanitizeResources?: boolean;
    fn: (t: { step(step: TestStep): Promise<boolean> }) => Promise<void>;
  }): void;
  Command: new (
    command: string,
    options: {
      args: string[];
      cwd: string;
      env: Record<string, string>;
      stdin: "null";
      stdout: "piped";
      stderr: "piped";
    },
  ) => { spawn(): ChildProcess };
  execPath(): string;
  env: { toObject(): Record<string, string> };
}

const deno = (globalThis as { Deno?: DenoTestApi }).Deno;
if (deno === undefined) throw new Error("tests/smoke runs under `deno test`, not vitest or node.");

/** The secret `supabase start` uses; the runner normally provides SUPABASE_JWT_SECRET. */
const DEFAULT_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const READY = /functions ready on (http:\/\/127\.0\.0\.1:\d+\/functions\/v1) \(([^)]*)\)/;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

const repoRoot = new URL("../../", import.meta.url);
const jwtSecret = readEnv("SUPABASE_JWT_SECRET") ?? DEFAULT_JWT_SECRET;
const canCreateUsers = readEnv("SUPABASE_DB_URL") !== undefined && readEnv("RALLY_ADMIN_DB_URL") !== undefined;

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Collects a stream's text as it arrives, so failures can show what the gateway said. */
async function collect(stream: ReadableStream<Uint8Array>, onText: (all: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let all = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    all += decoder.decode(value, { stream: true });
    onText(all);
  }
}

interface RunningGateway {
  baseUrl: string;
  names: string[];
  stop(): Promise<number>;
  output(): string;
}

async function startGateway(env: Record<string, string>): Promise<RunningGateway> {
  const child = new deno!.Command(deno!.execPath(), {
    args: [
      "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys",
      "--config", new URL("functions/deno.json", repoRoot).pathname,
      new URL("scripts/functions-gateway.ts", repoRoot).pathname,
    ],
    cwd: repoRoot.pathname,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stdout = "";
  let stderr = "";
  let onReady: (match: RegExpExecArray) => void = () => {};
  const ready = new Promise<RegExpExecArray>((resolve) => (onReady = resolve));
  const drained = Promise.all([
    collect(child.stdout, (all) => {
      stdout = all;
      const match = READY.exec(all);
      if (match !== null) onReady(match);
    }),
    collect(child.stderr, (all) => (stderr = all)),
  ]);
  const output = (): string => `--- gateway stdout ---\n${stdout}\n--- gateway stderr ---\n${stderr}`;

  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready,
    child.status.then((s) => `exited with code ${s.code} before it was ready`),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve("was not ready in time"), READY_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (typeof outcome === "string") {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`the gateway ${outcome}\n${output()}`);
  }
  const [, baseUrl = "", names = ""] = outcome;

  return {
    baseUrl,
    names: names.split(", "),
    output,
    async stop() {
      child.kill("SIGTERM");
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const status = await Promise.race([
        child.status,
        new Promise<null>((resolve) => (killTimer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS))),
      ]);
      clearTimeout(killTimer);
      if (status === null) {
        child.kill("SIGKILL");
        await child.status;
        await drained;
        return -1;
      }
      await drained;
      return status.code;
    },
  };
}

interface ErrorBody {
  error: { code: string; message: string };
}

function isErrorBody(body: unknown, code: string): body is ErrorBody {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = (body as { error: unknown }).error;
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code &&
    typeof (error as { message?: unknown }).message === "string";
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers });
  assert(
    (res.headers.get("Content-Type") ?? "").startsWith("application/json"),
    `${url} answered ${res.headers.get("Content-Type")}, not JSON`,
  );
  return { status: res.status, body: await res.json() };
}

deno.test({
  name: "functions gateway serves the configured functions over HTTP",
  // The gateway child, its pipes and the pg pools are ours and are closed explicitly below.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const gateway = await startGateway({
      ...deno.env.toObject(),
      RALLY_FUNCTIONS_PORT: "0",
      SUPABASE_JWT_SECRET: jwtSecret,
    });
    let stopped = false;
    try {
      await t.step({
        name: "it announces health and me in its ready line",
        fn: async () => {
          for (const name of ["health", "me"]) {
            assert(gateway.names.includes(name), `ready line lists ${gateway.names.join(", ")}, missing ${name}`);
          }
        },
      });

      await t.step({
        name: "GET /health answers 200 with status ok",
        fn: async () => {
          const { status, body } = await getJson(`${gateway.baseUrl}/health`);
          assert(status === 200, `health answered ${status}: ${JSON.stringify(body)}`);
          const health = body as { status?: unknown; database?: unknown; time?: unknown };
          assert(health.status === "ok", `status is ${String(health.status)}`);
          const expected = readEnv("SUPABASE_DB_URL") === undefined ? "unreachable" : "ok";
          assert(health.database === expected, `database is ${String(health.database)}, expected ${expected}`);
          assert(typeof health.time === "string" && !Number.isNaN(Date.parse(health.time)), "time is an ISO date");
        },
      });

      await t.step({
        name: "GET /me without a JWT answers 401 JSON",
        fn: async () => {
          const { status, body } = await getJson(`${gateway.baseUrl}/me`);
          assert(status === 401, `me answered ${status}`);
          assert(isErrorBody(body, "missing_authorization"), `unexpected body ${JSON.stringify(body)}`);
        },
      });

      await t.step({
        name: "GET /me with the anon key passes the gateway but is refused by the function (401 invalid_jwt)",
        fn: async () => {
          const { status, body } = await getJson(`${gateway.baseUrl}/me`, {
            Authorization: `Bearer ${await anonKey(jwtSecret)}`,
          });
          assert(status === 401 && isErrorBody(body, "invalid_jwt"), `me answered ${status} ${JSON.stringify(body)}`);
        },
      });

      await t.step({
        name: "GET /me with a signed-in user's JWT answers 200 with their profile",
        ignore: !canCreateUsers,
        fn: async () => {
          const user = await createUser();
          const { status, body } = await getJson(`${gateway.baseUrl}/me`, { Authorization: `Bearer ${user.token}` });
          assert(status === 200, `me answered ${status}: ${JSON.stringify(body)}`);
          const profile = body as { id?: unknown; username?: unknown; user_role?: unknown };
          assert(profile.id === user.id, `me returned id ${String(profile.id)}, expected ${user.id}`);
          assert(profile.username === user.username, `username ${String(profile.username)}`);
          assert(profile.user_role === "guest", `user_role ${String(profile.user_role)}`);
        },
      });

      await t.step({
        name: "an unknown function answers 404 JSON",
        fn: async () => {
          const { status, body } = await getJson(`${gateway.baseUrl}/no-such-function`);
          assert(status === 404 && isErrorBody(body, "function_not_found"), `answered ${status} ${JSON.stringify(body)}`);
        },
      });

      await t.step({
        name: "SIGTERM stops it cleanly with exit code 0",
        fn: async () => {
          stopped = true;
          const code = await gateway.stop();
          assert(code === 0, `the gateway exited with ${code}\n${gateway.output()}`);
        },
      });
    } finally {
      if (!stopped) await gateway.stop();
      await closeTestPools();
    }
  },
});
