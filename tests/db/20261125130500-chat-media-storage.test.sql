-- Chat on Realtime and Storage: the database broadcasts every change on conversation:<id>
-- (and list changes on user:<id>) with the right payload; only members may join, track
-- presence and type; chat-media files are readable by members and written only into one's own
-- folder; access follows the same live rules as the tables.
-- Also tells: 20261125130400_realtime_authorization
begin;
select plan(47);

select tests.create_fixtures();
create function pg_temp.topic(p_name text) returns text language sql as $$ select 'conversation:' || tests.fx(p_name)::text $$;
-- Broadcasts the database sent (read as the superuser).
create function pg_temp.broadcasts(p_topic text, p_event text) returns setof jsonb language sql security definer as $$
  select payload from realtime.messages where topic = p_topic and event = p_event and private order by inserted_at, payload ->> 'seq'
$$;
create function pg_temp.upload_as(p_user text, p_name text) returns text language plpgsql as $$
begin
  perform tests.authenticate_as(p_user);
  begin
    insert into storage.objects (bucket_id, name, owner_id, metadata)
    values ('chat-media', p_name, tests.get_supabase_uid(p_user)::text, '{"mimetype":"image/png","size":2048}');
    return 'uploaded';
  exception when insufficient_privilege then
    return 'refused';
  end;
end $$;
create function pg_temp.visible_files(p_user text, p_prefix text) returns integer language plpgsql as $$
declare v integer;
begin
  perform tests.authenticate_as(p_user);
  select count(*)::int into v from storage.objects where bucket_id = 'chat-media' and name like p_prefix || '%';
  perform tests.as_superuser();
  return v;
end $$;

