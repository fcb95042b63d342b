import { describe, expect, it, vi } from "vitest";
import { conflict } from "../../functions/_shared/http-errors.ts";
import { json } from "../../functions/_shared/json.ts";
import { routeByMethod } from "../../functions/_shared/router.ts";
import { readJson } from "../../functions/_shared/json.ts";
import { z } from "zod";

const handler = routeByMethod({
  GET: () => json({ ok: true }),
  POST: async (req) => {
    const input = await readJson(req, z.object({ name: z.string().min(1) }));
    if (input.name === "taken") throw conflict("name_taken", "That name is taken.");
    return json({ hello: input.name }, { status: 201 });
  },
});

const call = (method: string, body?: string): Promise<Response> =>
  handler(new Request("http://localhost/fn", { method, ...(body === undefined ? {} : { body }) }));

describe("routeByMethod", () => {
  it("answers a CORS preflight without running the handler", async () => {
    const res = await call("OPTIONS");
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Allow-Headers")).toContain("authorization");
  });

  it("adds CORS headers to normal responses", async () => {
    const res = await call("GET");
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(await res.json()).toEqual({ ok: true });
  });

  it("answers other methods with a 405 JSON error and an Allow header", async () => {
    const res = await call("DELETE");
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("GET, POST, OPTIONS");
    expect(await res.json()).toMatchObject({ error: { code: "method_not_allowed" } });
  });

  it("renders thrown HttpErrors with CORS headers", async () => {
    const res = await call("POST", JSON.stringify({ name: "taken" }));
    expect(res.status).toBe(409);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(await res.json()).toEqual({ error: { code: "name_taken", message: "That name is taken." } });
  });

  it("answers a body that is not JSON with 400 invalid_json, and a wrong shape with 400 validation_failed", async () => {
    const bad = await call("POST", "{not json");
    expect([bad.status, ((await bad.json()) as { error: { code: string } }).error.code]).toEqual([400, "invalid_json"]);
    const wrong = await call("POST", JSON.stringify({ name: 42 }));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({
      error: { code: "validation_failed", details: [{ path: "name", code: "invalid_type" }] },
    });
  });

  it("turns an unexpected exception into a 500 internal_error", async () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = routeByMethod({ GET: () => { throw new Error("db password is hunter2"); } });
    const res = await broken(new Request("http://localhost/fn"));
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("hunter2");
    spy.mockRestore();
  });
});
