-- Notification preferences, contact points, quiet hours, and the in-app inbox RPCs.
--
-- Every notification has a type (booking_confirmed, event_reminder, payout_paid, …). The
-- catalogue private.notification_types gives each type a category, a default per channel
-- (in_app, email, sms, whatsapp, push) and whether it is critical. Users override defaults in
-- public.notification_preferences (one row per user × type × channel they changed).
--   * One catalogue (issue 14): every type any capability sends is registered here, with a
--     template in every supported locale (functions/_shared/alerts/templates.ts), and every type
--     registered here is sent by something; tests/alerts/catalogue.test.ts reads the migrations
--     and the edge functions and fails when the two disagree. A new type is one row here, one
--     template, and the code that sends it.
--   * Critical types — money and cancellations: payment_*, refund_*, payout_*, dispute_*, and
--     anything cancelled (booking_cancelled, event_cancelled) — cannot be muted for email:
--     set_notification_preference refuses it and a trigger refuses it for every writer.
--     Critical means "about the recipient's own money or booking": a guest whose booking or
--     event is cancelled (the refund is in it), payers, and hosts about payouts and disputes.
--     What guests do to a host's event is not: a guest cancelling is guest_cancelled, which a
--     host may mute (issue 13: 30 book-and-cancel loops sent a host 30 emails it could not stop),
--     like booking_request; the host's bookings list and host_event_stats show it all.
--     A type missing from the catalogue (the check above keeps it from shipping) would get
--     in-app only, and be critical (email on) when its name says so by the same prefixes/suffix.
--   * Contact points: email comes from auth.users (Supabase Auth owns it); the phone number is
--     E.164, validated with libphonenumber-js in the contact-points edge function and re-checked
--     here by format. Nothing is sent to a phone until its owner proves it is theirs (issue 13:
--     anyone could type a victim's number): the contact-points function texts a 6-digit code
--     (private.issue_phone_verification: hashed with bcrypt, 10 minutes, 5 attempts, codes
--     rate limited per user and per number) and verify_phone_number confirms it. WhatsApp needs
--     a verified phone and an explicit opt-in, stored with its time; changing the number
--     un-verifies it and withdraws the opt-in. A WhatsApp alert that cannot go out (no approved
--     template outside the 24-hour window) falls back to SMS or is skipped, as the user chose
--     (whatsapp_fallback). Push goes to the devices the user registered (push devices
--     migration). Hard bounces and spam complaints suppress email.
--   * Quiet hours (local wall-clock start/end in profiles.timezone, may span midnight) delay
--     SMS, WhatsApp and push to the end of the quiet period; in-app and email are never delayed.
--   * In-app muting is applied by private.notify, defined here: a muted type is stored already
--     read, so it stays in history but raises no badge and is not broadcast.
--   * Welcome: a new account whose email (or phone) is confirmed gets `welcome` once.
-- Outbound delivery (the outbox, the dispatcher) is 20261125140200_alert_outbox.

create table private.notification_types (
  type text primary key,
  category text not null,
  critical boolean not null default false,
  in_app boolean not null default true,
  email boolean not null default false,
  sms boolean not null default false,
  whatsapp boolean not null default false,
  push boolean not null default false,
  description text not null,
  constraint notification_types_type_format check (type ~ '^[a-z][a-z0-9_.]{1,63}$'),
  constraint notification_types_critical_emails check (not critical or email),
  constraint notification_types_category check (category in
    ('account', 'bookings', 'events', 'promotion', 'social', 'chat', 'payments', 'payouts', 'operations'))
);
comment on table private.notification_types is
  'Catalogue of notification types: category, default per channel (in_app, email, sms, whatsapp, push), and whether the type is critical (email cannot be muted). Every type code sends is registered here with a template per locale (checked by tests/alerts/catalogue.test.ts).';
comment on column private.notification_types.category is 'account | bookings | events | promotion | social | chat | payments | payouts | operations (alerts for admins).';

insert into private.notification_types (type, category, critical, in_app, email, sms, whatsapp, push, description) values
  ('welcome',           'account',   false, true, true,  false, false, false, 'Welcome message once your email or phone is confirmed'),
  ('booking_confirmed', 'bookings',  false, true, true,  false, false, true,  'Your booking is confirmed'),
  ('booking_request',   'bookings',  false, true, true,  false, false, true,  'Hosts: a guest asked to join an approval-only event'),
  ('booking_approved',  'bookings',  false, true, true,  false, false, true,  'The host approved your request'),
  ('booking_declined',  'bookings',  false, true, true,  false, false, true,  'The host declined your request'),
  ('booking_expired',   'bookings',  false, true, true,  false, false, false, 'Your hold or request expired'),
  ('booking_cancelled', 'bookings',  true,  true, true,  false, false, true,  'Your booking was cancelled by the host (with your refund)'),
  ('guest_cancelled',   'bookings',  false, true, true,  false, false, false, 'Hosts: a guest cancelled their booking'),
  ('waitlist_offer',    'bookings',  false, true, true,  true,  false, true,  'A spot opened up for you (time-limited)'),
  ('event_cancelled',   'events',    true,  true, true,  true,  false, true,  'An event you booked was cancelled'),
  ('event_changed',     'events',    true,  true, true,  false, false, true,  'An event you booked moved, or its place or link changed'),
  ('event_reminder',    'events',    false, true, true,  false, false, true,  'Reminders 24 hours and 1 hour before an event'),
  ('event_announcement','events',    false, true, true,  false, false, true,  'A message from the host of an event you booked'),
  ('event_published',   'promotion', false, true, true,  false, false, false, 'A host you follow published or promoted an event'),
  ('review_received',   'social',    false, true, false, false, false, false, 'Hosts: a guest reviewed your event'),
  ('new_follower',      'social',    false, true, false, false, false, false, 'Someone started following you'),
  ('message_received',  'chat',      false, true, false, false, false, true,  'A new chat message'),
  ('message_reminder',  'chat',      false, true, false, false, false, true,  'A reminder set in a chat is due'),
  ('group_invitation',  'chat',      false, true, false, false, false, true,  'Someone invited you to a group chat'),
  ('payment_succeeded', 'payments',  true,  true, true,  false, false, false, 'Your payment went through (receipt)'),
  ('payment_failed',    'payments',  true,  true, true,  false, false, true,  'Your payment failed'),
  ('payment_refunded_unfulfillable', 'payments', true, true, true, false, false, true, 'Your payment arrived after your seats were gone: refunded in full'),
  ('refund_issued',     'payments',  true,  true, true,  false, false, false, 'A refund is on its way'),
  ('refund_failed',     'payments',  true,  true, true,  false, false, false, 'A refund could not be made yet'),
  ('payouts_enabled',   'payouts',   false, true, true,  false, false, false, 'Hosts: payouts are set up'),
  ('payouts_disabled',  'payouts',   true,  true, true,  false, false, true,  'Hosts: Stripe needs more information before paying you'),
  ('payout_paid',       'payouts',   true,  true, true,  false, false, false, 'Hosts: a payout reached your bank'),
  ('payout_failed',     'payouts',   true,  true, true,  false, false, true,  'Hosts: a payout failed'),
  ('dispute_opened',    'payouts',   true,  true, true,  false, false, true,  'Hosts: a guest disputed a payment (admins are told too)'),
  ('dispute_won',       'payouts',   true,  true, true,  false, false, false, 'Hosts: you won a dispute'),
  ('dispute_lost',      'payouts',   true,  true, true,  false, false, false, 'Hosts: you lost a dispute'),
  ('payment_unmatched', 'operations', false, true, true, false, false, false, 'Admins: a payment matches no booking (in suspense)'),
  ('payment_command_dead', 'operations', false, true, true, false, false, false, 'Admins: a payment command was given up'),
  ('refund_request_unpaid', 'operations', false, true, true, false, false, false, 'Admins: a refund was requested for a booking Rally has no payment for'),
  ('refund_unmatched',  'operations', false, true, true, false, false, false, 'Admins: Stripe reported a refund Rally cannot match'),
  ('refund_needs_attention', 'operations', false, true, true, false, false, false, 'Admins: a refund failed and the guest is waiting'),
  ('dispute_closed',    'operations', false, true, true, false, false, false, 'Admins: a dispute was won or lost'),
  ('dispute_appeal_opened', 'operations', false, true, true, false, false, false, 'Admins: a lost dispute can be appealed (evidence due)');

-- Critical by name, for types not (yet) in the catalogue: money and cancellations.
create or replace function private.is_critical_type_name(p_type text) returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_type ~ '^(payment|refund|payout|dispute)[._]' or p_type ~ '(^|_)cancell?ed$'
$$;
comment on function private.is_critical_type_name(text) is
  'Fallback for types missing from private.notification_types: payment_*, refund_*, payout_*, dispute_* and *_cancelled are critical.';

-- The effective defaults of a type: its catalogue row, or the fallback for unknown types.
create or replace function private.notification_type_defaults(p_type text)
returns table (type text, category text, critical boolean, in_app boolean, email boolean, sms boolean, whatsapp boolean,
               push boolean, known boolean)
language sql
stable
security definer
set search_path = ''
as $$
  select p_type, coalesce(t.category, 'other'), coalesce(t.critical, private.is_critical_type_name(p_type)),
         coalesce(t.in_app, true), coalesce(t.email, private.is_critical_type_name(p_type)),
         coalesce(t.sms, false), coalesce(t.whatsapp, false), coalesce(t.push, false), t.type is not null
    from (select 1) one
    left join private.notification_types t on t.type = p_type
$$;
comment on function private.notification_type_defaults(text) is 'Effective defaults (catalogue or name-based fallback) of a notification type.';

-- ---------------------------------------------------------------------------------------------
-- Preferences
-- ---------------------------------------------------------------------------------------------

create table public.notification_preferences (
  user_id uuid not null references public.profiles (id) on delete cascade,
  type text not null references private.notification_types (type) on delete cascade,
  channel text not null,
  enabled boolean not null,
  updated_at timestamptz not null default now(),
  primary key (user_id, type, channel),
  constraint notification_preferences_channel check (channel in ('in_app', 'email', 'sms', 'whatsapp', 'push'))
);
revoke all on public.notification_preferences from public, anon, authenticated, service_role;
comment on table public.notification_preferences is
  'A user''s overrides of the per-type channel defaults (only the cells they changed). Read your own; change them with set_notification_preference; see my_notification_preferences for the full grid.';
comment on column public.notification_preferences.channel is 'in_app | email | sms | whatsapp | push';
create index notification_preferences_type_idx on public.notification_preferences (type);

-- Every writer (the RPC, the service role, Studio) gets the same rules.
create or replace function private.validate_notification_preference() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.channel is null or new.channel not in ('in_app', 'email', 'sms', 'whatsapp', 'push') then
    perform private.raise_error('22023', 'invalid_channel', format('"%s" is not a channel: use in_app, email, sms, whatsapp or push.', new.channel));
  end if;
  if new.channel = 'email' and new.enabled is false and exists (
       select 1 from private.notification_types t where t.type = new.type and t.critical) then
    perform private.raise_error('P0001', 'critical_notification',
      format('%s emails cannot be turned off: they are about money or cancellations.', new.type));
  end if;
  new.updated_at := now();
  return new;
end
$$;
create trigger notification_preferences_validate before insert or update on public.notification_preferences
  for each row execute function private.validate_notification_preference();

alter table public.notification_preferences enable row level security;
create policy "users read their own notification preferences" on public.notification_preferences
  for select to authenticated using (user_id = (select auth.uid()));
grant select on public.notification_preferences to authenticated;
grant select, insert, update, delete on public.notification_preferences to service_role;

-- ---------------------------------------------------------------------------------------------
-- Contact points and quiet hours
-- ---------------------------------------------------------------------------------------------

create table public.notification_settings (
  user_id uuid primary key references public.profiles (id) on delete cascade,
  phone_e164 text,
  phone_updated_at timestamptz,
  phone_verified_at timestamptz,
  whatsapp_opt_in_at timestamptz,
  whatsapp_fallback text not null default 'sms',
  quiet_hours_start time,
  quiet_hours_end time,
  email_suppressed_at timestamptz,
  email_suppressed_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint notification_settings_phone_format check (phone_e164 is null or phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
  constraint notification_settings_verified_needs_phone check (phone_verified_at is null or phone_e164 is not null),
  constraint notification_settings_whatsapp_needs_verified_phone check (whatsapp_opt_in_at is null or phone_verified_at is not null),
  constraint notification_settings_quiet_hours check (
    (quiet_hours_start is null) = (quiet_hours_end is null) and (quiet_hours_start is null or quiet_hours_start <> quiet_hours_end)),
  constraint notification_settings_suppressed_reason check (email_suppressed_reason is null or email_suppressed_reason in ('bounced', 'complained')),
  constraint notification_settings_whatsapp_fallback check (whatsapp_fallback in ('sms', 'none'))
);
revoke all on public.notification_settings from public, anon, authenticated, service_role;
comment on table public.notification_settings is
  'A user''s contact points and quiet hours for outbound alerts. Read your own; change them with set_phone_number (or the contact-points function, which also texts the verification code), verify_phone_number, set_whatsapp_opt_in and set_quiet_hours. Email is the auth.users email.';
comment on column public.notification_settings.phone_e164 is 'Phone for SMS and WhatsApp in E.164 (+4477…), validated with libphonenumber-js by the contact-points function.';
comment on column public.notification_settings.phone_verified_at is 'When the owner confirmed the phone with the code texted to it (verify_phone_number); null = nothing is sent to it. Cleared when the phone changes.';
comment on column public.notification_settings.whatsapp_opt_in_at is 'When the user explicitly opted in to WhatsApp messages (needs a verified phone); null = no WhatsApp. Cleared when the phone changes.';
comment on column public.notification_settings.whatsapp_fallback is 'What happens to a WhatsApp alert that cannot go out (no approved template for it while the 24-hour window is closed, or WhatsApp refused it with error 63016): sms = sent by SMS instead (default), none = skipped. Either way the WhatsApp delivery records why (my_alert_deliveries).';
comment on column public.notification_settings.quiet_hours_start is 'Local wall-clock start of quiet hours in profiles.timezone; SMS, WhatsApp and push wait until quiet_hours_end. May span midnight.';
comment on column public.notification_settings.email_suppressed_at is 'Set when the provider reports a hard bounce or a spam complaint; no more email is sent until the user changes their email.';

alter table public.notification_settings enable row level security;
create policy "users read their own notification settings" on public.notification_settings
  for select to authenticated using (user_id = (select auth.uid()));
grant select on public.notification_settings to authenticated;
grant select, insert, update, delete on public.notification_settings to service_role;

-- The one open verification code per user, for the number it was sent to. Only a bcrypt hash of
-- the code is kept; the row goes when the code is used, the number changes or the account is
-- deleted (with its settings).
create table private.phone_verifications (
  user_id uuid primary key references public.notification_settings (user_id) on delete cascade,
  phone_e164 text not null,
  code_hash text not null,
  attempts integer not null default 0,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  constraint phone_verifications_attempts check (attempts between 0 and 5)
);
comment on table private.phone_verifications is
  'Open phone verification codes: bcrypt hash, the number it was sent to, attempts used (at most 5), expiry (10 minutes).';

-- The instant quiet hours end if p_at falls inside them (local wall clock in p_timezone), else
-- null. DST-safe: the end is a local time on a local date, converted in that zone.
create or replace function private.quiet_hours_release(p_timezone text, p_start time, p_end time, p_at timestamptz)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
declare
  v_local timestamp;
  v_time time;
begin
  if p_start is null or p_end is null or p_start = p_end then
    return null;
  end if;
  v_local := p_at at time zone coalesce(p_timezone, 'UTC');
  v_time := v_local::time;
  if p_start < p_end then
    if v_time >= p_start and v_time < p_end then
      return (v_local::date + p_end) at time zone coalesce(p_timezone, 'UTC');
    end if;
  elsif v_time >= p_start then
    return (v_local::date + 1 + p_end) at time zone coalesce(p_timezone, 'UTC');
  elsif v_time < p_end then
    return (v_local::date + p_end) at time zone coalesce(p_timezone, 'UTC');
  end if;
  return null;
end
$$;
comment on function private.quiet_hours_release(text, time, time, timestamptz) is
  'When p_at is inside the quiet hours [start, end) in p_timezone: the instant they end; otherwise null.';

create or replace function private.ensure_notification_settings(p_user_id uuid) returns public.notification_settings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.notification_settings;
begin
  insert into public.notification_settings (user_id) values (p_user_id) on conflict (user_id) do nothing;
  select * into v_row from public.notification_settings where user_id = p_user_id for update;
  return v_row;
end
$$;

create or replace function private.set_phone_number(p_phone text) returns public.notification_settings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.notification_settings;
  v_phone text := nullif(btrim(p_phone), '');
begin
  if v_phone is not null and v_phone !~ '^\+[1-9][0-9]{6,14}$' then
    perform private.raise_error('22023', 'invalid_phone',
      'A phone number must be in E.164 form: + then the country code and number, digits only (e.g. +447400123456).');
  end if;
  v_row := private.ensure_notification_settings(v_uid);
  if v_row.phone_e164 is distinct from v_phone then
    -- Proof of ownership and consent to WhatsApp were given for the old number.
    update public.notification_settings
       set phone_e164 = v_phone, phone_updated_at = now(), phone_verified_at = null, whatsapp_opt_in_at = null,
           updated_at = now()
     where user_id = v_uid
    returning * into v_row;
    delete from private.phone_verifications where user_id = v_uid;
  end if;
  return v_row;
end
$$;

create or replace function public.set_phone_number(p_phone text) returns public.notification_settings
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.set_phone_number(p_phone);
end
$$;
comment on function public.set_phone_number(text) is
  'Sets (or with null clears) the caller''s phone for SMS/WhatsApp. Expects E.164 (+447400123456); the contact-points edge function accepts national formats, normalises them with libphonenumber-js and texts the verification code. Nothing is sent to a number until verify_phone_number confirms it; a new number is unverified and withdraws the WhatsApp opt-in. Errors: 22023 invalid_phone; 42501 not_authenticated.';

create or replace function private.set_whatsapp_opt_in(p_opt_in boolean, p_fallback text) returns public.notification_settings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.notification_settings;
begin
  if p_opt_in is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_opt_in is true or false.');
  end if;
  if p_fallback is not null and p_fallback not in ('sms', 'none') then
    perform private.raise_error('22023', 'invalid_fallback', 'p_fallback is sms (send by SMS instead) or none (skip it).');
  end if;
  v_row := private.ensure_notification_settings(v_uid);
  if p_opt_in and v_row.phone_e164 is null then
    perform private.raise_error('P0001', 'phone_required', 'Add a phone number before opting in to WhatsApp.');
  end if;
  if p_opt_in and v_row.phone_verified_at is null then
    perform private.raise_error('P0001', 'phone_not_verified', 'Confirm your phone number with the code we texted you before opting in to WhatsApp.');
  end if;
  update public.notification_settings
     set whatsapp_opt_in_at = case when p_opt_in then coalesce(whatsapp_opt_in_at, now()) end,
         whatsapp_fallback = coalesce(p_fallback, whatsapp_fallback), updated_at = now()
   where user_id = v_uid
  returning * into v_row;
  return v_row;
end
$$;

create or replace function public.set_whatsapp_opt_in(p_opt_in boolean, p_fallback text default null)
returns public.notification_settings
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.set_whatsapp_opt_in(p_opt_in, p_fallback);
end
$$;
-- A fresh 6-digit code for the user's current, unverified phone: stored hashed, returned once so
-- the contact-points function can text it. Limited per user and per number.
create or replace function private.issue_phone_verification(p_user_id uuid)
returns table (code text, phone_e164 text, expires_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_settings public.notification_settings;
  v_code text;
  v_expires timestamptz := now() + interval '10 minutes';
begin
  select * into v_settings from public.notification_settings s where s.user_id = p_user_id for update;
  if v_settings.phone_e164 is null then
    perform private.raise_error('P0001', 'phone_required', 'Add a phone number first.');
  end if;
  if v_settings.phone_verified_at is not null then
    perform private.raise_error('P0001', 'phone_already_verified', 'This phone number is already verified.');
  end if;
  -- Codes cost an SMS: a user cannot ask for many, and nobody can flood one number with them
  -- (its bucket is keyed by a digest, so the limiter keeps no phone numbers; deleting the
  -- account that asked does not reset it).
  perform private.consume_rate_limit('phone_verification', p_user_id::text);
  perform private.consume_rate_limit('phone_verification_number',
                                     encode(extensions.digest(v_settings.phone_e164, 'sha256'), 'hex'));
  v_code := lpad(((('x' || encode(extensions.gen_random_bytes(4), 'hex'))::bit(32)::bigint) % 1000000)::text, 6, '0');
  insert into private.phone_verifications as v (user_id, phone_e164, code_hash, attempts, expires_at)
  values (p_user_id, v_settings.phone_e164, extensions.crypt(v_code, extensions.gen_salt('bf', 8)), 0, v_expires)
  on conflict (user_id) do update
    set phone_e164 = excluded.phone_e164, code_hash = excluded.code_hash, attempts = 0, expires_at = excluded.expires_at,
        created_at = now();
  return query select v_code, v_settings.phone_e164, v_expires;
end
$$;
comment on function private.issue_phone_verification(uuid) is
  'contact-points (service role): a new 6-digit code for the user''s unverified phone, valid 10 minutes, replacing any earlier one; only its bcrypt hash is stored. Errors: P0001 phone_required, phone_already_verified, rate_limited (codes per user per hour, per number per day).';

create or replace function private.verify_phone_number(p_code text)
returns table (verified boolean, phone_e164 text, phone_verified_at timestamptz, attempts_left integer)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_pending private.phone_verifications;
  v_settings public.notification_settings;
begin
  if p_code is null or p_code !~ '^[0-9]{6}$' then
    perform private.raise_error('22023', 'invalid_code', 'The code is the 6 digits we texted you.');
  end if;
  perform private.consume_rate_limit('phone_verification_check', v_uid::text);
  select * into v_pending from private.phone_verifications v where v.user_id = v_uid for update;
  select * into v_settings from public.notification_settings s where s.user_id = v_uid;
  if v_pending.user_id is null or v_pending.phone_e164 is distinct from v_settings.phone_e164 then
    perform private.raise_error('P0001', 'no_verification_pending', 'There is no code to check: ask for a new one.');
  end if;
  if v_pending.expires_at <= now() then
    perform private.raise_error('P0001', 'verification_expired', 'This code has expired: ask for a new one.');
  end if;
  if v_pending.attempts >= 5 then
    perform private.raise_error('P0001', 'too_many_attempts', 'Too many wrong codes: ask for a new one.');
  end if;
  if extensions.crypt(p_code, v_pending.code_hash) <> v_pending.code_hash then
    -- A wrong code is an answer, not an error, so the attempt it used is kept.
    update private.phone_verifications set attempts = attempts + 1 where user_id = v_uid;
    return query select false, v_settings.phone_e164, null::timestamptz, 4 - v_pending.attempts;
    return;
  end if;
  delete from private.phone_verifications where user_id = v_uid;
  update public.notification_settings s set phone_verified_at = now(), updated_at = now()
   where s.user_id = v_uid
  returning * into v_settings;
  return query select true, v_settings.phone_e164, v_settings.phone_verified_at, 0;
end
$$;

create or replace function public.verify_phone_number(p_code text)
returns table (verified boolean, phone_e164 text, phone_verified_at timestamptz, attempts_left integer)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.verify_phone_number(p_code);
end
$$;
comment on function public.verify_phone_number(text) is
  'Confirms the caller''s phone with the 6-digit code the contact-points function texted to it. A right code → verified = true (SMS and WhatsApp may now be sent to it); a wrong one → verified = false and attempts_left (5 per code). Errors: 22023 invalid_code; P0001 no_verification_pending, verification_expired, too_many_attempts, rate_limited; 42501 not_authenticated.';

comment on function public.set_whatsapp_opt_in(boolean, text) is
  'Explicit WhatsApp opt-in (true, recorded with its time) or opt-out (false) for the caller''s verified phone number. p_fallback (optional): what happens to a WhatsApp alert that cannot go out as WhatsApp — sms (sent by SMS instead, the default) or none (skipped); null keeps the current choice. Replying STOP on WhatsApp also opts out. Errors: 22023 invalid_argument, invalid_fallback; P0001 phone_required, phone_not_verified; 42501 not_authenticated.';

create or replace function private.set_quiet_hours(p_start time, p_end time) returns public.notification_settings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.notification_settings;
begin
  if (p_start is null) <> (p_end is null) then
    perform private.raise_error('22023', 'invalid_quiet_hours', 'Give both a start and an end, or neither to turn quiet hours off.');
  end if;
  if p_start = p_end then
    perform private.raise_error('22023', 'invalid_quiet_hours', 'Quiet hours must start and end at different times.');
  end if;
  v_row := private.ensure_notification_settings(v_uid);
  update public.notification_settings set quiet_hours_start = p_start, quiet_hours_end = p_end, updated_at = now()
   where user_id = v_uid
  returning * into v_row;
  return v_row;
end
$$;

create or replace function public.set_quiet_hours(p_start time, p_end time) returns public.notification_settings
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.set_quiet_hours(p_start, p_end);
end
$$;
comment on function public.set_quiet_hours(time, time) is
  'Quiet hours as local wall-clock times in the caller''s profiles.timezone, e.g. 22:00 to 07:00 (may span midnight); both null turns them off. SMS, WhatsApp and push wait until they end; in-app and email are not delayed. Errors: 22023 invalid_quiet_hours; 42501 not_authenticated.';

-- ---------------------------------------------------------------------------------------------
-- Preference RPCs
-- ---------------------------------------------------------------------------------------------

create or replace function private.my_notification_preferences()
returns table (type text, category text, description text, critical boolean, channel text, enabled boolean,
               is_default boolean, locked boolean)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  return query
  select t.type, t.category, t.description, t.critical, c.channel,
         case when c.channel = 'email' and t.critical then true
              else coalesce(p.enabled, case c.channel when 'in_app' then t.in_app when 'email' then t.email
                                                      when 'sms' then t.sms when 'whatsapp' then t.whatsapp
                                                      else t.push end) end,
         p.enabled is null,
         c.channel = 'email' and t.critical
    from private.notification_types t
   cross join (values (1, 'in_app'), (2, 'email'), (3, 'sms'), (4, 'whatsapp'), (5, 'push')) c(ord, channel)
    left join public.notification_preferences p on p.user_id = v_uid and p.type = t.type and p.channel = c.channel
   order by t.category, t.type, c.ord;
end
$$;

create or replace function public.my_notification_preferences()
returns table (type text, category text, description text, critical boolean, channel text, enabled boolean,
               is_default boolean, locked boolean)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.my_notification_preferences();
end
$$;
comment on function public.my_notification_preferences() is
  'The caller''s full preference grid: every notification type × channel (in_app, email, sms, whatsapp, push) with the effective value, whether it is the default, and locked = true where it cannot be changed (email of critical types). SMS/WhatsApp also need a verified phone (and WhatsApp an opt-in) in notification_settings; push needs a device registered with register_push_device. Errors: 42501 not_authenticated.';

create or replace function private.set_notification_preference(p_type text, p_channel text, p_enabled boolean)
returns public.notification_preferences
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.notification_preferences;
begin
  if p_channel is null or p_channel not in ('in_app', 'email', 'sms', 'whatsapp', 'push') then
    perform private.raise_error('22023', 'invalid_channel', format('"%s" is not a channel: use in_app, email, sms, whatsapp or push.', p_channel));
  end if;
  if p_type is null or not exists (select 1 from private.notification_types t where t.type = p_type) then
    perform private.raise_error('22023', 'unknown_notification_type', format('"%s" is not a notification type.', p_type));
  end if;
  if p_enabled is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_enabled is true or false.');
  end if;
  insert into public.notification_preferences (user_id, type, channel, enabled)
  values (v_uid, p_type, p_channel, p_enabled)
  on conflict (user_id, type, channel) do update set enabled = excluded.enabled
  returning * into v_row;
  return v_row;
end
$$;

create or replace function public.set_notification_preference(p_type text, p_channel text, p_enabled boolean)
returns public.notification_preferences
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.set_notification_preference(p_type, p_channel, p_enabled);
end
$$;
comment on function public.set_notification_preference(text, text, boolean) is
  'Turns one notification type on or off for one channel (in_app, email, sms, whatsapp, push) for the caller. Errors: 22023 invalid_channel, unknown_notification_type, invalid_argument; P0001 critical_notification (email of payment, refund, payout, dispute and cancellation types stays on); 42501 not_authenticated.';

-- ---------------------------------------------------------------------------------------------
-- In-app: notify (with muting), inbox listing, unread count, mark read
-- ---------------------------------------------------------------------------------------------

-- Stores an in-app notification and broadcasts it on user:<id>; returns its id. A type the user
-- muted in-app is stored already read and not broadcast. A deleted account (its tombstone, see
-- 20261125170500_account_deletion) gets nothing: no row, no broadcast, no outbound alert; null.
create or replace function private.notify(
  p_user_id uuid, p_type text, p_title text, p_body text default null, p_data jsonb default '{}'::jsonb
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.notifications;
  v_in_app boolean;
begin
  if exists (select 1 from public.profiles p where p.id = p_user_id and p.deleted_at is not null) then
    return null;
  end if;
  select coalesce(p.enabled, t.in_app, true) into v_in_app
    from (select 1) one
    left join private.notification_types t on t.type = p_type
    left join public.notification_preferences p on p.user_id = p_user_id and p.type = p_type and p.channel = 'in_app';
  insert into public.notifications (user_id, type, title, body, data, read_at)
  values (p_user_id, p_type, p_title, p_body, coalesce(p_data, '{}'::jsonb), case when not v_in_app then now() end)
  returning * into v_row;
  if v_in_app then
    perform realtime.send(to_jsonb(v_row), 'notification_created', 'user:' || p_user_id::text, true);
  end if;
  return v_row.id;
end
$$;
comment on function private.notify(uuid, text, text, text, jsonb) is
  'Writes an in-app notification and broadcasts it (event notification_created) on the private topic user:<id>, in the caller''s transaction. A type the user muted in-app is stored already read and not broadcast. Outbound alerts fan out from the insert (alert outbox). Deleted accounts get nothing (returns null).';
revoke execute on function private.notify(uuid, text, text, text, jsonb) from public;

-- Notifications one person causes another to get (a reminder they set, a booking they cancel,
-- an invitation they send) never cross a block, in either direction (issue 13).
create or replace function private.notify_from(
  p_actor uuid, p_user_id uuid, p_type text, p_title text, p_body text default null, p_data jsonb default '{}'::jsonb
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_actor is not null and p_actor is distinct from p_user_id and private.is_blocked_between(p_actor, p_user_id) then
    return null;
  end if;
  return private.notify(p_user_id, p_type, p_title, p_body, p_data);
end
$$;
comment on function private.notify_from(uuid, uuid, text, text, text, jsonb) is
  'private.notify for a notification p_actor causes p_user_id to get: nothing (null) when either has blocked the other.';
revoke execute on function private.notify_from(uuid, uuid, text, text, text, jsonb) from public;

-- Welcome: once, when the account can be reached — its email (or phone) confirmed, at sign-up
-- when Auth confirms at once, or later when the user follows the confirmation link. Never for an
-- unconfirmed address: anyone can sign up with someone else's email, and that person must not
-- hear from Rally because of it. Runs after the profile trigger (on_auth_user_created).
create or replace function private.send_welcome() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.confirmed_at is not null
     and (tg_op = 'INSERT' or old.confirmed_at is null)
     and exists (select 1 from public.profiles p where p.id = new.id)
     and not exists (select 1 from public.notifications n where n.user_id = new.id and n.type = 'welcome') then
    perform private.notify(new.id, 'welcome', 'Welcome to Rally',
      'Find events near you, follow hosts you like, and book in a tap.',
      jsonb_build_object('dedupe_key', 'welcome'));
  end if;
  return null;
end
$$;
comment on function private.send_welcome() is
  'Trigger on auth.users: the welcome notification, once, when the account''s email or phone is first confirmed.';
create trigger on_auth_user_welcome after insert or update of email_confirmed_at, phone_confirmed_at on auth.users
  for each row execute function private.send_welcome();

-- Notifies every admin (users with app_metadata.role = admin): refunds, disputes and Stripe events
-- that need a person.
create or replace function private.notify_admins(p_type text, p_title text, p_body text, p_data jsonb) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_admin uuid;
  v_count integer := 0;
begin
  for v_admin in
    select u.id from auth.users u join public.profiles p on p.id = u.id
     where u.raw_app_meta_data ->> 'role' = 'admin' order by u.id
  loop
    perform private.notify(v_admin, p_type, p_title, p_body, p_data);
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;
comment on function private.notify_admins(text, text, text, jsonb) is 'Sends an in-app notification to every admin.';
revoke execute on function private.notify_admins(text, text, text, jsonb) from public;

create or replace function private.my_notifications(p_cursor text, p_limit integer, p_unread_only boolean)
returns table (id uuid, type text, title text, body text, data jsonb, read_at timestamptz, created_at timestamptz, cursor text)
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
  select n.id, n.type, n.title, n.body, n.data, n.read_at, n.created_at, private.encode_keyset_cursor(n.created_at, n.id)
    from public.notifications n
   where n.user_id = v_uid
     and (n.created_at, n.id) < (v_at, v_id)
     and (not coalesce(p_unread_only, false) or n.read_at is null)
   order by n.created_at desc, n.id desc
   limit v_limit;
end
$$;

create or replace function public.my_notifications(p_cursor text default null, p_limit integer default 20, p_unread_only boolean default false)
returns table (id uuid, type text, title text, body text, data jsonb, read_at timestamptz, created_at timestamptz, cursor text)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.my_notifications(p_cursor, p_limit, p_unread_only);
end
$$;
comment on function public.my_notifications(text, integer, boolean) is
  'The caller''s in-app notifications, newest first, keyset paginated (pass the last row''s cursor; p_limit 1–100, default 20; p_unread_only). New ones also arrive live on user:<id> as notification_created. Errors: 22023 invalid_cursor, invalid_limit; 42501 not_authenticated.';

create or replace function private.unread_notification_count() returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select count(*)::integer from public.notifications n where n.user_id = private.require_user() and n.read_at is null
$$;

create or replace function public.unread_notification_count() returns integer
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.unread_notification_count();
end
$$;
comment on function public.unread_notification_count() is 'How many of the caller''s in-app notifications are unread. Errors: 42501 not_authenticated.';

create or replace function private.mark_notifications_read(p_ids uuid[]) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_ids uuid[];
begin
  -- PostgREST coerces [["…"], ["…"]] to a two-dimensional array, which array_position refuses
  -- with an internal error: check the dimensions first, on their own.
  if p_ids is not null and array_ndims(p_ids) > 1 then
    perform private.raise_error('22023', 'invalid_ids', 'Give the notification ids as a flat list (or null for all).');
  end if;
  if p_ids is not null and (cardinality(p_ids) > 1000 or array_position(p_ids, null) is not null) then
    perform private.raise_error('22023', 'invalid_ids', 'Give at most 1,000 notification ids, none of them null (or null for all).');
  end if;
  with marked as (
    update public.notifications n set read_at = now()
     where n.user_id = v_uid and n.read_at is null and (p_ids is null or n.id = any (p_ids))
    returning n.id
  )
  select coalesce(array_agg(marked.id), '{}') into v_ids from marked;
  if cardinality(v_ids) > 0 then
    -- The user's other devices clear the same badges.
    perform realtime.send(jsonb_build_object('ids', case when p_ids is null then null else to_jsonb(v_ids) end,
                                             'all', p_ids is null,
                                             'unread_count', (select count(*) from public.notifications n
                                                               where n.user_id = v_uid and n.read_at is null)),
                          'notifications_read', 'user:' || v_uid::text, true);
  end if;
  return cardinality(v_ids);
end
$$;

create or replace function public.mark_notifications_read(p_ids uuid[] default null) returns integer
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.mark_notifications_read(p_ids);
end
$$;
comment on function public.mark_notifications_read(uuid[]) is
  'Marks the caller''s notifications read: those in p_ids (a flat list), or all when p_ids is null. Returns how many changed; other ids are ignored. Broadcasts notifications_read (ids, unread_count) on user:<id>. Errors: 22023 invalid_ids; 42501 not_authenticated.';

-- Schema-level default privileges cannot take away PostgreSQL's global PUBLIC execute on new
-- functions, so each private function defined here is revoked explicitly, then granted.
revoke execute on function private.is_critical_type_name(text), private.notification_type_defaults(text), private.send_welcome(),
  private.validate_notification_preference(), private.quiet_hours_release(text, time, time, timestamptz),
  private.ensure_notification_settings(uuid), private.set_phone_number(text), private.set_whatsapp_opt_in(boolean, text),
  private.issue_phone_verification(uuid), private.verify_phone_number(text),
  private.set_quiet_hours(time, time), private.my_notification_preferences(), private.set_notification_preference(text, text, boolean),
  private.my_notifications(text, integer, boolean), private.unread_notification_count(), private.mark_notifications_read(uuid[])
  from public;
grant execute on function private.issue_phone_verification(uuid) to service_role;
grant execute on function private.set_phone_number(text), private.set_whatsapp_opt_in(boolean, text), private.set_quiet_hours(time, time),
  private.verify_phone_number(text), private.my_notification_preferences(), private.set_notification_preference(text, text, boolean),
  private.my_notifications(text, integer, boolean), private.unread_notification_count(), private.mark_notifications_read(uuid[])
  to authenticated;
grant execute on function private.quiet_hours_release(text, time, time, timestamptz), private.is_critical_type_name(text),
  private.notification_type_defaults(text) to service_role;
revoke execute on function public.set_phone_number(text), public.set_whatsapp_opt_in(boolean, text), public.set_quiet_hours(time, time),
  public.verify_phone_number(text), public.my_notification_preferences(), public.set_notification_preference(text, text, boolean),
  public.my_notifications(text, integer, boolean), public.unread_notification_count(), public.mark_notifications_read(uuid[])
  from public, anon, authenticated, service_role;
grant execute on function public.set_phone_number(text), public.set_whatsapp_opt_in(boolean, text), public.set_quiet_hours(time, time),
  public.verify_phone_number(text), public.my_notification_preferences(), public.set_notification_preference(text, text, boolean),
  public.my_notifications(text, integer, boolean), public.unread_notification_count(), public.mark_notifications_read(uuid[])
  to anon, authenticated;
