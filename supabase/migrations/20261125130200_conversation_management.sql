-- Chat, part 3: starting and running conversations.
--
--   start_direct_conversation(user)        the pair's one conversation, created on first use;
--                                          refused while either has blocked the other.
--   create_group_conversation(title, ids)  the creator is admin; people who follow the creator
--                                          become members, everyone else is invited.
--   add_conversation_members(conv, ids)    group admins only; the same consent rule.
--   remove_conversation_member(conv, id)   group admins only (also withdraws an invitation).
--   accept_group_invitation(id) /          the invitee joins, or says no (final for that group);
--   decline_group_invitation(id),          my_group_invitations() lists the open ones.
--   leave_conversation(conv)               groups; the last admin hands over to the
--                                          longest-standing member. Direct conversations
--                                          cannot be left (block or mute instead); event chat
--                                          membership follows the booking (mute instead).
--   set_conversation_muted(conv, muted)    no notifications from a muted conversation.
-- Group changes take the conversation's row lock first, so two admins leaving at once cannot
-- leave a group without an admin. Joins and leaves are recorded as system messages, and the
-- people concerned get conversation_added / conversation_removed on user:<id>.
--
-- Consent (issue 13): a group reaches its members with every message and reminder, so nobody is
-- put into one by a stranger. Someone who follows the person adding them has said they want to
-- hear from them and is added at once; anyone else gets a group_invitations row and a
-- group_invitation notification, and is a member only once they accept (14 days to do so).
-- Creating groups and adding, inviting or removing people are rate limited (group_create, and
-- group_people with one call per person: private.rate_limits).

-- Display name for system messages.
create or replace function private.chat_display_name(p_user_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select p.display_name from public.profiles p where p.id = p_user_id), 'Someone')
$$;
comment on function private.chat_display_name(uuid) is 'A user''s display name for system messages and notifications.';

-- "Sam", "Sam and Priya", "Sam, Priya and 3 others".
create or replace function private.chat_name_list(p_user_ids uuid[]) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_names text[];
  v_total integer := coalesce(cardinality(p_user_ids), 0);
begin
  select array_agg(private.chat_display_name(u) order by o) into v_names
    from unnest(p_user_ids[1:2]) with ordinality as x(u, o);
  if v_total = 0 then
    return 'nobody';
  elsif v_total = 1 then
    return v_names[1];
  elsif v_total = 2 then
    return v_names[1] || ' and ' || v_names[2];
  end if;
  return format('%s, %s and %s other%s', v_names[1], v_names[2], v_total - 2, case when v_total = 3 then '' else 's' end);
end
$$;
comment on function private.chat_name_list(uuid[]) is 'Names for a system message: "Sam", "Sam and Priya", "Sam, Priya and 3 others".';

-- Validates a list of user ids to add to a group: existing users, no block with the actor;
-- returns them de-duplicated without the actor, in the given order.
create or replace function private.check_new_group_members(p_actor uuid, p_user_ids uuid[]) returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_missing integer;
begin
  select coalesce(array_agg(u order by first_pos), '{}') into v_ids
    from (select u, min(o) as first_pos
            from unnest(coalesce(p_user_ids, '{}')) with ordinality as x(u, o)
           where u is not null and u <> p_actor
           group by u) as distinct_ids;
  if cardinality(v_ids) > 255 then
    perform private.raise_error('22023', 'too_many_members', 'A group has at most 256 members.');
  end if;
  select count(*) into v_missing from unnest(v_ids) as x(u) where not exists (select 1 from public.profiles p where p.id = x.u);
  if v_missing > 0 then
    perform private.raise_error('22023', 'user_not_found', 'One of these users does not exist.');
  end if;
  if exists (select 1 from unnest(v_ids) as x(u) where private.is_blocked_between(p_actor, x.u)) then
    perform private.raise_error('P0001', 'blocked', 'You cannot add one of these users.');
  end if;
  return v_ids;
end
$$;
comment on function private.check_new_group_members(uuid, uuid[]) is
  'De-duplicates member ids (without the actor) and checks they exist and have no block with the actor.';

-- Of p_user_ids, those who follow p_actor (in order): they have agreed to hear from them and may
-- be added to a group directly. Everyone else is invited.
create or replace function private.followers_among(p_actor uuid, p_user_ids uuid[]) returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(array_agg(x.u order by x.o), '{}')
    from unnest(p_user_ids) with ordinality as x(u, o)
   where exists (select 1 from public.follows f where f.follower_id = x.u and f.followee_id = p_actor)
