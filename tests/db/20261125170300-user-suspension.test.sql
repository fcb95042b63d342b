-- Suspending a user: only an admin, with a reason; the suspended account cannot sign in and its
-- remaining token can do nothing; a suspended host's events take no new bookings while booked
-- guests keep theirs; lifting the suspension gives everything back. All of it is audited.
begin;
select plan(48);

select tests.create_fixtures();
create function pg_temp.suspensions() returns bigint language sql security definer as $$ select count(*) from private.user_suspensions $$;

select tests.create_supabase_user('ada', 'ada@example.test', '{"username":"ada_admin"}', '{"role":"admin"}');
select tests.create_supabase_user('bea', 'bea@example.test', '{"username":"bea_admin"}', '{"role":"admin"}');
select tests.create_supabase_user('hal', 'hal@example.test', '{"username":"hal_host"}');
select tests.create_supabase_user('gil', 'gil@example.test', '{"username":"gil_guest"}');
select tests.create_supabase_user('sam', 'sam@example.test', '{"username":"sam_guest"}');
select tests.authenticate_as('hal');
select public.become_host();
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Board games', now() + interval '3 days', now() + interval '3 days 3 hours', 'UTC') returning id)
insert into fx select 'E', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('E'), 'Free', 0, 'EUR', 20) returning id)
insert into fx select 'T', id from t;
select public.publish_event(tests.fx('E'));
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Next week', now() + interval '9 days', now() + interval '9 days 3 hours', 'UTC') returning id)
insert into fx select 'D', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('D'), 'Free', 0, 'EUR', 20);
select tests.authenticate_as('gil');
insert into fx select 'GB', id from public.book_event(tests.fx('E'), tests.fx('T'), 1, 'gil-1');
select tests.as_superuser();
insert into fx select 'CHAT', id from public.conversations where event_id = tests.fx('E') and kind = 'event';

-- Who may suspend, and bad input
select tests.authenticate_as('gil');
select is(tests.error_of(format($$select * from public.admin_suspend_user(%L, 'I do not like him')$$, tests.get_supabase_uid('hal'))), '42501 admin_only',
          'a guest cannot suspend a host');
select tests.clear_authentication();
select is(tests.error_of(format($$select * from public.admin_suspend_user(%L, 'x')$$, tests.get_supabase_uid('hal'))), '42501 not_authenticated',
          'nor can an anonymous visitor');
select tests.authenticate_as('ada');
select is(tests.error_of(format($$select * from public.admin_suspend_user(%L, '  ')$$, tests.get_supabase_uid('hal'))), '22023 invalid_reason',
          'an admin must give a reason');
select is(tests.error_of(format($$select * from public.admin_suspend_user(%L, 'Spam')$$, gen_random_uuid())), '22023 user_not_found',
          'an unknown user cannot be suspended');
select is(tests.error_of($$select * from public.admin_suspend_user(null, 'Spam')$$), '22023 user_not_found', 'nor can nobody');
select is(tests.error_of(format($$select * from public.admin_suspend_user(%L, 'Testing')$$, tests.get_supabase_uid('ada'))), '22023 cannot_suspend_self',
          'an admin cannot suspend themselves');
select is(tests.error_of(format($$select * from public.admin_suspend_user(%L, 'Rogue')$$, tests.get_supabase_uid('bea'))), 'P0001 cannot_suspend_admin',
          'nor another admin (their admin right is revoked first)');
select is(tests.error_of(format($$select * from public.admin_unsuspend_user(%L, 'Oops')$$, tests.get_supabase_uid('hal'))), 'P0001 not_suspended',
          'an account that is not suspended cannot be unsuspended');
select tests.as_superuser();
select is(pg_temp.suspensions(), 0::bigint, 'none of that suspended anyone');
select is((select banned_until from auth.users where id = tests.get_supabase_uid('hal')), null, 'or banned anyone from signing in');
select is((select count(*)::int from private.audit_log where action like 'admin.%'), 0, 'or wrote an audit row');

