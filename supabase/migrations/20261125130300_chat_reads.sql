-- Chat, part 4: reading — read receipts, the conversation list and message history.
--
--   mark_conversation_read(conv, message)  moves the caller's read pointer forward (never back),
--       broadcasts the receipt (message_read) on conversation:<id> and conversation_read on the
--       caller's user:<id> so their other devices clear the badge.
--   my_conversations(cursor, limit)  newest activity first, with the last message and the exact
--       unread count; keyset paginated on (last_activity_at, id) with an opaque cursor.
--   conversation_messages(conv, before, limit)  newest first, keyset paginated on seq.
-- Unread = messages after the read pointer that others sent, not deleted, not system messages,
-- and not from people the reader blocked (private.unread_messages). Own messages are never unread (sending moves the
-- pointer). my_conversations reads the caller's member rows once, decides event-chat access
-- from live bookings/co-host rows in one pass (hashed sets, not a function call per row),
-- sorts, and only then computes last message and unread count for the page's rows.

create or replace function private.mark_conversation_read(p_conversation_id uuid, p_message_id uuid)
returns table (conversation_id uuid, last_read_message_id uuid, unread_count integer)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_conv public.conversations;
  v_role text;
  v_target public.messages;
  v_member public.conversation_members;
  v_moved boolean := false;
begin
  v_role := private.require_conversation_role(p_conversation_id, v_uid);
  select * into v_conv from public.conversations where id = p_conversation_id;
  if p_message_id is null then
    select * into v_target from public.messages m where m.conversation_id = p_conversation_id order by m.seq desc limit 1;
  else
    select * into v_target from public.messages m where m.id = p_message_id and m.conversation_id = p_conversation_id;
    if v_target.id is null then
      perform private.raise_error('22023', 'message_not_found', 'This message is not in the conversation.');
    end if;
  end if;

  insert into public.conversation_members as m (conversation_id, user_id, role)
  values (p_conversation_id, v_uid, v_role)
  on conflict on constraint conversation_members_pkey do nothing;
  select * into v_member from public.conversation_members m
   where m.conversation_id = p_conversation_id and m.user_id = v_uid for update;
  if v_target.id is not null and v_target.seq > v_member.last_read_seq then
    update public.conversation_members m
       set last_read_seq = v_target.seq, last_read_message_id = v_target.id, last_read_at = now()
     where m.conversation_id = p_conversation_id and m.user_id = v_uid
    returning * into v_member;
    v_moved := true;
  else
    update public.conversation_members m set last_read_at = now()
     where m.conversation_id = p_conversation_id and m.user_id = v_uid;
  end if;

  conversation_id := p_conversation_id;
  last_read_message_id := v_member.last_read_message_id;
  unread_count := case when v_member.last_read_seq >= v_conv.last_seq then 0 else
    (select u.unread_count from private.unread_messages(p_conversation_id, v_uid, v_member.last_read_seq, private.blocked_by(v_uid)) u) end;
  if v_moved then
    perform private.broadcast_to_conversation(p_conversation_id, 'message_read',
      jsonb_build_object('conversation_id', p_conversation_id, 'user_id', v_uid, 'message_id', v_target.id,
                         'seq', v_target.seq, 'read_at', now()));
    perform private.broadcast_to_user(v_uid, 'conversation_read',
      jsonb_build_object('conversation_id', p_conversation_id, 'message_id', v_target.id, 'seq', v_target.seq,
                         'unread_count', unread_count));
  end if;
  return next;
end
$$;

-- What counts as unread, defined once (the inbox, mark_conversation_read and the new-message
-- notifications all ask here): messages after p_after_seq that others sent, not deleted, not
-- system messages, not from anyone in p_reader_blocks (the people the reader blocked, which the
-- caller reads once for all its conversations). The filter matches messages_unread_idx, so the
-- count is an index-only scan of the unread tail.
create or replace function private.unread_messages(p_conversation_id uuid, p_reader_id uuid, p_after_seq bigint, p_reader_blocks uuid[])
returns table (unread_count integer, latest_seq bigint)
language sql
stable
security definer
set search_path = ''
as $$
  select count(*)::integer, max(x.seq) from public.messages x
   where x.conversation_id = p_conversation_id and x.seq > p_after_seq
     and x.deleted_at is null and x.kind <> 'system' and x.sender_id is distinct from p_reader_id
     and not coalesce(x.sender_id = any (p_reader_blocks), false)
$$;
comment on function private.unread_messages(uuid, uuid, bigint, uuid[]) is
  'How many messages after p_after_seq are unread for the reader, and the newest one''s seq: sent by others, not deleted, not system, not from anyone in p_reader_blocks.';

