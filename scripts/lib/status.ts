/**
 * The status block `npm start` prints, laid out like `supabase status`, plus what runs as a
 * stand-in here, so nobody mistakes the Docker-less stack for the full platform.
 */
import type { DevDb } from './dev-db.ts';
import type { ApiKeys } from './keys.ts';

export interface StatusInput {
  apiUrl: string;
  db: DevDb;
  keys: ApiKeys;
  /** One line per service mounted on the API URL (prefix, what serves it). */
  services: readonly string[];
  scheduledJobs: number;
  /** The Stripe stand-in's URL, or null when a real STRIPE_SECRET_KEY is configured. */
  stripeStandinUrl?: string | null;
}

export function formatStatus(input: StatusInput): string {
  const rows: [string, string][] = [
    ['API URL', input.apiUrl],
    ['REST URL', `${input.apiUrl}/rest/v1`],
    ['Auth URL', `${input.apiUrl}/auth/v1`],
    ['Realtime URL', `${input.apiUrl.replace(/^http/, 'ws')}/realtime/v1`],
    ['Storage URL', `${input.apiUrl}/storage/v1`],
    ['Functions URL', `${input.apiUrl}/functions/v1`],
    ['DB URL', input.db.appUrl],
    ['Admin DB URL', input.db.adminUrl],
    ['JWT secret', input.keys.jwtSecret],
    ['anon key', input.keys.anonKey],
    ['service_role key', input.keys.serviceRoleKey],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const mounted = new Set(input.services.map((line) => line.split(' ')[0]));
  const missing = ['/auth/v1', '/rest/v1', '/realtime/v1', '/storage/v1', '/functions/v1']
    .filter((prefix) => !mounted.has(prefix))
    .map((prefix) => `  ${prefix.padEnd(14)} not served locally (404)`);
  const lines = [
    '',
    'Rally local stack is running (Docker-less; Ctrl-C stops it).',
    '',
    ...rows.map(([label, value]) => `${label.padStart(width)}: ${value}`),
    '',
    `Served at ${input.apiUrl} (stand-ins are NOT the Supabase services; docs/local-stack.md says what each covers and refuses):`,
    ...input.services.map((line) => `  ${line}`),
    ...missing,
    '',
    'Also running:',
    `  Schedules:            pg_cron (${input.scheduledJobs} active jobs); pg_net is a STAND-IN (SQL + scripts/lib/net-worker.ts, run by this process)`,
    input.stripeStandinUrl === undefined
      ? '  Stripe:               not started'
      : input.stripeStandinUrl === null
        ? '  Stripe:               the real Stripe API (STRIPE_SECRET_KEY is set)'
        : `  Stripe:               Stripe STAND-IN at ${input.stripeStandinUrl} (tools/stripe-standin; not Stripe), webhooks to stripe-webhook`,
    '  Email/SMS/WhatsApp:   sink provider (alerts recorded in private.alert_sink) unless RESEND_API_KEY / TWILIO_* are set',
    '',
  ];
  return `${lines.join('\n')}\n`;
}
