-- The alert outbox: every notification fans out, in the same transaction, to one delivery per
-- channel the recipient allows and can be reached on; the dispatcher claims due deliveries,
-- re-checking preferences, quiet hours and relevance at send time, records outcomes, retries and
-- dead-letters; provider callbacks move statuses forward once and suppress bouncing emails.
begin;
select plan(60);

-- The channels a notification (by title) fanned out to, e.g. 'email,sms'.
create function pg_temp.channels(p_title text) returns text language sql security definer as $$
  select coalesce(string_agg(d.channel, ',' order by d.channel), '')
    from private.alert_deliveries d join public.notifications n on n.id = d.notification_id where n.title = p_title
$$;
create function pg_temp.delivery(p_title text, p_channel text) returns private.alert_deliveries language sql security definer as $$
  select d.* from private.alert_deliveries d join public.notifications n on n.id = d.notification_id
   where n.title = p_title and d.channel = p_channel
$$;

-- Earlier rows (the seed's welcome emails) are not part of this story.
update private.alert_deliveries set status = 'skipped' where status in ('pending', 'sending');

select tests.create_supabase_user('pam', 'pam@example.test', '{"username":"pam_p","timezone":"Europe/Paris"}');
select tests.create_supabase_user('quin', 'quin@example.test', '{"username":"quin_q","timezone":"Asia/Tokyo"}');
select tests.create_supabase_user('ray', 'ray@example.test', '{"username":"ray_r"}');
update auth.users set email = null where id = tests.get_supabase_uid('ray');
-- Their welcome emails (20261125100310-notification-preferences) are not part of this story either.
update private.alert_deliveries set status = 'skipped' where status in ('pending', 'sending');

-- Quin gives a phone, confirms it with the texted code, opts in to WhatsApp, wants approvals by
-- SMS and WhatsApp too, and is in quiet hours right now (an hour either side of the current time
-- in Tokyo).
select tests.authenticate_as('quin');
select public.set_phone_number('+819012345678');
select tests.as_superuser();
create temp table quin_code as select code from private.issue_phone_verification(tests.get_supabase_uid('quin'));
grant select on quin_code to public;
select tests.authenticate_as('quin');
select public.verify_phone_number((select code from quin_code));
select public.set_whatsapp_opt_in(true);
select public.set_notification_preference('booking_approved', 'sms', true);
select public.set_notification_preference('booking_approved', 'whatsapp', true);
select public.set_quiet_hours(((now() at time zone 'Asia/Tokyo') - interval '1 hour')::time,
                              ((now() at time zone 'Asia/Tokyo') + interval '1 hour')::time);
select tests.as_superuser();

-- Fan-out
select private.notify(tests.get_supabase_uid('pam'), 'booking_confirmed', 'Pam is going', null, '{}');
select is(pg_temp.channels('Pam is going'), 'email', 'a booking confirmation fans out to email only by default');
select is((pg_temp.delivery('Pam is going', 'email')).status, 'pending', 'waiting to be sent');
select is((pg_temp.delivery('Pam is going', 'email')).next_attempt_at, now(), 'and due at once');
select private.notify(tests.get_supabase_uid('pam'), 'review_received', 'Pam got a review', null, '{}');
select is(pg_temp.channels('Pam got a review'), '', 'a type that is in-app only by default sends nothing out');
select tests.authenticate_as('pam');
select public.set_notification_preference('review_received', 'email', true);
select tests.as_superuser();
select private.notify(tests.get_supabase_uid('pam'), 'review_received', 'Pam got another review', null, '{}');
select is(pg_temp.channels('Pam got another review'), 'email', 'once Pam turns review emails on, they go out');
select private.notify(tests.get_supabase_uid('pam'), 'waitlist_offer', 'Pam got an offer', null, '{}');
select is(pg_temp.channels('Pam got an offer'), 'email', 'SMS is on for waitlist offers but Pam has no phone, so email only');

select private.notify(tests.get_supabase_uid('pam'), 'booking_approved', 'Pam was approved', null, '{}');
select private.notify(tests.get_supabase_uid('quin'), 'booking_approved', 'Quin got an offer', null, '{}');
select is(pg_temp.channels('Quin got an offer'), 'email,sms,whatsapp', 'Quin hears of her approval by email, SMS and WhatsApp');
select is((pg_temp.delivery('Quin got an offer', 'email')).next_attempt_at, now(), 'the email goes at once, quiet hours or not');
select is((pg_temp.delivery('Quin got an offer', 'sms')).next_attempt_at,
          private.quiet_hours_release('Asia/Tokyo', ((now() at time zone 'Asia/Tokyo') - interval '1 hour')::time,
                                      ((now() at time zone 'Asia/Tokyo') + interval '1 hour')::time, now()),
          'the SMS waits for the end of Quin''s quiet hours');
select ok((pg_temp.delivery('Quin got an offer', 'whatsapp')).next_attempt_at > now(), 'and so does the WhatsApp message');

select private.notify(tests.get_supabase_uid('ray'), 'payment_failed', 'Ray''s payment failed', null, '{}');
select is(pg_temp.channels('Ray''s payment failed'), 'email',
          'a user without an email address still gets an email delivery queued (the address is checked at send time)');
select private.notify(tests.get_supabase_uid('pam'), 'payout_reversed', 'A reversed payout', null, '{}');
select is(pg_temp.channels('A reversed payout'), 'email', 'an unregistered payout type is critical by name and emails');
select private.notify(tests.get_supabase_uid('pam'), 'poll_closed', 'A poll closed', null, '{}');
select is(pg_temp.channels('A poll closed'), '', 'an unregistered ordinary type stays in-app');

-- Exactly once per dedupe key
select private.notify(tests.get_supabase_uid('pam'), 'event_reminder', 'Reminder A', null, '{"dedupe_key":"reminder:x:24h"}');
select private.notify(tests.get_supabase_uid('pam'), 'event_reminder', 'Reminder B', null, '{"dedupe_key":"reminder:x:24h"}');
select is(pg_temp.channels('Reminder A') || '|' || pg_temp.channels('Reminder B'), 'email|',
          'two notifications with the same dedupe key produce one email');
insert into public.notifications (user_id, type, title) select tests.get_supabase_uid('pam'), 'booking_confirmed', 'Bulk ' || g from generate_series(1, 3) g;
select is((select count(*)::int from private.alert_deliveries d join public.notifications n on n.id = d.notification_id where n.title like 'Bulk %'),
          3, 'a multi-row insert fans out every row in one statement');

-- The set-based fan-out and the per-row rule used at send time agree, for every user, type and channel.
select private.notify(u, t.type, 'Grid ' || t.type, null, '{}')
  from unnest(array[tests.get_supabase_uid('pam'), tests.get_supabase_uid('quin'), tests.get_supabase_uid('ray')]) u, private.notification_types t;
select is_empty($$
  select n.user_id, n.type, c.channel from public.notifications n cross join (values ('email'), ('sms'), ('whatsapp')) c(channel)
   where n.title like 'Grid %' and private.alert_channel_allowed(n.user_id, n.type, c.channel)
  except
  select d.user_id, d.type, d.channel from private.alert_deliveries d join public.notifications n on n.id = d.notification_id where n.title like 'Grid %'
$$, 'every channel the rules allow got a delivery');
select is_empty($$
  select d.user_id, d.type, d.channel from private.alert_deliveries d join public.notifications n on n.id = d.notification_id where n.title like 'Grid %'
  except
  select n.user_id, n.type, c.channel from public.notifications n cross join (values ('email'), ('sms'), ('whatsapp')) c(channel)
   where n.title like 'Grid %' and private.alert_channel_allowed(n.user_id, n.type, c.channel)
  except
  select u.id, n.type, 'email' from auth.users u join public.notifications n on n.user_id = u.id where u.email is null
$$, 'and no delivery exists that the rules do not allow (but for emails to users without an address, dropped at send time)');
-- The same agreement through the trigger's large-batch branch (more than 16 rows in one
-- statement, as the promotion fan-out inserts them): every user, type and channel at once.
insert into public.notifications (user_id, type, title)
select u, t.type, 'Batch ' || t.type
  from unnest(array[tests.get_supabase_uid('pam'), tests.get_supabase_uid('quin'), tests.get_supabase_uid('ray')]) u, private.notification_types t;
