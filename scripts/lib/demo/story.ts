/**
 * The Rally story, end to end against a running stack (`npm run demo`) or the test cluster
 * (tests/demo/demo.test.ts):
 *
 *   a host signs up, becomes a host and onboards with Stripe Connect; creates a paid event; a
 *   guest follows the host; the host publishes and the guest is notified (in-app + email alert);
 *   the guest books, checks out and pays; chats in the event chat; is checked in; the event
 *   ends and completes; the guest reviews and the host replies; the earnings are released and
 *   transferred; the host withdraws; the host's next event is invite-only: she invites another
 *   guest by name and hands out an invite link, and gives her friends a promo code; the invited
 *   guest books with the code, pays the discounted price and disputes the charge.
 *
 * Every action goes through the path an app takes: RPCs and table writes as the signed-in user
 * exactly as PostgREST runs them (`withUserContext`: role + request.jwt.claims in one
 * transaction), edge functions over HTTP through the gateway with the user's JWT, payments
 * confirmed at the Stripe stand-in as Stripe.js would, and webhooks delivered by the stand-in.
 * What is not an app action is named: sign-ups are the GoTrue stand-in (./auth.ts), scheduled
 * jobs are run once "now" with the same SQL pg_cron runs, workers are called with the
 * service-role key as the scheduler does. Time passes for real: the event starts a few seconds
 * after it is created and the demo waits for its end; the release hold is the documented
 * `payment_settings.release_hold_hours` knob, set to 0 for one run of the release job inside a
 * transaction that puts it back before committing.
 *
 * Each step checks its expected outcome; the first one that does not happen stops the story and
 * `runDemo` resolves with `ok: false` (the CLI exits non-zero).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import Stripe from 'stripe';
import { withUserContext } from '../../../functions/_shared/db.ts';
import { DISPUTE_FEE } from '../../../tools/stripe-standin/store.ts';
import { type Session, signIn, signUp } from './auth.ts';
import {
  DemoExpectationFailed, expectThat, money, platformLines, type StepOutcome, summaryLines, type Wallet, walletLine,
} from './report.ts';
import type { DemoStack } from './stack.ts';

export interface DemoOptions {
  log?: (line: string) => void;
  /** seconds from creating the first event until it starts (booking and payment must happen before; default 20) */
  startsInSeconds?: number;
  /** how long the event lasts, in seconds (default 10) */
  lengthSeconds?: number;
  /** how long to wait for an asynchronous outcome (webhook, payout) before calling it failed (default 30 s) */
  asyncTimeoutMs?: number;
}

export interface DemoResult {
  ok: boolean;
  run: string;
  steps: StepOutcome[];
  failure?: string;
  /** the host's EUR wallet at the end */
  hostWallet?: Wallet;
  /** change of each platform ledger account (EUR) over the run */
  platformDelta?: Record<string, number>;
}

const CURRENCY = 'EUR';
const PRICE = 2500;
/** The promo code of the host's next event and what it takes off each ticket. */
const PROMO_CODE = 'FRIENDS10';
const PROMO_PERCENT = 10;

interface Http {
  status: number;
  body: Record<string, unknown>;
}

interface Ctx {
  stack: DemoStack;
  app: pg.Pool;
  admin: pg.Pool;
  stripe: Stripe;
  log: (line: string) => void;
  timeoutMs: number;
}

export async function runDemo(stack: DemoStack, options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const run = randomBytes(3).toString('hex');
  const app = new pg.Pool({ connectionString: stack.dbUrl, max: 3, application_name: 'rally-demo' });
  const admin = new pg.Pool({ connectionString: stack.adminDbUrl, max: 2, application_name: 'rally-demo-gotrue-standin' });
  const standin = new URL(stack.stripeUrl);
  // What Stripe.js / the mobile Payment Sheet does with a client secret, aimed at the stand-in.
  const stripe = new Stripe('sk_test_rally_demo', {
    apiVersion: '2026-10-28.endive', httpClient: Stripe.createFetchHttpClient(), host: standin.hostname,
    port: Number(standin.port), protocol: 'http', maxNetworkRetries: 0,
  });
  const ctx: Ctx = { stack, app, admin, stripe, log, timeoutMs: options.asyncTimeoutMs ?? 30_000 };
  const steps: StepOutcome[] = [];
  const result: DemoResult = { ok: false, run, steps };

  const step = async <T>(title: string, fn: () => Promise<[T, string]>): Promise<T> => {
    const n = steps.length + 1;
    log(`\n${n}. ${title}`);
    const started = Date.now();
    try {
      const [value, detail] = await fn();
      for (const line of detail.split('\n')) log(`   ← ${line}`);
      steps.push({ n, title, ok: true, detail, ms: Date.now() - started });
      return value;
    } catch (error) {
      const detail = describe(error);
      log(`   ✗ ${detail}`);
      steps.push({ n, title, ok: false, detail, ms: Date.now() - started });
      throw error;
    }
  };

  try {
    log(`Rally demo, run ${run}: every name below ends in _${run}.`);
    log(`Stand-ins in play: GoTrue (users written to auth.users as GoTrue does), PostgREST (RPCs run as the`);
    log(`user in one transaction with request.jwt.claims), Stripe (the local stand-in at ${stack.stripeUrl}), email (sink provider).`);
    const platformBefore = await platformBalances(ctx);
    result.hostWallet = await story(ctx, run, step, options);
    result.platformDelta = diff(await platformBalances(ctx), platformBefore);
    log('');
    for (const line of platformLines(result.platformDelta)) log(line);
    result.ok = true;
  } catch (error) {
    result.failure = describe(error);
    if (!(error instanceof DemoExpectationFailed) && steps.every((s) => s.ok)) {
      steps.push({ n: steps.length + 1, title: 'unexpected error', ok: false, detail: result.failure, ms: 0 });
    }
  } finally {
    log('\nSummary');
    for (const line of summaryLines(steps, result.failure)) log(line);
    await Promise.all([app.end(), admin.end()]);
  }
  return result;
}

