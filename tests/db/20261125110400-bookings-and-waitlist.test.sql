-- Bookings: free, approval and paid flows; every refusal with its hint and nothing written;
-- cancellations under the refund policy; check-in; the expiry job.
begin;
select plan(46);

select tests.create_supabase_user('hal', 'hal@example.test', '{"username":"hal_host"}');
select tests.create_supabase_user('mia', 'mia@example.test', '{"username":"mia_manager"}');
select tests.create_supabase_user('ana', 'ana@example.test', '{"username":"ana_guest"}');
select tests.create_supabase_user('ben', 'ben@example.test', '{"username":"ben_guest"}');
select tests.create_supabase_user('cal', 'cal@example.test', '{"username":"cal_guest"}');
select tests.create_supabase_user('zed', 'zed@example.test', '{"username":"zed_blocked"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('hal');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('hal'), tests.get_supabase_uid('zed'));

select tests.authenticate_as('hal');
select tests.create_fixtures();
with e as (insert into public.events (title, starts_at, ends_at, timezone, address)
           values ('Free picnic', now() + interval '10 days', now() + interval '10 days 3 hours', 'Europe/Paris', 'Parc Monceau') returning id)
insert into fx select 'free', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone, requires_approval)
           values ('Supper club', now() + interval '10 days', now() + interval '10 days 3 hours', 'Europe/Paris', true) returning id)
insert into fx select 'approval', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone, refund_policy)
           values ('Gala', now() + interval '3 days', now() + interval '3 days 4 hours', 'Europe/Paris', 'moderate') returning id)
insert into fx select 'paid', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
           select id, 'Spot', 0, 'EUR', 3, 2 from fx where name = 'free' returning id)
insert into fx select 'free_t', id from t;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity)
           select id, 'Seat', 0, 'EUR', 10 from fx where name = 'approval' returning id)
insert into fx select 'approval_t', id from t;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity, sales_start)
           select id, 'Early', 0, 'EUR', 10, now() + interval '1 day' from fx where name = 'approval' returning id)
insert into fx select 'later_t', id from t;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity)
           select id, 'Table', 4999, 'EUR', 10 from fx where name = 'paid' returning id)
insert into fx select 'paid_t', id from t;
select public.publish_event(id) from fx where name in ('free', 'approval', 'paid');
insert into public.event_cohosts (event_id, user_id, role) select id, tests.get_supabase_uid('mia'), 'manager' from fx where name = 'approval';

-- Free event
select tests.authenticate_as('ana');
select results_eq($$select status, quantity, amount_cents from public.book_event(tests.fx('free'), tests.fx('free_t'), 2, 'ana-1')$$,
                  $$values ('confirmed'::text, 2, 0::bigint)$$, 'a free booking is confirmed at once');
select ok(exists (select 1 from public.notifications where type = 'booking_confirmed'), 'and the guest is told they are going');
select matches((select check_in_code from public.bookings where guest_id = tests.get_supabase_uid('ana')), '^[0-9a-f]{32}$',
               'the guest gets a 128-bit check-in code');
select tests.raises_hint($$select public.book_event(tests.fx('free'), tests.fx('free_t'), 1, 'ana-2')$$, 'already_booked',
          'a second booking for the same event is refused');
select tests.authenticate_as('ben');
select tests.raises_hint($$select public.book_event(tests.fx('free'), tests.fx('free_t'), 2, 'ben-1')$$, 'sold_out',
          'asking for more seats than are left is refused as sold out');
select is((select count(*)::int from public.bookings where guest_id = tests.get_supabase_uid('ben')), 0, 'and nothing is written');
select tests.raises_hint($$select public.book_event(tests.fx('free'), tests.fx('free_t'), 0, 'ben-2')$$, 'invalid_quantity', 'zero tickets is bad input');
select tests.raises_hint($$select public.book_event(tests.fx('free'), tests.fx('paid_t'), 1, 'ben-3')$$, 'ticket_type_not_found',
          'a ticket type from another event is refused');
select tests.raises_hint($$select public.book_event(gen_random_uuid(), tests.fx('free_t'), 1, 'ben-4')$$, 'event_not_found', 'an unknown event is refused');
select tests.raises_hint($$select public.book_event(tests.fx('approval'), tests.fx('later_t'), 1, 'ben-5')$$, 'sales_not_started',
          'booking before the sales window opens is refused');
