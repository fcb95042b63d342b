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
  functionsRunning: boolean;
  scheduledJobs: number;
  /** The Stripe stand-in's URL, or null when a real STRIPE_SECRET_KEY is configured. */
  stripeStandinUrl?: string | null;
  /** The Storage API stand-in's URL, or null when RALLY_STORAGE_UPSTREAM points at a real Storage API. */
  storageStandinUrl?: string | null;
}

export function formatStatus(input: StatusInput): string {
  const functionsUrl = `${input.apiUrl}/functions/v1`;
  const rows: [string, string][] = [
    ['API URL', input.apiUrl],
    ['Functions URL', input.functionsRunning ? functionsUrl : `${functionsUrl} (not served: scripts/functions-gateway.ts missing)`],
    ['DB URL', input.db.appUrl],
    ['Admin DB URL', input.db.adminUrl],
    ['JWT secret', input.keys.jwtSecret],
    ['anon key', input.keys.anonKey],
    ['service_role key', input.keys.serviceRoleKey],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [
    '',
    'Rally local stack is running (Docker-less; Ctrl-C stops it).',
    '',
    ...rows.map(([label, value]) => `${label.padStart(width)}: ${value}`),
    '',
    'Stand-ins (what differs from `supabase start`):',
    '  Data API (PostgREST): none locally; use SQL as PostgREST does (set local role + request.jwt.claims)',
    '  Auth (GoTrue):        no HTTP API; users come from seed/SQL in auth.users, JWTs signed with the JWT secret',
    '  Realtime:             no websocket server; broadcasts are rows in realtime.messages',
    input.storageStandinUrl === undefined || input.storageStandinUrl === null
      ? `  Storage:              ${input.storageStandinUrl === null ? 'the Storage API at RALLY_STORAGE_UPSTREAM, through the gateway' : 'storage.buckets / storage.objects tables only, no file API'}`
      : `  Storage:              Storage API STAND-IN at ${input.storageStandinUrl} (tools/storage-standin; not Supabase Storage), behind ${input.apiUrl}/storage/v1: object delete and public download only`,
    `  Edge functions:       ${input.functionsRunning ? `Deno gateway at ${functionsUrl}/<name>` : 'not served'}`,
    `  Schedules:            pg_cron (${input.scheduledJobs} active jobs); pg_net is a STAND-IN (SQL + scripts/lib/net-worker.ts)`,
    '  Realtime partitions:  created and dropped hourly by this process, as the Realtime server does',
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
