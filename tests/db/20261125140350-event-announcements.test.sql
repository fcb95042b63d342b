-- Host announcements: the host or a managing co-host writes to the confirmed guests (optionally
-- the waitlist); each is told in-app, on their own channels and in the event chat, never across
-- a block; five a day per event; host_event_stats counts them and their reach. Change notices
-- go to the same guests by the same definition (plus those still holding seats), once each.
-- Also tells: 20261125110500_event_lifecycle
begin;
select plan(25);

create function pg_temp.hint_of(p_sql text) returns text language plpgsql as $$
declare v_hint text;
begin
  execute p_sql;
  return null;
exception when others then
  get stacked diagnostics v_hint = pg_exception_hint;
  return v_hint;
end $$;
create function pg_temp.uid(p_name text) returns uuid language sql as $$ select tests.get_supabase_uid(p_name) $$;
create function pg_temp.told(p_type text, p_event uuid) returns text language sql security definer as $$
  select coalesce(string_agg(p.username, ',' order by p.username), '')
    from public.notifications n join public.profiles p on p.id = n.user_id
   where n.type = p_type and n.data ->> 'event_id' = p_event::text
$$;

select tests.create_supabase_user('hana', 'hana@example.test', '{"username":"hana_host"}');
select tests.create_supabase_user('mo', 'mo@example.test', '{"username":"mo_manager"}');
select tests.create_supabase_user('cid', 'cid@example.test', '{"username":"cid_checkin"}');
select tests.create_supabase_user('g1', 'g1@example.test', '{"username":"g1_guest","timezone":"America/New_York"}');
select tests.create_supabase_user('g2', 'g2@example.test', '{"username":"g2_guest"}');
select tests.create_supabase_user('g3', 'g3@example.test', '{"username":"g3_holding"}');
select tests.create_supabase_user('blk', 'blk@example.test', '{"username":"blk_guest"}');
select tests.create_supabase_user('w1', 'w1@example.test', '{"username":"w1_waiting"}');
select tests.create_supabase_user('stranger', 'stranger@example.test', '{"username":"stranger_s"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = pg_temp.uid('hana');

select tests.authenticate_as('hana');
create temp table ev (name text primary key, id uuid);
grant all on ev to public;
with e as (insert into public.events (title, starts_at, ends_at, timezone, city) values
  ('Roof party', now() + interval '10 days', now() + interval '10 days 4 hours', 'Europe/Lisbon', 'Lisboa') returning id)
insert into ev select 'party', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone) values
  ('Quiet draft', now() + interval '12 days', now() + interval '12 days 2 hours', 'Europe/Lisbon') returning id)
insert into ev select 'draft', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone) values
  ('Empty room', now() + interval '14 days', now() + interval '14 days 2 hours', 'Europe/Lisbon') returning id)
insert into ev select 'empty', id from e;
create function pg_temp.ev(p_name text) returns uuid language sql as $$ select id from ev where name = p_name $$;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values
  (pg_temp.ev('party'), 'GA', 0, 'EUR', 3), (pg_temp.ev('party'), 'VIP', 1000, 'EUR', 5),
  (pg_temp.ev('draft'), 'GA', 0, 'EUR', 5), (pg_temp.ev('empty'), 'GA', 0, 'EUR', 5);
create function pg_temp.ticket(p_event text, p_name text) returns uuid language sql security definer as $$
  select t.id from public.ticket_types t where t.event_id = pg_temp.ev(p_event) and t.name = p_name
$$;
select public.publish_event(pg_temp.ev('party'));
select public.publish_event(pg_temp.ev('empty'));
insert into public.event_cohosts (event_id, user_id, role) values
  (pg_temp.ev('party'), pg_temp.uid('mo'), 'manager'), (pg_temp.ev('party'), pg_temp.uid('cid'), 'checkin');
select tests.authenticate_as('g1');
select public.book_event(pg_temp.ev('party'), pg_temp.ticket('party', 'GA'), 1, 'g1');
select tests.authenticate_as('g2');
select public.book_event(pg_temp.ev('party'), pg_temp.ticket('party', 'GA'), 1, 'g2');
select tests.authenticate_as('blk');
select public.book_event(pg_temp.ev('party'), pg_temp.ticket('party', 'GA'), 1, 'blk');
insert into public.blocks (blocker_id, blocked_id) values (pg_temp.uid('blk'), pg_temp.uid('hana'));
select tests.authenticate_as('g3');
select public.book_event(pg_temp.ev('party'), pg_temp.ticket('party', 'VIP'), 1, 'g3');
select tests.authenticate_as('w1');
select public.join_waitlist(pg_temp.ev('party'), pg_temp.ticket('party', 'GA'), 1);
select tests.as_superuser();
select is((select string_agg(p.username || ':' || b.status, ',' order by p.username) from public.bookings b
             join public.profiles p on p.id = b.guest_id where b.event_id = pg_temp.ev('party')),
          'blk_guest:confirmed,g1_guest:confirmed,g2_guest:confirmed,g3_holding:held',
          'three guests are in, one holds a VIP seat while paying (and w1 waits for a seat)');

-- Who may write
select tests.authenticate_as('stranger');
select is(pg_temp.hint_of($$select * from public.send_event_announcement(pg_temp.ev('party'), 'Hi', 'Hello')$$), 'not_event_staff',
          'a stranger cannot write to the guests');
select tests.authenticate_as('g1');
select is(pg_temp.hint_of($$select * from public.send_event_announcement(pg_temp.ev('party'), 'Hi', 'Hello')$$), 'not_event_staff',
          'nor can a guest');