select tests.raises_hint($$select public.book_event(tests.fx('paid'), tests.fx('paid_t'), 11, 'ben-6')$$, 'over_max_per_booking', 'more tickets than the per-booking limit is refused');
select tests.authenticate_as('zed');
select tests.raises_hint($$select public.book_event(tests.fx('free'), tests.fx('free_t'), 1, 'zed-1')$$, 'event_not_found',
          'a guest the host blocked cannot book (the event is hidden from them)');
select tests.authenticate_as('hal');
select tests.raises_hint($$select public.book_event(tests.fx('free'), tests.fx('free_t'), 1, 'hal-1')$$, 'host_cannot_book', 'hosts do not book their own events');
select tests.clear_authentication();
select throws_ok($$select public.book_event(tests.fx('free'), tests.fx('free_t'), 1, 'anon-1')$$, '42501', 'You need to sign in to do this.',
                 'anonymous visitors cannot book');

-- Approval-required event
select tests.authenticate_as('ben');
select results_eq($$select status from public.book_event(tests.fx('approval'), tests.fx('approval_t'), 1, 'ben-a')$$,
                  $$values ('pending_approval'::text)$$, 'an approval event books as pending approval');
select tests.as_superuser();
select ok(exists (select 1 from public.notifications where user_id = tests.get_supabase_uid('hal') and type = 'booking_request'), 'the host is told about the request');
select is(private.seats_left(tests.fx('approval_t')), 10, 'a pending request holds no seat: nobody can take an approval event''s seats by asking');
select tests.authenticate_as('ana');
select throws_ok($$select public.approve_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('ben') and status = 'pending_approval'))$$,
                 '22023', null, 'another guest cannot approve (they cannot even see the booking)');
select tests.authenticate_as('mia');
select results_eq($$select status from public.approve_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('ben') and status = 'pending_approval'))$$,
                  $$values ('confirmed'::text)$$, 'a managing co-host approves it');
select is(private.seats_left(tests.fx('approval_t')), 9, 'approving takes the seat');
select tests.raises_hint($$select public.approve_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('ben') and event_id = tests.fx('approval')))$$,
          'not_pending', 'approving twice is refused');
select tests.authenticate_as('cal');
select public.book_event(tests.fx('approval'), tests.fx('approval_t'), 1, 'cal-a');
select tests.authenticate_as('hal');
select results_eq($$select status from public.decline_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('cal') and event_id = tests.fx('approval')))$$,
                  $$values ('declined'::text)$$, 'the host declines a request');
select is(private.seats_left(tests.fx('approval_t')), 9, 'a declined request never held a seat');

-- Paid event
select tests.authenticate_as('cal');
select results_eq($$select status, amount_cents, currency, hold_expires_at between now() + interval '14 minutes' and now() + interval '16 minutes'
                    from public.book_event(tests.fx('paid'), tests.fx('paid_t'), 2, 'cal-p')$$,
                  $$values ('held'::text, 9998::bigint, 'EUR'::text, true)$$, 'a paid booking holds the seats for 15 minutes at price × quantity');
select is((select address from public.events where id = tests.fx('paid')), null, 'a held (unpaid) guest does not see the address yet');
select tests.as_superuser();
select ok(private.confirm_booking_payment((select id from public.bookings where guest_id = tests.get_supabase_uid('cal') and event_id = tests.fx('paid'))),
          'the payments hook confirms a paid hold');
select tests.authenticate_as('cal');
select results_eq($$select refundable_cents, refund_percent from public.refund_quote((select id from public.bookings where guest_id = tests.get_supabase_uid('cal') and event_id = tests.fx('paid')))$$,
                  $$values (4999::bigint, 50)$$, 'three days out, a moderate policy refunds 50% (floored to the cent)');
select results_eq($$select status from public.cancel_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('cal') and event_id = tests.fx('paid')))$$,
                  $$values ('cancelled'::text)$$, 'the guest cancels');
select tests.as_superuser();
select results_eq($$select r.amount_cents, r.reason, r.status from private.refund_requests r join public.bookings b on b.id = r.booking_id
                     where b.guest_id = tests.get_supabase_uid('cal') and b.event_id = tests.fx('paid')$$,
                  $$values (4999::bigint, 'guest_cancelled'::text, 'pending'::text)$$, 'a refund request for exactly the quoted amount is queued');
