-- Calendar: what a booking's .ics and a subscription feed may show (the exact address only to
-- confirmed guests and staff), how SEQUENCE follows changes, and the feed token's life: shown
-- once, stored hashed, replaced, revoked, dead with the account.
begin;
select plan(40);

select tests.create_supabase_user('hal', 'hal@example.test', '{"username":"hal_host"}');
select tests.create_supabase_user('mia', 'mia@example.test', '{"username":"mia_manager"}');
select tests.create_supabase_user('ana', 'ana@example.test', '{"username":"ana_guest"}');
select tests.create_supabase_user('ben', 'ben@example.test', '{"username":"ben_guest"}');
update public.profiles set is_host = true, host_status = 'active', display_name = 'Hal' where id = tests.get_supabase_uid('hal');

select tests.create_fixtures();
-- status | location | exact location shown | online link shown | sequence
create function pg_temp.entry(p_user text, p_event text) returns text language sql as $$
  select concat_ws(' | ', c.status, c.location, c.latitude is not null, c.online_url is not null, c.sequence)
    from private.calendar_entries(tests.get_supabase_uid(p_user), null) c where c.event_id = tests.fx(p_event) $$;
create function pg_temp.seq(p_user text, p_event text) returns integer language sql as $$
  select c.sequence from private.calendar_entries(tests.get_supabase_uid(p_user), null) c where c.event_id = tests.fx(p_event) $$;
create function pg_temp.feed(p_user text) returns text language sql as $$
  select coalesce(string_agg(f.name || ':' || c.role || ':' || c.status, ', ' order by f.name), '')
    from private.calendar_entries(tests.get_supabase_uid(p_user), null) c join fx f on f.id = c.event_id $$;

select tests.authenticate_as('hal');
with e as (insert into public.events (title, starts_at, ends_at, timezone, venue_name, address, city, location, online_url)
           values ('Jazz night', now() + interval '10 days', now() + interval '10 days 3 hours', 'Europe/Lisbon',
                   'Hot Clube', 'Praça da Alegria 48', 'Lisbon', 'SRID=4326;POINT(-9.1449 38.7189)', 'https://stream.example/jazz') returning id)
insert into fx select 'jazz', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone, venue_name, address, city, requires_approval)
           values ('Supper club', now() + interval '12 days', now() + interval '12 days 3 hours', 'Europe/Lisbon',
                   'Casa Hal', 'Rua Secreta 1', 'Lisbon', true) returning id)
insert into fx select 'supper', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone)
           values ('Draft idea', now() + interval '20 days', now() + interval '20 days 1 hour', 'UTC') returning id)
insert into fx select 'draft', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity)
select id, 'Spot', 0, 'EUR', 10 from fx where name in ('jazz', 'supper', 'draft');
select public.publish_event(tests.fx('jazz'));
select public.publish_event(tests.fx('supper'));
insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('supper'), tests.get_supabase_uid('mia'), 'checkin');

select tests.authenticate_as('ana');
insert into fx select 'ana_jazz', id from public.book_event(tests.fx('jazz'), (select id from public.ticket_types where event_id = tests.fx('jazz')), 2);
insert into fx select 'ana_supper', id from public.book_event(tests.fx('supper'), (select id from public.ticket_types where event_id = tests.fx('supper')), 1);
select tests.authenticate_as('ben');
insert into fx select 'ben_jazz', id from public.book_event(tests.fx('jazz'), (select id from public.ticket_types where event_id = tests.fx('jazz')), 1);
select tests.as_superuser();

-- What each person's calendar holds
select is(pg_temp.feed('ana'), 'jazz:guest:CONFIRMED, supper:guest:TENTATIVE', 'a guest''s feed: the confirmed booking, and the pending one as tentative');
select is(pg_temp.feed('hal'), 'jazz:staff:CONFIRMED, supper:staff:CONFIRMED', 'the host''s feed: the events he hosts, not his drafts');
select is(pg_temp.feed('mia'), 'supper:staff:CONFIRMED', 'a co-host''s feed: the event she helps run');
select is(pg_temp.entry('ana', 'jazz'), 'CONFIRMED | Hot Clube, Praça da Alegria 48, Lisbon | t | t | 1',
          'a confirmed guest sees the exact address, location and online link');
