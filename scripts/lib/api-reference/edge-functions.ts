/**
 * Edge functions in the reference. What is read, not declared:
 *  - which functions exist and `verify_jwt`: supabase/config.toml `[functions.<name>]`;
 *  - the methods each serves: its handler answers a method it does not serve with 405 and an
 *    `Allow` header (routeByMethod), so the generator asks the handler itself;
 *  - request schemas: the zod schemas the handlers validate with (exported from handler.ts),
 *    rendered with zod 4's `z.toJSONSchema` (input side: defaults make fields optional);
 *  - error codes: the handler's source, scanned for the http-errors.ts constructors with literal
 *    codes, `remapDbError` status maps, and the shared helpers it calls (each helper's errors are
 *    listed in HELPER_ERRORS below).
 * What is declared here, per endpoint: a summary, who may call it, the 200 response shape (zod;
 * tests/api-reference checks all but dispatch-alerts and the two provider callbacks against real
 * answers), and errors whose code is
 * chosen at run time (e.g. contact-points' phone validation).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'smol-toml';
import { z } from 'zod';
import { REPO_ROOT } from '../config.ts';
import { calendarPath } from '../../../functions/calendar/handler.ts';
import { body as checkoutBody } from '../../../functions/checkout/handler.ts';
import { getQuery as connectGetQuery, postBody as connectPostBody } from '../../../functions/connect-onboarding/handler.ts';
import { bodySchema as contactPointsBody } from '../../../functions/contact-points/handler.ts';
import { optionsSchema as dispatchAlertsBody } from '../../../functions/dispatch-alerts/handler.ts';
import { body as eventSeriesBody } from '../../../functions/event-series/handler.ts';
import { body as paymentsWorkerBody } from '../../../functions/payments-worker/handler.ts';
import { eventSchema as resendEvent } from '../../../functions/resend-webhook/handler.ts';
import { optionsSchema as storagePurgeBody } from '../../../functions/storage-purge/handler.ts';
import { formSchema as twilioForm } from '../../../functions/twilio-status/handler.ts';
import { formSchema as twilioInboundForm } from '../../../functions/twilio-inbound/handler.ts';
import { compareText } from './sql-text.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpErrorSpec {
  status: number;
  code: string;
  /** for codes the SQL chooses (database errors), a description instead of one code */
  note?: string;
}

export interface RequestSpec {
  kind: 'json' | 'query' | 'form' | 'raw';
  schema?: z.ZodType;
  note?: string;
}

export interface EndpointSpec {
  method: HttpMethod;
  /** path after /functions/v1, e.g. `/checkout` */
  path: string;
  summary: string;
  caller: string;
  request?: RequestSpec;
  /** headers the caller must send besides Authorization */
  headers?: string[];
  response: z.ZodType;
  /** errors with run-time codes, invisible to the source scan */
  extraErrors?: HttpErrorSpec[];
}

export interface FunctionSpec {
  name: string;
  endpoints: EndpointSpec[];
}

const isoTime = z.string().describe('ISO 8601 timestamp');
const uuid = z.uuid();

const connectStatus = z.strictObject({
  account_id: z.string().nullable().describe('Stripe connected account id (acct_…), null before onboarding'),
  payouts_enabled: z.boolean(),
  details_submitted: z.boolean(),
  charges_enabled: z.boolean(),
  transfers: z.string().describe('the transfers capability: inactive | pending | active'),
  requirements_due: z.array(z.string()).describe('what Stripe still needs from the host'),
  disabled_reason: z.string().nullable(),
  standin: z.boolean().describe('true when answered by the local Stripe stand-in'),
});

