-- Supabase platform contract, part 2: the `extensions` schema and the default extensions.
--
-- A new hosted project has pgcrypto, uuid-ossp and pgjwt in `extensions`, pg_stat_statements,
-- pg_net (schema `net`) and supabase_vault (schema `vault`); nothing else. Every other extension
-- Rally uses is created by its own migrations, as `postgres`, which rally_platform_hooks allows
-- for the platform's privileged extensions (they are then created as `supabase_admin`).
--
-- On the platform the init scripts ran as `postgres` while it was still a superuser, so
-- `postgres` owns `extensions` and the extensions created there; the contract does the same, in
-- one transaction, and demotes `postgres` again before it commits.
-- pgjwt, pg_net and supabase_vault have no Debian packages: 11_pgjwt_standin.sql,
-- 12_pg_net_standin.sql and 13_vault_standin.sql create SQL stand-ins with the same objects.

begin;
alter role postgres superuser;
set local role postgres;
create schema if not exists extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
reset role;
alter role postgres nosuperuser;
commit;

-- pg_stat_statements is preloaded (scripts/lib/cluster.ts) and created by the platform's superuser.
create extension if not exists pg_stat_statements with schema extensions;

grant usage on schema extensions to postgres, anon, authenticated, service_role;
grant all on schema extensions to dashboard_user;
-- What the image's migrations give `postgres` on everything the platform's superuser adds to
-- `extensions` (`20230224042246_grant_extensions_perms_for_postgres`); the API roles get nothing
-- by default there.
grant all on all tables in schema extensions to postgres with grant option;
grant all on all routines in schema extensions to postgres with grant option;
grant all on all sequences in schema extensions to postgres with grant option;
alter default privileges for role supabase_admin in schema extensions
  grant all on tables to postgres with grant option;
alter default privileges for role supabase_admin in schema extensions
  grant all on routines to postgres with grant option;
alter default privileges for role supabase_admin in schema extensions
  grant all on sequences to postgres with grant option;