select is_empty($$
  select n.user_id, n.type, c.channel from public.notifications n cross join (values ('email'), ('sms'), ('whatsapp'), ('push')) c(channel)
   where n.title like 'Batch %' and private.alert_channel_allowed(n.user_id, n.type, c.channel)
  except
  select d.user_id, d.type, d.channel from private.alert_deliveries d join public.notifications n on n.id = d.notification_id where n.title like 'Batch %'
$$, 'a batch of more than 16 notifications in one statement gets a delivery on every channel the rules allow');
select is_empty($$
  select d.user_id, d.type, d.channel from private.alert_deliveries d join public.notifications n on n.id = d.notification_id where n.title like 'Batch %'
  except
  select n.user_id, n.type, c.channel from public.notifications n cross join (values ('email'), ('sms'), ('whatsapp'), ('push')) c(channel)
   where n.title like 'Batch %' and private.alert_channel_allowed(n.user_id, n.type, c.channel)
  except
  select u.id, n.type, 'email' from auth.users u join public.notifications n on n.user_id = u.id where u.email is null
$$, 'and on no other channel');
-- The one-channel form answers false, never null, for a channel that is not one of the four.
select is(private.alert_channel_allowed(tests.get_supabase_uid('pam'), 'booking_confirmed', 'fax'), false,
          'an unknown channel is never allowed');
