-- Outbound alerts (email, SMS, WhatsApp, push): the transactional outbox, its fan-out, and the
-- SQL the dispatch-alerts worker and the provider status callbacks call (ARCHITECTURE §6).
--
-- Fan-out: a statement-level AFTER INSERT trigger on public.notifications turns every new
-- notification — whoever created it: private.notify from any capability, a bulk insert of a
-- promotion batch, the service role — into one private.alert_deliveries row per channel the
-- recipient allows (and, for push, per registered device), in the same transaction (all or
-- nothing with the state change that caused it). Allowed = the type's default or the user's
-- preference (critical types always email), and a contact point: an email address that has not
-- bounced (auth.users, checked when the delivery is claimed); a verified phone for SMS; a
-- verified phone plus an explicit opt-in for WhatsApp (nothing is ever sent to a number its
-- owner has not confirmed); a registered device for push. One set-based INSERT per statement,
-- so a 5,000-follower promotion batch costs one join, not 5,000 trigger calls.
--
-- WhatsApp (20261125140100_whatsapp_templates_and_inbound): the claim sends free-form text only
-- inside the 24-hour window the user's own last WhatsApp message opened; outside it, the type's
-- approved template (Content SID and variables); with no template, the alert falls back to a
-- new SMS delivery (fallback_of = the WhatsApp one) or is skipped, as the user chose, with the
-- reason on the WhatsApp delivery. A 63016 from Twilio (the window closed after all) falls back
-- the same way. Push (20261125100320_push_devices): one delivery per device; a push already read
-- in the app is dropped; the claim hands the device's token and platform and the unread count
-- (the badge) to the dispatcher, and a token FCM calls unregistered is deleted with the outcome.
--
-- Exactly once: deliveries are unique on (user_id, channel, dedupe_key). The key is the
-- notification id, or data->>'dedupe_key' when the notifying code gives one (reminders and
-- promotions do), so even a notification created twice for the same reason alerts once.
--
-- Dispatch: claim_alert_deliveries locks due rows with FOR UPDATE SKIP LOCKED (concurrent
-- dispatchers never get the same row), re-checks at send time what may have changed since the
-- fan-out (preferences, contact points, opt-in, quiet hours, whether the alert still makes
-- sense: a reminder for a cancelled booking is dropped), applies the per-recipient caps, and
-- hands each row out with a claim token and a lease.
--
-- Per-recipient caps (issue 13): at most alert_<channel>_per_hour and alert_<channel>_per_day
-- (private.rate_limits) non-critical alerts per person and channel are handed to a provider;
-- the rest are skipped with the reason 'recipient_cap: …', never silently lost. They are
-- sliding windows over what was claimed (claimed_at). Critical types (money and cancellations of
-- the recipient's own bookings, which no stranger can cause in bulk) are never capped but count
-- towards the caps. A claim takes a lock per recipient and channel it hands out (and skips the
-- rows of recipients another claim holds, as it skips locked rows), so two dispatchers claiming
-- at once cannot together pass a cap, and one stuck mid-claim delays only its own recipients,
-- never every alert. The worker sends outside any transaction, with the delivery id as the
-- provider idempotency key, then complete_alert_deliveries records the outcome (only for the
-- matching claim token): sent with the provider message id, a retry at the time the worker
-- computed (exponential backoff with jitter), or dead after max_attempts (dead letters). A
-- worker that dies mid-send loses its lease and the row is claimed again.
--
-- Status callbacks (Twilio status callbacks, Resend webhooks) are verified by the edge
-- functions and applied by apply_provider_status: stored once per provider event id (replays
-- change nothing), status only moves forward (queued → sent → delivered | failed), and a hard
-- bounce or spam complaint suppresses email for that user.

create table private.alert_deliveries (
  id uuid primary key default gen_random_uuid(),
  -- No foreign key (a per-row check on every fan-out): a delivery whose notification or user is
  -- gone is skipped at claim time, and finished rows are purged after 30 days.
  notification_id uuid not null,
  user_id uuid not null,
  type text not null,
  channel text not null,
  dedupe_key text not null,
  status text not null default 'pending',
  attempts integer not null default 0,
  max_attempts integer not null default 8,
  next_attempt_at timestamptz not null default now(),
  claim_token uuid,
  lease_expires_at timestamptz,
  claimed_at timestamptz,
  provider text,
  provider_message_id text,
  provider_status text,
  destination text,
  last_error text,
  sent_at timestamptz,
  delivered_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  device_id uuid,
  fallback_of uuid,
  constraint alert_deliveries_channel check (channel in ('email', 'sms', 'whatsapp', 'push')),
  constraint alert_deliveries_device check ((channel = 'push') = (device_id is not null)),
  constraint alert_deliveries_status check (status in ('pending', 'sending', 'sent', 'delivered', 'failed', 'dead', 'skipped')),
  constraint alert_deliveries_attempts check (attempts >= 0 and max_attempts between 1 and 50),
  constraint alert_deliveries_lease check (status <> 'sending' or (claim_token is not null and lease_expires_at is not null))
);
comment on table private.alert_deliveries is
  'Outbox of outbound alerts: one row per notification × allowed channel (unique per user, channel and dedupe key). pending → sending (claimed, leased) → sent → delivered | failed; dead after max_attempts or a permanent provider error; skipped when no longer allowed or relevant.';
comment on column private.alert_deliveries.dedupe_key is 'The notification id, or data->>''dedupe_key'' of the notification: one alert per user, channel (and device) and key, ever.';
comment on column private.alert_deliveries.device_id is 'Push only: the public.push_devices row it goes to (no foreign key: a device removed later is skipped at claim time).';
comment on column private.alert_deliveries.fallback_of is 'An SMS sent instead of a WhatsApp alert that could not go out (no approved template outside the 24-hour window, or Twilio error 63016): that WhatsApp delivery.';
comment on column private.alert_deliveries.claimed_at is 'When a dispatcher first took it to send: the per-recipient caps count these.';
comment on column private.alert_deliveries.next_attempt_at is 'Not before this instant: the end of quiet hours (SMS/WhatsApp) or the backoff of the next retry.';
create unique index alert_deliveries_dedupe_key on private.alert_deliveries (user_id, channel, dedupe_key, device_id) nulls not distinct;
create index alert_deliveries_due_idx on private.alert_deliveries (next_attempt_at) where status = 'pending';
create index alert_deliveries_lease_idx on private.alert_deliveries (lease_expires_at) where status = 'sending';
create index alert_deliveries_provider_message_idx on private.alert_deliveries (provider, provider_message_id)
  where provider_message_id is not null;
create index alert_deliveries_finished_idx on private.alert_deliveries (finished_at) where finished_at is not null;
create index alert_deliveries_recipient_claimed_idx on private.alert_deliveries (user_id, channel, claimed_at)
  where claimed_at is not null;

create table private.provider_events (
  provider text not null,
  event_id text not null,
  delivery_id uuid,
  message_id text,
  status text,
  raw_status text,
  error text,
  outcome text not null,
  payload jsonb not null default '{}'::jsonb,
  received_at timestamptz not null default now(),
  primary key (provider, event_id),
  constraint provider_events_provider check (provider in ('resend', 'twilio'))
);
comment on table private.provider_events is
  'Every provider status callback, stored once per (provider, event id): Twilio MessageSid:MessageStatus, Resend svix-id. Replays are recognised here and change nothing.';
create index provider_events_received_idx on private.provider_events (received_at);

create table private.alert_sink (
  id uuid primary key default gen_random_uuid(),
  delivery_id uuid not null unique,
  channel text not null,
  destination text not null,
  subject text,
  text_body text not null,
  html_body text,
  created_at timestamptz not null default now()
);
comment on table private.alert_sink is
  'The sink provider: alerts recorded locally instead of sent (the default when no Resend/Twilio keys are set). One row per delivery, like an idempotent provider.';
create index alert_sink_created_idx on private.alert_sink (created_at);

-- ---------------------------------------------------------------------------------------------
-- Rules shared by the fan-out and the claim
-- ---------------------------------------------------------------------------------------------

create or replace function private.try_uuid(p_text text) returns uuid
language sql
immutable
set search_path = ''
as $$
  select case when p_text ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then p_text::uuid end
$$;
comment on function private.try_uuid(text) is 'p_text as a uuid, or null when it is not one.';

-- The channel rule, defined once: on which channels does an alert of a type go out? p_email …
-- p_push are the recipient's own settings for the type on each channel (null: the type's default
-- in p_type, a private.notification_types row, null for an unregistered type); critical types
-- always go by email; each channel needs its contact point (a usable email address, a verified
-- phone, a verified phone with WhatsApp opt-in, a registered device). It reads no table: callers
-- pass what they joined. It answers every channel at once so the fan-out trigger calls it once
-- per notification, not once per notification and channel (a PL/pgSQL call each: 4 per
-- follower was ~0.6 s of a 100,000-follower fan-out).
create or replace function private.alert_channels(
  p_type private.notification_types, p_critical boolean,
  p_email boolean, p_sms boolean, p_whatsapp boolean, p_push boolean,
  p_email_usable boolean, p_phone_verified boolean, p_whatsapp_opted_in boolean, p_has_device boolean
) returns text[]
language plpgsql
immutable
set search_path = ''
as $$
begin
  return array_remove(array[
    case when p_email_usable and (p_critical or coalesce(p_email, p_type.email, false)) then 'email' end,
    case when p_phone_verified and coalesce(p_sms, p_type.sms, false) then 'sms' end,
    case when p_phone_verified and p_whatsapp_opted_in and coalesce(p_whatsapp, p_type.whatsapp, false) then 'whatsapp' end,
    case when p_has_device and coalesce(p_push, p_type.push, false) then 'push' end
  ], null);
