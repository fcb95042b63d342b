-- Social graph API: follow_user / unfollow_user, followers_of / following_of, friends_going.
--
-- The relations themselves (public.follows, public.blocks, exact counts, self-follow and block
-- refusals, and the pair lock that keeps a follow and a block between the same two people from
-- racing) come from 20261125110100_follows_and_blocks.sql; profiles.hide_attendance from
-- 20261125100100_identity_profiles.sql. This migration adds the RPCs apps call:
--   * follow_user is idempotent (a second call returns the existing follow) and tells the
--     followee once a day at most (new_follower), so follow/unfollow loops cannot spam them.
--   * followers_of / following_of are keyset-paginated on (created_at, user id) with an opaque
--     cursor, and hide users who are blocked (either way) from the caller. A caller blocked by
--     (or blocking) the profile owner gets an empty list.
--   * friends_going(event) lists people the caller follows who are confirmed for the event,
--     leaving out anyone who set profiles.hide_attendance and anyone across a block (the event
--     feed's "friends going" count, 20261125110800_event_discovery.sql, honours the same setting).

-- following_of pages through the follows a user made, newest first.
create index follows_follower_created_idx on public.follows (follower_id, created_at desc, followee_id);

-- ---------------------------------------------------------------------------------------------
-- follow_user / unfollow_user
-- ---------------------------------------------------------------------------------------------

create or replace function private.follow_user(p_user_id uuid) returns public.follows
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.follows;
  v_me public.profiles;
begin
  if p_user_id is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_user_id is required.');
  end if;
  if p_user_id = v_uid then
    perform private.raise_error('22023', 'cannot_follow_self', 'You cannot follow yourself.');
  end if;
  if not exists (select 1 from public.profiles p where p.id = p_user_id) then
    perform private.raise_error('22023', 'user_not_found', 'No user has this id.');
  end if;
  insert into public.follows (follower_id, followee_id) values (v_uid, p_user_id)
  on conflict (follower_id, followee_id) do nothing
  returning * into v_row;
  if v_row.follower_id is null then
    select * into v_row from public.follows f where f.follower_id = v_uid and f.followee_id = p_user_id;
    return v_row;
  end if;
  -- At most one new_follower notification per follower per day, whatever the follow/unfollow churn.
  if not exists (select 1 from public.notifications n
                  where n.user_id = p_user_id and n.type = 'new_follower' and n.created_at > now() - interval '1 day'
                    and n.data ->> 'follower_id' = v_uid::text) then
    select * into v_me from public.profiles p where p.id = v_uid;
    perform private.notify(p_user_id, 'new_follower', format('%s started following you', v_me.display_name), null,
                           jsonb_build_object('follower_id', v_uid, 'username', v_me.username));
  end if;
  return v_row;
end
$$;

create or replace function public.follow_user(p_user_id uuid) returns public.follows
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.follow_user(p_user_id);
end
$$;
comment on function public.follow_user(uuid) is
  'The caller follows p_user_id. Idempotent: following again returns the existing follow. The followee is told (new_follower) at most once a day per follower. Errors: 22023 invalid_argument, user_not_found, cannot_follow_self; P0001 blocked, rate_limited (new follows per hour); 42501 not_authenticated.';

create or replace function private.unfollow_user(p_user_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_count integer;
begin
  if p_user_id is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_user_id is required.');
  end if;
  delete from public.follows where follower_id = v_uid and followee_id = p_user_id;
  get diagnostics v_count = row_count;
  return v_count > 0;
end
$$;

create or replace function public.unfollow_user(p_user_id uuid) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.unfollow_user(p_user_id);
end
$$;
comment on function public.unfollow_user(uuid) is
  'The caller stops following p_user_id. Idempotent: true when a follow was removed, false when there was none. Errors: 22023 invalid_argument; 42501 not_authenticated.';

-- ---------------------------------------------------------------------------------------------
-- followers_of / following_of
-- ---------------------------------------------------------------------------------------------

create or replace function private.follow_list(p_user_id uuid, p_direction text, p_cursor text, p_limit integer)
returns table (user_id uuid, username text, display_name text, avatar_path text, followed_at timestamptz,
               followed_by_me boolean, cursor text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_limit integer := private.check_page_limit(p_limit);
  v_after record := private.decode_keyset_cursor(p_cursor);
  -- Without a cursor, start above every row: the same index range condition serves both cases.
  v_at timestamptz := coalesce(v_after.at, 'infinity');
  v_id uuid := coalesce(v_after.id, '00000000-0000-0000-0000-000000000000');
begin
  if p_user_id is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_user_id is required.');
  end if;
  if p_direction not in ('followers', 'following') then
    perform private.raise_error('22023', 'invalid_argument', 'p_direction is followers or following.');
  end if;
  if not exists (select 1 from public.profiles p where p.id = p_user_id) then
    perform private.raise_error('22023', 'user_not_found', 'No user has this id.');
  end if;
  if p_user_id <> v_uid and private.is_blocked_between(v_uid, p_user_id) then
    return;
  end if;
  -- Newest first; ties on created_at broken by user id ascending (the index order), so
  -- `created_at <= cursor` is an index range, the scan stops after one page, and pages never
  -- skip or repeat a row.
  if p_direction = 'followers' then
    return query
    select p.id, p.username, p.display_name, p.avatar_path, f.created_at,
           exists (select 1 from public.follows mine where mine.follower_id = v_uid and mine.followee_id = p.id),
           private.encode_keyset_cursor(f.created_at, f.follower_id)
      from public.follows f
      join public.profiles p on p.id = f.follower_id
     where f.followee_id = p_user_id and f.created_at <= v_at and (f.created_at < v_at or f.follower_id > v_id)
       and not private.is_blocked_between(v_uid, f.follower_id)
     order by f.created_at desc, f.follower_id
     limit v_limit;
  else
    return query
    select p.id, p.username, p.display_name, p.avatar_path, f.created_at,
           exists (select 1 from public.follows mine where mine.follower_id = v_uid and mine.followee_id = p.id),
           private.encode_keyset_cursor(f.created_at, f.followee_id)
      from public.follows f
      join public.profiles p on p.id = f.followee_id
     where f.follower_id = p_user_id and f.created_at <= v_at and (f.created_at < v_at or f.followee_id > v_id)
       and not private.is_blocked_between(v_uid, f.followee_id)
     order by f.created_at desc, f.followee_id
     limit v_limit;
  end if;
end
$$;
comment on function private.follow_list(uuid, text, text, integer) is
  'Shared body of followers_of / following_of (p_direction followers | following).';

create or replace function private.followers_of(p_user_id uuid, p_cursor text, p_limit integer)
returns table (user_id uuid, username text, display_name text, avatar_path text, followed_at timestamptz,
               followed_by_me boolean, cursor text)
language sql
stable
security definer
set search_path = ''
as $$
  select * from private.follow_list(p_user_id, 'followers', p_cursor, p_limit)
$$;

create or replace function private.following_of(p_user_id uuid, p_cursor text, p_limit integer)
returns table (user_id uuid, username text, display_name text, avatar_path text, followed_at timestamptz,
               followed_by_me boolean, cursor text)
language sql
stable
security definer
set search_path = ''
as $$
  select * from private.follow_list(p_user_id, 'following', p_cursor, p_limit)
$$;

create or replace function public.followers_of(p_user_id uuid, p_cursor text default null, p_limit integer default 20)
returns table (user_id uuid, username text, display_name text, avatar_path text, followed_at timestamptz,
               followed_by_me boolean, cursor text)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.followers_of(p_user_id, p_cursor, p_limit);
end
$$;
comment on function public.followers_of(uuid, text, integer) is
  'People who follow p_user_id, newest first, keyset paginated (pass the last row''s cursor; p_limit 1–100, default 20). followed_by_me says whether the caller follows each one. Users blocked either way with the caller are left out; a caller blocked with p_user_id gets an empty list. Errors: 22023 invalid_argument, user_not_found, invalid_cursor, invalid_limit; 42501 not_authenticated.';

create or replace function public.following_of(p_user_id uuid, p_cursor text default null, p_limit integer default 20)
returns table (user_id uuid, username text, display_name text, avatar_path text, followed_at timestamptz,
               followed_by_me boolean, cursor text)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.following_of(p_user_id, p_cursor, p_limit);
end
$$;
comment on function public.following_of(uuid, text, integer) is
  'People p_user_id follows, newest first, keyset paginated (pass the last row''s cursor; p_limit 1–100, default 20). Blocked users are left out as in followers_of. Errors: 22023 invalid_argument, user_not_found, invalid_cursor, invalid_limit; 42501 not_authenticated.';

-- ---------------------------------------------------------------------------------------------
-- friends_going
-- ---------------------------------------------------------------------------------------------

create or replace function private.friends_going(p_event_id uuid, p_limit integer)
returns table (user_id uuid, username text, display_name text, avatar_path text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_limit integer := private.check_page_limit(p_limit);
begin
  if p_event_id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  return query
  select p.id, p.username, p.display_name, p.avatar_path
    from public.follows f
    join public.bookings b on b.guest_id = f.followee_id and b.event_id = p_event_id and b.status = 'confirmed'
    join public.profiles p on p.id = f.followee_id
   where f.follower_id = v_uid
     and not p.hide_attendance
     and not private.is_blocked_between(v_uid, p.id)
   order by p.display_name, p.id
   limit v_limit;
end
$$;

create or replace function public.friends_going(p_event_id uuid, p_limit integer default 20)
returns table (user_id uuid, username text, display_name text, avatar_path text)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.friends_going(p_event_id, p_limit);
end
$$;
comment on function public.friends_going(uuid, integer) is
  'People the caller follows who are confirmed for the event (by display name; p_limit 1–100, default 20). Leaves out anyone with profiles.hide_attendance and anyone blocked either way with the caller. Errors: 22023 event_not_found, invalid_limit; 42501 not_authenticated.';

-- Schema-level default privileges cannot take away PostgreSQL's global PUBLIC execute on new
-- functions, so each private function defined here is revoked explicitly, then granted.
revoke execute on function private.follow_user(uuid), private.unfollow_user(uuid),
  private.follow_list(uuid, text, text, integer), private.followers_of(uuid, text, integer), private.following_of(uuid, text, integer),
  private.friends_going(uuid, integer) from public;
grant execute on function private.follow_user(uuid), private.unfollow_user(uuid), private.followers_of(uuid, text, integer),
  private.following_of(uuid, text, integer), private.follow_list(uuid, text, text, integer),
  private.friends_going(uuid, integer) to authenticated;
revoke execute on function public.follow_user(uuid), public.unfollow_user(uuid), public.followers_of(uuid, text, integer),
  public.following_of(uuid, text, integer), public.friends_going(uuid, integer) from public, anon, authenticated, service_role;
grant execute on function public.follow_user(uuid), public.unfollow_user(uuid), public.followers_of(uuid, text, integer),
  public.following_of(uuid, text, integer), public.friends_going(uuid, integer) to anon, authenticated;
