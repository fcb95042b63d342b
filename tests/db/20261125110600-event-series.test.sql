-- Recurring series: RFC 5545 local times across daylight-saving changes, a series made from an
-- event (its dates as the event-series function computes them), occurrences that are ordinary
-- bookable events, and "this" / "this and following" changes and cancellations with every
-- booked guest told.
begin;
select plan(67);

-- RFC 5545 §3.3.5 in private.local_to_instant
select is(private.local_to_instant('2026-11-01 01:30', 'America/New_York'), '2026-11-01 05:30+00'::timestamptz,
          'New York, clocks going back: 01:30 happens twice and means the first, 01:30 EDT');
select is(private.local_to_instant('2026-03-08 02:30', 'America/New_York'), '2026-03-08 07:30+00'::timestamptz,
          'New York, clocks going forward: 02:30 never happens and reads with the offset before the gap (03:30 EDT)');
select is(private.local_to_instant('2026-10-25 01:30', 'Europe/London'), '2026-10-25 00:30+00'::timestamptz,
          'London, clocks going back: 01:30 BST, the first of the two');
select is(private.local_to_instant('2026-03-29 01:30', 'Europe/London'), '2026-03-29 01:30+00'::timestamptz,
          'London, clocks going forward: 01:30 GMT (02:30 BST)');
select is(private.local_to_instant('2026-04-05 01:45', 'Australia/Lord_Howe'), '2026-04-04 14:45+00'::timestamptz,
          'Lord Howe Island''s half-hour change: 01:45 is the first one, at +11');
select is(private.local_to_instant('2026-10-04 02:15', 'Australia/Lord_Howe'), '2026-10-03 15:45+00'::timestamptz,
          'and the half-hour gap reads with +10:30');
select is(private.local_to_instant('2026-07-15 19:00', 'Asia/Kolkata'), '2026-07-15 13:30+00'::timestamptz, 'an ordinary time is just that time');
select is(private.local_to_instant('2026-11-01 01:29:59.5', 'America/New_York') at time zone 'America/New_York',
          '2026-11-01 01:29:59.5'::timestamp, 'fractions of a second survive');

select tests.create_supabase_user('hal', 'hal@example.test', '{"username":"hal_host"}');
select tests.create_supabase_user('mia', 'mia@example.test', '{"username":"mia_manager"}');
select tests.create_supabase_user('cid', 'cid@example.test', '{"username":"cid_checkin"}');
select tests.create_supabase_user('ana', 'ana@example.test', '{"username":"ana_guest"}');
select tests.create_supabase_user('ben', 'ben@example.test', '{"username":"ben_guest"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('hal');

select tests.create_fixtures();
create temp table dst (sunday date);
grant all on dst to public;
-- The last Sunday of March two years from now: London moves to BST at 01:00 UTC that day.
insert into dst select make_date(y, 3, 31) - extract(dow from make_date(y, 3, 31))::int
  from (select extract(year from now())::int + 2 as y) x;
create function pg_temp.tuesday(p_weeks integer) returns timestamp language sql as $$
  select (d.sunday - 12 + 7 * p_weeks) + time '19:00' from dst d $$;
create function pg_temp.occ(p_position integer) returns uuid language sql as $$
  select e.id from private.events e where e.series_id = tests.fx('weekly') and e.series_position = p_position $$;

select tests.authenticate_as('ana');
select public.follow_user(tests.get_supabase_uid('hal'));
select tests.authenticate_as('hal');
with e as (insert into public.events (title, starts_at, ends_at, timezone, venue_name, address, city, refund_policy)
           values ('Tuesday run club', pg_temp.tuesday(0) at time zone 'Europe/London', (pg_temp.tuesday(0) + interval '90 minutes') at time zone 'Europe/London',
                   'Europe/London', 'Victoria Park', 'Grove Rd', 'London', 'flexible') returning id)
insert into fx select 'weekly', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
values (tests.fx('weekly'), 'Runner', 0, 'GBP', 3, 2), (tests.fx('weekly'), 'Pacer', 0, 'GBP', 1, 1);
update public.ticket_types set sales_start = now() where event_id = tests.fx('weekly') and name = 'Pacer';
insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('weekly'), tests.get_supabase_uid('mia'), 'manager'),
                                                                   (tests.fx('weekly'), tests.get_supabase_uid('cid'), 'checkin');
