-- Identity: every sign-up gets a profile; usernames are validated and unique; users edit only
-- what is theirs to edit; become_host and admin marking work as designed.
begin;
select plan(47);

-- Sign-up creates a profile
select tests.create_supabase_user('alice', 'alice@example.test', '{"username":"Alice_1","display_name":"Alice A.","timezone":"Europe/Lisbon","locale":"pt-BR"}');
select results_eq($$select username, display_name, timezone, locale, is_host, host_status from public.profiles where id = tests.get_supabase_uid('alice')$$,
                  $$values ('alice_1'::text, 'Alice A.'::text, 'Europe/Lisbon'::text, 'pt-BR'::text, false, 'none'::text)$$,
                  'a sign-up gets a guest profile with the requested username (lower-cased), display name, time zone and locale');

select tests.create_supabase_user('alice-again', 'alice2@example.test', '{"username":"alice_1"}');
select is((select username from public.profiles where id = tests.get_supabase_uid('alice-again')), 'alice_1_2',
          'a taken username is made unique with a suffix');

select tests.create_supabase_user('noname', 'Bob.Smith+events@example.test', '{}');
select is((select username from public.profiles where id = tests.get_supabase_uid('noname')), 'bob_smith_events',
          'without a requested username one is derived from the email');
select tests.create_supabase_user('adminmail', 'admin@example.test', '{}');
select matches((select username from public.profiles where id = tests.get_supabase_uid('adminmail')), '^user_[0-9a-f]{8}$',
               'an email whose name is reserved gets a neutral generated username');
select tests.create_supabase_user('badtz', 'tz@example.test', '{"username":"tz_user","timezone":"Mars/Olympus"}');
select is((select timezone from public.profiles where id = tests.get_supabase_uid('badtz')), 'UTC',
          'an unknown time zone at sign-up falls back to UTC');

select throws_ok($$select tests.create_supabase_user('bad1', 'bad1@example.test', '{"username":"no spaces!"}')$$,
                 '22023', 'A username has 3 to 30 characters: lowercase letters, digits and underscores.',
                 'a sign-up asking for an invalid username is refused with 22023');
select throws_ok($$select tests.create_supabase_user('bad2', 'bad2@example.test', '{"username":"ab"}')$$,
                 '22023', null, 'a two-character username is refused');
select throws_ok($$select tests.create_supabase_user('bad3', 'bad3@example.test', '{"username":"Admin"}')$$,
                 '22023', 'The username "admin" is reserved.', 'a reserved username is refused');
select is((select count(*)::int from auth.users where email in ('bad1@example.test', 'bad2@example.test', 'bad3@example.test')), 0,
          'a refused sign-up writes nothing, not even the auth user');

-- the error carries the stable hint code
select tests.raises_hint($$select tests.create_supabase_user('bad4', 'bad4@example.test', '{"username":"root"}')$$,
          'username_reserved', 'the hint of a reserved username is username_reserved');

