-- WhatsApp by WhatsApp's rules: a user's own message opens a 24-hour window for free-form text;
-- outside it an alert goes as the approved template for its type and language, or falls back to
-- SMS (or is skipped, as the user chose), and the delivery says which; STOP opts out; the user
-- sees all of it in my_alert_deliveries.
-- Also tells: 20261125140200_alert_outbox
begin;
select plan(30);

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
create function pg_temp.delivery(p_title text, p_channel text) returns private.alert_deliveries language sql security definer as $$
  select d.* from private.alert_deliveries d join public.notifications n on n.id = d.notification_id
   where n.title = p_title and d.channel = p_channel
$$;
create function pg_temp.confirm_phone(p_name text, p_phone text) returns void language plpgsql as $$
declare v_code text;
begin
  perform tests.authenticate_as(p_name);
  perform public.set_phone_number(p_phone);
  perform tests.as_superuser();
  select code into v_code from private.issue_phone_verification(tests.get_supabase_uid(p_name));
  perform tests.authenticate_as(p_name);
  perform public.verify_phone_number(v_code);
  perform public.set_whatsapp_opt_in(true);
  -- Cancellations by WhatsApp, not by SMS (so an SMS row is only ever a fallback here).
  perform public.set_notification_preference('event_cancelled', 'whatsapp', true);
  perform public.set_notification_preference('event_cancelled', 'sms', false);
  perform public.set_notification_preference('booking_approved', 'whatsapp', true);
  perform tests.as_superuser();
end $$;

update private.alert_deliveries set status = 'skipped' where status in ('pending', 'sending');
select tests.create_supabase_user('wes', 'wes@example.test', '{"username":"wes_w","locale":"pt-BR"}');
select tests.create_supabase_user('uma', 'uma@example.test', '{"username":"uma_u","locale":"es"}');
select tests.create_supabase_user('val', 'val@example.test', '{"username":"val_v"}');
select pg_temp.confirm_phone('wes', '+5511912345678');
select pg_temp.confirm_phone('uma', '+34612345678');
select pg_temp.confirm_phone('val', '+447700900777');
select tests.authenticate_as('val');
select public.set_whatsapp_opt_in(true, 'none');
select tests.as_superuser();
update private.alert_deliveries set status = 'skipped' where status in ('pending', 'sending');

-- The registry of approved templates, filled by operators.
select is(pg_temp.hint_of($$select admin.set_whatsapp_template('no_such_type', 'en', 'HX0123456789abcdef0123456789abcdef', '{}')$$),
          'unknown_notification_type', 'a template belongs to a catalogued type');
select throws_ok($$select admin.set_whatsapp_template('event_cancelled', 'en', 'SM0123456789abcdef0123456789abcdef', '{}')$$, '23514', null,
                 'a Content SID starts with HX');
select throws_ok($$select admin.set_whatsapp_template('event_cancelled', 'en', 'HX0123456789abcdef0123456789abcdef', array['password'])$$, '23514', null,
                 'variables come from the vocabulary the dispatcher fills');
select is((select locale from admin.set_whatsapp_template('event_cancelled', 'pt', 'HX0123456789abcdef0123456789abcd01',
                                                         array['event_title', 'event_time', 'link'])), 'pt',
          'the Portuguese template for cancellations is registered');
select admin.set_whatsapp_template('event_cancelled', 'en', 'HX0123456789abcdef0123456789abcd02', array['name', 'event_title']);
select is((private.whatsapp_template_for('event_cancelled', 'pt-BR')).content_sid, 'HX0123456789abcdef0123456789abcd01',
          'a pt-BR reader gets the Portuguese one');
select is((private.whatsapp_template_for('event_cancelled', 'es')).content_sid, 'HX0123456789abcdef0123456789abcd02',
          'a Spanish reader, with no Spanish one, gets the English one');
select is((private.whatsapp_template_for('booking_approved', 'en')).content_sid, null, 'approvals have none');
select is((select count(*)::int from admin.whatsapp_templates where content_sid is null and type = 'booking_approved'), 3,
          'operators see which types still lack templates, per language');

-- Inbound messages open the window.
select is(pg_temp.hint_of($$select private.record_inbound_message('nope', 'whatsapp', '+447700900777', 'whatsapp:+14155238886', 'hi')$$),
          'invalid_message_sid', 'a MessageSid is Twilio''s');
select is(private.record_inbound_message('SM00000000000000000000000000000001', 'whatsapp', '+34612345678', 'whatsapp:+14155238886', 'Hola'),
          'recorded', 'Uma writes to Rally on WhatsApp');
select is(private.record_inbound_message('SM00000000000000000000000000000001', 'whatsapp', '+34612345678', 'whatsapp:+14155238886', 'Hola'),
          'duplicate', 'Twilio retrying the webhook changes nothing');
select ok(private.whatsapp_window_open('+34612345678'), 'her window is open');
select ok(not private.whatsapp_window_open('+34612345678', now() + interval '25 hours'), 'for 24 hours');
select ok(not private.whatsapp_window_open('+5511912345678'), 'Wes never wrote: his is closed');

