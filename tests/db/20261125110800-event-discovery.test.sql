-- Discovery: search_events finds upcoming public events by text, distance, category, price and
-- local date, a page at a time, and never shows what the viewer should not see; event_feed
-- shows what the hosts and people a user follows are up to.
begin;
select plan(54);

-- The hosts of this story; search results are read for their events only.
create function pg_temp.story_hosts() returns setof uuid language sql as $$
  select tests.get_supabase_uid(h) from unnest(array['lina', 'pia', 'nate', 'tess', 'bo']) as h
$$;

-- Titles of the events a search (run as the current user) returns, alphabetically.
create function pg_temp.titles(p_sql text) returns text[] language plpgsql as $$
declare v_titles text[];
begin
  execute format('select coalesce(array_agg(title order by title), ''{}'') from (%s) as found where host_id in (select pg_temp.story_hosts())', p_sql)
    into v_titles;
  return v_titles;
end $$;

-- A host creates an event (3 hours long, one ticket type per price) and publishes it unless
-- told otherwise.
create function pg_temp.new_event(
  p_host text, p_title text, p_starts_at timestamptz, p_description text default '', p_category text default 'other',
  p_timezone text default 'Europe/Lisbon', p_lng double precision default null, p_lat double precision default null,
  p_visibility text default 'public', p_prices bigint[] default array[0]::bigint[], p_currency text default 'EUR',
  p_status text default 'published', p_address text default null, p_online_url text default null
) returns uuid language plpgsql as $$
declare
  v_id uuid;
  v_price bigint;
begin
  perform tests.authenticate_as(p_host);
  insert into public.events (title, description, category, starts_at, ends_at, timezone, venue_name, address, city, location,
                             online_url, visibility)
  values (p_title, p_description, p_category, p_starts_at, p_starts_at + interval '3 hours', p_timezone, 'The venue', p_address, 'Town',
          case when p_lat is not null then extensions.st_setsrid(extensions.st_makepoint(p_lng, p_lat), 4326) end,
          p_online_url, p_visibility)
  returning id into v_id;
  foreach v_price in array p_prices loop
    insert into public.ticket_types (event_id, name, price_cents, currency, capacity)
    values (v_id, 'Ticket at ' || v_price, v_price, p_currency, 20);
  end loop;
  if p_status in ('published', 'cancelled') then
    perform public.publish_event(v_id);
  end if;
  if p_status = 'cancelled' then
    perform public.cancel_event(v_id, 'Storm warning');
  end if;
  perform tests.as_superuser();
  return v_id;
end $$;

-- The day, ten days from now in New York, on which Nate's late show happens.
create function pg_temp.ny_day() returns date language sql as $$
  select (now() at time zone 'America/New_York')::date + 10
$$;

