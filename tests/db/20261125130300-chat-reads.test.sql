-- Reading chat: the conversation list with last message and exact unread counts, read
-- pointers, paging through history, and notifications for people who are not looking —
-- batched, muted, online and blocked rules — plus reminders when their time comes.
-- Also tells: 20261125130600_chat_notifications
begin;
select plan(42);

select tests.create_fixtures();
create function pg_temp.say(p_user text, p_conversation text, p_body text) returns uuid language plpgsql as $$
declare v uuid;
begin
  perform tests.authenticate_as(p_user);
  select id into v from public.send_message(tests.fx(p_conversation), 'text', p_body);
  perform tests.as_superuser();
  return v;
end $$;
create function pg_temp.unread(p_user text, p_conversation text) returns integer language plpgsql as $$
declare v integer;
begin
  perform tests.authenticate_as(p_user);
  select unread_count into v from public.my_conversations(null, 100) where conversation_id = tests.fx(p_conversation);
  perform tests.as_superuser();
  return v;
end $$;
create function pg_temp.notes(p_user text, p_type text default 'message_received') returns setof public.notifications language sql security definer as $$
  select * from public.notifications where user_id = tests.get_supabase_uid(p_user) and type = p_type order by created_at, id
$$;
-- Time passes for the batching rules (now() is fixed inside a test transaction).
create function pg_temp.minutes_pass(p_minutes integer) returns void language sql security definer as $$
  update public.conversation_members
     set last_read_at = last_read_at - make_interval(mins => p_minutes), notified_at = notified_at - make_interval(mins => p_minutes)
$$;

