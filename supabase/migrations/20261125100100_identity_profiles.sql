-- Identity: one public profile per Supabase Auth user.
--
-- A trigger on auth.users creates the profile at sign-up with the username requested in the
-- sign-up metadata (validated, made unique when taken) or one derived from the email.
-- Everyone may read profiles; owners edit only the editable columns (column grants), never
-- is_host / host_status / counts / ratings. Everyone is a guest; become_host() makes the
-- caller a host. Admins are marked in app_metadata.role = 'admin', which only the service role
-- can set (set_user_admin), and the custom access token hook turns that into a JWT claim.

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text not null,
  display_name text not null,
  avatar_path text,
  bio text,
  city text,
  timezone text not null default 'UTC',
  locale text not null default 'en',
  hide_attendance boolean not null default false,
  is_host boolean not null default false,
  host_status text not null default 'none',
  followers_count integer not null default 0,
  following_count integer not null default 0,
  rating_count integer not null default 0,
  rating_sum integer not null default 0,
  rating_average numeric(3, 2) generated always as
    (case when rating_count > 0 then round(rating_sum::numeric / rating_count, 2) end) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  constraint profiles_username_format check (username ~ '^[a-z0-9_]{3,30}$'),
  constraint profiles_display_name_length check (char_length(display_name) between 1 and 80),
  constraint profiles_bio_length check (bio is null or char_length(bio) <= 500),
  constraint profiles_city_length check (city is null or char_length(city) <= 100),
  constraint profiles_locale_format check (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
  constraint profiles_host_status check (host_status in ('none', 'active', 'suspended')),
  constraint profiles_host_consistent check (is_host = (host_status <> 'none')),
  constraint profiles_counts_non_negative check (followers_count >= 0 and following_count >= 0
                                                 and rating_count >= 0 and rating_sum >= 0)
);
revoke all on public.profiles from public, anon, authenticated, service_role;
create unique index profiles_username_key on public.profiles (username);

comment on table public.profiles is
  'One public profile per user, created at sign-up. Readable by everyone; the owner edits username, display_name, avatar_path, bio, city, timezone and locale.';
comment on column public.profiles.username is 'Unique handle: 3–30 characters of a-z, 0-9 and _; some names are reserved.';
comment on column public.profiles.avatar_path is 'Object name in the public `avatars` bucket, under `<user id>/`.';
comment on column public.profiles.timezone is 'IANA time zone name (for example Europe/Lisbon); used for quiet hours and reminders.';
comment on column public.profiles.locale is 'BCP 47 language tag such as en or pt-BR.';
comment on column public.profiles.hide_attendance is
  'When true, the user never appears in friends_going lists or in feed "friends going" counts. The owner sets it.';
comment on column public.profiles.deleted_at is
  'Set when the account was deleted (20261125170500_account_deletion): the row is a tombstone (username deleted_…, display name "Deleted user", personal fields cleared) kept so bookings, payments, reviews and messages still point somewhere. Apps show such people as "Deleted user".';
comment on column public.profiles.is_host is 'True once the user called become_host(); not writable by users.';
comment on column public.profiles.host_status is 'none | active | suspended. Only the platform changes it.';
comment on column public.profiles.followers_count is 'Maintained by the follows capability; not writable by users.';
comment on column public.profiles.rating_average is 'Average review rating (1–5) across the host''s events, null before the first review.';

-- Usernames that would impersonate the platform or collide with app routes.
create or replace function private.is_reserved_username(p_username text) returns boolean
language sql
immutable
set search_path = ''
as $$
  select lower(p_username) = any (array[
    'admin', 'administrator', 'root', 'system', 'support', 'help', 'rally', 'official', 'staff',
    'moderator', 'mod', 'security', 'billing', 'payments', 'api', 'www', 'mail', 'null',
    'undefined', 'me', 'settings', 'account', 'login', 'logout', 'signup', 'host', 'hosts',
    'events', 'explore', 'search', 'notifications', 'messages', 'chat', 'about', 'terms', 'privacy'
  ])
$$;
comment on function private.is_reserved_username(text) is 'True for usernames no user may take.';

