-- Conversations: one direct conversation per pair (closed by blocks), groups run by their
-- admins, and event chats whose membership follows bookings and co-hosting from live rows.
-- Also tells: 20261125130200_conversation_management
begin;
select plan(55);

select tests.create_fixtures();
-- What a user can see of a conversation right now, as themselves.
create function pg_temp.sees(p_user text, p_conversation uuid) returns boolean language plpgsql as $$
declare v boolean;
begin
  perform tests.authenticate_as(p_user);
  select exists (select 1 from public.conversations where id = p_conversation) into v;
  perform tests.as_superuser();
  return v;
end $$;

select tests.create_supabase_user('maya', 'maya@example.test', '{"username":"maya_hosts","display_name":"Maya"}');
select tests.create_supabase_user('cody', 'cody@example.test', '{"username":"cody_cohost","display_name":"Cody"}');
select tests.create_supabase_user('gus', 'gus@example.test', '{"username":"gus_guest","display_name":"Gus"}');
select tests.create_supabase_user('gia', 'gia@example.test', '{"username":"gia_guest","display_name":"Gia"}');
select tests.create_supabase_user('ned', 'ned@example.test', '{"username":"ned_n","display_name":"Ned"}');
select tests.create_supabase_user('rex', 'rex@example.test', '{"username":"rex_r","display_name":"Rex"}');
select tests.create_supabase_user('pat', 'pat@example.test', '{"username":"pat_p","display_name":"Pat"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('maya');

-- ---------------------------------------------------------------------------------------------
-- Direct conversations
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as('gus');
insert into fx select 'dm', id from public.start_direct_conversation(tests.get_supabase_uid('gia'));
select tests.authenticate_as('gia');
select is((select id from public.start_direct_conversation(tests.get_supabase_uid('gus'))), tests.fx('dm'),
          'whoever starts it, two people share one direct conversation');
select results_eq($$select count(*)::int from public.conversation_members where conversation_id = tests.fx('dm')$$, $$values (2)$$,
                  'both people are its members');
select tests.raises_hint($$select public.start_direct_conversation(tests.get_supabase_uid('gia'))$$, 'cannot_message_self',
          'nobody starts a conversation with themselves');
select tests.raises_hint($$select public.start_direct_conversation(gen_random_uuid())$$, 'user_not_found',
          'a conversation with an unknown user is refused');

select tests.authenticate_as('gus');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('gus'), tests.get_supabase_uid('rex'));
select tests.authenticate_as('rex');
select tests.raises_hint($$select public.start_direct_conversation(tests.get_supabase_uid('gus'))$$, 'blocked',
          'a blocked user cannot start a conversation with the person who blocked them');
select tests.authenticate_as('gus');
select tests.raises_hint($$select public.start_direct_conversation(tests.get_supabase_uid('rex'))$$, 'blocked',
          'nor can the blocker start one with them');
select tests.as_superuser();
select is((select count(*)::int from public.conversations where kind = 'direct'
            and tests.get_supabase_uid('rex') in (direct_user_low, direct_user_high)), 0, 'and no conversation is written');
select tests.clear_authentication();
select throws_ok($$select public.start_direct_conversation(tests.get_supabase_uid('gus'))$$, '42501', 'You need to sign in to do this.',
                 'anonymous visitors cannot start conversations');

-- Blocking closes an existing direct conversation, and unblocking reopens it.
select tests.authenticate_as('ned');
insert into fx select 'dm_ned', id from public.start_direct_conversation(tests.get_supabase_uid('gia'));
select tests.authenticate_as('gia');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('gia'), tests.get_supabase_uid('ned'));
select ok(not pg_temp.sees('ned', tests.fx('dm_ned')), 'once Gia blocks Ned, Ned can no longer see their conversation');
select ok(not pg_temp.sees('gia', tests.fx('dm_ned')), 'and neither can Gia');
select tests.authenticate_as('ned');
select tests.raises_hint($$select public.send_message(tests.fx('dm_ned'), 'text', 'hello?')$$, 'blocked',
          'Ned cannot message Gia any more');
select tests.authenticate_as('gia');
delete from public.blocks where blocker_id = tests.get_supabase_uid('gia') and blocked_id = tests.get_supabase_uid('ned');
select ok(pg_temp.sees('ned', tests.fx('dm_ned')), 'after the unblock the conversation is back for both');

