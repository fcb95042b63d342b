-- Calendar: an .ics file for each booking, and a per-user subscription feed.
--
-- The `calendar` edge function renders iCalendar (RFC 5545) from what this migration answers:
--   GET /functions/v1/calendar/bookings/<booking id>.ics   the signed-in guest's booking
--   GET /functions/v1/calendar/feed/<token>.ics             a calendar app's subscription
-- A calendar app cannot send a JWT, so the feed is reached by an unguessable token (256 bits,
-- base64url): create_calendar_feed() makes one (replacing any earlier one, which stops working at
-- once) and returns it once; only its SHA-256 is stored, so a database reader cannot subscribe
-- as someone else. revoke_calendar_feed() ends it.
--
-- What a calendar entry shows follows the event's own rules: the exact address, the location
-- and the online link only to those who may see them (private.can_see_event_details: the host,
-- co-hosts and confirmed guests); a held or pending booking is TENTATIVE and shows the venue
-- name and city only. Each event keeps one UID (<event id>@rally) in every file and feed, so a
-- calendar that imported the booking's file and subscribed to the feed shows it once, and
-- SEQUENCE grows with every change of time or place (change_event_details), a cancellation and
-- the booking's own progress (held or pending 0, confirmed 1, ended 2, plus 3 for each other
-- ended booking of the same event by the same guest), so calendars replace what they hold.

create table private.calendar_feeds (
  user_id uuid primary key references public.profiles (id) on delete cascade,
  token_sha256 bytea not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  constraint calendar_feeds_token_sha256 check (octet_length(token_sha256) = 32)
);
comment on table private.calendar_feeds is
  'Each user''s calendar subscription token, stored as its SHA-256 only (the token is shown once by create_calendar_feed). One per user; a new one replaces the old.';
create unique index calendar_feeds_token_key on private.calendar_feeds (token_sha256);

-- One VEVENT's worth: what the calendar function renders.
create type private.calendar_entry as (
  event_id uuid, booking_id uuid, role text, title text, description text, starts_at timestamptz, ends_at timestamptz,
  timezone text, location text, latitude double precision, longitude double precision, online_url text, status text,
  sequence integer, last_modified timestamptz, host_name text, quantity integer
);
comment on type private.calendar_entry is
  'A calendar entry: the event, the caller''s booking (null for staff), role guest | staff, what may be shown of the place, status CONFIRMED | TENTATIVE | CANCELLED, SEQUENCE and LAST-MODIFIED.';

