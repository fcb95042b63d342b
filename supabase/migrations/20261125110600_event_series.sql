-- Recurring series: one event repeated by an RFC 5545 recurrence rule in the event's own time
-- zone, each occurrence an ordinary event (booked, changed, cancelled, checked in and paid out
-- like any other).
--
-- How a series is made (the `event-series` edge function): the host names an event — a draft or
-- a published event that has not begun, the first occurrence — and a rule such as
-- FREQ=WEEKLY;BYDAY=TU;COUNT=10. The function expands the rule with the `rrule` library in
-- floating local time: DTSTART is the event's local wall-clock start, so "every Tuesday at 19:00"
-- stays 19:00 on both sides of a daylight-saving change. create_event_series turns each local
-- start into an instant with private.local_to_instant (RFC 5545 §3.3.5: a time that happens twice
-- is its first occurrence, a time skipped by the clocks going forward is read with the offset
-- before the gap) and copies the event, its ticket types (sales windows moved with the date) and
-- co-hosts to every later date. Occurrences of a published event are published at once (the
-- followers were told about the series when its first event was published); those of a draft
-- are drafts, published one by one with publish_event.
--
-- Changing and cancelling: one occurrence changes through change_event_details and is cancelled
-- with cancel_event, as any event; change_event_occurrences and cancel_event_occurrences do the
-- same to this occurrence and every later one that has not begun, each through that same path,
-- so every booked guest of every occurrence is told (event_changed / event_cancelled) and paid
-- bookings of cancelled occurrences are refunded in full. The rule stays as written: the
-- occurrences, not the rule, say when the series happens after such changes.
--
-- Limits: 2 to 100 occurrences within two years of the first (the function refuses longer
-- rules before anything is written).

create table public.event_series (
  id uuid primary key,
  host_id uuid not null references public.profiles (id),
  rrule text not null,
  timezone text not null,
  first_local_start timestamp not null,
  occurrence_count integer not null,
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  constraint event_series_rrule_length check (char_length(rrule) between 1 and 500),
  constraint event_series_occurrence_count check (occurrence_count between 2 and 100)
);
revoke all on public.event_series from public, anon, authenticated, service_role;
comment on table public.event_series is
  'Recurring series: the RFC 5545 rule (RRULE value, in the series'' time zone, DTSTART = first_local_start) its occurrences were made from. Its id is the first occurrence''s event id; the occurrences are the events with this series_id, ordered by series_position. Visible with any of its occurrences; made by the event-series edge function.';
comment on column public.event_series.rrule is 'The recurrence rule as the host gave it, e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10 (UNTIL in local time).';
comment on column public.event_series.first_local_start is 'DTSTART: the first occurrence''s wall-clock start in the series'' time zone.';
create index event_series_host_idx on public.event_series (host_id);
create index event_series_created_by_idx on public.event_series (created_by);

alter table private.events add constraint events_series_fk foreign key (series_id) references public.event_series (id);

alter table public.event_series enable row level security;
create policy "series are visible with their occurrences" on public.event_series
  for select to anon, authenticated
  using (exists (select 1 from private.events e where e.series_id = id and private.can_see_event(e.id, (select auth.uid()))));
grant select on public.event_series to anon, authenticated;
grant select, insert, update, delete on public.event_series to service_role;

-- RFC 5545 §3.3.5 for a local date-time in an IANA zone: when the clocks go back and the time
-- happens twice, the first (earlier) instant; when they go forward and it never happens, the
-- time read with the UTC offset in force before the gap (02:30 on a spring-forward night in New
-- York is 03:30 EDT). PostgreSQL's own `at time zone` picks the later instant for a repeated
-- time, so candidates are built from the offsets in force a day before and a day after and the
-- earliest one whose wall clock is the given time wins.
create or replace function private.local_to_instant(p_local timestamp, p_timezone text) returns timestamptz
language sql
stable
set search_path = ''
as $$
  with around as (
    select (p_local at time zone p_timezone) - interval '1 day' as before_change,
           (p_local at time zone p_timezone) + interval '1 day' as after_change
  ), offsets as (
    select (a.before_change at time zone p_timezone) - (a.before_change at time zone 'UTC') as before_gap,
           (a.after_change at time zone p_timezone) - (a.after_change at time zone 'UTC') as after_gap
      from around a
  )
  select coalesce(
    (select min(c.instant)
       from offsets o cross join lateral (values ((p_local - o.before_gap) at time zone 'UTC'),
                                                 ((p_local - o.after_gap) at time zone 'UTC')) as c (instant)
      where c.instant at time zone p_timezone = p_local),
    (select (p_local - o.before_gap) at time zone 'UTC' from offsets o))
