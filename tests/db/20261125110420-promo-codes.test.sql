-- Promo codes and hidden tiers: the host manages codes; a guest previews and books with one; the
-- booking records the list price and the discount and charges the rest; limits, windows and
-- scopes are refused with their codes and nothing written; a hidden tier is seen and booked only
-- with its code.
begin;
select plan(55);

select tests.create_supabase_user('hal', 'hal@example.test', '{"username":"hal_host"}');
select tests.create_supabase_user('mia', 'mia@example.test', '{"username":"mia_manager"}');
select tests.create_supabase_user('kit', 'kit@example.test', '{"username":"kit_checkin"}');
select tests.create_supabase_user('ana', 'ana@example.test', '{"username":"ana_guest"}');
select tests.create_supabase_user('ben', 'ben@example.test', '{"username":"ben_guest"}');
select tests.create_supabase_user('cal', 'cal@example.test', '{"username":"cal_guest"}');
select tests.create_supabase_user('dee', 'dee@example.test', '{"username":"dee_guest"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('hal');

select tests.create_fixtures();

select tests.authenticate_as('hal');
with e as (insert into public.events (title, starts_at, ends_at, timezone, refund_policy)
           values ('Jazz at the Hot Clube', now() + interval '20 days', now() + interval '20 days 3 hours', 'Europe/Lisbon', 'flexible') returning id)
insert into fx select 'gig', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking, position)
           select id, 'General', 2500, 'EUR', 50, 4, 1 from fx where name = 'gig' returning id)
insert into fx select 'ga', id from t;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking, position)
           select id, 'Balcony', 3000, 'EUR', 20, 4, 2 from fx where name = 'gig' returning id)
insert into fx select 'balcony', id from t;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking, hidden, position)
           select id, 'Friends of the band', 1000, 'EUR', 10, 2, true, 3 from fx where name = 'gig' returning id)
insert into fx select 'friends', id from t;
with e as (insert into public.events (title, starts_at, ends_at, timezone)
           values ('Tokyo live', now() + interval '20 days', now() + interval '20 days 3 hours', 'Asia/Tokyo') returning id)
insert into fx select 'tokyo', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity)
           select id, 'Floor', 3000, 'JPY', 50 from fx where name = 'tokyo' returning id)
insert into fx select 'floor', id from t;
select public.publish_event(id) from fx where name in ('gig', 'tokyo');
insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('gig'), tests.get_supabase_uid('mia'), 'manager'),
                                                                  (tests.fx('gig'), tests.get_supabase_uid('kit'), 'checkin');

-- Managing codes
insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('gig'), 'save20', 20);
select is((select code from public.promo_codes where event_id = tests.fx('gig')), 'SAVE20', 'codes are stored upper-case');
select tests.raises_hint($$insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('gig'), 'Save20', 10)$$,
          'promo_code_exists', 'the same code twice (in any case) is refused');
select tests.raises_hint($$insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('gig'), 'no spaces!', 10)$$,
          'invalid_promo_code', 'a code is letters, digits, _ and -');
select tests.raises_hint($$insert into public.promo_codes (event_id, code, percent_off, amount_off_cents) values (tests.fx('gig'), 'BOTH', 10, 100)$$,
          'invalid_discount', 'a code takes a percentage or an amount off, not both');
select tests.raises_hint($$insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('gig'), 'TOOMUCH', 101)$$,
          'invalid_discount', 'more than 100 % off is refused');
select tests.raises_hint($$insert into public.promo_codes (event_id, code, amount_off_cents, currency) values (tests.fx('gig'), 'DOLLARS', 500, 'USD')$$,
          'currency_mismatch', 'an amount off must be in the event''s currency');
select tests.raises_hint($$insert into public.promo_codes (event_id, code, percent_off, ticket_type_id) values (tests.fx('gig'), 'ELSEWHERE', 10, tests.fx('floor'))$$,
          'ticket_type_not_found', 'a code cannot name another event''s ticket type');
