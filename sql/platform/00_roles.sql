-- Supabase platform contract, part 1: roles, their attributes and memberships.
-- Local/CI only, never deployed. Applied as the bootstrap superuser `supabase_admin`
-- (initdb -U supabase_admin), in file-name order, idempotently.
--
-- As on a new hosted project (supabase/postgres init scripts and image migrations; the sources
-- are listed in docs/platform-contract.md's table):
--   * `postgres` is NOT a superuser (`10000000000000_demote-postgres`): migrations run as it.
--     It bypasses RLS, may create databases and roles, and is a member of the API roles,
--     pg_read_all_data, pg_signal_backend, pg_monitor and supabase_functions_admin, and of
--     nothing else: not supabase_auth_admin, supabase_storage_admin or supabase_realtime_admin
--     (revoked from it on the platform in 2024–2026).
--   * the API roles are NOLOGIN, INHERIT, reached through `authenticator`; statement timeouts
--     anon 3 s, authenticated and authenticator 8 s.
--   * supabase_auth_admin is NOCREATEROLE with a 60 s idle-in-transaction timeout.
-- What `postgres` may still do to these roles is decided by rally_platform_hooks
-- (tools/platform-hooks/), configured as supautils is on the platform.

-- A cluster built by the contract before it owned `extensions` as the platform does cannot be
-- turned into this one in place (ownership, default privileges and memberships all differ).
do $older_contract$
begin
  if exists (select 1 from pg_namespace where nspname = 'extensions'
             and nspowner <> (select oid from pg_roles where rolname = 'postgres')) then
    raise exception 'this database was built by an older platform contract'
      using hint = 'npm run db:reset rebuilds it from the repo (the seed is applied again)';
  end if;
end
$older_contract$;

do $roles$
declare
  r record;
begin
  for r in
    select * from (values
      ('postgres',                   'nosuperuser createdb createrole login replication bypassrls'),
      ('anon',                       'nologin inherit'),
      ('authenticated',              'nologin inherit'),
      ('service_role',               'nologin inherit bypassrls'),
      ('authenticator',              'login noinherit'),
      ('supabase_auth_admin',        'noinherit nocreaterole login noreplication'),
      ('supabase_storage_admin',     'noinherit createrole login noreplication'),
      ('supabase_realtime_admin',    'noinherit nologin noreplication'),
      ('supabase_functions_admin',   'noinherit createrole login noreplication'),
      ('supabase_replication_admin', 'login replication'),
      ('supabase_read_only_user',    'login bypassrls'),
      ('dashboard_user',             'nosuperuser createdb createrole replication'),
      ('pgbouncer',                  'login')
    ) as t(name, attrs)
  loop
    if not exists (select 1 from pg_roles where rolname = r.name) then
      execute format('create role %I %s', r.name, r.attrs);
    else
      execute format('alter role %I %s', r.name, r.attrs);
    end if;
  end loop;
end
$roles$;

-- Local password for the roles that log in, as `supabase start` uses ("postgres").
alter role postgres password 'postgres';
alter role supabase_admin password 'postgres';
alter role authenticator password 'postgres';
alter role supabase_auth_admin password 'postgres';
alter role supabase_storage_admin password 'postgres';

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;
grant pg_read_all_data, pg_signal_backend, pg_monitor to postgres;
grant supabase_functions_admin to postgres;
revoke supabase_auth_admin, supabase_storage_admin, supabase_realtime_admin from postgres;
grant anon, authenticated, service_role to supabase_storage_admin;
grant authenticator to supabase_storage_admin;
grant anon, authenticated, service_role to supabase_realtime_admin;
grant pg_read_all_data to supabase_read_only_user;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';
alter role supabase_auth_admin set idle_in_transaction_session_timeout = 60000;

alter role postgres set search_path = "$user", public, extensions;
alter role supabase_admin set search_path = "$user", public, auth, extensions;
alter role supabase_auth_admin set search_path = auth;
alter role supabase_storage_admin set search_path = storage;
alter role supabase_realtime_admin set search_path = public, extensions, realtime;

-- `postgres` owns the project database, as on the platform; it needs CREATE on the database to
-- create the `private` and `admin` schemas in migrations.
alter database postgres owner to postgres;
grant all on database postgres to postgres, dashboard_user;