$$;
comment on function private.local_to_instant(timestamp, text) is
  'The instant of a wall-clock time in an IANA zone, as RFC 5545 reads it: a repeated time (clocks going back) is its first occurrence; a skipped time (clocks going forward) uses the offset before the gap.';

-- The event a series is made from, locked, after the same checks create_event_series makes;
-- the event-series function reads its local start to expand the rule from.
create or replace function private.series_template(p_event_id uuid)
returns table (event_id uuid, local_start timestamp, timezone text, status text)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
begin
  select * into v_event from private.events e where e.id = p_event_id for update;
  if v_event.id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if private.is_event_staff(p_event_id, v_uid, array['manager']) is not true then
    perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can repeat this event.');
  end if;
  if v_event.status not in ('draft', 'published') then
    perform private.raise_error('P0001', 'event_closed', format('A %s event cannot be repeated.', v_event.status));
  end if;
  if v_event.series_id is not null then
    perform private.raise_error('P0001', 'already_in_series', 'This event already belongs to a series.');
  end if;
  if v_event.starts_at <= now() then
    perform private.raise_error('P0001', 'event_in_past', 'A series starts with an event that has not begun.');
  end if;
  return query select v_event.id, v_event.starts_at_local, v_event.timezone, v_event.status;
end
$$;
comment on function private.series_template(uuid) is
  'Locks and checks the event a series is to be made from (host or managing co-host; draft or published; not begun; not in a series) and returns its local start and time zone. Errors: 22023 event_not_found; 42501 not_event_staff; P0001 event_closed, already_in_series, event_in_past.';