-- IANA zone names PostgreSQL knows, copied once: pg_timezone_names reads the whole tz database
-- on every query (~30 ms), too slow for every sign-up and event write. A PostgreSQL upgrade that
-- brings new zones is followed by a migration that refreshes this table.
create table private.timezone_names (name text primary key);
comment on table private.timezone_names is 'IANA time zone names accepted for profiles and events (a copy of pg_timezone_names).';
insert into private.timezone_names (name) select name from pg_catalog.pg_timezone_names on conflict do nothing;

create or replace function private.is_valid_timezone(p_timezone text) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from private.timezone_names where name = p_timezone)
$$;
comment on function private.is_valid_timezone(text) is 'True when PostgreSQL knows the IANA time zone name.';
grant execute on function private.is_valid_timezone(text) to anon, authenticated, service_role;

-- Raises 22023 with a precise hint when a requested username cannot be used.
create or replace function private.assert_valid_username(p_username text) returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_username is null or p_username !~ '^[a-z0-9_]{3,30}$' then
    perform private.raise_error('22023', 'invalid_username',
      'A username has 3 to 30 characters: lowercase letters, digits and underscores.');
  end if;
  if private.is_reserved_username(p_username) then
    perform private.raise_error('22023', 'username_reserved', format('The username "%s" is reserved.', p_username));
  end if;
end
$$;

-- A valid username derived from an email's local part, for sign-ups that asked for none.
create or replace function private.username_from_email(p_email text, p_user_id uuid) returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_base text := left(regexp_replace(lower(split_part(coalesce(p_email, ''), '@', 1)), '[^a-z0-9_]+', '_', 'g'), 24);
begin
  v_base := trim(both '_' from v_base);
  if char_length(v_base) < 3 or private.is_reserved_username(v_base) then
    return 'user_' || left(replace(p_user_id::text, '-', ''), 8);
  end if;
  return v_base;
end
$$;

-- Validates a profile row the way every writer (sign-up trigger, owner edits, service role)
-- must respect, raising the Rally error shape instead of a bare constraint violation.
-- Security definer: it runs as whoever writes the row (the owner through the API, the service
-- role, sign-up) and needs no grants on the username helpers it calls.
create or replace function private.validate_profile() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or new.username is distinct from old.username then
    new.username := lower(new.username);
    perform private.assert_valid_username(new.username);
    if exists (select 1 from public.profiles p where p.username = new.username and p.id <> new.id) then
      perform private.raise_error('P0001', 'username_taken', format('The username "%s" is already taken.', new.username));
    end if;
  end if;
  if new.display_name is null or char_length(btrim(new.display_name)) = 0 or char_length(new.display_name) > 80 then
    perform private.raise_error('22023', 'invalid_display_name', 'A display name has 1 to 80 characters.');
  end if;
  if new.bio is not null and char_length(new.bio) > 500 then
    perform private.raise_error('22023', 'bio_too_long', 'A bio has at most 500 characters.');
  end if;
  if new.city is not null and char_length(new.city) > 100 then
    perform private.raise_error('22023', 'invalid_city', 'A city name has at most 100 characters.');
  end if;
  if private.is_valid_timezone(new.timezone) is not true then
    perform private.raise_error('22023', 'invalid_timezone', format('"%s" is not a known IANA time zone.', new.timezone));
  end if;
  if new.locale !~ '^[a-z]{2,3}(-[A-Z]{2})?$' then
    perform private.raise_error('22023', 'invalid_locale', 'A locale is a language tag such as en or pt-BR.');
  end if;
  if new.avatar_path is not null and (storage.foldername(new.avatar_path))[1] is distinct from new.id::text then
    perform private.raise_error('22023', 'invalid_avatar_path', 'An avatar must be uploaded under your own folder: <user id>/<file>.');
  end if;
  new.updated_at := now();
  return new;
end
$$;

create trigger profiles_validate before insert or update on public.profiles
  for each row execute function private.validate_profile();

-- Sign-up: runs inside Supabase Auth's insert into auth.users, so a bad requested username
-- rejects the sign-up (nothing is written) and the app gets the hint code.
create or replace function private.handle_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_meta jsonb := coalesce(new.raw_user_meta_data, '{}'::jsonb);
  v_requested text := nullif(btrim(v_meta ->> 'username'), '');
  v_base text;
  v_candidate text;
  v_display text;
  v_timezone text := coalesce(nullif(v_meta ->> 'timezone', ''), 'UTC');
  v_locale text := coalesce(nullif(v_meta ->> 'locale', ''), 'en');
  v_attempt integer := 1;
