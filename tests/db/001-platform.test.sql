-- The local platform contract behaves as a new Supabase project does (sql/platform/ and
-- rally_platform_hooks). If one of these fails, tests of Rally's own schema could pass locally
-- and fail on the platform, or fail locally where the platform allows. Runs as `postgres`, as
-- `supabase test db` connects; everything it tries is rolled back.
begin;
select plan(106);

-- ---------- roles and memberships ----------
select ok(not rolsuper and rolbypassrls and rolcreatedb and rolcreaterole and rolcanlogin and rolreplication,
          'postgres is not a superuser but bypasses RLS, replicates and may create databases and roles')
  from pg_roles where rolname = 'postgres';
select is(current_user::text, 'postgres', 'the suite runs as postgres, as supabase test db connects');
select ok(rolsuper, 'supabase_admin is the superuser') from pg_roles where rolname = 'supabase_admin';
select ok(not rolcanlogin and rolinherit and not rolbypassrls, 'anon is a NOLOGIN role subject to RLS')
  from pg_roles where rolname = 'anon';
select ok(not rolcanlogin and rolinherit and not rolbypassrls, 'authenticated is a NOLOGIN role subject to RLS')
  from pg_roles where rolname = 'authenticated';
select ok(rolbypassrls and not rolcanlogin, 'service_role bypasses RLS and cannot log in')
  from pg_roles where rolname = 'service_role';
select ok(rolcanlogin and not rolinherit, 'authenticator logs in and inherits nothing')
  from pg_roles where rolname = 'authenticator';
select ok(pg_has_role('authenticator', 'anon', 'member') and pg_has_role('authenticator', 'authenticated', 'member')
          and pg_has_role('authenticator', 'service_role', 'member'), 'authenticator may switch to every API role');
select is(array(select r.rolname::text from pg_auth_members m join pg_roles r on r.oid = m.roleid
                 where m.member = 'postgres'::regrole order by 1),
          array['anon', 'authenticated', 'pg_monitor', 'pg_read_all_data', 'pg_signal_backend',
                'service_role', 'supabase_functions_admin'],
          'postgres holds exactly the platform''s memberships: the API roles, pg_monitor, pg_read_all_data, pg_signal_backend, supabase_functions_admin');
select is(array(select setting from pg_db_role_setting s, unnest(s.setconfig) as setting
                 where s.setrole = 'anon'::regrole and s.setdatabase = 0),
          array['statement_timeout=3s'], 'anon statements time out after 3 s, as on the platform');
select is(array(select setting from pg_db_role_setting s, unnest(s.setconfig) as setting
                 where s.setrole = 'authenticated'::regrole and s.setdatabase = 0),
          array['statement_timeout=8s'], 'authenticated statements time out after 8 s');
select ok(not rolcreaterole, 'supabase_auth_admin may not create roles') from pg_roles where rolname = 'supabase_auth_admin';
select ok('idle_in_transaction_session_timeout=60000' = any(
            (select setconfig from pg_db_role_setting where setrole = 'supabase_auth_admin'::regrole and setdatabase = 0)::text[]),
          'supabase_auth_admin is cut off after 60 s idle in a transaction');

-- What supautils refuses to postgres (rally_platform_hooks locally)
select throws_ok('set role supabase_storage_admin', '42501', null, 'postgres may not become supabase_storage_admin');
select throws_ok('set role supabase_realtime_admin', '42501', null, 'postgres may not become supabase_realtime_admin');
select throws_ok('grant supabase_storage_admin to postgres', '42501',
                 '"supabase_storage_admin" role memberships are reserved, only superusers can grant them',
                 'postgres may not grant itself a reserved membership');
select throws_ok('alter role supabase_storage_admin set search_path = public', '42501',
                 '"supabase_storage_admin" is a reserved role, only superusers can modify it',
                 'postgres may not change a reserved role''s settings');
select throws_ok('alter role anon bypassrls', '42501', '"anon" is a reserved role, only superusers can modify it',
                 'postgres may not give an API role BYPASSRLS');
select lives_ok($$alter role authenticated set statement_timeout = '8s'$$,
                'postgres may set a setting on an API role (reserved with *), as on the platform');