select tests.create_supabase_user('ivy', 'ivy@example.test', '{"username":"ivy_i","display_name":"Ivy"}');
select tests.create_supabase_user('jon', 'jon@example.test', '{"username":"jon_j","display_name":"Jon"}');
select tests.create_supabase_user('kim', 'kim@example.test', '{"username":"kim_k","display_name":"Kim"}');
select tests.create_supabase_user('lou', 'lou@example.test', '{"username":"lou_l","display_name":"Lou"}');
select tests.create_supabase_user('hal', 'hal@example.test', '{"username":"hal_host","display_name":"Hal"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('hal');

-- Jon, Kim, Lou and Hal follow Ivy, so she may put them in a group without an invitation.
insert into public.follows (follower_id, followee_id)
select u, tests.get_supabase_uid('ivy') from unnest(array[tests.get_supabase_uid('jon'), tests.get_supabase_uid('kim'), tests.get_supabase_uid('lou'), tests.get_supabase_uid('hal')]) as x(u);
select tests.authenticate_as('ivy');
insert into fx select 'ivy_jon', id from public.start_direct_conversation(tests.get_supabase_uid('jon'));
insert into fx select 'ivy_kim', id from public.start_direct_conversation(tests.get_supabase_uid('kim'));
insert into fx select 'crew', id from public.create_group_conversation('Crew', array[tests.get_supabase_uid('jon'), tests.get_supabase_uid('kim'), tests.get_supabase_uid('lou')]);
select tests.authenticate_as('lou');
insert into fx select 'lou_ivy', id from public.start_direct_conversation(tests.get_supabase_uid('ivy'));
select tests.as_superuser();
-- Activity happens in order: give each conversation its own moment.
update public.conversations set created_at = now() - interval '1 hour', last_activity_at = now() - interval '1 hour';

-- ---------------------------------------------------------------------------------------------
-- The list and unread counts
-- ---------------------------------------------------------------------------------------------
select pg_temp.say('jon', 'ivy_jon', 'Hey Ivy');
insert into fx select 'friday', pg_temp.say('jon', 'ivy_jon', 'Free on Friday?');
update public.conversations set last_activity_at = now() - interval '30 minutes' where id = tests.fx('ivy_jon');
select pg_temp.say('kim', 'crew', 'Who is driving?');
select pg_temp.say('lou', 'crew', 'Not me');
insert into fx select 'ivy_in_crew', pg_temp.say('ivy', 'crew', 'I can drive');
select pg_temp.say('kim', 'crew', 'Great, thanks!');
update public.conversations set last_activity_at = now() - interval '10 minutes' where id = tests.fx('crew');

select tests.authenticate_as('ivy');
select results_eq($$select conversation_id, kind, title, unread_count from public.my_conversations()$$,
                  $$values (tests.fx('crew'), 'group'::text, 'Crew'::text, 1), (tests.fx('ivy_jon'), 'direct'::text, 'Jon'::text, 2),
                           (tests.fx('ivy_kim'), 'direct'::text, 'Kim'::text, 0)$$,
                  'Ivy''s list: most recent first, direct ones titled with the other person, and exact unread counts (her own message read the two before it)');
select is((select count(*)::int from public.my_conversations() where conversation_id = tests.fx('lou_ivy')), 0,
          'an empty conversation Lou started does not show in Ivy''s list until he writes');
select results_eq($$select last_message ->> 'body', last_message ->> 'sender_id', other_user_id from public.my_conversations() where conversation_id = tests.fx('ivy_jon')$$,
                  $$values ('Free on Friday?'::text, tests.get_supabase_uid('jon')::text, tests.get_supabase_uid('jon'))$$,
                  'each row carries the last message and, for direct ones, who it is with');

-- Paging
select results_eq($$select conversation_id from public.my_conversations(null, 2)$$, $$values (tests.fx('crew')), (tests.fx('ivy_jon'))$$,
                  'a first page of two');
select results_eq($$select conversation_id from public.my_conversations((select cursor from public.my_conversations(null, 2) offset 1), 2)$$,
                  $$values (tests.fx('ivy_kim'))$$, 'the cursor of its last row gives the rest, without repeats');
select tests.raises_hint($$select * from public.my_conversations('garbage!', 2)$$, 'invalid_cursor', 'a forged cursor is refused');
select tests.raises_hint($$select * from public.my_conversations(null, 0)$$, 'invalid_limit', 'a page has at least one row');

-- Deleted and system messages do not count; nor do people you blocked.
select tests.authenticate_as('jon');
select public.delete_message((select id from public.messages where body = 'Hey Ivy'));
select is(pg_temp.unread('ivy', 'ivy_jon'), 1, 'a deleted message no longer counts as unread');
select tests.authenticate_as('ivy');
select public.add_conversation_members(tests.fx('crew'), array[tests.get_supabase_uid('hal')]);
select is(pg_temp.unread('kim', 'crew'), 0, 'a system message (someone was added) is not unread');
select tests.authenticate_as('ivy');
select public.block_user(tests.get_supabase_uid('lou'));
select pg_temp.say('lou', 'crew', 'Blocked people still talk');
select is(pg_temp.unread('ivy', 'crew'), 0, 'messages from someone Ivy blocked do not count for her (adding Hal read the group up to there)');
select tests.authenticate_as('ivy');
select is((select count(*)::int from public.conversation_messages(tests.fx('crew')) where sender_id = tests.get_supabase_uid('lou')), 0,
          'and are left out of her view of the group');
select is((select count(*)::int from public.messages where conversation_id = tests.fx('crew') and sender_id = tests.get_supabase_uid('lou')), 0,
          'even when she reads the table directly');
select is(pg_temp.unread('kim', 'crew'), 1, 'Kim still sees and counts Lou''s message');
select tests.authenticate_as('lou');
select is((select count(*)::int from public.my_conversations() where conversation_id = tests.fx('lou_ivy')), 0,
          'their direct conversation has left Lou''s list');
select tests.authenticate_as('ivy');
select public.unblock_user(tests.get_supabase_uid('lou'));

-- Read pointers
select tests.authenticate_as('ivy');
select results_eq($$select last_read_message_id, unread_count from public.mark_conversation_read(tests.fx('ivy_jon'), (select id from public.messages where body = 'Free on Friday?'))$$,
                  $$values ((select id from public.messages where body = 'Free on Friday?'), 0)$$,
                  'marking the latest message read leaves nothing unread');
select results_eq($$select last_read_message_id from public.mark_conversation_read(tests.fx('ivy_jon'), (select id from public.messages where body = 'Hey Ivy'))$$,
                  $$values ((select id from public.messages where body = 'Free on Friday?'))$$, 'the read pointer never moves back');
select tests.raises_hint($$select public.mark_conversation_read(tests.fx('ivy_jon'), (select id from public.messages where body = 'Not me'))$$,
          'message_not_found', 'a message of another conversation cannot be marked read here');
select tests.authenticate_as('kim');
select tests.raises_hint($$select public.mark_conversation_read(tests.fx('ivy_jon'))$$, 'not_a_member',
          'nor can someone outside the conversation mark it');
select tests.authenticate_as('jon');
select results_eq($$select user_id, last_read_message_id from public.conversation_members where conversation_id = tests.fx('ivy_jon') and user_id = tests.get_supabase_uid('ivy')$$,
                  $$values (tests.get_supabase_uid('ivy'), (select id from public.messages where body = 'Free on Friday?'))$$,
                  'Jon sees how far Ivy has read (a read receipt)');

-- History, newest first, in pages
select tests.authenticate_as('kim');
select results_eq($$select body from public.conversation_messages(tests.fx('crew'), null, 2)$$,
                  $$values ('Blocked people still talk'::text), ('Ivy added Hal'::text)$$, 'history comes newest first');
select results_eq($$select body from public.conversation_messages(tests.fx('crew'), (select id from public.messages where body = 'Ivy added Hal'), 2)$$,
                  $$values ('Great, thanks!'::text), ('I can drive'::text)$$, 'and pages back from a message');
select tests.raises_hint($$select * from public.conversation_messages(tests.fx('crew'), tests.fx('friday'))$$,
          'message_not_found', 'paging from a message of another conversation is refused');
select tests.raises_hint($$select * from public.conversation_messages(tests.fx('crew'), null, 500)$$, 'invalid_limit',
          'a page has at most 100 messages');

-- ---------------------------------------------------------------------------------------------
-- Offline notifications, batched
-- ---------------------------------------------------------------------------------------------
select tests.as_superuser();
delete from private.chat_notification_queue;
update public.conversation_members set last_read_at = now() - interval '1 hour', notified_at = null;
select pg_temp.say('ivy', 'ivy_kim', 'Kim, are you there?');
select pg_temp.say('ivy', 'ivy_kim', 'Tickets are going fast');
select pg_temp.say('ivy', 'ivy_kim', 'Shall I get two?');
select pg_temp.minutes_pass(3);
select private.notify_unread_messages();
select results_eq($$select title, body, (data ->> 'count')::int, data ->> 'conversation_id' from pg_temp.notes('kim')$$,
                  $$values ('Ivy'::text, '3 new messages'::text, 3, tests.fx('ivy_kim')::text)$$,
                  'Kim, away, gets one notification for Ivy''s three messages');
select is((select count(*)::int from pg_temp.notes('ivy')), 0, 'Ivy is not notified about her own messages');
select private.notify_unread_messages();
select is((select count(*)::int from pg_temp.notes('kim')), 1, 'running the job again sends nothing new');

select pg_temp.say('ivy', 'ivy_kim', 'Got them!');
select private.notify_unread_messages();
select is((select count(*)::int from pg_temp.notes('kim')), 1, 'a new message within five minutes of the last notification waits');
select pg_temp.minutes_pass(6);
select private.notify_unread_messages();
select results_eq($$select body from pg_temp.notes('kim') order by body$$, $$values ('3 new messages'::text), ('Got them!'::text)$$,
                  'five minutes on, it comes as its own notification (one new message: its text)');

-- Online members and muted members
select pg_temp.say('jon', 'crew', 'Leaving at 7');
select tests.authenticate_as('lou');
select public.mark_conversation_read(tests.fx('crew'), (select id from public.messages where body = 'Great, thanks!'));
select tests.authenticate_as('hal');
select public.set_conversation_muted(tests.fx('crew'), true);
select tests.as_superuser();
select private.notify_unread_messages();
select results_eq($$select title, body from pg_temp.notes('kim') where data ->> 'conversation_id' = tests.fx('crew')::text$$,
                  $$values ('Crew'::text, '2 new messages'::text)$$, 'Kim hears about the two group messages she has not read, in one notification');
select is((select count(*)::int from pg_temp.notes('lou')), 0, 'Lou, who was reading the group a moment ago, is not notified yet');
select is((select count(*)::int from pg_temp.notes('hal')), 0, 'Hal, who muted the group, is not notified');
select ok(exists (select 1 from private.chat_notification_queue where conversation_id = tests.fx('crew')),
          'the group stays queued for Lou');
select pg_temp.minutes_pass(3);
select private.notify_unread_messages();
select results_eq($$select title, body from pg_temp.notes('lou')$$, $$values ('Crew'::text, 'Jon: Leaving at 7'::text)$$,
                  'when Lou has been away for a few minutes he is told, and a single message says who wrote what');
select is((select count(*)::int from pg_temp.notes('hal')), 0, 'and Hal still hears nothing');

-- Event chat: a refunded guest is not notified.
select tests.authenticate_as('hal');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Pub quiz', now() + interval '2 days', now() + interval '2 days 2 hours', 'UTC') returning id)
insert into fx select 'quiz', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('quiz'), 'Team', 0, 'EUR', 10);
select public.publish_event(tests.fx('quiz'));
select tests.authenticate_as('jon');
select public.book_event(tests.fx('quiz'), (select id from public.ticket_types where event_id = tests.fx('quiz')), 1);
select tests.authenticate_as('kim');
select public.book_event(tests.fx('quiz'), (select id from public.ticket_types where event_id = tests.fx('quiz')), 1);
select tests.as_superuser();
insert into fx select 'quiz_chat', id from public.conversations where event_id = tests.fx('quiz');
select pg_temp.say('hal', 'quiz_chat', 'Doors at 7!');
update public.bookings set status = 'refunded' where guest_id = tests.get_supabase_uid('kim') and event_id = tests.fx('quiz');
select pg_temp.minutes_pass(10);
select private.notify_unread_messages();
select results_eq($$select title, body from pg_temp.notes('jon') where data ->> 'conversation_id' = tests.fx('quiz_chat')::text$$,
                  $$values ('Pub quiz'::text, 'Hal: Doors at 7!'::text)$$, 'a confirmed guest hears about the host''s message');