begin
  if v_requested is not null then
    v_base := lower(v_requested);
    perform private.assert_valid_username(v_base);
  else
    v_base := private.username_from_email(new.email, new.id);
  end if;
  v_display := left(btrim(coalesce(nullif(v_meta ->> 'display_name', ''), nullif(v_meta ->> 'full_name', ''),
                                   nullif(v_meta ->> 'name', ''), v_base)), 80);
  if private.is_valid_timezone(v_timezone) is not true then
    v_timezone := 'UTC';
  end if;
  if v_locale !~ '^[a-z]{2,3}(-[A-Z]{2})?$' then
    v_locale := 'en';
  end if;

  -- Taken usernames get a numeric suffix; the loop also absorbs a concurrent sign-up taking the
  -- same name between our check and our insert.
  v_candidate := v_base;
  loop
    begin
      if not exists (select 1 from public.profiles where username = v_candidate) then
        insert into public.profiles (id, username, display_name, timezone, locale)
        values (new.id, v_candidate, v_display, v_timezone, v_locale);
        return new;
      end if;
    exception when unique_violation then
      null;
    end;
    v_attempt := v_attempt + 1;
    if v_attempt > 50 then
      v_candidate := left(v_base, 21) || '_' || left(replace(new.id::text, '-', ''), 8);
    else
      v_candidate := left(v_base, 30 - char_length(v_attempt::text) - 1) || '_' || v_attempt;
    end if;
    if v_attempt > 51 then
      perform private.raise_error('P0001', 'username_taken', 'No free username could be derived.');
    end if;
  end loop;
end
$$;
comment on function private.handle_new_user() is 'Creates the profile of a new auth.users row (sign-up).';

create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();

alter table public.profiles enable row level security;

create policy "profiles are readable by everyone" on public.profiles
  for select to anon, authenticated using (true);
create policy "owners update their own profile" on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

grant select on public.profiles to anon, authenticated;
grant update (username, display_name, avatar_path, bio, city, timezone, locale, hide_attendance) on public.profiles to authenticated;
grant select, insert, update, delete on public.profiles to service_role;

-- ---------------------------------------------------------------------------------------------
-- Account status: the one guard every RPC calls first
-- ---------------------------------------------------------------------------------------------
-- An account is active, suspended or deleted. Suspensions are a history table (who suspended
-- whom, when, why, and what host status to restore), managed by admins through
-- 20261125170300_user_suspension; deletion turns the profile into a tombstone (deleted_at set)
-- through 20261125170500_account_deletion. require_user() checks all of it in one place, so every
-- current and future RPC refuses an access token that outlived its account's rights (tokens are
-- valid up to an hour).

create table private.user_suspensions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  reason text not null,
  suspended_by uuid,
  suspended_at timestamptz not null default now(),
  previous_host_status text,
  lifted_at timestamptz,
  lifted_by uuid,
  lift_reason text,
  constraint user_suspensions_reason check (char_length(reason) between 1 and 1000),
  constraint user_suspensions_lift check ((lifted_at is null) = (lift_reason is null))
);
comment on table private.user_suspensions is
  'Account suspensions, current (lifted_at null) and past, with who decided, why, and the host status to restore.';
create unique index user_suspensions_active_key on private.user_suspensions (user_id) where lifted_at is null;
create index user_suspensions_user_idx on private.user_suspensions (user_id, suspended_at desc);

-- Whether the request's own user is suspended (it answers for nobody else).
create or replace function private.caller_is_suspended() returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from private.user_suspensions s where s.user_id = auth.uid() and s.lifted_at is null)
$$;
comment on function private.caller_is_suspended() is 'True when the signed-in caller''s account is suspended.';
revoke execute on function private.caller_is_suspended() from public;
grant execute on function private.caller_is_suspended() to anon, authenticated, service_role;

-- The caller's user id, or 42501: anonymous (not_authenticated), a token whose account no longer
-- exists (account_not_found: without a profile row the RPCs would write rows referencing it and
-- fail with 23503), a deleted account (account_deleted) or a suspended one (account_suspended).
-- Security definer so RLS on profiles can never hide the caller's own row.
create or replace function private.require_user() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_deleted_at timestamptz;
begin
  if v_uid is null then
    perform private.raise_error('42501', 'not_authenticated', 'You need to sign in to do this.');
  end if;
  select p.deleted_at into v_deleted_at from public.profiles p where p.id = v_uid;
  if not found then
    perform private.raise_error('42501', 'account_not_found', 'Your account no longer exists. Sign in again.');
  end if;
  if v_deleted_at is not null then
    perform private.raise_error('42501', 'account_deleted', 'This account has been deleted.');
  end if;
  if private.caller_is_suspended() then
    perform private.raise_error('42501', 'account_suspended', 'Your account is suspended. Contact Rally support.');
  end if;
  return v_uid;