const notificationSettings = z.strictObject({
  phone_e164: z.string().nullable(),
  phone_updated_at: isoTime.nullable(),
  phone_verified_at: isoTime.nullable().describe('when the owner confirmed it with the texted code (verify_phone_number); nothing is sent to an unverified number'),
  whatsapp_opt_in_at: isoTime.nullable(),
  whatsapp_fallback: z.enum(['sms', 'none']).describe('a WhatsApp alert that cannot go out as WhatsApp: sent by SMS instead, or skipped'),
  quiet_hours_start: z.string().nullable().describe('HH:MM:SS in the user\'s timezone'),
  quiet_hours_end: z.string().nullable(),
  email_suppressed_at: isoTime.nullable(),
});

const channelCounts = z.strictObject({ email: z.number().int(), sms: z.number().int(), whatsapp: z.number().int(), push: z.number().int() });
const providerChoice = z.strictObject({
  email: z.enum(['resend', 'sink']), sms: z.enum(['twilio', 'sink']), whatsapp: z.enum(['twilio', 'sink']), push: z.enum(['fcm', 'sink']),
});

const profile = z.strictObject({
  id: uuid,
  username: z.string(),
  display_name: z.string().nullable(),
  avatar_path: z.string().nullable(),
  bio: z.string().nullable(),
  city: z.string().nullable(),
  timezone: z.string().nullable(),
  locale: z.string().nullable(),
  is_host: z.boolean(),
  host_status: z.string().nullable(),
  followers_count: z.number().int(),
  following_count: z.number().int(),
  user_role: z.enum(['guest', 'host', 'admin']).describe('admin from app_metadata.role, host from profiles.is_host, else guest'),
});

