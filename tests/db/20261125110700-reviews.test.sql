-- Reviews: a guest who checked in reviews the event once, after it ends and within 30 days; the
-- host hears about it, replies once, and their rating summary stays exact.
begin;
select plan(29);

-- Events are named by their title in this story.
create function pg_temp.booking_id(p_guest text, p_title text) returns uuid language sql security definer as $$
  select b.id from public.bookings b
   where b.guest_id = tests.get_supabase_uid(p_guest) and b.event_id = tests.event_id(p_title)
$$;
create function pg_temp.review_id(p_guest text, p_title text) returns uuid language sql security definer as $$
  select r.id from public.reviews r where r.booking_id = pg_temp.booking_id(p_guest, p_title)
$$;

-- The host publishes a free event tomorrow.
create function pg_temp.publish_free_event(p_host text, p_title text) returns uuid language plpgsql as $$
declare v_id uuid;
begin
  perform tests.authenticate_as(p_host);
  insert into public.events (title, description, category, starts_at, ends_at, timezone, venue_name, city)
  values (p_title, 'An evening together', 'music', now() + interval '1 day', now() + interval '1 day 3 hours',
          'Europe/Lisbon', 'Rally Hall', 'Lisbon')
  returning id into v_id;
  insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (v_id, 'Free', 0, 'EUR', 50);
  perform public.publish_event(v_id);
  perform tests.as_superuser();
  return v_id;
end $$;

create function pg_temp.book(p_guest text, p_title text) returns void language plpgsql as $$
begin
  perform tests.authenticate_as(p_guest);
  perform public.book_event(tests.event_id(p_title), (select t.id from public.ticket_types t where t.event_id = tests.event_id(p_title)));
  perform tests.as_superuser();
end $$;

-- Moves the event to start within the hour (check-in is open) and has the host scan the guest in.
create function pg_temp.check_in(p_host text, p_guest text, p_title text) returns void language plpgsql as $$
begin
  perform tests.as_superuser();
  update private.events set starts_at = now() + interval '1 hour', ends_at = now() + interval '3 hours'
   where id = tests.event_id(p_title);
  perform tests.authenticate_as(p_host);
  perform public.check_in((select b.check_in_code from public.bookings b where b.id = pg_temp.booking_id(p_guest, p_title)));
  perform tests.as_superuser();
end $$;

create function pg_temp.move_event(p_title text, p_starts_at timestamptz, p_ends_at timestamptz) returns void
language plpgsql as $$
begin
  perform tests.as_superuser();
  update private.events set starts_at = p_starts_at, ends_at = p_ends_at where id = tests.event_id(p_title);
end $$;

-- Rhea hosts; Gwen, Gus and Gia come to her jazz night and check in; Nora books but never shows.
select tests.create_supabase_user('rhea', 'rhea@example.test', '{"username":"rhea_hosts","display_name":"Rhea"}');
select tests.create_supabase_user('gwen', 'gwen@example.test', '{"username":"gwen"}');
select tests.create_supabase_user('gus', 'gus@example.test', '{"username":"gus_g"}');
select tests.create_supabase_user('gia', 'gia@example.test', '{"username":"gia"}');
select tests.create_supabase_user('nora', 'nora@example.test', '{"username":"nora"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('rhea');

select pg_temp.publish_free_event('rhea', 'Jazz night');
select pg_temp.book('gwen', 'Jazz night');
select pg_temp.book('gus', 'Jazz night');
select pg_temp.book('gia', 'Jazz night');
select pg_temp.book('nora', 'Jazz night');
select pg_temp.check_in('rhea', 'gwen', 'Jazz night');
select pg_temp.check_in('rhea', 'gus', 'Jazz night');
select pg_temp.check_in('rhea', 'gia', 'Jazz night');

-- Before the end, even a checked-in guest cannot review yet.
select tests.authenticate_as('gwen');
select throws_ok($$insert into public.reviews (booking_id, rating, body) values (pg_temp.booking_id('gwen', 'Jazz night'), 5, 'Too early')$$,
                 'P0001', 'Reviews open when the event ends.', 'a checked-in guest cannot review an event that has not ended');
select tests.raises_hint($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gwen', 'Jazz night'), 5)$$,
          'event_not_ended', 'with hint event_not_ended');

-- The night is over.
select pg_temp.move_event('Jazz night', now() - interval '3 hours', now() - interval '1 hour');

select tests.authenticate_as('gwen');
select lives_ok($$insert into public.reviews (booking_id, rating, body) values (pg_temp.booking_id('gwen', 'Jazz night'), 5, 'Wonderful trio')$$,
                'a checked-in guest reviews the event after it ends');
select results_eq($$select rating, body, author_id, host_id, event_id from public.reviews where id = pg_temp.review_id('gwen', 'Jazz night')$$,
                  $$select 5::smallint, 'Wonderful trio'::text, tests.get_supabase_uid('gwen'), tests.get_supabase_uid('rhea'), tests.event_id('Jazz night')$$,
                  'the review is stored with its rating and text, written by Gwen about Rhea''s event');

select tests.authenticate_as('rhea');
select results_eq($$select type, title, body, data ->> 'review_id' from public.notifications where user_id = tests.get_supabase_uid('rhea') and type = 'review_received'$$,
                  $$select 'review_received'::text, 'New 5-star review'::text, 'Wonderful trio'::text, pg_temp.review_id('gwen', 'Jazz night')::text$$,
                  'the host is notified of the new review (review_received)');

-- What a guest may not review
select tests.authenticate_as('gwen');
select throws_ok($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gwen', 'Jazz night'), 4)$$,
                 'P0001', null, 'a guest cannot review the same booking twice');
select tests.raises_hint($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gwen', 'Jazz night'), 4)$$,
          'already_reviewed', 'with hint already_reviewed');
select throws_ok($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gus', 'Jazz night'), 1)$$,
                 '22023', 'You can only review your own bookings.', 'a guest cannot review with someone else''s booking');
select tests.raises_hint($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gus', 'Jazz night'), 1)$$,
          'booking_not_found', 'with hint booking_not_found');

select tests.authenticate_as('nora');
select throws_ok($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('nora', 'Jazz night'), 1)$$,
                 'P0001', 'Only guests who checked in can review the event.', 'a guest who never checked in cannot review');