end
$$;
comment on function private.alert_channels(private.notification_types, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean) is
  'The channels an alert goes out on: each channel''s preference (else the type''s default; critical types always email) and its contact point.';

-- The same rule for one channel (the claim and alert_channel_allowed decide one delivery at a
-- time): p_preference is the setting for p_channel; the other channels' settings do not matter.
create or replace function private.alert_channel_rule(
  p_channel text, p_type private.notification_types, p_critical boolean, p_preference boolean,
  p_email_usable boolean, p_phone_verified boolean, p_whatsapp_opted_in boolean, p_has_device boolean
) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return coalesce(p_channel = any (private.alert_channels(p_type, p_critical,
    case when p_channel = 'email' then p_preference end, case when p_channel = 'sms' then p_preference end,
    case when p_channel = 'whatsapp' then p_preference end, case when p_channel = 'push' then p_preference end,
    p_email_usable, p_phone_verified, p_whatsapp_opted_in, p_has_device)), false);
end
$$;
comment on function private.alert_channel_rule(text, private.notification_types, boolean, boolean, boolean, boolean, boolean, boolean) is
  'Whether an alert goes out on one channel: private.alert_channels for that channel''s preference and contact point.';

-- Whether p_user_id currently allows p_type on p_channel and has a contact point for it.
create or replace function private.alert_channel_allowed(p_user_id uuid, p_type text, p_channel text) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select private.alert_channel_rule(p_channel, t, coalesce(t.critical, private.is_critical_type_name(p_type)), p.enabled,
           s.email_suppressed_at is null and exists (select 1 from auth.users u where u.id = p_user_id and u.email is not null),
           s.phone_verified_at is not null, s.whatsapp_opt_in_at is not null,
           exists (select 1 from public.push_devices x where x.user_id = p_user_id))
    from (select 1) one
    left join private.notification_types t on t.type = p_type
    left join public.notification_settings s on s.user_id = p_user_id
    left join public.notification_preferences p on p.user_id = p_user_id and p.type = p_type and p.channel = p_channel
$$;
comment on function private.alert_channel_allowed(uuid, text, text) is
  'Preference (critical types always email) and contact point (unsuppressed email; verified phone; verified phone + WhatsApp opt-in; a registered push device) for one user, type and channel.';

