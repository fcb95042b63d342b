-- Payments, step 1: the platform's payment settings and hosts' Stripe Connect accounts.
--
-- Rally uses Stripe Connect with separate charges and transfers (ARCHITECTURE §5,
-- ../shared/research/stripe-connect.md §1.5): guests pay the platform, the platform holds the
-- host's share until the event is over, then transfers it to the host's connected account, from
-- which the host withdraws with request_payout. Hosts get an Express-dashboard account created by
-- the platform (fees and losses on the platform, transfers capability only, manual payout
-- schedule so Rally decides when money leaves), onboarded through Stripe-hosted account links.
--
-- Why it is built this way:
-- - The account row mirrors what Stripe last told us. Webhooks (account.updated,
--   capability.updated) and explicit re-fetches are applied only when they are not older than the
--   snapshot already applied, so out-of-order delivery cannot turn a host's payouts back off.
-- - `public.profiles.payouts_enabled` (which gates publishing paid events) is derived here and
--   nowhere else: details submitted, payouts enabled and the transfers capability active.
-- - Settings live in one row of `private.payment_settings`, edited by operators (SQL or Studio);
--   every money computation reads it in its own transaction, so a change applies to the next
--   payment, release or command, never half-way through one.

create table private.payment_settings (
  id boolean primary key default true,
  platform_fee_bps integer not null default 1000,
  release_hold_hours integer not null default 48,
  dispute_fee_payer text not null default 'host',
  command_max_attempts integer not null default 8,
  command_backoff_base_seconds integer not null default 30,
  command_backoff_max_seconds integer not null default 3600,
  reconciliation_grace_minutes integer not null default 60,
  settlement_currency text not null default 'EUR' references public.currencies (code),
  updated_at timestamptz not null default now(),
  constraint payment_settings_singleton check (id),
  constraint payment_settings_fee check (platform_fee_bps between 0 and 5000),
  constraint payment_settings_hold check (release_hold_hours between 0 and 2160),
  constraint payment_settings_dispute_fee_payer check (dispute_fee_payer in ('host', 'platform')),
  constraint payment_settings_attempts check (command_max_attempts between 1 and 50),
  constraint payment_settings_backoff check (command_backoff_base_seconds between 1 and 86400
                                             and command_backoff_max_seconds between command_backoff_base_seconds and 604800),
  constraint payment_settings_grace check (reconciliation_grace_minutes between 0 and 10080)
);
comment on table private.payment_settings is
  'One row of payment settings, edited by operators: platform_fee_bps (1000 = 10 % of each payment), release_hold_hours (how long after an event ends earnings stay pending), dispute_fee_payer (host | platform), the payment command retry policy, the reconciliation grace period, and the currency Stripe settles the platform''s balance in.';
comment on column private.payment_settings.platform_fee_bps is 'Platform fee in basis points of the amount paid (1000 = 10 %), rounded half up to the minor unit; the host''s share is the rest.';
comment on column private.payment_settings.release_hold_hours is 'Earnings move from pending to available this many hours after the event ends (unless the payment is disputed).';
comment on column private.payment_settings.dispute_fee_payer is 'Who bears Stripe''s dispute fee: host (taken from the host''s balance with the disputed amount) or platform.';
comment on column private.payment_settings.settlement_currency is
  'The currency of the platform''s Stripe balance (its default settlement currency). A payment in it is booked as soon as Stripe reports it paid; a payment in another currency is booked in the currency and amount of its charge''s balance transaction, once Rally has read it (Stripe converts at the rate of the day).';
insert into private.payment_settings default values;

create table private.stripe_accounts (
  host_id uuid primary key references public.profiles (id),
  account_id text not null,
  livemode boolean not null default false,
  details_submitted boolean not null default false,
  charges_enabled boolean not null default false,
  payouts_enabled boolean not null default false,
  transfers_capability text not null default 'inactive',
  requirements_due text[] not null default '{}',
  disabled_reason text,
  country text,
  default_currency text,
  account_synced_at timestamptz,
  transfers_synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint stripe_accounts_account_id check (account_id ~ '^acct_[A-Za-z0-9]+$'),
  constraint stripe_accounts_transfers check (transfers_capability in ('active', 'inactive', 'pending', 'unrequested', 'disabled'))
);
comment on table private.stripe_accounts is
  'Each host''s Stripe Connect account (Express dashboard, transfers capability, manual payouts), as Stripe last reported it. Written by connect-onboarding and the account.updated / capability.updated webhooks.';
comment on column private.stripe_accounts.account_synced_at is 'Stripe time of the account snapshot applied last; older snapshots are ignored.';
comment on column private.stripe_accounts.transfers_synced_at is 'Stripe time of the transfers capability status applied last.';
create unique index stripe_accounts_account_id_key on private.stripe_accounts (account_id);