-- ---------------------------------------------------------------------------------------------
-- Groups (Gia, Ned and Cody follow Gus, so he may add them without an invitation; invitations
-- are the story of 20261125130200-conversation-management-group-invitations)
-- ---------------------------------------------------------------------------------------------
select tests.as_superuser();
insert into public.follows (follower_id, followee_id)
select u, tests.get_supabase_uid('gus') from unnest(array[tests.get_supabase_uid('gia'), tests.get_supabase_uid('ned'), tests.get_supabase_uid('cody')]) as x(u);
select tests.authenticate_as('gus');
insert into fx select 'grp', id
  from public.create_group_conversation('  Climbing crew ', array[tests.get_supabase_uid('gia'), tests.get_supabase_uid('ned'), tests.get_supabase_uid('ned'), tests.get_supabase_uid('gus'), null]);
select results_eq($$select title from public.conversations where id = tests.fx('grp')$$, $$values ('Climbing crew'::text)$$,
                  'a group keeps its trimmed name');
select results_eq($$select user_id, role from public.conversation_members where conversation_id = tests.fx('grp') order by role, user_id$$,
                  $$select * from (values (tests.get_supabase_uid('gus'), 'admin'::text)) a
                    union all (select * from (values (tests.get_supabase_uid('gia'), 'member'::text), (tests.get_supabase_uid('ned'), 'member'::text)) m order by 1)$$,
                  'the creator is its admin and the others (once each) its members');
select results_eq($$select kind, body from public.messages where conversation_id = tests.fx('grp')$$,
                  $$values ('system'::text, 'Gus created the group with Gia and Ned'::text)$$, 'a system message says who started it with whom');
select tests.raises_hint($$select public.create_group_conversation('   ', array[tests.get_supabase_uid('gia')])$$, 'invalid_title',
          'a group needs a name');
select tests.raises_hint($$select public.create_group_conversation('Blocked', array[tests.get_supabase_uid('rex')])$$, 'blocked',
          'nobody can put someone they blocked into a group');
select tests.raises_hint($$select public.create_group_conversation('Ghosts', array[gen_random_uuid()])$$, 'user_not_found',
          'or someone who does not exist');
select is((select count(*)::int from public.conversations where kind = 'group'), 1, 'refused groups write nothing');

select tests.authenticate_as('gia');
select tests.raises_hint($$select public.add_conversation_members(tests.fx('grp'), array[tests.get_supabase_uid('cody')])$$,
          'not_conversation_admin', 'a member who is not an admin cannot add people');
select tests.authenticate_as('rex');
select tests.raises_hint($$select public.add_conversation_members(tests.fx('grp'), array[tests.get_supabase_uid('rex')])$$,
          'not_a_member', 'an outsider cannot add themselves');
select tests.authenticate_as('gus');
select results_eq($$select user_id from public.add_conversation_members(tests.fx('grp'), array[tests.get_supabase_uid('cody'), tests.get_supabase_uid('gia')])$$,
                  $$values (tests.get_supabase_uid('cody'))$$, 'an admin adds people; existing members are skipped');
select results_eq($$select body from public.messages where conversation_id = tests.fx('grp') order by seq desc limit 1$$,
                  $$values ('Gus added Cody'::text)$$, 'and the group is told');
select is((select public.remove_conversation_member(tests.fx('grp'), tests.get_supabase_uid('ned'))), true, 'an admin removes a member');
select is((select public.remove_conversation_member(tests.fx('grp'), tests.get_supabase_uid('ned'))), false,
          'removing someone who is not a member changes nothing');
select tests.raises_hint($$select public.remove_conversation_member(tests.fx('grp'), tests.get_supabase_uid('gus'))$$,
          'use_leave_conversation', 'admins leave with leave_conversation, not by removing themselves');
select ok(not pg_temp.sees('ned', tests.fx('grp')), 'a removed member no longer sees the group');
select tests.authenticate_as('ned');
select is((select count(*)::int from public.messages where conversation_id = tests.fx('grp')), 0, 'nor its messages');

-- The last admin hands over to the longest-standing member.
select tests.as_superuser();
update public.conversation_members set joined_at = now() - interval '1 day'
 where conversation_id = tests.fx('grp') and user_id = tests.get_supabase_uid('cody');
