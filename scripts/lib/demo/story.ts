/**
 * The Rally story, end to end against a running stack (`npm run demo`) or the test stack
 * (tests/demo/demo.test.ts):
 *
 *   a host signs up, sets an avatar, becomes a host and onboards with Stripe Connect; creates a
 *   paid event; a guest follows the host; the host publishes and the guest hears
 *   about it over Realtime and by email; the guest finds it, books, checks out and pays, and the
 *   confirmation arrives over Realtime; host and guest chat in the event chat (a photo too);
 *   strangers are refused; the guest is checked in; the event ends and completes; the guest
 *   reviews and the host replies; the earnings are released and transferred; the host withdraws;
 *   the host's next event is invite-only: she invites another guest by name, hands out an invite
 *   link and a promo code; the invited guest books with the code, pays the discounted price and
 *   disputes the charge; the operator sees it in the admin app.
 *
 * Every person acts through their own `@supabase/supabase-js` client on the stack's API URL and
 * anon key, as their app would: Auth for sign-up and sign-in, `/rest/v1` for reads and RPCs,
 * `functions.invoke`, Realtime private channels and Storage. What no app can do goes around the
 * client, and the step says so: Stripe itself acting (the hosted onboarding page, confirming a
 * PaymentIntent as Stripe.js does, reading a connected account's balance) with stripe-node on
 * the Stripe stand-in; and operator steps (./operator.ts): the operator's account made with the
 * service role key, scheduled jobs run now with their own pg_cron command, the release-hold knob,
 * the workers invoked with the service role key as the scheduler does, and checks of the alert
 * outbox and the ledger in SQL. Time passes for real: the event starts a few seconds after it is
 * created and the demo waits for its end.
 *
 * Each step checks its expected outcome; the first one that does not happen stops the story and
 * `runDemo` resolves with `ok: false` (the CLI exits 1).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import { DISPUTE_FEE } from '../../../tools/stripe-standin/store.ts';
import { collect, subscribe } from '../../../tests/e2e/support/realtime.ts';
import { createPaidEvent, DEMO_PNG, demoPng, invoke, must, ok, type PaidEvent, sameBytes, walletOf } from './app.ts';
import { emailDeliveryState, ledgerBalance, operatorDb, type OperatorDb, platformFeeBps, releaseEarningsNow, runJobNow, sentEmailOf } from './operator.ts';
import { appClient, claims, createOperator, inboxOf, type Person, signOff, signUp } from './people.ts';
import {
  DemoExpectationFailed, expectThat, money, platformLines, type StepOutcome, summaryLines, type Wallet, walletLine,
} from './report.ts';
import type { Database } from '../../../types/database.ts';
import type { DemoStack } from './stack.ts';

export interface DemoOptions {
  log?: (line: string) => void;
  /** seconds from creating the first event until it starts (booking and payment must happen before; default 20) */
  startsInSeconds?: number;
  /** how long the event lasts, in seconds (default 10) */
  lengthSeconds?: number;
  /** how long to wait for an asynchronous outcome (webhook, broadcast, payout) before calling it failed (default 30 s) */
  asyncTimeoutMs?: number;
}

export interface DemoResult {
  ok: boolean;
  run: string;
  steps: StepOutcome[];
  failure?: string;
  /** the host's EUR wallet at the end */
  hostWallet?: Wallet;
  /** change of each platform ledger account (EUR) over the run, as the admin app shows it */
  platformDelta?: Record<string, number>;
}

const CURRENCY = 'EUR';
const PRICE = 2500;
/** The promo code of the host's next event and what it takes off each ticket. */
const PROMO_CODE = 'FRIENDS10';
const PROMO_PERCENT = 10;

interface Ctx {
  stack: DemoStack;
  db: OperatorDb;
  stripe: Stripe;
  log: (line: string) => void;
  timeoutMs: number;
  /** everyone signed in, so their sockets are closed at the end */
  people: Person[];
}

type Step = <T>(title: string, fn: () => Promise<[T, string]>) => Promise<T>;

export async function runDemo(stack: DemoStack, options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const run = randomBytes(3).toString('hex');
  const standin = new URL(stack.stripeUrl);
  // What Stripe.js / the mobile Payment Sheet and Stripe's own pages do, aimed at the stand-in.
  const stripe = new Stripe('sk_test_rally_demo', {
    apiVersion: '2026-10-28.endive', httpClient: Stripe.createFetchHttpClient(), host: standin.hostname,
    port: Number(standin.port), protocol: 'http', maxNetworkRetries: 0,
  });
  const ctx: Ctx = { stack, db: operatorDb(stack.dbUrl), stripe, log, timeoutMs: options.asyncTimeoutMs ?? 30_000, people: [] };
  const steps: StepOutcome[] = [];
  const result: DemoResult = { ok: false, run, steps };

  const step: Step = async (title, fn) => {
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
    log(`Every person uses their own @supabase/supabase-js client on ${stack.apiUrl} with the anon key, as their app would.`);
    log(`Around the client, and said so at each step: Stripe itself (the stand-in at ${stack.stripeUrl}, through stripe-node),`);
    log('and operator steps (the service role key, or SQL as postgres as Studio runs it). E-mail goes to the sink provider.');
    const outcome = await story(ctx, run, step, options);
    result.hostWallet = outcome.hostWallet;
    result.platformDelta = outcome.platformDelta;
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
    await Promise.all(ctx.people.map((person) => signOff(person).catch(() => undefined)));
    await ctx.db.end();
  }
  return result;
}

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
  host: Person;
  guest: Person;
  other: Person;
  /** the operator, signed in to the admin app */
  ops: Person;
  /** the host's Stripe connected account */
  accountId: string;
}