select is(private.seats_left(tests.fx('paid_t')), 10, 'the cancelled seats are free again');
select ok(exists (select 1 from public.notifications where user_id = tests.get_supabase_uid('hal') and type = 'guest_cancelled'), 'the host is told (guest_cancelled, which hosts may mute)');
select tests.authenticate_as('cal');
select tests.raises_hint($$select public.cancel_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('cal') and event_id = tests.fx('paid')))$$,
          'not_cancellable', 'a cancelled booking cannot be cancelled again');

-- A host cancelling a guest refunds in full
select tests.authenticate_as('ana');
select public.book_event(tests.fx('paid'), tests.fx('paid_t'), 1, 'ana-p');
select tests.as_superuser();
select private.confirm_booking_payment((select id from public.bookings where guest_id = tests.get_supabase_uid('ana') and event_id = tests.fx('paid')));
select tests.authenticate_as('hal');
select results_eq($$select refundable_cents, cancelled_by_host from public.refund_quote((select id from public.bookings where guest_id = tests.get_supabase_uid('ana') and event_id = tests.fx('paid')))$$,
                  $$values (4999::bigint, true)$$, 'the host''s quote for cancelling a guest is a full refund');
select public.cancel_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('ana') and event_id = tests.fx('paid')));
select tests.as_superuser();
select is((select r.amount_cents from private.refund_requests r join public.bookings b on b.id = r.booking_id where b.guest_id = tests.get_supabase_uid('ana') and b.event_id = tests.fx('paid')),
          4999::bigint, 'and queues the full amount');

-- Idempotency
select tests.authenticate_as('ben');
select is((select id from public.book_event(tests.fx('paid'), tests.fx('paid_t'), 1, 'ben-retry')),
          (select id from public.book_event(tests.fx('paid'), tests.fx('paid_t'), 1, 'ben-retry')), 'a retry with the same key returns the same booking');
select tests.raises_hint($$select public.book_event(tests.fx('paid'), tests.fx('paid_t'), 2, 'ben-retry')$$, 'idempotency_key_reused',
          'reusing a key for a different booking is refused');

-- Expiry job
select tests.as_superuser();
update public.bookings set hold_expires_at = now() - interval '1 minute' where guest_id = tests.get_supabase_uid('ben') and event_id = tests.fx('paid');
select ok(private.expire_stale_bookings() >= 1, 'the expiry job expires stale holds');
select is((select status from public.bookings where guest_id = tests.get_supabase_uid('ben') and event_id = tests.fx('paid')), 'expired', 'the hold is expired');
select is(private.seats_left(tests.fx('paid_t')), 10, 'and its seat is back');
select ok(exists (select 1 from public.notifications where user_id = tests.get_supabase_uid('ben') and type = 'booking_expired'), 'the guest is told');

-- Check-in
select tests.as_superuser();
update private.events set starts_at = now() - interval '1 hour', ends_at = now() + interval '2 hours' where id = tests.fx('free');
create temp table codes as select check_in_code from public.bookings where guest_id = tests.get_supabase_uid('ana') and event_id = tests.fx('free');
grant select on codes to public;
select tests.authenticate_as('ben');
select throws_ok($$select public.check_in((select check_in_code from codes))$$, '42501', null, 'a guest cannot check people in');
select tests.authenticate_as('hal');
select results_eq($$select username, quantity from public.check_in((select check_in_code from codes))$$,
                  $$values ('ana_guest'::text, 2)$$, 'the host checks a guest in and sees who it is');
select tests.raises_hint($$select public.check_in((select check_in_code from codes))$$, 'already_checked_in', 'a code works once');
select tests.raises_hint($$select public.check_in('0123456789abcdef0123456789abcdef')$$, 'invalid_code', 'an unknown code is refused');
select tests.raises_hint($$select public.check_in('not a code')$$, 'invalid_code', 'a malformed code is refused');
select tests.authenticate_as('ana');
select tests.raises_hint($$select public.cancel_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('ana') and event_id = tests.fx('free')))$$,
          'already_checked_in', 'a checked-in booking cannot be cancelled');

select * from finish();
rollback;