-- Whether an alert still makes sense when it is about to be sent (it may have waited for quiet
-- hours or retries): reminders only for confirmed bookings of events not yet started, promotions
-- only for published future events, waitlist offers only while the offer stands.
create or replace function private.alert_still_relevant(p_type text, p_data jsonb) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select case p_type
    when 'event_reminder' then exists (
      select 1 from public.bookings b join private.events e on e.id = b.event_id
       where b.id = private.try_uuid(p_data ->> 'booking_id') and b.status = 'confirmed'
         and e.status = 'published' and e.starts_at > now())
    when 'event_published' then exists (
      select 1 from private.events e
       where e.id = private.try_uuid(p_data ->> 'event_id') and e.status = 'published' and e.starts_at > now())
    when 'waitlist_offer' then exists (
      select 1 from public.bookings b
       where b.id = private.try_uuid(p_data ->> 'booking_id') and b.status = 'held' and b.hold_expires_at > now())
    else true
  end
$$;
comment on function private.alert_still_relevant(text, jsonb) is
  'False for alerts overtaken by events: reminders of cancelled bookings or started events, promotions of cancelled events, expired waitlist offers.';

-- ---------------------------------------------------------------------------------------------
-- Fan-out
-- ---------------------------------------------------------------------------------------------

-- Small statements (a booking's one confirmation) use the insert as plain SQL, planned once per
-- session; planning it per statement cost ~0.4 ms, a third of a booking. Large batches (the
-- promotion fan-out) go through EXECUTE so they get a plan for their own size: a cached plan
-- would keep whichever size it saw first. The email address is checked at claim time
-- (auth.users), not here: joining auth.users for every batch cost more than skipping the rare
-- user without an email later. No JIT: its estimate for a large batch is far above
-- jit_optimize_above_cost, and compiling the plan cost 0.26–1.2 s of a 100,000-row batch whose
-- execution takes ~1 s interpreted.
create or replace function private.fan_out_notifications() returns trigger
language plpgsql
security definer
set search_path = ''
set jit = off
as $$
begin
  if (select count(*) from (select 1 from new_rows limit 17) as sample) <= 16 then
    insert into private.alert_deliveries (notification_id, user_id, type, channel, device_id, dedupe_key, next_attempt_at, created_at)
    select n.id, n.user_id, n.type, c.channel, pd.id, coalesce(n.data ->> 'dedupe_key', n.id::text),
           case when c.channel = 'email' or s.quiet_hours_start is null then n.created_at
                else coalesce(private.quiet_hours_release((select pr.timezone from public.profiles pr where pr.id = n.user_id),
                                                          s.quiet_hours_start, s.quiet_hours_end, n.created_at),
                              n.created_at) end,
           n.created_at
      from new_rows n
      left join private.notification_types t on t.type = n.type
      left join public.notification_settings s on s.user_id = n.user_id
      left join public.notification_preferences pe on pe.user_id = n.user_id and pe.type = n.type and pe.channel = 'email'
      left join public.notification_preferences ps on ps.user_id = n.user_id and ps.type = n.type and ps.channel = 'sms'
      left join public.notification_preferences pw on pw.user_id = n.user_id and pw.type = n.type and pw.channel = 'whatsapp'
      left join public.notification_preferences pp on pp.user_id = n.user_id and pp.type = n.type and pp.channel = 'push'
      -- (a probe per row: this plan is cached for every later small statement, and a join on all
      -- devices' distinct users would read the whole table for a booking's one notification)
      left join lateral (select x.user_id from public.push_devices x where x.user_id = n.user_id limit 1) hd on true
     cross join lateral unnest(private.alert_channels(t, coalesce(t.critical, private.is_critical_type_name(n.type)),
             pe.enabled, ps.enabled, pw.enabled, pp.enabled, s.email_suppressed_at is null, s.phone_verified_at is not null,
             s.whatsapp_opt_in_at is not null, hd.user_id is not null)) c(channel)
      left join public.push_devices pd on c.channel = 'push' and pd.user_id = n.user_id
    on conflict (user_id, channel, dedupe_key, device_id) do nothing;
    return null;
  end if;
  -- The channels are unnested in the select list (one ProjectSet over the joined rows), not by a
  -- lateral unnest: that is a function scan, re-run and materialised once per notification.
  execute $fan_out$
    insert into private.alert_deliveries (notification_id, user_id, type, channel, device_id, dedupe_key, next_attempt_at, created_at)
    select x.id, x.user_id, x.type, x.channel, pd.id, coalesce(x.data ->> 'dedupe_key', x.id::text),
           case when x.channel = 'email' or x.quiet_hours_start is null then x.created_at
                else coalesce(private.quiet_hours_release((select pr.timezone from public.profiles pr where pr.id = x.user_id),
                                                          x.quiet_hours_start, x.quiet_hours_end, x.created_at),
                              x.created_at) end,
           x.created_at
      from (select n.id, n.user_id, n.type, n.data, n.created_at, s.quiet_hours_start, s.quiet_hours_end,
                   unnest(private.alert_channels(t, coalesce(t.critical, private.is_critical_type_name(n.type)),
                     pe.enabled, ps.enabled, pw.enabled, pp.enabled, s.email_suppressed_at is null, s.phone_verified_at is not null,
                     s.whatsapp_opt_in_at is not null, hd.user_id is not null)) as channel
              from new_rows n
              left join private.notification_types t on t.type = n.type
              left join public.notification_settings s on s.user_id = n.user_id
              left join public.notification_preferences pe on pe.user_id = n.user_id and pe.type = n.type and pe.channel = 'email'
              left join public.notification_preferences ps on ps.user_id = n.user_id and ps.type = n.type and ps.channel = 'sms'
              left join public.notification_preferences pw on pw.user_id = n.user_id and pw.type = n.type and pw.channel = 'whatsapp'
              left join public.notification_preferences pp on pp.user_id = n.user_id and pp.type = n.type and pp.channel = 'push'
              left join (select distinct d.user_id from public.push_devices d) hd on hd.user_id = n.user_id) x
      left join public.push_devices pd on x.channel = 'push' and pd.user_id = x.user_id
    on conflict (user_id, channel, dedupe_key, device_id) do nothing
  $fan_out$;
  return null;
end
$$;
comment on function private.fan_out_notifications() is
  'Statement-level trigger: one alert delivery per new notification × channel the recipient allows (× device for push; set-based; duplicates by dedupe key are ignored).';

create trigger notifications_fan_out after insert on public.notifications
  referencing new table as new_rows
  for each statement execute function private.fan_out_notifications();

-- ---------------------------------------------------------------------------------------------
-- Dispatcher API (service role only)
-- ---------------------------------------------------------------------------------------------

create or replace function private.claim_alert_deliveries(p_limit integer default 100, p_lease_seconds integer default 120)
returns table (id uuid, claim_token uuid, attempt integer, max_attempts integer, channel text, type text,
               destination text, locale text, timezone text, display_name text, title text, body text, data jsonb,
               event jsonb, device_platform text, badge integer, whatsapp_content_sid text, whatsapp_variables text[])
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    perform private.raise_error('22023', 'invalid_limit', 'Claim 1 to 1,000 deliveries at a time.');
  end if;
  if p_lease_seconds is null or p_lease_seconds < 10 or p_lease_seconds > 3600 then
    perform private.raise_error('22023', 'invalid_lease', 'A lease lasts 10 to 3,600 seconds.');
  end if;

  -- A worker that died mid-send: its lease ran out, the row is due again (the attempt counts).
  update private.alert_deliveries d
     set status = 'pending', claim_token = null, lease_expires_at = null, next_attempt_at = now(),
         last_error = 'lease expired before the outcome was recorded'
   where d.id in (select x.id from private.alert_deliveries x
                   where x.status = 'sending' and x.lease_expires_at <= now()
                   for update skip locked);

  -- One statement for the whole batch: lock due rows nobody else holds, decide for each one
  -- (skip / over a recipient cap / wait for quiet hours to end / dead / claim), apply the
  -- decisions (data-modifying CTEs always run to completion, referenced or not), return the claims.
  return query
  with picked as (
    select d.id, d.notification_id, d.user_id, d.type, d.channel, d.device_id, d.dedupe_key, d.fallback_of, d.attempts,
           d.max_attempts, d.claimed_at, d.next_attempt_at
      from private.alert_deliveries d
     where d.status = 'pending' and d.next_attempt_at <= now()
     order by d.next_attempt_at
     limit p_limit
     for update of d skip locked
  ), due as (
    -- The recipient's caps are counted by one claim at a time (see the header). The try-lock
    -- runs on the picked rows only: in the scan's filter it ran on every due row before the sort
    -- and limit, one advisory lock each, and a queue of tens of thousands ran out of lock memory.
    select picked.* from picked
     where pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('rally:alert_cap:' || picked.user_id::text || ':' || picked.channel, 0))
  ), facts as (
    -- The channel rule (private.alert_channel_rule) and private.alert_still_relevant's, set-based
    -- (tests/db/20261125140200-alert-outbox checks the claim agrees with them row by row).
    select due.*, n.title as n_title, n.body as n_body, n.data as n_data, pr.locale as n_locale, pr.timezone as n_timezone,
           pr.display_name as n_name, s.whatsapp_fallback as n_fallback,
           coalesce(t.critical, private.is_critical_type_name(due.type)) as n_critical,
           case due.channel when 'email' then u.email when 'push' then pd.token else s.phone_e164 end as n_destination,
           pd.platform as n_platform,
           -- WhatsApp outside the window the user's own last message opened needs a template.
           case when due.channel = 'whatsapp' and not private.whatsapp_window_open(s.phone_e164) then wt.content_sid end as n_content_sid,
           case when due.channel = 'whatsapp' and not private.whatsapp_window_open(s.phone_e164) then wt.variables end as n_variables,
           case
             when n.id is null or pr.id is null then 'the user or the notification no longer exists'
             when due.channel = 'push' and (pd.id is null or pd.user_id <> due.user_id) then 'the device is no longer registered'
             -- An SMS sent in place of a WhatsApp alert (fallback_of) goes whatever the SMS setting.
             when not private.alert_channel_rule(due.channel, t, coalesce(t.critical, private.is_critical_type_name(due.type)),
                        case when due.channel = 'sms' and due.fallback_of is not null and s.whatsapp_fallback = 'sms' then true else p.enabled end,
                        s.email_suppressed_at is null and u.email is not null, s.phone_verified_at is not null,
                        s.whatsapp_opt_in_at is not null, true)
               then 'channel no longer allowed (preference or contact point changed)'
             when not case due.type
                        when 'event_reminder' then coalesce(b.status = 'confirmed' and be.status = 'published' and be.starts_at > now(), false)
                        when 'event_published' then coalesce(e.status = 'published' and e.starts_at > now(), false)
                        when 'waitlist_offer' then coalesce(b.status = 'held' and b.hold_expires_at > now(), false)
                        else true
                      end
               then 'no longer relevant'
             -- Read in the app since (a muted type is stored read at once: that is not "read since").
             when due.channel = 'push' and n.read_at > n.created_at then 'already read in the app'
             when due.channel = 'whatsapp' and not private.whatsapp_window_open(s.phone_e164) and wt.content_sid is null
               then format('no approved WhatsApp template for %s (%s) outside the 24-hour window: %s', due.type,
                           lower(split_part(coalesce(pr.locale, 'en'), '-', 1)),
                           case s.whatsapp_fallback when 'sms' then 'sent by SMS instead'
                                else 'skipped (the user chose no SMS fallback)' end)
           end as skip_reason,
           -- Never during quiet hours: SMS, WhatsApp and push wait for their end, without spending an attempt.
           case when due.channel in ('sms', 'whatsapp', 'push') and s.quiet_hours_start is not null
                then private.quiet_hours_release(pr.timezone, s.quiet_hours_start, s.quiet_hours_end, now()) end as release_at,
           case when due.channel = 'push' then
             (select count(*)::integer from public.notifications x where x.user_id = due.user_id and x.read_at is null) end as n_badge,
           case when e.id is not null then
             jsonb_build_object('id', e.id, 'title', e.title, 'starts_at', e.starts_at, 'ends_at', e.ends_at,
                                'timezone', e.timezone, 'venue_name', e.venue_name, 'city', e.city) end as n_event
      from due
      left join public.notifications n on n.id = due.notification_id
      left join public.profiles pr on pr.id = due.user_id
      left join public.notification_settings s on s.user_id = due.user_id
      left join auth.users u on u.id = due.user_id
      left join private.notification_types t on t.type = due.type
      left join public.notification_preferences p on p.user_id = due.user_id and p.type = due.type and p.channel = due.channel
      left join public.push_devices pd on pd.id = due.device_id
      left join lateral (select w.content_sid, w.variables from private.whatsapp_template_for(due.type, pr.locale) w
                          where due.channel = 'whatsapp') wt on true
      left join private.events e on e.id = private.try_uuid(n.data ->> 'event_id')
      left join public.bookings b on b.id = private.try_uuid(n.data ->> 'booking_id')
      left join private.events be on be.id = b.event_id
  ), first_sends as (
    -- Non-critical alerts about to go to a provider for the first time, numbered per person and
    -- channel in sending order (retries were counted when first claimed).
    select f.id, f.user_id, f.channel,
           row_number() over (partition by f.user_id, f.channel order by f.next_attempt_at, f.id) as batch_rank
      from facts f
     where f.skip_reason is null and f.release_at is null and f.attempts < f.max_attempts
       and f.claimed_at is null and not f.n_critical
  ), capped as (
    select s.id,
           case
             when (select count(*) from private.alert_deliveries x
                    where x.user_id = s.user_id and x.channel = s.channel and x.claimed_at > now() - hourly.per)
                  + s.batch_rank > hourly.max_calls
               then format('recipient_cap: at most %s %s per %s', hourly.max_calls, hourly.label, private.describe_interval(hourly.per))
             when (select count(*) from private.alert_deliveries x
                    where x.user_id = s.user_id and x.channel = s.channel and x.claimed_at > now() - daily.per)
                  + s.batch_rank > daily.max_calls
               then format('recipient_cap: at most %s %s per %s', daily.max_calls, daily.label, private.describe_interval(daily.per))
           end as cap_reason
      from first_sends s
      join private.rate_limits hourly on hourly.action = 'alert_' || s.channel || '_per_hour'
      join private.rate_limits daily on daily.action = 'alert_' || s.channel || '_per_day'
  ), decided as (
    select f.*, coalesce(f.skip_reason, c.cap_reason) as final_skip
      from facts f left join capped c on c.id = f.id
  ), skipped as (
    update private.alert_deliveries d set status = 'skipped', last_error = f.final_skip, finished_at = now()
      from decided f where d.id = f.id and f.final_skip is not null
    returning d.id
  ), fallbacks as (
    -- The SMS that goes instead of a WhatsApp alert that cannot (the user's SMS preference for
    -- the type does not matter: they chose WhatsApp for it, and SMS as its fallback).
    insert into private.alert_deliveries (notification_id, user_id, type, channel, dedupe_key, fallback_of, next_attempt_at)
    select f.notification_id, f.user_id, f.type, 'sms', f.dedupe_key, f.id, now()
      from decided f
     where f.channel = 'whatsapp' and f.final_skip = f.skip_reason and f.n_fallback = 'sms'
       and f.skip_reason like 'no approved WhatsApp template%'
    on conflict do nothing
  ), deferred as (
    update private.alert_deliveries d set next_attempt_at = f.release_at
      from decided f where d.id = f.id and f.final_skip is null and f.release_at is not null
    returning d.id
  ), exhausted as (
    update private.alert_deliveries d set status = 'dead', finished_at = now(), last_error = coalesce(d.last_error, 'attempts exhausted')
      from decided f where d.id = f.id and f.final_skip is null and f.release_at is null and f.attempts >= f.max_attempts
    returning d.id
  ), claimed as (
    update private.alert_deliveries d
       set status = 'sending', attempts = d.attempts + 1, claim_token = gen_random_uuid(),
           lease_expires_at = now() + make_interval(secs => p_lease_seconds), destination = f.n_destination,
           claimed_at = coalesce(d.claimed_at, now())
      from decided f
     where d.id = f.id and f.final_skip is null and f.release_at is null and f.attempts < f.max_attempts
    returning d.id, d.claim_token, d.attempts, d.max_attempts, d.channel, d.type, d.destination
  )
  select c.id, c.claim_token, c.attempts, c.max_attempts, c.channel, c.type, c.destination, f.n_locale, f.n_timezone, f.n_name,
         f.n_title, f.n_body, f.n_data, f.n_event, f.n_platform, f.n_badge, f.n_content_sid, f.n_variables
    from claimed c join decided f on f.id = c.id;