end
$$;
comment on function private.require_user() is
  'The signed-in caller''s id; raises 42501 not_authenticated for anonymous requests, account_not_found when the token''s account no longer exists, account_deleted for a deleted account and account_suspended for a suspended one (tokens issued before any of these).';
revoke execute on function private.require_user() from public;
grant execute on function private.require_user() to anon, authenticated, service_role;

-- become_host(): every user starts as a guest; this makes the caller a host (idempotent).
create or replace function private.become_host(p_user_id uuid) returns public.profiles
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_profile public.profiles;
begin
  select * into v_profile from public.profiles where id = p_user_id for update;
  if v_profile.id is null then
    perform private.raise_error('P0001', 'profile_not_found', 'Your profile does not exist.');
  end if;
  if v_profile.host_status = 'suspended' then
    perform private.raise_error('P0001', 'host_suspended', 'Your hosting rights are suspended.');
  end if;
  update public.profiles set is_host = true, host_status = 'active'
   where id = p_user_id
  returning * into v_profile;
  return v_profile;
end
$$;
revoke execute on function private.become_host(uuid) from public;
grant execute on function private.become_host(uuid) to authenticated;

create or replace function public.become_host() returns public.profiles
language plpgsql
set search_path = ''
as $$
declare
  -- Resolved first: anonymous callers get not_authenticated, not a bare privilege error.
  v_uid uuid := private.require_user();
begin
  return private.become_host(v_uid);
end
$$;
comment on function public.become_host() is
  'Makes the signed-in caller a host and returns their profile. Idempotent. Errors: 42501 not_authenticated, P0001 host_suspended. Refresh the session afterwards so the JWT carries user_role = host.';
revoke execute on function public.become_host() from public, anon, authenticated, service_role;
grant execute on function public.become_host() to anon, authenticated;

-- set_user_admin(): the service role marks or unmarks an admin in app_metadata, the one place
-- Supabase Auth keeps claims users cannot edit themselves.
create or replace function private.set_user_admin(p_user_id uuid, p_is_admin boolean) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_app_metadata jsonb;
begin
  if coalesce(auth.role(), '') <> 'service_role' then
    perform private.raise_error('42501', 'service_role_only', 'Only the service role may change admin rights.');
  end if;
  if p_user_id is null or p_is_admin is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_user_id and p_is_admin are required.');
  end if;
  update auth.users
     set raw_app_meta_data = case when p_is_admin
                                  then coalesce(raw_app_meta_data, '{}'::jsonb) || '{"role":"admin"}'::jsonb
                                  else coalesce(raw_app_meta_data, '{}'::jsonb) - 'role' end,
         updated_at = now()
   where id = p_user_id
  returning raw_app_meta_data into v_app_metadata;
  if v_app_metadata is null then
    perform private.raise_error('22023', 'user_not_found', 'No user has this id.');
  end if;
  return v_app_metadata;
end
$$;
revoke execute on function private.set_user_admin(uuid, boolean) from public;
grant execute on function private.set_user_admin(uuid, boolean) to service_role;

create or replace function public.set_user_admin(p_user_id uuid, p_is_admin boolean) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  return private.set_user_admin(p_user_id, p_is_admin);
end
$$;
comment on function public.set_user_admin(uuid, boolean) is
  'Service role only: marks (true) or unmarks (false) a user as admin in app_metadata.role and returns the new app_metadata. Takes effect on the user''s next token. Errors: 22023 user_not_found.';
revoke execute on function public.set_user_admin(uuid, boolean) from public, anon, authenticated, service_role;
grant execute on function public.set_user_admin(uuid, boolean) to service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.assert_valid_username(text),
  private.handle_new_user(),
  private.is_reserved_username(text),
  private.is_valid_timezone(text),
  private.username_from_email(text,uuid),
  private.validate_profile()
  from public;
