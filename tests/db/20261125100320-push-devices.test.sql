-- Push devices: apps register their FCM token at every start and forget it at sign-out; one user,
-- many devices, one user per device; a push goes to each device through the alert outbox, with
-- the badge, is dropped once read in the app or when the device is gone, and a token FCM calls
-- unregistered is deleted with the outcome.
-- Also tells: 20261125140200_alert_outbox
begin;
select plan(29);

create function pg_temp.hint_of(p_sql text) returns text language plpgsql as $$
declare v_hint text;
begin
  execute p_sql;
  return null;
exception when others then
  get stacked diagnostics v_hint = pg_exception_hint;
  return v_hint;
end $$;
create function pg_temp.uid(p_name text) returns uuid language sql as $$ select tests.get_supabase_uid(p_name) $$;
create function pg_temp.devices(p_name text) returns integer language sql security definer as $$
  select count(*)::int from public.push_devices where user_id = tests.get_supabase_uid(p_name)
$$;
create function pg_temp.push_rows(p_title text) returns setof private.alert_deliveries language sql security definer as $$
  select d.* from private.alert_deliveries d join public.notifications n on n.id = d.notification_id
   where n.title = p_title and d.channel = 'push' order by d.created_at, d.id
$$;

-- Earlier rows (welcome emails) are not part of this story.
update private.alert_deliveries set status = 'skipped' where status in ('pending', 'sending');
select tests.create_supabase_user('ada', 'ada@example.test', '{"username":"ada_a","timezone":"Europe/London"}');
select tests.create_supabase_user('bo', 'bo@example.test', '{"username":"bo_b"}');
update private.alert_deliveries set status = 'skipped' where status in ('pending', 'sending');

-- Registering
select tests.authenticate_as('ada');
select is((select platform from public.register_push_device('ada-phone-0001:APA91bAdaPhone', 'ios')), 'ios',
          'Ada registers her phone');
select is((select id from public.register_push_device('ada-phone-0001:APA91bAdaPhone', 'ios')),
          (select id from public.push_devices where token = 'ada-phone-0001:APA91bAdaPhone'),
          'the app registering the same token at its next start changes nothing but the time');
select public.register_push_device('ada-tablet-0002:APA91bAdaTablet', 'android');
select is(pg_temp.devices('ada'), 2, 'and her tablet: one user, many devices');
select is(pg_temp.hint_of($$select public.register_push_device('short', 'ios')$$), 'invalid_token', 'a token is not a few characters');
select is(pg_temp.hint_of($$select public.register_push_device('has spaces in it 0003', 'ios')$$), 'invalid_token', 'nor has spaces');
select is(pg_temp.hint_of($$select public.register_push_device('ada-watch-0003:APA91bWatch', 'pager')$$), 'invalid_platform',
          'a platform is android, ios or web');
select is(pg_temp.devices('ada'), 2, 'and none of those wrote anything');
select tests.clear_authentication();
select throws_ok($$select public.register_push_device('anon-0004:APA91bAnonymous', 'ios')$$, '42501', null,
                 'an anonymous caller registers nothing');

-- The same install, another account: the token moves.
select tests.authenticate_as('bo');
select public.register_push_device('ada-tablet-0002:APA91bAdaTablet', 'android');
select is(pg_temp.devices('ada') || '/' || pg_temp.devices('bo'), '1/1',
          'Bo signing in on Ada''s tablet takes the tablet: Ada no longer gets pushes there');
select is(public.unregister_push_device('ada-phone-0001:APA91bAdaPhone'), false, 'Bo cannot unregister Ada''s phone');
select is((select count(*)::int from public.push_devices), 1, 'and sees only his own device');

-- At most ten devices each: the one registered longest ago goes.
select tests.as_superuser();
update public.push_devices set registered_at = now() - interval '1 day' where user_id = pg_temp.uid('bo');
select tests.authenticate_as('bo');
select public.register_push_device(format('bo-device-%s:APA91bBo%s', g, g), 'android') from generate_series(1, 10) g;
select is(pg_temp.devices('bo'), 10, 'Bo registering ten more devices keeps ten');
select is((select count(*)::int from public.push_devices where token = 'ada-tablet-0002:APA91bAdaTablet'), 0,
          'the tablet, registered longest ago, is the one dropped');
select is(pg_temp.hint_of($$select public.register_push_device(format('bo-loop-%s:APA91bLoop%s', g, g), 'ios') from generate_series(1, 15) g$$),
          'rate_limited', 'an app registering in a loop is stopped (20 an hour)');