-- Makes the series: p_local_starts are the rule's occurrences as local wall-clock starts (the
-- first is the event's own start). With p_dry_run nothing is written and the dates are returned.
create or replace function private.create_event_series(
  p_event_id uuid, p_rrule text, p_local_starts timestamp[], p_dry_run boolean
) returns table (event_id uuid, series_position integer, starts_at timestamptz, ends_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_template private.events;
  v_count integer := coalesce(cardinality(p_local_starts), 0);
  v_local_length interval;
  v_start timestamptz;
  v_end timestamptz;
  v_shift interval;
  v_id uuid;
  v_ticket public.ticket_types;
begin
  perform private.series_template(p_event_id);
  select * into v_template from private.events e where e.id = p_event_id;
  if p_rrule is null or char_length(btrim(p_rrule)) not between 1 and 500 then
    perform private.raise_error('22023', 'invalid_rrule', 'A recurrence rule has 1 to 500 characters.');
  end if;
  if v_count not between 2 and 100 or array_position(p_local_starts, null) is not null then
    perform private.raise_error('22023', 'invalid_occurrences', 'A series has 2 to 100 dates.');
  end if;
  if p_local_starts[1] is distinct from v_template.starts_at_local then
    perform private.raise_error('22023', 'rrule_not_synchronized', 'The first date of a series is the event''s own start.');
  end if;
  for i in 2 .. v_count loop
    if (p_local_starts[i] > p_local_starts[i - 1]) is not true then
      perform private.raise_error('22023', 'invalid_occurrences', 'A series'' dates are in order, each after the one before.');
    end if;
  end loop;
  if p_local_starts[v_count] > p_local_starts[1] + interval '2 years' then
    perform private.raise_error('22023', 'series_too_long', 'A series spans at most two years.');
  end if;

  -- The wall-clock length: an event from 19:00 to 22:00 stays 19:00–22:00 on every date.
  v_local_length := (v_template.ends_at at time zone v_template.timezone) - v_template.starts_at_local;
  if p_dry_run then
    return query
      select case when n = 1 then v_template.id end, n,
             private.local_to_instant(p_local_starts[n], v_template.timezone),
             private.local_to_instant(p_local_starts[n] + v_local_length, v_template.timezone)
        from generate_series(1, v_count) as n;
    return;
  end if;

  perform private.consume_rate_limit('event_series', v_uid::text);
  insert into public.event_series (id, host_id, rrule, timezone, first_local_start, occurrence_count, created_by)
  values (v_template.id, v_template.host_id, btrim(p_rrule), v_template.timezone, v_template.starts_at_local, v_count, v_uid);
  update private.events set series_id = v_template.id, series_position = 1 where id = v_template.id;
  event_id := v_template.id; series_position := 1; starts_at := v_template.starts_at; ends_at := v_template.ends_at;
  return next;

  for i in 2 .. v_count loop
    v_start := private.local_to_instant(p_local_starts[i], v_template.timezone);
    v_end := private.local_to_instant(p_local_starts[i] + v_local_length, v_template.timezone);
    v_shift := v_start - v_template.starts_at;
    insert into private.events (host_id, title, description, category, starts_at, ends_at, timezone, venue_name, address, city,
                                location, online_url, visibility, status, requires_approval, refund_policy, cover_path,
                                published_at, series_id, series_position)
    values (v_template.host_id, v_template.title, v_template.description, v_template.category, v_start, v_end,
            v_template.timezone, v_template.venue_name, v_template.address, v_template.city, v_template.location,
            v_template.online_url, v_template.visibility, v_template.status, v_template.requires_approval,
            v_template.refund_policy, v_template.cover_path,
            case when v_template.status = 'published' then now() end, v_template.id, i)
    returning id into v_id;
    -- Every ticket type, with its sales window moved with the date (and closing by the end).
    for v_ticket in select * from public.ticket_types t where t.event_id = v_template.id order by t.position, t.created_at, t.id loop
      v_ticket.id := gen_random_uuid();
      v_ticket.event_id := v_id;
      v_ticket.sales_end := case when v_ticket.sales_end is not null then least(v_ticket.sales_end + v_shift, v_end) end;
      v_ticket.sales_start := case when v_ticket.sales_start + v_shift < coalesce(v_ticket.sales_end, v_end)
                                   then v_ticket.sales_start + v_shift end;
      v_ticket.created_at := now();
      insert into public.ticket_types select (v_ticket).*;
    end loop;
    insert into public.event_cohosts (event_id, user_id, role, added_by)
    select v_id, c.user_id, c.role, c.added_by from public.event_cohosts c where c.event_id = v_template.id;
    event_id := v_id; series_position := i; starts_at := v_start; ends_at := v_end;
    return next;
  end loop;
end
$$;
comment on function private.create_event_series(uuid, text, timestamp[], boolean) is
  'Makes a recurring series from an event (see series_template) and the local starts of its rule''s occurrences (2–100, in order, within two years, the first the event''s own start): every later date becomes an event with the same details, ticket types (sales windows moved with the date), co-hosts and status. p_dry_run returns the dates without writing. Errors: 22023 invalid_rrule / invalid_occurrences / rrule_not_synchronized / series_too_long; P0001 rate_limited (event_series); and those of series_template.';

-- The occurrences an operation on "this" or "this and following" reaches: the event itself,
-- or it and every later occurrence of its series that has not begun and is still open, locked
-- in series order (the order every such operation locks them in).
create or replace function private.series_scope(p_event_id uuid, p_scope text) returns setof private.events
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
begin
  if p_scope is null or p_scope not in ('this', 'following') then
    perform private.raise_error('22023', 'invalid_scope', 'The scope is this (one occurrence) or following (this one and every later one).');
  end if;
  select * into v_event from private.events e where e.id = p_event_id;
  if v_event.id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if p_scope = 'following' and v_event.series_id is null then
    perform private.raise_error('22023', 'not_in_series', 'This event is not part of a series.');
  end if;
  return query
    select e.* from private.events e
     where e.id = p_event_id
        or (p_scope = 'following' and e.series_id = v_event.series_id and e.series_position > v_event.series_position
            and e.status in ('draft', 'published') and e.starts_at > now())
     order by e.series_position nulls first
     for update;
end
$$;
comment on function private.series_scope(uuid, text) is
  'The occurrences "this" or "this and following" reaches (later ones only if open and not begun), locked in series order. Errors: 22023 invalid_scope / event_not_found / not_in_series.';

create or replace function private.change_event_occurrences(
  p_event_id uuid, p_scope text, p_start_time time, p_end_time time, p_venue_name text, p_address text, p_city text,
  p_lat double precision, p_lng double precision, p_online_url text, p_reason text
) returns setof public.events
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
  v_new private.events;
  v_local_start timestamp;
  v_local_end timestamp;
  v_times_change boolean := p_start_time is not null or p_end_time is not null;
  v_ids uuid[] := array[]::uuid[];
begin
  for v_event in select * from private.series_scope(p_event_id, p_scope) loop
    if private.is_event_staff(v_event.id, v_uid, array['manager']) is not true then
      perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can change this event.');
    end if;
    -- A new time of day applies on each occurrence's own date, in its own zone; without a new
    -- end, the occurrence keeps its wall-clock length.
    v_local_start := coalesce(v_event.starts_at_local::date + p_start_time, v_event.starts_at_local);
    v_local_end := case
      when p_end_time is not null
        then v_event.starts_at_local::date + p_end_time
             + case when p_end_time <= v_local_start::time then interval '1 day' else interval '0' end
      else v_local_start + ((v_event.ends_at at time zone v_event.timezone) - v_event.starts_at_local) end;
    if v_event.status = 'draft' then
      -- Nobody has booked a draft: it changes directly (validate_event checks the result).
      v_new := private.event_with_details(v_event,
        case when v_times_change then private.local_to_instant(v_local_start, v_event.timezone) end,
        case when v_times_change then private.local_to_instant(v_local_end, v_event.timezone) end,
        null, p_venue_name, p_address, p_city, p_lat, p_lng, p_online_url);
      update private.events
         set starts_at = v_new.starts_at, ends_at = v_new.ends_at, venue_name = v_new.venue_name, address = v_new.address,
             city = v_new.city, location = v_new.location, online_url = v_new.online_url
       where id = v_event.id;
    else
      perform private.change_event_details(v_event.id,
        case when v_times_change then private.local_to_instant(v_local_start, v_event.timezone) end,
        case when v_times_change then private.local_to_instant(v_local_end, v_event.timezone) end,
        null, p_venue_name, p_address, p_city, p_lat, p_lng, p_online_url, p_reason);
    end if;
    v_ids := v_ids || v_event.id;
  end loop;
  return query select v.* from public.events v join unnest(v_ids) with ordinality as x (id, n) on x.id = v.id order by x.n;
end
$$;

create or replace function public.change_event_occurrences(
  p_event_id uuid, p_scope text default 'this', p_start_time time default null, p_end_time time default null,
  p_venue_name text default null, p_address text default null, p_city text default null,
  p_lat double precision default null, p_lng double precision default null, p_online_url text default null,
  p_reason text default null
) returns setof public.events
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.change_event_occurrences(p_event_id, p_scope, p_start_time, p_end_time, p_venue_name,
                                                              p_address, p_city, p_lat, p_lng, p_online_url, p_reason);
end
$$;
comment on function public.change_event_occurrences(uuid, text, time, time, text, text, text, double precision, double precision, text, text) is
  'Host or managing co-host changes the time of day, place or online link of one occurrence (p_scope this) or of it and every later occurrence of its series that has not begun (following). p_start_time / p_end_time are wall-clock times applied on each occurrence''s own date in its own time zone (an end before the start is the next day; without p_end_time the length is kept); null keeps a value, '''' clears a text field. Published occurrences change through change_event_details, so every booked guest is told and a material change opens their full-refund window; drafts change directly. Returns the changed events. Errors: 22023 invalid_scope / event_not_found / not_in_series / invalid_location / event_in_past (and the event field checks); 42501 not_event_staff; P0001 event_closed / event_started.';

create or replace function private.cancel_event_occurrences(p_event_id uuid, p_scope text, p_reason text)
returns setof public.events
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_event private.events;
  v_ids uuid[] := array[]::uuid[];
begin
  for v_event in select * from private.series_scope(p_event_id, p_scope) loop
    perform private.cancel_event(v_event.id, p_reason);
    v_ids := v_ids || v_event.id;
  end loop;
  return query select v.* from public.events v join unnest(v_ids) with ordinality as x (id, n) on x.id = v.id order by x.n;
end
$$;

create or replace function public.cancel_event_occurrences(p_event_id uuid, p_scope text default 'this', p_reason text default null)
returns setof public.events
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.cancel_event_occurrences(p_event_id, p_scope, p_reason);
end
$$;
comment on function public.cancel_event_occurrences(uuid, text, text) is
  'The host cancels one occurrence (p_scope this) or it and every later occurrence of its series that has not begun (following), each through cancel_event: bookings cancelled, paid ones refunded in full, guests and waitlists told. Returns the cancelled events. Errors: 22023 invalid_scope / event_not_found / not_in_series / reason_too_long; 42501 not_your_event; P0001 event_closed.';

grant execute on function private.series_template(uuid), private.create_event_series(uuid, text, timestamp[], boolean),
  private.change_event_occurrences(uuid, text, time, time, text, text, text, double precision, double precision, text, text),
  private.cancel_event_occurrences(uuid, text, text)
  to authenticated;
revoke execute on function
  public.change_event_occurrences(uuid, text, time, time, text, text, text, double precision, double precision, text, text),
  public.cancel_event_occurrences(uuid, text, text)
  from public, anon, authenticated, service_role;
grant execute on function
  public.change_event_occurrences(uuid, text, time, time, text, text, text, double precision, double precision, text, text),
  public.cancel_event_occurrences(uuid, text, text)
  to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.cancel_event_occurrences(uuid,text,text),
  private.change_event_occurrences(uuid,text,time,time,text,text,text,double precision,double precision,text,text),
  private.create_event_series(uuid,text,timestamp[],boolean),
  private.local_to_instant(timestamp,text),
  private.series_scope(uuid,text),
  private.series_template(uuid)
  from public;