select tests.create_supabase_user('lina', 'lina@example.test', '{"username":"lina_lisboa"}');
select tests.create_supabase_user('pia', 'pia@example.test', '{"username":"pia_porto"}');
select tests.create_supabase_user('nate', 'nate@example.test', '{"username":"nate_nyc"}');
select tests.create_supabase_user('tess', 'tess@example.test', '{"username":"tess_talks"}');
select tests.create_supabase_user('bo', 'bo@example.test', '{"username":"bo_blocks"}');
select tests.create_supabase_user('vic', 'vic@example.test', '{"username":"vic_views"}');
select tests.create_supabase_user('fay', 'fay@example.test', '{"username":"fay_friend"}');
select tests.create_supabase_user('gil', 'gil@example.test', '{"username":"gil_g"}');
select tests.create_supabase_user('zed', 'zed@example.test', '{"username":"zed_z"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true
 where id in (select pg_temp.story_hosts());

-- Lina hosts in Lisbon: two public events, and four that search must never show.
select pg_temp.new_event('lina', 'Fado evening in Alfama', now() + interval '5 days', p_description => 'Traditional songs by candlelight',
                         p_category => 'music', p_lng => -9.1302, p_lat => 38.7115, p_prices => array[1500]::bigint[],
                         p_address => 'Rua de São Miguel 12, 1100-544 Lisboa');
select pg_temp.new_event('lina', 'Sunset yoga by the river', now() + interval '6 days',
                         p_description => 'Bring a mat; a fado guitarist plays at the end', p_category => 'wellness',
                         p_lng => -9.2159, p_lat => 38.6916);
select pg_temp.new_event('lina', 'Fado for followers', now() + interval '5 days', p_category => 'music',
                         p_lng => -9.1302, p_lat => 38.7115, p_visibility => 'followers');
select pg_temp.new_event('lina', 'Fado secret session', now() + interval '5 days', p_category => 'music',
                         p_lng => -9.1302, p_lat => 38.7115, p_visibility => 'unlisted');
select pg_temp.new_event('lina', 'Fado rehearsal', now() + interval '5 days', p_category => 'music',
                         p_lng => -9.1302, p_lat => 38.7115, p_status => 'draft');
select pg_temp.new_event('lina', 'Fado under the stars', now() + interval '5 days', p_category => 'music',
                         p_lng => -9.1302, p_lat => 38.7115, p_status => 'cancelled');
-- Pia hosts in Porto, with a cheap standing ticket and a dearer seated one.
select pg_temp.new_event('pia', 'Porto wine tasting', now() + interval '7 days', p_category => 'food_drink',
                         p_lng => -8.6291, p_lat => 41.1579, p_prices => array[3000, 500]::bigint[]);
-- Nate's late show starts at 23:30 New York time, which is already the next day in UTC.
select pg_temp.new_event('nate', 'Late jazz in the Village', (pg_temp.ny_day() + time '23:30') at time zone 'America/New_York',
                         p_category => 'music', p_timezone => 'America/New_York', p_lng => -74.0007, p_lat => 40.7336,
                         p_prices => array[2000]::bigint[], p_currency => 'USD');
-- Tess runs three online talks; two start at the same moment.
select pg_temp.new_event('tess', 'Pager talk one', date_trunc('hour', now()) + interval '20 days', p_category => 'tech',
                         p_online_url => 'https://meet.example.test/one');
select pg_temp.new_event('tess', 'Pager talk two', date_trunc('hour', now()) + interval '20 days', p_category => 'tech',
                         p_online_url => 'https://meet.example.test/two');
select pg_temp.new_event('tess', 'Pager talk three', date_trunc('hour', now()) + interval '21 days', p_category => 'tech',
                         p_online_url => 'https://meet.example.test/three');
-- Bo has blocked Vic.
select pg_temp.new_event('bo', 'Block party on the square', now() + interval '8 days', p_category => 'community');
select tests.authenticate_as('bo');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('bo'), tests.get_supabase_uid('vic'));

-- Vic follows Lina, Fay and Gil; Fay is going to Nate's show, Gil has only a held seat in Porto.
select tests.authenticate_as('vic');
insert into public.follows (follower_id, followee_id)
select tests.get_supabase_uid('vic'), tests.get_supabase_uid(u) from unnest(array['lina', 'fay', 'gil']) as u;
select tests.authenticate_as('fay');
select public.book_event(tests.event_id('Late jazz in the Village'),
                         (select id from public.ticket_types where event_id = tests.event_id('Late jazz in the Village')));
select tests.as_superuser();
select private.confirm_booking_payment(id) from public.bookings where guest_id = tests.get_supabase_uid('fay');
select tests.authenticate_as('gil');
select public.book_event(tests.event_id('Porto wine tasting'),
                         (select id from public.ticket_types where event_id = tests.event_id('Porto wine tasting') and price_cents = 500));

-- Text
select tests.clear_authentication();
select is(pg_temp.titles($$select * from public.search_events(p_query => 'fado')$$),
          array['Fado evening in Alfama', 'Sunset yoga by the river'],
          'searching "fado" finds the event with it in its title and the one with it in its description');
select is(pg_temp.titles($$select * from public.search_events(p_query => 'Alfama candlelight')$$),
          array['Fado evening in Alfama'], 'every word of a search must match (title or description)');
