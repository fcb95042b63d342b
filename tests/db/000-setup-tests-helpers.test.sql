-- The first pgTAP file: it installs what the others need, as basejump's supabase_test_helpers
-- does, so `supabase test db` (which connects as `postgres`, not a superuser) and `npm test` run
-- the suite the same way. It commits: pgTAP (a privileged extension `postgres` may create) and
-- the `tests` schema of helpers, which let a test read like the behaviour it checks:
--   select tests.create_supabase_user('alice');
--   select tests.authenticate_as('alice');      -- exactly what PostgREST does for Alice's JWT
--   select tests.authenticate_as_service_role();
--   select tests.clear_authentication();        -- back to an anonymous request
-- Everything here is created by `postgres` in its own schema; nothing belongs to the platform.
-- The test runner also applies this file before vitest, which uses the same helpers.

set client_min_messages = warning;
create extension if not exists pgtap with schema extensions;

create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- Inserts a user the way Supabase Auth (GoTrue) does on a confirmed email sign-up: one
-- `auth.users` row plus its `auth.identities` row. `p_identifier` is the test's name for the
-- user; it is also the default username requested in the sign-up metadata.
create or replace function tests.create_supabase_user(
  p_identifier text,
  p_email text default null,
  p_user_metadata jsonb default null,
  p_app_metadata jsonb default '{}'::jsonb
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid := gen_random_uuid();
  v_email text := coalesce(p_email, p_identifier || '@example.test');
begin
  insert into auth.users (
    instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_sso_user, is_anonymous
  ) values (
    '00000000-0000-0000-0000-000000000000', v_id, 'authenticated', 'authenticated', v_email,
    extensions.crypt('password', extensions.gen_salt('bf', 4)), now(),
    jsonb_build_object('provider', 'email', 'providers', jsonb_build_array('email')) || p_app_metadata,
    coalesce(p_user_metadata, jsonb_build_object('username', p_identifier))
      || jsonb_build_object('test_identifier', p_identifier),
    now(), now(), false, false
  );
  insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at, last_sign_in_at)
  values (v_id::text, v_id, jsonb_build_object('sub', v_id::text, 'email', v_email, 'email_verified', true),
          'email', now(), now(), now());
  return v_id;
end
$$;
comment on function tests.create_supabase_user(text, text, jsonb, jsonb) is
  'Creates a confirmed email user as Supabase Auth would; returns its id.';

create or replace function tests.get_supabase_uid(p_identifier text) returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select id from auth.users where raw_user_meta_data ->> 'test_identifier' = p_identifier
$$;

