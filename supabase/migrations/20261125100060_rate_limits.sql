-- Rate limits: one small limiter for every write an account can repeat (issue 13).
--
-- A limit is a row of private.rate_limits: at most max_calls per `per` for one action and one
-- key — a user id for what a signed-in user does, an event id for anonymous event views (the
-- database sees no IP address), a phone number's SHA-256 digest for verification codes sent to
-- it, a recipient for outbound alerts. Operators change a row (Studio, or admin.set_rate_limit) and the next
-- call uses it; nothing is cached.
--
-- Calls are counted with a token bucket per (action, key) in private.rate_limit_buckets: the
-- bucket holds up to max_calls tokens, refills continuously at max_calls per `per`, and each
-- call takes one token (or p_cost: adding 40 people to a group takes 40). A full bucket allows a
-- burst of max_calls; after that, calls are admitted at the refill rate. A call that finds too
-- few tokens raises SQLSTATE P0001 with hint rate_limited, a message saying how long to wait,
-- and DETAIL as JSON {"action", "limit", "per_seconds", "retry_after_seconds"}; the edge
-- functions answer it with 429 and Retry-After. Nothing is taken from a refused call.
--
-- Concurrency: the bucket row is read and updated in one INSERT … ON CONFLICT DO UPDATE … WHERE
-- statement, which takes the row lock and re-checks the tokens on the latest row version, so
-- twenty parallel calls against a bucket of five admit exactly five. The lock is held to the
-- end of the caller's transaction, so one key's calls of one action queue briefly; different
-- users or actions never wait for each other.
--
-- A call taken from the bucket inside an RPC that later fails is given back by that RPC's
-- rollback: only writes that happened are counted. Edge functions take their token in its own
-- transaction right before the provider call, so every call that reaches Stripe or Twilio counts.
--
-- The per-recipient caps on email, SMS, WhatsApp and push (alert_*_per_hour, alert_*_per_day) live in
-- the same settings table but are counted differently: the alert dispatcher counts what it
-- already handed to a provider for that person in the last hour and day (sliding windows over
-- private.alert_deliveries, 20261125140200_alert_outbox) and skips, with a reason, what is over.

create table private.rate_limits (
  action text primary key,
  max_calls integer not null,
  per interval not null,
  scope text not null,
  label text not null,
  description text not null,
  updated_at timestamptz not null default now(),
  constraint rate_limits_action_format check (action ~ '^[a-z][a-z0-9_]{1,62}$'),
  constraint rate_limits_max_calls check (max_calls between 1 and 1000000),
  constraint rate_limits_per check (per between interval '1 second' and interval '30 days'),
  constraint rate_limits_scope check (scope in ('user', 'anonymous', 'phone_number', 'recipient', 'event'))
);
comment on table private.rate_limits is
  'Every rate limit Rally enforces: at most max_calls per `per` for one action and one key (scope: a user, anonymous callers per event, a phone number, an alert recipient, an event). Operators change max_calls and per here (or with admin.set_rate_limit); the next call uses the new values.';
comment on column private.rate_limits.scope is 'What the key is: user (the caller''s id), anonymous (anonymous callers, per event), phone_number (the SHA-256 hex digest of the E.164 number), recipient (the user an alert goes to), event (an event, whoever of its staff acts).';
comment on column private.rate_limits.label is 'Plural noun for the message a limited caller reads ("bookings", "messages").';

