-- Messages: every kind, idempotent sends, bad input refused with nothing written, replies,
-- edits within the window, soft deletes, reactions, and the per-user rate limit.
begin;
select plan(60);

select tests.create_fixtures();
create function pg_temp.message_count(p_conversation uuid) returns integer language sql security definer as $$
  select count(*)::int from public.messages where conversation_id = p_conversation
$$;
-- An uploaded chat-media object, as the Storage API records it after the upload.
create function pg_temp.upload(p_user text, p_conversation uuid, p_file text, p_mimetype text, p_size bigint) returns text
language plpgsql as $$
declare v_name text := p_conversation::text || '/' || tests.get_supabase_uid(p_user)::text || '/' || p_file;
begin
  perform tests.authenticate_as(p_user);
  insert into storage.objects (bucket_id, name, owner_id, metadata)
  values ('chat-media', v_name, tests.get_supabase_uid(p_user)::text, jsonb_build_object('mimetype', p_mimetype, 'size', p_size));
  return v_name;
end $$;

select tests.create_supabase_user('sam', 'sam@example.test', '{"username":"sam_s","display_name":"Sam"}');
select tests.create_supabase_user('pia', 'pia@example.test', '{"username":"pia_p","display_name":"Pia"}');
select tests.create_supabase_user('olga', 'olga@example.test', '{"username":"olga_o","display_name":"Olga"}');
select tests.create_supabase_user('hank', 'hank@example.test', '{"username":"hank_h","display_name":"Hank"}');
select tests.create_supabase_user('rita', 'rita@example.test', '{"username":"rita_r","display_name":"Rita"}');
select tests.create_supabase_user('ada', 'ada@example.test', '{"username":"ada_admin","display_name":"Ada"}', '{"role":"admin"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('hank');

select tests.authenticate_as('hank');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Open mic', now() + interval '3 days', now() + interval '3 days 2 hours', 'UTC') returning id)
insert into fx select 'open_mic', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone, visibility) values ('Secret supper', now() + interval '3 days', now() + interval '3 days 2 hours', 'UTC', 'followers') returning id)
insert into fx select 'secret', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity)
select id, 'Free', 0, 'EUR', 10 from fx where name in ('open_mic', 'secret');
select public.publish_event(tests.fx('open_mic'));
select public.publish_event(tests.fx('secret'));

-- Pia and Rita follow Sam, so he may put them in a group without an invitation.
select tests.as_superuser();
insert into public.follows (follower_id, followee_id) values (tests.get_supabase_uid('pia'), tests.get_supabase_uid('sam')), (tests.get_supabase_uid('rita'), tests.get_supabase_uid('sam'));
select tests.authenticate_as('sam');
insert into fx select 'dm', id from public.start_direct_conversation(tests.get_supabase_uid('pia'));
insert into fx select 'other_dm', id from public.start_direct_conversation(tests.get_supabase_uid('olga'));
insert into fx select 'grp', id from public.create_group_conversation('Band', array[tests.get_supabase_uid('pia'), tests.get_supabase_uid('rita')]);

-- Text, and idempotent retries
insert into fx select 'hello', id from public.send_message(tests.fx('dm'), 'text', 'Hi Pia!', p_client_id => 'sam-phone-1');
select results_eq($$select seq, sender_id, kind, body from public.messages where id = tests.fx('hello')$$,
                  $$values (1::bigint, tests.get_supabase_uid('sam'), 'text'::text, 'Hi Pia!'::text)$$,
                  'Sam sends Pia a text; it is the first message of their conversation');
select is((select id from public.send_message(tests.fx('dm'), 'text', 'Hi Pia!', p_client_id => 'sam-phone-1')), tests.fx('hello'),
          'a retry with the same client id returns the same message');
select is(pg_temp.message_count(tests.fx('dm')), 1, 'and sends nothing twice');
select tests.raises_hint($$select public.send_message(tests.fx('other_dm'), 'text', 'Hi Olga', p_client_id => 'sam-phone-1')$$,
          'client_id_reused', 'a client id reused for another message is refused');

-- Bad input: a clear error, and nothing written
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'text', null)$$, 'body_required', 'an empty message is refused');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'text', E'  \n\t ')$$, 'body_required',
          'so is a message of only spaces');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'text', repeat('x', 4001))$$, 'body_too_long',
          'a message over 4,000 characters is refused');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'system', 'I am the system')$$, 'invalid_kind',
          'users cannot write system messages');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'sticker', 'x')$$, 'invalid_kind', 'unknown kinds are refused');