-- The claims Supabase Auth would put in this user's access token, after the custom access token
-- hook when the schema has one (so `user_role` is present exactly as in production).
create or replace function tests.access_token_claims(p_identifier text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  u auth.users;
  v_claims jsonb;
  v_hooked jsonb;
begin
  select * into u from auth.users where raw_user_meta_data ->> 'test_identifier' = p_identifier;
  if u.id is null then
    raise exception 'tests: no user with identifier %', p_identifier;
  end if;
  v_claims := jsonb_build_object(
    'aud', 'authenticated', 'iat', extract(epoch from now())::bigint,
    'exp', extract(epoch from now())::bigint + 3600, 'sub', u.id::text, 'email', u.email,
    'phone', coalesce(u.phone, ''), 'role', 'authenticated', 'aal', 'aal1',
    'session_id', gen_random_uuid()::text, 'is_anonymous', false,
    'app_metadata', coalesce(u.raw_app_meta_data, '{}'::jsonb),
    'user_metadata', coalesce(u.raw_user_meta_data, '{}'::jsonb));
  if to_regprocedure('public.custom_access_token_hook(jsonb)') is not null then
    execute 'select public.custom_access_token_hook($1)'
      into v_hooked
      using jsonb_build_object('user_id', u.id, 'claims', v_claims, 'authentication_method', 'password');
    v_claims := coalesce(v_hooked -> 'claims', v_claims);
  end if;
  return v_claims;
end
$$;

-- What PostgREST does at the start of each request for a signed-in user.
create or replace function tests.authenticate_as(p_identifier text) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_claims jsonb := tests.access_token_claims(p_identifier);
begin
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims', v_claims::text, true);
end
$$;

create or replace function tests.authenticate_as_service_role() returns void
language plpgsql
set search_path = ''
as $$
begin
  perform set_config('role', 'service_role', true);
  perform set_config('request.jwt.claims', '{"role":"service_role"}', true);
end
$$;

-- An anonymous request (the anon key).
create or replace function tests.clear_authentication() returns void
language plpgsql
set search_path = ''
as $$
begin
  perform set_config('role', 'anon', true);
  perform set_config('request.jwt.claims', '{"role":"anon"}', true);
end
$$;

-- Back to the test's own connection (role `postgres`, as `supabase test db` connects), for setup
-- between requests. The name is older than the suite's move off the superuser.
create or replace function tests.as_superuser() returns void
language plpgsql
set search_path = ''
as $$
begin
  perform set_config('role', 'none', true);
  perform set_config('request.jwt.claims', '', true);
end
$$;

-- Reproduces the Realtime server's join check for a private channel: may the current request's
-- user receive (`select`) on `p_topic` for `p_extension` ('broadcast' | 'presence')?
-- The server inserts a probe row as admin, then selects it as the user under RLS.
create or replace function tests.realtime_probe(p_topic text, p_extension text default 'broadcast') returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid := gen_random_uuid();
begin
  insert into realtime.messages (id, topic, extension, private, payload, event)
  values (v_id, p_topic, p_extension, true, '{}'::jsonb, 'probe');
  return v_id;
end
$$;

create or replace function tests.can_receive_on(p_topic text, p_extension text default 'broadcast') returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_probe uuid := tests.realtime_probe(p_topic, p_extension);
  v_seen boolean;
begin
  perform set_config('realtime.topic', p_topic, true);
  select exists (select 1 from realtime.messages where id = v_probe) into v_seen;
  return v_seen;
end
$$;

-- The server's write check: may the current user send on `p_topic` (typing, presence)?
create or replace function tests.can_send_on(p_topic text, p_extension text default 'broadcast') returns boolean
language plpgsql
set search_path = ''
as $$
begin
  perform set_config('realtime.topic', p_topic, true);
  begin
    insert into realtime.messages (topic, extension, private, payload, event)
    values (p_topic, p_extension, true, '{}'::jsonb, 'probe');
    return true;
  exception when insufficient_privilege then
    return false;
  end;
end
$$;

-- What a statement raised (`tests.raised`: SQLSTATE and hint), for asserting Rally's error shape (ARCHITECTURE §4: SQLSTATE plus a
-- stable hint code). Each runs the statement as the current request and returns null when it
-- succeeds. No `set search_path` here: the statement is the test's own text and resolves names
-- as the test does.
--   select tests.raises_hint($$select public.book_event(…)$$, 'sold_out', 'a full event is refused');
--   select is(tests.error_of($$…$$), '42501 admin_only', '…');   -- SQLSTATE and hint
--   select is(tests.sqlstate_of($$…$$), '42501', '…');           -- refusals PostgreSQL itself makes
create or replace function tests.raised(p_sql text, out state text, out hint text)
language plpgsql
as $$
begin
  execute p_sql;
exception when others then
  get stacked diagnostics state = returned_sqlstate, hint = pg_exception_hint;
end
$$;

create or replace function tests.hint_of(p_sql text) returns text
language sql
as $$
  select hint from tests.raised(p_sql)
$$;

create or replace function tests.error_of(p_sql text) returns text
language sql
as $$
  select state || ' ' || coalesce(hint, '') from tests.raised(p_sql)
$$;

create or replace function tests.sqlstate_of(p_sql text) returns text
language sql
as $$
  select state from tests.raised(p_sql)
$$;

-- The pgTAP assertion "this statement is refused with this hint" (pgTAP's `is` on hint_of).
create or replace function tests.raises_hint(p_sql text, p_hint text, p_description text) returns text
language sql
as $$
  select is(tests.hint_of(p_sql), p_hint, p_description)
$$;

-- A story's named fixtures: `select tests.create_fixtures();` once (as whichever role will write
-- them), then `insert into fx select 'E', id from …` and `tests.fx('E')` wherever the id is needed.
-- The table is the session's own temporary table, so stories never see each other's fixtures.
create or replace function tests.create_fixtures() returns void
language plpgsql
as $$
begin
  create temporary table fx (name text primary key, id uuid);
  grant all on fx to public;