/** The acts in order. */
async function story(ctx: Ctx, run: string, step: Step, options: DemoOptions): Promise<{ hostWallet: Wallet; platformDelta: Record<string, number> }> {
  const feeBps = await platformFeeBps(ctx.db);
  const scene: Scene = { ctx, step, run, feeBps, share: (gross) => gross - Math.round((gross * feeBps) / 10_000) };
  const cast = await signUpAndOnboard(scene);
  const platformBefore = await platformBalances(cast.ops);
  const startsAt = new Date(Date.now() + (options.startsInSeconds ?? 20) * 1000);
  const endsAt = new Date(startsAt.getTime() + (options.lengthSeconds ?? 10) * 1000);
  const gig = await publishAndNotify(scene, cast, startsAt, endsAt);
  const attended = await bookPayAndAttend(scene, cast, gig);
  await afterTheEvent(scene, cast, gig, attended, endsAt);
  const disputed = await invitedGuestWithCodeDisputes(scene, cast);
  await ledgerStaysBalanced(scene, cast, [attended.payment.paymentId, disputed.payment.paymentId]);
  return { hostWallet: disputed.hostWallet, platformDelta: diff(await platformBalances(cast.ops), platformBefore) };
}

/** Sign-ups through Auth, the operator's account, an avatar, the host role, Stripe Connect onboarding. */
async function signUpAndOnboard({ ctx, step, run }: Scene): Promise<Cast> {
  const people = await step('Maya, Sam and Priya sign up in the app: supabase.auth.signUp (Auth), then read their profiles: from(\'profiles\')', async () => {
    const host = await signUp(ctx.stack, `maya_${run}`, 'Maya (demo host)');
    const guest = await signUp(ctx.stack, `sam_${run}`, 'Sam (demo guest)');
    const other = await signUp(ctx.stack, `priya_${run}`, 'Priya (demo guest)');
    ctx.people.push(host, guest, other);
    for (const p of [host, guest, other]) {
      const profile = must(await p.client.from('profiles').select('username').eq('id', p.id).single(), `${p.email} reads their profile`);
      expectThat(profile.username === p.username, `the profile of ${p.email} is named ${profile.username}, expected ${p.username}`);
    }
    const role = (await claims(guest)).user_role;
    return [{ host, guest, other }, `profiles ${host.username}, ${guest.username}, ${other.username}, made by the sign-up trigger; access tokens say user_role = ${String(role)}\n` +
      `sign in as any of them: ${[host, guest, other].map((p) => `${p.email} / ${p.password}`).join(', ')}`];
  });

  const ops = await step(`Operator step (the service role key, as an admin tool's server): an operator account ops_${run} with app_metadata.role = admin (auth.admin.createUser); the operator signs in to the admin app (auth.signInWithPassword)`, async () => {
    const operator = await createOperator(ctx.stack, `ops_${run}`, 'Olu (demo operator)');
    ctx.people.push(operator);
    const role = (await claims(operator)).user_role;
    expectThat(role === 'admin', `the operator's access token says user_role = ${String(role)}, not admin`);
    const dashboards = must(await operator.client.rpc('admin_dashboards'), 'rpc admin_dashboards');
    return [operator, `${operator.email}: user_role = admin; rpc('admin_dashboards') lists ${dashboards.length} dashboards`];
  });

  const { host, guest, other } = people;
  await step(`${host.username} sets an avatar: storage.from('avatars').upload, then from('profiles').update({ avatar_path })`, async () => {
    const path = `${host.id}/avatar.png`;
    const avatars = host.client.storage.from('avatars');
    must(await avatars.upload(path, demoPng(), { upsert: true }), 'avatar upload');
    const profile = must(await host.client.from('profiles').update({ avatar_path: path }).eq('id', host.id).select('avatar_path').single(), 'profile update');
    const url = avatars.getPublicUrl(path).data.publicUrl;
    const served = await fetch(url);
    const bytes = new Uint8Array(await served.arrayBuffer());
    expectThat(served.status === 200 && sameBytes(bytes, DEMO_PNG), `the public avatar URL answered ${served.status}`);
    return [null, `avatars/${profile.avatar_path}, served to anyone at ${url}`];
  });

  const promoted = await step(`${host.username} becomes a host: rpc('become_host'), then auth.refreshSession()`, async () => {
    const profile = must(await host.client.rpc('become_host'), 'rpc become_host');
    expectThat(profile.is_host === true, 'become_host() did not make the caller a host');
    must(await host.client.auth.refreshSession(), 'refreshSession');
    const role = (await claims(host)).user_role;
    expectThat(role === 'host', `the refreshed access token says user_role = ${String(role)}, not host`);
    return [host, `is_host = true, host_status = ${String(profile.host_status)}; the refreshed access token says user_role = host`];
  });

  const accountId = await step(`${promoted.username} onboards with Stripe Connect: functions.invoke('connect-onboarding'); Stripe acting: the hosted onboarding page, completed in her browser, sends account.updated`, async () => {
    const started = await invoke(host.client, 'connect-onboarding', { body: {} });
    expectThat(started.status === 200, `connect-onboarding answered ${started.status} ${JSON.stringify(started.body)}`);
    // Maya's browser opens Stripe's hosted onboarding; the stand-in completes it and sends account.updated.
    await fetch(String(started.body.onboarding_url), { redirect: 'manual' }).then((r) => r.arrayBuffer());
    const status = await waitFor(ctx, 'account.updated to turn payouts on', async () => {
      const s = await invoke(host.client, 'connect-onboarding', { method: 'GET' });
      return s.body.payouts_enabled === true ? s : undefined;
    });
    const account = String(status.body.account_id ?? started.body.account_id);
    return [account, `account ${account}: details_submitted = ${String(status.body.details_submitted)}, payouts_enabled = true, ` +
      `transfers = ${String(status.body.transfers)} (functions.invoke('connect-onboarding', { method: 'GET' }) after the webhooks)`];
  });

  return { host, guest, other, ops, accountId };
}