select tests.raises_hint($$select public.send_message(gen_random_uuid(), 'text', 'Hello?')$$, 'conversation_not_found',
          'an unknown conversation is refused');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'image', 'Look')$$, 'attachment_required',
          'an image message needs a file');
select tests.raises_hint(format($$select public.send_message(tests.fx('dm'), 'text', 'x', p_attachment_path => %L)$$,
                                 pg_temp.upload('sam', tests.fx('dm'), 'a.png', 'image/png', 1000)), 'field_not_allowed',
          'a text message takes no attachment');
select tests.authenticate_as('pia');
select pg_temp.upload('pia', tests.fx('dm'), 'pia.png', 'image/png', 1000);
select tests.authenticate_as('sam');
select tests.raises_hint(format($$select public.send_message(tests.fx('dm'), 'image', p_attachment_path => %L)$$,
                                 tests.fx('dm')::text || '/' || tests.get_supabase_uid('pia')::text || '/pia.png'), 'invalid_attachment_path',
          'Sam cannot send a file from Pia''s folder as his own');
select tests.raises_hint(format($$select public.send_message(tests.fx('dm'), 'image', p_attachment_path => %L)$$,
                                 pg_temp.upload('sam', tests.fx('other_dm'), 'elsewhere.png', 'image/png', 1000)), 'invalid_attachment_path',
          'nor a file uploaded to another conversation');
select tests.raises_hint(format($$select public.send_message(tests.fx('dm'), 'image', p_attachment_path => %L)$$,
                                 tests.fx('dm')::text || '/' || tests.get_supabase_uid('sam')::text || '/never-uploaded.png'), 'attachment_not_found',
          'nor a file that was never uploaded');
select tests.raises_hint(format($$select public.send_message(tests.fx('dm'), 'image', p_attachment_path => %L)$$,
                                 pg_temp.upload('sam', tests.fx('dm'), 'huge.png', 'image/png', 11 * 1024 * 1024)), 'attachment_too_large',
          'a file over the bucket''s 10 MiB is refused even if its row exists');
select tests.raises_hint(format($$select public.send_message(tests.fx('dm'), 'image', p_attachment_path => %L)$$,
                                 pg_temp.upload('sam', tests.fx('dm'), 'doc.pdf', 'application/pdf', 1000)), 'attachment_type_not_allowed',
          'a PDF is not an image');
select tests.raises_hint(format($$select public.send_message(tests.fx('dm'), 'voice', p_attachment_path => %L, p_duration_ms => 3000)$$,
                                 pg_temp.upload('sam', tests.fx('dm'), 'photo.jpg', 'image/jpeg', 1000)), 'attachment_type_not_allowed',
          'a voice message must be audio');
select tests.raises_hint(format($$select public.send_message(tests.fx('dm'), 'voice', p_attachment_path => %L)$$,
                                 pg_temp.upload('sam', tests.fx('dm'), 'memo.webm', 'audio/webm', 40000)), 'invalid_duration',
          'a voice message needs its duration');
select tests.authenticate_as('sam');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'text', 'Re: Olga', p_reply_to => (select id from public.send_message(tests.fx('other_dm'), 'text', 'Hi Olga')))$$,
          'reply_not_found', 'a reply to a message of another conversation is refused');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'event', p_shared_event_id => tests.fx('secret'))$$,
          'event_not_found', 'Sam cannot share a followers-only event he cannot see');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'reminder', 'Too late', p_remind_at => now() - interval '1 minute')$$,
          'invalid_remind_at', 'a reminder in the past is refused');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'text', 'x', p_client_id => repeat('k', 101))$$,
          'invalid_client_id', 'an over-long client id is refused');
select is(pg_temp.message_count(tests.fx('dm')), 1, 'none of the refused messages was written');
select tests.authenticate_as('olga');
select throws_ok($$select public.send_message(tests.fx('dm'), 'text', 'Let me in')$$, '42501', 'You are not a member of this conversation.',
                 'an outsider cannot send into someone else''s conversation');
select tests.clear_authentication();
select throws_ok($$select public.send_message(tests.fx('dm'), 'text', 'Anonymous')$$, '42501', 'You need to sign in to do this.',
                 'nor can an anonymous visitor');