/** Response schemas the tests check against real answers. */
export const RESPONSES = {
  health: z.strictObject({ status: z.literal('ok'), database: z.enum(['ok', 'unreachable']), time: isoTime }),
  me: profile,
  contactPoints: notificationSettings,
  contactPointsPost: notificationSettings.extend({
    country: z.string().nullable().describe('the country the number belongs to'),
    verification_sent: z.boolean().describe('true when a 6-digit code was texted to the number (it is not verified yet)'),
    verification_expires_at: isoTime.nullable().describe('when that code expires (10 minutes)'),
  }),
  providerOutcome: z.strictObject({ outcome: z.enum(['applied', 'recorded', 'duplicate', 'unmatched']) }),
};

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    name: 'calendar',
    endpoints: [
      {
        method: 'GET', path: '/calendar/bookings/{booking_id}.ics',
        summary: 'The caller\'s booking as an iCalendar file (text/calendar, RFC 5545): CONFIRMED, TENTATIVE while held or pending approval, or CANCELLED; the exact address, location and online link only once the booking is confirmed. UID `<event id>@rally`, SEQUENCE rising with every change.',
        caller: 'the signed-in guest who made the booking (their access token as Bearer)',
        request: { kind: 'raw', note: 'no body; the booking id is in the path (`.ics` optional)' },
        response: z.string().describe('text/calendar; charset=utf-8 — one VCALENDAR with one VEVENT'),
      },
      {
        method: 'GET', path: '/calendar/feed/{token}.ics',
        summary: 'A calendar subscription (webcal) for the token\'s owner: their active bookings and the events they host or co-host, from 30 days ago on; exact addresses only where they may see them. The token (from create_calendar_feed) is the only credential, since calendar apps send no JWT; a replaced or revoked token answers 404.',
        caller: 'anyone holding the token (a calendar app)',
        request: { kind: 'raw', schema: calendarPath, note: 'no body; the 43-character token is in the path' },
        response: z.string().describe('text/calendar; charset=utf-8 — one VCALENDAR (X-WR-CALNAME Rally), a VEVENT per event'),
      },
    ],
  },
  {
    name: 'checkout',
    endpoints: [{
      method: 'POST', path: '/checkout',
      summary: 'A guest pays for their held booking: returns the PaymentIntent client secret (one intent per booking; a second call returns the same one). The payment_intent.succeeded webhook confirms the booking, never this call.',
      caller: 'the signed-in guest who holds the booking',
      request: { kind: 'json', schema: checkoutBody },
      response: z.strictObject({
        booking_id: uuid, payment_id: uuid, payment_intent_id: z.string(), client_secret: z.string().nullable(),
        amount_cents: z.number().int(), currency: z.string(), status: z.string().describe('the PaymentIntent status'),
        hold_expires_at: isoTime, standin: z.boolean(),
      }),
    }],
  },
  {
    name: 'connect-onboarding',
    endpoints: [
      {
        method: 'GET', path: '/connect-onboarding',
        summary: 'The host\'s Stripe Connect status as Stripe last reported it; `refresh=true` re-fetches the account from Stripe first.',
        caller: 'a signed-in host',
        request: { kind: 'query', schema: connectGetQuery },
        response: connectStatus,
      },
      {
        method: 'POST', path: '/connect-onboarding',
        summary: 'Creates the host\'s connected account on first use (idempotent per host), then a single-use onboarding link (about 5 minutes). URLs must be on an allowed origin (RALLY_SITE_URL, RALLY_REDIRECT_ORIGINS).',
        caller: 'a signed-in host',
        request: { kind: 'json', schema: connectPostBody },
        response: connectStatus.extend({ onboarding_url: z.url(), expires_at: isoTime }),
      },
    ],
  },
  {
    name: 'contact-points',
    endpoints: [
      {
        method: 'GET', path: '/contact-points',
        summary: 'The caller\'s phone number and alert settings.',
        caller: 'a signed-in user', response: RESPONSES.contactPoints,
      },
      {
        method: 'POST', path: '/contact-points',
        summary: 'Sets the caller\'s phone number, validated and normalised to E.164 (libphonenumber-js), and texts a 6-digit code to it; the number is used only once verify_phone_number confirms the code. Posting the same unverified number again sends a new code. A new number withdraws the WhatsApp opt-in.',
        caller: 'a signed-in user',
        request: { kind: 'json', schema: contactPointsBody },
        response: RESPONSES.contactPointsPost,
        extraErrors: [{ status: 400, code: 'invalid_phone' }, { status: 400, code: 'invalid_country' },
                      { status: 429, code: 'rate_limited', note: 'verification codes per user per hour, or per number per day; Retry-After' }],
      },
      {
        method: 'DELETE', path: '/contact-points',
        summary: 'Removes the caller\'s phone number (and the WhatsApp opt-in).',
        caller: 'a signed-in user', response: RESPONSES.contactPoints,
      },
    ],
  },
  {
    name: 'dispatch-alerts',
    endpoints: [{
      method: 'POST', path: '/dispatch-alerts',
      summary: 'Drains the alert outbox once (email, SMS, WhatsApp) with retries and dead-lettering. Scheduled; safe to run concurrently.',
      caller: 'the service role key only',
      request: { kind: 'json', schema: dispatchAlertsBody, note: 'an empty body uses the defaults' },
      response: z.strictObject({
        batches: z.number().int(), claimed: z.number().int(), sent: z.number().int(), retried: z.number().int(), dead: z.number().int(),
        by_channel: channelCounts, providers: providerChoice, duration_ms: z.number().int(),
      }),
    }],
  },
  {
    name: 'event-series',
    endpoints: [{
      method: 'POST', path: '/event-series',
      summary: 'The host repeats an event on an RFC 5545 recurrence rule in the event\'s own time zone (expanded with rrule from its local start, so a 19:00 event stays 19:00 across daylight-saving changes). The event is the first date; every later date becomes an ordinary event with the same details, ticket types (sales windows moved with the date) and co-hosts, published if the event is. 2 to 100 dates within two years. `preview: true` answers the dates and writes nothing. Change or cancel dates with change_event_occurrences / cancel_event_occurrences.',
      caller: 'the event\'s host or a managing co-host',
      request: { kind: 'json', schema: eventSeriesBody },
      response: z.strictObject({
        series_id: uuid.nullable().describe('the first event\'s id; null for a preview'),
        rrule: z.string().describe('the rule as stored (upper case, without RRULE:)'),
        timezone: z.string(),
        occurrences: z.array(z.strictObject({
          event_id: uuid.nullable().describe('null in a preview for dates not made yet'), position: z.number().int(),
          starts_at: isoTime, ends_at: isoTime,
        })),
      }),
      extraErrors: [
        { status: 400, code: 'invalid_rrule' }, { status: 400, code: 'unsupported_rrule' }, { status: 400, code: 'rrule_unbounded' },
        { status: 400, code: 'too_many_occurrences' }, { status: 400, code: 'rrule_not_synchronized' },
        { status: 400, code: 'series_too_short' }, { status: 400, code: 'series_too_long' },
      ],
    }],
  },
  {
    name: 'health',
    endpoints: [{
      method: 'GET', path: '/health',
      summary: 'Is the function runtime up, and can it reach the database? Always 200 while the runtime answers.',
      caller: 'anyone (no JWT)', response: RESPONSES.health,
    }],
  },
  {
    name: 'me',
    endpoints: [{
      method: 'GET', path: '/me',
      summary: 'The caller\'s own profile (read as the caller, under RLS) and their Rally role.',
      caller: 'a signed-in user', response: RESPONSES.me,
    }],
  },
  {
    name: 'payments-worker',
    endpoints: [{
      method: 'POST', path: '/payments-worker',
      summary: 'Drains the payment command outbox (transfers, reversals, refunds, payouts, cancellations, balance transaction look-ups) against Stripe. Scheduled; safe to run concurrently.',
      caller: 'the service role key only',
      request: { kind: 'json', schema: paymentsWorkerBody, note: 'an empty body uses the defaults' },
      response: z.strictObject({
        claimed: z.number().int(), succeeded: z.number().int(), retried: z.number().int(), dead: z.number().int(),
        failures: z.array(z.strictObject({ id: uuid, kind: z.string(), code: z.string(), outcome: z.string() })),
      }),
    }],
  },
  {
    name: 'resend-webhook',
    endpoints: [{
      method: 'POST', path: '/resend-webhook',
      summary: 'Resend email events delivered by Svix (sent, delivered, bounced, complained, failed, …); stored once per svix-id and applied forward-only. A hard bounce or complaint suppresses email to that user.',
      caller: 'Resend (Svix signature with RESEND_WEBHOOK_SECRET)',
      headers: ['svix-id', 'svix-timestamp', 'svix-signature'],
      request: { kind: 'json', schema: resendEvent },
      response: RESPONSES.providerOutcome,
    }],
  },
  {
    name: 'storage-purge',
    endpoints: [{
      method: 'POST', path: '/storage-purge',
      summary: 'Deletes the files queued for purging (deleted accounts\' avatars and draft covers) through the Storage API, with retries and dead-lettering. Scheduled; safe to run concurrently.',
      caller: 'the service role key only',
      request: { kind: 'json', schema: storagePurgeBody, note: 'an empty body uses the defaults' },
      response: z.strictObject({
        batches: z.number().int(), claimed: z.number().int(), purged: z.number().int(), retried: z.number().int(), dead: z.number().int(),
        duration_ms: z.number().int(),
      }),
      extraErrors: [{ status: 503, code: 'not_configured', note: 'SUPABASE_URL or SUPABASE_SERVICE_ROLE_KEY missing' }],
    }],
  },
  {
    name: 'stripe-webhook',
    endpoints: [
      {
        method: 'POST', path: '/stripe-webhook',
        summary: 'Stripe platform events. Each verified event is stored once and applied in the same transaction; replays and out-of-order delivery change nothing.',
        caller: 'Stripe (Stripe-Signature with STRIPE_WEBHOOK_SECRET)',
        headers: ['Stripe-Signature'],
        request: { kind: 'raw', note: 'a Stripe Event object, verified on the raw body' },
        response: z.strictObject({ received: z.literal(true), result: z.enum(['processed', 'ignored', 'duplicate']) }),
        extraErrors: [{ status: 500, code: 'internal_error', note: 'the event could not be applied (rolled back; Stripe retries)' }],
      },
      {
        method: 'POST', path: '/stripe-webhook/connect',
        summary: 'Stripe Connect events (connected accounts, payouts), same handling with STRIPE_CONNECT_WEBHOOK_SECRET.',
        caller: 'Stripe (Stripe-Signature with STRIPE_CONNECT_WEBHOOK_SECRET)',
        headers: ['Stripe-Signature'],
        request: { kind: 'raw', note: 'a Stripe Event object, verified on the raw body' },
        response: z.strictObject({ received: z.literal(true), result: z.enum(['processed', 'ignored', 'duplicate']) }),
        extraErrors: [{ status: 500, code: 'internal_error', note: 'the event could not be applied (rolled back; Stripe retries)' }],
      },
    ],
  },
  {
    name: 'twilio-inbound',
    endpoints: [{
      method: 'POST', path: '/twilio-inbound',
      summary: 'Twilio\'s incoming-message webhook for Rally\'s SMS and WhatsApp senders: stored once per MessageSid; a WhatsApp message opens the number\'s 24-hour window for free-form WhatsApp; STOP on WhatsApp withdraws the opt-in.',
      caller: 'Twilio (X-Twilio-Signature with TWILIO_AUTH_TOKEN over TWILIO_INBOUND_WEBHOOK_URL)',
      headers: ['X-Twilio-Signature'],
      request: { kind: 'form', schema: twilioInboundForm, note: 'application/x-www-form-urlencoded, as Twilio posts an incoming message' },
      response: z.string().describe('empty TwiML, text/xml `<Response></Response>` (Rally does not reply); header X-Rally-Outcome: recorded | duplicate | opted_out'),
    }],
  },
  {
    name: 'twilio-status',
    endpoints: [{
      method: 'POST', path: '/twilio-status',
      summary: 'Twilio SMS / WhatsApp status callbacks; stored once per MessageSid:MessageStatus and applied forward-only to the delivery named by ?delivery_id or found by MessageSid.',
      caller: 'Twilio (X-Twilio-Signature with TWILIO_AUTH_TOKEN)',
      headers: ['X-Twilio-Signature'],
      request: { kind: 'form', schema: twilioForm, note: 'application/x-www-form-urlencoded; optional query ?delivery_id=<uuid>' },
      response: RESPONSES.providerOutcome,
    }],
  },
];

