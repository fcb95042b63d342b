-- Named attendees and ticket transfer: every seat has its own code and name; a seat or a whole
-- booking is offered, accepted, declined or withdrawn; on acceptance the old code dies and the
-- new holder sees the event and joins its chat; refund rights stay with the booking; check-in
-- works per seat.
begin;
select plan(54);

select tests.create_supabase_user('hal', 'hal@example.test', '{"username":"hal_host"}');
select tests.create_supabase_user('kit', 'kit@example.test', '{"username":"kit_checkin"}');
select tests.create_supabase_user('ana', 'ana@example.test', '{"username":"ana_payer","display_name":"Ana"}');
select tests.create_supabase_user('ben', 'ben@example.test', '{"username":"ben_friend","display_name":"Ben"}');
select tests.create_supabase_user('cal', 'cal@example.test', '{"username":"cal_buyer"}');
select tests.create_supabase_user('eve', 'eve@example.test', '{"username":"eve_seller"}');
select tests.create_supabase_user('fay', 'fay@example.test', '{"username":"fay_friend"}');
select tests.create_supabase_user('zed', 'zed@example.test', '{"username":"zed_blocked"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('hal');
update public.profiles set display_name = 'Ben' where id = tests.get_supabase_uid('ben');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('hal'), tests.get_supabase_uid('zed'));

create temp table fx (name text primary key, id uuid, code text);
grant all on fx to public;
create function pg_temp.code(p_name text) returns text language sql as $$ select code from fx where name = p_name $$;

select tests.authenticate_as('hal');
with e as (insert into public.events (title, starts_at, ends_at, timezone, refund_policy, address)
           values ('Dinner in the dark', now() + interval '10 days', now() + interval '10 days 3 hours', 'Europe/Berlin', 'flexible', 'Torstraße 1')
           returning id)
insert into fx (name, id) select 'gig', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
           select id, 'Table', 2000, 'EUR', 20, 4 from fx where name = 'gig' returning id)
insert into fx (name, id) select 'table', id from t;
with e as (insert into public.events (title, starts_at, ends_at, timezone, requires_approval)
           values ('Members only', now() + interval '10 days', now() + interval '10 days 3 hours', 'Europe/Berlin', true) returning id)
insert into fx (name, id) select 'club', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity)
           select id, 'Seat', 0, 'EUR', 20 from fx where name = 'club' returning id)
insert into fx (name, id) select 'club_seat', id from t;
select public.publish_event(id) from fx where name in ('gig', 'club');
insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('gig'), tests.get_supabase_uid('kit'), 'checkin');

select tests.authenticate_as('ana');
insert into fx (name, id) select 'ana_b', id from public.book_event(tests.fx('gig'), tests.fx('table'), 3, 'ana-1');
select tests.authenticate_as('eve');
insert into fx (name, id) select 'eve_b', id from public.book_event(tests.fx('gig'), tests.fx('table'), 1, 'eve-1');
select tests.as_superuser();
select private.confirm_booking_payment(id) from fx where name in ('ana_b', 'eve_b');
select tests.authenticate_as('fay');
insert into fx (name, id) select 'fay_club', id from public.book_event(tests.fx('club'), tests.fx('club_seat'), 2, 'fay-c');
select tests.authenticate_as('hal');
select public.approve_booking(tests.fx('fay_club'));

-- Seats and names
select tests.authenticate_as('ana');
select results_eq($$select count(*)::int, count(distinct check_in_code)::int, bool_and(check_in_code ~ '^[0-9a-f]{32}$')
                      from public.booking_seats where booking_id = tests.fx('ana_b')$$,
                  $$values (3, 3, true)$$, 'a party of three gets three seats, each with its own 128-bit check-in code');
select ok(not exists (select 1 from public.booking_seats s join public.bookings b on b.id = s.booking_id where s.check_in_code = b.check_in_code),
          'no seat shares the booking''s own code');
select results_eq($$select seat_no::int, attendee_name from public.name_attendees(tests.fx('ana_b'), '["Ana", "  Ben B  ", null]') order by seat_no$$,
                  $$values (1, 'Ana'::text), (2, 'Ben B'), (3, null)$$, 'the guest names her attendees seat by seat');
select tests.raises_hint($$select public.name_attendees(tests.fx('ana_b'), '["A", "B", "C", "D"]')$$, 'too_many_names', 'not more names than seats');
select tests.raises_hint($$select public.name_attendees(tests.fx('ana_b'), jsonb_build_array(repeat('x', 121)))$$, 'invalid_attendee_name', 'a name has at most 120 characters');
insert into fx (name, code) select 'seat2_old', check_in_code from public.booking_seats where booking_id = tests.fx('ana_b') and seat_no = 2;
select tests.authenticate_as('ben');
select is((select count(*)::int from public.booking_seats where booking_id = tests.fx('ana_b')), 0, 'nobody else sees her seats');
select tests.raises_hint($$select public.name_attendees(tests.fx('ana_b'), '["Mallory"]')$$, 'booking_not_found', 'nor names them');