select is(private.alert_channel_rule(null, null::private.notification_types, true, true, true, true, true, true), false,
          'no channel at all is not allowed (false, not null), whatever the preference and contact points');
update private.alert_deliveries d set status = 'skipped' from public.notifications n
 where n.id = d.notification_id and (n.title like 'Bulk %' or n.title like 'Batch %' or n.title in ('A reversed payout', 'Reminder A'));
-- The grid waits until the end of this story, where the claim is checked against the same rules.
update private.alert_deliveries d set next_attempt_at = now() + interval '1 day' from public.notifications n
 where n.id = d.notification_id and n.title like 'Grid %';

-- Only the service role drains the outbox.
select tests.authenticate_as('pam');
select throws_ok($$select private.claim_alert_deliveries(10)$$, '42501', null, 'a user cannot claim deliveries');
select throws_ok($$select private.complete_alert_deliveries('[]')$$, '42501', null, 'nor record outcomes');

-- Claiming
select tests.authenticate_as('pam');
select public.set_notification_preference('review_received', 'email', false);
select tests.authenticate_as_service_role();
create temp table claimed as select * from private.claim_alert_deliveries(100, 60);
grant all on claimed to public;
select is((select array_agg(title order by title) from claimed), array['Pam is going', 'Pam was approved', 'Quin got an offer'],
          'the dispatcher claims the due emails');
select is((select status || ':' || last_error from pg_temp.delivery('Pam got an offer', 'email')), 'skipped:no longer relevant',
          'a waitlist offer whose hold is gone is dropped at send time');
select is((select status || ':' || last_error from pg_temp.delivery('Ray''s payment failed', 'email')),
          'skipped:channel no longer allowed (preference or contact point changed)', 'and Ray''s email is dropped: he has no address');
select is((select destination from claimed where title = 'Pam is going'), 'pam@example.test', 'addressed to the Auth email');
select is((select attempt || '/' || max_attempts from claimed where title = 'Pam is going'), '1/8', 'as attempt 1 of 8');
select is((pg_temp.delivery('Pam is going', 'email')).status, 'sending',
          'the row is now leased to this dispatcher');
select is((pg_temp.delivery('Pam got another review', 'email')).status, 'skipped',
          'an email Pam turned off after it was queued is skipped, not sent');
select is((pg_temp.delivery('Quin got an offer', 'sms')).status, 'pending', 'Quin''s SMS is not claimed during her quiet hours');
select tests.as_superuser();
update private.alert_deliveries set next_attempt_at = now() - interval '1 minute'
 where id = (pg_temp.delivery('Quin got an offer', 'sms')).id;
select tests.authenticate_as_service_role();
select is((select count(*)::int from private.claim_alert_deliveries(100, 60)), 0, 'even when it is due, nothing is handed out in quiet hours');
select ok((pg_temp.delivery('Quin got an offer', 'sms')).next_attempt_at > now(), 'it is put back to the end of the quiet hours');
select is((pg_temp.delivery('Quin got an offer', 'sms')).attempts, 0, 'without using up an attempt');
select is((select count(*)::int from private.claim_alert_deliveries(100, 60)), 0, 'a second dispatcher finds nothing left to claim');

