-- Chat, part 1: conversations and who may take part in them.
--
-- Three kinds of conversation (ARCHITECTURE §4):
--   direct  one per pair of users, whoever starts it (direct_user_low < direct_user_high make
--           the pair unique); closed to both while either has blocked the other.
--   event   one per event, created with the event (a trigger on private.events; existing
--           events are backfilled here). Access is DERIVED from live rows, never from a copy:
--           the host and co-hosts are admins, guests with a `confirmed` booking and the people
--           holding a seat someone transferred to them from one are members, and nobody else — a cancelled, refunded or declined guest loses access in the same
--           transaction that changes the booking, because every check reads public.bookings.
--           A block between the host and a user (either direction) also closes the event chat
--           to that user: a host who blocks a guest stops sharing a conversation with them
--           without having to cancel the booking, and a guest who blocks the host leaves it.
--   group   created by a user with a title; admins add and remove members; the last admin to
--           leave hands over to the longest-standing member.
-- conversation_members keeps per-user state (role, read pointer, mute, notification batching).
-- For direct and group conversations the row IS the membership. For event chats rows are a
-- mirror kept by triggers on bookings, co-hosts and blocks (so lists, fan-out and unread counts
-- have a row to read), but access is always decided by private.event_chat_role() against the
-- live bookings and co-host rows: a stale mirror row can never grant access.
-- Every write goes through RPCs (next migrations); the tables are readable by those with access.

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  kind text not null,
  event_id uuid unique references private.events (id) on delete cascade,
  title text,
  created_by uuid references public.profiles (id) on delete set null,
  direct_user_low uuid references public.profiles (id) on delete cascade,
  direct_user_high uuid references public.profiles (id) on delete cascade,
  last_seq bigint not null default 0,
  last_message_at timestamptz,
  last_activity_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  constraint conversations_kind check (kind in ('direct', 'event', 'group')),
  constraint conversations_title_length check (title is null or char_length(title) between 1 and 120),
  constraint conversations_shape check (
    (kind = 'direct' and event_id is null and direct_user_low is not null and direct_user_high is not null
       and direct_user_low < direct_user_high)
    or (kind = 'event' and event_id is not null and direct_user_low is null and direct_user_high is null)
    or (kind = 'group' and event_id is null and direct_user_low is null and direct_user_high is null and title is not null))
) with (fillfactor = 90);
revoke all on public.conversations from public, anon, authenticated, service_role;
comment on table public.conversations is
  'Chat conversations: direct (one per pair), event (one per event; access follows bookings), group. Readable by those with access; created and changed through the chat RPCs.';
comment on column public.conversations.kind is 'direct | event | group';
comment on column public.conversations.event_id is 'The event of an event chat (one conversation per event).';
comment on column public.conversations.title is 'Group name, or the event title for event chats; null for direct conversations.';
comment on column public.conversations.direct_user_low is 'Direct conversations: the smaller of the two user ids (the pair is unique).';
comment on column public.conversations.direct_user_high is 'Direct conversations: the larger of the two user ids.';
comment on column public.conversations.last_seq is 'Sequence number of the latest message (messages.seq is per conversation, gap-free in commit order).';
comment on column public.conversations.last_activity_at is 'When the conversation last changed (creation or latest message); my_conversations sorts on it.';
create unique index conversations_direct_pair_key on public.conversations (direct_user_low, direct_user_high) where kind = 'direct';
create index conversations_direct_high_idx on public.conversations (direct_user_high) where kind = 'direct';
create index conversations_created_by_idx on public.conversations (created_by);

create table public.conversation_members (
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  role text not null default 'member',
  joined_at timestamptz not null default now(),
  added_by uuid references public.profiles (id) on delete set null,
  last_read_message_id uuid,
  last_read_seq bigint not null default 0,
  last_read_at timestamptz,
  muted boolean not null default false,
  notified_seq bigint not null default 0,
  notified_at timestamptz,
  primary key (conversation_id, user_id),
  constraint conversation_members_role check (role in ('admin', 'member'))
) with (fillfactor = 80);
revoke all on public.conversation_members from public, anon, authenticated, service_role;
comment on table public.conversation_members is
  'Per-user state in a conversation: role, read pointer (read receipts), mute. Members see each other''s rows. For event chats the rows mirror booking state; access itself is always checked against live bookings.';
comment on column public.conversation_members.role is 'admin | member. Event chats: host and co-hosts are admins.';
comment on column public.conversation_members.last_read_message_id is 'The latest message this member has read (set by mark_conversation_read and by sending).';
comment on column public.conversation_members.last_read_seq is 'messages.seq of last_read_message_id; unread = later messages from others.';
comment on column public.conversation_members.muted is 'A muted conversation sends this member no notifications.';
comment on column public.conversation_members.notified_seq is 'Messages up to this seq are covered by a notification already (offline batching).';
create index conversation_members_user_idx on public.conversation_members (user_id, conversation_id);
create index conversation_members_added_by_idx on public.conversation_members (added_by);