select public.publish_event(tests.fx('weekly'));
select tests.as_superuser();
update private.events set cover_path = id::text || '/cover.jpg' where id = tests.fx('weekly');

-- Who may make a series, and what the dates must be
create temp table starts as select array[pg_temp.tuesday(0), pg_temp.tuesday(1), pg_temp.tuesday(2), pg_temp.tuesday(3)] as a;
grant all on starts to public;
select tests.authenticate_as('ben');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), 'FREQ=WEEKLY;COUNT=4', (select a from starts), false)$$),
          'not_event_staff', 'a guest cannot repeat someone else''s event');
select tests.authenticate_as('cid');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), 'FREQ=WEEKLY;COUNT=4', (select a from starts), false)$$),
          'not_event_staff', 'nor can a check-in co-host');
select tests.authenticate_as('hal');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), 'FREQ=WEEKLY;COUNT=1', array[pg_temp.tuesday(0)], false)$$),
          'invalid_occurrences', 'one date is not a series');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), 'FREQ=DAILY;COUNT=101',
                                                                      array(select pg_temp.tuesday(0) + make_interval(days => n) from generate_series(0, 100) n), false)$$),
          'invalid_occurrences', 'nor are 101');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), 'FREQ=WEEKLY;COUNT=2', array[pg_temp.tuesday(1), pg_temp.tuesday(2)], false)$$),
          'rrule_not_synchronized', 'the first date is the event''s own start');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), 'FREQ=WEEKLY;COUNT=3',
                                                                      array[pg_temp.tuesday(0), pg_temp.tuesday(2), pg_temp.tuesday(1)], false)$$),
          'invalid_occurrences', 'dates come in order');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), 'FREQ=WEEKLY;COUNT=3',
                                                                      array[pg_temp.tuesday(0), pg_temp.tuesday(1), pg_temp.tuesday(1)], false)$$),
          'invalid_occurrences', 'and never twice');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), 'FREQ=YEARLY;COUNT=3',
                                                                      array[pg_temp.tuesday(0), pg_temp.tuesday(0) + interval '1 year', pg_temp.tuesday(0) + interval '2 years 1 day'], false)$$),
          'series_too_long', 'a series spans at most two years');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), '', (select a from starts), false)$$),
          'invalid_rrule', 'the rule is recorded, so it is required');
select is((select count(*)::int from public.event_series), 0, 'refused series wrote nothing');

select results_eq($$select event_id, series_position, starts_at from private.create_event_series(tests.fx('weekly'), 'FREQ=WEEKLY;COUNT=4', (select a from starts), true)$$,
                  $$values (tests.fx('weekly'), 1, pg_temp.tuesday(0) at time zone 'UTC'), (null::uuid, 2, pg_temp.tuesday(1) at time zone 'UTC'),
                           (null, 3, (pg_temp.tuesday(2) - interval '1 hour') at time zone 'UTC'), (null, 4, (pg_temp.tuesday(3) - interval '1 hour') at time zone 'UTC')$$,
                  'a preview gives the dates — 19:00 GMT before the clocks change, 19:00 BST (18:00 UTC) after — and writes nothing');
select is((select count(*)::int from private.events where title = 'Tuesday run club'), 1, 'nothing was written by the preview');

-- The series
select is((select count(*)::int from private.create_event_series(tests.fx('weekly'), 'FREQ=WEEKLY;COUNT=4', (select a from starts), false)), 4,
          'the host makes a weekly series of four');
select is(tests.hint_of($$select * from private.create_event_series(tests.fx('weekly'), 'FREQ=WEEKLY;COUNT=4', (select a from starts), false)$$),
          'already_in_series', 'an event belongs to one series');