-- Offering one seat
select tests.authenticate_as('ana');
insert into fx (name, id) select 'to_ben', id from public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('ben'), 2);
select is((select status from public.booking_transfers where id = tests.fx('to_ben')), 'pending', 'she offers seat 2 to Ben');
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('fay'), 2)$$, 'transfer_pending',
          'one open offer per seat');
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('cal'))$$, 'transfer_pending',
          'and no whole-booking offer while a seat''s is open');
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('zed'), 3)$$, 'recipient_not_eligible',
          'someone the host blocked cannot receive a ticket');
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('eve'), 3)$$, 'recipient_not_eligible',
          'nor someone already going (the same answer)');
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('kit'), 3)$$, 'recipient_not_eligible',
          'nor the event''s staff');
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('cal'), 7)$$, 'seat_not_found', 'a seat she does not have');
select is((select count(*)::int from public.booking_transfers), 1, 'none of these wrote an offer');
select tests.authenticate_as('ben');
select results_eq($$select type, data ->> 'transfer_id' from public.notifications where type = 'ticket_transfer_offered'$$,
                  $$values ('ticket_transfer_offered'::text, tests.fx('to_ben')::text)$$, 'Ben is told');
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('ben'), 1)$$, 'booking_not_found',
          'he cannot give away her seats');
select tests.authenticate_as('cal');
select tests.raises_hint($$select public.accept_booking_transfer(tests.fx('to_ben'))$$, 'transfer_not_found', 'nobody else can take his offer');

-- Accepting it: the old code dies, Ben holds the seat, sees the address, joins the chat
select tests.authenticate_as('ben');
select is((select status from public.accept_booking_transfer(tests.fx('to_ben'))), 'accepted', 'Ben accepts');
select results_eq($$select seat_no::int, attendee_name, check_in_code <> pg_temp.code('seat2_old') from public.booking_seats$$,
                  $$values (2, 'Ben'::text, true)$$, 'he holds seat 2, named after him, with a new code');
insert into fx (name, code) select 'seat2_ben', check_in_code from public.booking_seats;
select is((select address from public.events where id = tests.fx('gig')), 'Torstraße 1', 'he sees the exact address');
select tests.as_superuser();
select is(private.event_chat_role(tests.fx('gig'), tests.get_supabase_uid('ben')), 'member', 'he is a member of the event chat');
select tests.authenticate_as('ben');
select ok(exists (select 1 from public.conversation_members m join public.conversations c on c.id = m.conversation_id
                   where c.event_id = tests.fx('gig') and m.user_id = tests.get_supabase_uid('ben')), 'and it is on his conversation list');
select tests.raises_hint($$select public.book_event(tests.fx('gig'), tests.fx('table'), 1, 'ben-1')$$, 'already_booked',
          'holding a seat, he does not book another');
select tests.raises_hint($$select public.cancel_booking(tests.fx('ana_b'))$$, 'not_your_booking', 'he cannot cancel her booking');
select tests.authenticate_as('ana');
select is((select count(*)::int from public.booking_seats where booking_id = tests.fx('ana_b')), 2, 'Ana sees the two seats she still holds');
select ok(exists (select 1 from public.notifications where type = 'ticket_transfer_accepted'), 'and is told he accepted');
select tests.raises_hint($$select public.cancel_booking(tests.fx('ana_b'))$$, 'seats_transferred',
          'she cannot cancel a booking while someone holds one of its seats');
select is((select status from public.bookings where id = tests.fx('ana_b')), 'confirmed', 'and nothing changed');

-- Declining, withdrawing, expiring, handing back
insert into fx (name, id) select 'to_fay', id from public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('fay'), 3);
select tests.authenticate_as('fay');
select is((select status from public.decline_booking_transfer(tests.fx('to_fay'))), 'declined', 'Fay declines seat 3');
select tests.raises_hint($$select public.accept_booking_transfer(tests.fx('to_fay'))$$, 'transfer_not_pending', 'a declined offer cannot be accepted');
select tests.authenticate_as('ana');
select ok(exists (select 1 from public.notifications where type = 'ticket_transfer_declined'), 'Ana is told');
insert into fx (name, id) select 'to_fay2', id from public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('fay'), 3);
select is((select status from public.cancel_booking_transfer(tests.fx('to_fay2'))), 'cancelled', 'she offers it again and withdraws the offer');
insert into fx (name, id) select 'to_fay3', id from public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('fay'), 3);
select tests.as_superuser();
update public.booking_transfers set expires_at = now() - interval '1 second' where id = tests.fx('to_fay3');
select tests.authenticate_as('fay');
select tests.raises_hint($$select public.accept_booking_transfer(tests.fx('to_fay3'))$$, 'transfer_expired', 'an expired offer cannot be accepted');
select tests.authenticate_as('ana');
insert into fx (name, id) select 'to_fay4', id from public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('fay'), 3);
select tests.authenticate_as('fay');
select public.accept_booking_transfer(tests.fx('to_fay4'));
insert into fx (name, id) select 'back_to_ana', id from public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('ana'), 3);
select tests.authenticate_as('ana');
select public.accept_booking_transfer(tests.fx('back_to_ana'));
select tests.as_superuser();
select is((select holder_id from public.booking_seats where booking_id = tests.fx('ana_b') and seat_no = 3), null,
          'Fay took seat 3 and handed it back to Ana');
