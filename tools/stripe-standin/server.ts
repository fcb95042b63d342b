/**
 * The local Stripe stand-in: a stateful HTTP server on 127.0.0.1 that speaks the subset of
 * Stripe's API Rally uses, so tests and the local stack never reach Stripe. It is NOT Stripe:
 * everything it answers is labelled a stand-in (`Stripe-Standin: true` header, status output).
 *
 * Faithful to Stripe's contract where Rally depends on it:
 * - auth: `Authorization: Bearer sk_test_…` (or the configured key) else 401, as Stripe answers;
 *   live keys are refused;
 * - form-encoded bodies with bracket paths; JSON answers; Stripe's error shape
 *   `{ "error": { "type", "code", "message", "param" } }` and statuses (400, 402, 404, 401, 500);
 * - `Stripe-Account` for connected-account requests;
 * - Idempotency-Key on POST: the first result is saved (success or error, once execution began)
 *   and replayed with `Idempotent-Replayed: true`; the same key with other parameters or another
 *   endpoint is a 400 `idempotency_error`; keys are scoped to the API key and account;
 * - webhooks: every event is POSTed to the platform endpoint (or the Connect endpoint when it
 *   belongs to a connected account) with a real `Stripe-Signature` (stripe-node's
 *   generateTestHeaderStringAsync: HMAC-SHA256 of `t.payload` with the endpoint secret),
 *   retried on failure.
 * Failure injection (tests, or POST /_standin/faults): `error_before` (5xx before anything runs;
 * nothing saved; Stripe-Should-Retry: true), `error_after` (the request runs, a 500 is saved
 * and replayed for that key — Stripe's indeterminate case), `timeout` (the request runs and is
 * saved, the answer comes after delayMs, so the client gives up and retries with the same key).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { canonical, type FormObject, parseForm } from "./form.ts";
import { type JsonObject, StripeApiError, type StripeEvent, StripeStore, stripeId, type RequestContext } from "./store.ts";

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface FaultSpec {
  /** HTTP method to match (default any). */
  method?: string;
  /** Matches when the request path starts with this (e.g. "/v1/refunds"), or a RegExp source wrapped in slashes. */
  path?: string;
  mode: "error_before" | "error_after" | "timeout";
  /** Status for the error modes (default 500). */
  status?: number;
  /** For timeout: how long the answer is held back (default 5000 ms). */
  delayMs?: number;
  /** How many requests it hits (default 1). */
  times?: number;
}

export interface StandinOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** The only secret key accepted; default any sk_test_/rk_test_ key. */
  apiKey?: string;
  platformWebhook?: WebhookTarget | null;
  connectWebhook?: WebhookTarget | null;
  /** auto (default): events are delivered as they happen; manual: queued until deliverQueued(). */
  delivery?: "auto" | "manual";
  payouts?: "auto" | "manual";
  refunds?: "auto" | "manual";
  /** Delays between delivery attempts of one event (default [100, 500, 2000]). */
  retryDelaysMs?: number[];
  log?: (line: string) => void;
}

export interface Delivery {
  eventId: string;
  type: string;
  endpoint: "platform" | "connect";
  status: number | null;
  attempt: number;
}

interface SavedResponse {
  fingerprint: string;
  status: number;
  body: JsonObject;
  headers: Record<string, string>;
}

interface QueuedDelivery {
  event: StripeEvent;
  endpoint: "platform" | "connect";
  attempt: number;
}