-- Pushes: one delivery per device of the types that push by default.
select tests.authenticate_as('ada');
select public.register_push_device('ada-laptop-0005:APA91bAdaLaptop', 'web');
select tests.as_superuser();
select private.notify(pg_temp.uid('ada'), 'message_received', 'Bo', 'See you at 8', jsonb_build_object('conversation_id', gen_random_uuid()));
select private.notify(pg_temp.uid('ada'), 'review_received', 'A review', null, '{}');
select is((select count(*)::int from pg_temp.push_rows('Bo')), 2, 'a chat message becomes one push per device (phone and laptop)');
select is((select count(*)::int from pg_temp.push_rows('A review')), 0, 'review notices do not push by default');
select ok(private.alert_channel_allowed(pg_temp.uid('ada'), 'message_received', 'push'), 'Ada may be pushed chat messages');
select ok(not private.alert_channel_allowed(pg_temp.uid('ada'), 'review_received', 'push'), 'but not reviews');

select tests.authenticate_as_service_role();
create temp table claimed as select * from private.claim_alert_deliveries(100, 60);
grant all on claimed to public;
select is((select array_agg(device_platform || ':' || destination order by device_platform) from claimed where channel = 'push'),
          array['ios:ada-phone-0001:APA91bAdaPhone', 'web:ada-laptop-0005:APA91bAdaLaptop'],
          'the dispatcher gets each device''s token and platform');
select is((select distinct badge from claimed where channel = 'push'), 3,
          'and the badge: her three unread notifications (the welcome, Bo''s message, the review)');

-- FCM says the phone's token is gone: it is deleted with the outcome.
select is(private.complete_alert_deliveries((select jsonb_agg(jsonb_build_object('id', id, 'claim_token', claim_token,
            'outcome', case when device_platform = 'ios' then 'dead' else 'sent' end, 'provider', 'fcm',
            'error', 'HTTP 404: UNREGISTERED', 'forget_device', device_platform = 'ios'))
          from claimed where channel = 'push')), 2, 'both outcomes are recorded');
select tests.as_superuser();
select is((select count(*)::int from public.push_devices where token = 'ada-phone-0001:APA91bAdaPhone'), 0,
          'the unregistered phone is forgotten at once');
select is((select count(*)::int from public.push_devices where token = 'ada-laptop-0005:APA91bAdaLaptop'), 1, 'the laptop stays');

-- Queued pushes for a device that is gone, or a notification read meanwhile, are dropped.
select tests.authenticate_as('ada');
select public.register_push_device('ada-phone-0006:APA91bAdaNewPhone', 'ios');
select tests.as_superuser();
select private.notify(pg_temp.uid('ada'), 'message_received', 'Cy', 'Hello', jsonb_build_object('conversation_id', gen_random_uuid()));
select private.notify(pg_temp.uid('ada'), 'message_received', 'Di', 'Hi', jsonb_build_object('conversation_id', gen_random_uuid()));
delete from public.push_devices where token = 'ada-phone-0006:APA91bAdaNewPhone';
update public.notifications set read_at = now() + interval '1 second' where title = 'Di';
select tests.authenticate_as_service_role();
create temp table claimed2 as select * from private.claim_alert_deliveries(100, 60);
select tests.as_superuser();
select is((select array_agg(status || ':' || coalesce(last_error, '') order by status) from pg_temp.push_rows('Cy')),
          array['sending:', 'skipped:the device is no longer registered'],
          'the laptop gets Cy''s message; the removed phone''s push is dropped');
select is((select status || ':' || coalesce(last_error, '') from pg_temp.push_rows('Di')
            where device_id = (select id from public.push_devices where token = 'ada-laptop-0005:APA91bAdaLaptop')),
          'skipped:already read in the app', 'a message read in the app before its push went is not pushed');

-- Muting the type, or quiet hours.
select tests.authenticate_as('ada');
select public.set_notification_preference('message_received', 'push', false);
select tests.as_superuser();
select private.notify(pg_temp.uid('ada'), 'message_received', 'Ed', 'Yo', '{}');
select is((select count(*)::int from pg_temp.push_rows('Ed')), 0, 'a muted type does not push');
select tests.authenticate_as('ada');
select public.set_notification_preference('message_received', 'push', true);
select public.set_quiet_hours(((now() at time zone 'Europe/London') - interval '1 hour')::time,
                              ((now() at time zone 'Europe/London') + interval '1 hour')::time);
select tests.as_superuser();
select private.notify(pg_temp.uid('ada'), 'message_received', 'Fay', 'Late', '{}');
select ok((select bool_and(next_attempt_at > now() + interval '50 minutes') from pg_temp.push_rows('Fay')),
          'in quiet hours a push waits for them to end');
select tests.authenticate_as('ada');
select is(public.unregister_push_device('ada-laptop-0005:APA91bAdaLaptop'), true, 'signing out of the laptop forgets it');
select is(public.unregister_push_device('ada-laptop-0005:APA91bAdaLaptop'), false, 'and a second time finds nothing');

select * from finish();
rollback;