/** What functions/_shared/pg-errors.ts makes of database failures any query can hit. */
const DATABASE_ERRORS: readonly HttpErrorSpec[] = [
  { status: 409, code: 'already_exists', note: 'SQL 23505' },
  { status: 409, code: 'concurrent_update', note: 'serialization failure, deadlock or lock timeout; retry' },
  { status: 409, code: 'reference_conflict', note: 'SQL 23503' },
  { status: 503, code: 'database_timeout' },
  { status: 503, code: 'database_unavailable' },
];

/** Errors a handler gets by calling a shared helper (see functions/_shared and functions/README.md). */
export const HELPER_ERRORS: Readonly<Record<string, readonly HttpErrorSpec[]>> = {
  routeByMethod: [{ status: 405, code: 'method_not_allowed' }],
  requireUser: [{ status: 401, code: 'missing_authorization' }, { status: 401, code: 'invalid_jwt' }],
  verifyBearer: [{ status: 401, code: 'missing_authorization' }, { status: 401, code: 'invalid_jwt' }],
  readJson: [{ status: 400, code: 'invalid_json' }, { status: 400, code: 'validation_failed' },
             { status: 413, code: 'payload_too_large', note: 'body over the cap (4 KiB), read no further' }],
  readBodyText: [{ status: 413, code: 'payload_too_large', note: 'body over the function\'s cap, read no further' }],
  requireAccount: [{ status: 403, code: 'account_not_found' }, { status: 403, code: 'account_deleted' },
                   { status: 403, code: 'account_suspended' }],
  readQuery: [{ status: 400, code: 'validation_failed' }],
  validationError: [{ status: 400, code: 'validation_failed' }],
  NotConfiguredError: [{ status: 503, code: 'not_configured' }],
  notConfigured: [{ status: 503, code: 'not_configured' }],
  stripeSettings: [{ status: 503, code: 'not_configured' }],
  getStripe: [{ status: 503, code: 'not_configured' }],
  webhookSecret: [{ status: 503, code: 'not_configured' }],
  alertsConfig: [{ status: 503, code: 'not_configured' }],
  twilioWebhookSettings: [{ status: 503, code: 'not_configured' }],
  verifiedTwilioForm: [{ status: 400, code: 'invalid_form' }, { status: 403, code: 'invalid_signature' },
                       { status: 413, code: 'payload_too_large', note: 'body over the function\'s cap, read no further' }],
  requireOurAccount: [{ status: 403, code: 'wrong_account' }],
  withUserContext: [
    { status: 400, code: '<hint>', note: 'SQL 22023 (bad input), code = the SQL hint' },
    { status: 403, code: '<hint>', note: 'SQL 42501 (forbidden), code = the SQL hint (`forbidden` without one)' },
    { status: 422, code: '<hint>', note: 'SQL P0001 (business rule), code = the SQL hint' },
    { status: 429, code: 'rate_limited', note: 'SQL P0001 rate_limited: a rate limit (docs/abuse-limits.md); Retry-After' },
    ...DATABASE_ERRORS,
  ],
  withServiceRole: DATABASE_ERRORS,
};