-- The entries of a user's calendar: with p_booking_id, that one booking of theirs (whatever its
-- status); without, the feed — their active bookings and the events they host or co-host, from
-- 30 days ago on (so recent events stay in the calendar's history).
create or replace function private.calendar_entries(p_user_id uuid, p_booking_id uuid)
returns setof private.calendar_entry
language sql
stable
security definer
set search_path = ''
as $$
  with entries as (
    select e.id as event_id, b.id as booking_id, 'guest'::text as role, b.status as booking_status, b.quantity,
           greatest(e.updated_at, b.updated_at) as last_modified,
           -- The guest's other, ended bookings of the event (only one is ever active): a booking
           -- made again after one was cancelled must outrank it (the same UID), so each adds 3.
           (select count(*) from public.bookings o
             where o.event_id = b.event_id and o.guest_id = b.guest_id and o.id <> b.id
               and o.status not in ('held', 'pending_approval', 'confirmed')) as earlier
      from public.bookings b join private.events e on e.id = b.event_id
     where b.guest_id = p_user_id
       and case when p_booking_id is null
                then b.status in ('held', 'pending_approval', 'confirmed') and e.status in ('published', 'completed')
                     and e.ends_at > now() - interval '30 days'
                else b.id = p_booking_id end
    union all
    select e.id, null, 'staff', null, null, e.updated_at, 0
      from private.events e
     where p_booking_id is null and e.status in ('published', 'completed') and e.ends_at > now() - interval '30 days'
       and (e.host_id = p_user_id or exists (select 1 from public.event_cohosts c where c.event_id = e.id and c.user_id = p_user_id))
       and not exists (select 1 from public.bookings b where b.event_id = e.id and b.guest_id = p_user_id
                         and b.status in ('held', 'pending_approval', 'confirmed'))
  )
  select x.event_id, x.booking_id, x.role, e.title, e.description, e.starts_at, e.ends_at, e.timezone,
         nullif(case when d.full_details then concat_ws(', ', e.venue_name, e.address, e.city) else concat_ws(', ', e.venue_name, e.city) end, ''),
         case when d.full_details then extensions.st_y(e.location::extensions.geometry) end,
         case when d.full_details then extensions.st_x(e.location::extensions.geometry) end,
         case when d.full_details then e.online_url end,
         case when e.status = 'cancelled' or x.booking_status in ('cancelled', 'refunded', 'expired', 'declined') then 'CANCELLED'
              when x.booking_status in ('held', 'pending_approval') then 'TENTATIVE'
              else 'CONFIRMED' end,
         ((select count(*) from private.event_changes c where c.event_id = x.event_id)
          + case when e.status = 'cancelled' then 1 else 0 end + 3 * x.earlier
          + case when x.booking_status = 'confirmed' then 1
                 when x.booking_status in ('cancelled', 'refunded', 'expired', 'declined') then 2 else 0 end)::integer,
         x.last_modified, h.display_name, x.quantity
    from entries x
    join private.events e on e.id = x.event_id
    join public.profiles h on h.id = e.host_id
    cross join lateral (select private.can_see_event_details(e.id, p_user_id) as full_details) d
   order by e.starts_at, x.event_id
$$;
comment on function private.calendar_entries(uuid, uuid) is
  'Calendar entries for a user: one booking (p_booking_id) or the subscription feed (active bookings and hosted or co-hosted events ending from 30 days ago on). Exact address, location and link only where can_see_event_details allows; status CONFIRMED / TENTATIVE / CANCELLED; sequence grows with every change.';

-- The signed-in guest's booking as one calendar entry (the .ics download).
create or replace function private.booking_calendar(p_booking_id uuid)
returns setof private.calendar_entry
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_guest uuid;
begin
  select b.guest_id into v_guest from public.bookings b where b.id = p_booking_id;
  if v_guest is null then
    perform private.raise_error('22023', 'booking_not_found', 'No such booking.');
  end if;
  if v_guest is distinct from v_uid then
    perform private.raise_error('42501', 'not_your_booking', 'This booking is not yours.');
  end if;
  return query select * from private.calendar_entries(v_uid, p_booking_id);
end
$$;
comment on function private.booking_calendar(uuid) is
  'The caller''s own booking as a calendar entry (for GET /functions/v1/calendar/bookings/<id>.ics). Errors: 22023 booking_not_found; 42501 not_your_booking.';

-- Who a feed token belongs to (null when unknown, revoked, or the account was deleted); notes
-- when it was last used, at most once an hour, so polling calendars do not write on every fetch.
create or replace function private.calendar_feed_user(p_token text) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_feed private.calendar_feeds;
begin
  if p_token is null or p_token !~ '^[A-Za-z0-9_-]{43}$' then
    return null;
  end if;
  select f.* into v_feed from private.calendar_feeds f
   where f.token_sha256 = extensions.digest(p_token, 'sha256')
     and exists (select 1 from public.profiles p where p.id = f.user_id and p.deleted_at is null);
  if v_feed.user_id is null then
    return null;
  end if;
  if v_feed.last_used_at is null or v_feed.last_used_at < now() - interval '1 hour' then
    update private.calendar_feeds set last_used_at = now() where user_id = v_feed.user_id;
  end if;
  return v_feed.user_id;
end
$$;
comment on function private.calendar_feed_user(text) is
  'The user a calendar feed token belongs to, or null (malformed, unknown, replaced, revoked, or a deleted account). Records last_used_at hourly.';

create or replace function private.create_calendar_feed()
returns table (token text, path text, created_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_token text := translate(rtrim(encode(extensions.gen_random_bytes(32), 'base64'), '='), '+/', '-_');
  v_created timestamptz;
begin
  perform private.consume_rate_limit('calendar_feed', v_uid::text);
  insert into private.calendar_feeds as f (user_id, token_sha256)
  values (v_uid, extensions.digest(v_token, 'sha256'))
  on conflict (user_id) do update set token_sha256 = excluded.token_sha256, created_at = now(), last_used_at = null
  returning f.created_at into v_created;
  return query select v_token, '/functions/v1/calendar/feed/' || v_token || '.ics', v_created;
end
$$;

create or replace function public.create_calendar_feed()
returns table (token text, path text, created_at timestamptz)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.create_calendar_feed();
end
$$;
comment on function public.create_calendar_feed() is
  'Creates the caller''s calendar subscription and returns its secret token and path (append the path to the project URL; calendar apps also take it as webcal://). The feed lists the caller''s active bookings and the events they host, exact addresses only where they may see them. Calling it again replaces the token: the old URL stops working at once. The token is shown only here. Errors: 42501 not_authenticated; P0001 rate_limited (calendar_feed).';

create or replace function private.revoke_calendar_feed() returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  delete from private.calendar_feeds where user_id = v_uid;
  return found;
end
$$;

create or replace function public.revoke_calendar_feed() returns boolean
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.revoke_calendar_feed();
end
$$;
comment on function public.revoke_calendar_feed() is
  'Ends the caller''s calendar subscription: its URL answers 404 from now on. Returns whether there was one. Errors: 42501 not_authenticated.';

grant execute on function private.booking_calendar(uuid), private.create_calendar_feed(), private.revoke_calendar_feed() to authenticated;
grant execute on function private.calendar_feed_user(text), private.calendar_entries(uuid, uuid) to service_role;
revoke execute on function public.create_calendar_feed(), public.revoke_calendar_feed() from public, anon, authenticated, service_role;
grant execute on function public.create_calendar_feed(), public.revoke_calendar_feed() to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.booking_calendar(uuid),
  private.calendar_entries(uuid,uuid),
  private.calendar_feed_user(text),
  private.create_calendar_feed(),
  private.revoke_calendar_feed()
  from public;