/** A paid event, private channels, a follower, publication and the follower's alerts. */
async function publishAndNotify({ ctx, step, run }: Scene, { host, guest, other, ops }: Cast, startsAt: Date, endsAt: Date): Promise<PaidEvent> {
  const gig = await step(`${host.username} creates a paid event: from('events').insert, from('ticket_types').insert`, async () => {
    const created = await createPaidEvent(host, { title: `Rooftop jazz ${run}`, startsAt, endsAt, priceCents: PRICE, currency: CURRENCY });
    const event = must(await host.client.from('events').select('status').eq('id', created.eventId).single(), 'read the draft');
    return [created, `${event.status} "${created.title}" ${created.eventId}; ticket "General" ${money(PRICE)} × 20 seats; ` +
      `starts ${hhmmss(startsAt)}, ends ${hhmmss(endsAt)} (a short event so the story runs in real time)`];
  });

  await step('Everyone\'s app opens their private channel: channel(\'user:<id>\', { config: { private: true } }) (Realtime; the join is authorized by RLS on realtime.messages)', async () => {
    const joined: string[] = [];
    for (const person of [host, guest, other, ops]) {
      const { channel, inbox } = inboxOf(person);
      const outcome = await subscribe(channel);
      expectThat(outcome.status === 'SUBSCRIBED', `${person.username} could not join user:${person.id}: ${outcome.status} ${outcome.error?.message ?? ''}`);
      person.inbox = inbox;
      joined.push(person.username);
    }
    return [null, `${joined.join(', ')}: SUBSCRIBED, each on their own user:<id>`];
  });

  await step(`${guest.username} follows ${host.username}: rpc('follow_user')`, async () => {
    ok(await guest.client.rpc('follow_user', { p_user_id: host.id }), 'rpc follow_user');
    const profile = must(await guest.client.from('profiles').select('followers_count').eq('id', host.id).single(), 'read the host\'s profile');
    expectThat(profile.followers_count === 1, `the host has ${String(profile.followers_count)} followers, expected 1`);
    return [null, `${host.username} now has 1 follower (from('profiles').select('followers_count'))`];
  });

  await step(`${host.username} publishes the event: rpc('publish_event')`, async () => {
    const [event] = must(await host.client.rpc('publish_event', { p_event_id: gig.eventId }), 'rpc publish_event');
    expectThat(event?.status === 'published', `publish_event returned status ${String(event?.status)}`);
    return [null, 'status = published; an announcement to followers is queued'];
  });

  await step(`${guest.username} hears about it over Realtime and by email (operator step: pg_cron job rally-process-promotion-queue run now; dispatch-alerts invoked with the service role key, as the scheduler does)`, async () => {
    await runJobNow(ctx.db, 'rally-process-promotion-queue');
    // On a running stack the schedules may be processing the same job at this moment (ours then skips it).
    const note = await waitFor(ctx, `an event_published notification over Realtime for ${guest.username}`, async () =>
      notification(guest, 'event_published', (data) => data.event_id === gig.eventId));
    const scheduler = appClient(ctx.stack, ctx.stack.serviceRoleKey);
    // The dispatcher sends the oldest due alerts first and stops at its time budget, so on a busy
    // stack one call may not reach this one: call it again while waiting, as the scheduler does
    // every 10 seconds (the scheduled dispatcher may also have claimed it; whichever call has it).
    let lastDispatch = 0;
    const mail = await waitFor(ctx, 'the email alert to be sent', async () => {
      const sent = await sentEmailOf(ctx.db, String(note.id));
      if (sent !== undefined || Date.now() - lastDispatch < 2_000) return sent;
      lastDispatch = Date.now();
      const dispatched = await invoke(scheduler, 'dispatch-alerts', { body: {} });
      expectThat(dispatched.status === 200, `dispatch-alerts answered ${dispatched.status}`);
      return sentEmailOf(ctx.db, String(note.id));
    }, () => emailDeliveryState(ctx.db, String(note.id)));
    return [null, `Realtime: notification_created on user:${guest.id.slice(0, 8)}…: "${String(note.title)}" — ${String(note.body)}\n` +
      `email: ${mail.status} via ${mail.provider} to ${mail.destination} (operator check in SQL: private.alert_deliveries)`];
  });

  await step(`${guest.username} finds it: rpc('search_events', { p_query }, { get: true })`, async () => {
    const found = must(await guest.client.rpc('search_events', { p_query: `rooftop jazz ${run}`, p_limit: 5 }, { get: true }), 'rpc search_events');
    const hit = found.find((e) => e.id === gig.eventId);
    expectThat(hit !== undefined, `search_events did not find "${gig.title}" (${found.length} results)`);
    expectThat(Number(hit.min_price_cents) === PRICE, `search shows a price of ${String(hit.min_price_cents)}, expected ${PRICE}`);
    return [null, `"${hit.title}" in ${hit.city}, from ${money(Number(hit.min_price_cents))}, ${found.length} result(s)`];
  });

  return gig;
}

