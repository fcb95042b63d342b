/**
 * /functions/v1/connect-onboarding (verify_jwt = true) — a host sets up payouts with Stripe
 * Connect (an Express-dashboard account created by Rally: transfers capability, platform-owned
 * fees and losses, manual payouts).
 *
 * GET [?refresh=true]
 *   200 { "account_id" | null, "payouts_enabled", "details_submitted", "charges_enabled",
 *         "transfers", "requirements_due": [...], "disabled_reason" | null, "standin" }
 *   Status as Stripe last reported it (account.updated / capability.updated webhooks). With
 *   refresh=true the account is re-fetched from Stripe first (what an app does when the host
 *   comes back on the return URL, which by itself proves nothing).
 * POST { "return_url"?, "refresh_url"?, "country"? }
 *   200 { ...the status above, "onboarding_url", "expires_at" }
 *   Creates the account on first use (idempotency key per host, so a retry never makes a
 *   second one), then a single-use Stripe onboarding link (about 5 minutes). URLs must be on an
 *   allowed origin (RALLY_SITE_URL, default http://127.0.0.1:3000, plus RALLY_REDIRECT_ORIGINS).
 *
 * Every call that reaches Stripe (POST, GET with refresh=true) takes one `connect_onboarding`
 * call from the caller's rate limit (10 an hour by default; private.rate_limits): Stripe's rate
 * limit is shared by the whole platform (issue 13). The POST body is capped at 4 KiB.
 *
 * Errors: 400 validation_failed / redirect_not_allowed; 401; 403 not_a_host, account_not_found /
 * account_deleted / account_suspended; 413 payload_too_large; 429 rate_limited (Retry-After);
 * 503 not_configured or stripe_unavailable.
 */
import type Stripe from "stripe";
import { z } from "zod";
import { requireUser, type UserClaims } from "../_shared/auth.ts";
import { withServiceRole, withUserContext } from "../_shared/db.ts";
import { readEnv } from "../_shared/env.ts";
import { badRequest } from "../_shared/http-errors.ts";
import { json, readJson, readQuery } from "../_shared/json.ts";
import { routeByMethod } from "../_shared/router.ts";
import { stripeCall } from "../_shared/stripe-errors.ts";
import { getStripe, plainObject, stripeSettings } from "../_shared/stripe.ts";

interface ConnectRow {
  host_id: string;
  email: string | null;
  account_id: string | null;
  details_submitted: boolean;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  transfers_capability: string;
  requirements_due: string[];
  disabled_reason: string | null;
}

export const postBody = z.object({
  return_url: z.url().optional(),
  refresh_url: z.url().optional(),
  country: z.string().regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 country code such as GB").optional(),
}).default({});

export const getQuery = z.object({ refresh: z.enum(["true", "false"]).optional() });

const DEFAULT_SITE_URL = "http://127.0.0.1:3000";

