-- Notification preferences, contact points and quiet hours, and the in-app inbox: users choose
-- per type and channel (never muting critical emails), give a valid phone and an explicit
-- WhatsApp opt-in, set quiet hours in their own time zone, and read their notifications a page
-- at a time, marking some or all read on every device.
begin;
select plan(63);

create function pg_temp.notification_id(p_title text) returns uuid language sql security definer as $$
  select id from public.notifications where title = p_title
$$;
create function pg_temp.type_count() returns integer language sql security definer as $$ select count(*)::int from private.notification_types $$;

select tests.create_supabase_user('nia', 'nia@example.test', '{"username":"nia_n","timezone":"Europe/London"}');
select tests.create_supabase_user('oli', 'oli@example.test', '{"username":"oli_o","timezone":"America/New_York"}');

-- Welcome: once, when the account can be reached (Auth confirmed the email), never before.
select is((select count(*)::int from public.notifications where user_id = tests.get_supabase_uid('nia') and type = 'welcome'), 1,
          'a sign-up with a confirmed email is welcomed');
select is((select count(*)::int from private.alert_deliveries where user_id = tests.get_supabase_uid('nia') and type = 'welcome' and channel = 'email'), 1,
          'by email too');
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-00000000e1c0', 'authenticated', 'authenticated',
        'victim@example.test', '', '{"provider":"email","providers":["email"]}', '{"username":"unconfirmed_u"}', now(), now());
select is((select count(*)::int from public.notifications where user_id = '00000000-0000-4000-8000-00000000e1c0'), 0,
          'an unconfirmed sign-up is not (anyone can type someone else''s email)');
update auth.users set email_confirmed_at = now() where id = '00000000-0000-4000-8000-00000000e1c0';
update auth.users set email_confirmed_at = now() + interval '1 minute' where id = '00000000-0000-4000-8000-00000000e1c0';
select is((select count(*)::int from public.notifications where user_id = '00000000-0000-4000-8000-00000000e1c0' and type = 'welcome'), 1,
          'following the confirmation link brings the welcome, once');
-- The inbox stories below start from empty inboxes.
delete from public.notifications where type = 'welcome';

-- The preference grid
select tests.authenticate_as('nia');
select is((select count(*)::int from public.my_notification_preferences()),
          pg_temp.type_count() * 5, 'Nia sees every notification type × five channels');
select is((select enabled::text || is_default::text from public.my_notification_preferences()
            where type = 'message_received' and channel = 'push'), 'truetrue', 'chat messages come as pushes by default');
select is((select enabled from public.set_notification_preference('message_received', 'push', false)), false,
          'and push is a channel she can turn off like any other');
select tests.as_superuser();
delete from public.notification_preferences;
select tests.authenticate_as('nia');
select is((select enabled::text || locked::text || is_default::text from public.my_notification_preferences()
            where type = 'payout_paid' and channel = 'email'), 'truetruetrue', 'payout emails are on and locked');
select is((select enabled::text || is_default::text from public.my_notification_preferences()
            where type = 'new_follower' and channel = 'email'), 'falsetrue', 'new-follower emails are off by default');

select is((select enabled from public.set_notification_preference('new_follower', 'email', true)), true,
          'Nia turns on emails about new followers');
select is((select enabled::text || is_default::text from public.my_notification_preferences()
            where type = 'new_follower' and channel = 'email'), 'truefalse', 'and the grid shows her choice');
select is((select enabled from public.set_notification_preference('new_follower', 'email', false)), false, 'and can turn them off again');
select is((select count(*)::int from public.notification_preferences), 1, 'one row holds that cell');

select tests.raises_hint($$select public.set_notification_preference('refund_issued', 'email', false)$$, 'critical_notification',
          'refund emails cannot be muted');
select tests.raises_hint($$select public.set_notification_preference('event_cancelled', 'email', false)$$, 'critical_notification',
          'cancellation emails cannot be muted');
select tests.raises_hint($$select public.set_notification_preference('booking_confirmed', 'pigeon', false)$$, 'invalid_channel',
          'an unknown channel is bad input');
select tests.raises_hint($$select public.set_notification_preference('no_such_type', 'email', false)$$, 'unknown_notification_type',
          'an unknown notification type is bad input');
