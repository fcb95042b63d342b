import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { json } from "../../functions/_shared/json.ts";
import {
  createGateway,
  gatewayPort,
  type LoadedFunction,
  loadFunctions,
  parseFunctionsConfig,
  routeOf,
} from "../../scripts/functions-gateway.ts";
import { anonKey, signJwt, userClaims } from "../support/jwt.ts";
import { envOverride } from "../support/env.ts";

const SECRET = "gateway-test-secret-with-at-least-32-characters";
const supabaseDir = new URL("../../supabase/", import.meta.url);

describe("parseFunctionsConfig", () => {
  it("reads the functions declared in supabase/config.toml, entrypoints relative to supabase/", () => {
    const specs = parseFunctionsConfig(readFileSync(new URL("config.toml", supabaseDir), "utf8"), supabaseDir);
    const byName = new Map(specs.map((s) => [s.name, s]));
    expect(byName.get("health")).toEqual({
      name: "health",
      verifyJwt: false,
      entrypoint: new URL("../functions/health/index.ts", supabaseDir).href,
      handlerUrl: new URL("../functions/health/handler.ts", supabaseDir).href,
    });
    expect(byName.get("me")?.verifyJwt).toBe(true);
  });

  it("defaults verify_jwt to true and the entrypoint to supabase/functions/<name>/index.ts; skips disabled ones", () => {
    const specs = parseFunctionsConfig(
      `[functions.hello]\n[functions.off]\nenabled = false\n[api]\nport = 1\n`,
      new URL("file:///repo/supabase/"),
    );
    expect(specs).toEqual([{
      name: "hello",
      verifyJwt: true,
      entrypoint: "file:///repo/supabase/functions/hello/index.ts",
      handlerUrl: "file:///repo/supabase/functions/hello/handler.ts",
    }]);
  });

  it("rejects a function name the CLI would reject", () => {
    expect(() => parseFunctionsConfig(`[functions."1bad"]\n`, supabaseDir)).toThrow(/invalid function name/);
  });

  it("loads every configured handler module", async () => {
    const specs = parseFunctionsConfig(readFileSync(new URL("config.toml", supabaseDir), "utf8"), supabaseDir);
    const loaded = await loadFunctions(specs);
    for (const fn of loaded) expect(typeof fn.handler).toBe("function");
  });
});

describe("routeOf", () => {
  it("splits the function name from the path Edge Runtime passes on", () => {
    expect(routeOf("/functions/v1/me")).toEqual({ name: "me", path: "/me" });
    expect(routeOf("/functions/v1/checkout/sessions/1")).toEqual({ name: "checkout", path: "/checkout/sessions/1" });
    expect(routeOf("/functions/v1/")).toBeNull();
    expect(routeOf("/rest/v1/profiles")).toBeNull();
  });
});

describe("gatewayPort", () => {
  it("defaults to 54321 and validates RALLY_FUNCTIONS_PORT", () => {
    expect(gatewayPort(undefined)).toBe(54321);
    expect(gatewayPort("0")).toBe(0);
    expect(() => gatewayPort("http")).toThrow(/RALLY_FUNCTIONS_PORT/);
  });
});

describe("createGateway", () => {
  const echo = (name: string, verifyJwt: boolean): LoadedFunction => ({
    name,
    verifyJwt,
    entrypoint: `file:///x/${name}/index.ts`,
    handlerUrl: `file:///x/${name}/handler.ts`,
    handler: async (req) => {
      const url = new URL(req.url);
      return json({ path: url.pathname, search: url.search, method: req.method, body: await req.text() });
    },
  });
  const gateway = createGateway([
    echo("open", false),
    echo("guarded", true),
    { ...echo("broken", false), handler: () => Promise.reject(new Error("boom")) },
  ]);
  const base = "http://127.0.0.1:54321/functions/v1";

  it("passes the request on with the path Edge Runtime would give (no /functions/v1)", async () => {
    const res = await gateway(new Request(`${base}/open/a/b?x=1`, { method: "POST", body: "hi" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: "/open/a/b", search: "?x=1", method: "POST", body: "hi" });
  });

  it("answers unknown functions and other paths with 404 JSON", async () => {
    for (const url of [`${base}/nope`, "http://127.0.0.1:54321/rest/v1/x"]) {
      const res = await gateway(new Request(url));
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "function_not_found" } });
    }
  });

  describe("verify_jwt = true", () => {
    const withSecret = async <T>(fn: () => Promise<T>): Promise<T> => {
      const env = envOverride();
      env.set({ SUPABASE_JWT_SECRET: SECRET });
      try {
        return await fn();
      } finally {
        env.restore();
      }
    };

    it("requires a bearer token: 401 missing_authorization without one", () =>
      withSecret(async () => {
        const res = await gateway(new Request(`${base}/guarded`));
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ error: { code: "missing_authorization" } });
      }));

    it("answers a bad token with 401 invalid_jwt", () =>
      withSecret(async () => {
        const wrong = await signJwt({ role: "anon" }, { secret: "x".repeat(40) });
        const res = await gateway(new Request(`${base}/guarded`, { headers: { Authorization: `Bearer ${wrong}` } }));
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ error: { code: "invalid_jwt" } });
      }));

    it("lets any valid project JWT through, the anon key included, as the platform does", () =>
      withSecret(async () => {
        for (const token of [await anonKey(SECRET), await signJwt(userClaims({ id: crypto.randomUUID(), email: "a@b.c" }), { secret: SECRET })]) {
          const res = await gateway(new Request(`${base}/guarded`, { headers: { Authorization: `Bearer ${token}` } }));
          expect(res.status).toBe(200);
        }
      }));

    it("lets CORS preflights through without a token (browsers send none)", () =>
      withSecret(async () => {
        const res = await gateway(new Request(`${base}/guarded`, { method: "OPTIONS" }));
        expect(res.status).toBe(200);
      }));
  });

  it("answers a handler that throws with a clean 500 internal_error", async () => {
    const original = console.error;
    console.error = () => {};
    try {
      const res = await gateway(new Request(`${base}/broken`));
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ error: { code: "internal_error" } });
    } finally {
      console.error = original;
    }
  });
});
