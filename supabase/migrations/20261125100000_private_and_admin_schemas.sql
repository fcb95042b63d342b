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

-- A transaction-scoped lock on a key (one hash space for all of Rally): a check-then-write that
-- must not race a twin (a duplicate follow, co-host or reaction) takes it first; the second
-- writer waits, then sees the first one's committed row.
create or replace function private.lock_key(p_key text) returns void
language sql
volatile
set search_path = ''
as $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_key, 7301))
$$;
comment on function private.lock_key(text) is 'Transaction-scoped advisory lock on a text key; serialises writers of the same key.';

-- Admins are marked in app_metadata, which only the service role (and Supabase Auth) can write.
-- The token must say so AND the user's current app_metadata in auth.users: revoking admin rights
-- takes effect at once, not when the admin's last token expires (up to an hour). Never null.
create or replace function private.is_admin() returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(auth.jwt() -> 'app_metadata' ->> 'role', '') = 'admin'
     and exists (select 1 from auth.users u where u.id = auth.uid() and u.raw_app_meta_data ->> 'role' = 'admin')
$$;
comment on function private.is_admin() is
  'True when the request''s JWT carries app_metadata.role = admin and the user still has it in auth.users (revocation is immediate). Never null.';
grant execute on function private.is_admin() to anon, authenticated, service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.is_admin(),
  private.lock_key(text),
  private.raise_error(text,text,text)
  from public;