select tests.as_superuser();
select results_eq($$select series_position, starts_at_local, ends_at - starts_at, status from private.events
                     where series_id = tests.fx('weekly') order by series_position$$,
                  $$values (1, pg_temp.tuesday(0), interval '90 minutes', 'published'::text), (2, pg_temp.tuesday(1), interval '90 minutes', 'published'),
                           (3, pg_temp.tuesday(2), interval '90 minutes', 'published'), (4, pg_temp.tuesday(3), interval '90 minutes', 'published')$$,
                  'every occurrence starts at 19:00 London time on its Tuesday, lasts 90 minutes and is published like the first');
select results_eq($$select rrule, timezone, first_local_start, occurrence_count, host_id from public.event_series where id = tests.fx('weekly')$$,
                  $$values ('FREQ=WEEKLY;COUNT=4'::text, 'Europe/London'::text, pg_temp.tuesday(0), 4, tests.get_supabase_uid('hal'))$$,
                  'the series records its rule, zone and first local start; its id is the first event''s');
select is((select count(distinct (title, venue_name, address, refund_policy, cover_path)) from private.events where series_id = tests.fx('weekly')), 1::bigint,
          'every occurrence has the same details and shares the first one''s cover');
select is((select count(*)::int from public.ticket_types where event_id = pg_temp.occ(3)), 2, 'each occurrence has the ticket types');
select is((select sum(i.capacity)::int from private.ticket_inventory i join public.ticket_types t on t.id = i.ticket_type_id where t.event_id = pg_temp.occ(3)), 4,
          'with their own seats');
select ok((select sales_start = now() + ((select starts_at from private.events where id = pg_temp.occ(3)) - (select starts_at from private.events where id = tests.fx('weekly')))
             from public.ticket_types where event_id = pg_temp.occ(3) and name = 'Pacer'), 'a sales window moves with the date');
select is((select count(*)::int from public.event_cohosts where event_id = pg_temp.occ(4)), 2, 'the co-hosts run every date');
select is((select count(*)::int from public.conversations where event_id in (select id from private.events where series_id = tests.fx('weekly'))), 4,
          'each date has its own event chat');
select is((select count(*)::int from private.promotion_jobs where event_id in (select id from private.events where series_id = tests.fx('weekly'))), 1,
          'followers were told once, when the first date was published, not about each date as if it were a new event');

select tests.clear_authentication();
select is((select count(*)::int from public.event_series where id = tests.fx('weekly')), 1, 'anyone who can see the dates sees the series');
select is((select count(*)::int from public.events where series_id = tests.fx('weekly')), 4, 'and lists its dates');

-- Occurrences are ordinary events
select tests.authenticate_as('ana');
insert into fx select 'ana_3', id from public.book_event(pg_temp.occ(3), (select id from public.ticket_types where event_id = pg_temp.occ(3) and name = 'Runner'), 2);
insert into fx select 'ana_4', id from public.book_event(pg_temp.occ(4), (select id from public.ticket_types where event_id = pg_temp.occ(4) and name = 'Runner'), 1);
select tests.authenticate_as('ben');
insert into fx select 'ben_2', id from public.book_event(pg_temp.occ(2), (select id from public.ticket_types where event_id = pg_temp.occ(2) and name = 'Runner'), 1);
insert into fx select 'ben_3', id from public.book_event(pg_temp.occ(3), (select id from public.ticket_types where event_id = pg_temp.occ(3) and name = 'Runner'), 1);
select is(tests.hint_of($$select public.book_event(pg_temp.occ(2), (select id from public.ticket_types where event_id = pg_temp.occ(2) and name = 'Runner'), 1)$$),
          'already_booked', 'one booking per guest per date, as for any event');
select is(tests.hint_of($$select public.book_event(pg_temp.occ(4), (select id from public.ticket_types where event_id = pg_temp.occ(4) and name = 'Pacer'), 1)$$),
          'sales_not_started', 'and each date''s sales window is its own (the pacer tickets open with the date)');
