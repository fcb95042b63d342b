/**
 * Environment variables for one vitest file: set before its first test, put back (or removed)
 * after its last, so files that run later in the same worker see what they expect.
 *
 *   useFileEnv({ STRIPE_WEBHOOK_SECRET: "whsec_…", TWILIO_AUTH_TOKEN: "…" });
 *
 * Its own module because it registers vitest hooks: env.ts stays importable by the Deno smoke tests.
 */
import { afterAll, beforeAll } from "vitest";
import { envOverride } from "./env.ts";

export function useFileEnv(values: Readonly<Record<string, string | undefined>>): void {
  const env = envOverride();
  beforeAll(() => env.set(values));
  afterAll(() => env.restore());
}