end
$$;

create or replace function tests.fx(p_name text) returns uuid
language plpgsql
as $$
begin
  return (select id from pg_temp.fx where name = p_name);
end
$$;

-- The id of the event with this title, read past RLS (for stories that name events by title).
create or replace function tests.event_id(p_title text) returns uuid
language sql
security definer
set search_path = ''
as $$
  select id from private.events where title = p_title
$$;

grant execute on all functions in schema tests to postgres, anon, authenticated, service_role;

-- Acts as one of the RLS matrix's actors: 'anon', 'service_role', or a test user's identifier.
create or replace function tests.act_as(p_actor text) returns void
language plpgsql
set search_path = ''
as $$
begin
  case p_actor
    when 'anon' then perform tests.clear_authentication();
    when 'service_role' then perform tests.authenticate_as_service_role();
    else perform tests.authenticate_as(p_actor);
  end case;
end
$$;

-- Runs one cell of an RLS matrix as `p_actor` and undoes whatever it wrote. Returns
-- 'rows:N' (rows a SELECT saw, or rows an INSERT/UPDATE/DELETE touched; 0 means RLS filtered
-- them out) or 'error:SQLSTATE' (42501 when a grant or a WITH CHECK refused it).
create or replace function tests.rls_outcome(p_actor text, p_sql text) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_rows bigint;
begin
  begin
    perform tests.act_as(p_actor);
    if p_sql ~* '^\s*(select|with)\s' then
      execute format('select count(*) from (%s) as cell', p_sql) into v_rows;
    else
      execute p_sql;
      get diagnostics v_rows = row_count;
    end if;
    -- Abort the subtransaction on purpose so the cell leaves nothing behind.
    raise exception using errcode = 'RLS00', message = v_rows::text;
  exception when others then
    if sqlstate = 'RLS00' then
      return 'rows:' || sqlerrm;
    end if;
    return 'error:' || sqlstate;
  end;
end
$$;
grant execute on all functions in schema tests to postgres, anon, authenticated, service_role;

-- Tests run the jobs themselves (select private.expire_stale_bookings(), …) at the moment they
-- choose; pg_cron firing the same jobs in the background would make their outcomes racy.
-- `cron.job` is read-only for `postgres`; its own jobs are paused through pg_cron's API.
do $jobs$
declare
  v_job record;
begin
  if to_regclass('cron.job') is not null then
    for v_job in select jobid from cron.job where active and username = current_user loop
      perform cron.alter_job(v_job.jobid, active := false);
    end loop;
  end if;
end
$jobs$;

begin;
select plan(14);
select has_extension('pgtap', 'pgTAP is installed for the suite');
select has_function('tests', 'authenticate_as', array['text'], 'the tests schema of helpers is installed');
select is(tests.hint_of($$select private.raise_error('22023', 'probe_code', 'A probe.')$$), 'probe_code',
          'hint_of reads the hint a Rally error carries');
select is(tests.hint_of($$select 1$$), null, 'and is null when the statement succeeds');
select is(tests.error_of($$select private.raise_error('42501', 'probe_code', 'A probe.')$$), '42501 probe_code',
          'error_of reads the SQLSTATE and the hint');
select is(tests.sqlstate_of($$select 1 / 0$$), '22012', 'sqlstate_of reads the SQLSTATE of a refusal PostgreSQL makes itself');
select * from check_test(tests.raises_hint($$select private.raise_error('P0001', 'probe_code', 'A probe.')$$, 'probe_code', 'the right hint'),
                         true, 'raises_hint passes on the hint the statement raises', 'the right hint', '');
select * from check_test(tests.raises_hint($$select private.raise_error('P0001', 'probe_code', 'A probe.')$$, 'other_code', 'a wrong hint'),
                         false, 'raises_hint fails on another hint', 'a wrong hint',
                         E'        have: probe_code\n        want: other_code');
select tests.create_fixtures();
insert into fx values ('probe', '00000000-0000-0000-0000-00000000000a');
select is(tests.fx('probe'), '00000000-0000-0000-0000-00000000000a'::uuid, 'fx reads a fixture the story named');
select is((select count(*) from cron.job where active and username = current_user)::integer, 0,
          'no Rally job runs in the background while the suite runs them itself');
select * from finish();
rollback;
