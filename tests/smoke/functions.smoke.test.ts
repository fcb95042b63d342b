/**
 * Smoke test of the local functions gateway, end to end over HTTP:
 *
 *   deno test --allow-all --config functions/deno.json tests/smoke/
 *
 * Starts scripts/functions-gateway.ts as its own process (port 0: the gateway picks a free port
 * and says which in its ready line), then calls it like an app would. Environment from the test
 * runner: SUPABASE_JWT_SECRET (default: the `supabase start` secret), SUPABASE_DB_URL and
 * RALLY_DB_URL (without them, the signed-in `/me` case is skipped).
 */
import { readEnv } from "../../functions/_shared/env.ts";
import { assert, canCreateUsers, deno, jwtSecret, startGateway } from "./gateway.ts";
import { closeTestPools } from "../support/db.ts";
import { anonKey } from "../support/jwt.ts";
import { createUser } from "../support/users.ts";

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