select tests.create_supabase_user('lia', 'lia@example.test', '{"username":"lia_l","display_name":"Lia"}');
select tests.create_supabase_user('max', 'max@example.test', '{"username":"max_m","display_name":"Max"}');
select tests.create_supabase_user('eve', 'eve@example.test', '{"username":"eve_e","display_name":"Eve"}');
select tests.create_supabase_user('hugh', 'hugh@example.test', '{"username":"hugh_h","display_name":"Hugh"}');
select tests.create_supabase_user('gwen', 'gwen@example.test', '{"username":"gwen_g","display_name":"Gwen"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('hugh');

select tests.authenticate_as('lia');
insert into fx select 'dm', id from public.start_direct_conversation(tests.get_supabase_uid('max'));

-- Broadcasts on conversation:<id>
insert into fx select 'm1', id from public.send_message(tests.fx('dm'), 'text', 'Are you coming tonight?', p_client_id => 'lia-1');
select tests.as_superuser();
select results_eq($$select p ->> 'id', p ->> 'sender_id', p ->> 'body', p ->> 'client_id', (p ->> 'seq')::int
                      from pg_temp.broadcasts(pg_temp.topic('dm'), 'message_created') as p$$,
                  $$values (tests.fx('m1')::text, tests.get_supabase_uid('lia')::text, 'Are you coming tonight?'::text, 'lia-1'::text, 1)$$,
                  'a new message is broadcast as message_created on conversation:<id> with its id, sender, body, client id and seq');
select results_eq($$select substr(topic, 6) from realtime.messages where event = 'conversation_activity' and payload ->> 'message_id' = tests.fx('m1')::text order by 1$$,
                  $$select id::text from (values (tests.get_supabase_uid('lia')), (tests.get_supabase_uid('max'))) v(id) order by 1$$,
                  'both members get conversation_activity on their own user:<id> topic, for their conversation lists');
select is((select count(*)::int from realtime.messages where event = 'conversation_activity' and payload ->> 'message_id' = tests.fx('m1')::text
            and payload ? 'body'), 0, 'which carries no message content');

select tests.authenticate_as('lia');
select public.edit_message(tests.fx('m1'), 'Are you coming tonight? 8pm');
select tests.as_superuser();
select results_eq($$select p ->> 'id', p ->> 'body', p ->> 'edited_at' is not null from pg_temp.broadcasts(pg_temp.topic('dm'), 'message_updated') as p$$,
                  $$values (tests.fx('m1')::text, 'Are you coming tonight? 8pm'::text, true)$$,
                  'an edit is broadcast as message_updated with the new text');

select tests.authenticate_as('max');
select public.mark_conversation_read(tests.fx('dm'));
select tests.as_superuser();
select results_eq($$select p ->> 'user_id', p ->> 'message_id', (p ->> 'seq')::int from pg_temp.broadcasts(pg_temp.topic('dm'), 'message_read') as p$$,
                  $$values (tests.get_supabase_uid('max')::text, tests.fx('m1')::text, 1)$$,
                  'a read receipt says who read up to which message');
select results_eq($$select (p ->> 'unread_count')::int from pg_temp.broadcasts('user:' || tests.get_supabase_uid('max')::text, 'conversation_read') as p$$,
                  $$values (0)$$, 'and the reader''s other devices hear conversation_read with the unread count left');

select tests.authenticate_as('max');
insert into public.message_reactions (message_id, emoji) values (tests.fx('m1'), '👍');
select tests.as_superuser();
select results_eq($$select p ->> 'message_id', p ->> 'user_id', p ->> 'emoji' from pg_temp.broadcasts(pg_temp.topic('dm'), 'reaction_added') as p$$,
                  $$values (tests.fx('m1')::text, tests.get_supabase_uid('max')::text, '👍'::text)$$, 'reactions are broadcast');

select tests.authenticate_as('lia');
select public.delete_message(tests.fx('m1'));
select tests.as_superuser();
select results_eq($$select p ->> 'id', p ? 'body', p ->> 'deleted_by' from pg_temp.broadcasts(pg_temp.topic('dm'), 'message_deleted') as p$$,
                  $$values (tests.fx('m1')::text, false, tests.get_supabase_uid('lia')::text)$$,
                  'a deletion is broadcast as message_deleted, without the content');
select is((select count(*)::int from pg_temp.broadcasts(pg_temp.topic('dm'), 'reaction_removed')), 1,
          'and the reactions it took with it are announced as removed');

-- Who may join conversation:<id>
select tests.authenticate_as('max');
select ok(tests.can_receive_on(pg_temp.topic('dm')), 'a member may receive on the conversation topic');
select ok(tests.can_receive_on(pg_temp.topic('dm'), 'presence'), 'and see who is present');
select ok(tests.can_send_on(pg_temp.topic('dm'), 'presence'), 'and track their own presence');
select ok(not tests.can_send_on(pg_temp.topic('dm'), 'broadcast'), 'but not broadcast there: message events come from the database only');
select ok(tests.can_send_on(pg_temp.topic('dm') || ':typing', 'broadcast'), 'members broadcast typing on conversation:<id>:typing');
select ok(tests.can_receive_on(pg_temp.topic('dm') || ':typing'), 'and receive each other''s typing there');
select ok(not tests.can_send_on(pg_temp.topic('dm') || ':typing', 'presence'), 'the typing topic has no presence');
select tests.authenticate_as('eve');
select ok(not tests.can_receive_on(pg_temp.topic('dm')), 'a non-member may not receive on the conversation topic');
select ok(not tests.can_receive_on(pg_temp.topic('dm'), 'presence'), 'nor see presence');
select ok(not tests.can_send_on(pg_temp.topic('dm'), 'presence'), 'nor track presence');
select ok(not tests.can_receive_on(pg_temp.topic('dm') || ':typing'), 'nor watch typing');
select ok(not tests.can_send_on(pg_temp.topic('dm') || ':typing', 'broadcast'), 'nor type');
select tests.clear_authentication();
select ok(not tests.can_receive_on(pg_temp.topic('dm')), 'anonymous clients may not join');
select tests.authenticate_as('lia');
select ok(not tests.can_receive_on('conversation:not-a-uuid'), 'a malformed conversation topic is refused');
select ok(tests.can_receive_on('user:' || tests.get_supabase_uid('lia')::text), 'user:<own id> still works as before');
select ok(not tests.can_receive_on('user:' || tests.get_supabase_uid('max')::text), 'and user:<someone else> is still refused');

-- A block closes the direct conversation's topics.
select tests.authenticate_as('max');
select public.block_user(tests.get_supabase_uid('lia'));
select tests.authenticate_as('lia');
select ok(not tests.can_receive_on(pg_temp.topic('dm')), 'once Max blocks Lia, she can no longer join their conversation''s topic');
select ok(not tests.can_send_on(pg_temp.topic('dm') || ':typing', 'broadcast'), 'or type in it');
select tests.authenticate_as('max');
select public.unblock_user(tests.get_supabase_uid('lia'));

-- Event chat topics follow the booking.
select tests.authenticate_as('hugh');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Quiz night', now() + interval '2 days', now() + interval '2 days 2 hours', 'UTC') returning id)
insert into fx select 'quiz', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('quiz'), 'Team', 0, 'EUR', 10);
select public.publish_event(tests.fx('quiz'));
select tests.authenticate_as('gwen');
select public.book_event(tests.fx('quiz'), (select id from public.ticket_types where event_id = tests.fx('quiz')), 1);
select tests.as_superuser();
insert into fx select 'quiz_chat', id from public.conversations where event_id = tests.fx('quiz');
select results_eq($$select p ->> 'conversation_id' from pg_temp.broadcasts('user:' || tests.get_supabase_uid('gwen')::text, 'conversation_added') as p$$,
                  $$values (tests.fx('quiz_chat')::text)$$, 'a confirmed guest is told on user:<id> that the event chat is now in their list');