type Step = <T>(title: string, fn: () => Promise<[T, string]>) => Promise<T>;

/** What every act of the story shares. */
interface Scene {
  ctx: Ctx;
  step: Step;
  run: string;
  feeBps: number;
  /** the host's share of a gross amount after the platform fee (half up, as the ledger rounds) */
  share: (gross: number) => number;
}

interface Cast {
  host: Session;
  guest: Session;
  other: Session;
}

/** The acts in order; resolves with the host's wallet at the end. */
async function story(ctx: Ctx, run: string, step: Step, options: DemoOptions): Promise<Wallet> {
  const { platform_fee_bps: feeBps } = await paymentSettings(ctx);
  const scene: Scene = { ctx, step, run, feeBps, share: (gross) => gross - Math.round((gross * feeBps) / 10_000) };
  const cast = await signUpAndOnboard(scene);
  const startsAt = new Date(Date.now() + (options.startsInSeconds ?? 20) * 1000);
  const endsAt = new Date(startsAt.getTime() + (options.lengthSeconds ?? 10) * 1000);
  const gig = await publishAndNotify(scene, cast, startsAt, endsAt);
  const attended = await bookPayAndAttend(scene, cast, gig);
  await afterTheEvent(scene, cast, gig, attended, endsAt);
  const disputed = await invitedGuestWithCodeDisputes(scene, cast);
  await ledgerStaysBalanced(scene, cast, [attended.payment.paymentId, disputed.payment.paymentId]);
  return disputed.hostWallet;
}

/** Sign-ups (GoTrue stand-in), the host role, Stripe Connect onboarding. */
async function signUpAndOnboard({ ctx, step, run }: Scene): Promise<Cast> {
  const people = await step('Three people sign up (GoTrue stand-in: user created directly in auth.users)', async () => {
    const host = await signUp(ctx.admin, ctx.stack.jwtSecret, `maya_${run}`, 'Maya (demo host)');
    const guest = await signUp(ctx.admin, ctx.stack.jwtSecret, `sam_${run}`, 'Sam (demo guest)');
    const other = await signUp(ctx.admin, ctx.stack.jwtSecret, `priya_${run}`, 'Priya (demo guest)');
    for (const p of [host, guest, other]) expectThat(p.username.endsWith(run), `profile for ${p.email} was not created by the sign-up trigger`);
    return [{ host, guest, other }, `profiles ${host.username}, ${guest.username}, ${other.username} (JWT user_role = ${String(guest.claims.user_role)})`];
  });
  let host: Session = people.host;

  host = await step(`${host.username} becomes a host: rpc become_host(), then refreshes the session`, async () => {
    const profile = await asUser(ctx, host, (db) => db.query<{ is_host: boolean; host_status: string }>('select is_host, host_status from public.become_host()'));
    expectThat(profile.rows[0]?.is_host === true, 'become_host() did not make the caller a host');
    const refreshed = await signIn(ctx.admin, ctx.stack.jwtSecret, host.id);
    expectThat(refreshed.claims.user_role === 'host', `the refreshed JWT says user_role = ${String(refreshed.claims.user_role)}, not host`);
    return [refreshed, `is_host = true, host_status = ${profile.rows[0]?.host_status}; new JWT user_role = host`];
  });

  await step(`${host.username} onboards with Stripe Connect: POST /functions/v1/connect-onboarding, then completes the hosted page`, async () => {
    const started = await callFunction(ctx, 'connect-onboarding', { token: host.token, body: {} });
    expectThat(started.status === 200, `connect-onboarding answered ${started.status} ${JSON.stringify(started.body)}`);
    const url = String(started.body.onboarding_url);
    // The host's browser opens Stripe's hosted onboarding; the stand-in completes it and sends account.updated.
    await fetch(url, { redirect: 'manual' }).then((r) => r.arrayBuffer());
    const status = await waitFor(ctx, 'account.updated to turn payouts on', async () => {
      const s = await callFunction(ctx, 'connect-onboarding', { method: 'GET', token: host.token });
      return s.body.payouts_enabled === true ? s : undefined;
    });
    return [null, `account ${String(status.body.account_id ?? started.body.account_id)}: details_submitted = ${String(status.body.details_submitted)}, ` +
      `payouts_enabled = true, transfers = ${String(status.body.transfers)} (webhooks account.updated / capability.updated applied)`];
  });

  return { ...people, host };
}