select is(pg_temp.entry('ana', 'supper'), 'TENTATIVE | Casa Hal, Lisbon | f | f | 0',
          'a pending guest sees only the venue and the city: no address, no location');
select is(pg_temp.entry('hal', 'supper'), 'CONFIRMED | Casa Hal, Rua Secreta 1, Lisbon | f | f | 0',
          'the host sees the address of his own event');
select is((select c.quantity from private.calendar_entries(tests.get_supabase_uid('ana'), null) c where c.event_id = tests.fx('jazz')), 2,
          'the entry carries the number of tickets');
select is((select c.host_name from private.calendar_entries(tests.get_supabase_uid('ana'), null) c where c.event_id = tests.fx('jazz')), 'Hal',
          'and who hosts');

-- Changes raise SEQUENCE so calendars replace what they hold
select tests.authenticate_as('hal');
select public.approve_booking(tests.fx('ana_supper'));
select tests.as_superuser();
select is(pg_temp.entry('ana', 'supper'), 'CONFIRMED | Casa Hal, Rua Secreta 1, Lisbon | f | f | 1',
          'once approved, the booking is confirmed, shows the address, and its sequence grows');
select tests.authenticate_as('hal');
select public.change_event_details(tests.fx('jazz'), p_starts_at => now() + interval '11 days', p_ends_at => now() + interval '11 days 3 hours',
                                   p_reason => 'Band delayed');
select tests.as_superuser();
select is(pg_temp.seq('ana', 'jazz'), 2, 'a change of time raises the sequence of every guest''s entry');
select is((select c.starts_at from private.calendar_entries(tests.get_supabase_uid('ben'), null) c where c.event_id = tests.fx('jazz')),
          (select starts_at from private.events where id = tests.fx('jazz')), 'and the entry has the new time');
select is(pg_temp.seq('hal', 'jazz'), 1,
          'the host''s own entry too');

-- One booking's .ics
select tests.clear_authentication();
select is(tests.hint_of('select * from public.create_calendar_feed()'), 'not_authenticated', 'anonymous callers get no feed');
select tests.authenticate_as('ben');
select is(tests.hint_of(format('select * from private.booking_calendar(%L)', tests.fx('ana_jazz'))), 'not_your_booking',
          'another guest cannot download someone else''s booking');
select is(tests.hint_of(format('select * from private.booking_calendar(%L)', gen_random_uuid())), 'booking_not_found', 'an unknown booking is not found');
select is((select count(*)::int from private.booking_calendar(tests.fx('ben_jazz'))), 1, 'a guest downloads their own booking');
select tests.authenticate_as('hal');
select is(tests.hint_of(format('select * from private.booking_calendar(%L)', tests.fx('ben_jazz'))), 'not_your_booking',
          'even the host does not download a guest''s booking file (his feed has the event)');
select tests.authenticate_as('ben');
select public.cancel_booking(tests.fx('ben_jazz'));
select results_eq(format('select status, location, latitude, sequence from private.booking_calendar(%L)', tests.fx('ben_jazz')),
                  $$values ('CANCELLED'::text, 'Hot Clube, Lisbon'::text, null::double precision, 3)$$,
                  'a cancelled booking''s file says CANCELLED, shows no address any more, and outranks the confirmed one');
select tests.as_superuser();
select is(pg_temp.feed('ben'), '', 'and it leaves the guest''s feed');
select tests.authenticate_as('ben');
select public.book_event(tests.fx('jazz'), (select id from public.ticket_types where event_id = tests.fx('jazz')), 1);
select tests.as_superuser();
select is(pg_temp.seq('ben', 'jazz'), 5, 'booking again outranks the cancelled booking''s file (same UID, higher SEQUENCE)');
select tests.authenticate_as('ben');
select public.cancel_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('ben') and status = 'confirmed'));
select tests.as_superuser();

