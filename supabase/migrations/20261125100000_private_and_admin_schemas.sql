-- Schemas that are never exposed through the Data API (ARCHITECTURE §3).
--   private: security-definer helpers, ledgers, outboxes, job bookkeeping. API roles get USAGE so
--            that `public` RPCs (security invoker) can call the few helpers granted to them; no
--            table here is granted to an API role, and the schema is not in `[api] schemas`.
--   admin:   views and functions for operators in Supabase Studio.

create schema if not exists private;
comment on schema private is 'Internal: security-definer helpers, ledgers, outboxes. Never exposed to the Data API.';
revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;

-- PostgreSQL grants EXECUTE on new functions to PUBLIC, and per-schema default privileges
-- cannot take that away: every function created in `private` or `admin` revokes it explicitly
-- (tests/db/91-function-privileges.test.sql fails otherwise).
--
-- Privileges never depend on the project's "default privileges for new entities" setting
-- (on, the image grants the API roles everything on new `public` objects; off, nothing): every
-- table and view a migration creates in `public` is first revoked from public, anon,
-- authenticated and service_role, and every `public` function from those roles, and then gets
-- exactly the grants it needs.

create schema if not exists admin;
comment on schema admin is 'Operator views and functions for Supabase Studio. Not exposed to the Data API.';
revoke all on schema admin from public;

-- Errors follow one shape everywhere (ARCHITECTURE §4): SQLSTATE 22023 bad input, 42501
-- forbidden, P0001 broken business rule; the hint carries a stable snake_case code.
create or replace function private.raise_error(p_sqlstate text, p_code text, p_message text)
returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception using errcode = p_sqlstate, message = p_message, hint = p_code;
end
$$;
comment on function private.raise_error(text, text, text) is
  'Raises the Rally error shape: SQLSTATE (22023 | 42501 | P0001), a readable message, and a stable hint code.';
grant execute on function private.raise_error(text, text, text) to anon, authenticated, service_role;

-- Admins are marked in app_metadata, which only the service role (and Supabase Auth) can write.
create or replace function private.is_admin() returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(auth.jwt() -> 'app_metadata' ->> 'role', '') = 'admin'
$$;
comment on function private.is_admin() is 'True when the request''s JWT carries app_metadata.role = admin.';
grant execute on function private.is_admin() to anon, authenticated, service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.is_admin(),
  private.raise_error(text,text,text)
  from public;