$$;
comment on function private.followers_among(uuid, uuid[]) is
  'The ids among p_user_ids that follow p_actor, in order: people who may be added to p_actor''s groups without an invitation.';

-- ---------------------------------------------------------------------------------------------
-- Invitations
-- ---------------------------------------------------------------------------------------------

create table public.group_invitations (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  invited_by uuid references public.profiles (id) on delete set null,
  status text not null default 'pending',
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '14 days',
  responded_at timestamptz,
  constraint group_invitations_one_per_person unique (conversation_id, user_id),
  constraint group_invitations_status check (status in ('pending', 'accepted', 'declined', 'cancelled')),
  constraint group_invitations_expiry check (expires_at > created_at)
);
revoke all on public.group_invitations from public, anon, authenticated, service_role;
comment on table public.group_invitations is
  'Invitations to groups for people who do not follow the admin adding them (consent before membership). The invitee and the group''s members read them; accept_group_invitation / decline_group_invitation answer them. A pending invitation past expires_at is expired. One row per group and person: a declined invitation stays declined.';
comment on column public.group_invitations.status is 'pending | accepted | declined | cancelled (withdrawn by an admin). Pending and past expires_at = expired.';
create index group_invitations_user_idx on public.group_invitations (user_id, created_at desc) where status = 'pending';
create index group_invitations_invited_by_idx on public.group_invitations (invited_by);

alter table public.group_invitations enable row level security;
create policy "invitees and group members see invitations" on public.group_invitations
  for select to authenticated
  using (user_id = (select auth.uid()) or private.caller_can_access_conversation(conversation_id));
grant select on public.group_invitations to authenticated;
grant select, insert, update, delete on public.group_invitations to service_role;

-- Invites p_user_ids (already checked: existing, not blocked with the actor, not members) to a
-- group on behalf of p_actor and tells each one. A pending invitation is not repeated and a
-- declined one is not reopened; an accepted or withdrawn one (the person left, or was removed)
-- is opened again, but its invitee is told about one group at most once a day, so an
-- invite-withdraw loop cannot fill their inbox. Returns the people actually invited now.
create or replace function private.invite_to_group(p_conversation_id uuid, p_actor uuid, p_user_ids uuid[]) returns uuid[]
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_invited uuid[];
  v_title text;
  v_user uuid;
  v_invitation uuid;
begin
  if coalesce(cardinality(p_user_ids), 0) = 0 then
    return '{}'::uuid[];
  end if;
  select c.title into v_title from public.conversations c where c.id = p_conversation_id;
  with upserted as (
    insert into public.group_invitations as i (conversation_id, user_id, invited_by)
    select p_conversation_id, x.u, p_actor from unnest(p_user_ids) as x(u)
    on conflict (conversation_id, user_id) do update
       set status = 'pending', invited_by = excluded.invited_by, created_at = now(),
           expires_at = now() + interval '14 days', responded_at = null
     where i.status in ('accepted', 'cancelled') or (i.status = 'pending' and i.expires_at <= now())
    returning i.user_id
  )
  select coalesce(array_agg(u.user_id), '{}') into v_invited from upserted u;
  foreach v_user in array v_invited loop
    select i.id into v_invitation from public.group_invitations i
     where i.conversation_id = p_conversation_id and i.user_id = v_user;
    continue when exists (select 1 from public.notifications n
                           where n.user_id = v_user and n.type = 'group_invitation' and n.created_at > now() - interval '1 day'
                             and n.data ->> 'conversation_id' = p_conversation_id::text);
    perform private.notify_from(p_actor, v_user, 'group_invitation',
      format('%s invited you to %s', private.chat_display_name(p_actor), v_title), null,
      jsonb_build_object('invitation_id', v_invitation, 'conversation_id', p_conversation_id, 'invited_by', p_actor));
  end loop;
  return v_invited;
end
$$;
comment on function private.invite_to_group(uuid, uuid, uuid[]) is
  'Opens invitations to a group for people who do not follow the admin (pending ones are not repeated, declined ones not reopened) and notifies each (group_invitation). Returns who was invited now.';