/** A paid event, a follower, publication and the follower's notification (in-app and email). */
async function publishAndNotify({ ctx, step, run }: Scene, { host, guest }: Cast, startsAt: Date, endsAt: Date): Promise<PaidEvent> {
  const gig = await step(`${host.username} creates a paid event (insert into events + ticket_types, as the host)`, async () => {
    const created = await createPaidEvent(ctx, host, `Rooftop jazz ${run}`, startsAt, endsAt);
    return [created, `draft "${created.title}" ${created.eventId}; ticket "General" ${money(PRICE)} × 20 seats; ` +
      `starts ${hhmmss(startsAt)}, ends ${hhmmss(endsAt)} (a short event so the story runs in real time)`];
  });

  await step(`${guest.username} follows ${host.username}: rpc follow_user`, async () => {
    await asUser(ctx, guest, (db) => db.query('select * from public.follow_user($1)', [host.id]));
    const { rows } = await asUser(ctx, guest, (db) => db.query<{ followers_count: number }>('select followers_count from public.profiles where id = $1', [host.id]));
    expectThat(rows[0]?.followers_count === 1, `the host has ${String(rows[0]?.followers_count)} followers, expected 1`);
    return [null, `${host.username} now has 1 follower`];
  });

  await step(`${host.username} publishes the event: rpc publish_event`, async () => {
    const { rows } = await asUser(ctx, host, (db) => db.query<{ status: string }>('select status from public.publish_event($1)', [gig.eventId]));
    expectThat(rows[0]?.status === 'published', `publish_event returned status ${String(rows[0]?.status)}`);
    return [null, 'status = published; an announcement to followers is queued'];
  });

  await step(`${guest.username} gets notified (job rally-process-promotion-queue run now, as pg_cron does every few seconds)`, async () => {
    await ctx.app.query('select private.process_promotion_queue()');
    // On the running stack pg_cron may be processing the same job at this moment (ours then skips it).
    const note = await waitFor(ctx, `an event_published notification for ${guest.username}`, async () => {
      const { rows } = await asUser(ctx, guest, (db) => db.query<{ id: string; type: string; title: string; body: string; data: { event_id?: string } }>(
        'select id, type, title, body, data from public.my_notifications(null, 20, false)'));
      return rows.find((r) => r.type === 'event_published' && r.data.event_id === gig.eventId);
    });
    const live = await ctx.admin.query('select 1 from realtime.messages where topic = $1 and event = $2 and payload ->> \'id\' = $3',
      [`user:${guest.id}`, 'notification_created', note.id]);
    expectThat((live.rowCount ?? 0) > 0, 'the notification was not broadcast on the user topic');
    const dispatched = await callFunction(ctx, 'dispatch-alerts', { token: ctx.stack.serviceRoleKey, body: {} });
    expectThat(dispatched.status === 200, `dispatch-alerts answered ${dispatched.status}`);
    // The scheduled dispatcher may have claimed the delivery first; wait for whichever call has it.
    const mail = await waitFor(ctx, 'the email alert to be sent', async () => {
      const { rows } = await ctx.admin.query<{ status: string; provider: string; destination: string }>(
        `select status, provider, destination from private.alert_deliveries where notification_id = $1 and channel = 'email'`, [note.id]);
      return rows[0] !== undefined && ['sent', 'delivered'].includes(rows[0].status) ? rows[0] : undefined;
    });
    return [null, `in-app: "${note.title}" — ${note.body} (also broadcast on user:${guest.id.slice(0, 8)}…)\n` +
      `email: ${mail.status} via ${mail.provider} to ${mail.destination} (POST /functions/v1/dispatch-alerts drained the outbox)`];
  });

  return gig;
}

interface Attended {
  bookingId: string;
  payment: Payment;
}