-- The people a reader blocked, the p_reader_blocks of private.unread_messages.
create or replace function private.blocked_by(p_user_id uuid) returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(array_agg(b.blocked_id), '{}') from public.blocks b where b.blocker_id = p_user_id
$$;
comment on function private.blocked_by(uuid) is 'The ids of everyone p_user_id blocked.';

create or replace function public.mark_conversation_read(p_conversation_id uuid, p_message_id uuid default null)
returns table (conversation_id uuid, last_read_message_id uuid, unread_count integer)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.mark_conversation_read(p_conversation_id, p_message_id);
end
$$;
comment on function public.mark_conversation_read(uuid, uuid) is
  'Marks the conversation read up to p_message_id (default: the latest message). The pointer only moves forward; a receipt (message_read) goes to conversation:<id> and conversation_read to the caller''s user:<id>. Returns the pointer and the unread count left. Errors: 22023 conversation_not_found, message_not_found; 42501 not_authenticated, not_a_member; P0001 blocked.';

-- A message preview for lists and replies.
create or replace function private.message_preview(p_message public.messages) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select case when p_message.id is null then null else jsonb_build_object(
    'id', p_message.id, 'seq', p_message.seq, 'sender_id', p_message.sender_id, 'kind', p_message.kind,
    'body', left(p_message.body, 200), 'created_at', p_message.created_at,
    'deleted', p_message.deleted_at is not null) end
$$;
comment on function private.message_preview(public.messages) is 'A short view of a message: id, seq, sender, kind, first 200 characters, time, deleted.';

