/**
 * The payments test harness: the Stripe stand-in and the functions gateway, both on 127.0.0.1,
 * wired to each other as in `npm start` (the stand-in delivers signed webhooks to the gateway's
 * stripe-webhook function; the functions call the stand-in through STRIPE_API_BASE).
 *
 *   const h = await startPayments();
 *   const host = await h.readyHost();                 // a host with onboarding done
 *   const gig = await h.paidEvent(host, { price: 2500 });
 *   const booking = await h.bookAndPay(guest, gig);  // book → checkout → confirm → webhook
 *   await h.endEvent(gig.eventId); await h.release(); await h.work();
 *   await h.close();
 *
 * Everything goes through the real functions over HTTP, the real database and the stand-in.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import Stripe from "stripe";
import { createGateway, loadFunctions, parseFunctionsConfig } from "../../scripts/functions-gateway.ts";
import { startStripeStandin, type StripeStandin, type StandinOptions } from "../../tools/stripe-standin/server.ts";
import { ownerQuery, asUser } from "./db.ts";
import { serviceRoleKey } from "./jwt.ts";
import { createUser, issueAccessToken, type TestUser } from "./users.ts";
import { envOverride } from "./env.ts";

export const WEBHOOK_SECRET = "whsec_test_platform_secret";
export const CONNECT_WEBHOOK_SECRET = "whsec_test_connect_secret";

export interface PaidEvent {
  eventId: string;
  ticketTypeId: string;
  price: number;
  currency: string;
}

export interface PaidBooking {
  bookingId: string;
  paymentId: string;
  paymentIntentId: string;
  amount: number;
}

export interface Http {
  status: number;
  body: Record<string, unknown>;
}

/** Serves a fetch-style handler with node:http (what Deno.serve does for the real gateway). */
export async function serveHandler(handler: (req: Request) => Promise<Response>): Promise<{ url: string; server: Server }> {
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers.set(name, value);
        else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      }
      const method = req.method ?? "GET";
      const request = new Request(`http://127.0.0.1${req.url ?? "/"}`, {
        method, headers, ...(method === "GET" || method === "HEAD" ? {} : { body: Buffer.concat(chunks) }),
      });
      void handler(request).then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
        res.end(Buffer.from(await response.arrayBuffer()));
      }, (err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export interface PaymentsHarness {
  standin: StripeStandin;
  /** A stripe-node client on the stand-in, for what apps and Stripe do (confirming payments…). */
  stripe: Stripe;
  functionsUrl: string;
  call(name: string, init: { method?: string; token?: string; body?: unknown; path?: string }): Promise<Http>;
  readyHost(options?: { username?: string }): Promise<TestUser>;
  paidEvent(host: TestUser, options?: { price?: number; currency?: string; capacity?: number; policy?: string; startsInDays?: number }): Promise<PaidEvent>;
  book(guest: TestUser, event: PaidEvent, quantity?: number): Promise<string>;
  checkout(guest: TestUser, bookingId: string): Promise<Http>;
  bookAndPay(guest: TestUser, event: PaidEvent, options?: { quantity?: number; paymentMethod?: string }): Promise<PaidBooking>;
  /** Moves the event into the past (ended more than the hold period ago). */
  endEvent(eventId: string): Promise<void>;
  release(): Promise<number>;
  /** Runs the payments worker (through the gateway, as the scheduler does) until nothing is due. */
  work(): Promise<Record<string, unknown>>;
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startPayments(options: StandinOptions = {}): Promise<PaymentsHarness> {
  const standin = await startStripeStandin({ retryDelaysMs: [50, 200], log: (line) => console.error(line), ...options });
  const env = envOverride();
  env.set({
    STRIPE_SECRET_KEY: undefined, STRIPE_API_BASE: standin.url, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_WEBHOOK_SECRET, STRIPE_TIMEOUT_MS: "2000", STRIPE_MAX_NETWORK_RETRIES: "2",
  });

  const supabaseDir = new URL("../../supabase/", import.meta.url);
  const specs = parseFunctionsConfig(readFileSync(new URL("config.toml", supabaseDir), "utf8"), supabaseDir);
  const gateway = createGateway(await loadFunctions(specs));
  const { url, server } = await serveHandler(gateway);
  const functionsUrl = `${url}/functions/v1`;
  standin.setWebhooks({ url: `${functionsUrl}/stripe-webhook`, secret: WEBHOOK_SECRET },
    { url: `${functionsUrl}/stripe-webhook/connect`, secret: CONNECT_WEBHOOK_SECRET });
  const stripe = new Stripe("sk_test_rally_tests", {
    apiVersion: "2026-10-28.endive", httpClient: Stripe.createFetchHttpClient(), host: "127.0.0.1", port: standin.port,
    protocol: "http", maxNetworkRetries: 0,
  });
  const serviceKey = await serviceRoleKey();

  const call: PaymentsHarness["call"] = async (name, init) => {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (init.token !== undefined) headers.Authorization = `Bearer ${init.token}`;
    const res = await fetch(`${functionsUrl}/${name}${init.path ?? ""}`, {
      method: init.method ?? "POST", headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };

  const settle = (): Promise<void> => standin.idle();

  const harness: PaymentsHarness = {
    standin, stripe, functionsUrl, call, settle,

    async readyHost(opts = {}) {
      const user = await createUser(opts.username === undefined ? {} : { username: opts.username });
      await ownerQuery("update public.profiles set is_host = true, host_status = 'active' where id = $1", [user.id]);
      const host = { ...user, ...(await issueAccessToken(user.id)) };
      const started = await call("connect-onboarding", { token: host.token, body: {} });
      if (started.status !== 200) throw new Error(`onboarding failed: ${JSON.stringify(started.body)}`);
      // The host completes Stripe's hosted onboarding; Stripe tells Rally through webhooks.
      await fetch(String(started.body.onboarding_url), { redirect: "manual" });
      await settle();
      return host;
    },

    async paidEvent(host, opts = {}) {
      const price = opts.price ?? 2500;
      const currency = opts.currency ?? "EUR";
      const days = opts.startsInDays ?? 10;
      return asUser(host.claims, async (db) => {
        const { rows: [event] } = await db.query<{ id: string }>(
          `insert into public.events (title, starts_at, ends_at, timezone, refund_policy)
           values ('Paid night', now() + make_interval(days => $1), now() + make_interval(days => $1) + interval '3 hours', 'UTC', $2)
           returning id`, [days, opts.policy ?? "flexible"]);
        const { rows: [ticket] } = await db.query<{ id: string }>(
          `insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
           values ($1, 'Ticket', $2, $3, $4, 10) returning id`, [event?.id, price, currency, opts.capacity ?? 50]);
        await db.query("select public.publish_event($1)", [event?.id]);
        return { eventId: event?.id ?? "", ticketTypeId: ticket?.id ?? "", price, currency };
      });
    },

    async book(guest, event, quantity = 1) {
      return asUser(guest.claims, async (db) => {
        const { rows } = await db.query<{ id: string }>("select id from public.book_event($1, $2, $3)", [event.eventId, event.ticketTypeId, quantity]);
        return rows[0]?.id ?? "";
      });
    },

    checkout: (guest, bookingId) => call("checkout", { token: guest.token, body: { booking_id: bookingId } }),

    async bookAndPay(guest, event, opts = {}) {
      const bookingId = await harness.book(guest, event, opts.quantity ?? 1);
      const checkout = await harness.checkout(guest, bookingId);
      if (checkout.status !== 200) throw new Error(`checkout failed: ${JSON.stringify(checkout.body)}`);
      const intentId = String(checkout.body.payment_intent_id);
      // What Stripe.js / the Payment Sheet does with the client secret.
      await stripe.paymentIntents.confirm(intentId, { payment_method: opts.paymentMethod ?? "pm_card_visa" });
      await settle();
      return { bookingId, paymentId: String(checkout.body.payment_id), paymentIntentId: intentId, amount: Number(checkout.body.amount_cents) };
    },

    async endEvent(eventId) {
      await ownerQuery(
        `update private.events set starts_at = now() - interval '30 days', ends_at = now() - interval '30 days' + interval '3 hours',
                status = 'completed', completed_at = now() - interval '30 days' + interval '3 hours' where id = $1`, [eventId]);
    },

    async release() {
      const { rows } = await ownerQuery<{ n: number }>("select private.release_host_earnings() as n");
      return rows[0]?.n ?? 0;
    },

    async work() {
      let last: Record<string, unknown> = {};
      for (let round = 0; round < 20; round += 1) {
        const res = await call("payments-worker", { token: serviceKey, body: {} });
        if (res.status !== 200) throw new Error(`worker failed: ${JSON.stringify(res.body)}`);
        last = res.body;
        await settle();
        if (Number(res.body.claimed) === 0) break;
      }
      return last;
    },

    async close() {
      await standin.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      env.restore();
    },
  };
  return harness;
}

/** A host's wallet in one currency, as the host reads it. */
export interface Wallet {
  pending: number;
  available: number;
  in_transit: number;
  paid_out: number;
}

export async function walletOf(user: TestUser, currency = "EUR"): Promise<Wallet> {
  return asUser(user.claims, async (db) => {
    const { rows } = await db.query<Record<string, string>>(
      "select pending_cents, available_cents, in_transit_cents, paid_out_cents from public.wallet_balances where currency = $1", [currency]);
    const row = rows[0] ?? { pending_cents: "0", available_cents: "0", in_transit_cents: "0", paid_out_cents: "0" };
    return {
      pending: Number(row.pending_cents), available: Number(row.available_cents),
      in_transit: Number(row.in_transit_cents), paid_out: Number(row.paid_out_cents),
    };
  });
}

/** Platform ledger balances (debit +) per account kind in one currency. */
export async function platformBalances(currency = "EUR"): Promise<Record<string, number>> {
  const { rows } = await ownerQuery<{ kind: string; balance: string }>(
    "select kind, balance from admin.platform_balances where currency = $1", [currency]);
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.balance)]));
}