/** Booking, checkout and payment, the event chat, check-in. */
async function bookPayAndAttend({ ctx, step, run, feeBps, share }: Scene, { host, guest }: Cast, gig: PaidEvent): Promise<Attended> {
  const booking = await step(`${guest.username} books 2 tickets: rpc book_event`, async () => {
    const { rows } = await asUser(ctx, guest, (db) => db.query<{ id: string; status: string; amount_cents: string; hold_expires_at: Date }>(
      'select id, status, amount_cents, hold_expires_at from public.book_event($1, $2, $3, $4)', [gig.eventId, gig.ticketTypeId, 2, `demo-${run}-sam`]));
    const b = rows[0];
    expectThat(b?.status === 'held', `the booking is ${String(b?.status)}, expected held until paid`);
    expectThat(Number(b.amount_cents) === 2 * PRICE, `the booking costs ${b.amount_cents}, expected ${2 * PRICE}`);
    return [b.id, `booking ${b.id}: held, ${money(Number(b.amount_cents))}, seats held until ${hhmmss(b.hold_expires_at)}`];
  });

  const paid = await payFor(ctx, step, guest, booking, 'pm_card_visa', 2 * PRICE);
  await step(`The host's wallet after the payment (wallet_balances, as ${host.username})`, async () => {
    const w = await walletOf(ctx, host);
    expectThat(w.pending === share(2 * PRICE) && w.available === 0, `unexpected wallet ${JSON.stringify(w)}`);
    return [null, `${walletLine(host.username, w)}\n(${money(2 * PRICE)} paid − ${feeBps / 100} % platform fee = ${money(share(2 * PRICE))} pending until the event is over)`];
  });

  await step(`${guest.username} and ${host.username} chat in the event chat: rpc send_message`, async () => {
    const { rows: conv } = await asUser(ctx, guest, (db) => db.query<{ id: string; kind: string }>(
      'select id, kind from public.conversations where event_id = $1', [gig.eventId]));
    const chat = conv[0];
    expectThat(chat !== undefined, `${guest.username} is not a member of the event chat after paying`);
    await asUser(ctx, guest, (db) => db.query('select id from public.send_message($1, $2, $3)', [chat.id, 'text', 'Hi! Is there a dress code tonight?']));
    await asUser(ctx, host, (db) => db.query('select id from public.send_message($1, $2, $3)', [chat.id, 'text', 'Come as you are. See you at 8!']));
    const { rows: msgs } = await asUser(ctx, guest, (db) => db.query<{ body: string; sender_id: string }>(
      'select body, sender_id from public.conversation_messages($1, null, 10)', [chat.id]));
    expectThat(msgs.length >= 2, `the guest reads ${msgs.length} messages, expected 2`);
    const live = await ctx.admin.query('select 1 from realtime.messages where topic = $1 and event = $2', [`conversation:${chat.id}`, 'message_created']);
    expectThat((live.rowCount ?? 0) >= 2, 'the messages were not broadcast on the conversation topic');
    return [null, `conversation ${chat.id} (${chat.kind}): ${msgs.length} messages, each broadcast on conversation:${chat.id.slice(0, 8)}… as message_created`];
  });

  await step(`${host.username} checks ${guest.username} in at the door: rpc check_in(code from the guest's ticket)`, async () => {
    const { rows: mine } = await asUser(ctx, guest, (db) => db.query<{ check_in_code: string }>('select check_in_code from public.bookings where id = $1', [booking]));
    const code = mine[0]?.check_in_code ?? '';
    const { rows } = await asUser(ctx, host, (db) => db.query<{ username: string; quantity: number; checked_in_at: Date }>(
      'select username, quantity, checked_in_at from public.check_in($1)', [code]));
    expectThat(rows[0]?.username === guest.username, 'check_in did not return the guest');
    return [null, `${rows[0].username} × ${rows[0].quantity} checked in at ${hhmmss(rows[0].checked_in_at)}`];
  });

  return { bookingId: booking, payment: paid };
}