-- Ada suspends Hal
select tests.authenticate_as('ada');
select results_eq(format($$select user_id, suspended, host_status from public.admin_suspend_user(%L, '  Fake events, several reports  ')$$, tests.get_supabase_uid('hal')),
                  format($$values (%L::uuid, true, 'suspended'::text)$$, tests.get_supabase_uid('hal')),
                  'Ada suspends Hal, a host: his host status is suspended');
select tests.as_superuser();
select ok((select banned_until > now() + interval '99 years' from auth.users where id = tests.get_supabase_uid('hal')),
          'Supabase Auth will refuse his sign-in and token refresh (banned_until, as GoTrue bans)');
select results_eq($$select action, actor_id, details ->> 'reason' from private.audit_log where subject_id = tests.get_supabase_uid('hal') and action = 'admin.suspend_user'$$,
                  format($$values ('admin.suspend_user'::text, %L::uuid, 'Fake events, several reports'::text)$$, tests.get_supabase_uid('ada')),
                  'the audit log records Ada suspending Hal, with her reason');
select ok(exists (select 1 from private.audit_log where subject_id = tests.get_supabase_uid('hal') and action = 'user.host_status_changed'
                   and details ->> 'to' = 'suspended' and actor_id = tests.get_supabase_uid('ada')),
          'and the host status change that came with it');
set local role postgres;
select results_eq($$select username, reason, suspended_by_username from admin.suspended_users$$,
                  $$values ('hal_host'::text, 'Fake events, several reports'::text, 'ada_admin'::text)$$,
                  'operators see Hal in the suspended users, with the reason and who decided');
reset role;
select tests.authenticate_as('ada');
select is(tests.error_of(format($$select * from public.admin_suspend_user(%L, 'Again')$$, tests.get_supabase_uid('hal'))), 'P0001 already_suspended',
          'suspending him twice is refused');

-- What Hal's remaining access token can no longer do
select tests.authenticate_as('hal');
select is(tests.error_of(format($$select * from public.publish_event(%L)$$, tests.fx('D'))), '42501 account_suspended',
          'Hal cannot publish an event');
select is(tests.error_of(format($$select * from public.send_message(%L, 'text', 'Still here')$$, tests.fx('CHAT'))), '42501 account_suspended',
          'or write in his event''s chat');
select is(tests.error_of($$select * from public.request_payout(100, 'EUR')$$), '42501 account_suspended', 'or ask for a payout');
select is(tests.error_of($$select public.become_host()$$), '42501 account_suspended', 'or become a host again');
select is(tests.error_of(format($$select public.follow_user(%L)$$, tests.get_supabase_uid('sam'))), '42501 account_suspended', 'or follow anyone');
select is(tests.error_of($$select * from public.my_notifications(null, 10)$$), '42501 account_suspended', 'or use any other RPC');
select is(tests.error_of($$insert into public.events (title, starts_at, ends_at, timezone) values ('Sneaky', now() + interval '5 days', now() + interval '5 days 1 hour', 'UTC')$$),
          '42501 account_suspended', 'writing to events directly through the Data API is refused too');
select is(tests.error_of($$update public.profiles set bio = 'Totally legit' where id = auth.uid()$$), '42501 account_suspended',
          'as is editing his profile');
select is(tests.error_of(format($$insert into public.follows (follower_id, followee_id) values (auth.uid(), %L)$$, tests.get_supabase_uid('sam'))),
          '42501 account_suspended', 'or following by insert');
select is(tests.error_of(format($$update public.ticket_types set capacity = 500 where event_id = %L$$, tests.fx('E'))),
          '42501 account_suspended', 'or changing his ticket types');
select is(tests.error_of($$insert into storage.objects (bucket_id, name, owner_id) values ('avatars', auth.uid()::text || '/new.png', auth.uid()::text)$$),
          '42501 account_suspended', 'or uploading a file');