select throws_ok('drop role supabase_auth_admin', '42501', null, 'postgres may not drop a platform role');
select lives_ok($$set local session_replication_role = replica$$,
                'postgres may set session_replication_role (privileged_role_allowed_configs)');
set local session_replication_role = origin;

-- ---------- schemas, owners, default privileges ----------
select is((select nspowner::regrole::text from pg_namespace where nspname = s), 'supabase_admin',
          format('schema %s is owned by supabase_admin', s))
  from unnest(array['auth', 'storage', 'realtime']) as s;
select is((select nspowner::regrole::text from pg_namespace where nspname = 'extensions'), 'postgres',
          'schema extensions is owned by postgres, as the init scripts leave it');
select is(array(select extowner::regrole::text from pg_extension where extname in ('pgcrypto', 'uuid-ossp')),
          array['postgres', 'postgres'], 'pgcrypto and uuid-ossp belong to postgres');
select is((select datdba::regrole::text from pg_database where datname = current_database()), 'postgres',
          'postgres owns the project database');
select lives_ok('create function extensions.contract_probe() returns int language sql as ''select 1''',
                'postgres may create functions in extensions');

-- ---------- extensions ----------
select ok(not exists (select 1 from pg_extension where extname in ('citext', 'plpgsql_check', 'pg_graphql')),
          'nothing beyond the defaults is pre-created: no citext, plpgsql_check or pg_graphql');
select ok(exists (select 1 from pg_extension where extname = 'pg_stat_statements'), 'pg_stat_statements is a default extension');
select lives_ok('select count(*) from extensions.pg_stat_statements', 'and it is preloaded, so its view answers');
select is((select extnamespace::regnamespace::text from pg_extension where extname = 'pg_cron'), 'pg_catalog',
          'pg_cron, created by a migration, was forced into pg_catalog');
select lives_ok('create extension if not exists citext with schema extensions',
                'postgres may create an allow-listed extension');
select is((select extowner::regrole::text from pg_extension where extname = 'citext'), 'supabase_admin',
          'which is created as the platform''s superuser');
select throws_ok('create extension adminpack', '42501', null, 'postgres may not create an extension outside the allow-list');
select has_function('extensions', 'sign', array['json', 'text', 'text'], 'pgjwt''s sign(payload, secret, algorithm) exists');
select is((select valid from extensions.verify(extensions.sign('{"sub":"1"}', 'secret'), 'secret')), true,
          'and a token it signs verifies');
select function_returns('net', 'http_post', array['text', 'jsonb', 'jsonb', 'jsonb', 'integer'], 'bigint',
                        'pg_net''s http_post(url, body, params, headers, timeout_milliseconds) returns a request id');
select has_function('vault', 'create_secret', array['text', 'text', 'text', 'uuid'], 'Vault''s create_secret exists');

-- ---------- pg_cron: jobs through its API, cron.job read-only ----------
select lives_ok($$select cron.schedule('contract-probe', '0 3 * * *', 'select 1')$$, 'postgres schedules a job');
select lives_ok($$select cron.unschedule('contract-probe')$$, 'and unschedules it');
select lives_ok('select count(*) from cron.job', 'postgres reads cron.job');
select throws_ok('update cron.job set active = active', '42501', null, 'but may not write it');
select throws_ok('delete from cron.job', '42501', null, 'or delete from it');
select lives_ok('select count(*) from cron.job_run_details', 'postgres reads cron.job_run_details');

-- ---------- auth ----------
select is((select count(*)::int from pg_tables where schemaname = 'auth'), 23, 'auth has GoTrue''s 23 tables');
select has_column('auth', 'sessions', c, format('auth.sessions.%s exists as in GoTrue', c))
  from unnest(array['id', 'user_id', 'factor_id', 'aal', 'not_after', 'refreshed_at', 'user_agent', 'ip', 'tag',
                    'oauth_client_id', 'refresh_token_hmac_key', 'refresh_token_counter', 'scopes']) as c;
