/**
 * The local Stripe stand-in: a stateful HTTP server on 127.0.0.1 that speaks the subset of
 * Stripe's API Rally uses, so tests and the local stack never reach Stripe. It is NOT Stripe:
 * everything it answers is labelled a stand-in (`Stripe-Standin: true` header, status output).
 *
 * As strict as Stripe where Rally depends on it:
 * - auth: `Authorization: Bearer sk_test_…` (or the configured key) else 401; live keys refused;
 * - parameters: form-encoded bracket paths, checked against the pinned API version's parameter
 *   trees (shapes/stripe-api.json, read from stripe-node's types): an unknown one is a 400
 *   `parameter_unknown` naming it; parameters Stripe takes but the stand-in does not implement
 *   are refused (`standin_unsupported`), never guessed;
 * - objects complete for the pinned version (typed with stripe-node's types; a test checks them);
 * - Stripe's error shape and statuses; `Stripe-Account` for connected-account requests;
 * - idempotency exactly as documented (idempotency.ts);
 * - webhooks signed and delivered orderly or disorderly, under a seed (delivery.ts).
 * Failure injection (tests, or POST /_standin/faults): `error_before` (5xx before anything runs;
 * nothing saved; Stripe-Should-Retry: true), `error_after` (the request runs, a 500 is saved
 * and replayed for that key — Stripe's indeterminate case), `timeout` (the request runs and is
 * saved, the answer comes after delayMs, so the client gives up and retries with the same key),
 * `slow` (the request holds its key for delayMs before running: a retry meanwhile gets 409
 * `idempotency_key_in_use`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StripeApiError } from "./errors.ts";
import { type Delivery, type DisorderSpec, WebhookDelivery, type WebhookTarget } from "./delivery.ts";
import { type FormObject, parseForm } from "./form.ts";
import { fingerprintOf, IdempotencyLayer } from "./idempotency.ts";
import { asJson, type JsonObject } from "./json.ts";
import { checkParams } from "./params.ts";
import { completeOnboarding, createAccount, createAccountLink, retrieveAccount } from "./resources/accounts.ts";
import { retrieveBalance, retrieveBalanceTransaction } from "./resources/balance.ts";
import { retrieveCharge } from "./resources/charges.ts";
import { closeDispute, retrieveDispute, updateDispute } from "./resources/disputes.ts";
import { listEvents, retrieveEvent } from "./resources/events.ts";
import { cancelPaymentIntent, confirmPaymentIntent, createPaymentIntent, retrievePaymentIntent } from "./resources/payment-intents.ts";
import { createPayout, retrievePayout } from "./resources/payouts.ts";
import { createRefund, retrieveRefund } from "./resources/refunds.ts";
import { createTransfer, createTransferReversal, retrieveTransfer } from "./resources/transfers.ts";
import { ENDPOINTS, endpointKey } from "./shapes/read-stripe-types.ts";
import { type RequestContext, stripeId, type StripeEvent } from "./state.ts";
import { StripeStore } from "./store.ts";

export type { Delivery, DisorderSpec, WebhookTarget } from "./delivery.ts";

export interface FaultSpec {
  /** HTTP method to match (default any). */
  method?: string;
  /** Matches when the request path starts with this (e.g. "/v1/refunds"), or a RegExp source wrapped in slashes. */
  path?: string;
  mode: "error_before" | "error_after" | "timeout" | "slow";
  /** Status for the error modes (default 500). */
  status?: number;
  /** For timeout and slow: how long (default 5000 ms). */
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
  /** Deliver disorderly under this seed (shuffled, duplicated, concurrent, delayed); default orderly. */
  disorder?: DisorderSpec | null;
  payouts?: "auto" | "manual";
  refunds?: "auto" | "manual";
  /** The platform's settlement currency (default eur): charges in other currencies are converted. */
  settlementCurrency?: string;
  /** Delays between delivery attempts of one event (default [100, 500, 2000]). */
  retryDelaysMs?: number[];
  /** The stand-in's clock in ms (default Date.now): idempotency keys are pruned after 24 h of it. */
  now?: () => number;
  log?: (line: string) => void;
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
  /** Disorderly delivery under a seed, or null for orderly. */
  setDisorder(spec: DisorderSpec | null): void;
  /** Events queued in manual mode (not yet delivered). */
  queued(): StripeEvent[];
  /** Delivers the queued events (manual mode), waiting for every attempt. */
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