create or replace function private.my_conversations(p_cursor text, p_limit integer)
returns table (
  conversation_id uuid, kind text, event_id uuid, title text, other_user_id uuid, role text, muted boolean,
  unread_count integer, last_message jsonb, last_activity_at timestamptz, cursor text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_limit integer := private.check_page_limit(p_limit);
  v_after record := private.decode_keyset_cursor(p_cursor);
  v_blocked uuid[];
  v_my_blocks uuid[];
  v_events uuid[];
begin
  v_my_blocks := private.blocked_by(v_uid);
  select coalesce(array_agg(x.user_id), '{}') into v_blocked from (
    select b.blocked_id as user_id from public.blocks b where b.blocker_id = v_uid
    union select b.blocker_id from public.blocks b where b.blocked_id = v_uid) x;
  -- Event chats the caller may use right now, from live rows.
  select coalesce(array_agg(x.id), '{}') into v_events from (
    select e.id from private.events e where e.host_id = v_uid
    union
    select e.id from public.bookings b join private.events e on e.id = b.event_id
     where b.guest_id = v_uid and b.status = 'confirmed' and not (e.host_id = any (v_blocked))
    union
    select e.id from public.event_cohosts ch join private.events e on e.id = ch.event_id
     where ch.user_id = v_uid and not (e.host_id = any (v_blocked))) x;

  return query
  with page as (
    select c.id, c.kind, c.event_id, c.title, c.last_seq, c.last_activity_at, c.created_by,
           case when c.kind = 'direct' then
             case when c.direct_user_low = v_uid then c.direct_user_high else c.direct_user_low end end as other_user_id,
           m.role, m.muted, m.last_read_seq
      from public.conversation_members m
      join public.conversations c on c.id = m.conversation_id
     where m.user_id = v_uid
       and (p_cursor is null or (c.last_activity_at, c.id) < (v_after.at, v_after.id))
       and case c.kind
             when 'direct' then
               not ((case when c.direct_user_low = v_uid then c.direct_user_high else c.direct_user_low end) = any (v_blocked))
               and (c.last_seq > 0 or c.created_by = v_uid)
             when 'event' then c.event_id = any (v_events)
             else true end
     order by c.last_activity_at desc, c.id desc
     limit v_limit
  )
  select p.id, p.kind, p.event_id,
         case when p.kind = 'direct' then (select pr.display_name from public.profiles pr where pr.id = p.other_user_id) else p.title end,
         p.other_user_id, p.role, p.muted,
         case when p.last_read_seq >= p.last_seq then 0 else
           (select u.unread_count from private.unread_messages(p.id, v_uid, p.last_read_seq, v_my_blocks) u) end,
         (select private.message_preview(x) from public.messages x
           where x.conversation_id = p.id and not coalesce(x.sender_id = any (v_my_blocks), false)
           order by x.seq desc limit 1),
         p.last_activity_at,
         private.encode_keyset_cursor(p.last_activity_at, p.id)
    from page p
   order by p.last_activity_at desc, p.id desc;
end
$$;

create or replace function public.my_conversations(p_cursor text default null, p_limit integer default 20)
returns table (
  conversation_id uuid, kind text, event_id uuid, title text, other_user_id uuid, role text, muted boolean,
  unread_count integer, last_message jsonb, last_activity_at timestamptz, cursor text
)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.my_conversations(p_cursor, p_limit);
end
$$;
comment on function public.my_conversations(text, integer) is
  'The caller''s conversations, most recent activity first: kind, event, title (group name, event title, or the other person''s display name), other_user_id for direct ones, role, muted, unread_count, last_message {id, seq, sender_id, kind, body (200 chars), created_at, deleted}, and a cursor; pass the last row''s cursor for the next page (p_limit 1–100, default 20). Direct conversations with someone blocked either way are hidden, and so are empty ones the other person started. Errors: 42501 not_authenticated; 22023 invalid_cursor, invalid_limit.';

create or replace function private.conversation_messages(p_conversation_id uuid, p_before uuid, p_limit integer)
returns table (
  id uuid, conversation_id uuid, seq bigint, sender_id uuid, kind text, body text, attachment_path text, duration_ms integer,
  shared_event_id uuid, remind_at timestamptz, reply_to uuid, client_id text, data jsonb, created_at timestamptz,
  edited_at timestamptz, deleted_at timestamptz, reply_preview jsonb, reactions jsonb
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_limit integer := private.check_page_limit(coalesce(p_limit, 50));
  v_before bigint;
begin
  perform private.require_conversation_role(p_conversation_id, v_uid);
  if p_before is not null then
    select m.seq into v_before from public.messages m where m.id = p_before and m.conversation_id = p_conversation_id;
    if v_before is null then
      perform private.raise_error('22023', 'message_not_found', 'p_before is not a message of this conversation.');
    end if;
  end if;
  return query
  select m.id, m.conversation_id, m.seq, m.sender_id, m.kind, m.body, m.attachment_path, m.duration_ms,
         m.shared_event_id, m.remind_at, m.reply_to, m.client_id, m.data, m.created_at, m.edited_at, m.deleted_at,
         (select private.message_preview(r) from public.messages r where r.id = m.reply_to),
         coalesce((select jsonb_agg(jsonb_build_object('emoji', g.emoji, 'count', g.n, 'me', g.me) order by g.first_at, g.emoji)
                     from (select x.emoji, count(*)::integer as n, bool_or(x.user_id = v_uid) as me, min(x.created_at) as first_at
                             from public.message_reactions x where x.message_id = m.id group by x.emoji) g), '[]'::jsonb)
    from public.messages m
   where m.conversation_id = p_conversation_id
     and (v_before is null or m.seq < v_before)
     and (m.sender_id is null or m.sender_id = v_uid
          or not exists (select 1 from public.blocks b where b.blocker_id = v_uid and b.blocked_id = m.sender_id))
   order by m.seq desc
   limit v_limit;
end
$$;

create or replace function public.conversation_messages(p_conversation_id uuid, p_before uuid default null, p_limit integer default 50)
returns table (
  id uuid, conversation_id uuid, seq bigint, sender_id uuid, kind text, body text, attachment_path text, duration_ms integer,
  shared_event_id uuid, remind_at timestamptz, reply_to uuid, client_id text, data jsonb, created_at timestamptz,
  edited_at timestamptz, deleted_at timestamptz, reply_preview jsonb, reactions jsonb
)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.conversation_messages(p_conversation_id, p_before, p_limit);
end
$$;
comment on function public.conversation_messages(uuid, uuid, integer) is
  'A page of messages, newest first: the latest p_limit (1–100, default 50), or those before the message p_before (keyset on seq). Deleted messages come back as placeholders (deleted_at set, no content); messages from people the caller blocked are left out. Each row has reply_preview and reactions [{emoji, count, me}]. Errors: 22023 conversation_not_found, message_not_found, invalid_limit; 42501 not_authenticated, not_a_member; P0001 blocked.';

grant execute on function private.mark_conversation_read(uuid, uuid), private.my_conversations(text, integer),
  private.conversation_messages(uuid, uuid, integer) to authenticated;
revoke execute on function public.mark_conversation_read(uuid, uuid), public.my_conversations(text, integer),
  public.conversation_messages(uuid, uuid, integer) from public, anon, authenticated, service_role;
grant execute on function public.mark_conversation_read(uuid, uuid), public.my_conversations(text, integer),
  public.conversation_messages(uuid, uuid, integer) to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.conversation_messages(uuid,uuid,integer),
  private.mark_conversation_read(uuid,uuid),
  private.message_preview(messages),
  private.my_conversations(text,integer),
  private.blocked_by(uuid),
  private.unread_messages(uuid,uuid,bigint,uuid[])
  from public;
