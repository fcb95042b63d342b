-- Events: what hosts create and guests discover.
--
-- Lifecycle draft → published → completed, or cancelled (publish_event, cancel_event, and the
-- complete_ended_events job). Rows live in private.events; apps use the view public.events,
-- which masks the exact address, online link and exact location for everyone but the host,
-- co-hosts and confirmed guests (others see the venue name, the city and a location rounded to
-- about a kilometre). Writes through the view go to INSTEAD OF triggers that check who may
-- write what; every row is validated by a trigger on private.events whoever writes it.
-- Visibility: public (searchable), unlisted (anyone with the link), followers (followers of the
-- host), private (invite-only: the host, co-hosts, invitees and booked guests; invitations are
-- their own capability, 20261125110410_event_invitations, which defines the private.is_event_invitee
-- hook can_see_event calls). Co-hosts: role manager (edits, approves, checks in) or checkin (checks in only).

alter table public.profiles add column payouts_enabled boolean not null default false;
comment on column public.profiles.payouts_enabled is
  'True once the host''s Stripe Connect account can receive payouts (set by the payments capability); required to publish paid events.';

create table private.events (
  id uuid primary key default gen_random_uuid(),
  host_id uuid not null references public.profiles (id),
  title text not null,
  description text not null default '',
  category text not null default 'other',
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  timezone text not null,
  starts_at_local timestamp generated always as (starts_at at time zone timezone) stored,
  venue_name text,
  address text,
  city text,
  location extensions.geography(point, 4326),
  online_url text,
  visibility text not null default 'public',
  status text not null default 'draft',
  requires_approval boolean not null default false,
  refund_policy text not null default 'moderate',
  cover_path text,
  published_at timestamptz,
  cancelled_at timestamptz,
  cancel_reason text,
  completed_at timestamptz,
  -- A recurring series' occurrence (public.event_series, 20261125110600_event_series): its series
  -- and its place in it (1 = the event the series was made from; the series id is that event's id).
  series_id uuid,
  series_position integer,
  search_vector tsvector generated always as (
    setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
    setweight(to_tsvector('simple', coalesce(description, '')), 'B')) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint events_time_order check (ends_at > starts_at),
  constraint events_title_length check (char_length(title) between 3 and 120),
  constraint events_description_length check (char_length(description) <= 10000),
  constraint events_visibility check (visibility in ('public', 'unlisted', 'followers', 'private')),
  constraint events_status check (status in ('draft', 'published', 'completed', 'cancelled')),
  constraint events_series_position check ((series_id is null) = (series_position is null) and series_position >= 1),
  constraint events_refund_policy check (refund_policy in ('flexible', 'moderate', 'strict', 'none')),
  constraint events_category check (category in ('music', 'nightlife', 'food_drink', 'sports_fitness', 'arts_culture',
    'tech', 'business', 'community', 'education', 'outdoors', 'wellness', 'family', 'games', 'other'))
);
comment on table private.events is 'Event rows. Read and written through the view public.events.';
create index events_host_idx on private.events (host_id, starts_at desc);
create index events_location_idx on private.events using gist (location);
create index events_search_idx on private.events using gin (search_vector);
-- Text within a distance (search_events): one GiST index over both tests finds the events that
-- match the words inside the search box, where the location index alone returned every event in
-- the box (~2,000 around a city) for the text test to reject one by one, and the planner, whose
-- geography estimates are far too low, never combined it with the GIN index.
create index events_location_search_idx on private.events using gist (location, search_vector)
  where status = 'published' and visibility = 'public';
create index events_listing_idx on private.events (starts_at, id) where status = 'published' and visibility = 'public';
-- A category search (search_events) walks its own category soonest first: on the listing index it
-- read every public event in start order and discarded the 13 in 14 of other categories.
create index events_category_listing_idx on private.events (category, starts_at, id)
  where status = 'published' and visibility = 'public';
create index events_ending_idx on private.events (ends_at) where status = 'published';
create unique index events_series_position_key on private.events (series_id, series_position) where series_id is not null;

create table public.event_cohosts (
  event_id uuid not null references private.events (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  role text not null default 'manager',
  added_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (event_id, user_id),
  constraint event_cohosts_role check (role in ('manager', 'checkin'))
);
revoke all on public.event_cohosts from public, anon, authenticated, service_role;
comment on table public.event_cohosts is
  'Co-hosts of an event: manager (edit, approve bookings, check in) or checkin (check-in only). The host adds and removes them; a co-host may remove themselves.';
create index event_cohosts_user_idx on public.event_cohosts (user_id, event_id);
create index event_cohosts_added_by_idx on public.event_cohosts (added_by);

-- Changes to a published event's time, place or link (change_event_details in the lifecycle
-- migration): each is recorded, every booked guest is told, and a material change gives them a
-- window to cancel with a full refund (refund_quote reads it).
create table private.event_changes (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id) on delete cascade,
  changed_by uuid references public.profiles (id) on delete set null,
  changed_at timestamptz not null default now(),
  reason text,
  old_values jsonb not null,
  new_values jsonb not null,
  material boolean not null,
  refund_window_until timestamptz,
  constraint event_changes_reason_length check (reason is null or char_length(reason) <= 1000),
  constraint event_changes_window check (material = (refund_window_until is not null))
);
comment on table private.event_changes is
  'History of changes to published events'' time, place and link, with who made them and why. A material change (start time, venue, or in person ↔ online) gives guests booked before it a full-refund window until refund_window_until.';