select is((select count(*)::int from public.notification_preferences), 1, 'and none of those wrote anything');
select ok((select enabled from public.set_notification_preference('refund_issued', 'sms', false)) = false,
          'critical types can still be muted on other channels');

select tests.authenticate_as_service_role();
select tests.raises_hint($$insert into public.notification_preferences (user_id, type, channel, enabled)
                            values (tests.get_supabase_uid('nia'), 'payment_failed', 'email', false)$$,
          'critical_notification', 'not even the service role can mute a critical email');

-- Critical by name, for types other capabilities add before registering them.
select tests.as_superuser();
select ok(private.is_critical_type_name('payout_reversed') and private.is_critical_type_name('refund.created')
          and private.is_critical_type_name('subscription_cancelled') and not private.is_critical_type_name('message_received'),
          'unregistered payment, refund, payout and cancellation types count as critical');

-- Contact points
select tests.authenticate_as('nia');
select is((select phone_e164 from public.set_phone_number('+447700900123')), '+447700900123', 'Nia saves her phone number in E.164');
select tests.raises_hint($$select public.set_phone_number('07700 900123')$$, 'invalid_phone', 'a national-format number is refused here');
select tests.raises_hint($$select public.set_phone_number('+0123456789')$$, 'invalid_phone', 'a number with no country code is refused');
select is((select phone_e164 from public.notification_settings), '+447700900123', 'and the saved number is untouched');
select is((select phone_verified_at from public.notification_settings), null, 'a number nobody confirmed is unverified');
select tests.raises_hint($$select public.set_whatsapp_opt_in(true)$$, 'phone_not_verified', 'WhatsApp needs the number confirmed first');
-- The contact-points function texts a code (private.issue_phone_verification); Nia types it in.
select tests.as_superuser();
create temp table nia_code as select code from private.issue_phone_verification(tests.get_supabase_uid('nia'));
grant select on nia_code to public;
select tests.authenticate_as('nia');
select is((select verified from public.verify_phone_number((select code from nia_code))), true, 'Nia confirms her number with the texted code');
select isnt((select whatsapp_opt_in_at from public.set_whatsapp_opt_in(true)), null, 'Nia opts in to WhatsApp, recorded with the time');
select is((select whatsapp_fallback from public.notification_settings), 'sms', 'a WhatsApp alert that cannot go out goes by SMS, unless she says otherwise');
select is((select whatsapp_fallback from public.set_whatsapp_opt_in(true, 'none')), 'none', 'she can choose to skip those instead');
select is(tests.hint_of($$select public.set_whatsapp_opt_in(true, 'carrier pigeon')$$), 'invalid_fallback', 'a fallback is sms or none');
select results_eq($$select whatsapp_opt_in_at is null, phone_verified_at is null from public.set_phone_number('+447700900456')$$,
                  $$values (true, true)$$, 'a new phone number is unverified again and withdraws the WhatsApp opt-in');
select is((select whatsapp_opt_in_at from public.set_whatsapp_opt_in(false)), null, 'opting out clears it too');
select is((select phone_e164 from public.set_phone_number(null)), null, 'Nia can remove her phone');
select tests.raises_hint($$select public.set_whatsapp_opt_in(true)$$, 'phone_required', 'WhatsApp needs a phone number first');
select tests.raises_hint($$select public.set_whatsapp_opt_in(null)$$, 'invalid_argument', 'opting in needs a yes or no');

-- Quiet hours
select is((select quiet_hours_start::text || '-' || quiet_hours_end::text from public.set_quiet_hours('22:00', '07:00')), '22:00:00-07:00:00',
          'Nia sets quiet hours from 22:00 to 07:00');
select tests.raises_hint($$select public.set_quiet_hours('22:00', null)$$, 'invalid_quiet_hours', 'a start without an end is bad input');
select tests.raises_hint($$select public.set_quiet_hours('09:00', '09:00')$$, 'invalid_quiet_hours', 'an empty quiet period is bad input');
select is((select quiet_hours_start::text from public.notification_settings), '22:00:00', 'and the quiet hours stay as they were');
select tests.as_superuser();
select is(private.quiet_hours_release('Europe/London', '22:00', '07:00', '2027-01-10 23:30+00'), '2027-01-11 07:00+00'::timestamptz,
          'at 23:30 in London the quiet hours end at 07:00 the next morning');
