-- Promotion: publishing tells the host's followers in batches from a queue (never inside the
-- publish itself), promote_event tells them again at most weekly, share links attribute views
-- and bookings, and only the host sees the event's numbers.
begin;
select plan(44);

create function pg_temp.announced(p_event uuid) returns integer language sql security definer as $$
  select count(*)::int from public.notifications where type = 'event_published' and data ->> 'event_id' = p_event::text
$$;
create function pg_temp.jobs(p_event uuid) returns text language sql security definer as $$
  select coalesce(string_agg(kind || ':' || status, ',' order by created_at), '') from private.promotion_jobs where event_id = p_event
$$;

select tests.create_supabase_user('pia', 'pia@example.test', '{"username":"pia_hosts","display_name":"Pia"}');
select tests.create_supabase_user('cohost', 'cohost@example.test', '{"username":"pia_cohost"}');
select tests.create_supabase_user('f1', 'f1@example.test', '{"username":"fan_one"}');
select tests.create_supabase_user('f2', 'f2@example.test', '{"username":"fan_two"}');
select tests.create_supabase_user('f3', 'f3@example.test', '{"username":"fan_three"}');
select tests.create_supabase_user('f4', 'f4@example.test', '{"username":"fan_four"}');
select tests.create_supabase_user('f5', 'f5@example.test', '{"username":"fan_five"}');
select tests.create_supabase_user('stranger', 'stranger@example.test', '{"username":"not_a_fan"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('pia');
insert into public.follows (follower_id, followee_id) select tests.get_supabase_uid(f), tests.get_supabase_uid('pia') from unnest(array['f1', 'f2', 'f3', 'f4', 'f5']) f;
-- Fan 3 wants no in-app announcements; fan 4 wants no announcement emails.
select tests.authenticate_as('f3');
select public.set_notification_preference('event_published', 'in_app', false);
select tests.authenticate_as('f4');
select public.set_notification_preference('event_published', 'email', false);

select tests.authenticate_as('pia');
select tests.create_fixtures();
with e as (insert into public.events (title, starts_at, ends_at, timezone, city) values
  ('Gallery night', now() + interval '20 days', now() + interval '20 days 3 hours', 'Europe/Lisbon', 'Lisbon') returning id)
insert into fx select 'gallery', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone, visibility) values
  ('Secret show', now() + interval '21 days', now() + interval '21 days 3 hours', 'Europe/Lisbon', 'unlisted') returning id)
insert into fx select 'secret', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone) values
  ('Draft idea', now() + interval '22 days', now() + interval '22 days 3 hours', 'Europe/Lisbon') returning id)
insert into fx select 'draft', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'Free', 0, 'EUR', 50 from fx;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'Patron', 1500, 'EUR', 10 from fx where name = 'gallery';
insert into public.event_cohosts (event_id, user_id, role) select id, tests.get_supabase_uid('cohost'), 'manager' from fx where name = 'gallery';
create function pg_temp.ticket(p_event text, p_name text) returns uuid language sql security definer as $$
  select t.id from public.ticket_types t where t.event_id = tests.fx(p_event) and t.name = p_name
$$;

-- Publishing only queues the announcement.
select public.publish_event(tests.fx('gallery'));
select public.publish_event(tests.fx('secret'));
select is(pg_temp.jobs(tests.fx('gallery')), 'published:queued', 'publishing the gallery night queues one announcement');
select is(pg_temp.announced(tests.fx('gallery')), 0, 'and tells nobody inside the publish itself');
select is(pg_temp.jobs(tests.fx('secret')), '', 'an unlisted event is not announced');

-- The job tells followers in batches.
select tests.as_superuser();
select is(private.process_promotion_queue(p_batch_size => 2), 5, 'the queue job tells all five followers');
select is((select batches || ':' || status || ':' || notified from private.promotion_jobs where event_id = tests.fx('gallery')), '3:done:5',
          'in three batches of at most two, then the job is done');
select is(private.process_promotion_queue(), 0, 'running the job again tells nobody twice');
select is((select count(*)::int from public.notifications where type = 'event_published' and user_id = tests.get_supabase_uid('f1')
             and title = 'Pia posted a new event: Gallery night'), 1, 'fan one hears that Pia posted the gallery night');
select is((select count(*)::int from realtime.messages m where m.event = 'notification_created' and m.payload ->> 'type' = 'event_published'), 4,
          'four fans get it live on their user topic');
select isnt((select read_at from public.notifications where type = 'event_published' and user_id = tests.get_supabase_uid('f3')), null,
            'fan three, who muted announcements in-app, has it already read and was not pinged');
select is((select count(*)::int from private.alert_deliveries where type = 'event_published' and channel = 'email'), 4,
          'four announcement emails are queued (fan four turned them off)');
select is((select count(distinct dedupe_key)::int from private.alert_deliveries where type = 'event_published'), 1,
          'all carry the job''s dedupe key');

-- promote_event
select tests.authenticate_as('f1');
select tests.raises_hint($$select public.promote_event(tests.fx('gallery'))$$, 'not_event_staff', 'a fan cannot promote the event');
select tests.authenticate_as('pia');
select tests.raises_hint($$select public.promote_event(tests.fx('gallery'))$$, 'promoted_recently',
          'Pia cannot re-announce within a week of the first announcement');
