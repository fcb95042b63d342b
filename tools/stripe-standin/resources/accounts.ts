/**
 * Accounts (Connect): create, retrieve, and what the host does on Stripe's hosted onboarding
 * page (everything due provided → account.updated, then capability.updated for `transfers`).
 */
import type Stripe from "stripe";
import { StripeApiError } from "../errors.ts";
import type { FormObject } from "../form.ts";
import { metadata, nestedStr, str } from "../params.ts";
import { type RequestContext, type StandinAccount, type StandinState, stripeId } from "../state.ts";

const CURRENCY_BY_COUNTRY: Record<string, string> = { GB: "gbp", US: "usd", CH: "chf", SE: "sek", DK: "dkk" };

const DUE = ["external_account", "individual.first_name", "individual.last_name", "tos_acceptance.date"];

function requirements(due: string[]): Stripe.Account.Requirements {
  return {
    alternatives: [], current_deadline: null, currently_due: [...due], disabled_reason: due.length > 0 ? "requirements.past_due" : null,
    errors: [], eventually_due: [...due], past_due: [...due], pending_verification: [],
  };
}

function futureRequirements(): Stripe.Account.FutureRequirements {
  return { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] };
}

export function createAccount(state: StandinState, params: FormObject, ctx: RequestContext): StandinAccount {
  const country = (str(params, "country") ?? "GB").toUpperCase();
  const dashboard = nestedStr(params, "controller", "stripe_dashboard", "type") ?? "full";
  const transfers = nestedStr(params, "capabilities", "transfers", "requested") === "true";
  const interval = (nestedStr(params, "settings", "payouts", "schedule", "interval") ?? "daily");
  const created = state.now();
  const id = stripeId("acct");
  const account: StandinAccount = {
    id, object: "account",
    business_profile: { annual_revenue: null, estimated_worker_count: null, mcc: null, minority_owned_business_designation: null, monthly_estimated_revenue: { amount: 0, currency: "usd" }, name: null, product_description: null, specified_commercial_transactions_act_url: null, support_address: null, support_email: null, support_phone: null, support_url: null, url: null },
    business_type: null,
    capabilities: transfers ? { transfers: "inactive" } : {},
    charges_enabled: false,
    controller: {
      fees: { payer: (nestedStr(params, "controller", "fees", "payer") ?? "account") as Stripe.Account.Controller.Fees.Payer },
      is_controller: true,
      losses: { payments: (nestedStr(params, "controller", "losses", "payments") ?? "stripe") as Stripe.Account.Controller.Losses.Payments },
      requirement_collection: (nestedStr(params, "controller", "requirement_collection") ?? "stripe") as Stripe.Account.Controller.RequirementCollection,
      stripe_dashboard: { type: dashboard as Stripe.Account.Controller.StripeDashboard.Type },
      type: "application",
    },
    country, created, default_currency: CURRENCY_BY_COUNTRY[country] ?? "eur",
    details_submitted: false, email: str(params, "email") ?? null,
    external_accounts: { object: "list", data: [], has_more: false, url: `/v1/accounts/${id}/external_accounts` },
    future_requirements: futureRequirements(),
    metadata: metadata(params), payouts_enabled: false,
    requirements: requirements(DUE),
    settings: {
      bacs_debit_payments: { display_name: null, service_user_number: null },
      branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
      card_issuing: { tos_acceptance: { date: null, ip: null } },
      card_payments: { decline_on: { avs_failure: false, cvc_failure: false }, statement_descriptor_prefix: null, statement_descriptor_prefix_kana: null, statement_descriptor_prefix_kanji: null },
      dashboard: { display_name: null, timezone: "Etc/UTC" },
      invoices: { default_account_tax_ids: null, hosted_payment_method_save: null },
      payments: { statement_descriptor: null, statement_descriptor_kana: null, statement_descriptor_kanji: null, statement_descriptor_prefix_kana: null, statement_descriptor_prefix_kanji: null },
      payouts: { debit_negative_balances: true, schedule: { delay_days: 7, interval }, statement_descriptor: null },
      sepa_debit_payments: {},
    },
    tos_acceptance: { date: null, ip: null, user_agent: null },
    type: dashboard === "express" ? "express" : dashboard === "none" ? "custom" : "standard",
  };
  state.accounts.set(id, account);
  state.emit("account.updated", account, ctx, id);
  return account;
}

export function retrieveAccount(state: StandinState, id: string): StandinAccount {
  const account = state.accounts.get(id);
  if (account === undefined) {
    throw new StripeApiError(403, "invalid_request_error",
      `The provided key does not have access to account '${id}' (or that account does not exist). Application access may have been revoked.`, "account_invalid");
  }
  return account;
}

function capability(account: StandinAccount, requestedAt: number): Stripe.Capability {
  return {
    id: "transfers", object: "capability", account: account.id, future_requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
    requested: true, requested_at: requestedAt,
    requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
    status: "active",
  };
}

/** What the host does on the Stripe-hosted onboarding page: everything due is provided. */
export function completeOnboarding(state: StandinState, id: string): StandinAccount {
  const account = retrieveAccount(state, id);
  const previous = { details_submitted: account.details_submitted, charges_enabled: account.charges_enabled, payouts_enabled: account.payouts_enabled };
  account.details_submitted = true;
  account.charges_enabled = true;
  account.payouts_enabled = true;
  account.requirements = requirements([]);
  const hadTransfers = "transfers" in account.capabilities;
  if (hadTransfers) account.capabilities.transfers = "active";
  state.emit("account.updated", account, null, account.id, previous);
  if (hadTransfers) state.emit("capability.updated", capability(account, account.created ?? state.now()), null, account.id, { status: "inactive" });
  return account;
}

export function createAccountLink(state: StandinState, params: FormObject): Stripe.AccountLink {
  const accountId = str(params, "account");
  const type = str(params, "type");
  if (accountId === undefined) throw new StripeApiError(400, "invalid_request_error", "Missing required param: account.", "parameter_missing", "account", {}, false);
  if (type === undefined) throw new StripeApiError(400, "invalid_request_error", "Missing required param: type.", "parameter_missing", "type", {}, false);
  if (type !== "account_onboarding" && type !== "account_update") {
    throw new StripeApiError(400, "invalid_request_error", `Invalid type: must be one of account_onboarding or account_update`, "parameter_invalid", "type", {}, false);
  }
  retrieveAccount(state, accountId);
  const returnUrl = str(params, "return_url");
  if (returnUrl === undefined) throw new StripeApiError(400, "invalid_request_error", "Missing required param: return_url.", "parameter_missing", "return_url", {}, false);
  const refreshUrl = str(params, "refresh_url") ?? returnUrl;
  const url = new URL(`/_standin/onboarding/${accountId}`, state.options.baseUrl());
  url.searchParams.set("return_url", returnUrl);
  url.searchParams.set("refresh_url", refreshUrl);
  const created = state.now();
  return { object: "account_link", created, expires_at: created + 300, url: url.href };
}