/** The event ends and completes; review and reply; release, transfer, withdrawal. */
async function afterTheEvent({ ctx, step, share }: Scene, { host, guest }: Cast, gig: PaidEvent, attended: Attended, endsAt: Date): Promise<void> {
  const { log } = ctx;
  const { bookingId: booking, payment: paid } = attended;
  await step('The event ends (real time passes) and completes (job rally-complete-ended-events run now)', async () => {
    const waitMs = endsAt.getTime() - Date.now() + 500;
    if (waitMs > 0) {
      log(`   … waiting ${Math.ceil(waitMs / 1000)} s until the event ends at ${hhmmss(endsAt)}`);
      await sleep(waitMs);
    }
    await ctx.app.query('select private.complete_ended_events()');
    const { rows } = await asUser(ctx, guest, (db) => db.query<{ status: string }>('select status from public.events where id = $1', [gig.eventId]));
    expectThat(rows[0]?.status === 'completed', `the event is ${String(rows[0]?.status)}, expected completed`);
    return [null, 'status = completed'];
  });

  await step(`${guest.username} reviews the event (insert into reviews) and ${host.username} replies (update reviews set host_reply)`, async () => {
    const { rows } = await asUser(ctx, guest, (db) => db.query<{ id: string }>(
      'insert into public.reviews (booking_id, rating, body) values ($1, 5, $2) returning id', [booking, 'Great music, lovely crowd.']));
    const id = rows[0]?.id ?? '';
    await asUser(ctx, host, (db) => db.query('update public.reviews set host_reply = $2 where id = $1', [id, 'Thanks for coming, Sam!']));
    const { rows: p } = await asUser(ctx, guest, (db) => db.query<{ rating_count: number; rating_average: string }>(
      'select rating_count, rating_average from public.profiles where id = $1', [host.id]));
    expectThat(p[0]?.rating_count === 1, `the host's rating_count is ${String(p[0]?.rating_count)}, expected 1`);
    return [null, `review ★5 "Great music, lovely crowd." — host replied; ${host.username}: ${p[0].rating_count} review, average ${Number(p[0].rating_average).toFixed(1)}`];
  });

  await step('Funds release: job rally-release-host-earnings run now, with payment_settings.release_hold_hours = 0 (default 48 h) for that run only', async () => {
    // The knob is changed, the job run and the knob put back in one transaction: no other
    // session (pg_cron's own run of the job included) ever sees the shortened hold.
    await inTransaction(ctx.admin, async (db) => {
      const { rows: [held] } = await db.query<{ hours: number }>('select release_hold_hours as hours from private.payment_settings for update');
      await db.query('update private.payment_settings set release_hold_hours = 0, updated_at = now()');
      await db.query('select private.release_host_earnings()');
      await db.query('update private.payment_settings set release_hold_hours = $1, updated_at = now()', [held?.hours ?? 48]);
    });
    const { rows } = await ctx.admin.query<{ released: boolean }>('select released_at is not null as released from private.payments where id = $1', [paid.paymentId]);
    expectThat(rows[0]?.released === true, 'the payment was not released');
    const w = await walletOf(ctx, host);
    expectThat(w.pending === 0 && w.available === share(2 * PRICE), `unexpected wallet ${JSON.stringify(w)}`);
    return [null, walletLine(host.username, w)];
  });

  await step('The payments worker transfers the host\'s share to their connected account: POST /functions/v1/payments-worker (service role)', async () => {
    const worked = await drainWorker(ctx);
    // The scheduler calls the same worker every 10 s; if it claimed the command first, wait for it.
    const cmd = await waitFor(ctx, 'the transfer command to succeed', async () => {
      const { rows } = await ctx.admin.query<{ status: string; transfer: string | null }>(
        `select status, result ->> 'id' as transfer from private.payment_commands where payment_id = $1 and kind = 'create_transfer'`, [paid.paymentId]);
      return rows[0]?.status === 'succeeded' && rows[0].transfer !== null ? { transfer: rows[0].transfer } : undefined;
    });
    const transfer = await ctx.stripe.transfers.retrieve(cmd.transfer);
    expectThat(transfer.amount === share(2 * PRICE), `Stripe transferred ${transfer.amount}, expected ${share(2 * PRICE)}`);
    return [null, `worker: ${worked}\nStripe stand-in: transfer ${transfer.id} of ${money(transfer.amount)} to ${String(transfer.destination)} (source_transaction ${String(transfer.source_transaction)})`];
  });

  await step(`${host.username} withdraws ${money(3000)}: rpc request_payout, the worker creates the payout, Stripe reports payout.paid`, async () => {
    const { rows } = await asUser(ctx, host, (db) => db.query<{ payout_id: string; status: string }>(
      'select payout_id, status from public.request_payout($1, $2)', [3000, CURRENCY]));
    const payoutId = rows[0]?.payout_id ?? '';
    const inTransit = await walletOf(ctx, host);
    expectThat(inTransit.in_transit === 3000, `in transit is ${inTransit.in_transit}, expected 3000`);
    log(`   · ${walletLine('requested', inTransit)}`);
    await drainWorker(ctx);
    const payout = await waitFor(ctx, 'payout.paid', async () => {
      const { rows: p } = await ctx.admin.query<{ status: string; stripe_payout_id: string }>('select status, stripe_payout_id from private.payouts where id = $1', [payoutId]);
      return p[0]?.status === 'paid' ? p[0] : undefined;
    });
    const w = await walletOf(ctx, host);
    expectThat(w.paid_out === 3000 && w.in_transit === 0 && w.available === share(2 * PRICE) - 3000, `unexpected wallet ${JSON.stringify(w)}`);
    return [null, `payout ${payout.stripe_payout_id}: paid\n${walletLine(host.username, w)}`];
  });

}

/**
 * The host's next event is invite-only: she invites another guest by name and hands out an invite
 * link, and gives her friends a promo code; the invited guest books with it, pays the discounted
 * price, and their bank disputes the charge.
 */