end
$$;
comment on function private.claim_alert_deliveries(integer, integer) is
  'Dispatcher: claims up to p_limit due deliveries (FOR UPDATE SKIP LOCKED) for p_lease_seconds, returning what the templates and providers need (push: the device''s platform and the badge; WhatsApp outside the 24-hour window: the approved template''s Content SID and variables). Skips rows no longer allowed or relevant, pushes already read, and non-critical rows over the recipient''s hourly or daily cap for the channel (reason recipient_cap: …); a WhatsApp alert with no template outside the window is skipped with the reason and, when the user chose it, sent by SMS instead. Defers SMS/WhatsApp/push in quiet hours, dead-letters rows out of attempts.';

create or replace function private.complete_alert_deliveries(p_results jsonb) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  if p_results is null or jsonb_typeof(p_results) <> 'array' then
    perform private.raise_error('22023', 'invalid_results', 'p_results is a JSON array of delivery outcomes.');
  end if;
  if exists (select 1 from jsonb_to_recordset(p_results) as x(id uuid, claim_token uuid, outcome text)
              where x.id is null or x.claim_token is null or x.outcome is null or x.outcome not in ('sent', 'retry', 'dead')) then
    perform private.raise_error('22023', 'invalid_results', 'Each outcome needs id, claim_token and outcome sent | retry | dead.');
  end if;
  -- A push token FCM says is gone (the app was uninstalled, the token rotated): nothing is sent
  -- to it again, whatever else is queued for it (those are skipped when claimed).
  delete from public.push_devices pd
   using private.alert_deliveries d, jsonb_to_recordset(p_results) as x(id uuid, claim_token uuid, forget_device boolean)
   where x.forget_device is true and d.id = x.id and d.claim_token = x.claim_token and d.channel = 'push'
     and pd.id = d.device_id;
  -- Only the holder of the claim records an outcome; a status callback that already moved the
  -- row forward (delivered before we recorded "sent") is never moved back.
  update private.alert_deliveries d
     set status = case
                    when d.status <> 'sending' then d.status
                    when x.outcome = 'sent' then 'sent'
                    when x.outcome = 'retry' and d.attempts < d.max_attempts then 'pending'
                    else 'dead' end,
         provider = coalesce(x.provider, d.provider),
         provider_message_id = coalesce(d.provider_message_id, x.provider_message_id),
         sent_at = case when x.outcome = 'sent' then coalesce(d.sent_at, now()) else d.sent_at end,
         next_attempt_at = case when x.outcome = 'retry' then greatest(coalesce(x.retry_at, now()), now()) else d.next_attempt_at end,
         last_error = case when x.outcome = 'sent' then null else left(coalesce(x.error, 'unknown error'), 1000) end,
         finished_at = case
                         when d.status <> 'sending' then d.finished_at
                         when x.outcome = 'dead' or (x.outcome = 'retry' and d.attempts >= d.max_attempts) then now()
                         else d.finished_at end,
         claim_token = null,
         lease_expires_at = null
    from jsonb_to_recordset(p_results) as x(id uuid, claim_token uuid, outcome text, provider text,
                                            provider_message_id text, error text, retry_at timestamptz)
   where d.id = x.id and d.claim_token = x.claim_token;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function private.complete_alert_deliveries(jsonb) is
  'Dispatcher: records outcomes [{id, claim_token, outcome: sent|retry|dead, provider, provider_message_id, error, retry_at, forget_device}] for rows it still holds; a retry past max_attempts becomes dead; forget_device (push: FCM says the token is unregistered) deletes the device. Returns the rows updated.';