export interface StripeStandin {
  readonly url: string;
  readonly port: number;
  readonly store: StripeStore;
  readonly deliveries: Delivery[];
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  setWebhooks(platform: WebhookTarget | null, connect: WebhookTarget | null): void;
  setDelivery(mode: "auto" | "manual"): void;
  /** Events queued in manual mode (not yet delivered). */
  queued(): StripeEvent[];
  /** Delivers the queued events in order (manual mode), waiting for each answer. */
  deliverQueued(): Promise<void>;
  /** Signs and POSTs one event to its endpoint now (replays in tests); returns the HTTP status. */
  deliver(event: StripeEvent): Promise<number | null>;
  /** Resolves once no delivery, retry or asynchronous Stripe transition is pending. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const JSON_HEADERS = { "Content-Type": "application/json", "Stripe-Standin": "true" };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: JsonObject, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { ...JSON_HEADERS, ...headers });
  res.end(JSON.stringify(body));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startStripeStandin(options: StandinOptions = {}): Promise<StripeStandin> {
  const log = options.log ?? (() => undefined);
  const faults: (FaultSpec & { left: number })[] = [];
  const saved = new Map<string, SavedResponse>();
  const deliveries: Delivery[] = [];
  const queue: QueuedDelivery[] = [];
  let webhooks = { platform: options.platformWebhook ?? null, connect: options.connectWebhook ?? null };
  let deliveryMode = options.delivery ?? "auto";
  const retryDelays = options.retryDelaysMs ?? [100, 500, 2000];
  let pending = 0;
  let baseUrl = "http://127.0.0.1";
  let draining = false;
  let closed = false;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending += 1;
    return promise.finally(() => {
      pending -= 1;
    });
  };

  const later = (fn: () => void): void => {
    void track(new Promise<void>((resolve) => setTimeout(() => {
      try {
        fn();
      } catch (err) {
        log(`stripe stand-in: asynchronous transition failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      resolve();
    }, 5)));
  };

  const endpointOf = (event: StripeEvent): "platform" | "connect" => (typeof event.account === "string" ? "connect" : "platform");

  async function post(event: StripeEvent, endpoint: "platform" | "connect"): Promise<number | null> {
    const target = webhooks[endpoint];
    if (target === null) return null;
    const payload = JSON.stringify(event);
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: target.secret });
    try {
      const res = await fetch(target.url, {
        method: "POST",
        headers: { "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature, "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) stand-in" },
        body: payload,
      });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return null;
    }
  }

  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      while (queue.length > 0 && !closed) {
        const item = queue.shift();
        if (item === undefined) break;
        const status = await post(item.event, item.endpoint);
        deliveries.push({ eventId: item.event.id, type: item.event.type, endpoint: item.endpoint, status, attempt: item.attempt });
        const ok = status !== null && status >= 200 && status < 300;
        const target = webhooks[item.endpoint];
        if (!ok && target !== null && item.attempt <= retryDelays.length) {
          const delay = retryDelays[item.attempt - 1] ?? 1000;
          log(`stripe stand-in: ${item.event.type} ${item.event.id} → ${status ?? "no answer"}; retry in ${delay} ms`);
          void track(sleep(delay).then(() => {
            queue.push({ ...item, attempt: item.attempt + 1 });
            return track(drain());
          }));
        }
      }
    } finally {
      draining = false;
    }
  }

  const store = new StripeStore({
    later,
    payouts: options.payouts ?? "auto",
    refunds: options.refunds ?? "auto",
    baseUrl: () => baseUrl,
    emit: (event) => {
      const endpoint = endpointOf(event);
      if (webhooks[endpoint] === null) return;
      queue.push({ event, endpoint, attempt: 1 });
      if (deliveryMode === "auto") void track(drain());
    },
  });

  function takeFault(method: string, path: string): FaultSpec | null {
    for (const fault of faults) {
      if (fault.left <= 0) continue;
      if (fault.method !== undefined && fault.method.toUpperCase() !== method) continue;
      if (fault.path !== undefined) {
        const isRegex = fault.path.length > 2 && fault.path.startsWith("/") && fault.path.endsWith("/") && !fault.path.startsWith("/v1");
        const matches = isRegex ? new RegExp(fault.path.slice(1, -1)).test(path) : path.startsWith(fault.path);
        if (!matches) continue;
      }
      fault.left -= 1;
      return fault;
    }
    return null;
  }

  function authenticate(req: IncomingMessage): string {
    const header = req.headers.authorization;
    if (header === undefined || header.trim() === "") {
      throw new StripeApiError(401, "invalid_request_error",
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').");
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header) ?? /^Basic\s+(\S+)$/i.exec(header);
    let key = match?.[1] ?? "";
    if (/^Basic/i.test(header)) key = Buffer.from(key, "base64").toString("utf8").replace(/:$/, "");
    const accepted = options.apiKey === undefined ? /^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key) : key === options.apiKey;
    if (!accepted) {
      throw new StripeApiError(401, "invalid_request_error",
        `Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(Math.max(0, Math.min(key.length - 12, 20)))}${key.slice(-4)}`, "api_key_invalid");
    }
    return key;
  }

  /** The Stripe API routes. Throws StripeApiError for Stripe-shaped failures. */
  function route(method: string, path: string, params: FormObject, ctx: RequestContext): JsonObject {
    const parts = path.split("/").filter((p) => p !== "");
    const [v1, resource, id, action] = parts;
    if (v1 !== "v1" || resource === undefined) throw unknownRoute(method, path);
    const n = parts.length;
    switch (resource) {
      case "accounts":
        if (method === "POST" && n === 2) return store.createAccount(params, ctx);
        if (method === "GET" && n === 3 && id !== undefined) return store.retrieveAccount(id);
        break;
      case "account_links":
        if (method === "POST" && n === 2) return store.createAccountLink(params);
        break;
      case "payment_intents":
        if (method === "POST" && n === 2) return store.createPaymentIntent(params, ctx);
        if (id === undefined) break;
        if (method === "GET" && n === 3) return store.retrievePaymentIntent(id);
        if (method === "POST" && n === 4 && action === "confirm") return store.confirmPaymentIntent(id, params, ctx);
        if (method === "POST" && n === 4 && action === "cancel") return store.cancelPaymentIntent(id, params, ctx);
        break;
      case "charges":
        if (method === "GET" && n === 3 && id !== undefined) return store.retrieveCharge(id);
        break;
      case "balance_transactions":
        if (method === "GET" && n === 3 && id !== undefined) return store.retrieveBalanceTransaction(id);
        break;
      case "refunds":
        if (method === "POST" && n === 2) return store.createRefund(params, ctx);
        if (method === "GET" && n === 3 && id !== undefined) return store.retrieveRefund(id);
        break;
      case "transfers":
        if (method === "POST" && n === 2) return store.createTransfer(params, ctx);
        if (id === undefined) break;
        if (method === "GET" && n === 3) return store.retrieveTransfer(id);
        if (method === "POST" && n === 4 && action === "reversals") return store.createTransferReversal(id, params, ctx);
        break;
      case "payouts":
        if (method === "POST" && n === 2) return store.createPayout(params, ctx);
        if (method === "GET" && n === 3 && id !== undefined) return store.retrievePayout(id, ctx.account);
        break;
      case "disputes":
        if (id === undefined) break;
        if (method === "GET" && n === 3) return store.retrieveDispute(id);
        if (method === "POST" && n === 3) return store.updateDispute(id, params, ctx);
        if (method === "POST" && n === 4 && action === "close") return store.closeDispute(id);
        break;
      case "events":
        if (method === "GET" && n === 2) return store.listEvents(params);
        if (method === "GET" && n === 3 && id !== undefined) return store.retrieveEvent(id);
        break;
      case "balance":
        if (method === "GET" && n === 2) return store.retrieveBalance(ctx.account);
        break;
    }
    throw unknownRoute(method, path);
  }