insert into private.rate_limits (action, max_calls, per, scope, label, description) values
  ('event_create',              30, interval '1 hour',     'user',         'new events',             'Events a host creates (public.events inserts).'),
  ('event_series',              10, interval '1 hour',     'user',         'new series',             'Recurring series a host makes with the event-series function (each makes up to 100 dates).'),
  ('calendar_feed',             10, interval '1 hour',     'user',         'new calendar links',     'create_calendar_feed (each call makes a new secret feed URL).'),
  ('payout_schedule',           20, interval '1 hour',     'user',         'payout schedule changes', 'set_payout_schedule.'),
  ('booking',                   20, interval '1 hour',     'user',         'bookings',               'book_event and join_waitlist calls that book or queue.'),
  ('booking_cancel',            20, interval '1 hour',     'user',         'cancellations',          'cancel_booking and leave_waitlist calls by a guest.'),
  ('follow',                   100, interval '1 hour',     'user',         'follows',                'New follows (follow_user or an insert into follows).'),
  ('event_view',               300, interval '1 hour',     'user',         'event views',            'record_event_view by a signed-in user.'),
  ('event_view_anonymous',     600, interval '1 hour',     'anonymous',    'anonymous event views',  'record_event_view by anonymous callers, counted per event (the database sees no IP address).'),
  ('group_create',              10, interval '1 hour',     'user',         'new groups',             'create_group_conversation.'),
  ('group_people',             300, interval '1 hour',     'user',         'people added to groups', 'People a user adds, invites to or removes from groups (cost = number of people).'),
  ('message',                   30, interval '10 seconds', 'user',         'messages',               'send_message (every kind).'),
  ('chat_reminder',             10, interval '1 hour',     'user',         'chat reminders',         'Reminder messages, which notify every member when they fire (on top of the message limit).'),
  ('report',                    20, interval '1 hour',     'user',         'reports',                'report_content (new reports; repeating an open report is free).'),
  ('checkout',                  20, interval '1 hour',     'user',         'checkout attempts',      'The checkout edge function''s calls to Stripe.'),
  ('connect_onboarding',        10, interval '1 hour',     'user',         'onboarding requests',    'The connect-onboarding edge function''s calls to Stripe (POST, and GET ?refresh=true).'),
  ('phone_verification',         5, interval '1 hour',     'user',         'verification codes',     'Verification codes a user asks to be sent by SMS.'),
  ('phone_verification_number',  5, interval '1 day',      'phone_number', 'verification codes to this number', 'Verification codes sent to one phone number, whoever asks.'),
  ('phone_verification_check',  10, interval '1 hour',     'user',         'verification attempts',  'Codes a user submits to verify_phone_number (each code also allows only 5 attempts).'),
  ('alert_email_per_hour',      20, interval '1 hour',     'recipient',    'emails',                 'Non-critical emails to one person per hour (dispatcher cap; over it the alert is skipped with a reason).'),
  ('alert_email_per_day',      100, interval '1 day',      'recipient',    'emails',                 'Non-critical emails to one person per day.'),
  ('alert_sms_per_hour',         5, interval '1 hour',     'recipient',    'text messages',          'Non-critical SMS to one person per hour.'),
  ('alert_sms_per_day',         20, interval '1 day',      'recipient',    'text messages',          'Non-critical SMS to one person per day.'),
  ('alert_whatsapp_per_hour',    5, interval '1 hour',     'recipient',    'WhatsApp messages',      'Non-critical WhatsApp messages to one person per hour.'),
  ('alert_whatsapp_per_day',    20, interval '1 day',      'recipient',    'WhatsApp messages',      'Non-critical WhatsApp messages to one person per day.'),
  ('alert_push_per_hour',       60, interval '1 hour',     'recipient',    'push notifications',     'Non-critical push notifications to one person (all their devices together) per hour.'),
  ('alert_push_per_day',       300, interval '1 day',      'recipient',    'push notifications',     'Non-critical push notifications to one person (all their devices together) per day.'),
  ('push_device',               20, interval '1 hour',     'user',         'device registrations',   'register_push_device calls (apps register at every start; more is a loop).'),
  ('event_announcement',         5, interval '1 day',      'event',        'announcements',          'send_event_announcement per event, whoever of its staff sends them: each reaches every guest on every channel they chose.');

create table private.rate_limit_buckets (
  action text not null references private.rate_limits (action) on update cascade on delete cascade,
  key text not null,
  tokens double precision not null,
  refilled_at timestamptz not null,
  primary key (action, key),
  constraint rate_limit_buckets_key_length check (char_length(key) between 1 and 200)
);
comment on table private.rate_limit_buckets is
  'Token buckets of private.rate_limits, one per action and key: tokens left at refilled_at. A full bucket is the same as no row; private.purge_rate_limit_buckets deletes those.';
create index rate_limit_buckets_refilled_idx on private.rate_limit_buckets (refilled_at);

-- "1 hour", "10 seconds", "3 minutes": for messages people read.
create or replace function private.describe_interval(p_interval interval) returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when s >= 86400 and s % 86400 = 0 then (s / 86400) || case when s = 86400 then ' day' else ' days' end
    when s >= 3600 and s % 3600 = 0 then (s / 3600) || case when s = 3600 then ' hour' else ' hours' end
    when s >= 120 then ceil(s / 60.0)::bigint || ' minutes'
    else s || case when s = 1 then ' second' else ' seconds' end
  end
  from (select ceil(extract(epoch from p_interval))::bigint as s) x
$$;
comment on function private.describe_interval(interval) is 'An interval as people say it: "1 hour", "10 seconds", "3 minutes", "2 days".';

-- Takes p_cost tokens from the bucket of (p_action, p_key), or raises P0001 rate_limited.
create or replace function private.consume_rate_limit(p_action text, p_key text, p_cost integer default 1) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_limit private.rate_limits;
  v_rate double precision;
  v_tokens double precision;
  v_wait integer;