select tests.authenticate_as('cid');
select is(pg_temp.hint_of($$select * from public.send_event_announcement(pg_temp.ev('party'), 'Hi', 'Hello')$$), 'not_event_staff',
          'nor a co-host who only checks people in');
select tests.authenticate_as('hana');
select is(pg_temp.hint_of($$select * from public.send_event_announcement(pg_temp.ev('draft'), 'Hi', 'Hello')$$), 'event_not_open',
          'a draft has no guests to write to');
select is(pg_temp.hint_of($$select * from public.send_event_announcement(pg_temp.ev('party'), '   ', 'Hello')$$), 'invalid_title',
          'an announcement has a title');
select is(pg_temp.hint_of($$select * from public.send_event_announcement(pg_temp.ev('party'), 'Hi', repeat('x', 2001))$$), 'invalid_body',
          'and a message of at most 2,000 characters');
select is(pg_temp.hint_of($$select * from public.send_event_announcement(pg_temp.ev('empty'), 'Hi', 'Anyone?')$$), 'no_guests',
          'an event nobody booked has nobody to tell');

-- The host writes
create temp table sent as select * from public.send_event_announcement(pg_temp.ev('party'), 'Bring a jacket', 'It gets windy on the roof after 10.');
grant all on sent to public;
select is((select recipients from sent), 2, 'the announcement reaches the two confirmed guests who have not blocked the host');
select tests.as_superuser();
select is(pg_temp.told('event_announcement', pg_temp.ev('party')), 'g1_guest,g2_guest',
          'g1 and g2 are told; the guest holding an unpaid seat is not, nor the one who blocked the host');
select is((select title || ' / ' || body from public.notifications where type = 'event_announcement' and user_id = pg_temp.uid('g1')),
          'Bring a jacket / It gets windy on the roof after 10.', 'in the host''s own words');
select is((select count(*)::int from private.alert_deliveries d join public.notifications n on n.id = d.notification_id
            where n.type = 'event_announcement' and d.channel = 'email'), 2, 'and by email, the default for announcements');
select is((select m.body from public.messages m where m.id = (select chat_message_id from sent)),
          E'Bring a jacket\n\nIt gets windy on the roof after 10.', 'it is posted in the event chat');
select is((select m.kind || ':' || (m.data ->> 'kind') from public.messages m where m.id = (select chat_message_id from sent)),
          'system:announcement', 'as a system message marked as an announcement');
select is((select count(*)::int from public.notifications where type = 'message_received'), 0,
          'and the chat post does not notify anyone a second time');

-- A managing co-host, to the waitlist too
select tests.authenticate_as('mo');
select is((select recipients from public.send_event_announcement(pg_temp.ev('party'), 'Doors at 8', 'Come early.', true)), 4,
          'Mo, a managing co-host, writes to the guests and the waitlist');
select tests.as_superuser();
select is((select string_agg(p.username, ',' order by p.username) from public.notifications n join public.profiles p on p.id = n.user_id
            where n.type = 'event_announcement' and n.title = 'Doors at 8'), 'blk_guest,g1_guest,g2_guest,w1_waiting',
          'the person waiting for a seat hears it too, and so does the guest who blocked Hana (a block is between two people)');

-- Five a day per event, whoever sends them
select tests.authenticate_as('hana');
select public.send_event_announcement(pg_temp.ev('party'), 'Update ' || g, 'More news.') from generate_series(3, 5) g;
select is(pg_temp.hint_of($$select * from public.send_event_announcement(pg_temp.ev('party'), 'Sixth', 'Too many.')$$), 'rate_limited',
          'the sixth announcement of the day is refused');
select is((select announcements || '/' || announcement_reach from public.host_event_stats(pg_temp.ev('party'))), '5/12',
          'the host''s stats count five announcements reaching 12 guests in all');
select tests.authenticate_as('g1');
select is((select count(*)::int from public.notifications where type = 'event_announcement'), 5, 'g1 got all five');

-- Change notices go to the same guests, and to those holding seats, once each
select tests.authenticate_as('hana');
select public.change_event_details(pg_temp.ev('party'), p_starts_at => now() + interval '11 days',
                                   p_ends_at => now() + interval '11 days 4 hours', p_reason => 'The band moved.');
select tests.as_superuser();
select is(pg_temp.told('event_changed', pg_temp.ev('party')), 'blk_guest,g1_guest,g2_guest,g3_holding',
          'every booked guest is told the time changed, the one who blocked the host included (it is about their booking)');
select is((select count(*)::int from public.notifications where type = 'event_changed' and user_id = pg_temp.uid('w1')), 0,
          'the waitlist is not: they have no booking to change');
select is((select (data ->> 'timezone') || ':' || (data ->> 'time_changed') || ':' || (data ->> 'place_changed') || ':' || (data ->> 'material')
             from public.notifications where type = 'event_changed' and user_id = pg_temp.uid('g1')),
          'America/New_York:true:false:true', 'with what changed and the guest''s own time zone, for the templates');
select ok((select body like '%New time:%(America/New_York)%full refund until%' from public.notifications
            where type = 'event_changed' and user_id = pg_temp.uid('g1')),
          'g1 reads the new time and the refund window in New York time');
select is((select count(*)::int from private.alert_deliveries d join public.notifications n on n.id = d.notification_id
            where n.type = 'event_changed' and d.channel = 'email'), 4, 'each by email too (a critical notice)');

select * from finish();
rollback;