-- The sink provider for a whole batch: [{delivery_id, channel, destination, subject, text, html}].
create or replace function private.record_sink_alerts(p_records jsonb)
returns table (delivery_id uuid, id uuid)
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_records is null or jsonb_typeof(p_records) <> 'array' then
    perform private.raise_error('22023', 'invalid_records', 'p_records is a JSON array of alerts.');
  end if;
  return query
  insert into private.alert_sink as s (delivery_id, channel, destination, subject, text_body, html_body)
  select x.delivery_id, x.channel, x.destination, x.subject, x.text, x.html
    from jsonb_to_recordset(p_records) as x(delivery_id uuid, channel text, destination text, subject text, text text, html text)
  on conflict on constraint alert_sink_delivery_id_key do update set delivery_id = excluded.delivery_id
  returning s.delivery_id, s.id;
end
$$;
comment on function private.record_sink_alerts(jsonb) is
  'The sink provider, one call per batch: records alerts instead of sending them; the same delivery id returns the same message id.';

-- A WhatsApp alert WhatsApp would not take (error 63016): an SMS instead when the user chose
-- that (and the phone is still verified), noted on the WhatsApp delivery either way.
create or replace function private.fall_back_to_sms(p_delivery private.alert_deliveries) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_settings public.notification_settings;
begin
  select * into v_settings from public.notification_settings s where s.user_id = p_delivery.user_id;
  if v_settings.whatsapp_fallback = 'sms' and v_settings.phone_verified_at is not null then
    insert into private.alert_deliveries (notification_id, user_id, type, channel, dedupe_key, fallback_of, next_attempt_at)
    values (p_delivery.notification_id, p_delivery.user_id, p_delivery.type, 'sms', p_delivery.dedupe_key, p_delivery.id, now())
    on conflict (user_id, channel, dedupe_key, device_id) do nothing;
  end if;
  update private.alert_deliveries d
     set last_error = left(coalesce(d.last_error || ' — ', '') || 'outside WhatsApp''s 24-hour window: '
                           || case when v_settings.whatsapp_fallback = 'sms' and v_settings.phone_verified_at is not null
                                   then 'sent by SMS instead' else 'not sent by SMS (the user chose no fallback)' end, 1000)
   where d.id = p_delivery.id;