select col_type_is('auth', 'refresh_tokens', 'id', 'bigint', 'auth.refresh_tokens.id is a bigserial');
select fk_ok('auth', 'refresh_tokens', 'session_id', 'auth', 'sessions', 'id', 'a refresh token belongs to a session');
select ok(has_table_privilege('postgres', 'auth.sessions', 'insert,update,delete')
          and has_table_privilege('postgres', 'auth.sessions', 'select with grant option'),
          'supabase_auth_admin''s default privileges give postgres every privilege on GoTrue''s tables');
select lives_ok($$create policy contract_probe on auth.users for select to authenticated using (id = (select auth.uid()))$$,
                'postgres may create policies on auth.users (policy_grants)');
select throws_ok($$create policy contract_probe on auth.mfa_factors for select using (true)$$, '42501', null,
                 'but not on auth tables the platform does not list');
select throws_ok('create table auth.x (id int)', '42501', null, 'postgres may not create tables in auth');
select lives_ok($$create trigger contract_probe after insert on auth.users for each row execute function suppress_redundant_updates_trigger()$$,
                'postgres may create triggers on auth.users');

-- ---------- storage ----------
select has_column('storage', 'objects', c, format('storage.objects.%s exists as in the Storage API', c))
  from unnest(array['archived_at', 'is_delete_marker', 'is_versioned', 'user_metadata', 'version']) as c;
select throws_ok($$insert into storage.buckets (id, name, versioning_status) values ('contract-v', 'contract-v', 'ENABLED')$$,
                 '23514', null, 'bucket versioning is not enabled yet on the platform');
select throws_ok('create table storage.x (id int)', '42501', null, 'postgres may not create tables in storage');
select lives_ok($$create policy contract_probe on storage.objects for select to authenticated using (bucket_id = 'probe')$$,
                'postgres may create policies on storage.objects');
select throws_ok('alter table storage.objects disable row level security', '42501', null,
                 'postgres may not alter storage.objects itself');
select lives_ok('drop trigger protect_objects_delete on storage.objects',
                'postgres may drop the Storage API''s delete guard (drop_trigger_grants)');

-- ---------- realtime ----------
select throws_ok('create table realtime.x (id int)', '42501', null, 'postgres may not create tables in realtime');
select lives_ok($$create policy contract_probe on realtime.messages for select to authenticated using (topic = 'probe')$$,
                'postgres may create policies on realtime.messages');
select throws_ok('drop table realtime.messages', '42501', null, 'postgres may not drop realtime.messages');
select ok(not exists (select 1 from pg_partitioned_table where partrelid = 'realtime.messages'::regclass and partdefid <> 0),
          'realtime.messages has no default partition');
select ok(to_regclass('realtime.messages_' || to_char(now() at time zone 'utc', 'YYYY_MM_DD')) is not null,
          'today''s daily partition exists, as the Realtime server keeps them');
select throws_ok($$insert into realtime.messages (topic, extension, inserted_at) values ('contract:late', 'broadcast', now() + interval '30 days')$$,
                 '23514', null, 'a message for a day without a partition is refused');
select throws_ok($$insert into realtime.messages (topic, extension, payload, binary_payload) values ('contract:both', 'broadcast', '{}', '\x00')$$,
                 '23514', null, 'a message carries a JSON or a binary payload, not both');
select tests.authenticate_as_service_role();
select realtime.send('{"hello":"world"}', 'greeting', 'contract:probe', true);
select realtime.send_binary('\x0102', 'bytes', 'contract:binary', true);
select tests.as_superuser();
select results_eq($$select event, payload ->> 'hello', private, extension from realtime.messages where topic = 'contract:probe'$$,
                  $$values ('greeting'::text, 'world'::text, true, 'broadcast'::text)$$,
                  'realtime.send stores a private broadcast row in realtime.messages');
select is((select binary_payload from realtime.messages where topic = 'contract:binary'), '\x0102'::bytea,
          'realtime.send_binary stores a binary payload');
select tests.clear_authentication();
select lives_ok($$select realtime.send('{}', 'denied', 'contract:anon', true)$$,
                'realtime.send swallows an RLS refusal instead of aborting the caller');
select tests.as_superuser();
select is((select count(*)::int from realtime.messages where topic = 'contract:anon'), 0,
          'and nothing is stored when RLS refuses the row');