select is(private.quiet_hours_release('Europe/London', '22:00', '07:00', '2027-01-11 06:59+00'), '2027-01-11 07:00+00'::timestamptz,
          'at 06:59 they end a minute later');
select is(private.quiet_hours_release('Europe/London', '22:00', '07:00', '2027-01-11 07:00+00'), null, 'at 07:00 they are over');
select is(private.quiet_hours_release('Europe/London', '22:00', '07:00', '2027-07-11 21:30+00'), '2027-07-12 06:00+00'::timestamptz,
          'in British summer time 22:30 local is quiet until 07:00 local, 06:00 UTC');
select is(private.quiet_hours_release('America/New_York', '01:00', '06:00', '2027-03-14 06:30+00'), '2027-03-14 10:00+00'::timestamptz,
          'across the spring-forward night in New York quiet hours end at 06:00 EDT');
select is(private.quiet_hours_release('Europe/London', '13:00', '14:00', '2027-01-11 12:59+00'), null, 'a daytime quiet hour is not quiet before it starts');

-- In-app inbox
select private.notify(tests.get_supabase_uid('nia'), 'booking_confirmed', 'One', null, '{}');
select private.notify(tests.get_supabase_uid('nia'), 'booking_confirmed', 'Two', null, '{}');
select private.notify(tests.get_supabase_uid('nia'), 'review_received', 'Three', null, '{}');
select private.notify(tests.get_supabase_uid('oli'), 'booking_confirmed', 'Oli''s', null, '{}');
select tests.authenticate_as('nia');
select is(public.unread_notification_count(), 3, 'Nia has three unread notifications');
create temp table inbox as select * from public.my_notifications(null, 2);
grant all on inbox to public;
select is((select count(*)::int from inbox), 2, 'the first page holds two');
select is((select count(*)::int from public.my_notifications((select cursor from inbox order by created_at, id limit 1), 2)), 1,
          'the second page holds the last one');
select is(public.mark_notifications_read((select array_agg(id) from inbox) || pg_temp.notification_id('Oli''s')), 2,
          'marking two of hers and one of Oli''s read changes only her two');
select is(public.unread_notification_count(), 1, 'one stays unread');
select is((select payload ->> 'unread_count' from realtime.messages where topic = 'user:' || tests.get_supabase_uid('nia') and event = 'notifications_read'),
          '1', 'her other devices hear the new unread count on user:<id>');
select is((select count(*)::int from public.my_notifications(null, 20, true)), 1, 'the unread filter shows just that one');
select is(public.mark_notifications_read(), 1, 'mark all read catches the rest');
select is(public.mark_notifications_read(), 0, 'and a second time finds nothing');
select tests.raises_hint($$select public.mark_notifications_read(array[null]::uuid[])$$, 'invalid_ids', 'a null id is bad input');
select tests.authenticate_as('oli');
select is(public.unread_notification_count(), 1, 'Oli''s notification is still unread');

-- In-app muting: stored already read, not broadcast.
select tests.authenticate_as('oli');
select public.set_notification_preference('review_received', 'in_app', false);
select tests.as_superuser();
select private.notify(tests.get_supabase_uid('oli'), 'review_received', 'Muted review', null, '{}');
select isnt((select read_at from public.notifications where title = 'Muted review'), null,
            'a type Oli muted in-app is kept in his history already read');
select is((select count(*)::int from realtime.messages where topic = 'user:' || tests.get_supabase_uid('oli') and payload ->> 'title' = 'Muted review'), 0,
          'and is not pushed to his devices');
select tests.authenticate_as('oli');
select is(public.unread_notification_count(), 1, 'so his unread count does not grow');

select tests.clear_authentication();
select throws_ok($$select public.unread_notification_count()$$, '42501', 'You need to sign in to do this.',
                 'anonymous visitors have no inbox');
select throws_ok($$select public.set_phone_number('+447700900123')$$, '42501', 'You need to sign in to do this.',
                 'and no phone number to set');

select * from finish();
rollback;