end
$$;
comment on function private.fall_back_to_sms(private.alert_deliveries) is
  'Twilio error 63016 on a WhatsApp delivery: queues the same alert by SMS when the user''s whatsapp_fallback is sms, and says so on the WhatsApp delivery.';

-- Status ladder: a status only ever moves up; delivered, failed, dead and skipped are final.
create or replace function private.alert_status_rank(p_status text) returns integer
language sql
immutable
set search_path = ''
as $$
  select case p_status when 'pending' then 0 when 'sending' then 1 when 'sent' then 2 else 3 end
$$;

create or replace function private.apply_provider_status(
  p_provider text, p_event_id text, p_delivery_id uuid, p_message_id text, p_status text, p_raw_status text,
  p_error text, p_suppress text, p_payload jsonb
) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_delivery private.alert_deliveries;
  v_outcome text;
begin
  if p_provider is null or p_provider not in ('resend', 'twilio') or p_event_id is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_provider (resend | twilio) and p_event_id are required.');
  end if;
  if p_status is not null and p_status not in ('sent', 'delivered', 'failed') then
    perform private.raise_error('22023', 'invalid_status', 'p_status is sent, delivered, failed or null.');
  end if;
  if p_suppress is not null and p_suppress not in ('bounced', 'complained') then
    perform private.raise_error('22023', 'invalid_argument', 'p_suppress is bounced, complained or null.');
  end if;

  -- Replays stop here: the provider event is stored once.
  insert into private.provider_events (provider, event_id, delivery_id, message_id, status, raw_status, error, outcome, payload)
  values (p_provider, p_event_id, p_delivery_id, p_message_id, p_status, p_raw_status, left(p_error, 1000), 'pending',
          coalesce(p_payload, '{}'::jsonb))
  on conflict (provider, event_id) do nothing;
  if not found then
    return 'duplicate';
  end if;

  select * into v_delivery from private.alert_deliveries d
   where (p_delivery_id is not null and d.id = p_delivery_id)
      or (p_delivery_id is null and p_message_id is not null and d.provider = p_provider and d.provider_message_id = p_message_id)
   limit 1
   for update;
  if v_delivery.id is null or (v_delivery.provider is not null and v_delivery.provider <> p_provider) then
    v_outcome := 'unmatched';
  else
    if p_status is not null and private.alert_status_rank(p_status) > private.alert_status_rank(v_delivery.status) then
      update private.alert_deliveries d
         set status = p_status, provider_status = p_raw_status,
             provider = coalesce(d.provider, p_provider),
             provider_message_id = coalesce(d.provider_message_id, p_message_id),
             sent_at = coalesce(d.sent_at, now()),
             delivered_at = case when p_status = 'delivered' then now() else d.delivered_at end,
             finished_at = case when p_status in ('delivered', 'failed') then now() else d.finished_at end,
             last_error = case when p_status = 'failed' then left(coalesce(p_error, p_raw_status), 1000) else d.last_error end
       where d.id = v_delivery.id;
      v_outcome := 'applied';
    else
      update private.alert_deliveries d set provider_message_id = coalesce(d.provider_message_id, p_message_id)
       where d.id = v_delivery.id;
      v_outcome := 'recorded';
    end if;
    -- WhatsApp refused free-form text outside the 24-hour window (Twilio error 63016): the alert
    -- falls back as when no template was there to begin with.
    if v_outcome = 'applied' and p_provider = 'twilio' and p_status = 'failed' and v_delivery.channel = 'whatsapp'
       and coalesce(p_payload ->> 'ErrorCode', '') = '63016' then
      perform private.fall_back_to_sms(v_delivery);
    end if;
    if p_suppress is not null and v_delivery.channel = 'email' then
      insert into public.notification_settings (user_id, email_suppressed_at, email_suppressed_reason)
      values (v_delivery.user_id, now(), p_suppress)
      on conflict (user_id) do update
        set email_suppressed_at = coalesce(public.notification_settings.email_suppressed_at, now()),
            email_suppressed_reason = coalesce(public.notification_settings.email_suppressed_reason, p_suppress),
            updated_at = now();
    end if;
  end if;
  update private.provider_events e set outcome = v_outcome, delivery_id = coalesce(e.delivery_id, v_delivery.id)
   where e.provider = p_provider and e.event_id = p_event_id;
  return v_outcome;