async function invitedGuestWithCodeDisputes({ ctx, step, run, share }: Scene, { host, guest, other }: Cast): Promise<{ payment: Payment; hostWallet: Wallet }> {
  const nextWeek = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  const next = await step(`${host.username} publishes the next event (next week), invite-only: visibility = private`, async () => {
    const created = await createPaidEvent(ctx, host, `Rooftop jazz ${run} II`, nextWeek, new Date(nextWeek.getTime() + 3 * 3600 * 1000), 'private');
    await asUser(ctx, host, (db) => db.query('select status from public.publish_event($1)', [created.eventId]));
    const { rows } = await asUser(ctx, other, (db) => db.query('select 1 from public.events where id = $1', [created.eventId]));
    expectThat(rows.length === 0, `${other.username} sees the private event before being invited`);
    return [created, `"${created.title}" published, ${nextWeek.toISOString().slice(0, 10)}; nobody but the host sees it yet`];
  });

  await step(`${host.username} invites ${other.username} by name and makes an invite link for ${guest.username}: rpc invite_to_event, rpc create_invite_link, rpc redeem_invite_link`, async () => {
    const { rows: invited } = await asUser(ctx, host, (db) => db.query<{ status: string }>(
      'select status from public.invite_to_event($1, $2)', [next.eventId, [other.id]]));
    expectThat(invited[0]?.status === 'invited', `invite_to_event answered ${String(invited[0]?.status)}`);
    const note = await waitFor(ctx, `an event_invitation notification for ${other.username}`, async () => {
      const { rows } = await asUser(ctx, other, (db) => db.query<{ title: string; type: string; data: { event_id?: string } }>(
        'select title, type, data from public.my_notifications(null, 20, false)'));
      return rows.find((r) => r.type === 'event_invitation' && r.data.event_id === next.eventId);
    });
    const { rows: [link] } = await asUser(ctx, host, (db) => db.query<{ token: string; max_uses: number }>(
      'select token, max_uses from public.create_invite_link($1, 10)', [next.eventId]));
    await asUser(ctx, guest, (db) => db.query('select status from public.redeem_invite_link($1)', [link?.token]));
    const { rows: seen } = await asUser(ctx, guest, (db) => db.query<{ title: string }>('select title from public.events where id = $1', [next.eventId]));
    expectThat(seen[0]?.title === next.title, `${guest.username} does not see the event after following the invite link`);
    return [null, `${other.username} notified: "${note.title}" and now sees the event\n` +
      `invite link …/invite/${String(link?.token).slice(0, 6)}… (10 uses): ${guest.username} followed it, used 1 of 10, and sees the event too`];
  });

  const discounted = PRICE - Math.floor((PRICE * PROMO_PERCENT) / 100);
  await step(`${host.username} adds the promo code ${PROMO_CODE} (${PROMO_PERCENT} % off); ${other.username} previews it: insert into promo_codes, rpc preview_promo_code`, async () => {
    await asUser(ctx, host, (db) => db.query('insert into public.promo_codes (event_id, code, percent_off, max_redemptions) values ($1, $2, $3, 20)',
      [next.eventId, PROMO_CODE, PROMO_PERCENT]));
    const { rows } = await asUser(ctx, other, (db) => db.query<{ name: string; price_cents: string; discount_cents: string; final_price_cents: string }>(
      'select name, price_cents, discount_cents, final_price_cents from public.preview_promo_code($1, $2)', [next.eventId, PROMO_CODE.toLowerCase()]));
    expectThat(Number(rows[0]?.final_price_cents) === discounted, `the preview says ${String(rows[0]?.final_price_cents)}, expected ${discounted}`);
    return [null, `"${rows[0]?.name}": ${money(Number(rows[0]?.price_cents))} − ${money(Number(rows[0]?.discount_cents))} = ${money(discounted)} per ticket`];
  });

  const otherBooking = await step(`${other.username} books 1 ticket with the code: rpc book_event(…, p_promo_code)`, async () => {
    const { rows } = await asUser(ctx, other, (db) => db.query<{ id: string; status: string; list_amount_cents: string; discount_cents: string; amount_cents: string }>(
      'select id, status, list_amount_cents, discount_cents, amount_cents from public.book_event($1, $2, $3, $4, null, $5)',
      [next.eventId, next.ticketTypeId, 1, `demo-${run}-priya`, PROMO_CODE.toLowerCase()]));
    const b = rows[0];
    expectThat(b?.status === 'held', `the booking is ${String(b?.status)}`);
    expectThat(Number(b.amount_cents) === discounted, `the booking costs ${b.amount_cents}, expected ${discounted}`);
    return [b.id, `booking ${b.id}: held; list ${money(Number(b.list_amount_cents))}, discount ${money(Number(b.discount_cents))}, to pay ${money(Number(b.amount_cents))}`];
  });
  const disputed = await payFor(ctx, step, other, otherBooking, 'pm_card_createDispute', discounted);

  const hostWallet = await step(`${other.username}'s bank disputes the charge (Stripe test card pm_card_createDispute): charge.dispute.created / funds_withdrawn`, async () => {
    const dispute = await waitFor(ctx, 'the dispute to be booked', async () => {
      const { rows } = await ctx.admin.query<{ id: string; status: string; amount_cents: string; fee_payer: string; evidence_due_by: Date | null; bucket: string }>(
        'select id, status, amount_cents, fee_payer, evidence_due_by, bucket from private.disputes where payment_id = $1 and host_part_cents is not null', [disputed.paymentId]);
      return rows[0];
    });
    const fee = dispute.fee_payer === 'host' ? DISPUTE_FEE : 0;
    const w = await waitFor(ctx, 'the dispute fee to reach the wallet', async () => {
      const current = await walletOf(ctx, host);
      return current.pending === -fee ? current : undefined;
    });
    const { rows: notes } = await asUser(ctx, host, (db) => db.query<{ title: string }>(
      `select title from public.my_notifications(null, 20, false) where type = 'dispute_opened'`));
    const told = notes[0];
    expectThat(told !== undefined, 'the host was not told about the dispute');
    return [w, `dispute ${dispute.id}: ${dispute.status}, ${money(Number(dispute.amount_cents))}, evidence due ${dispute.evidence_due_by?.toISOString().slice(0, 10) ?? '—'}; ` +
      `fee ${money(DISPUTE_FEE)} paid by the ${dispute.fee_payer}\n${host.username} notified: "${told.title}"; operators see it in admin.disputes with the evidence Rally holds\n` +
      `${walletLine(host.username, w)}\n(${money(share(discounted))} pending − ${money(share(discounted))} disputed − ${money(fee)} dispute fee; a negative balance is recovered from future earnings)`];
  });

  return { payment: disputed, hostWallet };
}