type Handler = (store: StripeStore, id: string, params: FormObject, ctx: RequestContext) => object;

/** What each endpoint does (the keys are the endpoints of shapes/read-stripe-types.ts). */
const HANDLERS: Record<string, Handler> = {
  "POST /v1/accounts": (s, _id, p, ctx) => createAccount(s, p, ctx),
  "GET /v1/accounts/:id": (s, id) => retrieveAccount(s, id),
  "POST /v1/account_links": (s, _id, p) => createAccountLink(s, p),
  "POST /v1/payment_intents": (s, _id, p, ctx) => createPaymentIntent(s, p, ctx),
  "GET /v1/payment_intents/:id": (s, id) => retrievePaymentIntent(s, id),
  "POST /v1/payment_intents/:id/confirm": (s, id, p, ctx) => confirmPaymentIntent(s, id, p, ctx),
  "POST /v1/payment_intents/:id/cancel": (s, id, p, ctx) => cancelPaymentIntent(s, id, p, ctx),
  "GET /v1/charges/:id": (s, id) => retrieveCharge(s, id),
  "GET /v1/balance_transactions/:id": (s, id) => retrieveBalanceTransaction(s, id),
  "POST /v1/refunds": (s, _id, p, ctx) => createRefund(s, p, ctx),
  "GET /v1/refunds/:id": (s, id) => retrieveRefund(s, id),
  "POST /v1/transfers": (s, _id, p, ctx) => createTransfer(s, p, ctx),
  "GET /v1/transfers/:id": (s, id) => retrieveTransfer(s, id),
  "POST /v1/transfers/:id/reversals": (s, id, p, ctx) => createTransferReversal(s, id, p, ctx),
  "POST /v1/payouts": (s, _id, p, ctx) => createPayout(s, p, ctx),
  "GET /v1/payouts/:id": (s, id, _p, ctx) => retrievePayout(s, id, ctx.account),
  "GET /v1/disputes/:id": (s, id) => retrieveDispute(s, id),
  "POST /v1/disputes/:id": (s, id, p, ctx) => updateDispute(s, id, p, ctx),
  "POST /v1/disputes/:id/close": (s, id, p, ctx) => closeDispute(s, id, p, ctx),
  "GET /v1/events": (s, _id, p) => listEvents(s, p),
  "GET /v1/events/:id": (s, id) => retrieveEvent(s, id),
  "GET /v1/balance": (s, _id, p, ctx) => retrieveBalance(s, ctx.account, p),
};

/** The endpoint a request is for, and the id in its path. */
export function matchEndpoint(method: string, path: string): { key: string; id: string } | null {
  const parts = path.split("/").filter((p) => p !== "");
  for (const endpoint of ENDPOINTS) {
    if (endpoint.method !== method) continue;
    const pattern = endpoint.path.split("/").filter((p) => p !== "");
    if (pattern.length !== parts.length) continue;
    let id = "";
    const matches = pattern.every((segment, i) => {
      const part = parts[i] ?? "";
      if (segment === ":id") {
        id = decodeURIComponent(part);
        return part !== "";
      }
      return segment === part;
    });
    if (matches) return { key: endpointKey(endpoint), id };
  }
  return null;
}