select tests.as_superuser();
select is((select status from public.bookings where id = tests.fx('ana_3')), 'confirmed', 'a guest books one date of the series');
select is((select sum(taken)::int from private.ticket_inventory i join public.ticket_types t on t.id = i.ticket_type_id
            where t.event_id = pg_temp.occ(3) and t.name = 'Runner'), 3, 'and takes seats of that date only');
select is((select count(*)::int from public.conversation_members m join public.conversations c on c.id = m.conversation_id
            where c.event_id = pg_temp.occ(3) and m.user_id = tests.get_supabase_uid('ana')), 1, 'and joins that date''s chat');

-- Writing the series columns directly is refused
select tests.authenticate_as('hal');
select is(tests.hint_of($$update public.events set series_position = 9 where id = pg_temp.occ(2)$$), 'not_editable', 'an occurrence keeps its place');
select is(tests.hint_of($$update public.events set series_id = null where id = pg_temp.occ(2)$$), 'not_editable', 'and its series');
select is(tests.hint_of($$insert into public.events (title, starts_at, ends_at, timezone, series_id, series_position)
                            values ('Sneaky', now() + interval '9 days', now() + interval '9 days 1 hour', 'UTC', tests.fx('weekly'), 5)$$),
          'use_event_series', 'an event cannot be slipped into a series');

-- This and following: a new time of day
select tests.authenticate_as('ben');
select is(tests.hint_of($$select public.change_event_occurrences(pg_temp.occ(2), 'following', p_start_time => '20:00')$$),
          'not_event_staff', 'a guest cannot move the dates');
select tests.authenticate_as('hal');
select is(tests.hint_of($$select public.change_event_occurrences(pg_temp.occ(2), 'all', p_start_time => '20:00')$$),
          'invalid_scope', 'the scope is this or following');
select is((select count(*)::int from public.change_event_occurrences(pg_temp.occ(2), 'following', p_start_time => '20:00', p_reason => 'Lighter evenings')), 3,
          'the host moves the second date and every later one to 20:00');
select tests.as_superuser();
select results_eq($$select series_position, starts_at_local::time, ends_at - starts_at from private.events where series_id = tests.fx('weekly') order by series_position$$,
                  $$values (1, time '19:00', interval '90 minutes'), (2, time '20:00', interval '90 minutes'), (3, time '20:00', interval '90 minutes'), (4, time '20:00', interval '90 minutes')$$,
                  'each at 20:00 local time on its own date, before and after the clocks change, keeping its length; the first is untouched');
select is((select count(*)::int from public.notifications where type = 'event_changed' and data ->> 'event_id' = pg_temp.occ(3)::text), 2,
          'both guests of the third date are told');
select is((select count(*)::int from public.notifications where type = 'event_changed' and user_id = tests.get_supabase_uid('ben')), 2,
          'a guest booked on two of the dates hears about each');
select ok((select bool_and(material) from private.event_changes where event_id in (pg_temp.occ(2), pg_temp.occ(3), pg_temp.occ(4))),
          'a new start is a material change: guests may cancel for a full refund');

-- This and following: a new place, from the third date on
select tests.authenticate_as('mia');
select is((select string_agg(venue_name, ',' order by series_position) from public.change_event_occurrences(pg_temp.occ(3), 'following', p_venue_name => 'Hackney Marshes')),
          'Hackney Marshes,Hackney Marshes', 'a managing co-host moves the third and fourth dates to another park');
select tests.as_superuser();
select is((select string_agg(coalesce(venue_name, '-'), ',' order by series_position) from private.events where series_id = tests.fx('weekly')),
          'Victoria Park,Victoria Park,Hackney Marshes,Hackney Marshes', 'the earlier dates keep theirs');

-- This one only
select tests.authenticate_as('hal');
select is((select count(*)::int from public.change_event_occurrences(pg_temp.occ(2), 'this', p_end_time => '22:00')), 1, 'one date alone can change');
select tests.as_superuser();
select is((select ends_at - starts_at from private.events where id = pg_temp.occ(2)), interval '2 hours', 'its end moved to 22:00');

