-- Realtime authorization: who may receive and who may send on each private topic.
--
-- The Realtime server authorizes a client joining a private channel (and again at each access
-- token refresh) with RLS on realtime.messages, the topic set in `realtime.topic`: SELECT = may
-- receive, INSERT = may send broadcasts / track presence. Rally has one SELECT and one INSERT
-- policy, each calling one dispatch function below, so every topic's rule is in this file:
--
--   user:<id>                 the user's notifications and conversation-list changes; the user
--                             receives, and tracks presence (their devices see each other).
--   event:<id>                seats_left, waitlist size, check-in count, event_cancelled —
--                             anyone who may see the event receives; nobody sends.
--   event:<id>:staff          per-guest check-ins — the host and co-hosts only. Kept apart from
--                             event:<id> because Broadcast authorizes whole topics, not single
--                             events, and guests must not receive other guests' names.
--   conversation:<id>         message_created / _updated / _deleted, reaction_added / _removed,
--                             message_read and reminder_due, all from the database. Members
--                             receive and track presence; nobody may send broadcasts, so no
--                             member can forge a message event in someone else's name.
--   conversation:<id>:typing  typing indicators: members send and receive broadcasts.
--
-- Departure from ARCHITECTURE §4 (typing on conversation:<id>): Realtime authorizes a whole
-- topic and extension, not single event names, so allowing members to broadcast on
-- conversation:<id> would let any of them send a fake message_created or message_deleted that
-- other clients cannot tell from the database's. Typing gets its own topic instead, as
-- check-ins did with event:<id>:staff.
-- "Members" = private.can_access_conversation(): live bookings for event chats, the member row
-- for groups, the member row and no block for direct conversations. A guest whose booking is
-- refunded cannot (re)join, and loses an open channel at its next token refresh. A suspended
-- account sends nothing (typing, presence) with the token it still holds.

create or replace function private.realtime_can_receive(p_topic text, p_extension text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_match text[];
begin
  if v_uid is null or p_topic is null then
    return false;
  end if;
  if p_topic = 'user:' || v_uid::text then
    return p_extension in ('broadcast', 'presence');
  end if;
  v_match := regexp_match(p_topic, '^event:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(:staff)?$');
  if v_match is not null and p_extension = 'broadcast' then
    if v_match[2] is null then
      return private.can_see_event(v_match[1]::uuid, v_uid);
    end if;
    return private.is_event_staff(v_match[1]::uuid, v_uid);
  end if;
  v_match := regexp_match(p_topic, '^conversation:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(:typing)?$');
  if v_match is not null then
    if ((coalesce(v_match[2], '') = '' and p_extension in ('broadcast', 'presence'))
            or (coalesce(v_match[2], '') = ':typing' and p_extension = 'broadcast')) is not true then
      return false;
    end if;
    return private.can_access_conversation(v_match[1]::uuid, v_uid);
  end if;
  return false;
end
$$;
comment on function private.realtime_can_receive(text, text) is
  'Whether the caller may receive on a private Realtime topic: user:<own id>; event:<id> if they may see the event; event:<id>:staff if they run it; conversation:<id> (broadcast, presence) and conversation:<id>:typing (broadcast) if they may take part in the conversation.';

create or replace function private.realtime_can_send(p_topic text, p_extension text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_match text[];
begin
  if v_uid is null or p_topic is null then
    return false;
  end if;
  if private.caller_is_suspended() then
    return false;
  end if;
  if p_topic = 'user:' || v_uid::text then
    return p_extension = 'presence';
  end if;
  v_match := regexp_match(p_topic, '^conversation:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(:typing)?$');
  if v_match is not null then
    if ((coalesce(v_match[2], '') = '' and p_extension = 'presence')
            or (coalesce(v_match[2], '') = ':typing' and p_extension = 'broadcast')) is not true then
      return false;
    end if;
    return private.can_access_conversation(v_match[1]::uuid, v_uid);
  end if;
  return false;
end
$$;
comment on function private.realtime_can_send(text, text) is
  'Whether the caller may broadcast or track presence on a private Realtime topic: presence on user:<own id> and on conversation:<id>, typing broadcasts on conversation:<id>:typing (members only); nothing else, and nothing at all from a suspended account.';

revoke execute on function private.realtime_can_receive(text, text) from public;
revoke execute on function private.realtime_can_send(text, text) from public;
grant execute on function private.realtime_can_receive(text, text) to authenticated;
grant execute on function private.realtime_can_send(text, text) to authenticated;

create policy "rally private topics: receive" on realtime.messages
  for select to authenticated
  using (private.realtime_can_receive((select realtime.topic()), extension));
create policy "rally private topics: send" on realtime.messages
  for insert to authenticated
  with check (private.realtime_can_send((select realtime.topic()), extension));
