-- The custom access token hook adds user_role, and nobody but Supabase Auth can call it.
-- The suite runs as `postgres`, which (as on the platform) cannot become supabase_auth_admin, so
-- the answers are read as the hook's owner; tests/platform/gotrue-hook.test.ts calls it as
-- supabase_auth_admin under RLS, the way GoTrue does.
begin;
select plan(10);

select tests.create_supabase_user('gina', 'gina@example.test', '{"username":"gina"}');
select tests.create_supabase_user('hugo', 'hugo@example.test', '{"username":"hugo"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('hugo');

create temp table hook_event as
select jsonb_build_object('user_id', tests.get_supabase_uid('gina'), 'authentication_method', 'password',
  'claims', jsonb_build_object('aud', 'authenticated', 'sub', tests.get_supabase_uid('gina'), 'role', 'authenticated',
                               'email', 'gina@example.test', 'app_metadata', '{"provider":"email"}'::jsonb,
                               'session_id', 'abc', 'is_anonymous', false)) as event,
       tests.get_supabase_uid('hugo') as hugo_id;

create temp table hook_answers as
select public.custom_access_token_hook(event) as plain,
       public.custom_access_token_hook(jsonb_set(event, '{user_id}', to_jsonb(hugo_id))) as host,
       public.custom_access_token_hook(jsonb_set(event, '{claims,app_metadata}', '{"role":"admin"}')) as admin,
       public.custom_access_token_hook(jsonb_set(event, '{claims,user_metadata}', '{"role":"admin"}')) as user_metadata_admin
  from hook_event;

select is((select plain -> 'claims' ->> 'user_role' from hook_answers), 'guest', 'Supabase Auth gets user_role = guest for a new user');
select is((select plain -> 'claims' ->> 'email' from hook_answers), 'gina@example.test', 'the hook keeps every claim Supabase Auth requires');
select is((select host -> 'claims' ->> 'user_role' from hook_answers), 'host', 'a host gets user_role = host');
select is((select admin -> 'claims' ->> 'user_role' from hook_answers), 'admin', 'app_metadata.role = admin gets user_role = admin');
select is((select user_metadata_admin -> 'claims' ->> 'user_role' from hook_answers), 'guest',
          'user_metadata (which users edit freely) never grants admin');

select ok(not has_function_privilege('anon', 'public.custom_access_token_hook(jsonb)', 'execute'), 'anon cannot call the hook');
select ok(not has_function_privilege('authenticated', 'public.custom_access_token_hook(jsonb)', 'execute'),
          'signed-in users cannot call the hook to mint claims');
select ok(has_function_privilege('supabase_auth_admin', 'public.custom_access_token_hook(jsonb)', 'execute'),
          'Supabase Auth can call the hook');
select ok(has_column_privilege('supabase_auth_admin', 'public.profiles', 'is_host', 'select')
          and not has_column_privilege('supabase_auth_admin', 'public.profiles', 'bio', 'select'),
          'Supabase Auth may read whether a profile is a host, and nothing else about it');
select ok(exists (select 1 from pg_policies where schemaname = 'public' and tablename = 'profiles'
                   and cmd = 'SELECT' and roles = array['supabase_auth_admin']::name[]),
          'a policy lets Supabase Auth read that column under RLS');

select * from finish();
rollback;