select ok(not tests.can_send_on('conversation:' || tests.fx('CHAT')::text || ':typing'), 'or show that he is typing in the chat');
select is((select count(*)::int from public.events where id = tests.fx('E')), 1, 'he can still read public data while his token lasts');

-- Everyone else
select tests.authenticate_as('sam');
select is(tests.error_of(format($$select * from public.book_event(%L, %L, 1, 'sam-1')$$, tests.fx('E'), tests.fx('T'))), 'P0001 host_suspended',
          'Sam cannot book a suspended host''s event');
select tests.authenticate_as('gil');
select ok((select count(*) from public.send_message(tests.fx('CHAT'), 'text', 'Is it still on?')) = 1,
          'Gil, already booked, still talks in the event chat');
select is((select status from public.cancel_booking(tests.fx('GB'))), 'cancelled', 'and can cancel his booking');
select tests.as_superuser();
select is((select status from public.events where id = tests.fx('E')), 'published', 'the event stays published for the guests who hold tickets');
select is((select count(*)::int from public.messages where conversation_id = tests.fx('CHAT')
            and sender_id = tests.get_supabase_uid('hal')), 0, 'and nothing Hal tried was written');

-- Lifting it
select tests.authenticate_as('gil');
select is(tests.error_of(format($$select * from public.admin_unsuspend_user(%L, 'He is my friend')$$, tests.get_supabase_uid('hal'))), '42501 admin_only',
          'a guest cannot lift a suspension');
select tests.authenticate_as('bea');
select is(tests.error_of(format($$select * from public.admin_unsuspend_user(%L, '')$$, tests.get_supabase_uid('hal'))), '22023 invalid_reason',
          'lifting needs a reason too');
select results_eq(format($$select user_id, suspended, host_status, banned_until from public.admin_unsuspend_user(%L, 'Identity verified')$$, tests.get_supabase_uid('hal')),
                  format($$values (%L::uuid, false, 'active'::text, null::timestamptz)$$, tests.get_supabase_uid('hal')),
                  'Bea lifts the suspension: Hal is an active host again');
select tests.as_superuser();
select is((select banned_until from auth.users where id = tests.get_supabase_uid('hal')), null, 'and may sign in again');
select ok(exists (select 1 from private.audit_log where action = 'admin.unsuspend_user' and subject_id = tests.get_supabase_uid('hal')
                   and actor_id = tests.get_supabase_uid('bea') and details ->> 'reason' = 'Identity verified'),
          'the lifting is in the audit log with Bea''s reason');
set local role postgres;
select is_empty($$select * from admin.suspended_users$$, 'and nobody is suspended any more');
reset role;
select tests.authenticate_as('hal');
select is((select count(*)::int from public.publish_event(tests.fx('D'))), 1, 'Hal can publish again');
select ok(tests.can_send_on('conversation:' || tests.fx('CHAT')::text || ':typing'), 'and type in his event chat');
select tests.authenticate_as('sam');
select is((select status from public.book_event(tests.fx('E'), tests.fx('T'), 1, 'sam-2')), 'confirmed', 'and Sam can book his event');

-- A guest's suspension leaves their host status alone
select tests.authenticate_as('ada');
select is((select host_status from public.admin_suspend_user(tests.get_supabase_uid('sam'), 'Harassment')), 'none', 'suspending a guest leaves them a guest');
select tests.authenticate_as('sam');
select is(tests.error_of(format($$select * from public.cancel_booking(%L)$$, (select id from public.bookings where guest_id = auth.uid() limit 1))),
          '42501 account_suspended', 'Sam can do nothing with his token now');
select tests.authenticate_as('ada');
select is((select host_status from public.admin_unsuspend_user(tests.get_supabase_uid('sam'), 'Apologised')), 'none', 'and lifting it leaves them a guest');
select tests.as_superuser();
select is((select count(*)::int from private.audit_log where action in ('admin.suspend_user', 'admin.unsuspend_user')), 4,
          'every suspension and lifting was audited');

select * from finish();
rollback;