end
$$;
comment on function private.apply_provider_status(text, text, uuid, text, text, text, text, text, jsonb) is
  'Status callbacks: stores the provider event once (duplicate → ''duplicate''), finds the delivery by id or provider message id, moves its status forward only (applied | recorded | unmatched), suppresses email on bounced / complained.';

-- A user who changes their email in Supabase Auth gets email alerts again.
create or replace function private.unsuppress_changed_email() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.email is distinct from old.email then
    update public.notification_settings
       set email_suppressed_at = null, email_suppressed_reason = null, updated_at = now()
     where user_id = new.id and email_suppressed_at is not null;
  end if;
  return null;
end
$$;
create trigger on_auth_user_email_changed after update of email on auth.users
  for each row execute function private.unsuppress_changed_email();

-- Retention: finished deliveries, callbacks and sink records older than p_days.
create or replace function private.purge_alert_history(p_days integer default 30) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  delete from private.alert_deliveries where finished_at < now() - make_interval(days => p_days)
     or (status = 'sent' and sent_at < now() - make_interval(days => p_days));
  get diagnostics v_count = row_count;
  delete from private.provider_events where received_at < now() - make_interval(days => p_days);
  delete from private.alert_sink where created_at < now() - make_interval(days => p_days);
  delete from private.twilio_inbound_messages where received_at < now() - make_interval(days => p_days);
  return v_count;
end
$$;
comment on function private.purge_alert_history(integer) is 'Job (daily): deletes finished alert deliveries, provider callbacks, sink records and users'' inbound messages older than p_days.';

-- ---------------------------------------------------------------------------------------------
-- What each user can see of their own alerts
-- ---------------------------------------------------------------------------------------------

