/**
 * Environment variables for one vitest file: set before its first test, put back (or removed)
 * after its last, so files that run later in the same worker see what they expect.
 *
 *   useFileEnv({ STRIPE_WEBHOOK_SECRET: "whsec_…", TWILIO_AUTH_TOKEN: "…" });
 */
import { afterAll, beforeAll } from "vitest";

export function useFileEnv(values: Readonly<Record<string, string>>): void {
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [name, value] of Object.entries(values)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}