interface Attended {
  bookingId: string;
  payment: Payment;
}

/** Booking, checkout and payment, the event chat, strangers refused, check-in. */
async function bookPayAndAttend(scene: Scene, { host, guest, other }: Cast, gig: PaidEvent): Promise<Attended> {
  const { ctx, step, run, feeBps, share } = scene;
  const booking = await step(`${guest.username} books 2 tickets: rpc('book_event')`, async () => {
    const b = must(await guest.client.rpc('book_event', {
      p_event_id: gig.eventId, p_ticket_type_id: gig.ticketTypeId, p_quantity: 2, p_idempotency_key: `demo-${run}-sam`,
    }), 'rpc book_event');
    expectThat(b.status === 'held', `the booking is ${String(b.status)}, expected held until paid`);
    expectThat(Number(b.amount_cents) === 2 * PRICE, `the booking costs ${String(b.amount_cents)}, expected ${2 * PRICE}`);
    return [String(b.id), `booking ${String(b.id)}: held, ${money(Number(b.amount_cents))}, seats held until ${hhmmss(new Date(String(b.hold_expires_at)))}`];
  });

  const paid = await payFor(scene, guest, booking, 'pm_card_visa', 2 * PRICE);
  await step(`The host's wallet after the payment: from('wallet_balances'), as ${host.username}`, async () => {
    const w = await walletOf(host, CURRENCY);
    expectThat(w.pending === share(2 * PRICE) && w.available === 0, `unexpected wallet ${JSON.stringify(w)}`);
    return [null, `${walletLine(host.username, w)}\n(${money(2 * PRICE)} paid − ${feeBps / 100} % platform fee = ${money(share(2 * PRICE))} pending until the event is over)`];
  });

  const chat = await step(`${guest.username} and ${host.username} chat in the event chat over Realtime (conversation:<id>): rpc('send_message'), a photo through storage.from('chat-media')`, async () => {
    const conversation = must(await guest.client.from('conversations').select('id, kind').eq('event_id', gig.eventId).single(),
      `${guest.username} looks up the event chat`);
    const topic = `conversation:${conversation.id}`;
    const hostRoom = host.client.channel(topic, { config: { private: true } });
    const guestRoom = guest.client.channel(topic, { config: { private: true } });
    const toHost = collect(hostRoom, 'message_created');
    const toGuest = collect(guestRoom, 'message_created');
    for (const [who, room] of [[host, hostRoom], [guest, guestRoom]] as const) {
      const joined = await subscribe(room);
      expectThat(joined.status === 'SUBSCRIBED', `${who.username} could not join ${topic}: ${joined.error?.message ?? joined.status}`);
    }
    must(await guest.client.rpc('send_message', { p_conversation_id: conversation.id, p_kind: 'text', p_body: 'Hi! Is there a dress code tonight?' }), 'rpc send_message');
    const photo = `${conversation.id}/${guest.id}/${randomUUID()}.png`;
    must(await guest.client.storage.from('chat-media').upload(photo, demoPng()), 'chat photo upload');
    must(await guest.client.rpc('send_message', { p_conversation_id: conversation.id, p_kind: 'image', p_attachment_path: photo, p_body: 'the view from the queue' }),
      'rpc send_message (image)');
    await waitFor(ctx, `${host.username} to receive both messages over Realtime`, async () => (toHost.items.length >= 2 ? true : undefined));
    const image = toHost.items.find((m) => m.payload.kind === 'image');
    expectThat(image?.payload.attachment_path === photo, `the image message reached ${host.username} without its attachment`);
    const downloaded = must(await host.client.storage.from('chat-media').download(photo), `${host.username} downloads the photo`);
    expectThat(sameBytes(new Uint8Array(await downloaded.arrayBuffer()), DEMO_PNG), 'the downloaded photo differs from the upload');
    must(await host.client.rpc('send_message', { p_conversation_id: conversation.id, p_kind: 'text', p_body: 'Come as you are. See you at 8!' }), 'rpc send_message (reply)');
    await waitFor(ctx, `${guest.username} to receive the reply over Realtime`, async () =>
      (toGuest.items.some((m) => m.payload.sender_id === host.id) ? true : undefined));
    const page = must(await guest.client.rpc('conversation_messages', { p_conversation_id: conversation.id, p_limit: 10 }), 'rpc conversation_messages');
    expectThat(page.length >= 3, `${guest.username} reads ${page.length} messages, expected 3`);
    return [{ conversationId: conversation.id, photo }, `conversation ${conversation.id} (${conversation.kind}): 3 messages, each broadcast as message_created on ${topic.slice(0, 21)}…; ` +
      `${host.username} downloaded the photo chat-media/${photo.slice(0, 8)}…; rpc('conversation_messages') pages them`];
  });

  await step(`Private by default: ${other.username} (no ticket) is refused the event chat and its photo, and ${guest.username} is refused ${host.username}'s user topic`, async () => {
    const chatTopic = `conversation:${chat.conversationId}`;
    const [intruder, eavesdropper] = await Promise.all([
      subscribe(other.client.channel(chatTopic, { config: { private: true } })),
      subscribe(guest.client.channel(`user:${host.id}`, { config: { private: true } })),
    ]);
    expectThat(intruder.status === 'CHANNEL_ERROR', `${other.username} joined ${chatTopic}: ${intruder.status}`);
    expectThat(eavesdropper.status === 'CHANNEL_ERROR', `${guest.username} joined user:${host.id}: ${eavesdropper.status}`);
    const photo = await other.client.storage.from('chat-media').download(chat.photo);
    expectThat(photo.data === null && photo.error !== null, `${other.username} downloaded the chat photo`);
    const bookings = must(await other.client.from('bookings').select('id').eq('id', booking), `${other.username} reads bookings`);
    expectThat(bookings.length === 0, `${other.username} can read ${guest.username}'s booking`);
    return [null, `Realtime: ${intruder.error?.message ?? intruder.status}\nRealtime: ${eavesdropper.error?.message ?? eavesdropper.status}\n` +
      `Storage: ${photo.error.message}; Data API: from('bookings') shows ${other.username} none of ${guest.username}'s bookings`];
  });

  await step(`${host.username} checks ${guest.username} in at the door: rpc('check_in') with the code on his ticket; her door app hears it on event:<id>:staff`, async () => {
    const staff = host.client.channel(`event:${gig.eventId}:staff`, { config: { private: true } });
    const checkIns = collect(staff, 'check_in');
    const joined = await subscribe(staff);
    expectThat(joined.status === 'SUBSCRIBED', `${host.username} could not join the staff channel: ${joined.error?.message ?? joined.status}`);
    const ticket = must(await guest.client.from('bookings').select('check_in_code').eq('id', booking).single(), `${guest.username} reads his ticket`);
    const rows = must(await host.client.rpc('check_in', { p_code: ticket.check_in_code }), 'rpc check_in');
    const row = rows[0];
    expectThat(row?.username === guest.username, 'check_in did not return the guest');
    await waitFor(ctx, 'the check_in broadcast on the staff channel', async () =>
      (checkIns.items.some((m) => m.payload.booking_id === booking) ? true : undefined));
    return [null, `${row.username} × ${row.quantity} checked in at ${hhmmss(new Date(row.checked_in_at))}; check_in broadcast on event:${gig.eventId.slice(0, 8)}…:staff`];
  });

  return { bookingId: booking, payment: paid };
}

