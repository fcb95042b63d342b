-- Payments, step 4b: scheduled payouts.
--
-- A host chooses how their available balance reaches their bank, with Stripe's own words for it
-- (settings.payouts.schedule): `manual` (the default: they withdraw with request_payout),
-- `weekly` on a weekday (weekly_anchor), or `monthly` on a day of the month (monthly_anchor
-- 1–31; in shorter months a 29th–31st anchor pays on the month's last day, as Stripe does).
-- A scheduled payout is requested at the start of the anchor day in the host's own time zone
-- (profiles.timezone), by a job running every 15 minutes: for each currency it pays out the
-- whole available balance through private.start_payout — the same path, row lock and refusals
-- as request_payout, so a scheduled payout racing a manual one never overdraws the balance.
-- Each schedule row is claimed with FOR UPDATE SKIP LOCKED and moved to its next run in the
-- same transaction, so two runs of the job never pay a host twice for one period. A host whose
-- payouts cannot start (onboarding unfinished, hosting suspended) keeps the money in the wallet;
-- the schedule records why (last_outcome) and tries again next period.
--
-- Why Rally schedules instead of Stripe: Rally uses separate charges and transfers with the
-- connected accounts on a manual payout schedule, so its ledger knows what is available (after
-- refunds, disputes and debts); a Stripe automatic schedule would pay out money the wallet does
-- not consider available. Stripe still asks that manually held funds be paid out within 90 days
-- in most countries — a weekly or monthly schedule does that without the host thinking of it.

create table public.payout_schedules (
  host_id uuid primary key references public.profiles (id) on delete cascade,
  "interval" text not null default 'manual',
  weekly_anchor text,
  monthly_anchor smallint,
  next_run_at timestamptz,
  last_run_at timestamptz,
  last_outcome text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint payout_schedules_interval check ("interval" in ('manual', 'weekly', 'monthly')),
  constraint payout_schedules_weekly_anchor check (
    ("interval" = 'weekly') = (weekly_anchor is not null)
    and (weekly_anchor is null or weekly_anchor in ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'))),
  constraint payout_schedules_monthly_anchor check (
    ("interval" = 'monthly') = (monthly_anchor is not null) and (monthly_anchor is null or monthly_anchor between 1 and 31)),
  constraint payout_schedules_next_run check (("interval" = 'manual') = (next_run_at is null))
);
revoke all on public.payout_schedules from public, anon, authenticated, service_role;
comment on table public.payout_schedules is
  'How each host''s available balance is paid out: manual (request_payout; the default when a host has no row), weekly on weekly_anchor, or monthly on monthly_anchor (29–31 mean the last day in shorter months), at the start of that day in the host''s time zone. next_run_at is the next scheduled request; last_outcome what the last run did (paid_out, nothing_available, or the refusal, e.g. payouts_not_enabled). The host reads their own row; set_payout_schedule changes it.';
comment on column public.payout_schedules."interval" is 'manual | weekly | monthly (Stripe''s settings.payouts.schedule.interval values).';
comment on column public.payout_schedules.weekly_anchor is 'monday … sunday when the interval is weekly, else null.';
comment on column public.payout_schedules.monthly_anchor is '1–31 when the interval is monthly, else null; 29–31 pay on the last day of shorter months.';
comment on column public.payout_schedules.last_outcome is 'paid_out, nothing_available, or the code that refused the payout (payouts_not_enabled, host_suspended, …).';
create index payout_schedules_due_idx on public.payout_schedules (next_run_at) where next_run_at is not null;

alter table public.payout_schedules enable row level security;
create policy "hosts read their own payout schedule" on public.payout_schedules
  for select to authenticated
  using (host_id = (select auth.uid()));
grant select on public.payout_schedules to authenticated;
grant select, insert, update, delete on public.payout_schedules to service_role;

-- The next scheduled run strictly after p_after: the start of the next anchor day in p_timezone.
create or replace function private.next_payout_at(
  p_interval text, p_weekly_anchor text, p_monthly_anchor integer, p_timezone text, p_after timestamptz
) returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
declare
  v_today date := (p_after at time zone p_timezone)::date;
  v_day date;
  v_month date;
begin
  if p_interval = 'weekly' then
    v_day := v_today + ((array_position(array['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
                                        p_weekly_anchor) - extract(isodow from v_today)::integer + 7) % 7);
    if (v_day::timestamp at time zone p_timezone) <= p_after then
      v_day := v_day + 7;
    end if;
  elsif p_interval = 'monthly' then
    v_month := date_trunc('month', v_today)::date;
    loop
      v_day := least(v_month + (p_monthly_anchor - 1), (v_month + interval '1 month')::date - 1);
      exit when (v_day::timestamp at time zone p_timezone) > p_after;
      v_month := (v_month + interval '1 month')::date;
    end loop;
  else
    return null;
  end if;
  return v_day::timestamp at time zone p_timezone;
end
$$;
comment on function private.next_payout_at(text, text, integer, text, timestamptz) is
  'When a payout schedule next runs after p_after: local midnight of the next anchor day (weekly: the weekday; monthly: the day, or the month''s last day when shorter) in the host''s time zone; null for manual.';

create or replace function private.set_payout_schedule(p_interval text, p_weekly_anchor text, p_monthly_anchor integer)
returns setof public.payout_schedules
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_profile public.profiles;
  v_interval text := lower(btrim(p_interval));
  v_weekly text := lower(btrim(p_weekly_anchor));
  v_monthly integer := p_monthly_anchor;
begin
  if v_interval is null or v_interval not in ('manual', 'weekly', 'monthly') then
    perform private.raise_error('22023', 'invalid_payout_interval', 'A payout schedule is manual, weekly or monthly.');
  end if;
  if v_interval = 'weekly' then
    v_weekly := coalesce(v_weekly, 'monday');
    if v_weekly not in ('monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday') then
      perform private.raise_error('22023', 'invalid_weekly_anchor', 'weekly_anchor is a day of the week, monday to sunday.');
    end if;
  elsif v_weekly is not null then
    perform private.raise_error('22023', 'invalid_weekly_anchor', 'weekly_anchor is only for a weekly schedule.');
  end if;
  if v_interval = 'monthly' then
    v_monthly := coalesce(v_monthly, 1);
    if v_monthly not between 1 and 31 then
      perform private.raise_error('22023', 'invalid_monthly_anchor', 'monthly_anchor is a day of the month, 1 to 31.');
    end if;
  elsif v_monthly is not null then
    perform private.raise_error('22023', 'invalid_monthly_anchor', 'monthly_anchor is only for a monthly schedule.');
  end if;
  select * into v_profile from public.profiles p where p.id = v_uid;
  if v_profile.is_host is not true then
    perform private.raise_error('42501', 'not_a_host', 'Only hosts have a wallet to pay out.');
  end if;
  if v_interval <> 'manual' and not exists (
       select 1 from private.stripe_accounts a where a.host_id = v_uid and private.stripe_account_ready(a)) then
    perform private.raise_error('P0001', 'payouts_not_enabled', 'Finish Stripe onboarding before scheduling payouts.');
  end if;
  perform private.consume_rate_limit('payout_schedule', v_uid::text);
  insert into public.payout_schedules as s (host_id, "interval", weekly_anchor, monthly_anchor, next_run_at)
  values (v_uid, v_interval, v_weekly, v_monthly,
          private.next_payout_at(v_interval, v_weekly, v_monthly, v_profile.timezone, now()))
  on conflict (host_id) do update
    set "interval" = excluded."interval", weekly_anchor = excluded.weekly_anchor, monthly_anchor = excluded.monthly_anchor,
        next_run_at = excluded.next_run_at, updated_at = now();
  return query select * from public.payout_schedules s where s.host_id = v_uid;
end
$$;

create or replace function public.set_payout_schedule(
  p_interval text, p_weekly_anchor text default null, p_monthly_anchor integer default null
) returns setof public.payout_schedules
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.set_payout_schedule(p_interval, p_weekly_anchor, p_monthly_anchor);
end
$$;
comment on function public.set_payout_schedule(text, text, integer) is
  'A host chooses how their available balance is paid out: p_interval manual (withdraw with request_payout), weekly (p_weekly_anchor monday … sunday, default monday) or monthly (p_monthly_anchor 1–31, default 1; 29–31 pay on the last day of shorter months). A scheduled payout pays the whole available balance of each currency at the start of the anchor day in the host''s time zone, through the same path as request_payout. Returns the schedule with next_run_at. Errors: 22023 invalid_payout_interval / invalid_weekly_anchor / invalid_monthly_anchor; 42501 not_authenticated / not_a_host; P0001 payouts_not_enabled, rate_limited (payout_schedule).';

-- Job (every 15 minutes): due schedules pay out each currency's available balance.
create or replace function private.run_scheduled_payouts(p_limit integer default 100) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_schedule public.payout_schedules;
  v_currency text;
  v_available bigint;
  v_refusal text;
  v_paid integer;
  v_started integer := 0;
begin
  for v_schedule in
    select * from public.payout_schedules s
     where s.next_run_at <= now()
     order by s.next_run_at, s.host_id
     limit p_limit
     for update skip locked
  loop
    v_refusal := null;
    v_paid := 0;
    for v_currency in
      select a.currency from private.ledger_accounts a
       where a.host_id = v_schedule.host_id and a.kind = 'host_available'
       order by a.currency
    loop
      begin
        -- Read under the same lock start_payout takes, so what is paid is what is available.
        v_available := -private.lock_host_balance(v_schedule.host_id, 'host_available', v_currency);
        if v_available > 0 then
          perform private.start_payout(v_schedule.host_id, v_available, v_currency);
          v_paid := v_paid + 1;
        end if;
      exception when sqlstate 'P0001' or sqlstate '42501' or sqlstate '22023' then
        -- A refusal (onboarding unfinished, hosting suspended): the money stays in the wallet.
        get stacked diagnostics v_refusal = pg_exception_hint;
        v_refusal := coalesce(nullif(v_refusal, ''), 'refused');
      end;
    end loop;
    update public.payout_schedules s
       set last_run_at = now(), updated_at = now(),
           last_outcome = case when v_paid > 0 then 'paid_out' else coalesce(v_refusal, 'nothing_available') end,
           next_run_at = private.next_payout_at(s."interval", s.weekly_anchor, s.monthly_anchor,
                                                (select p.timezone from public.profiles p where p.id = s.host_id), now())
     where s.host_id = v_schedule.host_id;
    v_started := v_started + v_paid;
  end loop;
  return v_started;
end
$$;
comment on function private.run_scheduled_payouts(integer) is
  'Job (every 15 minutes): for each payout schedule that is due, pays out the available balance of every currency through private.start_payout (the request_payout path), records the outcome and moves the schedule to its next anchor day. Returns how many payouts it started.';

select private.schedule_job('rally-scheduled-payouts', '*/15 * * * *', interval '15 minutes',
  'select private.run_scheduled_payouts()',
  'Pays out hosts'' available balances on their weekly or monthly payout schedule, through the request_payout path.');

grant execute on function private.set_payout_schedule(text, text, integer) to authenticated;
revoke execute on function public.set_payout_schedule(text, text, integer) from public, anon, authenticated, service_role;
grant execute on function public.set_payout_schedule(text, text, integer) to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.next_payout_at(text,text,integer,text,timestamptz),
  private.run_scheduled_payouts(integer),
  private.set_payout_schedule(text,text,integer)
  from public;