-- "I never got the SMS": every delivery of the last 30 days with its status and, when it did
-- not go out, why (quiet hours, a cap, a preference, no WhatsApp template, the provider's error).
-- Destinations are masked: the user knows their own address, and a shared screen should not.
create or replace function private.my_alert_deliveries(p_cursor text, p_limit integer)
returns table (id uuid, notification_id uuid, type text, title text, channel text, destination text, device_platform text,
               status text, reason text, attempts integer, fallback_of uuid, created_at timestamptz, next_attempt_at timestamptz,
               sent_at timestamptz, delivered_at timestamptz, finished_at timestamptz, cursor text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_limit integer := private.check_page_limit(p_limit);
  v_after record := private.decode_keyset_cursor(p_cursor);
  v_at timestamptz := coalesce(v_after.at, 'infinity');
  v_id uuid := coalesce(v_after.id, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
begin
  return query
  select d.id, d.notification_id, d.type, n.title, d.channel,
         case
           when d.destination is null then null
           when d.channel = 'email' then left(d.destination, 1) || '•••' || substr(d.destination, strpos(d.destination, '@'))
           when d.channel = 'push' then null
           else left(d.destination, 3) || '•••' || right(d.destination, 3)
         end,
         pd.platform,
         d.status,
         case when d.status in ('pending') and d.next_attempt_at > now() and d.attempts = 0 then 'waiting for quiet hours to end'
              else d.last_error end,
         d.attempts, d.fallback_of, d.created_at, d.next_attempt_at, d.sent_at, d.delivered_at, d.finished_at,
         private.encode_keyset_cursor(d.created_at, d.id)
    from private.alert_deliveries d
    left join public.notifications n on n.id = d.notification_id
    left join public.push_devices pd on pd.id = d.device_id
   where d.user_id = v_uid and d.created_at > now() - interval '30 days'
     and (d.created_at, d.id) < (v_at, v_id)
   order by d.created_at desc, d.id desc
   limit v_limit;
end
$$;

create or replace function public.my_alert_deliveries(p_cursor text default null, p_limit integer default 20)
returns table (id uuid, notification_id uuid, type text, title text, channel text, destination text, device_platform text,
               status text, reason text, attempts integer, fallback_of uuid, created_at timestamptz, next_attempt_at timestamptz,
               sent_at timestamptz, delivered_at timestamptz, finished_at timestamptz, cursor text)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.my_alert_deliveries(p_cursor, p_limit);
end
$$;
comment on function public.my_alert_deliveries(text, integer) is
  'The caller''s own email, SMS, WhatsApp and push deliveries of the last 30 days, newest first (keyset: pass the last row''s cursor; p_limit 1–100, default 20): channel, masked destination (push: the device''s platform), status pending | sending | sent | delivered | failed | dead | skipped, and the reason when it did not go out (quiet hours, a recipient cap, a changed preference, no WhatsApp template — then fallback_of links the SMS sent instead to it —, or the provider''s error). Errors: 22023 invalid_cursor, invalid_limit; 42501 not_authenticated.';

-- ---------------------------------------------------------------------------------------------
-- Operators (Studio)
-- ---------------------------------------------------------------------------------------------

create view admin.alert_outbox with (security_invoker = true) as
select channel, status, count(*) as deliveries, min(next_attempt_at) filter (where status = 'pending') as next_due,
       max(created_at) as newest
  from private.alert_deliveries
 group by channel, status;
comment on view admin.alert_outbox is 'Alert deliveries per channel and status, with the next due time of pending ones.';

create view admin.alert_dead_letters with (security_invoker = true) as
select d.id, d.user_id, d.type, d.channel, d.attempts, d.provider, d.provider_message_id, d.last_error, d.created_at, d.finished_at
  from private.alert_deliveries d
 where d.status in ('dead', 'failed');
comment on view admin.alert_dead_letters is 'Alerts that were given up (dead) or that the provider could not deliver (failed). admin.retry_alert_delivery(id) queues one again.';

create or replace function admin.retry_alert_delivery(p_delivery_id uuid) returns private.alert_deliveries
language plpgsql
set search_path = ''
as $$
declare
  v_row private.alert_deliveries;
begin
  update private.alert_deliveries
     set status = 'pending', attempts = 0, next_attempt_at = now(), finished_at = null, claim_token = null,
         lease_expires_at = null
   where id = p_delivery_id and status in ('dead', 'failed')
  returning * into v_row;
  if v_row.id is null then
    perform private.raise_error('22023', 'delivery_not_found', 'No dead or failed delivery has this id.');
  end if;
  return v_row;
end
$$;
comment on function admin.retry_alert_delivery(uuid) is 'Operators: queue a dead or failed alert delivery again with fresh attempts.';

-- Schema-level default privileges cannot take away PostgreSQL's global PUBLIC execute on new
-- functions, so each private function defined here is revoked explicitly, then granted.
revoke execute on function private.try_uuid(text), private.alert_channel_allowed(uuid, text, text),
  private.alert_channels(private.notification_types, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean),
  private.alert_channel_rule(text, private.notification_types, boolean, boolean, boolean, boolean, boolean, boolean),
  private.alert_still_relevant(text, jsonb), private.fan_out_notifications(),
  private.claim_alert_deliveries(integer, integer), private.complete_alert_deliveries(jsonb),
  private.record_sink_alerts(jsonb), private.alert_status_rank(text),
  private.apply_provider_status(text, text, uuid, text, text, text, text, text, jsonb), private.unsuppress_changed_email(),
  private.purge_alert_history(integer), admin.retry_alert_delivery(uuid), private.fall_back_to_sms(private.alert_deliveries),
  private.my_alert_deliveries(text, integer) from public;
grant execute on function private.my_alert_deliveries(text, integer) to authenticated;
revoke execute on function public.my_alert_deliveries(text, integer) from public, anon, authenticated, service_role;
grant execute on function public.my_alert_deliveries(text, integer) to anon, authenticated;
grant execute on function private.claim_alert_deliveries(integer, integer), private.complete_alert_deliveries(jsonb),
  private.record_sink_alerts(jsonb),
  private.apply_provider_status(text, text, uuid, text, text, text, text, text, jsonb),
  private.alert_channel_allowed(uuid, text, text), private.alert_still_relevant(text, jsonb) to service_role;

-- Schedules. The dispatcher is an edge function, called through pg_net with the Vault secrets
-- project_url and service_role_key (see 20261125100050_scheduled_jobs and docs/social-and-alerts.md).
select private.schedule_job('rally-purge-alert-history', '17 3 * * *', interval '1 day',
  'select private.purge_alert_history()',
  'Deletes finished alert deliveries, provider callbacks and sink records older than 30 days.');
select private.schedule_edge_function('rally-dispatch-alerts', 'dispatch-alerts', private.cron_seconds_schedule(10),
  interval '10 seconds', 60000,
  'Sends due email, SMS and WhatsApp alerts from the alert outbox (the dispatch-alerts edge function).');