select is((select count(*)::int from pg_temp.notes('kim') where data ->> 'conversation_id' = tests.fx('quiz_chat')::text), 0,
          'a guest refunded in the meantime does not');

-- ---------------------------------------------------------------------------------------------
-- Reminders
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as('ivy');
insert into fx select 'reminder', id from public.send_message(tests.fx('crew'), 'reminder', 'Bring snacks', p_remind_at => now() + interval '1 day');
insert into fx select 'cancelled_reminder', id from public.send_message(tests.fx('crew'), 'reminder', 'Old plan', p_remind_at => now() + interval '1 day');
select public.delete_message(tests.fx('cancelled_reminder'));
select tests.as_superuser();
select is(private.fire_due_reminders(), 0, 'a reminder does nothing before its time');
update public.messages set remind_at = now() - interval '1 second' where id in (tests.fx('reminder'), tests.fx('cancelled_reminder'));
select is(private.fire_due_reminders(), 1, 'when its time comes it fires (a deleted reminder does not)');
select results_eq($$select tests.get_supabase_uid(n) in (select user_id from public.notifications where type = 'message_reminder'), n
                      from unnest(array['ivy', 'jon', 'kim', 'lou', 'hal']) n order by n$$,
                  $$values (false, 'hal'::text), (true, 'ivy'::text), (true, 'jon'::text), (true, 'kim'::text), (true, 'lou'::text)$$,
                  'every member is reminded, except Hal who muted the group');
select results_eq($$select title, body from public.notifications where type = 'message_reminder' and user_id = tests.get_supabase_uid('jon')$$,
                  $$values ('Reminder · Crew'::text, 'Bring snacks'::text)$$, 'with the reminder''s text');
select is((select count(*)::int from realtime.messages where topic = 'conversation:' || tests.fx('crew')::text and event = 'reminder_due'), 1,
          'and reminder_due is broadcast in the conversation');
select is(private.fire_due_reminders(), 0, 'a reminder fires only once');

select * from finish();
rollback;
