-- Supabase platform contract, part 7: the `public` schema and its default privileges.
--
-- Since 2026-10-30 every Supabase project stops granting the API roles on new `public` objects
-- (`[api] auto_expose_new_tables = false`): the CLI revokes the default grants that the image
-- made. The net effect reproduced here: tables, views and sequences that `postgres` creates in
-- `public` are reachable by anon / authenticated / service_role only through explicit GRANTs.
-- Functions keep PostgreSQL's own default EXECUTE for PUBLIC, exactly as on the platform, so a
-- migration must revoke it where a function is not for everyone.

grant usage on schema public to postgres, anon, authenticated, service_role;

alter default privileges for role postgres in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke select, insert, update, delete, truncate, references, trigger on tables from anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke usage, select, update on sequences from anon, authenticated, service_role;
alter default privileges for role postgres in schema public revoke execute on functions from anon, authenticated, service_role;

alter default privileges for role supabase_admin in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on sequences to postgres, anon, authenticated, service_role;

-- `graphql_public` is in the API schema list; pg_graphql is off by default since 2026-04, so the
-- schema exists empty, as on a new project.
create schema if not exists graphql_public authorization supabase_admin;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;
