/**
 * Rally's capabilities, as the API reference groups what apps may call: each with the document
 * that explains it, the migrations that build it, and its edge functions. A public function,
 * table or view belongs to the capability of the migration that defines it
 * (scripts/lib/migration-definitions.ts); the generator reports anything that belongs to none.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../config.ts';
import { definitionsIn } from '../migration-definitions.ts';

export interface Capability {
  title: string;
  /** the capability's document, relative to docs/ */
  doc: string;
  /** migration file names without `.sql` */
  migrations: readonly string[];
  /** edge function names */
  functions: readonly string[];
}

export const CAPABILITIES: readonly Capability[] = [
  {
    title: 'Identity',
    doc: 'identity.md',
    migrations: ['20261125100100_identity_profiles', '20261125100200_access_token_hook', '20261125100300_notifications',
      '20261125100400_storage_buckets'],
    functions: ['me'],
  },
  {
    title: 'Events, tickets and bookings',
    doc: 'events-and-bookings.md',
    migrations: ['20261125110000_currencies', '20261125110200_events', '20261125110300_ticket_types_and_inventory',
      '20261125110400_bookings_and_waitlist', '20261125110500_event_lifecycle', '20261125110700_reviews', '20261125110800_event_discovery'],
    functions: [],
  },
  {
    title: 'Ticketing',
    doc: 'ticketing.md',
    migrations: ['20261125110410_event_invitations', '20261125110420_promo_codes', '20261125110430_attendees_and_transfers',
      '20261125110600_event_series', '20261125110900_calendar', '20261125120310_payout_schedules'],
    functions: ['calendar', 'event-series'],
  },
  {
    title: 'Social graph and alerts',
    doc: 'social-and-alerts.md',
    migrations: ['20261125100310_notification_preferences', '20261125100320_push_devices', '20261125110100_follows_and_blocks',
      '20261125140000_social_graph_rpcs', '20261125140100_whatsapp_templates_and_inbound', '20261125140200_alert_outbox',
      '20261125140300_event_reminders', '20261125140350_event_announcements', '20261125140400_event_promotion'],
    functions: ['contact-points', 'dispatch-alerts', 'resend-webhook', 'twilio-inbound', 'twilio-status'],
  },
  {
    title: 'Payments',
    doc: 'payments.md',
    migrations: ['20261125120000_payment_settings_and_connect_accounts', '20261125120100_ledger', '20261125120200_payments_and_commands',
      '20261125120300_wallet_transfers_and_payouts', '20261125120400_refunds', '20261125120500_disputes', '20261125120600_stripe_events',
      '20261125120700_payment_reconciliation', '20261125120800_payment_schedules'],
    functions: ['checkout', 'connect-onboarding', 'payments-worker', 'stripe-webhook'],
  },
  {
    title: 'Chat',
    doc: 'chat.md',
    migrations: ['20261125130000_conversations', '20261125130100_messages', '20261125130200_conversation_management',
      '20261125130300_chat_reads', '20261125130400_realtime_authorization', '20261125130500_chat_media_storage',
      '20261125130600_chat_notifications', '20261125130700_moderation'],
    functions: [],
  },
  {
    title: 'Operations',
    doc: 'operations.md',
    migrations: ['20261125170000_audit_log', '20261125170100_admin_dashboards', '20261125170200_admin_rpcs', '20261125170300_user_suspension',
      '20261125170400_admin_app_dashboards'],
    functions: [],
  },
  {
    title: 'Account deletion',
    doc: 'account-deletion.md',
    migrations: ['20261125170500_account_deletion', '20261125170800_storage_purge'],
    functions: ['storage-purge'],
  },
  {
    title: 'Foundations',
    doc: 'conventions.md',
    migrations: ['20261125090000_extensions', '20261125100000_private_and_admin_schemas', '20261125100050_scheduled_jobs'],
    functions: ['health'],
  },
];

export interface CapabilityIndex {
  /** `public.name` of a function, table or view → its capability's title */
  byObject: Map<string, string>;
  /** edge function name → its capability's title */
  byFunction: Map<string, string>;
  /** what belongs to no capability, one sentence each */
  problems: string[];
}

/** Files every public function, table and view the migrations define under its capability. */
export function capabilityIndex(migrations: ReadonlyArray<{ file: string; sql: string }>, capabilities = CAPABILITIES): CapabilityIndex {
  const ofMigration = new Map(capabilities.flatMap((c) => c.migrations.map((m) => [m, c.title] as const)));
  const byObject = new Map<string, string>();
  const problems: string[] = [];
  for (const { file, sql } of migrations) {
    const stem = file.replace(/\.sql$/, '');
    const publicObjects = definitionsIn(file, sql)
      .filter((d) => (d.kind === 'function' || d.kind === 'relation') && d.key.startsWith('public.'));
    const title = ofMigration.get(stem);
    if (title === undefined) {
      if (publicObjects.length > 0) problems.push(`capabilities: supabase/migrations/${file} defines ${publicObjects[0]?.key} but belongs to no capability in scripts/lib/api-reference/capabilities.ts`);
      continue;
    }
    for (const d of publicObjects) byObject.set(d.key, title);
  }
  const byFunction = new Map(capabilities.flatMap((c) => c.functions.map((f) => [f, c.title] as const)));
  return { byObject, byFunction, problems };
}

/** The migrations as the repository holds them. */
export function readMigrations(): Array<{ file: string; sql: string }> {
  const dir = join(REPO_ROOT, 'supabase', 'migrations');
  return readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((file) => ({ file, sql: readFileSync(join(dir, file), 'utf8') }));
}