select is(pg_temp.jobs(tests.fx('gallery')), 'published:done', 'and nothing was queued');
select tests.raises_hint($$select public.promote_event(tests.fx('secret'))$$, 'event_unlisted', 'an unlisted event cannot be promoted');
select tests.raises_hint($$select public.promote_event(tests.fx('draft'))$$, 'event_not_open', 'nor a draft');
select tests.raises_hint($$select public.promote_event(gen_random_uuid())$$, 'event_not_found', 'nor an unknown event');
select tests.as_superuser();
update private.promotion_jobs set created_at = now() - interval '8 days' where event_id = tests.fx('gallery');
select tests.authenticate_as('f2');
select public.book_event(tests.fx('gallery'), pg_temp.ticket('gallery', 'Free'));
select tests.authenticate_as('cohost');
select is((select followers from public.promote_event(tests.fx('gallery'))), 5, 'eight days later the managing co-host promotes it to Pia''s five followers');
select tests.authenticate_as('pia');
select tests.raises_hint($$select public.promote_event(tests.fx('gallery'))$$, 'promoted_recently', 'and then not again that week');
select tests.as_superuser();
select is(private.process_promotion_queue(), 4, 'the re-announcement skips fan two, who already booked');
select is((select count(*)::int from public.notifications where user_id = tests.get_supabase_uid('f1') and type = 'event_published'
             and title = 'Don''t miss Gallery night by Pia'), 1, 'fan one is reminded not to miss it');

-- A cancelled event stops its queued announcement.
select tests.as_superuser();
update private.promotion_jobs set created_at = now() - interval '8 days' where event_id = tests.fx('gallery');
select tests.authenticate_as('pia');
select public.promote_event(tests.fx('gallery'));
select tests.as_superuser();
update private.events set status = 'cancelled', cancelled_at = now() where id = tests.fx('gallery');
select is(private.process_promotion_queue(), 0, 'an announcement queued for an event that was then cancelled tells nobody');
select is(pg_temp.jobs(tests.fx('gallery')), 'published:done,promoted:done,promoted:cancelled', 'its job is cancelled');
update private.events set status = 'published', cancelled_at = null where id = tests.fx('gallery');

-- Share links and views
select tests.authenticate_as('f1');
create temp table link as select * from public.create_share_link(tests.fx('gallery'));
grant all on link to public;
select matches((select code from link), '^[0-9a-hjkmnp-tv-z]{10}$', 'fan one gets a ten-character share code');
select is((select code from public.create_share_link(tests.fx('gallery'))), (select code from link), 'and the same code when asking again');
select tests.raises_hint($$select public.create_share_link(tests.fx('draft'))$$, 'event_not_found', 'a draft cannot be shared (or even seen)');
select tests.authenticate_as('pia');
select tests.raises_hint($$select public.create_share_link(tests.fx('draft'))$$, 'event_not_open', 'not even by its host');

select tests.clear_authentication();
select ok(public.record_event_view(tests.fx('gallery'), (select code from link)), 'an anonymous visitor''s view through the link is counted');
select ok(public.record_event_view(tests.fx('gallery'), 'zzzzzzzzzz'), 'a well-formed but unknown code still counts the view');
select tests.raises_hint($$select public.record_event_view(tests.fx('gallery'), 'BAD CODE!')$$, 'invalid_share_code', 'a malformed code is bad input');
select tests.authenticate_as('stranger');
select ok(public.record_event_view(tests.fx('gallery'), (select code from link)), 'a signed-in stranger''s view through the link is counted');
select tests.authenticate_as('pia');
select ok(not public.record_event_view(tests.fx('gallery')), 'the host''s own visits are not counted');

-- Bookings through the link
select tests.authenticate_as('stranger');
select tests.raises_hint($$select public.book_event(tests.fx('gallery'), pg_temp.ticket('gallery', 'Free'), 1, null, 'BAD CODE!')$$,
          'invalid_share_code', 'booking with a malformed share code is bad input');
select is((select count(*)::int from public.bookings where guest_id = tests.get_supabase_uid('stranger')), 0, 'and books nothing');
select is((select status from public.book_event(tests.fx('gallery'), pg_temp.ticket('gallery', 'Patron'), 1, 'stranger-1', (select code from link))),
          'held', 'the stranger books a patron ticket through fan one''s link');
select tests.as_superuser();
select ok(private.confirm_booking_payment((select id from public.bookings where guest_id = tests.get_supabase_uid('stranger'))), 'and pays for it');
select tests.authenticate_as('f1');
select public.book_event(tests.fx('gallery'), pg_temp.ticket('gallery', 'Free'), 1, 'f1-1', (select code from link));
select tests.as_superuser();
select is((select count(*)::int from private.booking_attributions), 1, 'only the stranger''s booking is attributed (fan one used her own link)');

-- Host stats
select tests.authenticate_as('pia');
select results_eq($$select views, signed_in_viewers, shares, share_views, bookings, share_bookings, tickets, revenue_cents, currency
                      from public.host_event_stats(tests.fx('gallery'))$$,
                  $$values (3::bigint, 1::bigint, 1::bigint, 2::bigint, 3::bigint, 1::bigint, 3::bigint, 1500::bigint, 'EUR'::text)$$,
                  'Pia sees 3 views (2 via the link), 1 share, 3 confirmed bookings (1 via the link) and 15.00 EUR of revenue');
select is((select conversion from public.host_event_stats(tests.fx('gallery'))), 1.0000::numeric, 'conversion is bookings per view');
select is((select followers_notified from public.host_event_stats(tests.fx('gallery'))), 9::bigint, 'and how many followers were told');
select is((select count(*)::int from public.host_event_stats()), 3, 'without an event, Pia gets every event she hosts');
select tests.authenticate_as('cohost');
select tests.raises_hint($$select public.host_event_stats(tests.fx('gallery'))$$, 'not_your_event', 'a co-host does not see the stats');
select is((select count(*)::int from public.host_event_stats()), 0, 'and has no events of their own');
select tests.clear_authentication();
select throws_ok($$select public.host_event_stats()$$, '42501', 'You need to sign in to do this.', 'anonymous visitors see no stats');

select * from finish();
rollback;