select tests.raises_hint($$insert into public.promo_codes (event_id, code, percent_off, valid_from, valid_until) values (tests.fx('gig'), 'BACKWARDS', 10, now(), now() - interval '1 day')$$,
          'invalid_validity_window', 'a window must end after it starts');
insert into public.promo_codes (event_id, code, amount_off_cents) values (tests.fx('gig'), 'FIVEOFF', 500);
select is((select currency from public.promo_codes where code = 'FIVEOFF'), 'EUR', 'an amount off takes the event''s currency');
insert into public.promo_codes (event_id, code, amount_off_cents) values (tests.fx('gig'), 'COMPED', 100000);
insert into public.promo_codes (event_id, code, percent_off, ticket_type_id) values (tests.fx('gig'), 'BANDMATE', 0, tests.fx('friends'));
insert into public.promo_codes (event_id, code, percent_off, ticket_type_id) values (tests.fx('gig'), 'GAONLY', 10, tests.fx('ga'));
insert into public.promo_codes (event_id, code, percent_off, max_redemptions) values (tests.fx('gig'), 'FIRSTTWO', 50, 2);
insert into public.promo_codes (event_id, code, percent_off, per_guest_limit) values (tests.fx('gig'), 'ONEEACH', 50, 1);
insert into public.promo_codes (event_id, code, percent_off, valid_from) values (tests.fx('gig'), 'LATER', 50, now() + interval '1 day');
insert into public.promo_codes (event_id, code, percent_off, active) values (tests.fx('gig'), 'OFF', 50, false);
insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('gig'), 'UNUSED', 5);
insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('tokyo'), 'YEN33', 33);
select tests.raises_hint($$insert into public.promo_codes (event_id, code, amount_off_cents, currency) values (tests.fx('tokyo'), 'EUROS', 500, 'EUR')$$,
          'currency_mismatch', 'a yen event takes no euro amounts off');
select tests.as_superuser();
insert into public.promo_codes (event_id, code, percent_off, valid_from, valid_until)
values (tests.fx('gig'), 'BYGONE', 50, now() - interval '10 days', now() - interval '1 day');
select tests.authenticate_as('mia');
select lives_ok($$insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('gig'), 'MIAS', 15)$$, 'a managing co-host adds codes');
select tests.authenticate_as('kit');
select throws_ok($$insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('gig'), 'KITS', 15)$$, '42501', null,
                 'a check-in co-host cannot');
select is((select count(*)::int from public.promo_codes), 0, 'and cannot list them');
select tests.authenticate_as('ana');
select is((select count(*)::int from public.promo_codes), 0, 'guests never list codes');

-- Previewing and booking with a code
select results_eq($$select name, price_cents, discount_cents, final_price_cents from public.preview_promo_code(tests.fx('gig'), 'save20')$$,
                  $$values ('General'::text, 2500::bigint, 500::bigint, 2000::bigint), ('Balcony', 3000, 600, 2400)$$,
                  'a guest previews a code (any case): 20 % off each visible ticket type, the hidden tier not among them');
select results_eq($$select status, quantity, list_amount_cents, discount_cents, amount_cents
                      from public.book_event(tests.fx('gig'), tests.fx('ga'), 2, 'ana-1', null, 'Save20')$$,
                  $$values ('held'::text, 2, 5000::bigint, 1000::bigint, 4000::bigint)$$,
                  'booking with it records the list price, the discount, and holds the seats at the discounted amount');
select is((select id from public.book_event(tests.fx('gig'), tests.fx('ga'), 2, 'ana-1', null, 'SAVE20')),
          (select id from public.bookings where idempotency_key = 'ana-1'), 'a retry with the same key and code returns the same booking');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('ga'), 2, 'ana-1', null, 'FIVEOFF')$$, 'idempotency_key_reused',
          'the same key with another code is a different request');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('ga'), 2, 'ana-1')$$, 'idempotency_key_reused',
          'and so is the same key without the code');