const CONSTRUCTORS: Readonly<Record<string, number>> = {
  badRequest: 400, unauthorized: 401, forbidden: 403, notFound: 404, conflict: 409, unprocessable: 422,
};

/**
 * The part of a handler's source one method runs: its `METHOD: async (req) => { … }` entry in
 * routeByMethod plus every top-level declaration it reaches by name (transitively). Without a
 * recognisable entry, the whole file.
 */
export function methodSource(source: string, method: string): string {
  const routes = source.indexOf('routeByMethod({');
  if (routes === -1) return source;
  const entries = [...source.slice(routes).matchAll(/^ {2}(GET|POST|PUT|PATCH|DELETE): /gm)];
  const at = entries.findIndex((entry) => entry[1] === method);
  const entry = entries[at];
  if (entry === undefined) return source;
  const start = routes + entry.index;
  const next = entries[at + 1];
  const block = source.slice(start, next === undefined ? source.length : routes + next.index);
  const declarations = topLevelDeclarations(source.slice(0, routes));
  const reached = new Set<string>();
  const pending = [block];
  while (pending.length > 0) {
    const text = pending.pop() as string;
    for (const [name, body] of declarations) {
      if (!reached.has(name) && new RegExp(`\\b${name}\\b`).test(text)) {
        reached.add(name);
        pending.push(body);
      }
    }
  }
  return [block, ...[...declarations].filter(([name]) => reached.has(name)).map(([, body]) => body)].join('\n');
}