select is(pg_temp.titles($$select * from public.search_events(p_query => 'tango')$$), '{}'::text[],
          'a search matching nothing returns nothing');
select ok((select relevance from public.search_events(p_query => 'fado') where title = 'Fado evening in Alfama')
          > (select relevance from public.search_events(p_query => 'fado') where title = 'Sunset yoga by the river'),
          'a match in the title is more relevant than one in the description');
select ok((select count(*) from public.search_events(p_query => '!!!')) >= 2,
          'a search of punctuation only is ignored rather than matching nothing');

-- Never shown
select tests.authenticate_as('vic');
select is(pg_temp.titles($$select * from public.search_events(p_query => 'fado')$$),
          array['Fado evening in Alfama', 'Sunset yoga by the river'],
          'draft, unlisted, followers-only and cancelled events never appear in search, even for a follower of the host');
select tests.authenticate_as('lina');
select is(pg_temp.titles($$select * from public.search_events(p_query => 'fado')$$),
          array['Fado evening in Alfama', 'Sunset yoga by the river'],
          'not even for their host');

-- Distance
select tests.clear_authentication();
select is(pg_temp.titles($$select * from public.search_events(p_lat => 38.7223, p_lng => -9.1393, p_radius_km => 10)$$),
          array['Fado evening in Alfama', 'Sunset yoga by the river'],
          'searching within 10 km of central Lisbon finds the Lisbon events only');
select is(pg_temp.titles($$select * from public.search_events(p_lat => 41.1496, p_lng => -8.6109, p_radius_km => 50)$$),
          array['Porto wine tasting'],
          'searching within 50 km of Porto finds the Porto event, not the Lisbon ones ~275 km away');
select ok((select distance_km between 0.5 and 2 from public.search_events(p_lat => 38.7223, p_lng => -9.1393, p_radius_km => 10)
            where id = tests.event_id('Fado evening in Alfama')),
          'the card gives the distance from the searched point: about 1 km from central Lisbon to Alfama');
select ok((select distance_km between 270 and 280 from public.search_events(p_query => 'alfama', p_lat => 41.1496, p_lng => -8.6109, p_radius_km => 300)),
          'and about 275 km from Porto');
select is(pg_temp.titles($$select * from public.search_events(p_query => 'pager', p_lat => 38.7223, p_lng => -9.1393, p_radius_km => 500)$$),
          '{}'::text[], 'online events without a place are not in a search by distance');
-- The exact venue stays private: searching right on top of it reveals no more than the rounded location.
select is((select distance_km from public.search_events(p_query => 'alfama', p_lat => 38.7115, p_lng => -9.1302, p_radius_km => 1)), 0.2::double precision,
          'searching at the exact venue reports the distance to the rounded location (0.2 km here), not 0');
select is((select distance_km from public.search_events(p_query => 'alfama', p_lat => 38.7115, p_lng => -9.1302, p_radius_km => 5)),
          (select distance_km from public.search_events(p_query => 'alfama', p_lat => 38.7116, p_lng => -9.1303, p_radius_km => 5)),
          'moving the search point by ten metres does not change the reported distance');
select is(pg_temp.titles($$select * from public.search_events(p_query => 'alfama', p_lat => 38.7115, p_lng => -9.1302, p_radius_km => 0.001)$$),
          pg_temp.titles($$select * from public.search_events(p_query => 'alfama', p_lat => 38.7115, p_lng => -9.1302, p_radius_km => 1)$$),
          'a radius under 1 km searches 1 km, so a tiny radius cannot pinpoint the venue');

-- Category and price
select is(pg_temp.titles($$select * from public.search_events(p_category => 'wellness')$$), array['Sunset yoga by the river'],
          'the category filter returns only that category');
select is(pg_temp.titles($$select * from public.search_events(p_category => 'music', p_lat => 38.7223, p_lng => -9.1393, p_radius_km => 10)$$),
          array['Fado evening in Alfama'], 'filters combine: music near Lisbon');