-- Outcomes
select is(private.complete_alert_deliveries(jsonb_build_array(
            jsonb_build_object('id', (select id from claimed where title = 'Pam is going'), 'claim_token', (select claim_token from claimed where title = 'Pam is going'),
                               'outcome', 'sent', 'provider', 'resend', 'provider_message_id', 're_123'),
            jsonb_build_object('id', (select id from claimed where title = 'Pam was approved'), 'claim_token', (select claim_token from claimed where title = 'Pam was approved'),
                               'outcome', 'retry', 'error', 'HTTP 503', 'retry_at', now() + interval '30 seconds'),
            jsonb_build_object('id', (select id from claimed where title = 'Quin got an offer'), 'claim_token', gen_random_uuid(),
                               'outcome', 'sent'))),
          2, 'the dispatcher records two outcomes; the one with a wrong claim token is ignored');
select is((select status || ':' || provider_message_id from pg_temp.delivery('Pam is going', 'email')), 'sent:re_123',
          'a sent email keeps the provider message id');
select is((select status || ':' || last_error from pg_temp.delivery('Pam was approved', 'email')), 'pending:HTTP 503',
          'a failed attempt goes back to pending with its error');
select is((pg_temp.delivery('Pam was approved', 'email')).next_attempt_at, now() + interval '30 seconds', 'to be retried after the backoff');
select is((pg_temp.delivery('Quin got an offer', 'email')).status, 'sending', 'the row with the wrong token is still leased');
select tests.raises_hint($$select private.complete_alert_deliveries('[{"id":null,"outcome":"sent"}]')$$, 'invalid_results',
          'an outcome without an id is bad input');

-- A dispatcher that died: its lease runs out and the row is claimed again.
select tests.as_superuser();
update private.alert_deliveries set lease_expires_at = now() - interval '1 second' where id = (pg_temp.delivery('Quin got an offer', 'email')).id;
select tests.authenticate_as_service_role();
select is((select attempt from private.claim_alert_deliveries(100, 60) where title = 'Quin got an offer'), 2,
          'an expired lease is claimed again as attempt 2');

-- Dead letters
select tests.as_superuser();
update private.alert_deliveries set next_attempt_at = now(), max_attempts = 2, attempts = 1
 where id = (pg_temp.delivery('Pam was approved', 'email')).id;
select tests.authenticate_as_service_role();
create temp table last_try as select * from private.claim_alert_deliveries(100, 60);
grant all on last_try to public;
select private.complete_alert_deliveries(jsonb_build_array(jsonb_build_object(
  'id', (select id from last_try where title = 'Pam was approved'), 'claim_token', (select claim_token from last_try where title = 'Pam was approved'),
  'outcome', 'retry', 'error', 'HTTP 500')));
select is((pg_temp.delivery('Pam was approved', 'email')).status, 'dead', 'a retry after the last attempt is a dead letter');
select tests.as_superuser();
select is((select count(*)::int from admin.alert_dead_letters where id = (pg_temp.delivery('Pam was approved', 'email')).id), 1,
          'operators see it among the dead letters');
select is((admin.retry_alert_delivery((pg_temp.delivery('Pam was approved', 'email')).id)).status, 'pending', 'and can queue it again');

-- Relevance at send time
select private.notify(tests.get_supabase_uid('pam'), 'event_reminder', 'Reminder of a gone booking', null,
                      jsonb_build_object('booking_id', gen_random_uuid(), 'dedupe_key', 'gone'));
select tests.authenticate_as_service_role();
select private.claim_alert_deliveries(100, 60);
select is((select status || ':' || last_error from pg_temp.delivery('Reminder of a gone booking', 'email')), 'skipped:no longer relevant',
          'a reminder whose booking is gone is dropped at send time');

-- Provider callbacks
select is(private.apply_provider_status('resend', 'msg_1', null, 're_123', 'delivered', 'email.delivered', null, null, '{}'), 'applied',
          'a delivered callback for Pam''s email is applied');
select is((pg_temp.delivery('Pam is going', 'email')).status, 'delivered', 'her email is delivered');
select is(private.apply_provider_status('resend', 'msg_1', null, 're_123', 'delivered', 'email.delivered', null, null, '{}'), 'duplicate',
          'the same callback replayed is recognised');
