/**
 * The pg_net stand-in end to end: SQL queues a request with `net.http_post` / `net.http_get` as
 * `postgres` (as a pg_cron job does), the worker sends it over HTTP and records the answer in
 * `net._http_response` as pg_net does. The worker connects as `supabase_admin` because it plays
 * pg_net's background worker, which is part of the platform.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNetWorker, type NetWorker } from "../../scripts/lib/net-worker.ts";
import { storeScheduleSecrets } from "../../scripts/lib/schedules.ts";
import { appPool, closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server;
let base: string;
let worker: NetWorker;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (req.url?.startsWith("/slow")) {
        setTimeout(() => res.end("late"), 1_500);
        return;
      }
      res.writeHead(201, { "content-type": "application/json", "x-probe": "yes" });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  worker = await startNetWorker(testEnv("RALLY_ADMIN_DB_URL"), () => undefined);
});

afterAll(async () => {
  await worker.stop();
  await new Promise((resolve) => server.close(resolve));
  await appPool().query("delete from vault.secrets where name in ('project_url', 'service_role_key')");
  await closeTestPools();
});

interface ResponseRow {
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean | null;
  error_msg: string | null;
}

async function responseTo(requestId: string): Promise<ResponseRow> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { rows } = await appPool().query<ResponseRow>(
      "select status_code, content_type, headers, content, timed_out, error_msg from net._http_response where id = $1",
      [requestId],
    );
    if (rows[0]) return rows[0];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no response recorded for request ${requestId}`);
}

async function queue(sql: string, params: unknown[]): Promise<string> {
  const { rows } = await appPool().query<{ id: string }>(`select ${sql} as id`, params);
  const id = rows[0]?.id;
  if (id === undefined) throw new Error("nothing queued");
  return id;
}

describe("the pg_net stand-in", () => {
  it("sends a queued POST with its JSON body, headers and url-encoded params, and records the answer under the request id", async () => {
    const id = await queue("net.http_post($1, $2::jsonb, $3::jsonb, $4::jsonb)", [
      `${base}/functions/v1/probe`, JSON.stringify({ hello: "world" }), JSON.stringify({ q: "a b&c" }),
      JSON.stringify({ Authorization: "Bearer k" }),
    ]);
    const response = await responseTo(id);
    expect(response).toMatchObject({ status_code: 201, content_type: "application/json", timed_out: false, error_msg: null });
    expect(JSON.parse(response.content ?? "")).toEqual({ ok: true });
    expect(response.headers?.["x-probe"]).toBe("yes");
    const request = received.find((r) => r.url.startsWith("/functions/v1/probe"));
    expect(request).toMatchObject({ method: "POST", url: "/functions/v1/probe?q=a%20b%26c", body: '{"hello": "world"}' });
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers.authorization).toBe("Bearer k");
    const { rows } = await appPool().query("select 1 from net.http_request_queue where id = $1", [id]);
    expect(rows).toHaveLength(0);
  });

  it("sends a GET and reads it back through net._http_collect_response", async () => {
    const id = await queue("net.http_get($1)", [`${base}/health`]);
    await responseTo(id);
    const { rows } = await appPool().query<{ status: string; code: number }>(
      "select (r).status::text as status, ((r).response).status_code as code from (select net._http_collect_response($1) as r) as x",
      [id],
    );
    expect(rows[0]).toEqual({ status: "SUCCESS", code: 201 });
  });

  it("records a timeout as timed_out with a message, and an unreachable host as an error, never a status", async () => {
    const slow = await queue("net.http_post($1, '{}'::jsonb, timeout_milliseconds := 200)", [`${base}/slow`]);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await queue("net.http_post($1)", [`http://127.0.0.1:${closedPort}/nothing`]);
    expect(await responseTo(slow)).toMatchObject({ status_code: null, timed_out: true, error_msg: "Timeout of 200 ms reached" });
    const unreachable = await responseTo(refused);
    expect(unreachable.status_code).toBeNull();
    expect(unreachable.timed_out).toBe(false);
    expect(unreachable.error_msg).toMatch(/ECONNREFUSED|refused/i);
  });

  it("refuses a body that is not JSON, as pg_net does", async () => {
    await expect(queue("net.http_post($1, '{}'::jsonb, headers := '{\"Content-Type\":\"text/plain\"}'::jsonb)", [base]))
      .rejects.toThrow('Content-Type header must be "application/json"');
  });

  it("runs a pg_cron job's own command end to end: Vault gives the URL and key, pg_net calls the edge function", async () => {
    const { rows } = await appPool().query<{ command: string }>("select command from cron.job where jobname = 'rally-dispatch-alerts'");
    const command = rows[0]?.command;
    expect(command, "the alert dispatcher is scheduled with pg_cron").toBeDefined();
    await storeScheduleSecrets(testEnv("SUPABASE_DB_URL"), base, "service-key-for-test");
    const { rows: queued } = await appPool().query<{ id: string }>(`select (${String(command).replace(/^\s*select\s+/i, "")}) as id`);
    await responseTo(queued[0]?.id ?? "");
    const call = received.find((r) => r.url === "/functions/v1/dispatch-alerts");
    expect(call).toMatchObject({ method: "POST", body: "{}" });
    expect(call?.headers.authorization).toBe("Bearer service-key-for-test");
  });
});