-- Reading
select tests.create_supabase_user('bob', 'bob@example.test', '{"username":"bob"}');
select tests.create_supabase_user('hana', 'hana@example.test', '{"username":"hana"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('hana');
select tests.create_supabase_user('ada', 'ada@example.test', '{"username":"ada_admin"}', '{"role":"admin"}');

select tests.clear_authentication();
select ok((select count(*) from public.profiles) >= 5, 'anonymous visitors can read profiles');
select tests.authenticate_as('bob');
select is((select username from public.profiles where id = tests.get_supabase_uid('alice')), 'alice_1',
          'a signed-in user can read other users'' profiles');

-- Editing one's own profile
select lives_ok($$update public.profiles set display_name = 'Bobby', bio = 'I like jazz', city = 'Porto', timezone = 'Europe/Lisbon'
                  where id = tests.get_supabase_uid('bob')$$, 'a user edits their own display name, bio, city and time zone');
select is((select display_name from public.profiles where id = tests.get_supabase_uid('bob')), 'Bobby', 'and the edit is stored');
select lives_ok($$update public.profiles set username = 'Bob_Jazz' where id = tests.get_supabase_uid('bob')$$,
                'a user may change their username');
select is((select username from public.profiles where id = tests.get_supabase_uid('bob')), 'bob_jazz', 'the new username is lower-cased');
select throws_ok($$update public.profiles set username = 'hana' where id = tests.get_supabase_uid('bob')$$,
                 'P0001', 'The username "hana" is already taken.', 'taking someone else''s username is refused with P0001');
select tests.raises_hint($$update public.profiles set username = 'hana' where id = tests.get_supabase_uid('bob')$$,
          'username_taken', 'with hint username_taken');
select throws_ok($$update public.profiles set username = 'x' where id = tests.get_supabase_uid('bob')$$,
                 '22023', null, 'an invalid new username is refused with 22023');
select throws_ok($$update public.profiles set timezone = 'Nowhere/City' where id = tests.get_supabase_uid('bob')$$,
                 '22023', null, 'an unknown time zone is refused with 22023');
select tests.raises_hint($$update public.profiles set timezone = 'Nowhere/City' where id = tests.get_supabase_uid('bob')$$,
          'invalid_timezone', 'with hint invalid_timezone');
select throws_ok($$update public.profiles set bio = repeat('x', 501) where id = tests.get_supabase_uid('bob')$$,
                 '22023', null, 'a bio over 500 characters is refused');
select throws_ok($$update public.profiles set display_name = '   ' where id = tests.get_supabase_uid('bob')$$,
                 '22023', null, 'a blank display name is refused');
select throws_ok($$update public.profiles set avatar_path = tests.get_supabase_uid('alice')::text || '/a.png' where id = tests.get_supabase_uid('bob')$$,
                 '22023', null, 'an avatar path in someone else''s folder is refused');
select lives_ok($$update public.profiles set avatar_path = tests.get_supabase_uid('bob')::text || '/me.png' where id = tests.get_supabase_uid('bob')$$,
                'an avatar path in one''s own folder is accepted');

-- What users may not touch
select throws_ok($$update public.profiles set is_host = true where id = tests.get_supabase_uid('bob')$$,
                 '42501', null, 'a user cannot promote themselves to host by editing is_host');
select throws_ok($$update public.profiles set host_status = 'active' where id = tests.get_supabase_uid('bob')$$,
                 '42501', null, 'a user cannot edit host_status');
select throws_ok($$update public.profiles set followers_count = 1000000 where id = tests.get_supabase_uid('bob')$$,
                 '42501', null, 'a user cannot inflate their follower count');
select throws_ok($$update public.profiles set rating_sum = 500 where id = tests.get_supabase_uid('bob')$$,
                 '42501', null, 'a user cannot edit their rating');
update public.profiles set display_name = 'Hacked' where id = tests.get_supabase_uid('alice');
select tests.as_superuser();
select is((select display_name from public.profiles where id = tests.get_supabase_uid('alice')), 'Alice A.',
          'editing another user''s profile changes nothing');
select tests.authenticate_as('bob');
select throws_ok($$insert into public.profiles (id, username, display_name) values (gen_random_uuid(), 'sneaky', 'S')$$,
                 '42501', null, 'users cannot insert profiles (sign-up does)');
select throws_ok($$delete from public.profiles where id = tests.get_supabase_uid('bob')$$,
                 '42501', null, 'users cannot delete profiles directly');
select throws_ok($$update auth.users set raw_app_meta_data = '{"role":"admin"}' where id = tests.get_supabase_uid('bob')$$,
                 '42501', null, 'a user cannot write app_metadata to make themselves admin');

-- Anonymous visitors change nothing
select tests.clear_authentication();
select throws_ok($$update public.profiles set display_name = 'Anon' where id = tests.get_supabase_uid('bob')$$,
                 '42501', null, 'anonymous visitors cannot edit profiles');
select throws_ok($$select public.become_host()$$, '42501', 'You need to sign in to do this.',
                 'anonymous visitors cannot become hosts');
select tests.raises_hint($$select public.become_host()$$, 'not_authenticated', 'with hint not_authenticated');

-- become_host
select tests.authenticate_as('bob');
select is((select user_role from (select (tests.access_token_claims('bob') ->> 'user_role') as user_role) t), 'guest',
          'a new user''s token says user_role = guest');
select results_eq($$select is_host, host_status from public.become_host()$$, $$values (true, 'active'::text)$$,
                  'become_host makes the caller an active host');
select results_eq($$select is_host, host_status from public.become_host()$$, $$values (true, 'active'::text)$$,
                  'become_host is idempotent');
select is(tests.access_token_claims('bob') ->> 'user_role', 'host', 'after become_host a new token says user_role = host');
select tests.as_superuser();
update public.profiles set host_status = 'suspended' where id = tests.get_supabase_uid('hana');
select tests.authenticate_as('hana');
select throws_ok($$select public.become_host()$$, 'P0001', 'Your hosting rights are suspended.',
                 'a suspended host cannot reinstate themselves');

-- Admins
select is(tests.access_token_claims('ada') ->> 'user_role', 'admin', 'app_metadata.role = admin gives user_role = admin');
select tests.create_supabase_user('mallory', 'mallory@example.test', '{"username":"mallory","role":"admin"}');
select is(tests.access_token_claims('mallory') ->> 'user_role', 'guest', 'claiming admin in user_metadata gives nothing');
select tests.authenticate_as('ada');
select throws_ok($$select public.set_user_admin(tests.get_supabase_uid('bob'), true)$$, '42501', null,
                 'even an admin cannot mark admins through the API; only the service role can');
select tests.authenticate_as_service_role();
select is(public.set_user_admin(tests.get_supabase_uid('bob'), true) ->> 'role', 'admin', 'the service role marks a user as admin');
select is(tests.access_token_claims('bob') ->> 'user_role', 'admin', 'and their next token says user_role = admin');
select throws_ok($$select public.set_user_admin(gen_random_uuid(), true)$$, '22023', 'No user has this id.',
                 'marking an unknown user is refused with 22023');

select * from finish();
rollback;