select tests.authenticate_as('gus');
select lives_ok($$select public.leave_conversation(tests.fx('grp'))$$, 'the only admin may leave');
select tests.as_superuser();
select results_eq($$select user_id, role from public.conversation_members where conversation_id = tests.fx('grp') order by role, user_id$$,
                  $$values (tests.get_supabase_uid('cody'), 'admin'::text), (tests.get_supabase_uid('gia'), 'member'::text)$$,
                  'and the longest-standing member becomes admin');
select results_eq($$select body from public.messages where conversation_id = tests.fx('grp') order by seq desc limit 1$$,
                  $$values ('Gus left; Cody is now an admin'::text)$$, 'which the group is told');
select tests.authenticate_as('gus');
select tests.raises_hint($$select public.leave_conversation(tests.fx('dm'))$$, 'cannot_leave_direct',
          'a direct conversation cannot be left');

-- ---------------------------------------------------------------------------------------------
-- Event chats
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as('maya');
with e as (insert into public.events (title, starts_at, ends_at, timezone)
           values ('Rooftop jam', now() + interval '5 days', now() + interval '5 days 3 hours', 'Europe/Lisbon') returning id)
insert into fx select 'jam', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity)
           values (tests.fx('jam'), 'Free', 0, 'EUR', 20) returning id)
insert into fx select 'jam_t', id from t;
with e as (insert into public.events (title, starts_at, ends_at, timezone)
           values ('Gala dinner', now() + interval '9 days', now() + interval '9 days 3 hours', 'Europe/Lisbon') returning id)
insert into fx select 'gala', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity)
           values (tests.fx('gala'), 'Seat', 4500, 'EUR', 20) returning id)
insert into fx select 'gala_t', id from t;
select public.publish_event(tests.fx('jam'));
select public.publish_event(tests.fx('gala'));
insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('jam'), tests.get_supabase_uid('cody'), 'checkin');
select tests.as_superuser();
insert into fx select 'jam_chat', id from public.conversations where event_id = tests.fx('jam');
insert into fx select 'gala_chat', id from public.conversations where event_id = tests.fx('gala');

select results_eq($$select kind, title, created_by from public.conversations where id = tests.fx('jam_chat')$$,
                  $$values ('event'::text, 'Rooftop jam'::text, tests.get_supabase_uid('maya'))$$,
                  'every event gets its chat when it is created, titled after the event');
select is_empty($$select e.id from private.events e where not exists (select 1 from public.conversations c where c.event_id = e.id)$$,
                'no event is without its chat');
select results_eq($$select user_id, role from public.conversation_members where conversation_id = tests.fx('jam_chat') order by role, user_id$$,
                  $$select * from (values (tests.get_supabase_uid('maya'), 'admin'::text), (tests.get_supabase_uid('cody'), 'admin'::text)) x order by 1$$,
                  'the host and the co-host are its admins');

select tests.authenticate_as('gus');
select public.book_event(tests.fx('jam'), tests.fx('jam_t'), 1, 'gus-jam');
select tests.authenticate_as('gia');
select public.book_event(tests.fx('jam'), tests.fx('jam_t'), 1, 'gia-jam');
insert into fx select 'gia_gala', id from public.book_event(tests.fx('gala'), tests.fx('gala_t'), 1, 'gia-gala');
select tests.as_superuser();
select ok(pg_temp.sees('gus', tests.fx('jam_chat')), 'a guest whose booking is confirmed is in the event chat');
select ok(not pg_temp.sees('gia', tests.fx('gala_chat')), 'a guest whose seat is only held (unpaid) is not');
select ok(not pg_temp.sees('pat', tests.fx('jam_chat')), 'nor is anyone without a booking');
select private.confirm_booking_payment(tests.fx('gia_gala'));
select ok(pg_temp.sees('gia', tests.fx('gala_chat')), 'once the payment confirms the booking, the guest is in');

-- A refund takes the guest out in the same transaction.
update public.bookings set status = 'refunded' where id = tests.fx('gia_gala');
select ok(not pg_temp.sees('gia', tests.fx('gala_chat')), 'a refunded guest loses the event chat at once');
select tests.authenticate_as('gia');
select tests.raises_hint($$select public.send_message(tests.fx('gala_chat'), 'text', 'still here?')$$, 'not_a_member',
          'and cannot post in it');
select tests.as_superuser();
select is((select count(*)::int from public.conversation_members where conversation_id = tests.fx('gala_chat') and user_id = tests.get_supabase_uid('gia')),
          0, 'their mirror row is gone too');