begin
  select * into v_limit from private.rate_limits where action = p_action;
  if v_limit.action is null then
    raise exception 'unknown rate limit action %', p_action using errcode = '22023', hint = 'unknown_rate_limit';
  end if;
  if p_key is null or p_cost is null or p_cost < 0 then
    raise exception 'rate limit % needs a key and a cost of 0 or more', p_action using errcode = '22023', hint = 'invalid_argument';
  end if;
  if p_cost = 0 then
    return;
  end if;
  -- Tokens per second.
  v_rate := v_limit.max_calls / extract(epoch from v_limit.per);
  if p_cost <= v_limit.max_calls then
    insert into private.rate_limit_buckets as b (action, key, tokens, refilled_at)
    values (p_action, p_key, v_limit.max_calls - p_cost, now())
    on conflict (action, key) do update
       set tokens = least(v_limit.max_calls::double precision,
                          b.tokens + greatest(extract(epoch from now() - b.refilled_at), 0) * v_rate) - p_cost,
           refilled_at = greatest(b.refilled_at, now())
     where least(v_limit.max_calls::double precision,
                 b.tokens + greatest(extract(epoch from now() - b.refilled_at), 0) * v_rate) >= p_cost
    returning b.tokens into v_tokens;
    if v_tokens is not null then
      return;
    end if;
    -- Refused: the row is locked by the statement above, so this reads what it saw.
    select least(v_limit.max_calls::double precision, b.tokens + greatest(extract(epoch from now() - b.refilled_at), 0) * v_rate)
      into v_tokens
      from private.rate_limit_buckets b where b.action = p_action and b.key = p_key;
    v_wait := greatest(1, ceil((p_cost - coalesce(v_tokens, 0)) / v_rate))::integer;
  else
    -- More than a full bucket can ever hold.
    v_wait := ceil(extract(epoch from v_limit.per))::integer;
  end if;
  raise exception using
    errcode = 'P0001',
    hint = 'rate_limited',
    message = format('Too many %s: at most %s per %s. Try again in %s.', v_limit.label, v_limit.max_calls,
                     private.describe_interval(v_limit.per), private.describe_interval(make_interval(secs => v_wait))),
    detail = jsonb_build_object('action', p_action, 'limit', v_limit.max_calls,
                                'per_seconds', extract(epoch from v_limit.per)::integer,
                                'retry_after_seconds', v_wait)::text;
end
$$;
comment on function private.consume_rate_limit(text, text, integer) is
  'Takes p_cost calls (default 1) from the token bucket of action p_action and key p_key (a user id, an event id, a phone number); raises P0001 rate_limited (DETAIL: JSON with retry_after_seconds) when too few are left. Concurrency-safe (one row-locking upsert).';

-- The caller's own bucket for a user-scoped action, for the SQL behind edge functions that run
-- as the signed-in user. It answers for nobody else.
create or replace function private.consume_caller_rate_limit(p_action text) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from private.rate_limits l where l.action = p_action and l.scope = 'user') then
    raise exception '% is not a per-user rate limit', p_action using errcode = '22023', hint = 'unknown_rate_limit';
  end if;
  perform private.consume_rate_limit(p_action, private.require_user()::text);
end
$$;
comment on function private.consume_caller_rate_limit(text) is
  'Edge functions: takes one call of a per-user action (checkout, connect_onboarding) from the signed-in caller''s own bucket, or raises P0001 rate_limited.';

-- A bucket that has refilled completely holds nothing a missing row would not.
create or replace function private.purge_rate_limit_buckets() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  delete from private.rate_limit_buckets b
   using private.rate_limits l
   where l.action = b.action and b.refilled_at < now() - l.per;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function private.purge_rate_limit_buckets() is 'Job (hourly): deletes buckets that have refilled completely (untouched for a whole period).';

-- Operators: change a limit (or read them all in admin.rate_limits).
create or replace function admin.set_rate_limit(p_action text, p_max_calls integer, p_per interval) returns private.rate_limits
language plpgsql
set search_path = ''
as $$
declare
  v_row private.rate_limits;
begin
  update private.rate_limits set max_calls = p_max_calls, per = p_per, updated_at = now()
   where action = p_action
  returning * into v_row;
  if v_row.action is null then
    perform private.raise_error('22023', 'unknown_rate_limit', format('There is no rate limit called %s.', p_action));
  end if;
  return v_row;
end
$$;
comment on function admin.set_rate_limit(text, integer, interval) is
  'Operators: sets a limit to p_max_calls per p_per (e.g. select admin.set_rate_limit(''booking'', 40, ''1 hour'')). The next call uses it.';

create view admin.rate_limits with (security_invoker = true) as
select l.action, l.max_calls, l.per, l.scope, l.description, l.updated_at,
       count(b.key) as active_keys,
       count(b.key) filter (where least(l.max_calls::double precision,
                                        b.tokens + greatest(extract(epoch from now() - b.refilled_at), 0)
                                                   * l.max_calls / extract(epoch from l.per)) < 1) as limited_keys
  from private.rate_limits l
  left join private.rate_limit_buckets b on b.action = l.action
 group by l.action
 order by l.action;
comment on view admin.rate_limits is
  'Every rate limit with its setting, how many keys have a partly used bucket, and how many are limited right now (less than one call left).';
revoke all on admin.rate_limits from public, anon, authenticated, service_role;

revoke execute on function private.consume_rate_limit(text, text, integer), private.describe_interval(interval),
  private.consume_caller_rate_limit(text), private.purge_rate_limit_buckets(), admin.set_rate_limit(text, integer, interval)
  from public;
grant execute on function private.consume_rate_limit(text, text, integer) to service_role;
grant execute on function private.consume_caller_rate_limit(text) to authenticated;

select private.schedule_job('rally-purge-rate-limits', '23 * * * *', interval '1 hour',
  'select private.purge_rate_limit_buckets()',
  'Deletes rate-limit buckets that have refilled completely.');
