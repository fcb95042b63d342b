-- Events: only hosts create them; every field is validated; the lifecycle is draft → published →
-- completed or cancelled; visibility and address privacy hold for every kind of viewer.
-- Also tells: 20261125110500_event_lifecycle
begin;
select plan(50);

select tests.create_supabase_user('maya', 'maya@example.test', '{"username":"maya_hosts"}');
select tests.create_supabase_user('cora', 'cora@example.test', '{"username":"cora_manager"}');
select tests.create_supabase_user('dino', 'dino@example.test', '{"username":"dino_door"}');
select tests.create_supabase_user('gus', 'gus@example.test', '{"username":"gus_guest"}');
select tests.create_supabase_user('fay', 'fay@example.test', '{"username":"fay_follower"}');
select tests.create_supabase_user('bo', 'bo@example.test', '{"username":"bo_blocked"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('maya');

-- Who may create
select tests.authenticate_as('gus');
select throws_ok($$insert into public.events (title, starts_at, ends_at, timezone) values ('Gus party', now() + interval '2 days', now() + interval '2 days 2 hours', 'UTC')$$,
                 '42501', 'Only hosts can create events. Call become_host() first.', 'a guest who is not a host cannot create events');
select tests.clear_authentication();
select throws_ok($$insert into public.events (title, starts_at, ends_at, timezone) values ('Anon party', now() + interval '2 days', now() + interval '2 days 2 hours', 'UTC')$$,
                 '42501', null, 'anonymous visitors cannot create events');

select tests.authenticate_as('maya');
select throws_ok($$insert into public.events (host_id, title, starts_at, ends_at, timezone) values (tests.get_supabase_uid('gus'), 'Not mine', now() + interval '2 days', now() + interval '2 days 2 hours', 'UTC')$$,
                 '42501', null, 'a host cannot create an event in someone else''s name');

create temp table ev as
  with ins as (
    insert into public.events (title, description, category, starts_at, ends_at, timezone, venue_name, address, city, location, online_url, refund_policy)
    values ('Sunrise 10K', 'A friendly run along the river, then coffee.', 'sports_fitness', now() + interval '10 days', now() + interval '10 days 2 hours',
            'Europe/London', 'Tower Bridge', '1 Tower Bridge Rd, London SE1 2UP', 'London', 'POINT(-0.0754 51.5055)', 'https://meet.example/run', 'moderate')
    returning *)
  select * from ins;
grant select on ev to public;
select results_eq($$select status, host_id, address from ev$$,
                  $$values ('draft'::text, tests.get_supabase_uid('maya'), '1 Tower Bridge Rd, London SE1 2UP'::text)$$,
                  'a host creates a draft they host, and sees its exact address');

-- Validation: every bad field is refused with 22023 and a hint, and nothing is written
select tests.raises_hint($$insert into public.events (title, starts_at, ends_at, timezone) values ('Backwards', now() + interval '2 days', now() + interval '1 day', 'UTC')$$,
          'ends_before_start', 'an event that ends before it starts is refused');
select tests.raises_hint($$insert into public.events (title, starts_at, ends_at, timezone) values ('Somewhere', now() + interval '2 days', now() + interval '3 days', 'Mars/Base')$$,
          'invalid_timezone', 'an unknown IANA time zone is refused');
select tests.raises_hint($$insert into public.events (title, starts_at, ends_at, timezone) values ('Hi', now() + interval '2 days', now() + interval '3 days', 'UTC')$$,
          'invalid_title', 'a title under 3 characters is refused');
select tests.raises_hint($$insert into public.events (title, starts_at, ends_at, timezone) values (repeat('x', 121), now() + interval '2 days', now() + interval '3 days', 'UTC')$$,
          'invalid_title', 'a title over 120 characters is refused');
select tests.raises_hint($$insert into public.events (title, description, starts_at, ends_at, timezone) values ('Long', repeat('x', 10001), now() + interval '2 days', now() + interval '3 days', 'UTC')$$,
          'description_too_long', 'a description over 10,000 characters is refused');
select tests.raises_hint($$insert into public.events (title, category, starts_at, ends_at, timezone) values ('Odd', 'raves', now() + interval '2 days', now() + interval '3 days', 'UTC')$$,
          'invalid_category', 'an unknown category is refused');
select tests.raises_hint($$insert into public.events (title, online_url, starts_at, ends_at, timezone) values ('Link', 'javascript:alert(1)', now() + interval '2 days', now() + interval '3 days', 'UTC')$$,
          'invalid_online_url', 'an online link that is not https is refused');
select tests.raises_hint($$insert into public.events (title, visibility, starts_at, ends_at, timezone) values ('Vis', 'secret', now() + interval '2 days', now() + interval '3 days', 'UTC')$$,
          'invalid_visibility', 'an unknown visibility is refused');
select tests.raises_hint($$insert into public.events (title, status, starts_at, ends_at, timezone) values ('Live now', 'published', now() + interval '2 days', now() + interval '3 days', 'UTC')$$,
          'use_publish_event', 'an event cannot be inserted already published');
select is((select count(*)::int from public.events where host_id = tests.get_supabase_uid('maya')), 1, 'none of the refused events was written');

-- Publishing
select tests.raises_hint($$select public.publish_event((select id from ev))$$, 'no_ticket_types', 'an event without ticket types cannot be published');
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'Runner', 1500, 'GBP', 50 from ev;
select tests.raises_hint($$select public.publish_event((select id from ev))$$, 'payouts_not_enabled',
          'a paid event cannot be published before the host''s payouts are enabled');
select tests.as_superuser();
update public.profiles set payouts_enabled = true where id = tests.get_supabase_uid('maya');
select tests.authenticate_as('gus');
select throws_ok($$select public.publish_event((select id from ev))$$, '22023', 'No such event.', 'a guest cannot even see someone else''s draft to publish it');
select tests.authenticate_as('maya');
select results_eq($$select status from public.publish_event((select id from ev))$$, $$values ('published'::text)$$, 'the host publishes the event');
select results_eq($$select status from public.publish_event((select id from ev))$$, $$values ('published'::text)$$, 'publishing again changes nothing');
select isnt((select published_at from public.events where id = (select id from ev)), null, 'published_at is set');

-- Editing
select throws_ok($$update public.events set status = 'completed' where id = (select id from ev)$$, '22023', null,
                 'status cannot be edited directly');
select tests.raises_hint($$update public.events set refund_policy = 'strict' where id = (select id from ev)$$, 'refund_policy_less_generous',
          'once published, the refund policy cannot become less generous');
select lives_ok($$update public.events set refund_policy = 'flexible' where id = (select id from ev)$$, 'but it can become more generous');
insert into public.event_cohosts (event_id, user_id, role) select id, tests.get_supabase_uid('cora'), 'manager' from ev;
insert into public.event_cohosts (event_id, user_id, role) select id, tests.get_supabase_uid('dino'), 'checkin' from ev;
select tests.authenticate_as('cora');
select lives_ok($$update public.events set description = 'Now with pastries.' where id = (select id from ev)$$, 'a managing co-host edits the event');
select tests.authenticate_as('dino');
select throws_ok($$update public.events set description = 'Door only' where id = (select id from ev)$$, '42501', null,
                 'a check-in co-host cannot edit the event');
select tests.authenticate_as('gus');
select throws_ok($$update public.events set title = 'Hijacked' where id = (select id from ev)$$, '42501',
                 'Only the host or a managing co-host can edit this event.', 'a guest editing a visible event is refused');
select tests.as_superuser();
select is((select title from private.events where id = (select id from ev)), 'Sunrise 10K', 'and the title is unchanged');

-- Covers go to the public event-covers bucket under <event id>/: the host and managing co-hosts
-- upload them; check-in co-hosts, guests and other folders are refused.
select tests.authenticate_as('cora');
select lives_ok(format($$insert into storage.objects (bucket_id, name, owner_id, metadata)
                         values ('event-covers', '%s/cover.jpg', '%s', '{"mimetype":"image/jpeg","size":1000}')$$,
                       (select id from ev), tests.get_supabase_uid('cora')),
                'a managing co-host uploads the event''s cover under its folder');
select tests.authenticate_as('dino');
select throws_ok(format($$insert into storage.objects (bucket_id, name, owner_id) values ('event-covers', '%s/mine.jpg', '%s')$$,
                        (select id from ev), tests.get_supabase_uid('dino')),
                 '42501', null, 'a check-in co-host cannot');
select tests.authenticate_as('gus');
select throws_ok(format($$insert into storage.objects (bucket_id, name, owner_id) values ('event-covers', '%s/spam.jpg', '%s')$$,
                        (select id from ev), tests.get_supabase_uid('gus')),
                 '42501', null, 'nor a guest');
select throws_ok(format($$insert into storage.objects (bucket_id, name, owner_id) values ('event-covers', 'not-an-event/x.jpg', '%s')$$,
                        tests.get_supabase_uid('gus')),
                 '42501', null, 'nor anyone outside an event''s folder');

-- What each viewer sees
select tests.clear_authentication();
select results_eq($$select title, address, online_url, venue_name, city from public.events where id = (select id from ev)$$,
                  $$values ('Sunrise 10K'::text, null::text, null::text, 'Tower Bridge'::text, 'London'::text)$$,
                  'anonymous visitors see the venue name and city but not the address or link');
select ok((select extensions.st_distance(location, 'POINT(-0.0754 51.5055)'::extensions.geography) > 100 from public.events where id = (select id from ev)),
          'and only an approximate location');
select tests.authenticate_as('cora');
select is((select online_url from public.events where id = (select id from ev)), 'https://meet.example/run', 'co-hosts see the online link');
select tests.authenticate_as('gus');
select is((select address from public.events where id = (select id from ev)), null, 'a guest without a confirmed booking does not see the address');
select tests.as_superuser();
insert into public.bookings (event_id, ticket_type_id, guest_id, quantity, status, amount_cents, currency, confirmed_at)
select e.id, t.id, tests.get_supabase_uid('gus'), 1, 'confirmed', 1500, 'GBP', now() from ev e join public.ticket_types t on t.event_id = e.id;
select tests.authenticate_as('gus');
select is((select address from public.events where id = (select id from ev)), '1 Tower Bridge Rd, London SE1 2UP', 'a confirmed guest sees the exact address');

-- Visibility modes
select tests.authenticate_as('maya');
create temp table ev2 as
  with ins as (insert into public.events (title, starts_at, ends_at, timezone, visibility)
               values ('Members brunch', now() + interval '5 days', now() + interval '5 days 2 hours', 'Europe/London', 'followers') returning id)
  select id from ins;
grant select on ev2 to public;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'Seat', 0, 'GBP', 10 from ev2;
select public.publish_event((select id from ev2));
select tests.as_superuser();
insert into public.follows (follower_id, followee_id) values (tests.get_supabase_uid('fay'), tests.get_supabase_uid('maya'));
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('maya'), tests.get_supabase_uid('bo'));
select tests.authenticate_as('fay');
select is((select count(*)::int from public.events where id = (select id from ev2)), 1, 'a follower sees a followers-only event');
select tests.authenticate_as('gus');
select is((select count(*)::int from public.events where id = (select id from ev2)), 0, 'a non-follower does not');
select tests.authenticate_as('bo');
select is((select count(*)::int from public.events where id = (select id from ev)), 0, 'a user the host blocked cannot see the host''s public events');