select tests.authenticate_as('ben');
select results_eq($$select discount_cents, amount_cents from public.book_event(tests.fx('gig'), tests.fx('balcony'), 3, 'ben-1', null, 'fiveoff')$$,
                  $$values (1500::bigint, 7500::bigint)$$, 'a fixed amount comes off each ticket');
select tests.authenticate_as('cal');
select results_eq($$select status, discount_cents, amount_cents from public.book_event(tests.fx('gig'), tests.fx('ga'), 1, 'cal-1', null, 'COMPED')$$,
                  $$values ('confirmed'::text, 2500::bigint, 0::bigint)$$,
                  'an amount larger than the price makes the ticket free (never below zero), and a free booking is confirmed at once');
select is(tests.hint_of($$select public.cancel_booking((select id from public.bookings where idempotency_key = 'cal-1'))$$), null,
          'a free booking cancels');
select tests.as_superuser();
select is((select count(*)::int from private.refund_requests r join public.bookings b on b.id = r.booking_id where b.idempotency_key = 'cal-1'), 0,
          'and nothing is refunded: nothing was paid');
select tests.authenticate_as('cal');
select results_eq($$select discount_cents, amount_cents from public.book_event(tests.fx('tokyo'), tests.fx('floor'), 2, 'cal-2', null, 'YEN33')$$,
                  $$values (1980::bigint, 4020::bigint)$$, '33 % off ¥3,000 is ¥990 per ticket, floored to the yen (JPY has no minor unit)');

-- Refusals: each with its code, nothing written
select tests.authenticate_as('dee');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('ga'), 1, 'dee-1', null, 'NOSUCH')$$, 'promo_code_not_found', 'an unknown code is refused');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('ga'), 1, 'dee-1', null, 'OFF')$$, 'promo_code_not_found', 'so is a switched-off one');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('ga'), 1, 'dee-1', null, 'LATER')$$, 'promo_code_not_started', 'a code before its window');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('ga'), 1, 'dee-1', null, 'BYGONE')$$, 'promo_code_expired', 'a code after its window');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('balcony'), 1, 'dee-1', null, 'GAONLY')$$, 'promo_code_not_applicable',
          'a code for another ticket type');
select tests.raises_hint($$select public.book_event(tests.fx('tokyo'), tests.fx('floor'), 1, 'dee-1', null, 'SAVE20')$$, 'promo_code_not_found',
          'another event''s code');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('ga'), 2, 'dee-1', null, 'ONEEACH')$$, 'promo_code_guest_limit',
          'more tickets than the per-guest limit');
select tests.raises_hint($$select public.preview_promo_code(tests.fx('gig'), 'BYGONE')$$, 'promo_code_expired', 'the preview says so too');
select is((select count(*)::int from public.bookings where guest_id = tests.get_supabase_uid('dee')), 0, 'and none of these wrote anything');

-- Maximum redemptions: tickets in live bookings; cancelled ones give their uses back
select tests.authenticate_as('ben');
select public.cancel_booking((select id from public.bookings where idempotency_key = 'ben-1'));
select results_eq($$select quantity, amount_cents from public.book_event(tests.fx('gig'), tests.fx('ga'), 2, 'ben-2', null, 'FIRSTTWO')$$,
                  $$values (2, 2500::bigint)$$, 'a code with 2 uses takes a party of 2');
select tests.authenticate_as('dee');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('ga'), 1, 'dee-2', null, 'FIRSTTWO')$$, 'promo_code_used_up',
          'a third ticket with it is refused');
select is((select count(*)::int from public.bookings where guest_id = tests.get_supabase_uid('dee')), 0, 'and nothing is written');
select tests.authenticate_as('hal');
select is((select c.redeemed from public.promo_codes c where c.code = 'FIRSTTWO'), 2::bigint, 'the host sees 2 redeemed');
select tests.raises_hint($$update public.promo_codes set max_redemptions = 1 where code = 'FIRSTTWO'$$, 'max_below_redeemed',
          'and cannot lower the maximum below what was booked');
