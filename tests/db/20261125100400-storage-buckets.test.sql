-- Storage buckets exist with their limits, and avatars are written only into one's own folder.
begin;
select plan(9);

select results_eq($$select id, public, file_size_limit from storage.buckets where id in ('avatars', 'event-covers', 'chat-media') order by id$$,
                  $$values ('avatars'::text, true, 2097152::bigint), ('chat-media'::text, false, 10485760::bigint), ('event-covers'::text, true, 5242880::bigint)$$,
                  'the three buckets exist, public or private, with their size limits');
select ok((select 'audio/webm' = any (allowed_mime_types) and not ('application/pdf' = any (allowed_mime_types))
             from storage.buckets where id = 'chat-media'), 'chat-media accepts voice notes and refuses other types');

select tests.create_supabase_user('pia', 'pia@example.test', '{"username":"pia"}');
select tests.create_supabase_user('quin', 'quin@example.test', '{"username":"quin"}');

select tests.authenticate_as('pia');
select lives_ok($$insert into storage.objects (bucket_id, name, owner_id, metadata)
                  values ('avatars', tests.get_supabase_uid('pia') || '/me.png', tests.get_supabase_uid('pia')::text, '{"mimetype":"image/png","size":1000}')$$,
                'a user uploads an avatar into their own folder');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('avatars', tests.get_supabase_uid('quin') || '/me.png', tests.get_supabase_uid('pia')::text)$$,
                 '42501', null, 'a user cannot upload into someone else''s avatar folder');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id) values ('avatars', 'loose.png', tests.get_supabase_uid('pia')::text)$$,
                 '42501', null, 'a user cannot upload outside any user folder');
select is((select count(*)::int from storage.objects where bucket_id = 'avatars'), 1, 'the owner can list their own avatar folder');

select tests.authenticate_as('quin');
select is((select count(*)::int from storage.objects where bucket_id = 'avatars'), 0,
          'another user cannot list Pia''s folder (public files are served by URL, not listing)');
update storage.objects set name = tests.get_supabase_uid('quin') || '/stolen.png' where bucket_id = 'avatars';
select tests.as_superuser();
select is((select count(*)::int from storage.objects where name like tests.get_supabase_uid('pia') || '/%'), 1,
          'another user cannot move Pia''s avatar');

select tests.clear_authentication();
select throws_ok($$insert into storage.objects (bucket_id, name) values ('avatars', 'x/y.png')$$, '42501', null,
                 'anonymous visitors cannot upload');

select * from finish();
rollback;