select is(private.apply_provider_status('resend', 'msg_0', null, 're_123', 'sent', 'email.sent', null, null, '{}'), 'recorded',
          'a late "sent" callback is stored but does not move the status back');
select is((pg_temp.delivery('Pam is going', 'email')).status, 'delivered', 'so it stays delivered');
select is(private.apply_provider_status('twilio', 'SMx:delivered', null, 'SMx', 'delivered', 'delivered', null, null, '{}'), 'unmatched',
          'a callback for an unknown message is stored as unmatched');
select is(private.apply_provider_status('resend', 'msg_2', (pg_temp.delivery('Quin got an offer', 'email')).id, 're_q', 'failed',
                                        'email.bounced', 'mailbox does not exist', 'bounced', '{}'), 'applied',
          'a bounce found by delivery id (sent before the outcome was even recorded) is applied');
select is((select status || ':' || provider_message_id from pg_temp.delivery('Quin got an offer', 'email')), 'failed:re_q',
          'Quin''s email failed, with the provider id learnt from the callback');
select is((select email_suppressed_reason from public.notification_settings where user_id = tests.get_supabase_uid('quin')), 'bounced',
          'and her address is suppressed');
select tests.as_superuser();
select private.notify(tests.get_supabase_uid('quin'), 'booking_confirmed', 'After the bounce', null, '{}');
select is(pg_temp.channels('After the bounce'), '', 'no more emails go to a bouncing address');
update auth.users set email = 'quin.new@example.test' where id = tests.get_supabase_uid('quin');
select private.notify(tests.get_supabase_uid('quin'), 'booking_confirmed', 'After a new address', null, '{}');
select is(pg_temp.channels('After a new address'), 'email', 'until Quin changes her email in Auth');

-- The sink provider is idempotent like a real one.
select is((select id from private.record_sink_alerts(jsonb_build_array(jsonb_build_object(
             'delivery_id', (pg_temp.delivery('Pam is going', 'email')).id, 'channel', 'email', 'destination', 'pam@example.test', 'subject', 'Hi', 'text', 'Hi')))),
          (select id from private.record_sink_alerts(jsonb_build_array(jsonb_build_object(
             'delivery_id', (pg_temp.delivery('Pam is going', 'email')).id, 'channel', 'email', 'destination', 'pam@example.test', 'subject', 'Hi', 'text', 'Hi')))),
          'the sink returns the same message id for the same delivery');

-- The claim applies, set-based, the rules private.alert_channel_allowed and
-- private.alert_still_relevant state for one row: after a few changes of mind, it sends exactly
-- the grid deliveries those functions allow (SMS/WhatsApp in quiet hours simply wait).
select tests.authenticate_as('pam');
select public.set_notification_preference('welcome', 'email', false);
select public.set_notification_preference('new_follower', 'email', true);
select tests.authenticate_as('quin');
select public.set_whatsapp_opt_in(false);
select public.set_quiet_hours(null, null);
select tests.as_superuser();
-- One alert of every type to one person is more than the hourly email cap allows; the caps have
-- their own story (tests/abuse/sms-bombing), this one is about the channel rules.
update private.rate_limits set max_calls = 1000 where action in ('alert_email_per_hour', 'alert_email_per_day');
update private.alert_deliveries d set next_attempt_at = now() from public.notifications n
 where n.id = d.notification_id and n.title like 'Grid %' and d.status = 'pending';
create temp table grid_expect as
select d.id, private.alert_channel_allowed(d.user_id, d.type, d.channel) and private.alert_still_relevant(d.type, n.data) as send
  from private.alert_deliveries d join public.notifications n on n.id = d.notification_id
 where n.title like 'Grid %' and d.status = 'pending';
select tests.authenticate_as_service_role();
select count(*) from private.claim_alert_deliveries(1000, 60);
select tests.as_superuser();
select is((select count(*)::int from grid_expect g join private.alert_deliveries d on d.id = g.id
            where (d.status = 'sending') is distinct from g.send),
          0, 'the dispatcher''s claim sends exactly the grid deliveries the per-row rules allow');
select ok((select count(*) filter (where send) > 0 and count(*) filter (where not send) > 0 from grid_expect),
          'and the grid holds both kinds');

select * from finish();
rollback;
