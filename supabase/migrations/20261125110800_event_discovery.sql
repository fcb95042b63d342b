-- Discovery: search_events (text + distance + category + local dates + price, keyset paginated)
-- and event_feed (events from hosts the caller follows, and events people they follow are going
-- to). Both return "event cards": public fields only (no exact address or link), the cheapest
-- ticket price, distance when a point was given, and an opaque cursor for the next page.
-- Ordering is by start time then id, so pages are stable while new events are added.

-- Opaque keyset cursor "<instant, microsecond-exact, UTC>|<uuid>" in base64, shared by every
-- keyset-paginated RPC (events, conversations, follows, notifications). Microsecond-exact, not
-- epoch seconds as a double: now()-like timestamps must compare equal for ties.
-- PL/pgSQL, not SQL: `set search_path` keeps an SQL function from being inlined, and a non-inlined
-- SQL function re-parses and re-plans its body in every statement that calls it and runs the
-- executor per row; PL/pgSQL keeps the compiled expression for the session.
create or replace function private.encode_keyset_cursor(p_at timestamptz, p_id uuid) returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return translate(encode(convert_to(to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '|' || p_id::text, 'UTF8'),
                          'base64'), E'\n', '');
end
$$;
comment on function private.encode_keyset_cursor(timestamptz, uuid) is 'Encodes a (timestamp, id) keyset position as an opaque cursor.';

create or replace function private.decode_keyset_cursor(p_cursor text, out at timestamptz, out id uuid)
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_parts text[];
begin
  if p_cursor is null then
    return;
  end if;
  begin
    v_parts := string_to_array(convert_from(decode(p_cursor, 'base64'), 'UTF8'), '|');
    at := v_parts[1]::timestamp at time zone 'UTC';
    id := v_parts[2]::uuid;
  exception when others then
    perform private.raise_error('22023', 'invalid_cursor', 'The cursor is not one this API returned.');
  end;
  if at is null or id is null or cardinality(v_parts) <> 2 then
    perform private.raise_error('22023', 'invalid_cursor', 'The cursor is not one this API returned.');
  end if;
end
$$;
comment on function private.decode_keyset_cursor(text) is 'Decodes a cursor from encode_keyset_cursor; 22023 invalid_cursor otherwise.';
create or replace function private.check_page_limit(p_limit integer) returns integer
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_limit is not null and (p_limit < 1 or p_limit > 100) then
    perform private.raise_error('22023', 'invalid_limit', 'A page has 1 to 100 items.');
  end if;
  return coalesce(p_limit, 20);
end
$$;