/** Origins Stripe may send the host back to. */
export function allowedRedirectOrigins(): string[] {
  const site = readEnv("RALLY_SITE_URL") ?? DEFAULT_SITE_URL;
  const extra = (readEnv("RALLY_REDIRECT_ORIGINS") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  const origins = new Set<string>();
  for (const candidate of [site, ...extra]) {
    try {
      origins.add(new URL(candidate).origin);
    } catch {
      // A malformed entry allows nothing.
    }
  }
  return [...origins];
}

/** The return and refresh URLs: given ones must be on an allowed origin; defaults go to the site. */
export function redirectUrls(input: { return_url?: string | undefined; refresh_url?: string | undefined }): { returnUrl: string; refreshUrl: string } {
  const origins = allowedRedirectOrigins();
  const site = readEnv("RALLY_SITE_URL") ?? DEFAULT_SITE_URL;
  const check = (url: string | undefined, fallback: string, field: string): string => {
    if (url === undefined) return fallback;
    if (!origins.includes(new URL(url).origin)) {
      throw badRequest("redirect_not_allowed", `${field} must be on one of Rally's own sites.`, { allowed_origins: origins });
    }
    return url;
  };
  return {
    returnUrl: check(input.return_url, new URL("/host/payouts?onboarding=return", site).href, "return_url"),
    refreshUrl: check(input.refresh_url, new URL("/host/payouts?onboarding=refresh", site).href, "refresh_url"),
  };
}

/** The Express-style account Rally creates for a host (research §2.1: fees and losses on the platform). */
export function accountParams(host: { host_id: string; email: string | null }, country: string | undefined): Stripe.AccountCreateParams {
  return {
    controller: {
      fees: { payer: "application" },
      losses: { payments: "application" },
      requirement_collection: "stripe",
      stripe_dashboard: { type: "express" },
    },
    capabilities: { transfers: { requested: true } },
    settings: { payouts: { schedule: { interval: "manual" } } },
    metadata: { host_id: host.host_id },
    ...(host.email === null ? {} : { email: host.email }),
    ...(country === undefined ? {} : { country }),
  };
}

function statusBody(row: ConnectRow, standin: boolean): Record<string, unknown> {
  return {
    account_id: row.account_id,
    payouts_enabled: row.payouts_enabled,
    details_submitted: row.details_submitted,
    charges_enabled: row.charges_enabled,
    transfers: row.transfers_capability,
    requirements_due: row.requirements_due,
    disabled_reason: row.disabled_reason,
    standin,
  };
}

/** The caller's account; with `forStripe`, also takes one call from their connect_onboarding limit. */
function myAccount(claims: UserClaims, forStripe = false): Promise<ConnectRow> {
  return withUserContext(claims, async (db) => {
    const { rows } = await db.query<ConnectRow>("select * from private.my_connect_account()");
    const row = rows[0];
    if (row === undefined) throw new Error("my_connect_account returned no row");
    if (forStripe) await db.query("select private.consume_caller_rate_limit('connect_onboarding')");
    return row;
  });
}

export const handler = routeByMethod({
  GET: async (req) => {
    const claims = await requireUser(req);
    const query = readQuery(req, getQuery);
    let row = await myAccount(claims, query.refresh === "true");
    let standin = readEnv("STRIPE_SECRET_KEY") === undefined;
    if (query.refresh === "true" && row.account_id !== null) {
      const settings = stripeSettings();
      standin = settings.standin;
      const accountId = row.account_id;
      const account = await stripeCall(() => getStripe(settings).accounts.retrieve(accountId));
      await withServiceRole((db) => db.query("select private.apply_stripe_account($1::jsonb, date_trunc('second', now()))", [JSON.stringify(plainObject(account))]));
      row = await myAccount(claims);
    }
    return json(statusBody(row, standin), { headers: { "Cache-Control": "no-store" } });
  },

  POST: async (req) => {
    const claims = await requireUser(req);
    const input = await readJson(req, postBody);
    const { returnUrl, refreshUrl } = redirectUrls(input);
    let row = await myAccount(claims, true);
    const settings = stripeSettings();
    const stripe = getStripe(settings);
    if (row.account_id === null) {
      const account = await stripeCall(() =>
        stripe.accounts.create(accountParams(row, input.country), { idempotencyKey: `connect-account-${row.host_id}` }));
      await withServiceRole((db) =>
        db.query("select private.save_connect_account($1, $2::jsonb)", [row.host_id, JSON.stringify(plainObject(account))]));
      row = await myAccount(claims);
    }
    const accountId = row.account_id;
    if (accountId === null) throw new Error("the connected account was not recorded");
    const link = await stripeCall(() =>
      stripe.accountLinks.create({ account: accountId, type: "account_onboarding", return_url: returnUrl, refresh_url: refreshUrl }));
    return json({
      ...statusBody(row, settings.standin),
      onboarding_url: link.url,
      expires_at: new Date(link.expires_at * 1000).toISOString(),
    }, { headers: { "Cache-Control": "no-store" } });
  },
});