create index event_changes_event_idx on private.event_changes (event_id, changed_at desc);
create index event_changes_changed_by_idx on private.event_changes (changed_by);

-- Refund policies ordered from least to most generous; a published event may only move up.
create or replace function private.refund_policy_rank(p_policy text) returns integer
language sql
immutable
set search_path = ''
as $$
  select case p_policy when 'none' then 0 when 'strict' then 1 when 'moderate' then 2 when 'flexible' then 3 end
$$;

-- Who runs an event: its host, or a co-host with one of p_roles.
create or replace function private.is_event_staff(p_event_id uuid, p_user_id uuid, p_roles text[] default array['manager', 'checkin'])
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from private.events e where e.id = p_event_id and e.host_id = p_user_id)
      or exists (select 1 from public.event_cohosts c
                  where c.event_id = p_event_id and c.user_id = p_user_id and c.role = any (p_roles))
$$;
comment on function private.is_event_staff(uuid, uuid, text[]) is 'True for the event''s host and for co-hosts holding one of the given roles.';
grant execute on function private.is_event_staff(uuid, uuid, text[]) to anon, authenticated, service_role;

-- Whether p_user_id (null = anonymous) may see an event at all.
create or replace function private.can_see_event(p_event_id uuid, p_user_id uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_event record;
begin
  select e.host_id, e.status, e.visibility into v_event from private.events e where e.id = p_event_id;
  if not found then
    return false;
  end if;
  -- Staff is asked after the public answer: most callers are guests of a visible event, and the
  -- order of these alternatives changes no answer.
  if v_event.status <> 'draft' and (p_user_id is null or private.is_blocked_between(v_event.host_id, p_user_id) is not true) then
    if v_event.visibility in ('public', 'unlisted') then
      return true;
    end if;
    if v_event.visibility = 'followers' and p_user_id is not null
       and exists (select 1 from public.follows f where f.follower_id = p_user_id and f.followee_id = v_event.host_id) then
      return true;
    end if;
    -- Invitees see the event whatever its visibility (for a private one, only they do).
    if p_user_id is not null and private.is_event_invitee(p_event_id, p_user_id) then
      return true;
    end if;
  end if;
  if p_user_id is not null and private.is_event_staff(p_event_id, p_user_id) then
    return true;
  end if;
  -- Guests with a live booking keep access, and so do people holding a seat someone gave them
  -- (private.holds_seat, a hook of 20261125110430_attendees_and_transfers).
  return p_user_id is not null and (
    exists (select 1 from public.bookings b
             where b.event_id = p_event_id and b.guest_id = p_user_id and b.status in ('held', 'pending_approval', 'confirmed'))
    or private.holds_seat(p_event_id, p_user_id));
end
$$;
comment on function private.can_see_event(uuid, uuid) is
  'Event visibility: staff always; otherwise not a draft, no block between host and viewer, and public/unlisted, followers-only and the viewer follows the host, or the viewer is invited (the only way into a private event); guests with an active booking and holders of a transferred seat keep access.';
grant execute on function private.can_see_event(uuid, uuid) to anon, authenticated, service_role;

-- Whether p_user_id may see the exact address, online link and location.
create or replace function private.can_see_event_details(p_event_id uuid, p_user_id uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return p_user_id is not null and (
    private.is_event_staff(p_event_id, p_user_id)
    or exists (select 1 from public.bookings b
                where b.event_id = p_event_id and b.guest_id = p_user_id and b.status = 'confirmed')
    or private.holds_seat(p_event_id, p_user_id));
end
$$;
comment on function private.can_see_event_details(uuid, uuid) is 'True for staff, confirmed guests and holders of a transferred seat: they see the exact address, link and location.';
grant execute on function private.can_see_event_details(uuid, uuid) to anon, authenticated, service_role;

-- Row validation, whoever writes (view triggers, the service role, jobs).
create or replace function private.validate_event() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.title is null or char_length(btrim(new.title)) < 3 or char_length(new.title) > 120 then
    perform private.raise_error('22023', 'invalid_title', 'An event title has 3 to 120 characters.');
  end if;
  if char_length(coalesce(new.description, '')) > 10000 then
    perform private.raise_error('22023', 'description_too_long', 'An event description has at most 10,000 characters.');
  end if;
  if new.starts_at is null or new.ends_at is null then
    perform private.raise_error('22023', 'invalid_time', 'An event needs a start and an end time.');
  end if;
  if new.ends_at <= new.starts_at then
    perform private.raise_error('22023', 'ends_before_start', 'An event must end after it starts.');
  end if;
  if new.ends_at - new.starts_at > interval '30 days' then
    perform private.raise_error('22023', 'event_too_long', 'An event lasts at most 30 days.');
  end if;
  if new.timezone is null or private.is_valid_timezone(new.timezone) is not true then
    perform private.raise_error('22023', 'invalid_timezone', format('"%s" is not a known IANA time zone.', new.timezone));
  end if;
  if new.category is null or new.category not in ('music', 'nightlife', 'food_drink', 'sports_fitness', 'arts_culture',
       'tech', 'business', 'community', 'education', 'outdoors', 'wellness', 'family', 'games', 'other') then
    perform private.raise_error('22023', 'invalid_category', format('"%s" is not an event category.', new.category));
  end if;
  if new.visibility is null or new.visibility not in ('public', 'unlisted', 'followers', 'private') then
    perform private.raise_error('22023', 'invalid_visibility', 'Visibility is public, unlisted, followers or private.');
  end if;
  if new.refund_policy is null or new.refund_policy not in ('flexible', 'moderate', 'strict', 'none') then
    perform private.raise_error('22023', 'invalid_refund_policy', 'The refund policy is flexible, moderate, strict or none.');
  end if;
  if char_length(coalesce(new.venue_name, '')) > 200 or char_length(coalesce(new.address, '')) > 500
     or char_length(coalesce(new.city, '')) > 100 then
    perform private.raise_error('22023', 'invalid_venue', 'Venue name, address or city is too long.');
  end if;
  if new.online_url is not null and (new.online_url !~ '^https://[^\s/$.?#][^\s]*$' or char_length(new.online_url) > 2048) then
    perform private.raise_error('22023', 'invalid_online_url', 'The online link must be an https:// URL.');
  end if;
  if new.location is not null and (extensions.st_y(new.location::extensions.geometry) between -90 and 90
                                       and extensions.st_x(new.location::extensions.geometry) between -180 and 180) is not true then
    perform private.raise_error('22023', 'invalid_location', 'The location must be a longitude/latitude point.');
  end if;
  -- Occurrences of a series share the cover of the event it was made from (the series' id).
  if new.cover_path is not null and (storage.foldername(new.cover_path))[1] is distinct from new.id::text
     and (storage.foldername(new.cover_path))[1] is distinct from new.series_id::text then
    perform private.raise_error('22023', 'invalid_cover_path', 'A cover must be uploaded to event-covers under <event id>/.');
  end if;
  if tg_op = 'UPDATE' then
    if old.status in ('cancelled', 'completed') and (new.status = old.status) and (
         new.title, new.description, new.category, new.starts_at, new.ends_at, new.timezone, new.venue_name,
         new.address, new.city, new.location, new.online_url, new.visibility, new.requires_approval,
         new.refund_policy, new.cover_path)
       is distinct from (
         old.title, old.description, old.category, old.starts_at, old.ends_at, old.timezone, old.venue_name,
         old.address, old.city, old.location, old.online_url, old.visibility, old.requires_approval,
         old.refund_policy, old.cover_path) then
      perform private.raise_error('P0001', 'event_closed', 'A cancelled or completed event can no longer be edited.');
    end if;
    if old.status <> 'draft' and private.refund_policy_rank(new.refund_policy) < private.refund_policy_rank(old.refund_policy) then
      perform private.raise_error('P0001', 'refund_policy_less_generous',
        'Once an event is published its refund policy can only become more generous.');
    end if;
    if new.host_id <> old.host_id then
      perform private.raise_error('42501', 'host_not_editable', 'An event''s host cannot be changed.');
    end if;
    if old.series_id is not null and (new.series_id, new.series_position) is distinct from (old.series_id, old.series_position) then
      perform private.raise_error('22023', 'not_editable', 'An occurrence stays in its series.');
    end if;
    -- Money follows facts: hosts' earnings are released after a published event really ended,
    -- so on behalf of a user (any API request) its start and end can never be moved into the
    -- past, nor the start of an event that already began. (Operators and jobs, writing without
    -- a user, are trusted.)
    if old.status = 'published' and auth.uid() is not null and new.starts_at is distinct from old.starts_at
       and (old.starts_at <= now() or new.starts_at <= now()) then
      perform private.raise_error('P0001', 'event_time_locked',
        'A published event''s start can only move to the future, and not once it has begun.');
    end if;
    if old.status = 'published' and auth.uid() is not null and new.ends_at is distinct from old.ends_at and new.ends_at <= now() then
      perform private.raise_error('P0001', 'event_time_locked', 'A published event''s end can only move to the future.');
    end if;
  end if;
  new.updated_at := now();
  return new;
end
$$;
create trigger events_validate before insert or update on private.events
  for each row execute function private.validate_event();

alter table private.events enable row level security;
-- Reads through the security-invoker view public.events are filtered here.
create policy "events are visible per their visibility" on private.events
  for select to anon, authenticated
  using (private.can_see_event(id, (select auth.uid())));
grant usage on schema private to anon, authenticated;
grant select on private.events to anon, authenticated;
grant select, insert, update, delete on private.events to service_role;

create view public.events with (security_invoker = true) as
select e.id, e.host_id, e.title, e.description, e.category, e.starts_at, e.ends_at, e.timezone,
       e.venue_name, e.city,
       case when d.full_details then e.address end as address,
       case when d.full_details then e.location::extensions.geometry
            else extensions.st_snaptogrid(e.location::extensions.geometry, 0.01) end as location,
       case when d.full_details then e.online_url end as online_url,
       e.online_url is not null as is_online,
       e.visibility, e.status, e.requires_approval, e.refund_policy, e.cover_path,
       e.published_at, e.cancelled_at, e.cancel_reason, e.completed_at, e.created_at, e.updated_at,
       e.series_id, e.series_position
  from private.events e
  cross join lateral (select private.can_see_event_details(e.id, (select auth.uid())) as full_details) d;
revoke all on public.events from public, anon, authenticated, service_role;
comment on view public.events is
  'Events the caller may see. address, online_url and the exact location are shown to the host, co-hosts and confirmed guests only (location is otherwise rounded to ~1 km). Hosts insert drafts here; status changes go through publish_event / cancel_event.';
comment on column public.events.timezone is 'IANA time zone the event happens in; starts_at/ends_at are instants (timestamptz).';
comment on column public.events.visibility is 'public (searchable) | unlisted (by link) | followers (followers of the host) | private (invite-only: invitees, booked guests and staff; see invite_to_event and create_invite_link).';
comment on column public.events.refund_policy is 'flexible | moderate | strict | none; see refund_quote() and docs/events-and-bookings.md.';
comment on column public.events.series_id is 'The recurring series this event is an occurrence of (public.event_series), or null.';
comment on column public.events.series_position is 'The occurrence''s place in its series: 1 for the event the series was made from.';
comment on column public.events.is_online is 'True when the event has an online link (visible to confirmed guests).';
comment on column public.events.location is 'Longitude/latitude point (SRID 4326), exact for the host, co-hosts and confirmed guests, rounded to ~1 km for everyone else. Written as a point such as SRID=4326;POINT(-0.1276 51.5072); out-of-range coordinates are refused (invalid_location), never wrapped.';

grant select on public.events to anon, authenticated, service_role;
grant insert, update, delete on public.events to authenticated, service_role;

-- A location written through public.events: a longitude/latitude point. The view exposes it as
-- geometry rather than geography because PostGIS silently wraps out-of-range coordinates when
-- text becomes a geography (POINT(200 100) would be stored as POINT(-160 80)); a geometry keeps
-- what the app sent, so it can be refused.
create or replace function private.event_location(p_point extensions.geometry) returns extensions.geography
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_point is null then
    return null;
  end if;
  if extensions.geometrytype(p_point) <> 'POINT' or extensions.st_srid(p_point) not in (0, 4326)
     or extensions.st_x(p_point) not between -180 and 180 or extensions.st_y(p_point) not between -90 and 90 then
    perform private.raise_error('22023', 'invalid_location',
      'The location must be a point with longitude -180…180 and latitude -90…90 (SRID 4326).');
  end if;
  return extensions.st_setsrid(p_point, 4326)::extensions.geography;
end
$$;
comment on function private.event_location(extensions.geometry) is
  'Validates a location written through public.events (a lon/lat point, SRID 4326 or none) and returns it as geography; 22023 invalid_location otherwise.';

-- Writes through public.events. The caller's identity decides what is allowed; status and
-- lifecycle columns are not writable here.
create or replace function private.events_view_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_is_service boolean := coalesce(auth.role(), '') = 'service_role';
  v_row private.events;
begin
  if v_is_service is not true then
    if v_uid is null then
      perform private.raise_error('42501', 'not_authenticated', 'You need to sign in to do this.');
    end if;
    if not exists (select 1 from public.profiles p where p.id = v_uid and p.is_host and p.host_status = 'active') then
      perform private.raise_error('42501', 'not_a_host', 'Only hosts can create events. Call become_host() first.');
    end if;
    if new.host_id is not null and new.host_id <> v_uid then
      perform private.raise_error('42501', 'not_your_event', 'You can only create events you host.');
    end if;
    -- Events back to back from one account (issue 13): bounded like every repeatable write.
    perform private.consume_rate_limit('event_create', v_uid::text);
  end if;
  if coalesce(new.status, 'draft') <> 'draft' then
    perform private.raise_error('22023', 'use_publish_event', 'Events are created as drafts; publish them with publish_event().');
  end if;
  if new.series_id is not null or new.series_position is not null then
    perform private.raise_error('22023', 'use_event_series', 'Recurring series are made with the event-series function.');
  end if;
  insert into private.events (id, host_id, title, description, category, starts_at, ends_at, timezone, venue_name,
                              address, city, location, online_url, visibility, requires_approval, refund_policy, cover_path)
  values (coalesce(new.id, gen_random_uuid()), coalesce(new.host_id, v_uid), new.title, coalesce(new.description, ''),
          coalesce(new.category, 'other'), new.starts_at, new.ends_at, new.timezone, new.venue_name, new.address, new.city,
          private.event_location(new.location), new.online_url, coalesce(new.visibility, 'public'), coalesce(new.requires_approval, false),
          coalesce(new.refund_policy, 'moderate'), new.cover_path)
  returning * into v_row;
  -- Answer with the row as the caller sees it (RETURNING / supabase-js .select()).
  select v.* into new from public.events v where v.id = v_row.id;
  return new;
end
$$;

create or replace function private.events_view_update() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_is_service boolean := coalesce(auth.role(), '') = 'service_role';
begin
  if v_is_service is not true then
    if v_uid is null then
      perform private.raise_error('42501', 'not_authenticated', 'You need to sign in to do this.');
    end if;
    if private.is_event_staff(old.id, v_uid, array['manager']) is not true then
      perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can edit this event.');
    end if;
  end if;
  if (new.status, new.published_at, new.cancelled_at, new.cancel_reason, new.completed_at, new.host_id, new.id,
      new.series_id, new.series_position)
     is distinct from (old.status, old.published_at, old.cancelled_at, old.cancel_reason, old.completed_at, old.host_id, old.id,
                       old.series_id, old.series_position) then
    perform private.raise_error('22023', 'not_editable',
      'status, host, series and lifecycle dates change through publish_event(), cancel_event() and the series functions only.');
  end if;
  -- Guests bought tickets for a time and a place: once published, those change only through
  -- change_event_details(), which tells every booked guest and opens their refund window.
  if old.status <> 'draft'
     and (new.starts_at, new.ends_at, new.timezone, new.venue_name, new.address, new.city, new.location::text, new.online_url)
         is distinct from (old.starts_at, old.ends_at, old.timezone, old.venue_name, old.address, old.city, old.location::text,
                           old.online_url) then
    perform private.raise_error('22023', 'use_change_event_details',
      'A published event''s time, place and link change through change_event_details(), which tells every booked guest.');
  end if;
  update private.events
     set title = new.title, description = coalesce(new.description, ''), category = new.category,
         starts_at = new.starts_at, ends_at = new.ends_at, timezone = new.timezone, venue_name = new.venue_name,
         address = new.address, city = new.city, location = private.event_location(new.location), online_url = new.online_url,
         visibility = new.visibility, requires_approval = new.requires_approval, refund_policy = new.refund_policy,
         cover_path = new.cover_path
   where id = old.id;
  select v.* into new from public.events v where v.id = old.id;
  return new;
end
$$;

create or replace function private.events_view_delete() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if coalesce(auth.role(), '') <> 'service_role' then
    if v_uid is null or not exists (select 1 from private.events e where e.id = old.id and e.host_id = v_uid) then
      perform private.raise_error('42501', 'not_your_event', 'Only the host can delete an event.');
    end if;
  end if;
  if old.status <> 'draft' then
    perform private.raise_error('P0001', 'only_drafts_can_be_deleted', 'Published events are cancelled with cancel_event(), not deleted.');
  end if;
  delete from private.events where id = old.id;
  return old;
end
$$;

create trigger events_view_insert instead of insert on public.events
  for each row execute function private.events_view_insert();
create trigger events_view_update instead of update on public.events
  for each row execute function private.events_view_update();
create trigger events_view_delete instead of delete on public.events
  for each row execute function private.events_view_delete();

-- Co-hosts
create or replace function private.validate_cohost() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_host uuid;
begin
  select host_id into v_host from private.events where id = new.event_id;
  if v_host is null then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if new.user_id = v_host then
    perform private.raise_error('22023', 'already_host', 'The host is not added as a co-host.');
  end if;
  if private.is_blocked_between(v_host, new.user_id) then
    perform private.raise_error('P0001', 'blocked', 'This user cannot be added as a co-host.');
  end if;
  if new.role not in ('manager', 'checkin') then
    perform private.raise_error('22023', 'invalid_cohost_role', 'A co-host role is manager or checkin.');
  end if;
  if tg_op = 'INSERT' then
    if not exists (select 1 from public.profiles p where p.id = new.user_id) then
      perform private.raise_error('22023', 'user_not_found', 'No such user.');
    end if;
    perform private.lock_key('event_cohost:' || new.event_id::text || ':' || new.user_id::text);
    if exists (select 1 from public.event_cohosts c where c.event_id = new.event_id and c.user_id = new.user_id) then
      perform private.raise_error('P0001', 'already_cohost', 'This person already co-hosts the event; change their role instead.');
    end if;
  end if;
  new.added_by := coalesce(new.added_by, auth.uid());
  return new;
end
$$;
create trigger event_cohosts_validate before insert or update on public.event_cohosts
  for each row execute function private.validate_cohost();

alter table public.event_cohosts enable row level security;
create policy "co-hosts are visible with their event" on public.event_cohosts
  for select to anon, authenticated
  using (private.can_see_event(event_id, (select auth.uid())));
create policy "hosts add co-hosts" on public.event_cohosts
  for insert to authenticated
  with check (exists (select 1 from private.events e where e.id = event_id and e.host_id = (select auth.uid())));
create policy "hosts change co-host roles" on public.event_cohosts
  for update to authenticated
  using (exists (select 1 from private.events e where e.id = event_id and e.host_id = (select auth.uid())))
  with check (exists (select 1 from private.events e where e.id = event_id and e.host_id = (select auth.uid())));
create policy "hosts remove co-hosts and co-hosts leave" on public.event_cohosts
  for delete to authenticated
  using (user_id = (select auth.uid())
         or exists (select 1 from private.events e where e.id = event_id and e.host_id = (select auth.uid())));
grant select on public.event_cohosts to anon, authenticated;
grant insert (event_id, user_id, role), update (role), delete on public.event_cohosts to authenticated;
grant select, insert, update, delete on public.event_cohosts to service_role;

-- Event covers: the public bucket `event-covers` (20261125100400_storage_buckets) is read through
-- public URLs; the host and managing co-hosts upload, replace and delete files under
-- `<event id>/` (cover_path must point there, validate_event checks it).
create or replace function private.can_manage_event_cover(p_name text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_folder text := (storage.foldername(p_name))[1];
begin
  if v_folder is null or v_folder !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return false;
  end if;
  return coalesce(private.is_event_staff(v_folder::uuid, auth.uid(), array['manager']), false);
end
$$;
comment on function private.can_manage_event_cover(text) is
  'Storage RLS: the host and managing co-hosts of the event named by the first folder of an event-covers object. Never null.';
grant execute on function private.can_manage_event_cover(text) to authenticated;

create policy "event-covers: staff read their events' folders" on storage.objects
  for select to authenticated
  using (bucket_id = 'event-covers' and private.can_manage_event_cover(name));
create policy "event-covers: staff upload into their events' folders" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'event-covers' and private.can_manage_event_cover(name));
create policy "event-covers: staff replace their events' covers" on storage.objects
  for update to authenticated
  using (bucket_id = 'event-covers' and private.can_manage_event_cover(name))
  with check (bucket_id = 'event-covers' and private.can_manage_event_cover(name));
create policy "event-covers: staff delete their events' covers" on storage.objects
  for delete to authenticated
  using (bucket_id = 'event-covers' and private.can_manage_event_cover(name));

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.can_manage_event_cover(text),
  private.can_see_event_details(uuid,uuid),
  private.event_location(extensions.geometry),
  private.can_see_event(uuid,uuid),
  private.events_view_delete(),
  private.events_view_insert(),
  private.events_view_update(),
  private.is_event_staff(uuid,uuid,text[]),
  private.refund_policy_rank(text),
  private.validate_cohost(),
  private.validate_event()
  from public;