select is(pg_temp.titles($$select * from public.search_events(p_query => 'fado or porto or jazz', p_max_price_cents => 1000)$$),
          array['Porto wine tasting', 'Sunset yoga by the river'],
          'a maximum price keeps events whose cheapest ticket is within it (a free event, and Porto''s 5.00 standing ticket)');
select results_eq($$select min_price_cents, currency from public.search_events(p_query => 'porto')$$,
                  $$values (500::bigint, 'EUR'::text)$$, 'the card shows the cheapest ticket price and its currency');

-- Local dates
select ok((select (starts_at at time zone 'UTC')::date = pg_temp.ny_day() + 1 from public.events where id = tests.event_id('Late jazz in the Village')),
          'Nate''s show is on the next day in UTC');
select is(pg_temp.titles(format($$select * from public.search_events(p_starts_after => %L, p_starts_before => %L)$$,
                                 pg_temp.ny_day()::timestamp, (pg_temp.ny_day() + 1)::timestamp)),
          array['Late jazz in the Village'],
          'a date window is read in each event''s own time zone: the 23:30 New York show is found on its local day');
select is(pg_temp.titles(format($$select * from public.search_events(p_query => 'jazz', p_starts_after => %L, p_starts_before => %L)$$,
                                 (pg_temp.ny_day() + 1)::timestamp, (pg_temp.ny_day() + 2)::timestamp)),
          '{}'::text[], 'and not on the next day, its UTC date');

-- Pages
select is((select count(*)::int from public.search_events(p_query => 'pager', p_limit => 2)), 2, 'a page holds at most p_limit events');
select results_eq($$select title from public.search_events(p_query => 'pager', p_limit => 2)
                    union all
                    select title from public.search_events(p_query => 'pager', p_limit => 2,
                      p_cursor => (select cursor from public.search_events(p_query => 'pager', p_limit => 2) order by starts_at desc, id desc limit 1))
                    order by 1$$,
                  $$values ('Pager talk one'), ('Pager talk three'), ('Pager talk two')$$,
                  'the last row''s cursor gives the next page: all three talks, none twice, even when two start at the same time');
select is((select title from public.search_events(p_query => 'pager', p_limit => 2,
             p_cursor => (select cursor from public.search_events(p_query => 'pager', p_limit => 2) order by starts_at desc, id desc limit 1))),
          'Pager talk three', 'the second page holds the latest talk');
select is((select count(*)::int from public.search_events(p_query => 'pager',
             p_cursor => (select cursor from public.search_events(p_query => 'pager') order by starts_at desc, id desc limit 1))),
          0, 'after the last page there is nothing more');

-- Blocks
select tests.authenticate_as('vic');
select is(pg_temp.titles($$select * from public.search_events(p_query => 'block party')$$), '{}'::text[],
          'a host who blocked the viewer disappears from the viewer''s search');
select tests.authenticate_as('zed');
select is(pg_temp.titles($$select * from public.search_events(p_query => 'block party')$$), array['Block party on the square'],
          'while other users still find the event');

-- Cards never reveal the exact place
select ok((select not ('address' = any (proargnames) or 'online_url' = any (proargnames)) from pg_proc
            where oid = 'public.search_events(text, double precision, double precision, double precision, timestamp, timestamp, text, bigint, text, integer)'::regprocedure),
          'a search card has no address or online link');
select is((select extensions.st_astext(location::extensions.geometry) from public.search_events(p_query => 'alfama')), 'POINT(-9.13 38.71)',
          'and its location is rounded to about a kilometre');

-- Bad input
select throws_ok($$select * from public.search_events(p_cursor => 'not a cursor')$$, '22023', 'The cursor is not one this API returned.',
                 'a made-up cursor is refused');
select tests.raises_hint($$select * from public.search_events(p_cursor => encode('hello|world', 'base64'))$$, 'invalid_cursor',
          'with hint invalid_cursor');