create or replace function private.search_events(
  p_query text, p_lat double precision, p_lng double precision, p_radius_km double precision,
  p_starts_after timestamp, p_starts_before timestamp, p_category text, p_max_price_cents bigint,
  p_cursor text, p_limit integer
) returns table (
  id uuid, host_id uuid, title text, description text, category text, starts_at timestamptz, ends_at timestamptz,
  timezone text, venue_name text, city text, location extensions.geography, is_online boolean, requires_approval boolean,
  refund_policy text, cover_path text, min_price_cents bigint, currency text, distance_km double precision,
  relevance real, cursor text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_limit integer := private.check_page_limit(p_limit);
  v_after record := private.decode_keyset_cursor(p_cursor);
  v_query tsquery;
  v_point extensions.geography;
  v_radius_m double precision;
begin
  if p_query is not null and char_length(p_query) > 200 then
    perform private.raise_error('22023', 'query_too_long', 'A search has at most 200 characters.');
  end if;
  if nullif(btrim(p_query), '') is not null then
    v_query := websearch_to_tsquery('simple', p_query);
    -- Punctuation-only text parses to an empty query: ignore it rather than match nothing.
    if numnode(v_query) = 0 then
      v_query := null;
    end if;
  end if;
  if (p_lat is null) <> (p_lng is null) or p_lat not between -90 and 90 or p_lng not between -180 and 180 then
    perform private.raise_error('22023', 'invalid_location', 'Give both p_lat (−90…90) and p_lng (−180…180), or neither.');
  end if;
  if p_radius_km is not null and (p_radius_km <= 0 or p_radius_km > 500 or p_radius_km = 'NaN'::double precision) then
    perform private.raise_error('22023', 'invalid_radius', 'The radius is more than 0 and at most 500 km.');
  end if;
  if p_lat is not null then
    v_point := extensions.st_setsrid(extensions.st_makepoint(p_lng, p_lat), 4326)::extensions.geography;
    -- Never finer than the ~1 km the public location is rounded to (see the location leak note below).
    v_radius_m := greatest(coalesce(p_radius_km, 25), 1) * 1000;
  end if;
  if p_category is not null and p_category not in ('music', 'nightlife', 'food_drink', 'sports_fitness', 'arts_culture',
       'tech', 'business', 'community', 'education', 'outdoors', 'wellness', 'family', 'games', 'other') then
    perform private.raise_error('22023', 'invalid_category', format('"%s" is not an event category.', p_category));
  end if;
  if p_max_price_cents is not null and p_max_price_cents < 0 then
    perform private.raise_error('22023', 'invalid_price', 'The maximum price cannot be negative.');
  end if;
  if p_starts_after is not null and p_starts_before is not null and p_starts_before <= p_starts_after then
    perform private.raise_error('22023', 'invalid_date_window', 'p_starts_before must be after p_starts_after.');
  end if;

  -- Distances are measured from the rounded location and reported to 0.1 km, so searching
  -- around a guessed point cannot reveal the exact venue, which only confirmed guests see.
  -- The exact point only pre-selects candidates through the GiST index (radius + 1.5 km).
  -- The cheapest ticket is looked up for the page's rows only (after the limit), unless the
  -- search filters on it: a text or distance search sorts all its matches, and looking the price
  -- up for each before the sort cost ~5 µs per match.
  return query
  select e.id, e.host_id, e.title, e.description, e.category, e.starts_at, e.ends_at, e.timezone, e.venue_name, e.city,
         e.rounded_location, e.online_url is not null, e.requires_approval, e.refund_policy, e.cover_path,
         price.min_price_cents, price.currency,
         case when v_point is not null then round((extensions.st_distance(e.rounded_location, v_point) / 1000)::numeric, 1)::double precision end,
         case when v_query is not null then ts_rank(e.search_vector, v_query) end,
         private.encode_keyset_cursor(e.starts_at, e.id)
    from (
      select e.*, rounded.location as rounded_location
        from private.events e
        cross join lateral (select extensions.st_snaptogrid(e.location::extensions.geometry, 0.01)::extensions.geography as location) rounded
       where e.status = 'published' and e.visibility = 'public' and e.ends_at > now()
         and (v_query is null or e.search_vector @@ v_query)
         and (v_point is null or (extensions.st_dwithin(e.location, v_point, v_radius_m + 1500)
                                  and extensions.st_dwithin(rounded.location, v_point, v_radius_m)))
         and (p_category is null or e.category = p_category)
         and (p_starts_after is null or e.starts_at_local >= p_starts_after)
         and (p_starts_before is null or e.starts_at_local < p_starts_before)
         -- The same window as instants: every zone is within UTC−12…UTC+14, so these bounds hold
         -- and let the start-time index narrow the rows the local-time test has to look at.
         and (p_starts_after is null or e.starts_at >= (p_starts_after - interval '14 hours') at time zone 'UTC')
         and (p_starts_before is null or e.starts_at < (p_starts_before + interval '12 hours') at time zone 'UTC')
         and (p_max_price_cents is null
              or (select min(t.price_cents) from public.ticket_types t where t.event_id = e.id and not t.hidden) <= p_max_price_cents)
         and (v_uid is null or not private.is_blocked_between(e.host_id, v_uid))
         and (p_cursor is null or (e.starts_at, e.id) > (v_after.at, v_after.id))
       order by e.starts_at, e.id
       limit v_limit) e
    cross join lateral (
      select min(t.price_cents) as min_price_cents, min(t.currency) as currency
        from public.ticket_types t where t.event_id = e.id and not t.hidden) price
   order by e.starts_at, e.id;
end
$$;

create or replace function public.search_events(
  p_query text default null, p_lat double precision default null, p_lng double precision default null,
  p_radius_km double precision default null, p_starts_after timestamp default null, p_starts_before timestamp default null,
  p_category text default null, p_max_price_cents bigint default null, p_cursor text default null, p_limit integer default 20
) returns table (
  id uuid, host_id uuid, title text, description text, category text, starts_at timestamptz, ends_at timestamptz,
  timezone text, venue_name text, city text, location extensions.geography, is_online boolean, requires_approval boolean,
  refund_policy text, cover_path text, min_price_cents bigint, currency text, distance_km double precision,
  relevance real, cursor text
)
language plpgsql
stable
set search_path = ''
as $$
begin
  -- PL/pgSQL for the same reason as encode_keyset_cursor: an SQL wrapper is re-parsed and re-planned per call.
  return query select * from private.search_events(p_query, p_lat, p_lng, p_radius_km, p_starts_after, p_starts_before,
                                                   p_category, p_max_price_cents, p_cursor, p_limit);
end
$$;
comment on function public.search_events(text, double precision, double precision, double precision, timestamp, timestamp, text, bigint, text, integer) is
  'Upcoming public events, soonest first. p_query: full-text over title and description (relevance: title weighs more, for apps that re-rank a page); p_lat/p_lng/p_radius_km (default 25, at least 1, max 500): within that distance of the event''s public, ~1 km-rounded location (distance_km to 0.1 km); p_starts_after/p_starts_before: local wall-clock time in each event''s own time zone (e.g. 2026-12-05 00:00 to 2026-12-06 00:00 = "on 5 December, wherever it is"); p_category; p_max_price_cents: cheapest ticket at most this; p_cursor: the last row''s cursor for the next page; p_limit 1–100 (20). Errors: 22023 invalid_location, invalid_radius, invalid_category, invalid_cursor, invalid_limit, invalid_date_window, query_too_long.';

create or replace function private.event_feed(p_cursor text, p_limit integer)
returns table (
  id uuid, host_id uuid, title text, category text, starts_at timestamptz, ends_at timestamptz, timezone text,
  venue_name text, city text, is_online boolean, cover_path text, min_price_cents bigint, currency text,
  reason text, friends_going integer, cursor text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_limit integer := private.check_page_limit(p_limit);
  v_after record := private.decode_keyset_cursor(p_cursor);
begin
  return query
  with followed as (
    select f.followee_id as user_id from public.follows f where f.follower_id = v_uid
  ), visible_friends as (
    select fd.user_id from followed fd join public.profiles p on p.id = fd.user_id where not p.hide_attendance
  ), candidates as (
    select e.*,
           (e.host_id in (select user_id from followed) and e.visibility in ('public', 'followers')) as from_host,
           (select count(distinct b.guest_id)::integer from public.bookings b
             where b.event_id = e.id and b.status = 'confirmed' and b.guest_id in (select user_id from visible_friends)) as going
      from private.events e
     where e.status = 'published' and e.ends_at > now()
       and (p_cursor is null or (e.starts_at, e.id) > (v_after.at, v_after.id))
       and (e.host_id in (select user_id from followed)
            or (e.visibility = 'public' and exists (
                  select 1 from public.bookings b where b.event_id = e.id and b.status = 'confirmed'
                     and b.guest_id in (select user_id from visible_friends))))
       and not private.is_blocked_between(e.host_id, v_uid)
       and e.host_id <> v_uid
  )
  select c.id, c.host_id, c.title, c.category, c.starts_at, c.ends_at, c.timezone, c.venue_name, c.city,
         c.online_url is not null, c.cover_path, price.min_price_cents, price.currency,
         case when c.from_host then 'following_host' else 'friends_going' end, c.going,
         private.encode_keyset_cursor(c.starts_at, c.id)
    from candidates c
    cross join lateral (select min(t.price_cents) as min_price_cents, min(t.currency) as currency
                          from public.ticket_types t where t.event_id = c.id and not t.hidden) price
   where c.from_host or (c.visibility = 'public' and c.going > 0)
   order by c.starts_at, c.id
   limit v_limit;
end
$$;

create or replace function public.event_feed(p_cursor text default null, p_limit integer default 20)
returns table (
  id uuid, host_id uuid, title text, category text, starts_at timestamptz, ends_at timestamptz, timezone text,
  venue_name text, city text, is_online boolean, cover_path text, min_price_cents bigint, currency text,
  reason text, friends_going integer, cursor text
)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.event_feed(p_cursor, p_limit);
end
$$;
comment on function public.event_feed(text, integer) is
  'The caller''s feed, soonest first: upcoming events from hosts they follow (reason following_host) and public events people they follow are confirmed for (reason friends_going, with how many). Keyset paginated with the last row''s cursor. Errors: 42501 not_authenticated; 22023 invalid_cursor, invalid_limit.';

grant execute on function private.search_events(text, double precision, double precision, double precision, timestamp, timestamp, text, bigint, text, integer)
  to anon, authenticated;
grant execute on function private.event_feed(text, integer) to authenticated;
grant execute on function private.encode_keyset_cursor(timestamptz, uuid), private.decode_keyset_cursor(text), private.check_page_limit(integer)
  to anon, authenticated, service_role;
revoke execute on function public.event_feed(text, integer) from public, anon, authenticated, service_role;
grant execute on function public.event_feed(text, integer) to anon, authenticated;
grant execute on function public.search_events(text, double precision, double precision, double precision, timestamp, timestamp, text, bigint, text, integer)
  to anon, authenticated, service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.check_page_limit(integer),
  private.decode_keyset_cursor(text),
  private.encode_keyset_cursor(timestamp with time zone,uuid),
  private.event_feed(text,integer),
  private.search_events(text,double precision,double precision,double precision,timestamp without time zone,timestamp without time zone,text,bigint,text,integer)
  from public;