-- ---------------------------------------------------------------------------------------------
-- Access
-- ---------------------------------------------------------------------------------------------

-- A user's place in an event chat, from live rows: 'admin' (host, co-host), 'member'
-- (confirmed guest) or null. A block between host and user closes it to everyone but the host.
create or replace function private.event_chat_role(p_event_id uuid, p_user_id uuid) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_host uuid;
begin
  if p_user_id is null then
    return null;
  end if;
  select e.host_id into v_host from private.events e where e.id = p_event_id;
  if v_host is null then
    return null;
  end if;
  -- A deleted account takes part in no event chat, although its past bookings stay confirmed
  -- (they are money records).
  if exists (select 1 from public.profiles p where p.id = p_user_id and p.deleted_at is not null) then
    return null;
  end if;
  if v_host = p_user_id then
    return 'admin';
  end if;
  if private.is_blocked_between(v_host, p_user_id) then
    return null;
  end if;
  if exists (select 1 from public.event_cohosts c where c.event_id = p_event_id and c.user_id = p_user_id) then
    return 'admin';
  end if;
  if exists (select 1 from public.bookings b
              where b.event_id = p_event_id and b.guest_id = p_user_id and b.status = 'confirmed')
     or private.holds_seat(p_event_id, p_user_id) then
    return 'member';
  end if;
  return null;
end
$$;
comment on function private.event_chat_role(uuid, uuid) is
  'Event chat access from live rows: admin for the host and co-hosts, member for confirmed guests and holders of a seat transferred to them, null otherwise (and for anyone blocked with the host, and for deleted accounts).';

-- The caller-independent core of every chat check: p_user_id's role in the conversation, or
-- null when they have no access right now.
create or replace function private.conversation_role(p_conversation_id uuid, p_user_id uuid) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_conv public.conversations;
  v_role text;
begin
  if p_user_id is null or p_conversation_id is null then
    return null;
  end if;
  select * into v_conv from public.conversations where id = p_conversation_id;
  if v_conv.id is null then
    return null;
  end if;
  if v_conv.kind = 'event' then
    return private.event_chat_role(v_conv.event_id, p_user_id);
  end if;
  select m.role into v_role from public.conversation_members m
   where m.conversation_id = p_conversation_id and m.user_id = p_user_id;
  if v_role is null then
    return null;
  end if;
  if v_conv.kind = 'direct' and private.is_blocked_between(v_conv.direct_user_low, v_conv.direct_user_high) then
    return null;
  end if;
  return v_role;
end
$$;
comment on function private.conversation_role(uuid, uuid) is
  'The user''s role (admin | member) in a conversation they may take part in now, else null: members of direct (unless blocked either way) and group conversations; event chats per event_chat_role.';