/** Top-level `function x` / `const x` declarations of a module, each up to the next one. */
function topLevelDeclarations(source: string): Map<string, string> {
  const starts = [...source.matchAll(/^(?:export )?(?:async )?(?:function\s+([A-Za-z_$][\w$]*)|const\s+([A-Za-z_$][\w$]*))/gm)];
  const declarations = new Map<string, string>();
  starts.forEach((start, i) => {
    const name = start[1] ?? start[2] ?? '';
    const end = starts[i + 1]?.index ?? source.length;
    declarations.set(name, source.slice(start.index, end));
  });
  return declarations;
}

/** The errors visible in (part of) a handler's source (see the file comment). */
export function scanHandlerErrors(source: string, fullSource: string = source): HttpErrorSpec[] {
  const errors: HttpErrorSpec[] = [];
  for (const match of source.matchAll(/\b(badRequest|unauthorized|forbidden|notFound|conflict|unprocessable)\(\s*"([a-z_][a-z0-9_]*)"/g)) {
    errors.push({ status: CONSTRUCTORS[match[1] ?? ''] ?? 500, code: match[2] ?? '' });
  }
  for (const match of source.matchAll(/new HttpError\(\s*(\d{3})\s*,\s*"([a-z_][a-z0-9_]*)"/g)) {
    errors.push({ status: Number(match[1]), code: match[2] ?? '' });
  }
  // remapDbError(err, MAP) with `const MAP = { code: status, … }` in the same file.
  for (const use of source.matchAll(/remapDbError\(\s*\w+\s*,\s*([A-Z_][A-Z0-9_]*)\s*\)/g)) {
    const table = new RegExp(`const ${use[1] ?? ''}\\s*=\\s*\\{([^}]*)\\}`).exec(fullSource);
    for (const entry of (table?.[1] ?? '').matchAll(/([a-z_][a-z0-9_]*)\s*:\s*(\d{3})/g)) {
      errors.push({ status: Number(entry[2]), code: entry[1] ?? '' });
    }
  }
  for (const [helper, helperErrors] of Object.entries(HELPER_ERRORS)) {
    if (new RegExp(`\\b${helper}\\(`).test(source)) errors.push(...helperErrors);
  }
  // Every handler is built with routeByMethod, which answers other methods with 405.
  if (/\broutebymethod\(/i.test(fullSource)) errors.push(...(HELPER_ERRORS.routeByMethod ?? []));
  return sortHttpErrors(errors);
}

export function sortHttpErrors(errors: Iterable<HttpErrorSpec>): HttpErrorSpec[] {
  const unique = new Map<string, HttpErrorSpec>();
  for (const error of errors) {
    const key = `${error.status} ${error.code} ${error.note ?? ''}`;
    if (!unique.has(key)) unique.set(key, error);
  }
  return [...unique.values()].sort((a, b) => a.status - b.status || compareText(a.code, b.code) || compareText(a.note ?? '', b.note ?? ''));
}

export interface FunctionConfig {
  name: string;
  verifyJwt: boolean;
}

/** `[functions.<name>]` of supabase/config.toml, sorted by name. */
export function functionsInConfig(configText: string): FunctionConfig[] {
  const config = parse(configText) as { functions?: Record<string, { verify_jwt?: boolean; enabled?: boolean }> };
  return Object.entries(config.functions ?? {})
    .filter(([, fn]) => fn.enabled !== false)
    .map(([name, fn]) => ({ name, verifyJwt: fn.verify_jwt !== false }))
    .sort((a, b) => compareText(a.name, b.name));
}

export function readConfigToml(): string {
  return readFileSync(join(REPO_ROOT, 'supabase', 'config.toml'), 'utf8');
}

export function handlerSource(name: string): string {
  return readFileSync(join(REPO_ROOT, 'functions', name, 'handler.ts'), 'utf8');
}

type HandlerModule = { handler: (req: Request) => Promise<Response> };

/** The methods a handler serves, from the `Allow` header of its 405 (routeByMethod). */
export async function servedMethods(name: string): Promise<string[]> {
  const module = (await import(pathToFileURL(join(REPO_ROOT, 'functions', name, 'handler.ts')).href)) as HandlerModule;
  for (const probe of ['PATCH', 'PUT'] as const) {
    const response = await module.handler(new Request(`http://127.0.0.1/${name}`, { method: probe }));
    if (response.status !== 405) continue;
    await response.body?.cancel();
    const allow = response.headers.get('Allow') ?? '';
    return allow.split(',').map((m) => m.trim()).filter((m) => m !== '' && m !== 'OPTIONS').sort();
  }
  throw new Error(`functions/${name}: could not read its methods (no 405 for PATCH or PUT)`);
}