/** The event ends and completes; review and reply; release, transfer, withdrawal. */
async function afterTheEvent({ ctx, step, share }: Scene, { host, guest, accountId }: Cast, gig: PaidEvent, attended: Attended, endsAt: Date): Promise<void> {
  const { log } = ctx;
  const { bookingId: booking } = attended;
  await step('The event ends (real time passes) and completes (operator step: pg_cron job rally-complete-ended-events run now)', async () => {
    const waitMs = endsAt.getTime() - Date.now() + 500;
    if (waitMs > 0) {
      log(`   … waiting ${Math.ceil(waitMs / 1000)} s until the event ends at ${hhmmss(endsAt)}`);
      await sleep(waitMs);
    }
    await runJobNow(ctx.db, 'rally-complete-ended-events');
    const event = must(await guest.client.from('events').select('status').eq('id', gig.eventId).single(), `${guest.username} reads the event`);
    expectThat(event.status === 'completed', `the event is ${String(event.status)}, expected completed`);
    return [null, 'status = completed (from(\'events\'), as the guest)'];
  });

  await step(`${guest.username} reviews the event: from('reviews').insert; ${host.username} replies: from('reviews').update({ host_reply })`, async () => {
    // author_id, event_id and host_id are filled in from the booking by the table's trigger; the
    // generated Insert type cannot know that and marks them required.
    const draft = { booking_id: booking, rating: 5, body: 'Great music, lovely crowd.' } as Database['public']['Tables']['reviews']['Insert'];
    const review = must(await guest.client.from('reviews').insert(draft).select('id').single(), 'review insert');
    const replied = must(await host.client.from('reviews').update({ host_reply: 'Thanks for coming, Sam!' }).eq('id', review.id).select('host_reply').single(), 'host reply');
    const profile = must(await guest.client.from('profiles').select('rating_count, rating_average').eq('id', host.id).single(), 'read the host\'s profile');
    expectThat(profile.rating_count === 1, `the host's rating_count is ${String(profile.rating_count)}, expected 1`);
    return [null, `review ★5 "Great music, lovely crowd." — host replied "${String(replied.host_reply)}"; ${host.username}: ${profile.rating_count} review, average ${Number(profile.rating_average).toFixed(1)}`];
  });

  await step('Funds release (operator step in SQL: pg_cron job rally-release-host-earnings run now, with payment_settings.release_hold_hours = 0, default 48 h, for that run only)', async () => {
    // Knob, job and knob put back in one transaction: nobody else ever runs with the shortened hold.
    const hold = await releaseEarningsNow(ctx.db);
    const w = await walletOf(host, CURRENCY);
    expectThat(w.pending === 0 && w.available === share(2 * PRICE), `unexpected wallet ${JSON.stringify(w)}`);
    return [null, `${walletLine(host.username, w)} (from('wallet_balances'), as ${host.username}); the hold is back at ${hold} h`];
  });

  await step('The payments worker transfers the host\'s share (operator step: functions.invoke(\'payments-worker\') with the service role key, as the scheduler does); Stripe acting: the connected account\'s balance', async () => {
    const worked = await drainWorker(ctx);
    // The scheduler calls the same worker every 10 s; if it claimed the command first, wait for it.
    const balance = await waitFor(ctx, `${money(share(2 * PRICE))} to reach ${accountId}`, async () => {
      const b = await connectedBalance(ctx, accountId);
      return b === share(2 * PRICE) ? b : undefined;
    });
    return [null, `worker: ${worked}\nStripe stand-in: ${accountId} holds ${money(balance)} (stripe.balance.retrieve with the Stripe-Account header)`];
  });

  await step(`${host.username} withdraws ${money(3000)}: rpc('request_payout'); the worker creates the payout and Stripe reports payout.paid`, async () => {
    const [requested] = must(await host.client.rpc('request_payout', { p_amount_cents: 3000, p_currency: CURRENCY }), 'rpc request_payout');
    const inTransit = await walletOf(host, CURRENCY);
    expectThat(inTransit.in_transit === 3000, `in transit is ${inTransit.in_transit}, expected 3000`);
    log(`   · ${walletLine('requested', inTransit)}`);
    await drainWorker(ctx);
    const w = await waitFor(ctx, 'payout.paid to reach the wallet', async () => {
      const current = await walletOf(host, CURRENCY);
      return current.paid_out === 3000 ? current : undefined;
    });
    expectThat(w.in_transit === 0 && w.available === share(2 * PRICE) - 3000, `unexpected wallet ${JSON.stringify(w)}`);
    const activity = must(await host.client.rpc('wallet_activity', { p_limit: 10 }), 'rpc wallet_activity');
    expectThat(activity.some((a) => a.kind === 'payout_paid'), 'wallet_activity shows no payout_paid');
    return [null, `payout ${String(requested?.payout_id)}: paid; rpc('wallet_activity') shows ${[...new Set(activity.map((a) => a.kind))].join(', ')}\n${walletLine(host.username, w)}`];
  });
}