-- The other kinds
select tests.authenticate_as('sam');
select ok((select kind = 'image' and body = 'The view' from public.send_message(tests.fx('dm'), 'image', 'The view',
             p_attachment_path => pg_temp.upload('sam', tests.fx('dm'), 'view.webp', 'image/webp', 250000))),
          'Sam sends a photo with a caption');
select tests.authenticate_as('sam');
insert into fx select 'voice', id from public.send_message(tests.fx('dm'), 'voice',
  p_attachment_path => pg_temp.upload('sam', tests.fx('dm'), 'hello.ogg', 'audio/ogg', 48000), p_duration_ms => 4200);
select tests.authenticate_as('sam');
select results_eq($$select kind, duration_ms, body from public.messages where id = tests.fx('voice')$$,
                  $$values ('voice'::text, 4200, null::text)$$, 'and a voice note with its duration');
select results_eq($$select kind, shared_event_id from public.send_message(tests.fx('dm'), 'event', 'Come!', p_shared_event_id => tests.fx('open_mic'))$$,
                  $$values ('event'::text, tests.fx('open_mic'))$$, 'and shares a public event');
select results_eq($$select kind, remind_at > now() from public.send_message(tests.fx('dm'), 'reminder', 'Bring the tickets', p_remind_at => now() + interval '2 days')$$,
                  $$values ('reminder'::text, true)$$, 'and sets a reminder');
select tests.authenticate_as('pia');
insert into fx select 'reply', id from public.send_message(tests.fx('dm'), 'text', 'Hi Sam!', p_reply_to => tests.fx('hello'));
select results_eq($$select reply_to, seq from public.messages where id = tests.fx('reply')$$,
                  $$values (tests.fx('hello'), 6::bigint)$$, 'Pia replies to Sam''s first message; messages are numbered in order');

-- Editing
select tests.authenticate_as('sam');
select results_eq($$select body, edited_at is not null from public.edit_message(tests.fx('hello'), 'Hi Pia! 👋')$$,
                  $$values ('Hi Pia! 👋'::text, true)$$, 'Sam edits his message and it is marked edited');
select tests.raises_hint($$select public.edit_message(tests.fx('hello'), '  ')$$, 'body_required',
          'a text cannot be edited down to nothing');
select tests.raises_hint($$select public.edit_message(tests.fx('voice'), 'words')$$, 'not_editable', 'a voice note cannot be edited');
select tests.authenticate_as('pia');
select tests.raises_hint($$select public.edit_message(tests.fx('hello'), 'Pia was here')$$, 'not_your_message',
          'Pia cannot edit Sam''s message');
select tests.as_superuser();
update public.messages set created_at = now() - interval '16 minutes' where id = tests.fx('hello');
select tests.authenticate_as('sam');
select tests.raises_hint($$select public.edit_message(tests.fx('hello'), 'Too late')$$, 'edit_window_passed',
          'after 15 minutes the message can no longer be edited');
select results_eq($$select body from public.messages where id = tests.fx('hello')$$, $$values ('Hi Pia! 👋'::text)$$,
                  'refused edits change nothing');

-- Reactions
select tests.authenticate_as('pia');
insert into public.message_reactions (message_id, emoji) values (tests.fx('hello'), '❤️');
select results_eq($$select user_id, emoji, conversation_id from public.message_reactions where message_id = tests.fx('hello')$$,
                  $$values (tests.get_supabase_uid('pia'), '❤️'::text, tests.fx('dm'))$$, 'Pia reacts with a heart');
insert into public.message_reactions (message_id, emoji) values (tests.fx('hello'), '❤️');
select is((select count(*)::int from public.message_reactions where message_id = tests.fx('hello')), 1,
          'one reaction per emoji per person (the same reaction again is a no-op)');
select tests.raises_hint($$insert into public.message_reactions (message_id, emoji) values (tests.fx('hello'), 'two words')$$,
          'invalid_emoji', 'a reaction is one emoji, not text');
select tests.authenticate_as('olga');
select throws_ok($$insert into public.message_reactions (message_id, emoji) values (tests.fx('hello'), '👎')$$, '42501', null,
                 'an outsider cannot react');
