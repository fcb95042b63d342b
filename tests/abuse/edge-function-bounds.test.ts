/**
 * Attack class: oversized requests and inconsistent answers at the edge functions (issue 13,
 * finding 12). Every function read any body in full (100 MB took 4 s before a 400). Now each
 * reads no further than its cap — a declared Content-Length over it is refused before reading,
 * a chunked body is abandoned as soon as it passes it — and answers 413 payload_too_large in the
 * error shape, writing nothing. And a token whose account is gone gets the same answer from every
 * function (403 account_not_found), as from every RPC.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler as checkout } from "../../functions/checkout/handler.ts";
import { handler as connectOnboarding } from "../../functions/connect-onboarding/handler.ts";
import { handler as contactPoints } from "../../functions/contact-points/handler.ts";
import { handler as dispatchAlerts } from "../../functions/dispatch-alerts/handler.ts";
import { handler as me } from "../../functions/me/handler.ts";
import { handler as paymentsWorker } from "../../functions/payments-worker/handler.ts";
import { handler as resendWebhook } from "../../functions/resend-webhook/handler.ts";
import { handler as storagePurge } from "../../functions/storage-purge/handler.ts";
import { handler as stripeWebhook } from "../../functions/stripe-webhook/handler.ts";
import { handler as twilioStatus } from "../../functions/twilio-status/handler.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { createHost } from "../support/events.ts";
import { serviceRoleKey } from "../support/jwt.ts";
import { useFileEnv } from "../support/file-env.ts";
import { createUser } from "../support/users.ts";

type Handler = (req: Request) => Promise<Response>;

useFileEnv({
  STRIPE_WEBHOOK_SECRET: "whsec_bounds", RESEND_WEBHOOK_SECRET: "whsec_Ym91bmRzYm91bmRzYm91bmRzYm91bmRz",
  TWILIO_ACCOUNT_SID: "AC00000000000000000000000000000000", TWILIO_AUTH_TOKEN: "bounds-token",
  TWILIO_STATUS_CALLBACK_URL: "https://rally.example/functions/v1/twilio-status",
  // checkout reads its Stripe settings first; nothing here reaches Stripe.
  STRIPE_API_BASE: "http://127.0.0.1:9",
});

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

/** A body of `total` bytes produced on demand, 64 KiB at a time, counting what the reader pulled. */
function lazyBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => sent };
}

function post(path: string, token: string | null, body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request(`http://127.0.0.1/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token === null ? {} : { Authorization: `Bearer ${token}` }), ...headers },
    body,
    duplex: "half",
  } as RequestInit);
}

interface Case {
  name: string;
  path: string;
  handler: Handler;
  limit: number;
  token: () => Promise<string | null>;
}

const MB = 1024 * 1024;
let userToken: string;
let hostToken: string;
let serviceToken: string;

beforeAll(async () => {
  userToken = (await createUser()).token;
  hostToken = (await createHost("bounds")).token;
  serviceToken = await serviceRoleKey();
});

const cases: Case[] = [
  { name: "checkout", path: "checkout", handler: checkout, limit: 4096, token: async () => userToken },
  { name: "connect-onboarding", path: "connect-onboarding", handler: connectOnboarding, limit: 4096, token: async () => hostToken },
  { name: "contact-points", path: "contact-points", handler: contactPoints, limit: 4096, token: async () => userToken },
  { name: "dispatch-alerts", path: "dispatch-alerts", handler: dispatchAlerts, limit: 4096, token: async () => serviceToken },
  { name: "payments-worker", path: "payments-worker", handler: paymentsWorker, limit: 4096, token: async () => serviceToken },
  { name: "storage-purge", path: "storage-purge", handler: storagePurge, limit: 4096, token: async () => serviceToken },
  { name: "stripe-webhook", path: "stripe-webhook", handler: stripeWebhook, limit: MB, token: async () => null },
  { name: "resend-webhook", path: "resend-webhook", handler: resendWebhook, limit: 256 * 1024, token: async () => null },
  { name: "twilio-status", path: "twilio-status", handler: twilioStatus, limit: 64 * 1024, token: async () => null },
];

describe("request bodies over a function's cap", () => {
  for (const c of cases) {
    it(`${c.name}: a declared ${c.limit + 1}-byte body is refused with 413 before it is read`, async () => {
      const body = lazyBody(c.limit + 1);
      const res = await c.handler(post(c.path, await c.token(), body.stream, { "Content-Length": String(c.limit + 1) }));
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: { code: "payload_too_large", message: expect.stringContaining(String(c.limit)) as unknown,
                                                  details: { limit_bytes: c.limit } } });
      expect(body.pulled()).toBeLessThanOrEqual(64 * 1024);
    });

    it(`${c.name}: a 100 MB chunked body is abandoned just past the cap`, async () => {
      const body = lazyBody(100 * MB);
      const started = Date.now();
      const res = await c.handler(post(c.path, await c.token(), body.stream));
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: "payload_too_large" } });
      expect(body.pulled()).toBeLessThanOrEqual(c.limit + 2 * 64 * 1024);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  }

  it("contact-points: an oversized body changes nothing and texts nothing", async () => {
    const user = await createUser();
    const padded = JSON.stringify({ phone: "+351917123456", country: "PT" }).replace("}", `, "x": "${" ".repeat(5000)}"}`);
    const res = await contactPoints(post("contact-points", user.token, padded));
    expect(res.status).toBe(413);
    expect((await ownerQuery("select count(*)::int as n from public.notification_settings where user_id = $1", [user.id])).rows).toEqual([{ n: 0 }]);
    expect((await ownerQuery("select count(*)::int as n from private.alert_sink where destination = '+351917123456'")).rows).toEqual([{ n: 0 }]);
  });
});

describe("a token whose account no longer exists", () => {
  it("gets 403 account_not_found from me, checkout and contact-points alike", async () => {
    const ghost = await createUser();
    await ownerQuery("delete from public.profiles where id = $1", [ghost.id]);
    const answers = await Promise.all([
      me(new Request("http://127.0.0.1/me", { headers: { Authorization: `Bearer ${ghost.token}` } })),
      checkout(post("checkout", ghost.token, JSON.stringify({ booking_id: crypto.randomUUID() }))),
      contactPoints(new Request("http://127.0.0.1/contact-points", { headers: { Authorization: `Bearer ${ghost.token}` } })),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: { code: "account_not_found", message: "Your account no longer exists. Sign in again." } });
    }
  });
});
