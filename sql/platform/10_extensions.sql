-- Supabase platform contract, part 2: the `extensions` schema and the allow-listed extensions.
--
-- On the platform `postgres` may `create extension … with schema extensions` for allow-listed
-- extensions through supautils. Plain PostgreSQL would refuse a non-superuser, so the contract
-- pre-creates exactly the extensions Rally's migrations ask for; their
-- `create extension if not exists … with schema extensions` is then a no-op, and any other
-- extension fails here as it would be refused there.

create schema if not exists extensions authorization supabase_admin;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on sequences to postgres, anon, authenticated, service_role;

create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists citext with schema extensions;
create extension if not exists postgis with schema extensions;
-- `supabase db lint` creates plpgsql_check itself inside a rolled-back transaction as the
-- connecting role; pre-creating it lets that statement succeed as `postgres`.
create extension if not exists plpgsql_check with schema extensions;
-- pgTAP for the database tests (`supabase test db` also installs it into `extensions`).
create extension if not exists pgtap with schema extensions;

-- pg_cron lives in `pg_catalog` with its own `cron` schema; it needs shared_preload_libraries,
-- which the local stack sets. Without it (a hand-made cluster) the schedules are skipped, not fatal.
do $cron$
begin
  if current_setting('shared_preload_libraries') like '%pg_cron%' then
    create extension if not exists pg_cron with schema pg_catalog;
    grant usage on schema cron to postgres;
    grant all on all tables in schema cron to postgres;
  else
    raise notice 'pg_cron is not preloaded: schedules are run by the local stack runner only';
  end if;
end
$cron$;