  const unknownRoute = (method: string, path: string): StripeApiError =>
    new StripeApiError(404, "invalid_request_error",
      `Unrecognized request URL (${method}: ${path}). This is Rally's Stripe stand-in, which implements only the API subset Rally uses.`);

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    const requestId = stripeId("req");
    const headers: Record<string, string> = { "Request-Id": requestId, "Stripe-Version": String(req.headers["stripe-version"] ?? "2026-10-28.endive") };
    const raw = await readBody(req);
    let apiKey: string;
    try {
      apiKey = authenticate(req);
    } catch (err) {
      const e = err as StripeApiError;
      send(res, e.status, e.body(), headers);
      return;
    }
    const params = method === "GET" ? parseForm(url.search.slice(1)) : parseForm(raw);
    const account = typeof req.headers["stripe-account"] === "string" ? req.headers["stripe-account"] : null;
    const idempotencyKey = method === "POST" && typeof req.headers["idempotency-key"] === "string" ? req.headers["idempotency-key"] : null;
    const ctx: RequestContext = { requestId, idempotencyKey, account };

    const fault = takeFault(method, url.pathname);
    if (fault?.mode === "error_before") {
      const status = fault.status ?? 500;
      send(res, status, new StripeApiError(status, "api_error", "An error occurred with our connection to Stripe (injected by the stand-in).").body(),
        { ...headers, "Stripe-Should-Retry": "true" });
      return;
    }