select is(private.event_chat_role(tests.fx('gig'), tests.get_supabase_uid('fay')), null, 'and left the event chat with it');

-- A whole booking changes guest; the refund rights go with it under the event's policy
select tests.authenticate_as('eve');
insert into fx (name, code) select 'eve_code', check_in_code from public.bookings where id = tests.fx('eve_b');
insert into fx (name, id) select 'to_cal', id from public.transfer_booking(tests.fx('eve_b'), tests.get_supabase_uid('cal'));
select tests.authenticate_as('cal');
select public.accept_booking_transfer(tests.fx('to_cal'));
select results_eq($$select guest_id, status, check_in_code <> pg_temp.code('eve_code') from public.bookings where id = tests.fx('eve_b')$$,
                  $$values (tests.get_supabase_uid('cal'), 'confirmed'::text, true)$$, 'Cal now holds Eve''s booking, with a new code');
select results_eq($$select refundable_cents, refund_percent from public.refund_quote(tests.fx('eve_b'))$$,
                  $$values (2000::bigint, 100)$$, 'he may cancel it under the flexible policy, for what Eve paid');
select tests.authenticate_as('eve');
select is((select count(*)::int from public.bookings where id = tests.fx('eve_b')), 0, 'Eve no longer sees it');
select tests.raises_hint($$select public.cancel_booking(tests.fx('eve_b'))$$, 'not_your_booking', 'nor can she cancel it (she sold it)');
select tests.as_superuser();
select is(private.event_chat_role(tests.fx('gig'), tests.get_supabase_uid('eve')), null, 'she left the event chat');
select tests.authenticate_as('eve');
select tests.authenticate_as('cal');
select tests.as_superuser();
select is(private.event_chat_role(tests.fx('gig'), tests.get_supabase_uid('cal')), 'member', 'and Cal joined it');
select tests.authenticate_as('cal');

-- Where transfers are not allowed
select tests.authenticate_as('fay');
select tests.raises_hint($$select public.transfer_booking(tests.fx('fay_club'), tests.get_supabase_uid('cal'))$$, 'transfer_not_allowed',
          'an event where the host approves every guest takes no transfers');
select tests.clear_authentication();
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('cal'))$$, 'not_authenticated',
          'anonymous callers must sign in');

-- Check-in per seat
select tests.as_superuser();
update private.events set starts_at = now() - interval '30 minutes', ends_at = now() + interval '3 hours' where id = tests.fx('gig');
select tests.authenticate_as('ana');
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('fay'), 3)$$, 'event_started',
          'once the event has started tickets stay where they are');
select tests.authenticate_as('kit');
select tests.raises_hint(format('select public.check_in(%L)', pg_temp.code('seat2_old')), 'invalid_code', 'the old code of a transferred seat is dead');
select results_eq(format('select username, quantity, seat_no, attendee_name from public.check_in(%L)', pg_temp.code('seat2_ben')),
                  $$values ('ben_friend'::text, 1, 2, 'Ben'::text)$$, 'Ben''s own code checks in his seat alone, for him');
select results_eq($$select username, quantity, seat_no from public.check_in((select check_in_code from public.bookings where id = tests.fx('ana_b')))$$,
                  $$values ('ana_payer'::text, 2, null::int)$$, 'the booking''s code checks in the two seats Ana still holds');
select tests.raises_hint($$select public.check_in((select check_in_code from public.bookings where id = tests.fx('ana_b')))$$, 'already_checked_in',
          'and works once');
select tests.raises_hint(format('select public.check_in(%L)', pg_temp.code('seat2_ben')), 'already_checked_in', 'so does a seat''s code');
select tests.as_superuser();
select is(private.checked_in_count(tests.fx('gig')), 3::bigint, 'three people are in');
select tests.authenticate_as('ben');
select tests.raises_hint($$select public.transfer_booking(tests.fx('ana_b'), tests.get_supabase_uid('fay'), 2)$$, 'event_started',
          'a checked-in seat stays with its holder');

-- The host cancelling tells the seat holders too
select tests.authenticate_as('hal');
select public.cancel_booking(tests.fx('eve_b'));
select tests.as_superuser();
update public.booking_seats set checked_in_at = null where booking_id = tests.fx('ana_b');
update public.bookings set checked_in_at = null where id = tests.fx('ana_b');
select tests.authenticate_as('hal');
select public.cancel_booking(tests.fx('ana_b'));
select tests.authenticate_as('ben');
select ok(exists (select 1 from public.notifications where type = 'booking_cancelled' and data ->> 'booking_id' = tests.fx('ana_b')::text),
          'when the host cancels the booking, Ben is told his seat is gone');
select tests.as_superuser();
select is(private.event_chat_role(tests.fx('gig'), tests.get_supabase_uid('ben')), null, 'and he leaves the event chat');
select tests.authenticate_as('ben');

select * from finish();
rollback;