export async function startStripeStandin(options: StandinOptions = {}): Promise<StripeStandin> {
  const log = options.log ?? (() => undefined);
  const faults: (FaultSpec & { left: number })[] = [];
  const nowMs = options.now ?? Date.now;
  const idempotency = new IdempotencyLayer(() => Math.floor(nowMs() / 1000));
  let pending = 0;
  let baseUrl = "http://127.0.0.1";

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending += 1;
    return promise.finally(() => {
      pending -= 1;
    });
  };

  const delivery = new WebhookDelivery(options.platformWebhook ?? null, options.connectWebhook ?? null, options.delivery ?? "auto",
    options.retryDelaysMs ?? [100, 500, 2000], track, log);
  delivery.setDisorder(options.disorder ?? null);

  const later = (fn: () => void, delayMs = 5): void => {
    void track(new Promise<void>((resolve) => setTimeout(() => {
      try {
        fn();
      } catch (err) {
        log(`stripe stand-in: asynchronous transition failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      resolve();
    }, delayMs)));
  };

  const store = new StripeStore({
    now: nowMs,
    later,
    payouts: options.payouts ?? "auto",
    refunds: options.refunds ?? "auto",
    settlementCurrency: (options.settlementCurrency ?? "eur").toLowerCase(),
    baseUrl: () => baseUrl,
    emit: (event) => delivery.enqueue(event),
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
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        undefined, undefined, {}, false);
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header) ?? /^Basic\s+(\S+)$/i.exec(header);
    let key = match?.[1] ?? "";
    if (/^Basic/i.test(header)) key = Buffer.from(key, "base64").toString("utf8").replace(/:$/, "");
    const accepted = options.apiKey === undefined ? /^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key) : key === options.apiKey;
    if (!accepted) {
      throw new StripeApiError(401, "invalid_request_error",
        `Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(Math.max(0, Math.min(key.length - 12, 20)))}${key.slice(-4)}`, "api_key_invalid",
        undefined, {}, false);
    }
    return key;
  }

  const unknownRoute = (method: string, path: string): StripeApiError =>
    new StripeApiError(404, "invalid_request_error",
      `Unrecognized request URL (${method}: ${path}). This is Rally's Stripe stand-in, which implements only the API subset Rally uses.`,
      undefined, undefined, {}, false);

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    const requestId = stripeId("req");
    const headers: Record<string, string> = { "Request-Id": requestId, "Stripe-Version": String(req.headers["stripe-version"] ?? "2026-10-28.endive") };
    const raw = await readBody(req);
    const idempotencyKey = method === "POST" && typeof req.headers["idempotency-key"] === "string" ? req.headers["idempotency-key"] : null;
    if (idempotencyKey !== null) headers["Idempotency-Key"] = idempotencyKey;
    const fail = (err: StripeApiError, extra: Record<string, string> = {}): void => send(res, err.status, err.body(), { ...headers, ...extra });

    let apiKey: string;
    try {
      apiKey = authenticate(req);
    } catch (err) {
      if (err instanceof StripeApiError) return fail(err);
      throw err;
    }
    const params = method === "GET" ? parseForm(url.search.slice(1)) : parseForm(raw);
    const account = typeof req.headers["stripe-account"] === "string" ? req.headers["stripe-account"] : null;
    const ctx: RequestContext = { requestId, idempotencyKey, account };

    const fault = takeFault(method, url.pathname);
    if (fault?.mode === "error_before") {
      const status = fault.status ?? 500;
      return fail(new StripeApiError(status, "api_error", "An error occurred with our connection to Stripe (injected by the stand-in)."), { "Stripe-Should-Retry": "true" });
    }

    const endpoint = matchEndpoint(method, url.pathname);
    if (endpoint === null) return fail(unknownRoute(method, url.pathname));
    const handler = HANDLERS[endpoint.key];
    if (handler === undefined) return fail(unknownRoute(method, url.pathname));

    const scope = idempotencyKey === null ? null : IdempotencyLayer.scope(apiKey, account, idempotencyKey);
    const fingerprint = fingerprintOf(method, url.pathname, params);
    try {
      if (idempotencyKey !== null && scope !== null) {
        IdempotencyLayer.checkKey(idempotencyKey);
        const previous = idempotency.lookup(scope, idempotencyKey, fingerprint);
        if (previous !== null) {
          if (fault?.mode === "timeout") await sleep(fault.delayMs ?? 5000);
          send(res, previous.status, previous.body, { ...previous.headers, "Request-Id": requestId, "Idempotent-Replayed": "true" });
          return;
        }
      }
      checkParams(endpoint.key, params);
    } catch (err) {
      if (err instanceof StripeApiError) return fail(err);
      throw err;
    }

    if (scope !== null) idempotency.begin(scope);
    let status = 200;
    let body: JsonObject;
    let save = true;
    try {
      if (fault?.mode === "slow") await sleep(fault.delayMs ?? 5000);
      try {
        body = asJson(handler(store, endpoint.id, params, ctx));
      } catch (err) {
        if (!(err instanceof StripeApiError)) throw err;
        status = err.status;
        body = err.body();
        save = err.saved;
      }
      if (fault?.mode === "error_after") {
        status = fault.status ?? 500;
        body = new StripeApiError(status, "api_error", "Something went wrong on Stripe's end (injected by the stand-in); the outcome is unknown.").body();
        save = true;
        headers["Stripe-Should-Retry"] = "false";
      }
      if (scope !== null && save) idempotency.save(scope, { fingerprint, status, body, headers: { ...headers } });
    } finally {
      if (scope !== null) idempotency.end(scope);
    }
    if (fault?.mode === "timeout") await sleep(fault.delayMs ?? 5000);
    send(res, status, body, headers);
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    const parts = url.pathname.split("/").filter((p) => p !== "");
    const raw = await readBody(req);
    const body = raw.trim() === "" ? {} : (JSON.parse(raw) as Record<string, unknown>);
    const [, what, id, action] = parts;
    const ok = (payload: object): void => send(res, 200, { standin: true, ...asJson(payload) });
    if (method === "GET" && what === "onboarding" && id !== undefined) {
      completeOnboarding(store, id);
      const target = url.searchParams.get("return_url");
      if (target !== null) {
        res.writeHead(302, { Location: target, "Stripe-Standin": "true" });
        res.end();
      } else {
        ok({ onboarded: id });
      }
      return;
    }
    // The webhook URLs (never the secrets) say which stack this stand-in belongs to (npm run demo checks it).
    if (method === "GET" && what === "health") return ok({ status: "ok", webhooks: delivery.webhookUrls() });
    if (method === "POST" && what === "faults") {
      api.injectFault(body as unknown as FaultSpec);
      return ok({ faults: faults.length });
    }
    if (method === "DELETE" && what === "faults") {
      api.clearFaults();
      return ok({ faults: 0 });
    }
    if (method === "POST" && what === "disorder") {
      api.setDisorder(typeof body.seed === "number" ? (body as unknown as DisorderSpec) : null);
      return ok({ disorder: typeof body.seed === "number" });
    }
    if (method === "POST" && what === "payouts" && id !== undefined && action === "settle") {
      return ok(store.settlePayout(id, body.outcome === "failed" ? "failed" : "paid"));
    }
    if (method === "POST" && what === "refunds" && id !== undefined && action === "settle") {
      return ok(store.settleRefund(id, body.outcome === "failed" ? "failed" : "succeeded"));
    }
    if (method === "POST" && what === "disputes" && id !== undefined && action === "appeal") return ok(store.openAppeal(id));
    if (method === "POST" && what === "deliver") {
      await api.deliverQueued();
      return ok({ delivered: true });
    }
    send(res, 404, { error: { type: "invalid_request_error", message: `Unknown stand-in control ${method} ${url.pathname}.` } });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const work = url.pathname.startsWith("/_standin/") ? handleControl(req, res, url) : handleApi(req, res, url);
    work.catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
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
    deliveries: delivery.deliveries,
    injectFault: (fault) => {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    setWebhooks: (platform, connect) => delivery.setWebhooks(platform, connect),
    setDelivery: (mode) => delivery.setMode(mode),
    setDisorder: (spec) => delivery.setDisorder(spec),
    queued: () => delivery.queued(),
    deliverQueued: () => delivery.deliverQueued(),
    deliver: (event) => delivery.deliverNow(event),
    idle: async () => {
      const quiet = (): boolean => pending === 0 && (delivery.currentMode === "manual" || delivery.queueLength === 0);
      for (let i = 0; i < 4000; i += 1) {
        if (quiet()) {
          await sleep(10);
          if (quiet()) return;
        }
        await sleep(5);
      }
      throw new Error("stripe stand-in: still busy after 40 s");
    },
    close: async () => {
      delivery.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
    },
  };
  return api;
}
