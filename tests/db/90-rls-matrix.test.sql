-- The RLS matrix: for every table and view the Data API exposes, what each kind of caller may
-- select / insert / update / delete. Actors: anon, the row's owner, another user, a host,
-- a co-host, an admin, and the service role. 'rows:1' = allowed, 'rows:0' = RLS hides the
-- row, 'error:42501' = refused by grants or WITH CHECK. Every cell runs against the real
-- schema and is undone afterwards. A new exposed table without a section here fails the gate.
begin;
select plan(61);

select tests.create_supabase_user('owner', 'owner@example.test', '{"username":"owner"}');
select tests.create_supabase_user('other', 'other@example.test', '{"username":"other"}');
select tests.create_supabase_user('host', 'host@example.test', '{"username":"a_host"}');
select tests.create_supabase_user('cohost', 'cohost@example.test', '{"username":"cohost"}');
select tests.create_supabase_user('admin', 'admin@example.test', '{"username":"the_admin"}', '{"role":"admin"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('host');
select private.notify(tests.get_supabase_uid('owner'), 'welcome', 'Welcome to Rally');

-- The gate: every exposed table and view has a section in this file.
select is_empty($$
  select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p', 'f')
  except
  select unnest(array['profiles', 'notifications'])
$$, 'every table and view in public has an RLS matrix section');
select is_empty($$
  select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
$$, 'every table in public has row level security enabled');

-- A cell: (table, actor, action, statement, expected outcome)
create temp table matrix (tbl text, actor text, action text, stmt text, expected text);
grant select on matrix to public;

-- profiles: everyone reads; only the owner edits (editable columns); nobody but the service role inserts or deletes.
-- (The sign-up trigger already made the new user's profile, so the service role's permitted insert
-- stops at the duplicate key, 23505, not at a privilege check.)
insert into matrix
select 'profiles', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.profiles where id = tests.get_supabase_uid('owner')$$,
   array['rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1']),
  ('insert', $$insert into public.profiles (id, username, display_name) values (tests.create_supabase_user('matrix_new_' || floor(random() * 1e9)::text), 'matrix_dup_' || floor(random() * 1e9)::text, 'X')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:23505']),
  ('update', $$update public.profiles set bio = 'changed' where id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('delete', $$delete from public.profiles where id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- notifications: only the recipient reads them and marks them read; the platform writes them.
insert into matrix
select 'notifications', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.notifications where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.notifications (user_id, type, title) values (tests.get_supabase_uid('owner'), 'spoof', 'Spoofed')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.notifications set read_at = now() where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('delete', $$delete from public.notifications where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

select is(tests.rls_outcome(actor, stmt), expected, format('%s: %s may %s → %s', tbl, actor, action, expected))
  from matrix order by tbl, action, actor;

-- Column rules inside an allowed UPDATE
select is(tests.rls_outcome('owner', $$update public.notifications set title = 'edited' where user_id = tests.get_supabase_uid('owner')$$),
          'error:42501', 'notifications: the recipient may set read_at but not rewrite the title');
select is(tests.rls_outcome('owner', $$update public.profiles set is_host = true where id = tests.get_supabase_uid('owner')$$),
          'error:42501', 'profiles: the owner cannot set is_host');
select is(tests.rls_outcome('host', $$update public.profiles set followers_count = 99 where id = tests.get_supabase_uid('host')$$),
          'error:42501', 'profiles: a host cannot set their follower count');

select * from finish();
rollback;