select set_config('realtime.topic', 'room:1', true);
select is(realtime.topic(), 'room:1', 'realtime.topic() is the channel being authorized');
select is((select pubowner::regrole::text from pg_publication where pubname = 'supabase_realtime'), 'postgres',
          'publication supabase_realtime belongs to postgres');

-- ---------- publications and event triggers by postgres ----------
create table public.contract_probe (id int primary key);
select lives_ok('alter publication supabase_realtime add table public.contract_probe',
                'postgres may add its tables to supabase_realtime');
select lives_ok('create publication contract_probe_all for all tables', 'postgres may create a publication for all tables');
select is((select pubowner::regrole::text from pg_publication where pubname = 'contract_probe_all'), 'postgres',
          'and owns it');
create function public.contract_probe_evt() returns event_trigger language plpgsql as 'begin end';
select lives_ok('create event trigger contract_probe on ddl_command_end execute function public.contract_probe_evt()',
                'postgres may create an event trigger on its own function');
select is((select evtowner::regrole::text from pg_event_trigger where evtname = 'contract_probe'), 'postgres',
          'and owns it');

-- ---------- default privileges for new entities (either value of the project setting) ----------
create function public.contract_probe_fn() returns int language sql as 'select 1';
select ok(case when has_table_privilege('anon', 'public.contract_probe', 'select')
               then has_table_privilege('anon', 'public.contract_probe', 'select,insert,update,delete,truncate,references,trigger')
               else not has_table_privilege('anon', 'public.contract_probe', 'insert')
                    and not has_table_privilege('anon', 'public.contract_probe', 'update')
                    and not has_table_privilege('anon', 'public.contract_probe', 'delete')
                    and has_table_privilege('anon', 'public.contract_probe', 'truncate,references,trigger') end,
          'a new public table gives anon everything (setting on) or keeps TRUNCATE, REFERENCES and TRIGGER only (off): a migration must revoke all first');
select ok(has_function_privilege('anon', 'public.contract_probe_fn()', 'execute'),
          'a new public function keeps PostgreSQL''s EXECUTE for PUBLIC, as on the platform');

-- ---------- pg_net and Vault, as the schedules use them ----------
select ok(net.http_post('http://127.0.0.1:9/functions/v1/probe', '{"a":1}'::jsonb) is not null, 'net.http_post queues a request');
select results_eq($$select method::text, url, headers ->> 'Content-Type', convert_from(body, 'utf8')::jsonb ->> 'a'
                      from net.http_request_queue where url like '%/functions/v1/probe'$$,
                  $$values ('POST', 'http://127.0.0.1:9/functions/v1/probe', 'application/json', '1')$$,
                  'with its method, url, JSON content type and body, for the worker to send');
select throws_ok($$select net.http_post((select decrypted_secret from vault.decrypted_secrets where name = 'contract-missing') || '/x')$$,
                 '23502', null, 'a schedule whose Vault secret is missing fails (and shows in cron.job_run_details)');
select lives_ok($$select vault.create_secret('https://contract.example', 'contract-url')$$, 'postgres stores a Vault secret');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'contract-url'), 'https://contract.example',
          'and reads it back decrypted');
select isnt((select secret from vault.secrets where name = 'contract-url'), 'https://contract.example',
            'while vault.secrets holds only ciphertext');

-- ---------- auth helpers follow the request claims, as PostgREST sets them ----------
select set_config('request.jwt.claims',
  '{"sub":"2b5e1b1c-6a7e-4f52-9a0e-3f2b1c4d5e6f","role":"authenticated","email":"ann@example.test","app_metadata":{"role":"admin"}}', true);
select is(auth.uid(), '2b5e1b1c-6a7e-4f52-9a0e-3f2b1c4d5e6f'::uuid, 'auth.uid() is the sub claim');
select is(auth.jwt() -> 'app_metadata' ->> 'role', 'admin', 'auth.jwt() returns every claim');
select set_config('request.jwt.claims', '', true);

-- storage helpers
select is(storage.foldername('conv/user/photo.final.png'), array['conv', 'user'], 'storage.foldername lists the folders');
select is(storage.extension('conv/user/photo.final.png'), 'png', 'storage.extension is after the last dot');

select * from finish();
rollback;
