-- In-app notifications: private.notify stores and broadcasts; only the recipient reads them and
-- only the recipient may join their private user:<id> topic.
begin;
select plan(13);

select tests.create_supabase_user('nina', 'nina@example.test', '{"username":"nina"}');
select tests.create_supabase_user('omar', 'omar@example.test', '{"username":"omar"}');

select isnt(private.notify(tests.get_supabase_uid('nina'), 'booking_confirmed', 'You are going!', 'See you there',
                           jsonb_build_object('event_id', gen_random_uuid())), null,
            'private.notify returns the new notification id');
-- (A confirmed sign-up also brings the welcome: 20261125100310-notification-preferences tells that story.)
select results_eq($$select type, title, body, read_at is null from public.notifications
                     where user_id = tests.get_supabase_uid('nina') and type <> 'welcome'$$,
                  $$values ('booking_confirmed'::text, 'You are going!'::text, 'See you there'::text, true)$$,
                  'the notification is stored unread');
select results_eq($$select event, private, payload ->> 'title', payload ->> 'user_id'
                      from realtime.messages where topic = 'user:' || tests.get_supabase_uid('nina')
                       and payload ->> 'type' <> 'welcome'$$,
                  $$select 'notification_created'::text, true, 'You are going!'::text, tests.get_supabase_uid('nina')::text$$,
                  'and broadcast privately on user:<id> as notification_created');

select throws_ok($$select private.notify(tests.get_supabase_uid('nina'), 'Bad Type!', 'x')$$, '23514', null,
                 'a malformed notification type is refused');
select throws_ok($$select private.notify(tests.get_supabase_uid('nina'), 'ok_type', '')$$, '23514', null,
                 'an empty title is refused');

select tests.authenticate_as('omar');
select is((select count(*)::int from public.notifications where user_id = tests.get_supabase_uid('nina')), 0,
          'another user sees none of Nina''s notifications');
select is((select count(*)::int from public.notifications where user_id <> tests.get_supabase_uid('omar')), 0,
          'nor anyone else''s: only his own welcome');
select throws_ok($$select private.notify(tests.get_supabase_uid('nina'), 'spoof', 'Spoofed')$$, '42501', null,
                 'users cannot call private.notify to spoof notifications');
select ok(not tests.can_receive_on('user:' || tests.get_supabase_uid('nina')), 'another user cannot join Nina''s user topic');

select tests.authenticate_as('nina');
select ok(tests.can_receive_on('user:' || tests.get_supabase_uid('nina')), 'Nina can join her own user topic');
select ok(not tests.can_send_on('user:' || tests.get_supabase_uid('nina'), 'broadcast'),
          'Nina cannot broadcast fake notifications on her own topic');
select ok(tests.can_send_on('user:' || tests.get_supabase_uid('nina'), 'presence'),
          'Nina may track presence on her own topic (her other devices)');

select tests.clear_authentication();
select ok(not tests.can_receive_on('user:' || tests.get_supabase_uid('nina')), 'anonymous clients cannot join a user topic');

select * from finish();
rollback;