-- A cancelled event leaves every feed
select tests.authenticate_as('hal');
select public.cancel_event(tests.fx('supper'), 'Chef is ill');
select tests.as_superuser();
select is(pg_temp.feed('ana'), 'jazz:guest:CONFIRMED', 'a cancelled event leaves the guest''s feed');
select is(pg_temp.feed('mia'), '', 'and the co-host''s');
select tests.authenticate_as('ana');
select is((select status from private.booking_calendar(tests.fx('ana_supper'))), 'CANCELLED', 'the booking''s own file says CANCELLED');
select tests.as_superuser();

-- Recent past events stay; old ones go
set local session_replication_role = replica;
update private.events set starts_at = now() - interval '5 days', ends_at = now() - interval '5 days' + interval '3 hours', status = 'completed',
       completed_at = now() - interval '5 days' where id = tests.fx('jazz');
set local session_replication_role = origin;
select is(pg_temp.feed('ana'), 'jazz:guest:CONFIRMED', 'an event that ended last week stays in the feed (the calendar keeps its history)');
set local session_replication_role = replica;
update private.events set starts_at = now() - interval '40 days', ends_at = now() - interval '40 days' + interval '3 hours' where id = tests.fx('jazz');
set local session_replication_role = origin;
select is(pg_temp.feed('ana'), '', 'one that ended more than 30 days ago leaves it');

-- The feed token
select tests.authenticate_as('ana');
create temp table tok as select * from public.create_calendar_feed();
grant all on tok to public;
select ok((select token ~ '^[A-Za-z0-9_-]{43}$' from tok), 'the token is 32 random bytes in base64url (43 characters)');
select is((select path from tok), '/functions/v1/calendar/feed/' || (select token from tok) || '.ics', 'with the path the calendar app fetches');
select tests.as_superuser();
select is(private.calendar_feed_user((select token from tok)), tests.get_supabase_uid('ana'), 'the token leads to its owner');
select is((select count(*)::int from private.calendar_feeds where user_id = tests.get_supabase_uid('ana')
            and token_sha256 = extensions.digest((select token from tok), 'sha256')), 1, 'only its SHA-256 is stored');
select is((select count(*)::int from private.calendar_feeds f, tok where position(convert_to(tok.token, 'UTF8') in f.token_sha256) > 0), 0,
          'never the token itself');
select ok((select last_used_at is not null from private.calendar_feeds where user_id = tests.get_supabase_uid('ana')), 'its use is noted');
select is(private.calendar_feed_user('x' || substr((select token from tok), 2)), null, 'a token one character off leads nowhere');
select is(private.calendar_feed_user('not a token'), null, 'nor does a malformed one');
select is(private.calendar_feed_user(null), null, 'nor null');
select tests.authenticate_as('ana');
create temp table tok2 as select * from public.create_calendar_feed();
grant all on tok2 to public;
select tests.as_superuser();
select is(private.calendar_feed_user((select token from tok)), null, 'a new token replaces the old one at once');
select is(private.calendar_feed_user((select token from tok2)), tests.get_supabase_uid('ana'), 'and works');
select tests.authenticate_as('ana');
select ok(public.revoke_calendar_feed(), 'revoking says there was a feed');
select ok(not public.revoke_calendar_feed(), 'and a second revoke that there is none');
select tests.as_superuser();
select is(private.calendar_feed_user((select token from tok2)), null, 'a revoked token leads nowhere');

select tests.authenticate_as('ben');
create temp table tok3 as select * from public.create_calendar_feed();
grant all on tok3 to public;
select tests.as_superuser();
update public.profiles set deleted_at = now() where id = tests.get_supabase_uid('ben');
select is(private.calendar_feed_user((select token from tok3)), null, 'the feed of a deleted account stops answering');

select * from finish();
rollback;