/** Every ledger movement (transaction key, account, host, currency, amount), sorted: comparable across replays. */
export async function ledgerSnapshot(): Promise<string[]> {
  const { rows } = await ownerQuery<{ line: string }>(
    `select t.idempotency_key || ' ' || a.kind || ' ' || coalesce(a.host_id::text, '-') || ' ' || e.currency || ' ' || e.amount as line
       from private.ledger_entries e join private.ledger_transactions t on t.id = e.transaction_id
       join private.ledger_accounts a on a.id = e.account_id
      order by 1`);
  return rows.map((r) => r.line);
}

/** The ledger invariants: zero-sum per transaction and currency; cached balances equal entry sums. */
export async function ledgerInvariantViolations(): Promise<string[]> {
  const { rows } = await ownerQuery<{ problem: string }>(
    `select format('transaction %s unbalanced in %s', transaction_id, currency) as problem
       from private.ledger_entries group by transaction_id, currency having sum(amount) <> 0
     union all
     select format('account %s cached %s but entries sum to %s', b.account_id, b.balance, coalesce(s.total, 0))
       from private.ledger_account_balances b
       left join (select account_id, sum(amount) as total from private.ledger_entries group by account_id) s on s.account_id = b.account_id
      where b.balance <> coalesce(s.total, 0)
     union all
     select format('transaction %s has %s entries', t.id, count(e.id))
       from private.ledger_transactions t left join private.ledger_entries e on e.transaction_id = t.id
      group by t.id having count(e.id) < 2`);
  return rows.map((r) => r.problem);
}

export async function setPaymentSettings(settings: Record<string, number | string>): Promise<void> {
  const names = Object.keys(settings);
  const sets = names.map((name, i) => `${name} = $${i + 1}`).join(", ");
  await ownerQuery(`update private.payment_settings set ${sets}, updated_at = now()`, names.map((n) => settings[n]));
}

export async function resetPaymentSettings(): Promise<void> {
  await setPaymentSettings({ platform_fee_bps: 1000, release_hold_hours: 48, dispute_fee_payer: "host", command_max_attempts: 8,
    command_backoff_base_seconds: 30, command_backoff_max_seconds: 3600 });
}

/** Makes every waiting command due now (tests do not wait out the backoff). */
export async function makeCommandsDue(): Promise<void> {
  await ownerQuery("update private.payment_commands set next_attempt_at = now() where status = 'pending'");
}