select tests.authenticate_as('ben');
select public.cancel_booking((select id from public.bookings where idempotency_key = 'ben-2'));
select tests.authenticate_as('dee');
select results_eq($$select status, amount_cents from public.book_event(tests.fx('gig'), tests.fx('ga'), 1, 'dee-3', null, 'FIRSTTWO')$$,
                  $$values ('held'::text, 1250::bigint)$$, 'a cancelled booking gives its uses back');
select tests.as_superuser();
update public.bookings set hold_expires_at = now() - interval '1 minute' where idempotency_key = 'dee-3';
select private.expire_stale_bookings();
select is((select private.promo_code_uses(id) from public.promo_codes where code = 'FIRSTTWO'), 0::bigint, 'an expired hold gives its uses back too');
update public.promo_codes set max_redemptions = 1 where code = 'FIRSTTWO';
select tests.authenticate_as('ana');
select public.book_event(tests.fx('tokyo'), tests.fx('floor'), 1, 'ana-t');
select tests.authenticate_as('cal');
select public.book_event(tests.fx('gig'), tests.fx('ga'), 1, 'cal-3', null, 'FIRSTTWO');
select tests.as_superuser();
select ok(private.confirm_booking_payment((select id from public.bookings where idempotency_key = 'cal-3')), 'a code''s last use is paid for');
select ok(not private.confirm_booking_payment((select id from public.bookings where idempotency_key = 'dee-3')),
          'a late payment for the expired hold cannot revive it past the code''s maximum (it is refunded instead)');

-- Hidden tiers
select tests.authenticate_as('dee');
select is((select count(*)::int from public.ticket_types where event_id = tests.fx('gig')), 2, 'guests list the visible ticket types only');
select is((select min_price_cents from public.search_events(p_query => 'Hot Clube')), 2500::bigint, 'search''s cheapest price ignores the hidden tier');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('friends'), 1, 'dee-4')$$, 'ticket_type_not_found',
          'a hidden tier cannot be booked without its code');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('friends'), 1, 'dee-4', null, 'SAVE20')$$, 'ticket_type_not_found',
          'nor with a code that does not unlock it');
select tests.raises_hint($$select public.join_waitlist(tests.fx('gig'), tests.fx('friends'), 1)$$, 'ticket_type_not_found',
          'and it has no public waitlist');
select results_eq($$select name, hidden, final_price_cents from public.preview_promo_code(tests.fx('gig'), 'bandmate')$$,
                  $$values ('Friends of the band'::text, true, 1000::bigint)$$, 'its code shows it');
select results_eq($$select status, amount_cents from public.book_event(tests.fx('gig'), tests.fx('friends'), 1, 'dee-4', null, 'BANDMATE')$$,
                  $$values ('held'::text, 1000::bigint)$$, 'and books it');
select is((select count(*)::int from public.ticket_types where event_id = tests.fx('gig')), 3, 'after booking it, she sees the tier she booked');
select tests.authenticate_as('kit');
select is((select count(*)::int from public.ticket_types where event_id = tests.fx('gig')), 3, 'staff always see every tier');

-- Deleting codes
select tests.authenticate_as('hal');
select tests.raises_hint($$delete from public.promo_codes where code = 'SAVE20'$$, 'promo_code_redeemed', 'a code guests booked with stays');
select lives_ok($$update public.promo_codes set active = false where code = 'SAVE20'$$, 'it is switched off instead');
select lives_ok($$delete from public.promo_codes where code = 'UNUSED'$$, 'an unused code can be deleted');
select tests.clear_authentication();
select tests.raises_hint($$select public.preview_promo_code(tests.fx('gig'), 'SAVE20')$$, 'not_authenticated', 'previewing needs a signed-in guest');

select * from finish();
rollback;