    const scope = `${apiKey}|${account ?? ""}|${idempotencyKey ?? ""}`;
    const fingerprint = `${method} ${url.pathname} ${canonical(params)}`;
    if (idempotencyKey !== null) {
      if (idempotencyKey.length > 255) {
        send(res, 400, new StripeApiError(400, "invalid_request_error", "Idempotency keys can be at most 255 characters.").body(), headers);
        return;
      }
      const previous = saved.get(scope);
      if (previous !== undefined) {
        if (previous.fingerprint !== fingerprint) {
          send(res, 400, new StripeApiError(400, "idempotency_error",
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`).body(),
            { ...headers, "Idempotency-Key": idempotencyKey });
          return;
        }
        if (fault?.mode === "timeout") await sleep(fault.delayMs ?? 5000);
        send(res, previous.status, previous.body, { ...previous.headers, "Request-Id": requestId, "Idempotent-Replayed": "true", "Idempotency-Key": idempotencyKey });
        return;
      }
    }

    let status = 200;
    let body: JsonObject;
    try {
      body = route(method, url.pathname, params, ctx);
    } catch (err) {
      if (!(err instanceof StripeApiError)) throw err;
      status = err.status;
      body = err.body();
    }
    const responseHeaders: Record<string, string> = { ...headers };
    if (fault?.mode === "error_after") {
      status = fault.status ?? 500;
      body = new StripeApiError(status, "api_error", "Something went wrong on Stripe's end (injected by the stand-in); the outcome is unknown.").body();
      responseHeaders["Stripe-Should-Retry"] = "false";
    }
    // Stripe saves results once execution began: not for unknown routes or auth failures.
    if (idempotencyKey !== null && status !== 404 && status !== 401) {
      responseHeaders["Idempotency-Key"] = idempotencyKey;
      saved.set(scope, { fingerprint, status, body, headers: responseHeaders });
    }
    if (fault?.mode === "timeout") await sleep(fault.delayMs ?? 5000);
    send(res, status, body, responseHeaders);
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    const parts = url.pathname.split("/").filter((p) => p !== "");
    const raw = await readBody(req);
    const body = raw.trim() === "" ? {} : (JSON.parse(raw) as Record<string, unknown>);
    if (method === "GET" && parts[1] === "onboarding" && parts[2] !== undefined) {
      store.completeOnboarding(parts[2]);
      const target = url.searchParams.get("return_url");
      if (target !== null) {
        res.writeHead(302, { Location: target, "Stripe-Standin": "true" });
        res.end();
      } else {
        send(res, 200, { standin: true, onboarded: parts[2] });
      }
      return;
    }
    // The webhook URLs (never the secrets) say which stack this stand-in belongs to (npm run demo checks it).
    if (method === "GET" && parts[1] === "health") {
      return send(res, 200, { standin: true, status: "ok", webhooks: { platform: webhooks.platform?.url ?? null, connect: webhooks.connect?.url ?? null } });
    }
    if (method === "POST" && parts[1] === "faults") {
      api.injectFault(body as unknown as FaultSpec);
      return send(res, 200, { standin: true, faults: faults.length });
    }
    if (method === "DELETE" && parts[1] === "faults") {
      api.clearFaults();
      return send(res, 200, { standin: true, faults: 0 });
    }
    if (method === "POST" && parts[1] === "payouts" && parts[2] !== undefined && parts[3] === "settle") {
      return send(res, 200, store.settlePayout(parts[2], body.outcome === "failed" ? "failed" : "paid"));
    }
    if (method === "POST" && parts[1] === "refunds" && parts[2] !== undefined && parts[3] === "settle") {
      return send(res, 200, store.settleRefund(parts[2], body.outcome === "failed" ? "failed" : "succeeded"));
    }
    if (method === "POST" && parts[1] === "deliver") {
      await api.deliverQueued();
      return send(res, 200, { standin: true, delivered: true });
    }
    send(res, 404, { error: { type: "invalid_request_error", message: `Unknown stand-in control ${method} ${url.pathname}.` } });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const work = url.pathname.startsWith("/_standin/") ? handleControl(req, res, url) : handleApi(req, res, url);
    work.catch((err: unknown) => {
      const message = err instanceof StripeApiError ? err.message : err instanceof Error ? err.message : String(err);
      log(`stripe stand-in: ${req.method ?? "?"} ${url.pathname} failed: ${message}`);
      if (err instanceof StripeApiError) send(res, err.status, err.body());
      else send(res, 500, { error: { type: "api_error", message: "The stand-in failed to handle this request." } });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  const api: StripeStandin = {
    url: baseUrl,
    port,
    store,
    deliveries,
    injectFault: (fault) => {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    setWebhooks: (platform, connect) => {
      webhooks = { platform, connect };
    },
    setDelivery: (mode) => {
      deliveryMode = mode;
      if (mode === "auto") void track(drain());
    },
    queued: () => queue.map((item) => item.event),
    deliverQueued: async () => {
      await track(drain());
    },
    deliver: async (event) => {
      const endpoint = endpointOf(event);
      const status = await post(event, endpoint);
      deliveries.push({ eventId: event.id, type: event.type, endpoint, status, attempt: 0 });
      return status;
    },
    idle: async () => {
      for (let i = 0; i < 2000; i += 1) {
        if (pending === 0 && (deliveryMode === "manual" || queue.length === 0)) {
          await sleep(10);
          if (pending === 0 && (deliveryMode === "manual" || queue.length === 0)) return;
        }
        await sleep(5);
      }
      throw new Error("stripe stand-in: still busy after 20 s");
    },
    close: async () => {
      closed = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
    },
  };
  return api;
}
