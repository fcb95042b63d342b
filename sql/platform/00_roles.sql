-- Supabase platform contract, part 1: roles and their attributes.
-- Local/CI only, never deployed. Applied as the bootstrap superuser `supabase_admin`
-- (initdb -U supabase_admin), in file-name order, idempotently.
--
-- Faithful to a current Supabase project (research/supabase-platform.md §1):
--   * `postgres` is NOT a superuser: migrations run as it, so a migration that needs superuser
--     fails here too. It bypasses RLS, may create databases and roles, and is a member of the
--     API roles so it can `set role` to them.
--   * `anon` / `authenticated` / `service_role` are NOLOGIN and reached through `authenticator`.
--   * statement timeouts as on the platform (anon 3 s, authenticated and authenticator 8 s).

do $roles$
declare
  r record;
begin
  for r in
    select * from (values
      ('postgres',                 'nosuperuser createdb createrole login replication bypassrls'),
      ('anon',                     'nologin noinherit'),
      ('authenticated',            'nologin noinherit'),
      ('service_role',             'nologin noinherit bypassrls'),
      ('authenticator',            'login noinherit'),
      ('supabase_auth_admin',      'noinherit login noreplication'),
      ('supabase_storage_admin',   'noinherit createrole login noreplication'),
      ('supabase_realtime_admin',  'noinherit nologin noreplication'),
      ('supabase_replication_admin','login replication'),
      ('supabase_read_only_user',  'login bypassrls'),
      ('dashboard_user',           'nosuperuser createdb createrole replication'),
      ('supabase_functions_admin', 'noinherit createrole login noreplication'),
      ('supabase_superuser',       'nologin')
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

-- The API roles were created NOINHERIT and later altered to INHERIT on the platform.
alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit;

-- Local password for the roles that log in, as `supabase start` uses ("postgres").
alter role postgres password 'postgres';
alter role supabase_admin password 'postgres';
alter role authenticator password 'postgres';
alter role supabase_auth_admin password 'postgres';
alter role supabase_storage_admin password 'postgres';

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;
grant pg_read_all_data, pg_signal_backend to postgres;
grant supabase_superuser to postgres;
grant anon, authenticated, service_role to supabase_realtime_admin;
grant pg_read_all_data to supabase_read_only_user;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';

alter role postgres set search_path = "$user", public, extensions;
alter role supabase_admin set search_path = "$user", public, auth, extensions;
alter role supabase_auth_admin set search_path = auth;
alter role supabase_storage_admin set search_path = storage;
alter role supabase_realtime_admin set search_path = public, extensions, realtime;

-- The `postgres` role owns the project database, as on the platform; it needs CREATE on the
-- database to create the `private` and `admin` schemas in migrations.
alter database postgres owner to postgres;