async function ledgerStaysBalanced({ ctx, step }: Scene, { host }: Cast, paymentIds: string[]): Promise<void> {
  await step('The ledger stays balanced: every transaction of this run sums to zero per currency', async () => {
    const { rows } = await ctx.admin.query<{ n: string; unbalanced: string }>(
      `select count(distinct t.id) as n,
              count(distinct t.id) filter (where t.id in (select e.transaction_id from private.ledger_entries e
                                                           group by e.transaction_id, e.currency having sum(e.amount) <> 0)) as unbalanced
         from private.ledger_transactions t
        where t.payment_id = any($1::uuid[])
           or exists (select 1 from private.ledger_entries e join private.ledger_accounts a on a.id = e.account_id
                       where e.transaction_id = t.id and a.host_id = $2)`,
      [paymentIds, host.id]);
    expectThat(rows[0]?.unbalanced === '0', `${String(rows[0]?.unbalanced)} unbalanced ledger transactions`);
    return [null, `${rows[0].n} ledger transactions checked, none unbalanced`];
  });
}

// --- building blocks ------------------------------------------------------------------------

interface PaidEvent {
  eventId: string;
  ticketTypeId: string;
  title: string;
}

async function createPaidEvent(ctx: Ctx, host: Session, title: string, startsAt: Date, endsAt: Date, visibility = 'public'): Promise<PaidEvent> {
  return asUser(ctx, host, async (db) => {
    const { rows: [event] } = await db.query<{ id: string }>(
      `insert into public.events (title, description, category, starts_at, ends_at, timezone, venue_name, address, city, location,
                                  visibility, refund_policy)
       values ($1, 'Live jazz on the roof, a Rally demo event.', 'music', $2, $3, 'Europe/Lisbon', 'Rooftop Bar',
               'Rua Nova do Carvalho 24', 'Lisboa', 'POINT(-9.1446 38.7069)', $4, 'flexible')
       returning id`, [title, startsAt, endsAt, visibility]);
    const { rows: [ticket] } = await db.query<{ id: string }>(
      `insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
       values ($1, 'General', $2, $3, 20, 4) returning id`, [event?.id, PRICE, CURRENCY]);
    expectThat(event !== undefined && ticket !== undefined, 'creating the event returned no row');
    return { eventId: event.id, ticketTypeId: ticket.id, title };
  });
}

interface Payment {
  paymentId: string;
  paymentIntentId: string;
}

