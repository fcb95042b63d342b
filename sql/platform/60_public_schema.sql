-- Supabase platform contract, part 9: the `public` schema and the per-project setting
-- "Default privileges for new entities" (changelog #45329; off for new projects from 2026-05-30,
-- for all projects from 2026-10-30, still switchable per project).
--
-- The image's init script gives the API roles ALL on every table, sequence and function that
-- `postgres` or `supabase_admin` creates in `public`. With the setting OFF the CLI
-- (2.117.0 `postgres-init`) revokes, for objects `postgres` creates: SELECT, INSERT, UPDATE and
-- DELETE on tables, USAGE and SELECT on sequences, EXECUTE on functions. TRUNCATE, REFERENCES
-- and TRIGGER on tables and UPDATE on sequences stay granted, as on the platform.
-- Rally must be correct under both values: every migration revokes before it grants.
--
-- The value comes from the psql variable `api_auto_expose` (on | off, default off), which
-- scripts/lib/apply.ts sets from RALLY_API_AUTO_EXPOSE. Switching it changes the defaults for
-- objects created afterwards; `npm run db:reset` rebuilds a dev database in the other mode.

grant usage on schema public to postgres, anon, authenticated, service_role;

alter default privileges for role postgres in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on sequences to postgres, anon, authenticated, service_role;

\if :{?api_auto_expose}
\else
  \set api_auto_expose off
\endif
\if :api_auto_expose
\else
  alter default privileges for role postgres in schema public revoke select, insert, update, delete on tables from anon, authenticated, service_role;
  alter default privileges for role postgres in schema public revoke usage, select on sequences from anon, authenticated, service_role;
  alter default privileges for role postgres in schema public revoke execute on functions from anon, authenticated, service_role;
\endif

-- `graphql_public` is in the API schema list; pg_graphql is off by default since 2026-04, so the
-- schema exists empty, as on a new project.
create schema if not exists graphql_public authorization supabase_admin;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;
