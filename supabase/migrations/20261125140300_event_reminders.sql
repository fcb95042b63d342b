-- Event reminders: every confirmed guest is reminded the day before and one hour before the
-- start, exactly once each.
--
-- When: "24 hours before" is read the way guests read it — the day before at the same local
-- time in the event's own time zone ("tomorrow at 19:00"), so across a daylight-saving change it
-- is 23 or 25 elapsed hours before the start; "1 hour before" is 60 elapsed minutes. Both are
-- computed from the event's IANA zone, never from the session's TimeZone.
-- Who: bookings confirmed at the moment the reminder falls due (someone who books 3 hours ahead
-- gets only the 1-hour reminder); a reminder that is late (the job was down) is still sent while
-- it makes sense — the 24-hour one until the 1-hour one is due, the 1-hour one until the start.
-- Exactly once: private.event_reminders_sent has one row per (booking, kind), inserted with
-- ON CONFLICT DO NOTHING in the same transaction as the notification, and the notification
-- carries the same dedupe key, so overlapping runs or a rerun send nothing twice.
-- Stops: only confirmed bookings of published events are picked; an alert still waiting (quiet
-- hours, retries) is dropped at send time when the booking or event was cancelled meanwhile
-- (private.alert_still_relevant).
-- Scheduled every minute with pg_cron (rally-send-event-reminders); the job takes the
-- current time as a parameter so tests can run it at any instant.

create table private.event_reminders_sent (
  booking_id uuid not null references public.bookings (id) on delete cascade,
  kind text not null,
  event_id uuid not null,
  due_at timestamptz not null,
  sent_at timestamptz not null default now(),
  notification_id uuid,
  primary key (booking_id, kind),
  constraint event_reminders_sent_kind check (kind in ('24h', '1h'))
);
comment on table private.event_reminders_sent is 'One row per reminder sent (booking × 24h | 1h): what makes reminders exactly-once.';

-- Upcoming published events by start, for the reminder scan.
create index events_published_start_idx on private.events (starts_at) where status = 'published';

-- When a reminder of kind p_kind falls due for an event starting at p_starts_at in p_timezone.
create or replace function private.reminder_due_at(p_kind text, p_starts_at timestamptz, p_timezone text) returns timestamptz
language sql
stable
set search_path = ''
as $$
  select case p_kind
    when '24h' then ((p_starts_at at time zone p_timezone) - interval '1 day') at time zone p_timezone
    when '1h' then p_starts_at - interval '1 hour'
  end
$$;
comment on function private.reminder_due_at(text, timestamptz, text) is
  '24h: the same local wall-clock time the day before, in the event''s zone (23 or 25 elapsed hours across DST); 1h: 60 minutes before.';

create or replace function private.send_event_reminders(p_now timestamptz default now(), p_limit integer default 5000)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  v_count integer := 0;
  v_notification uuid;
  v_local text;
begin
  for r in
    select b.id as booking_id, b.guest_id, e.id as event_id, e.title, e.starts_at, e.timezone, k.kind,
           private.reminder_due_at(k.kind, e.starts_at, e.timezone) as due_at
      from private.events e
      join public.bookings b on b.event_id = e.id and b.status = 'confirmed'
     cross join (values ('24h'), ('1h')) k(kind)
     where e.status = 'published'
       -- The 24-hour reminder is due at most 25 elapsed hours ahead (DST), so this bounds the scan.
       and e.starts_at > p_now and e.starts_at <= p_now + interval '26 hours'
       and private.reminder_due_at(k.kind, e.starts_at, e.timezone) <= p_now
       and (k.kind = '1h' or private.reminder_due_at('1h', e.starts_at, e.timezone) > p_now)
       and coalesce(b.confirmed_at, b.created_at) <= private.reminder_due_at(k.kind, e.starts_at, e.timezone)
       and not exists (select 1 from private.event_reminders_sent s where s.booking_id = b.id and s.kind = k.kind)
     order by e.starts_at, b.id
     limit p_limit
  loop
    insert into private.event_reminders_sent (booking_id, kind, event_id, due_at)
    values (r.booking_id, r.kind, r.event_id, r.due_at)
    on conflict (booking_id, kind) do nothing;
    continue when not found;
    v_local := to_char(r.starts_at at time zone r.timezone, 'HH24:MI');
    v_notification := private.notify(r.guest_id, 'event_reminder',
      case r.kind when '24h' then format('Tomorrow at %s: %s', v_local, r.title)
                  else format('Starting in 1 hour: %s', r.title) end,
      case r.kind when '24h' then 'See you there. Your ticket is in the app.'
                  else 'Have your check-in code ready.' end,
      jsonb_build_object('event_id', r.event_id, 'booking_id', r.booking_id, 'kind', r.kind,
                         'starts_at', r.starts_at, 'dedupe_key', 'event_reminder:' || r.booking_id || ':' || r.kind));
    update private.event_reminders_sent set notification_id = v_notification
     where booking_id = r.booking_id and kind = r.kind;
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;
comment on function private.send_event_reminders(timestamptz, integer) is
  'Job (every minute): sends the due 24h and 1h reminders to confirmed guests, each exactly once. Idempotent; p_now lets tests run it at any instant.';

-- Schema-level default privileges cannot take away PostgreSQL's global PUBLIC execute on new
-- functions, so each private function defined here is revoked explicitly, then granted.
revoke execute on function private.reminder_due_at(text, timestamptz, text), private.send_event_reminders(timestamptz, integer)
  from public;

select private.schedule_job('rally-send-event-reminders', '* * * * *', interval '1 minute',
  'select private.send_event_reminders()',
  'Sends the 24-hour and 1-hour reminders of upcoming events to confirmed guests (each once).');
