/**
 * The Stripe client every payments function uses: stripe-node with the fetch HTTP client and
 * SubtleCrypto (the same code path under Deno and Node), and a pinned API version.
 *
 * Configuration (read on every call, so tests can change it):
 *   STRIPE_SECRET_KEY               a test-mode (sk_test_/rk_test_) or live key. Unset: Rally talks
 *                                   to the local Stripe stand-in instead (tools/stripe-standin).
 *   STRIPE_API_BASE                 base URL of the API, e.g. http://127.0.0.1:54350 for the
 *                                   stand-in. Required when STRIPE_SECRET_KEY is unset; with a
 *                                   key it overrides api.stripe.com (tests of the real adapter).
 *   STRIPE_WEBHOOK_SECRET           signing secret (whsec_…) of the platform webhook endpoint.
 *   STRIPE_CONNECT_WEBHOOK_SECRET   signing secret of the Connect webhook endpoint.
 *   STRIPE_TIMEOUT_MS               per-request timeout (default 30000).
 *   STRIPE_MAX_NETWORK_RETRIES      stripe-node's own retries with the same idempotency key (default 2).
 * Missing configuration is a 503 `not_configured` naming the variables, never a crash.
 */
import Stripe from "stripe";
import { readEnv } from "./env.ts";
import { HttpError } from "./http-errors.ts";

/** The API version Rally is written against (stripe-node 23.1.0's own). Webhook endpoints must use it too. */
export const STRIPE_API_VERSION = "2026-10-28.endive" as const;

/** The key the functions present to the stand-in when no real key is configured. */
export const STANDIN_SECRET_KEY = "sk_test_rally_standin";

export type WebhookEndpoint = "platform" | "connect";

export interface StripeSettings {
  secretKey: string;
  /** Where requests go; null = api.stripe.com. */
  apiBase: URL | null;
  /** True when no STRIPE_SECRET_KEY is set and the stand-in answers. */
  standin: boolean;
  /** What `livemode` webhook events must carry to be applied. */
  livemode: boolean;
  timeoutMs: number;
  maxNetworkRetries: number;
}

const notConfigured = (variables: string[], message: string): HttpError =>
  new HttpError(503, "not_configured", message, { details: { variables } });

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = readEnv(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw notConfigured([name], `${name} must be a whole number between ${min} and ${max}.`);
  }
  return value;
}

function parseBase(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw notConfigured(["STRIPE_API_BASE"], "STRIPE_API_BASE must be a URL such as http://127.0.0.1:54350.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw notConfigured(["STRIPE_API_BASE"], "STRIPE_API_BASE must be an http(s) URL.");
  }
  return url;
}

/** Reads and checks the Stripe configuration. */
export function stripeSettings(): StripeSettings {
  const key = readEnv("STRIPE_SECRET_KEY");
  const base = readEnv("STRIPE_API_BASE");
  if (key === undefined && base === undefined) {
    throw notConfigured(["STRIPE_SECRET_KEY", "STRIPE_API_BASE"],
      "Payments are not configured: set STRIPE_SECRET_KEY, or STRIPE_API_BASE to use the local Stripe stand-in.");
  }
  if (key !== undefined && !/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.test(key)) {
    throw notConfigured(["STRIPE_SECRET_KEY"], "STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_… or rk_…).");
  }
  return {
    secretKey: key ?? STANDIN_SECRET_KEY,
    apiBase: base === undefined ? null : parseBase(base),
    standin: key === undefined,
    livemode: key !== undefined && /^(sk|rk)_live_/.test(key),
    timeoutMs: intEnv("STRIPE_TIMEOUT_MS", 30_000, 100, 120_000),
    maxNetworkRetries: intEnv("STRIPE_MAX_NETWORK_RETRIES", 2, 0, 5),
  };
}

let cached: { fingerprint: string; client: Stripe } | null = null;

/** The client for the current configuration (re-created when it changes, which only tests do). */
export function getStripe(settings: StripeSettings = stripeSettings()): Stripe {
  const fingerprint = JSON.stringify([settings.secretKey, settings.apiBase?.href ?? null, settings.timeoutMs, settings.maxNetworkRetries]);
  if (cached !== null && cached.fingerprint === fingerprint) return cached.client;
  const base = settings.apiBase;
  const client = new Stripe(settings.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    httpClient: Stripe.createFetchHttpClient(),
    timeout: settings.timeoutMs,
    maxNetworkRetries: settings.maxNetworkRetries,
    telemetry: false,
    appInfo: { name: "rally", version: "0.1.0" },
    ...(base === null ? {} : {
      host: base.hostname,
      port: base.port === "" ? (base.protocol === "https:" ? 443 : 80) : Number(base.port),
      protocol: base.protocol === "https:" ? "https" : "http",
    }),
  });
  cached = { fingerprint, client };
  return client;
}

/** SubtleCrypto for webhook signatures: constructEventAsync works the same in Deno and Node. */
export const webhookCrypto = Stripe.createSubtleCryptoProvider();

/** The signing secret of a webhook endpoint; 503 when it is not set. */
export function webhookSecret(endpoint: WebhookEndpoint): string {
  const name = endpoint === "platform" ? "STRIPE_WEBHOOK_SECRET" : "STRIPE_CONNECT_WEBHOOK_SECRET";
  const value = readEnv(name);
  if (value === undefined) throw notConfigured([name], `The ${endpoint} webhook endpoint is not configured: set ${name}.`);
  return value;
}

/** What livemode events must carry: live keys take live events; test keys and the stand-in, test events. */
export function expectedLivemode(): boolean {
  const key = readEnv("STRIPE_SECRET_KEY");
  return key !== undefined && /^(sk|rk)_live_/.test(key);
}

/**
 * A Stripe API object as plain JSON for the database (stripe-node adds `lastResponse`, which
 * is not part of the object).
 */
export function plainObject(value: object): Record<string, unknown> {
  const { lastResponse: _ignored, ...rest } = value as Record<string, unknown>;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}