/** checkout over HTTP, then the payment confirmed at the stand-in; the webhook confirms the booking. */
async function payFor(ctx: Ctx, step: Step, guest: Session, bookingId: string, paymentMethod: string, amount: number): Promise<Payment> {
  const checkout = await step(`${guest.username} checks out: POST /functions/v1/checkout {booking_id}`, async () => {
    const res = await callFunction(ctx, 'checkout', { token: guest.token, body: { booking_id: bookingId } });
    expectThat(res.status === 200, `checkout answered ${res.status} ${JSON.stringify(res.body)}`);
    expectThat(Number(res.body.amount_cents) === amount, `checkout asks for ${String(res.body.amount_cents)}, expected ${amount}`);
    const p = { paymentId: String(res.body.payment_id), paymentIntentId: String(res.body.payment_intent_id) };
    return [p, `PaymentIntent ${p.paymentIntentId} for ${money(amount)} (client_secret returned to the app; Stripe stand-in: ${String(res.body.standin)})`];
  });
  await step(`${guest.username} pays with ${paymentMethod} (the app confirms the PaymentIntent, as Stripe.js does); Stripe sends payment_intent.succeeded to stripe-webhook`, async () => {
    const intent = await ctx.stripe.paymentIntents.confirm(checkout.paymentIntentId, { payment_method: paymentMethod });
    expectThat(intent.status === 'succeeded', `the PaymentIntent is ${intent.status}`);
    await waitFor(ctx, 'the webhook to confirm the booking', async () => {
      const { rows } = await asUser(ctx, guest, (db) => db.query<{ status: string }>('select status from public.bookings where id = $1', [bookingId]));
      return rows[0]?.status === 'confirmed' ? true : undefined;
    });
    return [null, `PaymentIntent ${intent.status}; webhook applied; booking confirmed`];
  });
  return checkout;
}

async function inTransaction(pool: pg.Pool, fn: (db: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await fn(client);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function asUser<T>(ctx: Ctx, who: Session, fn: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  return withUserContext(who.claims, fn, { pool: ctx.app });
}

async function callFunction(ctx: Ctx, name: string, init: { method?: string; token: string; body?: unknown }): Promise<Http> {
  const res = await fetch(`${ctx.stack.functionsUrl}/${name}`, {
    method: init.method ?? 'POST',
    headers: { Authorization: `Bearer ${init.token}`, 'Content-Type': 'application/json', apikey: ctx.stack.anonKey },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

/** Runs payments-worker until it claims nothing (the scheduler also calls it every 10 s). */
async function drainWorker(ctx: Ctx): Promise<string> {
  const totals = { claimed: 0, succeeded: 0 };
  for (let round = 0; round < 10; round += 1) {
    const res = await callFunction(ctx, 'payments-worker', { token: ctx.stack.serviceRoleKey, body: {} });
    expectThat(res.status === 200, `payments-worker answered ${res.status} ${JSON.stringify(res.body)}`);
    totals.claimed += Number(res.body.claimed);
    totals.succeeded += Number(res.body.succeeded);
    if (Number(res.body.claimed) === 0) break;
    await sleep(200);
  }
  return `${totals.claimed} command(s) claimed, ${totals.succeeded} succeeded`;
}

async function waitFor<T>(ctx: Ctx, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ctx.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new DemoExpectationFailed(`gave up after ${ctx.timeoutMs / 1000} s waiting for ${what}`);
    await sleep(150);
  }
}

async function walletOf(ctx: Ctx, who: Session): Promise<Wallet> {
  const { rows } = await asUser(ctx, who, (db) => db.query<Record<string, string>>(
    'select pending_cents, available_cents, in_transit_cents, paid_out_cents from public.wallet_balances where currency = $1', [CURRENCY]));
  const r = rows[0];
  return {
    pending: Number(r?.pending_cents ?? 0), available: Number(r?.available_cents ?? 0),
    in_transit: Number(r?.in_transit_cents ?? 0), paid_out: Number(r?.paid_out_cents ?? 0),
  };
}

async function platformBalances(ctx: Ctx): Promise<Record<string, number>> {
  const { rows } = await ctx.admin.query<{ kind: string; balance: string }>(
    'select kind, balance from admin.platform_balances where currency = $1', [CURRENCY]);
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.balance)]));
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const kinds = new Set([...Object.keys(after), ...Object.keys(before)]);
  return Object.fromEntries([...kinds].map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
}

interface PaymentSettings {
  platform_fee_bps: number;
}

async function paymentSettings(ctx: Ctx): Promise<PaymentSettings> {
  const { rows } = await ctx.admin.query<PaymentSettings>('select platform_fee_bps from private.payment_settings');
  const row = rows[0];
  if (row === undefined) throw new Error('private.payment_settings has no row');
  return row;
}

/** A database error keeps its SQLSTATE and Rally's hint code, so a failed step says which rule refused it. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, hint } = error as { code?: string; hint?: string };
  return code === undefined ? error.message : `${error.message} (SQLSTATE ${code}${hint === undefined ? '' : `, ${hint}`})`;
}

function hhmmss(d: Date): string {
  return d.toISOString().slice(11, 19) + ' UTC';
}