select tests.authenticate_as('gwen');
select ok(tests.can_receive_on(pg_temp.topic('quiz_chat')), 'and may join its topic');
select tests.authenticate_as('hugh');
select ok(tests.can_receive_on(pg_temp.topic('quiz_chat')), 'as may the host');
select tests.as_superuser();
update public.bookings set status = 'refunded' where guest_id = tests.get_supabase_uid('gwen');
select tests.authenticate_as('gwen');
select ok(not tests.can_receive_on(pg_temp.topic('quiz_chat')), 'a refunded guest may no longer join the event chat topic');
select ok(not tests.can_send_on(pg_temp.topic('quiz_chat'), 'presence'), 'or be present in it');
select tests.as_superuser();
select results_eq($$select p ->> 'conversation_id' from pg_temp.broadcasts('user:' || tests.get_supabase_uid('gwen')::text, 'conversation_removed') as p$$,
                  $$values (tests.fx('quiz_chat')::text)$$, 'and is told on user:<id> that it left their list');

-- chat-media
select tests.authenticate_as('lia');
insert into fx select 'dm2', id from public.start_direct_conversation(tests.get_supabase_uid('max'));
select is(pg_temp.upload_as('lia', tests.fx('dm')::text || '/' || tests.get_supabase_uid('lia')::text || '/beach.png'), 'uploaded',
          'a member uploads into their own folder of the conversation');
select is(pg_temp.upload_as('lia', tests.fx('dm')::text || '/' || tests.get_supabase_uid('max')::text || '/fake.png'), 'refused',
          'but not into another member''s folder');
select is(pg_temp.upload_as('lia', tests.fx('dm')::text || '/loose.png'), 'refused', 'nor outside any sender folder');
select is(pg_temp.upload_as('eve', tests.fx('dm')::text || '/' || tests.get_supabase_uid('eve')::text || '/spam.png'), 'refused',
          'a non-member cannot upload into the conversation at all');
select is(pg_temp.upload_as('gwen', tests.fx('quiz_chat')::text || '/' || tests.get_supabase_uid('gwen')::text || '/late.png'), 'refused',
          'nor can a refunded guest into the event chat');
select tests.clear_authentication();
select throws_ok($$insert into storage.objects (bucket_id, name) values ('chat-media', 'a/b/c.png')$$, '42501', null,
                 'anonymous visitors cannot upload');

select is(pg_temp.visible_files('max', tests.fx('dm')::text), 1, 'the other member can read and list the conversation''s files');
select is(pg_temp.visible_files('eve', tests.fx('dm')::text), 0, 'a non-member cannot see them');
select tests.authenticate_as('lia');
insert into fx select 'photo', id from public.send_message(tests.fx('dm'), 'image', 'Beach!',
  p_attachment_path => tests.fx('dm')::text || '/' || tests.get_supabase_uid('lia')::text || '/beach.png');
select public.delete_message(tests.fx('photo'));
select is(pg_temp.visible_files('max', tests.fx('dm')::text), 0, 'once the message is deleted its file can no longer be read');
select tests.authenticate_as('lia');
select is((select count(*)::int from storage.objects where bucket_id = 'chat-media' and name like tests.fx('dm')::text || '%'), 0,
          'not even by its uploader');

select is(pg_temp.upload_as('max', tests.fx('dm')::text || '/' || tests.get_supabase_uid('max')::text || '/song.mp3'), 'uploaded',
          'Max uploads a file');
select tests.authenticate_as('lia');
select set_config('storage.allow_delete_query', 'true', true);
delete from storage.objects where bucket_id = 'chat-media' and name like tests.fx('dm')::text || '/' || tests.get_supabase_uid('max')::text || '/%';
select tests.as_superuser();
select is((select count(*)::int from storage.objects where name like tests.fx('dm')::text || '/' || tests.get_supabase_uid('max')::text || '/%'), 1,
          'another member cannot delete it');
select tests.authenticate_as('max');
select set_config('storage.allow_delete_query', 'true', true);
delete from storage.objects where bucket_id = 'chat-media' and name like tests.fx('dm')::text || '/' || tests.get_supabase_uid('max')::text || '/%';
select tests.as_superuser();
select is((select count(*)::int from storage.objects where name like tests.fx('dm')::text || '/' || tests.get_supabase_uid('max')::text || '/%'), 0,
          'its uploader can');
select ok((select 'audio/mp4' = any (allowed_mime_types) and 'audio/mpeg' = any (allowed_mime_types) and 'image/gif' = any (allowed_mime_types)
             and file_size_limit = 10485760 from storage.buckets where id = 'chat-media'),
          'the bucket takes images and voice notes up to 10 MiB (the Storage API enforces it on upload)');

select * from finish();
rollback;