-- Loads a group for an admin action under its row lock.
create or replace function private.lock_group_for_admin(p_conversation_id uuid, p_user_id uuid) returns public.conversations
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_conv public.conversations;
  v_role text;
begin
  v_role := private.require_conversation_role(p_conversation_id, p_user_id);
  select * into v_conv from public.conversations where id = p_conversation_id;
  if v_conv.kind <> 'group' then
    perform private.raise_error('P0001', 'not_a_group',
      case v_conv.kind when 'event' then 'Event chat membership follows bookings.'
                       else 'A direct conversation always has the same two people.' end);
  end if;
  if v_role <> 'admin' then
    perform private.raise_error('42501', 'not_conversation_admin', 'Only a group admin can do this.');
  end if;
  select * into v_conv from public.conversations where id = p_conversation_id for update;
  return v_conv;
end
$$;
comment on function private.lock_group_for_admin(uuid, uuid) is
  'Raises unless the user is an admin of the group; returns it under its row lock.';

-- ---------------------------------------------------------------------------------------------

create or replace function private.start_direct_conversation(p_user_id uuid) returns public.conversations
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_conv public.conversations;
begin
  if p_user_id is null then
    perform private.raise_error('22023', 'user_not_found', 'Say who to message.');
  end if;
  if p_user_id = v_uid then
    perform private.raise_error('22023', 'cannot_message_self', 'You cannot start a conversation with yourself.');
  end if;
  if not exists (select 1 from public.profiles p where p.id = p_user_id) then
    perform private.raise_error('22023', 'user_not_found', 'No such user.');
  end if;
  if private.is_blocked_between(v_uid, p_user_id) then
    perform private.raise_error('P0001', 'blocked', 'You cannot message this user.');
  end if;
  insert into public.conversations (kind, created_by, direct_user_low, direct_user_high)
  values ('direct', v_uid, least(v_uid, p_user_id), greatest(v_uid, p_user_id))
  on conflict (direct_user_low, direct_user_high) where kind = 'direct' do nothing
  returning * into v_conv;
  if v_conv.id is null then
    select * into v_conv from public.conversations
     where kind = 'direct' and direct_user_low = least(v_uid, p_user_id) and direct_user_high = greatest(v_uid, p_user_id);
    return v_conv;
  end if;
  insert into public.conversation_members (conversation_id, user_id, role, added_by)
  values (v_conv.id, v_uid, 'member', v_uid), (v_conv.id, p_user_id, 'member', v_uid);
  perform private.broadcast_to_user(v_uid, 'conversation_added',
    jsonb_build_object('conversation_id', v_conv.id, 'kind', 'direct', 'user_id', p_user_id));
  return v_conv;
end
$$;

create or replace function public.start_direct_conversation(p_user_id uuid) returns public.conversations
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.start_direct_conversation(p_user_id);
end
$$;
comment on function public.start_direct_conversation(uuid) is
  'The caller''s direct conversation with p_user_id, created the first time (either side may start it; both get the same one). It shows in the other person''s list once it has a message. Errors: 22023 user_not_found, cannot_message_self; 42501 not_authenticated; P0001 blocked.';

create or replace function private.create_group_conversation(p_title text, p_member_ids uuid[]) returns public.conversations
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_title text := btrim(p_title);
  v_all uuid[];
  v_ids uuid[];
  v_conv public.conversations;
  v_user uuid;
begin
  if v_title is null or char_length(v_title) not between 1 and 120 then
    perform private.raise_error('22023', 'invalid_title', 'A group name has 1 to 120 characters.');
  end if;
  v_all := private.check_new_group_members(v_uid, p_member_ids);
  perform private.consume_rate_limit('group_create', v_uid::text);
  perform private.consume_rate_limit('group_people', v_uid::text, cardinality(v_all));
  -- Only people who follow the creator join now; the others are invited.
  v_ids := private.followers_among(v_uid, v_all);
  insert into public.conversations (kind, title, created_by) values ('group', v_title, v_uid) returning * into v_conv;
  insert into public.conversation_members (conversation_id, user_id, role, added_by)
  select v_conv.id, v_uid, 'admin', v_uid
  union all
  select v_conv.id, u, 'member', v_uid from unnest(v_ids) as x(u);
  perform private.post_system_message(v_conv.id, v_uid,
    case when cardinality(v_ids) = 0 then format('%s created the group', private.chat_display_name(v_uid))
         else format('%s created the group with %s', private.chat_display_name(v_uid), private.chat_name_list(v_ids)) end,
    jsonb_build_object('action', 'created', 'user_ids', to_jsonb(v_ids)));
  foreach v_user in array array_prepend(v_uid, v_ids) loop
    perform private.broadcast_to_user(v_user, 'conversation_added',
      jsonb_build_object('conversation_id', v_conv.id, 'kind', 'group', 'added_by', v_uid));
  end loop;
  perform private.invite_to_group(v_conv.id, v_uid,
    array(select u from unnest(v_all) as x(u) where u <> all (v_ids)));
  select * into v_conv from public.conversations where id = v_conv.id;
  return v_conv;