/**
 * The host's next event is invite-only: she invites another guest by name, hands out an invite
 * link, and gives her friends a promo code; the invited guest books with it, pays the discounted
 * price, and their bank disputes the charge.
 */
async function invitedGuestWithCodeDisputes(scene: Scene, { host, guest, other, ops }: Cast): Promise<{ payment: Payment; hostWallet: Wallet }> {
  const { ctx, step, run, share } = scene;
  const nextWeek = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  const next = await step(`${host.username} publishes the next event (next week), invite-only: from('events').insert({ visibility: 'private' }), rpc('publish_event')`, async () => {
    const created = await createPaidEvent(host, {
      title: `Rooftop jazz ${run} II`, startsAt: nextWeek, endsAt: new Date(nextWeek.getTime() + 3 * 3600 * 1000), priceCents: PRICE,
      currency: CURRENCY, visibility: 'private',
    });
    must(await host.client.rpc('publish_event', { p_event_id: created.eventId }), 'rpc publish_event');
    const seen = must(await other.client.from('events').select('id').eq('id', created.eventId), `${other.username} reads events`);
    expectThat(seen.length === 0, `${other.username} sees the private event before being invited`);
    return [created, `"${created.title}" published, ${nextWeek.toISOString().slice(0, 10)}; nobody but the host sees it yet`];
  });

  await step(`${host.username} invites ${other.username} by name and makes an invite link that ${guest.username} follows: rpc('invite_to_event'), rpc('create_invite_link'), rpc('redeem_invite_link')`, async () => {
    const invited = must(await host.client.rpc('invite_to_event', { p_event_id: next.eventId, p_user_ids: [other.id] }), 'rpc invite_to_event');
    expectThat(invited[0]?.status === 'invited', `invite_to_event answered ${String(invited[0]?.status)}`);
    const told = await waitFor(ctx, `${other.username}'s event_invitation notification over Realtime`, async () =>
      notification(other, 'event_invitation', (data) => data.event_id === next.eventId));
    const link = must(await host.client.rpc('create_invite_link', { p_event_id: next.eventId, p_max_uses: 10 }), 'rpc create_invite_link');
    must(await guest.client.rpc('redeem_invite_link', { p_token: link.token }), 'rpc redeem_invite_link');
    const seen = must(await guest.client.from('events').select('title').eq('id', next.eventId), `${guest.username} reads the event`);
    expectThat(seen[0]?.title === next.title, `${guest.username} does not see the event after following the invite link`);
    return [null, `${other.username}'s app: "${String(told.title)}"; she now sees the event\n` +
      `invite link …/invite/${link.token.slice(0, 6)}… (10 uses): ${guest.username} followed it, used 1 of 10, and sees the event too`];
  });

  const discounted = PRICE - Math.floor((PRICE * PROMO_PERCENT) / 100);
  await step(`${host.username} adds the promo code ${PROMO_CODE} (${PROMO_PERCENT} % off); ${other.username} previews it: from('promo_codes').insert, rpc('preview_promo_code')`, async () => {
    const [code] = must(await host.client.from('promo_codes')
      .insert({ event_id: next.eventId, code: PROMO_CODE, percent_off: PROMO_PERCENT, max_redemptions: 20 }).select('code'), 'insert into promo_codes');
    expectThat(code?.code === PROMO_CODE, `the promo code was stored as ${String(code?.code)}`);
    const [preview] = must(await other.client.rpc('preview_promo_code', { p_event_id: next.eventId, p_code: PROMO_CODE.toLowerCase() }), 'rpc preview_promo_code');
    expectThat(Number(preview?.final_price_cents) === discounted, `the preview says ${String(preview?.final_price_cents)}, expected ${discounted}`);
    return [null, `"${String(preview?.name)}": ${money(Number(preview?.price_cents))} − ${money(Number(preview?.discount_cents))} = ${money(discounted)} per ticket`];
  });

  const otherBooking = await step(`${other.username} books 1 ticket with the code: rpc('book_event', { …, p_promo_code })`, async () => {
    const b = must(await other.client.rpc('book_event', {
      p_event_id: next.eventId, p_ticket_type_id: next.ticketTypeId, p_quantity: 1, p_idempotency_key: `demo-${run}-priya`,
      p_promo_code: PROMO_CODE.toLowerCase(),
    }), 'rpc book_event');
    expectThat(b.status === 'held', `the booking is ${String(b.status)}`);
    expectThat(Number(b.amount_cents) === discounted, `the booking costs ${String(b.amount_cents)}, expected ${discounted}`);
    return [String(b.id), `booking ${String(b.id)}: held; list ${money(Number(b.list_amount_cents))}, discount ${money(Number(b.discount_cents))}, to pay ${money(Number(b.amount_cents))}`];
  });
  const disputed = await payFor(scene, other, otherBooking, 'pm_card_createDispute', discounted);

  const hostWallet = await step(`${other.username}'s bank disputes the charge (Stripe test card pm_card_createDispute): ${host.username} and the operator hear it over Realtime; the operator sees it in the admin app: rpc('admin_dashboard', { p_view: 'open_disputes' })`, async () => {
    const told = await waitFor(ctx, `${host.username}'s dispute_opened notification over Realtime`, async () =>
      notification(host, 'dispute_opened', (data) => data.booking_id === otherBooking));
    const opsTold = await waitFor(ctx, 'the operator\'s dispute_opened notification over Realtime', async () =>
      notification(ops, 'dispute_opened', (data) => data.booking_id === otherBooking));
    const dispute = await waitFor(ctx, 'the dispute in the admin app', async () => {
      const rows = must(await ops.client.rpc('admin_dashboard', { p_view: 'open_disputes', p_limit: 1000 }), 'rpc admin_dashboard') as Record<string, unknown>[];
      return rows.find((r) => r.booking_id === otherBooking && r.host_part_cents !== null);
    });
    const fee = dispute.fee_payer === 'host' ? DISPUTE_FEE : 0;
    const w = await waitFor(ctx, 'the dispute fee to reach the wallet', async () => {
      const current = await walletOf(host, CURRENCY);
      return current.pending === -fee ? current : undefined;
    });
    return [w, `dispute ${String(dispute.id)}: ${String(dispute.status)}, ${money(Number(dispute.amount_cents))}, evidence due ${String(dispute.evidence_due_by ?? '—').slice(0, 10)}, ` +
      `urgency ${String(dispute.urgency)}; fee ${money(DISPUTE_FEE)} paid by the ${String(dispute.fee_payer)}\n` +
      `${host.username}'s app: "${String(told.title)}"; ${ops.username}'s app: "${String(opsTold.title)}"\n` +
      `${walletLine(host.username, w)}\n(${money(share(discounted))} pending − ${money(share(discounted))} disputed − ${money(fee)} dispute fee; a negative balance is recovered from future earnings)`];
  });

  return { payment: disputed, hostWallet };
}

