import { afterEach, describe, expect, it, vi } from "vitest";
import { NotConfiguredError, optionalEnv, readEnv, requireEnv } from "../../functions/_shared/env.ts";
import { errorResponse } from "../../functions/_shared/http-errors.ts";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("env", () => {
  it("reads typed values from process.env under Node", () => {
    vi.stubEnv("SUPABASE_URL", "http://127.0.0.1:54321");
    vi.stubEnv("SUPABASE_DB_URL", "postgresql://postgres@127.0.0.1:5432/postgres");
    const env = requireEnv("SUPABASE_URL", "SUPABASE_DB_URL");
    expect(env).toEqual({
      SUPABASE_URL: "http://127.0.0.1:54321",
      SUPABASE_DB_URL: "postgresql://postgres@127.0.0.1:5432/postgres",
    });
  });

  it("reports every missing variable at once as 503 not_configured, naming but not echoing them", async () => {
    vi.stubEnv("SUPABASE_ANON_KEY", "");
    vi.stubEnv("SUPABASE_URL", "not a url with a secret-ish value");
    let caught: unknown;
    try {
      requireEnv("SUPABASE_URL", "SUPABASE_ANON_KEY");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NotConfiguredError);
    const res = errorResponse(caught, { log: () => {} });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({
      error: { code: "not_configured", details: { variables: ["SUPABASE_URL", "SUPABASE_ANON_KEY"] } },
    });
    expect(text).not.toContain("secret-ish");
  });

  it("treats an empty variable as unset", () => {
    vi.stubEnv("RALLY_SOMETHING", "");
    expect(readEnv("RALLY_SOMETHING")).toBeUndefined();
  });

  it("optionalEnv returns undefined when unset but still rejects a malformed value", () => {
    vi.stubEnv("SUPABASE_URL", "");
    expect(optionalEnv("SUPABASE_URL")).toBeUndefined();
    vi.stubEnv("SUPABASE_URL", "nope");
    expect(() => optionalEnv("SUPABASE_URL")).toThrow(NotConfiguredError);
  });

  it("prefers Deno.env when running under Deno", () => {
    vi.stubEnv("SUPABASE_ANON_KEY", "from-process");
    vi.stubGlobal("Deno", { env: { get: (name: string) => (name === "SUPABASE_ANON_KEY" ? "from-deno" : undefined) } });
    try {
      expect(requireEnv("SUPABASE_ANON_KEY").SUPABASE_ANON_KEY).toBe("from-deno");
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