-- The claim decides per alert.
select private.notify(pg_temp.uid('wes'), 'event_cancelled', 'Wes: cancelled', null, '{}');
select private.notify(pg_temp.uid('uma'), 'booking_approved', 'Uma: approved', null, '{}');
select private.notify(pg_temp.uid('wes'), 'booking_approved', 'Wes: approved', null, '{}');
select private.notify(pg_temp.uid('val'), 'booking_approved', 'Val: approved', null, '{}');
select tests.authenticate_as_service_role();
create temp table claimed as select * from private.claim_alert_deliveries(100, 60) where channel in ('whatsapp', 'sms');
grant all on claimed to public;
select results_eq($$select title, whatsapp_content_sid, whatsapp_variables from claimed where channel = 'whatsapp' order by title$$,
                  $$values ('Uma: approved'::text, null::text, null::text[]),
                           ('Wes: cancelled', 'HX0123456789abcdef0123456789abcd01', array['event_title', 'event_time', 'link'])$$,
                  'inside her window Uma''s approval goes as free text; outside his, Wes''s cancellation goes as the Portuguese template');
select tests.as_superuser();
select is((select status || ' — ' || last_error from pg_temp.delivery('Wes: approved', 'whatsapp')),
          'skipped — no approved WhatsApp template for booking_approved (pt) outside the 24-hour window: sent by SMS instead',
          'Wes''s approval has no template: skipped, and the delivery says why');
select is((select fallback_of from pg_temp.delivery('Wes: approved', 'sms')), (select id from pg_temp.delivery('Wes: approved', 'whatsapp')),
          'an SMS goes instead, pointing at the WhatsApp alert it replaces');
select is((select status || ' — ' || last_error from pg_temp.delivery('Val: approved', 'whatsapp')),
          'skipped — no approved WhatsApp template for booking_approved (en) outside the 24-hour window: skipped (the user chose no SMS fallback)',
          'Val chose no fallback: hers is skipped');
select is((pg_temp.delivery('Val: approved', 'sms')).id, null, 'and no SMS is sent');
select tests.authenticate_as_service_role();
select is((select count(*)::int from private.claim_alert_deliveries(100, 60) c where c.title = 'Wes: approved' and c.channel = 'sms'), 1,
          'the fallback SMS is claimed like any other, though Wes never asked for approvals by SMS');
select tests.as_superuser();

-- WhatsApp refusing a message after all (error 63016): the same fallback.
update private.alert_deliveries d set provider = 'twilio', provider_message_id = 'SM00000000000000000000000000000099', status = 'sent'
 where d.id = (pg_temp.delivery('Wes: cancelled', 'whatsapp')).id;
select is(private.apply_provider_status('twilio', 'SM00000000000000000000000000000099:undelivered', (pg_temp.delivery('Wes: cancelled', 'whatsapp')).id,
            'SM00000000000000000000000000000099', 'failed', 'undelivered', 'Twilio error 63016', null,
            '{"ErrorCode": "63016"}'), 'applied', 'Twilio reports 63016 for Wes''s cancellation');
select is((select status || ' — ' || last_error from pg_temp.delivery('Wes: cancelled', 'whatsapp')),
          'failed — Twilio error 63016 — outside WhatsApp''s 24-hour window: sent by SMS instead', 'the delivery says what happened');
select is((select fallback_of from pg_temp.delivery('Wes: cancelled', 'sms')), (select id from pg_temp.delivery('Wes: cancelled', 'whatsapp')),
          'and the cancellation goes by SMS');

-- STOP
select is(private.record_inbound_message('SM00000000000000000000000000000002', 'whatsapp', '+34612345678', 'whatsapp:+14155238886', ' stop '),
          'opted_out', 'Uma replies STOP');
select is((select whatsapp_opt_in_at from public.notification_settings where user_id = pg_temp.uid('uma')), null,
          'and is no longer sent WhatsApp messages');
select ok(not private.alert_channel_allowed(pg_temp.uid('uma'), 'event_cancelled', 'whatsapp'), 'not even cancellations');

-- What each user sees of their own alerts.
select tests.authenticate_as('wes');
select results_eq($$select channel, destination, status from public.my_alert_deliveries()
                     where title = 'Wes: approved' and channel <> 'email' order by channel$$,
                  $$values ('sms'::text, '+55•••678'::text, 'sending'::text), ('whatsapp', null, 'skipped')$$,
                  'Wes sees his approval went by SMS instead of WhatsApp, to a masked number');
select is((select reason from public.my_alert_deliveries() where title = 'Wes: approved' and channel = 'whatsapp'),
          'no approved WhatsApp template for booking_approved (pt) outside the 24-hour window: sent by SMS instead', 'and why');
select is((select count(*)::int from public.my_alert_deliveries() where title like 'Uma%' or title like 'Val%'), 0,
          'nobody else''s');
select is((select destination from public.my_alert_deliveries() where channel = 'email' and destination is not null limit 1), 'w•••@example.test',
          'emails are masked too');

select * from finish();
rollback;