async function ledgerStaysBalanced({ ctx, step }: Scene, { host }: Cast, paymentIds: string[]): Promise<void> {
  await step('The ledger stays balanced (operator check in SQL, private.ledger_entries: no app may read the ledger): every transaction of this run sums to zero per currency', async () => {
    const { checked, unbalanced } = await ledgerBalance(ctx.db, paymentIds, host.id);
    expectThat(checked > 0 && unbalanced === 0, `${unbalanced} of ${checked} ledger transactions are unbalanced`);
    return [null, `${checked} ledger transactions checked, none unbalanced`];
  });
}

// --- building blocks ------------------------------------------------------------------------

interface Payment {
  paymentId: string;
  paymentIntentId: string;
}

/** Checkout through functions.invoke, the payment confirmed at the stand-in; the confirmation arrives over Realtime. */
async function payFor({ ctx, step }: Scene, guest: Person, bookingId: string, paymentMethod: string, amount: number): Promise<Payment> {
  const checkout = await step(`${guest.username} checks out: functions.invoke('checkout', { body: { booking_id } })`, async () => {
    const res = await invoke(guest.client, 'checkout', { body: { booking_id: bookingId } });
    expectThat(res.status === 200, `checkout answered ${res.status} ${JSON.stringify(res.body)}`);
    expectThat(Number(res.body.amount_cents) === amount, `checkout asks for ${String(res.body.amount_cents)}, expected ${amount}`);
    const p = { paymentId: String(res.body.payment_id), paymentIntentId: String(res.body.payment_intent_id) };
    return [p, `PaymentIntent ${p.paymentIntentId} for ${money(amount)} (client_secret returned to the app; Stripe stand-in: ${String(res.body.standin)})`];
  });
  await step(`${guest.username} pays with ${paymentMethod}: Stripe acting (the PaymentIntent confirmed with stripe-node, as Stripe.js does) sends payment_intent.succeeded; the confirmation arrives over Realtime`, async () => {
    const intent = await ctx.stripe.paymentIntents.confirm(checkout.paymentIntentId, { payment_method: paymentMethod });
    expectThat(intent.status === 'succeeded', `the PaymentIntent is ${intent.status}`);
    const note = await waitFor(ctx, `the booking_confirmed notification over Realtime for ${guest.username}`, async () =>
      notification(guest, 'booking_confirmed', (data) => data.booking_id === bookingId));
    const booking = must(await guest.client.from('bookings').select('status').eq('id', bookingId).single(), `${guest.username} reads the booking`);
    expectThat(booking.status === 'confirmed', `the booking is ${booking.status}, expected confirmed`);
    return [null, `PaymentIntent ${intent.status}; webhook applied; Realtime: "${String(note.title)}"; from('bookings'): confirmed`];
  });
  return checkout;
}