-- Cancelling this and following
select tests.authenticate_as('mia');
select is(tests.hint_of($$select public.cancel_event_occurrences(pg_temp.occ(3), 'following')$$), 'not_your_event',
          'only the host cancels dates, as only the host cancels an event');
select tests.authenticate_as('hal');
select is((select string_agg(status, ',') from public.cancel_event_occurrences(pg_temp.occ(3), 'following', 'The park is closed')),
          'cancelled,cancelled', 'the host cancels the third date and every later one');
select tests.as_superuser();
select is((select string_agg(status, ',' order by series_position) from private.events where series_id = tests.fx('weekly')),
          'published,published,cancelled,cancelled', 'the first two dates go ahead');
select is((select string_agg(status, ',' order by b.id) from public.bookings b where b.id in (tests.fx('ana_3'), tests.fx('ana_4'), tests.fx('ben_3'))),
          'cancelled,cancelled,cancelled', 'every booking of a cancelled date is cancelled');
select is((select status from public.bookings where id = tests.fx('ben_2')), 'confirmed', 'a booking of an earlier date stands');
select is((select count(*)::int from public.notifications where type = 'event_cancelled' and user_id = tests.get_supabase_uid('ana')), 2,
          'the guest booked on both cancelled dates is told about each');
select tests.authenticate_as('hal');
select is((select string_agg(status, ',') from public.cancel_event_occurrences(pg_temp.occ(3), 'following')), 'cancelled',
          'cancelling again answers the date as it is; the later dates, already closed, are not reached');
select tests.as_superuser();
select is((select count(*)::int from public.notifications where type = 'event_cancelled' and user_id = tests.get_supabase_uid('ana')), 2,
          'and nobody is told twice');
select tests.authenticate_as('hal');

-- Events outside a series
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('One-off', now() + interval '20 days', now() + interval '20 days 2 hours', 'UTC') returning id)
insert into fx select 'single', id from e;
select is(tests.hint_of($$select public.cancel_event_occurrences(tests.fx('single'), 'following')$$), 'not_in_series', '"following" needs a series');
select is((select status from public.cancel_event_occurrences(tests.fx('single'), 'this')), 'cancelled', '"this" works on any event');

-- A series from a draft: drafts, published date by date
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Draft club', pg_temp.tuesday(0) at time zone 'UTC', (pg_temp.tuesday(0) + interval '1 hour') at time zone 'UTC', 'UTC') returning id)
insert into fx select 'draft', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('draft'), 'Seat', 0, 'EUR', 10);
select is((select string_agg(distinct e.status, ',') from private.create_event_series(tests.fx('draft'), 'FREQ=DAILY;COUNT=3',
                                                                                       array[pg_temp.tuesday(0), pg_temp.tuesday(0) + interval '1 day', pg_temp.tuesday(0) + interval '2 days'], false) s
                                                                        join public.events e on e.id = s.event_id), 'draft',
          'the dates of a draft are drafts');
select is((select count(*)::int from public.change_event_occurrences(tests.fx('draft'), 'following', p_start_time => '08:00', p_city => 'Porto')), 3,
          'drafts change directly, without notices');
select tests.as_superuser();
select is((select string_agg(starts_at_local::time::text || ' ' || city, ',' order by series_position) from private.events where series_id = tests.fx('draft')),
          '08:00:00 Porto,08:00:00 Porto,08:00:00 Porto', 'to the new time and place');

-- Closed and past events cannot start a series
select tests.authenticate_as('hal');
select is(tests.hint_of($$select * from private.series_template(tests.fx('single'))$$), 'event_closed', 'a cancelled event cannot be repeated');
select tests.as_superuser();
set local session_replication_role = replica;
update private.events set starts_at = now() - interval '1 hour', ends_at = now() + interval '1 hour' where id = tests.fx('single');
update private.events set status = 'published' where id = tests.fx('single');
set local session_replication_role = origin;
select tests.authenticate_as('hal');
select is(tests.hint_of($$select * from private.series_template(tests.fx('single'))$$), 'event_in_past', 'nor one that has begun');

select * from finish();
rollback;
