/**
 * The harness every Deno smoke test shares: starts scripts/functions-gateway.ts as its own
 * process (port 0: the gateway picks a free port and says which in its ready line) and stops it.
 * Environment from the test runner: SUPABASE_JWT_SECRET (default: the `supabase start` secret),
 * SUPABASE_DB_URL and RALLY_DB_URL (without them, steps that create users are skipped).
 *
 * Deno APIs are reached through a small typed view of `globalThis.Deno` because `tsc` also
 * checks tests/ and has no Deno types; `node:` modules are avoided because `deno check` with the
 * functions' config cannot resolve @types/node (nodeModulesDir "manual").
 */
import { readEnv } from "../../functions/_shared/env.ts";

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

const maybeDeno = (globalThis as { Deno?: DenoTestApi }).Deno;
if (maybeDeno === undefined) throw new Error("tests/smoke runs under `deno test`, not vitest or node.");
export const deno: DenoTestApi = maybeDeno;

/** The secret `supabase start` uses; the runner normally provides SUPABASE_JWT_SECRET. */
const DEFAULT_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const READY = /functions ready on (http:\/\/127\.0\.0\.1:\d+\/functions\/v1) \(([^)]*)\)/;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

const repoRoot = new URL("../../", import.meta.url);
export const jwtSecret = readEnv("SUPABASE_JWT_SECRET") ?? DEFAULT_JWT_SECRET;
export const canCreateUsers = readEnv("SUPABASE_DB_URL") !== undefined && readEnv("RALLY_DB_URL") !== undefined;

export function assert(condition: boolean, message: string): asserts condition {
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

export interface RunningGateway {
  baseUrl: string;
  names: string[];
  stop(): Promise<number>;
  output(): string;
}

export async function startGateway(env: Record<string, string>): Promise<RunningGateway> {
  const child = new deno.Command(deno.execPath(), {
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