create or replace function private.can_access_conversation(p_conversation_id uuid, p_user_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select private.conversation_role(p_conversation_id, p_user_id) is not null
$$;
comment on function private.can_access_conversation(uuid, uuid) is
  'True when the user may read and write in the conversation right now (RLS, Realtime and Storage all ask this).';

-- The same question for the signed-in caller: what RLS policies ask. Policies use this one, so
-- API roles never get a function that answers for an arbitrary user id (which would tell anyone
-- whether someone else holds a confirmed booking).
create or replace function private.caller_can_access_conversation(p_conversation_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select private.conversation_role(p_conversation_id, auth.uid()) is not null
$$;
comment on function private.caller_can_access_conversation(uuid) is
  'RLS: true when the signed-in caller may take part in the conversation right now.';

-- The caller's role in a conversation, or raises: 22023 conversation_not_found, 42501
-- not_a_member, P0001 blocked (a direct conversation closed by a block).
create or replace function private.require_conversation_role(p_conversation_id uuid, p_user_id uuid) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_conv public.conversations;
  v_role text;
begin
  if p_conversation_id is not null then
    select * into v_conv from public.conversations where id = p_conversation_id;
  end if;
  if v_conv.id is null then
    perform private.raise_error('22023', 'conversation_not_found', 'No such conversation.');
  end if;
  v_role := private.conversation_role(p_conversation_id, p_user_id);
  if v_role is null then
    if v_conv.kind = 'direct' and p_user_id in (v_conv.direct_user_low, v_conv.direct_user_high) then
      perform private.raise_error('P0001', 'blocked', 'You can no longer message in this conversation.');
    end if;
    perform private.raise_error('42501', 'not_a_member', 'You are not a member of this conversation.');
  end if;
  return v_role;
end
$$;
comment on function private.require_conversation_role(uuid, uuid) is
  'The user''s role in the conversation; raises 22023 conversation_not_found, 42501 not_a_member, or P0001 blocked (a direct conversation closed by a block).';

-- Broadcast helpers (Broadcast from Database on private topics).
create or replace function private.broadcast_to_user(p_user_id uuid, p_event text, p_payload jsonb) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.send(p_payload, p_event, 'user:' || p_user_id::text, true);
end
$$;
comment on function private.broadcast_to_user(uuid, text, jsonb) is 'Sends a private broadcast on user:<id>.';

create or replace function private.broadcast_to_conversation(p_conversation_id uuid, p_event text, p_payload jsonb) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.send(p_payload, p_event, 'conversation:' || p_conversation_id::text, true);
end
$$;
comment on function private.broadcast_to_conversation(uuid, text, jsonb) is 'Sends a private broadcast on conversation:<id>.';

-- ---------------------------------------------------------------------------------------------
-- Event chats: created with the event; member rows mirror live access
-- ---------------------------------------------------------------------------------------------

-- Brings one user's mirror row in an event chat in line with event_chat_role(), and tells them
-- on user:<id> when the conversation appears in or disappears from their list.
create or replace function private.sync_event_chat_member(p_event_id uuid, p_user_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_conversation_id uuid;
  v_role text;
  v_inserted boolean;
begin
  select id into v_conversation_id from public.conversations where event_id = p_event_id;
  if v_conversation_id is null or p_user_id is null then
    return;
  end if;
  v_role := private.event_chat_role(p_event_id, p_user_id);
  if v_role is null then
    delete from public.conversation_members where conversation_id = v_conversation_id and user_id = p_user_id;
    if found then
      perform private.broadcast_to_user(p_user_id, 'conversation_removed',
        jsonb_build_object('conversation_id', v_conversation_id, 'kind', 'event', 'event_id', p_event_id));
    end if;
    return;
  end if;
  insert into public.conversation_members as m (conversation_id, user_id, role)
  values (v_conversation_id, p_user_id, v_role)
  on conflict (conversation_id, user_id) do update set role = excluded.role
   where m.role is distinct from excluded.role
  returning (xmax = 0) into v_inserted;
  if v_inserted then
    perform private.broadcast_to_user(p_user_id, 'conversation_added',
      jsonb_build_object('conversation_id', v_conversation_id, 'kind', 'event', 'event_id', p_event_id));
  end if;
end
$$;
comment on function private.sync_event_chat_member(uuid, uuid) is
  'Adds, updates or removes a user''s mirror row in an event chat so it matches live access; broadcasts conversation_added / conversation_removed on user:<id>.';

create or replace function private.events_create_chat() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.conversations (kind, event_id, title, created_by, created_at, last_activity_at)
  values ('event', new.id, new.title, new.host_id, now(), now());
  perform private.sync_event_chat_member(new.id, new.host_id);
  return null;
end
$$;
comment on function private.events_create_chat() is 'Trigger: every new event gets its event chat, with the host as admin.';
create trigger events_create_chat after insert on private.events
  for each row execute function private.events_create_chat();

create or replace function private.events_sync_chat_title() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.conversations set title = new.title where event_id = new.id and title is distinct from new.title;
  return null;
end
$$;
comment on function private.events_sync_chat_title() is 'Trigger: an event chat is titled after its event.';
create trigger events_sync_chat_title after update of title on private.events
  for each row when (old.title is distinct from new.title)
  execute function private.events_sync_chat_title();

create or replace function private.bookings_sync_event_chat() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_holder uuid;
begin
  if tg_op = 'INSERT' then
    if new.status = 'confirmed' then
      perform private.sync_event_chat_member(new.event_id, new.guest_id);
    end if;
  elsif (old.status = 'confirmed') is distinct from (new.status = 'confirmed') or old.guest_id <> new.guest_id then
    perform private.sync_event_chat_member(new.event_id, new.guest_id);
    if old.guest_id <> new.guest_id then
      -- A booking handed to someone else (accept_booking_transfer): the old guest leaves.
      perform private.sync_event_chat_member(old.event_id, old.guest_id);
    end if;
    -- The people holding seats of the booking come and go with it.
    for v_holder in select distinct s.holder_id from public.booking_seats s
                     where s.booking_id = new.id and s.holder_id is not null loop
      perform private.sync_event_chat_member(new.event_id, v_holder);
    end loop;
  end if;
  return null;
end
$$;
comment on function private.bookings_sync_event_chat() is
  'Trigger: a booking becoming confirmed adds the guest''s (and its seat holders'') event chat rows; leaving confirmed (cancelled, refunded, expired, declined) removes them; a booking handed to another guest moves the row.';
create trigger bookings_sync_event_chat after insert or update of status, guest_id on public.bookings
  for each row execute function private.bookings_sync_event_chat();

-- A seat handed to someone (20261125110430_attendees_and_transfers) moves its holder in or out.
create or replace function private.booking_seats_sync_event_chat() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.holder_id is not null then
    perform private.sync_event_chat_member(new.event_id, new.holder_id);
  end if;
  if old.holder_id is not null then
    perform private.sync_event_chat_member(old.event_id, old.holder_id);
  end if;
  return null;
end
$$;
comment on function private.booking_seats_sync_event_chat() is
  'Trigger: the new holder of a transferred seat joins the event chat (of a confirmed booking); a previous holder who has no other seat leaves.';
create trigger booking_seats_sync_event_chat after update of holder_id on public.booking_seats
  for each row when (old.holder_id is distinct from new.holder_id)
  execute function private.booking_seats_sync_event_chat();

create or replace function private.cohosts_sync_event_chat() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    perform private.sync_event_chat_member(old.event_id, old.user_id);
  else
    perform private.sync_event_chat_member(new.event_id, new.user_id);
  end if;
  return null;
end
$$;
comment on function private.cohosts_sync_event_chat() is 'Trigger: co-hosts are admins of the event chat while they co-host.';
create trigger event_cohosts_sync_event_chat after insert or delete on public.event_cohosts
  for each row execute function private.cohosts_sync_event_chat();

-- A block changes event chat access between a host and the other user, in both directions.
create or replace function private.blocks_sync_event_chats() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_a uuid := coalesce(new.blocker_id, old.blocker_id);
  v_b uuid := coalesce(new.blocked_id, old.blocked_id);
  r record;
begin
  for r in
    select e.id as event_id, x.user_id
      from (values (v_a, v_b), (v_b, v_a)) as x(host_id, user_id)
      join private.events e on e.host_id = x.host_id
     where exists (select 1 from public.bookings b where b.event_id = e.id and b.guest_id = x.user_id and b.status = 'confirmed')
        or private.holds_seat(e.id, x.user_id)
        or exists (select 1 from public.event_cohosts c where c.event_id = e.id and c.user_id = x.user_id)
  loop
    perform private.sync_event_chat_member(r.event_id, r.user_id);
  end loop;
  return null;
end
$$;
comment on function private.blocks_sync_event_chats() is
  'Trigger: blocking (or unblocking) between a host and a guest or co-host removes (or restores) the event chat for them.';
create trigger blocks_sync_event_chats after insert or delete on public.blocks
  for each row execute function private.blocks_sync_event_chats();

-- Backfill: existing events get their chat, with the host, co-hosts and confirmed guests.
insert into public.conversations (kind, event_id, title, created_by, created_at, last_activity_at)
select 'event', e.id, e.title, e.host_id, e.created_at, e.created_at
  from private.events e
 where not exists (select 1 from public.conversations c where c.event_id = e.id);
insert into public.conversation_members (conversation_id, user_id, role)
select c.id, p.user_id, private.event_chat_role(c.event_id, p.user_id)
  from public.conversations c
  cross join lateral (
    select e.host_id as user_id from private.events e where e.id = c.event_id
    union select ch.user_id from public.event_cohosts ch where ch.event_id = c.event_id
    union select b.guest_id from public.bookings b where b.event_id = c.event_id and b.status = 'confirmed') p
 where c.kind = 'event' and private.event_chat_role(c.event_id, p.user_id) is not null
on conflict (conversation_id, user_id) do nothing;

-- ---------------------------------------------------------------------------------------------
-- Row level security: read what you take part in; every write goes through the chat RPCs.
-- ---------------------------------------------------------------------------------------------

alter table public.conversations enable row level security;
alter table public.conversation_members enable row level security;

create policy "people see the conversations they take part in" on public.conversations
  for select to authenticated
  using ((select auth.uid()) is not null and private.caller_can_access_conversation(id));
create policy "members see who else is in their conversations" on public.conversation_members
  for select to authenticated
  using ((select auth.uid()) is not null and private.caller_can_access_conversation(conversation_id));

grant select on public.conversations, public.conversation_members to authenticated;
grant select, insert, update, delete on public.conversations, public.conversation_members to service_role;

grant execute on function private.caller_can_access_conversation(uuid) to authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.blocks_sync_event_chats(),
  private.bookings_sync_event_chat(),
  private.booking_seats_sync_event_chat(),
  private.broadcast_to_conversation(uuid,text,jsonb),
  private.broadcast_to_user(uuid,text,jsonb),
  private.caller_can_access_conversation(uuid),
  private.can_access_conversation(uuid,uuid),
  private.cohosts_sync_event_chat(),
  private.conversation_role(uuid,uuid),
  private.event_chat_role(uuid,uuid),
  private.events_create_chat(),
  private.events_sync_chat_title(),
  private.require_conversation_role(uuid,uuid),
  private.sync_event_chat_member(uuid,uuid)
  from public;