select tests.authenticate_as('sam');
select results_eq($$select reactions from public.conversation_messages(tests.fx('dm')) where id = tests.fx('hello')$$,
                  $$values ('[{"me": false, "count": 1, "emoji": "❤️"}]'::jsonb)$$, 'Sam sees Pia''s heart on his message');
select tests.authenticate_as('pia');
delete from public.message_reactions where message_id = tests.fx('hello') and emoji = '❤️';
select is((select count(*)::int from public.message_reactions where message_id = tests.fx('hello')), 0, 'and Pia takes it back');

-- Deleting
select tests.authenticate_as('pia');
insert into public.message_reactions (message_id, emoji) values (tests.fx('voice'), '😂');
select tests.raises_hint($$select public.delete_message(tests.fx('voice'))$$, 'not_allowed',
          'Pia cannot delete Sam''s message in their direct conversation');
select tests.authenticate_as('sam');
select results_eq($$select body, attachment_path, duration_ms, deleted_at is not null, deleted_by from public.delete_message(tests.fx('voice'))$$,
                  $$values (null::text, null::text, null::integer, true, tests.get_supabase_uid('sam'))$$,
                  'Sam deletes his voice note: the placeholder stays, its content is gone');
select is((select count(*)::int from public.message_reactions where message_id = tests.fx('voice')), 0, 'and its reactions are gone');
select ok((select deleted_at is not null from public.delete_message(tests.fx('voice'))), 'deleting twice is harmless');
select tests.raises_hint($$insert into public.message_reactions (message_id, emoji) values (tests.fx('voice'), '👍')$$,
          'message_deleted', 'nobody reacts to a deleted message');
select tests.raises_hint($$select public.edit_message(tests.fx('voice'), 'x')$$, 'message_deleted', 'or edits it');
select tests.raises_hint($$select public.send_message(tests.fx('dm'), 'text', 'Re', p_reply_to => tests.fx('voice'))$$,
          'reply_not_found', 'or replies to it');

-- Admins moderate
select tests.authenticate_as('rita');
insert into fx select 'rita_msg', id from public.send_message(tests.fx('grp'), 'text', 'Buy cheap followers!');
insert into fx select 'rita_msg2', id from public.send_message(tests.fx('grp'), 'text', 'Really cheap!');
select tests.authenticate_as('pia');
select tests.raises_hint($$select public.delete_message(tests.fx('rita_msg'))$$, 'not_allowed',
          'a group member cannot delete another member''s message');
select tests.authenticate_as('sam');
select ok((select deleted_at is not null from public.delete_message(tests.fx('rita_msg'))), 'the group admin can');
select tests.authenticate_as('ada');
select ok((select deleted_at is not null from public.delete_message(tests.fx('rita_msg2'))),
          'and so can a platform admin, without being in the group');

-- Rate limit: 30 messages per 10 seconds per person
select tests.authenticate_as('rita');
select lives_ok($$select public.send_message(tests.fx('grp'), 'text', 'Message ' || n, p_client_id => 'burst-' || n) from generate_series(3, 30) n$$,
                'Rita sends 30 messages in a burst');
select tests.raises_hint($$select public.send_message(tests.fx('grp'), 'text', 'One more')$$, 'rate_limited',
          'the 31st within ten seconds is refused');
select is((select count(*)::int from public.messages where sender_id = tests.get_supabase_uid('rita')), 30, 'and not written');
select is((select body from public.send_message(tests.fx('grp'), 'text', 'Message 30', p_client_id => 'burst-30')), 'Message 30',
          'but a retry of a message already sent still gets its answer');
select tests.as_superuser();
-- (the limiter's bucket, private.rate_limit_buckets, as it will be ten seconds later)
update private.rate_limit_buckets set refilled_at = refilled_at - interval '10 seconds'
 where action = 'message' and key = tests.get_supabase_uid('rita')::text;
select tests.authenticate_as('rita');
select lives_ok($$select public.send_message(tests.fx('grp'), 'text', 'Calm again')$$, 'ten seconds later Rita can send again');

-- Reads
select tests.authenticate_as('olga');
select is((select count(*)::int from public.messages where conversation_id = tests.fx('dm')), 0,
          'an outsider reads none of a conversation''s messages');
select tests.raises_hint($$select * from public.conversation_messages(tests.fx('dm'))$$, 'not_a_member',
          'and cannot page through them');

select * from finish();
rollback;