end
$$;

create or replace function public.create_group_conversation(p_title text, p_member_ids uuid[] default '{}') returns public.conversations
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.create_group_conversation(p_title, p_member_ids);
end
$$;
comment on function public.create_group_conversation(text, uuid[]) is
  'Creates a group named p_title (1–120 characters) with the caller as admin. Of p_member_ids (up to 255; duplicates and the caller ignored), people who follow the caller become members; everyone else gets an invitation (group_invitations) to accept or decline. Errors: 22023 invalid_title, user_not_found, too_many_members; 42501 not_authenticated; P0001 blocked, rate_limited (groups per hour, people per hour).';

create or replace function private.add_conversation_members(p_conversation_id uuid, p_user_ids uuid[])
returns setof public.conversation_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_ids uuid[];
  v_candidates uuid[];
  v_new uuid[];
  v_user uuid;
begin
  perform private.lock_group_for_admin(p_conversation_id, v_uid);
  v_ids := private.check_new_group_members(v_uid, p_user_ids);
  select coalesce(array_agg(u order by o), '{}') into v_candidates
    from unnest(v_ids) with ordinality as x(u, o)
   where not exists (select 1 from public.conversation_members m where m.conversation_id = p_conversation_id and m.user_id = x.u);
  if cardinality(v_candidates) = 0 then
    return;
  end if;
  if (select count(*) from public.conversation_members m where m.conversation_id = p_conversation_id) + cardinality(v_candidates) > 256 then
    perform private.raise_error('P0001', 'group_full', 'A group has at most 256 members.');
  end if;
  perform private.consume_rate_limit('group_people', v_uid::text, cardinality(v_candidates));
  -- People who follow the admin join now; the others are invited.
  v_new := private.followers_among(v_uid, v_candidates);
  perform private.invite_to_group(p_conversation_id, v_uid,
    array(select u from unnest(v_candidates) as x(u) where u <> all (v_new)));
  if cardinality(v_new) = 0 then
    return;
  end if;
  insert into public.conversation_members (conversation_id, user_id, role, added_by)
  select p_conversation_id, u, 'member', v_uid from unnest(v_new) as x(u);
  -- Someone invited earlier who has since followed the admin is simply in now.
  update public.group_invitations set status = 'accepted', responded_at = now()
   where conversation_id = p_conversation_id and user_id = any (v_new) and status = 'pending';
  perform private.post_system_message(p_conversation_id, v_uid,
    format('%s added %s', private.chat_display_name(v_uid), private.chat_name_list(v_new)),
    jsonb_build_object('action', 'added', 'user_ids', to_jsonb(v_new)));
  foreach v_user in array v_new loop
    perform private.broadcast_to_user(v_user, 'conversation_added',
      jsonb_build_object('conversation_id', p_conversation_id, 'kind', 'group', 'added_by', v_uid));
  end loop;
  return query select * from public.conversation_members m
                where m.conversation_id = p_conversation_id and m.user_id = any (v_new)
                order by m.joined_at, m.user_id;
end
$$;

create or replace function public.add_conversation_members(p_conversation_id uuid, p_user_ids uuid[])
returns setof public.conversation_members
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.add_conversation_members(p_conversation_id, p_user_ids);
end
$$;
comment on function public.add_conversation_members(uuid, uuid[]) is
  'A group admin adds people (existing members are skipped): those who follow the admin become members and are returned; everyone else gets an invitation (group_invitations) instead. Errors: 22023 conversation_not_found, user_not_found, too_many_members; 42501 not_authenticated, not_a_member, not_conversation_admin; P0001 not_a_group, blocked, group_full, rate_limited (people per hour).';