-- Drafts and deletion
select tests.authenticate_as('maya');
create temp table ev3 as
  with ins as (insert into public.events (title, starts_at, ends_at, timezone) values ('Secret plan', now() + interval '20 days', now() + interval '20 days 1 hour', 'UTC') returning id)
  select id from ins;
grant select on ev3 to public;
select tests.authenticate_as('fay');
select is((select count(*)::int from public.events where id = (select id from ev3)), 0, 'drafts are invisible to everyone but the event''s staff');
select tests.authenticate_as('maya');
select tests.raises_hint($$delete from public.events where id = (select id from ev)$$, 'only_drafts_can_be_deleted', 'a published event cannot be deleted');
delete from public.events where id = (select id from ev3);
select is((select count(*)::int from private.events where id = (select id from ev3)), 0, 'a draft can be deleted by its host');

-- Cancellation
select tests.authenticate_as('gus');
select throws_ok($$select public.cancel_event((select id from ev), 'nope')$$, '42501', null, 'a guest cannot cancel the event');
select tests.authenticate_as('maya');
select results_eq($$select status, cancel_reason from public.cancel_event((select id from ev), 'Flooded path')$$,
                  $$values ('cancelled'::text, 'Flooded path'::text)$$, 'the host cancels the event with a reason');
select tests.as_superuser();
select is((select status from public.bookings where guest_id = tests.get_supabase_uid('gus')), 'cancelled', 'its bookings are cancelled');
select results_eq($$select r.amount_cents, r.reason from private.refund_requests r join public.bookings b on b.id = r.booking_id where b.guest_id = tests.get_supabase_uid('gus')$$,
                  $$values (1500::bigint, 'event_cancelled'::text)$$, 'a paid, confirmed guest gets a full refund request');
select ok(exists (select 1 from public.notifications where user_id = tests.get_supabase_uid('gus') and type = 'event_cancelled'),
          'the guest is notified');
select tests.authenticate_as('maya');
select tests.raises_hint($$update public.events set title = 'Back on' where id = (select id from ev)$$, 'event_closed', 'a cancelled event can no longer be edited');

-- Completion job
select tests.as_superuser();
update private.events set starts_at = now() - interval '3 hours', ends_at = now() - interval '1 hour' where id = (select id from ev2);
select ok(private.complete_ended_events() >= 1, 'the completion job completes ended events');
select is((select status from private.events where id = (select id from ev2)), 'completed', 'an ended event becomes completed');

select * from finish();
rollback;
