-- Event topics on Realtime: event:<id> carries seats left and the check-in count to everyone who
-- may see the event; event:<id>:staff carries who checked in, to the host and co-hosts only;
-- only the database broadcasts on either.
begin;
select plan(23);

create function pg_temp.topic(p_title text) returns text language sql as $$
  select 'event:' || tests.event_id(p_title)::text
$$;
create function pg_temp.staff_topic(p_title text) returns text language sql as $$
  select 'event:' || tests.event_id(p_title)::text || ':staff'
$$;

-- The host publishes a free event tomorrow with ten seats.
create function pg_temp.publish_free_event(p_host text, p_title text, p_visibility text default 'public') returns uuid
language plpgsql as $$
declare v_id uuid;
begin
  perform tests.authenticate_as(p_host);
  insert into public.events (title, category, starts_at, ends_at, timezone, venue_name, city, visibility)
  values (p_title, 'arts_culture', now() + interval '1 day', now() + interval '1 day 3 hours', 'Europe/Berlin', 'Dach', 'Berlin',
          p_visibility)
  returning id into v_id;
  insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (v_id, 'Seat', 0, 'EUR', 10);
  perform public.publish_event(v_id);
  perform tests.as_superuser();
  return v_id;
end $$;

create function pg_temp.book(p_guest text, p_title text, p_quantity integer) returns void language plpgsql as $$
begin
  perform tests.authenticate_as(p_guest);
  perform public.book_event(tests.event_id(p_title), (select t.id from public.ticket_types t where t.event_id = tests.event_id(p_title)),
                            p_quantity);
  perform tests.as_superuser();
end $$;

create function pg_temp.check_in_code(p_guest text, p_title text) returns text language sql security definer as $$
  select b.check_in_code from public.bookings b
   where b.guest_id = tests.get_supabase_uid(p_guest) and b.event_id = tests.event_id(p_title) and b.status = 'confirmed'
$$;

-- Broadcasts the database sent on a topic (read as the superuser).
create function pg_temp.broadcasts(p_topic text, p_event text) returns setof jsonb language sql security definer as $$
  select payload from realtime.messages where topic = p_topic and event = p_event and private
$$;

select tests.create_supabase_user('hugo', 'hugo@example.test', '{"username":"hugo_hosts","display_name":"Hugo"}');
select tests.create_supabase_user('cora', 'cora@example.test', '{"username":"cora_checks","display_name":"Cora"}');
select tests.create_supabase_user('gabe', 'gabe@example.test', '{"username":"gabe","display_name":"Gabe Rivera"}');
select tests.create_supabase_user('gina', 'gina@example.test', '{"username":"gina","display_name":"Gina Holt"}');
select tests.create_supabase_user('val', 'val@example.test', '{"username":"val_v"}');
select tests.create_supabase_user('bea', 'bea@example.test', '{"username":"bea_b"}');
select tests.create_supabase_user('fern', 'fern@example.test', '{"username":"fern_follows"}');
select tests.create_supabase_user('finn', 'finn@example.test', '{"username":"finn_f"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('hugo');

select pg_temp.publish_free_event('hugo', 'Rooftop cinema');
select pg_temp.publish_free_event('hugo', 'Supper for friends', 'followers');
select tests.authenticate_as('hugo');
insert into public.event_cohosts (event_id, user_id, role) values (tests.event_id('Rooftop cinema'), tests.get_supabase_uid('cora'), 'checkin');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('hugo'), tests.get_supabase_uid('bea'));
select tests.authenticate_as('fern');
insert into public.follows (follower_id, followee_id) values (tests.get_supabase_uid('fern'), tests.get_supabase_uid('hugo'));

-- Seats left
select pg_temp.book('gabe', 'Rooftop cinema', 2);
select pg_temp.book('gina', 'Rooftop cinema', 3);
select tests.as_superuser();
select results_eq($$select (p ->> 'seats_left')::int from pg_temp.broadcasts(pg_temp.topic('Rooftop cinema'), 'seats_left') as p order by 1 desc$$,
                  $$values (8), (5)$$,
                  'each booking broadcasts the seats left (10 − 2, then − 3) on event:<id>');
select is((select count(*)::int from pg_temp.broadcasts(pg_temp.topic('Rooftop cinema'), 'seats_left') as p
            where p ->> 'ticket_type_id' = (select id::text from public.ticket_types where event_id = tests.event_id('Rooftop cinema'))),
          2, 'and names the ticket type it counts');