-- Whether a connected account can receive Rally's transfers and pay them out.
create or replace function private.stripe_account_ready(p_account private.stripe_accounts) returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(p_account.details_submitted and p_account.payouts_enabled and p_account.transfers_capability = 'active', false)
$$;
comment on function private.stripe_account_ready(private.stripe_accounts) is
  'True when the account has submitted its details, can pay out, and has the transfers capability active.';

-- Keeps public.profiles.payouts_enabled equal to the account's readiness and tells the host.
create or replace function private.sync_host_payouts_enabled(p_host_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_account private.stripe_accounts;
  v_ready boolean;
  v_changed integer;
begin
  select * into v_account from private.stripe_accounts where host_id = p_host_id;
  v_ready := v_account.host_id is not null and private.stripe_account_ready(v_account);
  update public.profiles set payouts_enabled = v_ready, updated_at = now()
   where id = p_host_id and payouts_enabled is distinct from v_ready;
  get diagnostics v_changed = row_count;
  if v_changed > 0 then
    if v_ready then
      perform private.notify(p_host_id, 'payouts_enabled', 'Payouts are set up',
                             'You can now sell paid tickets and withdraw your earnings.', '{}'::jsonb);
    else
      perform private.notify(p_host_id, 'payouts_disabled', 'Stripe needs more information',
                             'Payouts are paused until you finish the steps Stripe asks for.',
                             jsonb_build_object('disabled_reason', v_account.disabled_reason));
    end if;
  end if;
  return v_ready;
end
$$;
comment on function private.sync_host_payouts_enabled(uuid) is
  'Sets public.profiles.payouts_enabled from the host''s Stripe account and notifies the host when it changes.';

-- Applies a Stripe Account object (webhook account.updated or a fetch) observed at p_as_of.
-- Returns 'applied', 'stale' (older than what we have) or 'unknown_account'.
create or replace function private.apply_stripe_account(p_account jsonb, p_as_of timestamptz) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row private.stripe_accounts;
  v_host uuid;
  v_due text[];
begin
  if p_account ->> 'object' is distinct from 'account' or p_account ->> 'id' is null then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe account object.');
  end if;
  select * into v_row from private.stripe_accounts where account_id = p_account ->> 'id' for update;
  if v_row.host_id is null then
    -- An account we did not record yet (the onboarding call died after Stripe created it):
    -- link it only through the host id Rally put in its metadata.
    v_host := case when p_account -> 'metadata' ->> 'host_id' ~ '^[0-9a-f-]{36}$'
                   then (p_account -> 'metadata' ->> 'host_id')::uuid end;
    if v_host is null or not exists (select 1 from public.profiles where id = v_host)
       or exists (select 1 from private.stripe_accounts where host_id = v_host) then
      return 'unknown_account';
    end if;
    insert into private.stripe_accounts (host_id, account_id) values (v_host, p_account ->> 'id') on conflict do nothing;
    select * into v_row from private.stripe_accounts where account_id = p_account ->> 'id' for update;
    if v_row.host_id is null then
      return 'unknown_account';
    end if;
  end if;
  -- Stripe stamps events in whole seconds and delivers them in any order: an older snapshot is
  -- ignored, and one from the same second may not undo progress (it is the earlier of the two).
  if v_row.account_synced_at is not null and (p_as_of < v_row.account_synced_at or (p_as_of = v_row.account_synced_at and (
       (v_row.details_submitted and coalesce((p_account ->> 'details_submitted')::boolean, false) is false)
       or (v_row.payouts_enabled and coalesce((p_account ->> 'payouts_enabled')::boolean, false) is false)))) then
    return 'stale';
  end if;
  select coalesce(array_agg(r order by r), '{}') into v_due
    from jsonb_array_elements_text(coalesce(p_account -> 'requirements' -> 'currently_due', '[]'::jsonb)
                                   || coalesce(p_account -> 'requirements' -> 'past_due', '[]'::jsonb)) as r;
  update private.stripe_accounts
     set livemode = coalesce((p_account ->> 'livemode')::boolean, livemode),
         details_submitted = coalesce((p_account ->> 'details_submitted')::boolean, false),
         charges_enabled = coalesce((p_account ->> 'charges_enabled')::boolean, false),
         payouts_enabled = coalesce((p_account ->> 'payouts_enabled')::boolean, false),
         transfers_capability = case
           when transfers_synced_at is not null and (p_as_of < transfers_synced_at
                or (p_as_of = transfers_synced_at and transfers_capability = 'active')) then transfers_capability
           else coalesce(p_account -> 'capabilities' ->> 'transfers', 'unrequested') end,
         transfers_synced_at = case
           when transfers_synced_at is not null and p_as_of < transfers_synced_at then transfers_synced_at
           else p_as_of end,
         requirements_due = (select coalesce(array_agg(distinct d order by d), '{}') from unnest(v_due) as d),
         disabled_reason = p_account -> 'requirements' ->> 'disabled_reason',
         country = coalesce(p_account ->> 'country', country),
         default_currency = coalesce(upper(p_account ->> 'default_currency'), default_currency),
         account_synced_at = p_as_of,
         updated_at = now()
   where host_id = v_row.host_id;
  perform private.sync_host_payouts_enabled(v_row.host_id);
  return 'applied';
end
$$;
comment on function private.apply_stripe_account(jsonb, timestamptz) is
  'Applies a Stripe Account snapshot observed at p_as_of (event created time or fetch time) unless a newer one was applied; updates payouts_enabled.';

-- Applies a Stripe Capability object (webhook capability.updated). Only `transfers` matters.
create or replace function private.apply_stripe_capability(p_capability jsonb, p_as_of timestamptz) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row private.stripe_accounts;
begin
  if p_capability ->> 'object' is distinct from 'capability' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe capability object.');
  end if;
  if p_capability ->> 'id' <> 'transfers' then
    return 'ignored';
  end if;
  select * into v_row from private.stripe_accounts where account_id = p_capability ->> 'account' for update;
  if v_row.host_id is null then
    return 'unknown_account';
  end if;
  if v_row.transfers_synced_at is not null and (p_as_of < v_row.transfers_synced_at
     or (p_as_of = v_row.transfers_synced_at and v_row.transfers_capability = 'active' and p_capability ->> 'status' <> 'active')) then
    return 'stale';
  end if;
  update private.stripe_accounts
     set transfers_capability = coalesce(p_capability ->> 'status', 'inactive'), transfers_synced_at = p_as_of, updated_at = now()
   where host_id = v_row.host_id;
  perform private.sync_host_payouts_enabled(v_row.host_id);
  return 'applied';
end
$$;
comment on function private.apply_stripe_capability(jsonb, timestamptz) is
  'Applies a Stripe Capability snapshot (only transfers matters) unless a newer one was applied; updates payouts_enabled.';

-- What connect-onboarding needs about the caller (run as the caller): host or not, their
-- email for Stripe, and their account as Stripe last reported it.
create or replace function private.my_connect_account()
returns table (host_id uuid, email text, account_id text, details_submitted boolean, charges_enabled boolean,
               payouts_enabled boolean, transfers_capability text, requirements_due text[], disabled_reason text,
               country text, default_currency text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  if not exists (select 1 from public.profiles p where p.id = v_uid and p.is_host and p.host_status = 'active') then
    perform private.raise_error('42501', 'not_a_host', 'Only hosts set up payouts. Become a host first.');
  end if;
  return query
    select v_uid, u.email::text, a.account_id, coalesce(a.details_submitted, false), coalesce(a.charges_enabled, false),
           coalesce(p.payouts_enabled, false), coalesce(a.transfers_capability, 'unrequested'), coalesce(a.requirements_due, '{}'),
           a.disabled_reason, a.country, a.default_currency
      from public.profiles p
      join auth.users u on u.id = p.id
      left join private.stripe_accounts a on a.host_id = p.id
     where p.id = v_uid;
end
$$;
comment on function private.my_connect_account() is
  'The calling host''s email and Stripe Connect account status (connect-onboarding). Errors: 42501 not_authenticated / not_a_host.';

-- Records the account connect-onboarding created for a host (service role). The first account
-- recorded for a host stays theirs; returns the account id that is on record.
create or replace function private.save_connect_account(p_host_id uuid, p_account jsonb) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_account_id text;
begin
  if p_account ->> 'object' is distinct from 'account' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe account object.');
  end if;
  -- No conflict target: Stripe's account.updated webhook may insert this very row at the same
  -- moment, and a conflict on the account id (not only the host id) must also mean "already there".
  insert into private.stripe_accounts (host_id, account_id, livemode)
  values (p_host_id, p_account ->> 'id', coalesce((p_account ->> 'livemode')::boolean, false))
  on conflict do nothing;
  select account_id into v_account_id from private.stripe_accounts where host_id = p_host_id;
  if v_account_id = p_account ->> 'id' then
    -- Fetched now; Stripe stamps events in whole seconds, so an event from this same second still applies.
    perform private.apply_stripe_account(p_account, date_trunc('second', now()));
  end if;
  return v_account_id;
end
$$;
comment on function private.save_connect_account(uuid, jsonb) is
  'Service role (connect-onboarding): records the Stripe account created for a host and applies its status. Returns the account id on record.';

grant execute on function private.my_connect_account() to authenticated;
grant execute on function private.save_connect_account(uuid, jsonb), private.apply_stripe_account(jsonb, timestamptz) to service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.apply_stripe_account(jsonb,timestamp with time zone),
  private.apply_stripe_capability(jsonb,timestamp with time zone),
  private.my_connect_account(),
  private.save_connect_account(uuid,jsonb),
  private.stripe_account_ready(private.stripe_accounts),
  private.sync_host_payouts_enabled(uuid)
  from public;