/** The person's first notification of `type` whose data matches, as it arrived over Realtime. */
function notification(person: Person, type: string, match: (data: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
  const found = person.inbox?.items.find((item) => item.payload.type === type && match((item.payload.data ?? {}) as Record<string, unknown>));
  return found?.payload;
}

/** Operator step: payments-worker until it claims nothing (the scheduler also calls it every 10 s). */
async function drainWorker(ctx: Ctx): Promise<string> {
  const scheduler = appClient(ctx.stack, ctx.stack.serviceRoleKey);
  const totals = { claimed: 0, succeeded: 0 };
  for (let round = 0; round < 10; round += 1) {
    const res = await invoke(scheduler, 'payments-worker', { body: {} });
    expectThat(res.status === 200, `payments-worker answered ${res.status} ${JSON.stringify(res.body)}`);
    totals.claimed += Number(res.body.claimed);
    totals.succeeded += Number(res.body.succeeded);
    if (Number(res.body.claimed) === 0) break;
    await sleep(200);
  }
  return `${totals.claimed} command(s) claimed, ${totals.succeeded} succeeded`;
}

/** Stripe acting: what the connected account holds in EUR, as Stripe's dashboard would show it. */
async function connectedBalance(ctx: Ctx, accountId: string): Promise<number> {
  const balance = await ctx.stripe.balance.retrieve({}, { stripeAccount: accountId });
  return balance.available.filter((b) => b.currency === CURRENCY.toLowerCase()).reduce((sum, b) => sum + b.amount, 0);
}

async function waitFor<T>(ctx: Ctx, what: string, probe: () => Promise<T | undefined>, explain?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + ctx.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const why = explain === undefined ? '' : ` (${await explain()})`;
      throw new DemoExpectationFailed(`gave up after ${ctx.timeoutMs / 1000} s waiting for ${what}${why}`);
    }
    await sleep(150);
  }
}

/** Platform ledger accounts in EUR, as the admin app reads them: rpc('admin_dashboard', { p_view: 'platform_balances' }). */
async function platformBalances(ops: Person): Promise<Record<string, number>> {
  const rows = must(await ops.client.rpc('admin_dashboard', { p_view: 'platform_balances', p_limit: 1000 }), 'rpc admin_dashboard') as { kind: string; currency: string; balance: number }[];
  return Object.fromEntries(rows.filter((r) => r.currency === CURRENCY).map((r) => [r.kind, Number(r.balance)]));
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const kinds = new Set([...Object.keys(after), ...Object.keys(before)]);
  return Object.fromEntries([...kinds].map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
}

/** A database error keeps its SQLSTATE and Rally's hint code, so a failed step says which rule refused it. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, hint } = error as { code?: string; hint?: string };
  return code === undefined ? error.message : `${error.message} (${code}${hint === undefined ? '' : `, ${hint}`})`;
}

function hhmmss(d: Date): string {
  return d.toISOString().slice(11, 19) + ' UTC';
}
