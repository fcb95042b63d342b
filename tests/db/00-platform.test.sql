-- The local platform contract behaves as Supabase does (sql/platform/). If one of these fails,
-- tests of Rally's own schema could pass locally and fail on the platform.
begin;
select plan(42);

-- Roles
select ok(not rolsuper and rolbypassrls and rolcreatedb and rolcreaterole and rolcanlogin,
          'postgres is not a superuser but bypasses RLS and may create databases and roles')
  from pg_roles where rolname = 'postgres';
select ok(rolsuper, 'supabase_admin is the superuser') from pg_roles where rolname = 'supabase_admin';
select ok(not rolcanlogin and rolinherit and not rolbypassrls, 'anon is a NOLOGIN role subject to RLS')
  from pg_roles where rolname = 'anon';
select ok(not rolcanlogin and not rolbypassrls, 'authenticated is a NOLOGIN role subject to RLS')
  from pg_roles where rolname = 'authenticated';
select ok(rolbypassrls and not rolcanlogin, 'service_role bypasses RLS and cannot log in')
  from pg_roles where rolname = 'service_role';
select ok(rolcanlogin and not rolinherit, 'authenticator logs in and inherits nothing')
  from pg_roles where rolname = 'authenticator';
select ok(pg_has_role('authenticator', 'anon', 'member') and pg_has_role('authenticator', 'authenticated', 'member')
          and pg_has_role('authenticator', 'service_role', 'member'), 'authenticator may switch to every API role');
select ok(pg_has_role('postgres', 'anon', 'member') and pg_has_role('postgres', 'service_role', 'member'),
          'postgres may switch to the API roles');
select ok(not pg_has_role('postgres', 'supabase_auth_admin', 'member'), 'postgres is not a member of supabase_auth_admin');
select is((select setconfig from pg_db_role_setting where setrole = 'anon'::regrole and setdatabase = 0),
          array['statement_timeout=3s'], 'anon statements time out after 3 s, as on the platform');
select is((select setconfig from pg_db_role_setting where setrole = 'authenticated'::regrole and setdatabase = 0),
          array['statement_timeout=8s'], 'authenticated statements time out after 8 s');
select ok(exists (select 1 from pg_roles where rolname in ('supabase_storage_admin'))
          and exists (select 1 from pg_roles where rolname = 'supabase_realtime_admin'),
          'the storage and realtime admin roles exist');

-- Schemas
select is((select nspowner::regrole::text from pg_namespace where nspname = s), 'supabase_admin',
          format('schema %s is owned by supabase_admin', s))
  from unnest(array['auth', 'storage', 'realtime', 'extensions']) as s;
select is((select datdba::regrole::text from pg_database where datname = current_database()), 'postgres',
          'postgres owns the project database');

set local role postgres;
select throws_ok('create table auth.x (id int)', '42501', null, 'postgres is refused create table auth.x');
select throws_ok('create table storage.x (id int)', '42501', null, 'postgres is refused new tables in storage');
select throws_ok('create table realtime.x (id int)', '42501', null, 'postgres is refused new tables in realtime');
select lives_ok($$create policy contract_probe on storage.objects for select to authenticated using (bucket_id = 'probe')$$,
                'postgres may create policies on storage.objects, as supautils allows');
select lives_ok($$create policy contract_probe on realtime.messages for select to authenticated using (topic = 'probe')$$,
                'postgres may create policies on realtime.messages');
select throws_ok('alter table storage.objects disable row level security', '42501', null,
                 'postgres may not alter storage.objects itself');
select throws_ok('drop table realtime.messages', '42501', null, 'postgres may not drop realtime.messages');
select lives_ok($$create trigger contract_probe after insert on auth.users for each row execute function suppress_redundant_updates_trigger()$$,
                'postgres may create triggers on auth.users');

-- Default privileges: new public objects are not exposed until granted
create table public.contract_probe (id int);
create function public.contract_probe_fn() returns int language sql as 'select 1';
select ok(not has_table_privilege('anon', 'public.contract_probe', 'select')
          and not has_table_privilege('authenticated', 'public.contract_probe', 'select')
          and not has_table_privilege('service_role', 'public.contract_probe', 'select'),
          'a new public table is reachable by no API role until a migration grants it');
select ok(has_function_privilege('anon', 'public.contract_probe_fn()', 'execute'),
          'a new public function keeps PostgreSQL''s EXECUTE for PUBLIC, as on the platform');
reset role;

-- auth helpers follow the request claims, as PostgREST sets them
select set_config('request.jwt.claims',
  '{"sub":"2b5e1b1c-6a7e-4f52-9a0e-3f2b1c4d5e6f","role":"authenticated","email":"ann@example.test","app_metadata":{"role":"admin"}}', true);
select is(auth.uid(), '2b5e1b1c-6a7e-4f52-9a0e-3f2b1c4d5e6f'::uuid, 'auth.uid() is the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.email(), 'ann@example.test', 'auth.email() is the email claim');
select is(auth.jwt() -> 'app_metadata' ->> 'role', 'admin', 'auth.jwt() returns every claim');
select set_config('request.jwt.claims', '', true);
select is(auth.uid(), null, 'auth.uid() is null without claims (after a request ends the setting reads empty)');

-- storage helpers
select is(storage.foldername('conv/user/photo.final.png'), array['conv', 'user'], 'storage.foldername lists the folders');
select is(storage.filename('conv/user/photo.final.png'), 'photo.final.png', 'storage.filename is the last segment');
select is(storage.extension('conv/user/photo.final.png'), 'png', 'storage.extension is after the last dot');
insert into storage.buckets (id, name) values ('contract-probe', 'contract-probe');
select throws_ok($$delete from storage.buckets where id = 'contract-probe'$$, '42501', null,
                 'deleting storage rows directly is refused unless storage.allow_delete_query is set');

-- realtime
select tests.authenticate_as_service_role();
select realtime.send('{"hello":"world"}', 'greeting', 'contract:probe', true);
select tests.as_superuser();
select results_eq($$select event, payload ->> 'hello', private, extension from realtime.messages where topic = 'contract:probe'$$,
                  $$values ('greeting'::text, 'world'::text, true, 'broadcast'::text)$$,
                  'realtime.send stores a private broadcast row in realtime.messages');
select tests.clear_authentication();
select lives_ok($$select realtime.send('{}', 'denied', 'contract:anon', true)$$,
                'realtime.send swallows an RLS refusal instead of aborting the caller');
select tests.as_superuser();
select is((select count(*)::int from realtime.messages where topic = 'contract:anon'), 0,
          'and nothing is stored when RLS refuses the row');
select set_config('realtime.topic', 'room:1', true);
select is(realtime.topic(), 'room:1', 'realtime.topic() is the channel being authorized');
select ok(exists (select 1 from pg_publication where pubname = 'supabase_realtime'), 'publication supabase_realtime exists');
select ok((select relkind = 'p' from pg_class where oid = 'realtime.messages'::regclass),
          'realtime.messages is partitioned, as on the platform');

select * from finish();
rollback;