select tests.raises_hint($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('nora', 'Jazz night'), 1)$$,
          'not_attended', 'with hint not_attended');

select tests.authenticate_as('gus');
select throws_ok($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gus', 'Jazz night'), 0)$$,
                 '22023', 'A rating is a whole number from 1 to 5.', 'a rating of 0 is refused');
select throws_ok($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gus', 'Jazz night'), 6)$$,
                 '22023', null, 'a rating of 6 is refused');
select tests.raises_hint($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gus', 'Jazz night'), 6)$$,
          'invalid_rating', 'with hint invalid_rating');
select throws_ok($$insert into public.reviews (booking_id, rating, body) values (pg_temp.booking_id('gus', 'Jazz night'), 4, repeat('x', 2001))$$,
                 '22023', 'A review has at most 2,000 characters.', 'a review longer than 2,000 characters is refused');

-- More than 30 days after an event, reviews are closed.
select pg_temp.publish_free_event('rhea', 'Spring picnic');
select pg_temp.book('gwen', 'Spring picnic');
select pg_temp.check_in('rhea', 'gwen', 'Spring picnic');
select pg_temp.move_event('Spring picnic', now() - interval '31 days 3 hours', now() - interval '31 days');
select tests.authenticate_as('gwen');
select throws_ok($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gwen', 'Spring picnic'), 3)$$,
                 'P0001', 'Reviews close 30 days after the event.', 'a guest cannot review more than 30 days after the event');
select tests.raises_hint($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gwen', 'Spring picnic'), 3)$$,
          'review_window_closed', 'with hint review_window_closed');

-- Gus and Gia review too.
select tests.authenticate_as('gus');
select lives_ok($$insert into public.reviews (booking_id, rating, body) values (pg_temp.booking_id('gus', 'Jazz night'), 4, 'Great sound')$$,
                'a second guest reviews');
select tests.authenticate_as('gia');
select lives_ok($$insert into public.reviews (booking_id, rating) values (pg_temp.booking_id('gia', 'Jazz night'), 4)$$,
                'a third guest reviews with a rating only');

select results_eq($$select rating_count, rating_sum, rating_average from public.profiles where id = tests.get_supabase_uid('rhea')$$,
                  $$values (3, 13, 4.33::numeric(3, 2))$$,
                  'after ratings of 5, 4 and 4 the host has 3 reviews averaging 4.33');
select tests.authenticate_as('rhea');
select is((select count(*)::int from public.notifications where type = 'review_received'), 3, 'the host got one notification per review');

-- The host replies once.
select lives_ok($$update public.reviews set host_reply = 'Thank you, Gwen!' where id = pg_temp.review_id('gwen', 'Jazz night')$$,
                'the host replies to a review');
select results_eq($$select host_reply, host_replied_at is not null from public.reviews where id = pg_temp.review_id('gwen', 'Jazz night')$$,
                  $$values ('Thank you, Gwen!'::text, true)$$, 'the reply is stored with the time it was written');
select throws_ok($$update public.reviews set host_reply = '   ' where id = pg_temp.review_id('gus', 'Jazz night')$$,
                 '22023', 'A reply has 1 to 2,000 characters.', 'a blank reply is refused');
select throws_ok($$update public.reviews set host_reply = 'Edited reply' where id = pg_temp.review_id('gwen', 'Jazz night')$$,
                 'P0001', 'The host has already replied to this review.', 'the host cannot reply a second time');
select tests.raises_hint($$update public.reviews set host_reply = 'Edited reply' where id = pg_temp.review_id('gwen', 'Jazz night')$$,
          'already_replied', 'with hint already_replied');

select is(tests.rls_outcome('gwen', $$update public.reviews set host_reply = 'I reply to myself' where id = pg_temp.review_id('gus', 'Jazz night')$$),
          'rows:0', 'someone who is not the host cannot reply to a review');

-- Reviews cannot be edited afterwards.
select tests.authenticate_as('gwen');
select throws_ok($$update public.reviews set rating = 1 where id = pg_temp.review_id('gwen', 'Jazz night')$$,
                 '42501', null, 'the author cannot change their rating afterwards');

-- Everyone may read the reviews of a public event.
select tests.clear_authentication();
select results_eq($$select rating from public.reviews where event_id = tests.event_id('Jazz night') order by rating desc$$,
                  $$values (5::smallint), (4::smallint), (4::smallint)$$,
                  'anonymous visitors can read the reviews of a public event');

select * from finish();
rollback;