-- Access is decided by the live booking, even if a mirror row were left behind.
set local session_replication_role = replica;
update public.bookings set status = 'cancelled' where event_id = tests.fx('jam') and guest_id = tests.get_supabase_uid('gus');
set local session_replication_role = origin;
select ok(exists (select 1 from public.conversation_members where conversation_id = tests.fx('jam_chat') and user_id = tests.get_supabase_uid('gus')),
          '(a cancellation that bypassed the triggers leaves the mirror row behind)');
select ok(not pg_temp.sees('gus', tests.fx('jam_chat')), 'yet the cancelled guest has no access: the booking decides, not the row');
set local session_replication_role = replica;
update public.bookings set status = 'confirmed' where event_id = tests.fx('jam') and guest_id = tests.get_supabase_uid('gus');
set local session_replication_role = origin;

select tests.authenticate_as('gus');
select public.cancel_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('gus') and event_id = tests.fx('jam')));
select ok(not pg_temp.sees('gus', tests.fx('jam_chat')), 'a guest who cancels leaves the event chat');

-- The host blocking a guest closes the chat to them; unblocking reopens it.
select tests.authenticate_as('maya');
select public.block_user(tests.get_supabase_uid('gia'));
select ok(not pg_temp.sees('gia', tests.fx('jam_chat')), 'a guest the host blocked loses the event chat, though still booked');
select tests.authenticate_as('maya');
select public.unblock_user(tests.get_supabase_uid('gia'));
select ok(pg_temp.sees('gia', tests.fx('jam_chat')), 'and gets it back when the host unblocks them');

-- Co-hosts are admins while they co-host.
select tests.authenticate_as('maya');
delete from public.event_cohosts where event_id = tests.fx('jam') and user_id = tests.get_supabase_uid('cody');
select ok(not pg_temp.sees('cody', tests.fx('jam_chat')), 'a co-host who is removed loses the event chat');

select tests.authenticate_as('maya');
update public.events set title = 'Rooftop jam session' where id = tests.fx('jam');
select tests.as_superuser();
select results_eq($$select title from public.conversations where id = tests.fx('jam_chat')$$, $$values ('Rooftop jam session'::text)$$,
                  'renaming the event renames its chat');

select tests.authenticate_as('pat');
select throws_ok($$select private.event_chat_role(tests.fx('jam'), tests.get_supabase_uid('gia'))$$, '42501', null,
                 'nobody can ask the database whether someone else is a confirmed guest');
select throws_ok($$select private.can_access_conversation(tests.fx('jam_chat'), tests.get_supabase_uid('gia'))$$, '42501', null,
                 'or whether someone else is in a conversation');

select tests.as_superuser();
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'private'
     and (p.proname ~ '(conversation|message|chat|reaction|block|report|reminder)' or p.proname in ('event_chat_role', 'unread_count', 'broadcast_to_user'))
     and p.proname <> 'blocks_remove_follows'  -- the follows capability's trigger function (cannot be called directly)
     and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute'))
     and p.proname not in ('send_message', 'edit_message', 'delete_message', 'start_direct_conversation', 'create_group_conversation',
                           'add_conversation_members', 'remove_conversation_member', 'leave_conversation', 'set_conversation_muted',
                           'mark_conversation_read', 'my_conversations', 'conversation_messages', 'block_user', 'unblock_user',
                           'report_content', 'caller_can_access_conversation', 'can_read_message', 'chat_media_can_read',
                           'chat_media_can_write', 'chat_media_is_own', 'is_blocked_between',
                           'admin_resolve_report')  -- the operations capability's admin entry point (checks the caller is an admin)
$$, 'API roles can execute only the chat entry points and caller-bound checks, nothing that acts for another user');

select tests.authenticate_as('gia');
select tests.raises_hint($$select public.leave_conversation(tests.fx('jam_chat'))$$, 'cannot_leave_event_chat',
          'a guest cannot leave the event chat while booked (they mute it instead)');
select results_eq($$select muted from public.set_conversation_muted(tests.fx('jam_chat'), true)$$, $$values (true)$$,
                  'and can mute it');
select tests.authenticate_as('maya');
select tests.raises_hint($$select public.add_conversation_members(tests.fx('jam_chat'), array[tests.get_supabase_uid('pat')])$$,
          'not_a_group', 'even the host cannot add people to an event chat: bookings decide');

select * from finish();
rollback;
