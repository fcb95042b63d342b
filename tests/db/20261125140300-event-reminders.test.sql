-- Reminders: confirmed guests hear about an event the day before at the same local time and one
-- hour before it starts, exactly once each, also when daylight saving time changes in between;
-- a cancelled booking or event gets no reminder.
begin;
select plan(19);

-- Reminders a guest has received (kind list), read past RLS.
create function pg_temp.reminders(p_name text) returns text language sql security definer as $$
  select coalesce(string_agg(n.data ->> 'kind', ',' order by n.data ->> 'kind' desc), '')
    from public.notifications n where n.user_id = tests.get_supabase_uid(p_name) and n.type = 'event_reminder'
$$;

select tests.create_supabase_user('hana', 'hana@example.test', '{"username":"hana_h"}');
select tests.create_supabase_user('gus', 'gus@example.test', '{"username":"gus_g"}');
select tests.create_supabase_user('liv', 'liv@example.test', '{"username":"liv_l"}');
select tests.create_supabase_user('max', 'max@example.test', '{"username":"max_m"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('hana');

-- Brunch in New York on Sunday 14 March 2027 at 10:00, the morning clocks spring forward
-- (2:00 EST → 3:00 EDT): it starts at 14:00 UTC. The day before at 10:00 EST is 15:00 UTC, only
-- 23 hours earlier. A second brunch on 7 November 2027 at 10:00 EST (15:00 UTC), the morning
-- clocks fall back: the day before at 10:00 EDT is 14:00 UTC, 25 hours earlier.
select tests.authenticate_as('hana');
select tests.create_fixtures();
with e as (insert into public.events (title, starts_at, ends_at, timezone) values
  ('Spring brunch', '2027-03-14 14:00+00', '2027-03-14 16:00+00', 'America/New_York') returning id)
insert into fx select 'spring', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone) values
  ('Autumn brunch', '2027-11-07 15:00+00', '2027-11-07 17:00+00', 'America/New_York') returning id)
insert into fx select 'autumn', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'Seat', 0, 'USD', 10 from fx;
select public.publish_event(id) from fx;

select tests.authenticate_as('gus');
select public.book_event(tests.fx('spring'), (select id from public.ticket_types where event_id = tests.fx('spring')));
select public.book_event(tests.fx('autumn'), (select id from public.ticket_types where event_id = tests.fx('autumn')));
select tests.authenticate_as('max');
select public.book_event(tests.fx('spring'), (select id from public.ticket_types where event_id = tests.fx('spring')));
select tests.authenticate_as('liv');
select public.book_event(tests.fx('spring'), (select id from public.ticket_types where event_id = tests.fx('spring')));
-- Liv's booking was confirmed only on Saturday afternoon, after the day-before reminder was due.
select tests.as_superuser();
update public.bookings set confirmed_at = '2027-03-13 20:00+00' where guest_id = tests.get_supabase_uid('liv');

select is(private.reminder_due_at('24h', '2027-03-14 14:00+00', 'America/New_York'), '2027-03-13 15:00+00'::timestamptz,
          'across spring-forward the day-before reminder is due at 10:00 EST on Saturday, 23 hours ahead');
select is(private.reminder_due_at('24h', '2027-11-07 15:00+00', 'America/New_York'), '2027-11-06 14:00+00'::timestamptz,
          'across fall-back it is due at 10:00 EDT on Saturday, 25 hours ahead');
select is(private.reminder_due_at('1h', '2027-03-14 14:00+00', 'America/New_York'), '2027-03-14 13:00+00'::timestamptz,
          'the one-hour reminder is 60 minutes before the start');

select is(private.send_event_reminders('2027-03-13 14:30+00'), 0,
          'exactly 24 elapsed hours before the spring brunch nobody is reminded yet (it is 09:30 in New York)');
select is(private.send_event_reminders('2027-03-13 15:00+00'), 2, 'at 10:00 New York time Gus and Max are reminded');
select is(pg_temp.reminders('gus'), '24h', 'Gus got the day-before reminder');
select is((select title from public.notifications where user_id = tests.get_supabase_uid('gus') and type = 'event_reminder'),
          'Tomorrow at 10:00: Spring brunch', 'which names the local start time');
select is(pg_temp.reminders('liv'), '', 'Liv, who booked later, gets no day-before reminder');
select is(private.send_event_reminders('2027-03-13 15:01+00'), 0, 'running the job again sends nothing twice');
select is(private.send_event_reminders('2027-03-13 15:00+00'), 0, 'not even for the same instant');

select tests.authenticate_as('max');
select public.cancel_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('max')));
select tests.as_superuser();
select is(private.send_event_reminders('2027-03-14 12:59+00'), 0, 'an hour and a minute before the start nothing is due');
select is(private.send_event_reminders('2027-03-14 13:00+00'), 2, 'an hour before, Gus and Liv are reminded');
select is(pg_temp.reminders('gus') || '|' || pg_temp.reminders('liv') || '|' || pg_temp.reminders('max'), '24h,1h|1h|24h',
          'Max, who cancelled, gets no one-hour reminder');
select is(private.send_event_reminders('2027-03-14 13:30+00'), 0, 'and the job stays idempotent');
select is((select count(*)::int from private.alert_deliveries d join public.notifications n on n.id = d.notification_id
            where n.type = 'event_reminder' and n.user_id = tests.get_supabase_uid('gus') and d.channel = 'email'), 2,
          'each reminder is one email');

select is(private.send_event_reminders('2027-11-06 13:59+00'), 0, 'before 10:00 EDT on the Saturday before the autumn brunch, nothing');
select is(private.send_event_reminders('2027-11-06 14:00+00'), 1, 'at 10:00 EDT, 25 hours ahead, Gus is reminded');

select tests.authenticate_as('hana');
select public.cancel_event(tests.fx('autumn'), 'Rain');
select tests.as_superuser();
select is(private.send_event_reminders('2027-11-07 14:00+00'), 0, 'a cancelled event sends no one-hour reminder');
select is((select count(*)::int from private.event_reminders_sent), 5, 'five reminders were sent in all, each recorded once');

select * from finish();
rollback;
