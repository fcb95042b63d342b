import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler } from "../../functions/health/handler.ts";
import { testEnv } from "../support/env.ts";

const get = (method = "GET"): Promise<Response> =>
  handler(new Request("http://127.0.0.1:54321/health", { method }));

afterEach(async () => {
  vi.unstubAllEnvs();
  await closePool();
});
afterAll(closePool);

describe("GET /functions/v1/health", () => {
  it("answers 200 with status ok, the database reachable, and the server time", async () => {
    vi.stubEnv("SUPABASE_DB_URL", testEnv("SUPABASE_DB_URL"));
    const before = Date.now();
    const res = await get();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; database: string; time: string };
    expect(body).toMatchObject({ status: "ok", database: "ok" });
    expect(Date.parse(body.time)).toBeGreaterThanOrEqual(before - 1000);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("still answers 200, saying the database is unreachable, when it is down", async () => {
    vi.stubEnv("SUPABASE_DB_URL", "postgresql://postgres@127.0.0.1:1/postgres");
    const res = await get();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", database: "unreachable" });
  });

  it("says unreachable when no database is configured", async () => {
    vi.stubEnv("SUPABASE_DB_URL", "");
    expect(await (await get()).json()).toMatchObject({ database: "unreachable" });
  });

  it("answers other methods with 405 JSON", async () => {
    const res = await get("POST");
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({ error: { code: "method_not_allowed" } });
  });
});