select throws_ok($$select * from public.search_events(p_limit => 0)$$, '22023', 'A page has 1 to 100 items.', 'a page of 0 is refused');
select throws_ok($$select * from public.search_events(p_limit => 101)$$, '22023', 'A page has 1 to 100 items.', 'a page of 101 is refused');
select tests.raises_hint($$select * from public.search_events(p_limit => 101)$$, 'invalid_limit', 'with hint invalid_limit');
select throws_ok($$select * from public.search_events(p_lat => 38.7)$$, '22023', null, 'a latitude without a longitude is refused');
select tests.raises_hint($$select * from public.search_events(p_lat => 38.7)$$, 'invalid_location', 'with hint invalid_location');
select throws_ok($$select * from public.search_events(p_lat => 38.7, p_lng => -9.1, p_radius_km => 0)$$, '22023', null,
                 'a radius of 0 is refused');
select throws_ok($$select * from public.search_events(p_lat => 38.7, p_lng => -9.1, p_radius_km => 501)$$, '22023', null,
                 'a radius over 500 km is refused');
select tests.raises_hint($$select * from public.search_events(p_lat => 38.7, p_lng => -9.1, p_radius_km => 501)$$, 'invalid_radius',
          'with hint invalid_radius');
select throws_ok($$select * from public.search_events(p_category => 'poetry')$$, '22023', '"poetry" is not an event category.',
                 'an unknown category is refused');
select tests.raises_hint($$select * from public.search_events(p_category => 'poetry')$$, 'invalid_category', 'with hint invalid_category');
select throws_ok($$select * from public.search_events(p_query => repeat('a', 201))$$, '22023', 'A search has at most 200 characters.',
                 'a search longer than 200 characters is refused');
select tests.raises_hint($$select * from public.search_events(p_query => repeat('a', 201))$$, 'query_too_long', 'with hint query_too_long');

-- Feed
select tests.authenticate_as('vic');
select results_eq($$select title, reason, friends_going from public.event_feed()
                     where host_id in (select pg_temp.story_hosts()) order by title$$,
                  $$values ('Fado evening in Alfama'::text, 'following_host'::text, 0),
                           ('Fado for followers', 'following_host', 0),
                           ('Late jazz in the Village', 'friends_going', 1),
                           ('Sunset yoga by the river', 'following_host', 0)$$,
                  'the feed shows the followed host''s public and followers-only events, and the event a followed friend is going to');
select ok(not exists (select 1 from public.event_feed() where id = tests.event_id('Porto wine tasting')),
          'an unfollowed host''s event is not in the feed, even when a followed user holds an unpaid seat');
select ok(not exists (select 1 from public.event_feed() where id in (tests.event_id('Fado secret session'),
                      tests.event_id('Fado rehearsal'), tests.event_id('Fado under the stars'))),
          'unlisted, draft and cancelled events of a followed host are not in the feed');
select is((select count(*)::int from public.event_feed() where id = tests.event_id('Block party on the square')), 0,
          'a blocking host''s events are not in the feed');
select is((select count(*)::int from public.event_feed(p_limit => 2)), 2, 'the feed is paginated');
select results_eq($$select title from public.event_feed(p_limit => 2)
                    union all
                    select title from public.event_feed(p_cursor => (select cursor from public.event_feed(p_limit => 2) order by starts_at desc, id desc limit 1))
                    order by 1$$,
                  $$values ('Fado evening in Alfama'::text), ('Fado for followers'), ('Late jazz in the Village'), ('Sunset yoga by the river')$$,
                  'and the next page continues where the first ended');

select tests.authenticate_as('zed');
select is((select count(*)::int from public.event_feed()), 0, 'a user who follows no one has an empty feed');

select tests.clear_authentication();
select throws_ok($$select * from public.event_feed()$$, '42501', 'You need to sign in to do this.', 'anonymous visitors have no feed');
select tests.authenticate_as('vic');
select tests.raises_hint($$select * from public.event_feed(p_cursor => 'nope')$$, 'invalid_cursor', 'a made-up feed cursor is refused with invalid_cursor');
select tests.raises_hint($$select * from public.event_feed(p_limit => 0)$$, 'invalid_limit', 'a feed page of 0 is refused with invalid_limit');

select * from finish();
rollback;