create or replace function private.remove_conversation_member(p_conversation_id uuid, p_user_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  perform private.lock_group_for_admin(p_conversation_id, v_uid);
  if p_user_id is null then
    perform private.raise_error('22023', 'user_not_found', 'Say who to remove.');
  end if;
  if p_user_id = v_uid then
    perform private.raise_error('22023', 'use_leave_conversation', 'To leave the group yourself, use leave_conversation.');
  end if;
  -- Withdrawing an invitation is a removal too (nothing to announce).
  update public.group_invitations set status = 'cancelled', responded_at = now()
   where conversation_id = p_conversation_id and user_id = p_user_id and status = 'pending';
  if found then
    perform private.consume_rate_limit('group_people', v_uid::text);
    return true;
  end if;
  delete from public.conversation_members where conversation_id = p_conversation_id and user_id = p_user_id;
  if not found then
    return false;
  end if;
  perform private.consume_rate_limit('group_people', v_uid::text);
  perform private.post_system_message(p_conversation_id, v_uid,
    format('%s removed %s', private.chat_display_name(v_uid), private.chat_display_name(p_user_id)),
    jsonb_build_object('action', 'removed', 'user_ids', jsonb_build_array(p_user_id)));
  perform private.broadcast_to_user(p_user_id, 'conversation_removed',
    jsonb_build_object('conversation_id', p_conversation_id, 'kind', 'group', 'removed_by', v_uid));
  return true;
end
$$;

create or replace function public.remove_conversation_member(p_conversation_id uuid, p_user_id uuid) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.remove_conversation_member(p_conversation_id, p_user_id);
end
$$;
comment on function public.remove_conversation_member(uuid, uuid) is
  'A group admin removes a member or withdraws a pending invitation (true), or nothing happens when they are neither (false). Errors: 22023 conversation_not_found, user_not_found, use_leave_conversation; 42501 not_authenticated, not_a_member, not_conversation_admin; P0001 not_a_group, rate_limited (people per hour).';

create or replace function private.leave_conversation(p_conversation_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_conv public.conversations;
  v_role text;
  v_heir uuid;
begin
  v_role := private.require_conversation_role(p_conversation_id, v_uid);
  select * into v_conv from public.conversations where id = p_conversation_id;
  if v_conv.kind = 'direct' then
    perform private.raise_error('P0001', 'cannot_leave_direct', 'A direct conversation cannot be left; mute it or block the person.');
  elsif v_conv.kind = 'event' then
    perform private.raise_error('P0001', 'cannot_leave_event_chat', 'Event chat membership follows your booking; mute the chat instead.');
  end if;
  perform 1 from public.conversations where id = p_conversation_id for update;
  delete from public.conversation_members where conversation_id = p_conversation_id and user_id = v_uid
  returning role into v_role;
  if v_role is null then
    return;
  end if;
  -- The last admin hands over to the longest-standing member.
  if v_role = 'admin' and not exists (select 1 from public.conversation_members m
                                       where m.conversation_id = p_conversation_id and m.role = 'admin') then
    update public.conversation_members set role = 'admin'
     where (conversation_id, user_id) = (
       select m.conversation_id, m.user_id from public.conversation_members m
        where m.conversation_id = p_conversation_id order by m.joined_at, m.user_id limit 1)
    returning user_id into v_heir;
  end if;
  perform private.post_system_message(p_conversation_id, v_uid,
    format('%s left', private.chat_display_name(v_uid))
      || case when v_heir is not null then format('; %s is now an admin', private.chat_display_name(v_heir)) else '' end,
    jsonb_build_object('action', 'left', 'user_ids', jsonb_build_array(v_uid))
      || case when v_heir is not null then jsonb_build_object('new_admin_id', v_heir) else '{}'::jsonb end);
  perform private.broadcast_to_user(v_uid, 'conversation_removed',
    jsonb_build_object('conversation_id', p_conversation_id, 'kind', 'group'));
end
$$;

create or replace function public.leave_conversation(p_conversation_id uuid) returns void
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  perform private.leave_conversation(p_conversation_id);
end
$$;
comment on function public.leave_conversation(uuid) is
  'The caller leaves a group; when the last admin leaves, the longest-standing member becomes admin. Errors: 22023 conversation_not_found; 42501 not_authenticated, not_a_member; P0001 cannot_leave_direct, cannot_leave_event_chat.';

create or replace function private.set_conversation_muted(p_conversation_id uuid, p_muted boolean) returns public.conversation_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_role text;
  v_member public.conversation_members;
begin
  if p_muted is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_muted is true or false.');
  end if;
  v_role := private.require_conversation_role(p_conversation_id, v_uid);
  insert into public.conversation_members as m (conversation_id, user_id, role, muted)
  values (p_conversation_id, v_uid, v_role, p_muted)
  on conflict (conversation_id, user_id) do update set muted = excluded.muted
  returning * into v_member;
  perform private.broadcast_to_user(v_uid, 'conversation_updated',
    jsonb_build_object('conversation_id', p_conversation_id, 'muted', p_muted));
  return v_member;
end
$$;

create or replace function public.set_conversation_muted(p_conversation_id uuid, p_muted boolean default true)
returns public.conversation_members
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.set_conversation_muted(p_conversation_id, p_muted);
end
$$;
comment on function public.set_conversation_muted(uuid, boolean) is
  'Mutes (or unmutes) a conversation for the caller: no notifications from it. Errors: 22023 conversation_not_found, invalid_argument; 42501 not_authenticated, not_a_member; P0001 blocked.';

-- ---------------------------------------------------------------------------------------------
-- Answering invitations
-- ---------------------------------------------------------------------------------------------

-- The caller's invitation p_invitation_id under its row lock, or 22023 invitation_not_found
-- (also for someone else's: invitations are not enumerable).
create or replace function private.my_invitation_for_update(p_invitation_id uuid, p_user_id uuid) returns public.group_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_invitation public.group_invitations;
begin
  select * into v_invitation from public.group_invitations i
   where i.id = p_invitation_id and i.user_id = p_user_id
   for update;
  if v_invitation.id is null then
    perform private.raise_error('22023', 'invitation_not_found', 'No such invitation.');
  end if;
  if v_invitation.status <> 'pending' then
    perform private.raise_error('P0001', 'invitation_not_pending', format('This invitation was already %s.', v_invitation.status));
  end if;
  if v_invitation.expires_at <= now() then
    perform private.raise_error('P0001', 'invitation_expired', 'This invitation has expired. Ask for a new one.');
  end if;
  return v_invitation;
end
$$;
comment on function private.my_invitation_for_update(uuid, uuid) is
  'The user''s pending, unexpired invitation under its row lock; raises 22023 invitation_not_found, P0001 invitation_not_pending, invitation_expired.';

create or replace function private.accept_group_invitation(p_invitation_id uuid) returns public.conversation_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_invitation public.group_invitations;
  v_member public.conversation_members;
begin
  v_invitation := private.my_invitation_for_update(p_invitation_id, v_uid);
  -- The group's row lock orders this with admins adding and members leaving.
  perform 1 from public.conversations c where c.id = v_invitation.conversation_id for update;
  if v_invitation.invited_by is not null and private.is_blocked_between(v_uid, v_invitation.invited_by) then
    perform private.raise_error('P0001', 'blocked', 'You cannot join this group.');
  end if;
  if (select count(*) from public.conversation_members m where m.conversation_id = v_invitation.conversation_id) >= 256 then
    perform private.raise_error('P0001', 'group_full', 'A group has at most 256 members.');
  end if;
  update public.group_invitations set status = 'accepted', responded_at = now() where id = v_invitation.id;
  insert into public.conversation_members as m (conversation_id, user_id, role, added_by)
  values (v_invitation.conversation_id, v_uid, 'member', v_invitation.invited_by)
  on conflict (conversation_id, user_id) do update set role = m.role
  returning * into v_member;
  perform private.post_system_message(v_invitation.conversation_id, v_uid,
    format('%s joined', private.chat_display_name(v_uid)),
    jsonb_build_object('action', 'joined', 'user_ids', jsonb_build_array(v_uid), 'invited_by', v_invitation.invited_by));
  perform private.broadcast_to_user(v_uid, 'conversation_added',
    jsonb_build_object('conversation_id', v_invitation.conversation_id, 'kind', 'group', 'added_by', v_invitation.invited_by));
  return v_member;
end
$$;

create or replace function public.accept_group_invitation(p_invitation_id uuid) returns public.conversation_members
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.accept_group_invitation(p_invitation_id);
end
$$;
comment on function public.accept_group_invitation(uuid) is
  'The caller accepts an invitation to a group (from my_group_invitations) and becomes a member; returns the member row. Errors: 22023 invitation_not_found; 42501 not_authenticated; P0001 invitation_not_pending, invitation_expired, group_full, blocked.';

create or replace function private.decline_group_invitation(p_invitation_id uuid) returns public.group_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_invitation public.group_invitations;
begin
  v_invitation := private.my_invitation_for_update(p_invitation_id, v_uid);
  update public.group_invitations set status = 'declined', responded_at = now()
   where id = v_invitation.id
  returning * into v_invitation;
  return v_invitation;
end
$$;

create or replace function public.decline_group_invitation(p_invitation_id uuid) returns public.group_invitations
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.decline_group_invitation(p_invitation_id);
end
$$;
comment on function public.decline_group_invitation(uuid) is
  'The caller declines an invitation to a group; it is final for that group (nobody is told). Returns the invitation. Errors: 22023 invitation_not_found; 42501 not_authenticated; P0001 invitation_not_pending, invitation_expired.';

create or replace function private.my_group_invitations()
returns table (id uuid, conversation_id uuid, title text, invited_by uuid, invited_by_name text, member_count integer,
               created_at timestamptz, expires_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  return query
  select i.id, i.conversation_id, c.title, i.invited_by, private.chat_display_name(i.invited_by),
         (select count(*)::integer from public.conversation_members m where m.conversation_id = i.conversation_id),
         i.created_at, i.expires_at
    from public.group_invitations i
    join public.conversations c on c.id = i.conversation_id
   where i.user_id = v_uid and i.status = 'pending' and i.expires_at > now()
     and (i.invited_by is null or not private.is_blocked_between(v_uid, i.invited_by))
   order by i.created_at desc, i.id
   limit 100;
end
$$;

create or replace function public.my_group_invitations()
returns table (id uuid, conversation_id uuid, title text, invited_by uuid, invited_by_name text, member_count integer,
               created_at timestamptz, expires_at timestamptz)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.my_group_invitations();
end
$$;
comment on function public.my_group_invitations() is
  'The caller''s open invitations to groups (newest first, at most 100): the group''s title and size and who invited them. Answer with accept_group_invitation or decline_group_invitation. Errors: 42501 not_authenticated.';

grant execute on function private.accept_group_invitation(uuid), private.decline_group_invitation(uuid),
  private.my_group_invitations() to authenticated;
revoke execute on function public.accept_group_invitation(uuid), public.decline_group_invitation(uuid),
  public.my_group_invitations() from public, anon, authenticated, service_role;
grant execute on function public.accept_group_invitation(uuid), public.decline_group_invitation(uuid),
  public.my_group_invitations() to anon, authenticated;

grant execute on function private.start_direct_conversation(uuid), private.create_group_conversation(text, uuid[]),
  private.add_conversation_members(uuid, uuid[]), private.remove_conversation_member(uuid, uuid),
  private.leave_conversation(uuid), private.set_conversation_muted(uuid, boolean) to authenticated;
revoke execute on function public.start_direct_conversation(uuid), public.create_group_conversation(text, uuid[]),
  public.add_conversation_members(uuid, uuid[]), public.remove_conversation_member(uuid, uuid),
  public.leave_conversation(uuid), public.set_conversation_muted(uuid, boolean) from public, anon, authenticated, service_role;
grant execute on function public.start_direct_conversation(uuid), public.create_group_conversation(text, uuid[]),
  public.add_conversation_members(uuid, uuid[]), public.remove_conversation_member(uuid, uuid),
  public.leave_conversation(uuid), public.set_conversation_muted(uuid, boolean) to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.add_conversation_members(uuid,uuid[]),
  private.chat_display_name(uuid),
  private.chat_name_list(uuid[]),
  private.check_new_group_members(uuid,uuid[]),
  private.create_group_conversation(text,uuid[]),
  private.followers_among(uuid,uuid[]),
  private.invite_to_group(uuid,uuid,uuid[]),
  private.my_invitation_for_update(uuid,uuid),
  private.accept_group_invitation(uuid),
  private.decline_group_invitation(uuid),
  private.my_group_invitations(),
  private.leave_conversation(uuid),
  private.lock_group_for_admin(uuid,uuid),
  private.remove_conversation_member(uuid,uuid),
  private.set_conversation_muted(uuid,boolean),
  private.start_direct_conversation(uuid)
  from public;