-- Who may receive on event:<id>
select tests.authenticate_as('gabe');
select ok(tests.can_receive_on(pg_temp.topic('Rooftop cinema')), 'a booked guest may receive on the event topic');
select tests.authenticate_as('val');
select ok(tests.can_receive_on(pg_temp.topic('Rooftop cinema')), 'any signed-in user who can see a public event may receive on its topic');
select ok(not tests.can_receive_on(pg_temp.topic('Rooftop cinema'), 'presence'), 'but the event topic has no presence');
select tests.clear_authentication();
select ok(not tests.can_receive_on(pg_temp.topic('Rooftop cinema')), 'anonymous clients may not join an event topic');
select tests.authenticate_as('bea');
select ok(not tests.can_receive_on(pg_temp.topic('Rooftop cinema')), 'a user the host blocked may not receive on a public event''s topic');
select tests.authenticate_as('finn');
select ok(not tests.can_receive_on(pg_temp.topic('Supper for friends')), 'a non-follower may not receive on a followers-only event''s topic');
select tests.authenticate_as('fern');
select ok(tests.can_receive_on(pg_temp.topic('Supper for friends')), 'a follower of the host may');

-- Who may receive on event:<id>:staff
select tests.authenticate_as('hugo');
select ok(tests.can_receive_on(pg_temp.staff_topic('Rooftop cinema')), 'the host may receive on the staff topic');
select tests.authenticate_as('cora');
select ok(tests.can_receive_on(pg_temp.staff_topic('Rooftop cinema')), 'a check-in co-host may receive on the staff topic');
select ok(not tests.can_receive_on(pg_temp.staff_topic('Supper for friends')), 'but not on the staff topic of an event she does not run');
select tests.authenticate_as('gabe');
select ok(not tests.can_receive_on(pg_temp.staff_topic('Rooftop cinema')), 'a booked guest may not receive on the staff topic');
select tests.authenticate_as('val');
select ok(not tests.can_receive_on(pg_temp.staff_topic('Rooftop cinema')), 'nor may any other user');

-- Nobody sends
select tests.authenticate_as('hugo');
select ok(not tests.can_send_on(pg_temp.topic('Rooftop cinema'), 'broadcast'), 'not even the host may broadcast on the event topic');
select ok(not tests.can_send_on(pg_temp.staff_topic('Rooftop cinema'), 'broadcast'), 'nor on the staff topic');
select tests.authenticate_as('cora');
select ok(not tests.can_send_on(pg_temp.staff_topic('Rooftop cinema'), 'broadcast'), 'a co-host may not broadcast on the staff topic');
select tests.authenticate_as('gabe');
select ok(not tests.can_send_on(pg_temp.topic('Rooftop cinema'), 'broadcast'), 'a guest may not broadcast fake seat counts');

-- Check-in: the count for everyone, the names for the staff only. Doors open within the hour.
select tests.as_superuser();
update private.events set starts_at = now() + interval '1 hour', ends_at = now() + interval '4 hours'
 where id = tests.event_id('Rooftop cinema');
select tests.authenticate_as('hugo');
select public.check_in(pg_temp.check_in_code('gabe', 'Rooftop cinema'));
select tests.authenticate_as('cora');
select public.check_in(pg_temp.check_in_code('gina', 'Rooftop cinema'));
select tests.as_superuser();

-- (realtime.send adds the message id to every payload)
select results_eq($$select p - 'id' from pg_temp.broadcasts(pg_temp.topic('Rooftop cinema'), 'check_in_count') as p order by (p ->> 'checked_in')::int$$,
                  $$values ('{"checked_in": 2}'::jsonb), ('{"checked_in": 5}'::jsonb)$$,
                  'each check-in broadcasts the number of people in (2, then 2 + 3) on event:<id>, and nothing else');
select is((select count(*)::int from realtime.messages where topic = pg_temp.topic('Rooftop cinema')
            and (payload::text like '%Gabe%' or payload::text like '%Gina%' or payload ? 'guest_id')), 0,
          'no guest''s name or id is broadcast on the public event topic');
select results_eq($$select p ->> 'display_name', (p ->> 'quantity')::int, p ->> 'guest_id'
                      from pg_temp.broadcasts(pg_temp.staff_topic('Rooftop cinema'), 'check_in') as p order by 1$$,
                  $$values ('Gabe Rivera'::text, 2, tests.get_supabase_uid('gabe')::text),
                           ('Gina Holt', 3, tests.get_supabase_uid('gina')::text)$$,
                  'each check-in is broadcast with the guest''s display name and party size on event:<id>:staff');
select is((select count(*)::int from pg_temp.broadcasts(pg_temp.topic('Rooftop cinema'), 'check_in')), 0,
          'per-guest check-ins are not sent on the public topic');

-- Cancelling a booking gives the seats back, and says so.
select tests.as_superuser();
update private.events set starts_at = now() + interval '1 day', ends_at = now() + interval '1 day 3 hours'
 where id = tests.event_id('Rooftop cinema');
select pg_temp.book('val', 'Rooftop cinema', 1);
select tests.authenticate_as('val');
select public.cancel_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('val')));
select tests.as_superuser();
select results_eq($$select (p ->> 'seats_left')::int from pg_temp.broadcasts(pg_temp.topic('Rooftop cinema'), 'seats_left') as p order by 1 desc$$,
                  $$values (8), (5), (5), (4)$$,
                  'a booking and its cancellation each broadcast the seats left');

select * from finish();
rollback;
