-- Chat, part 5: notifications for people who are not looking — batched new-message
-- notifications and reminder messages. Both are jobs (pg_cron, every minute) that call
-- private.notify(), which stores the in-app notification, broadcasts it on user:<id>, and is
-- where the social capability applies preferences, quiet hours and outbound alerts.
--
-- New messages (private.notify_unread_messages): the message trigger queues its conversation;
-- the job then tells each member with access who has unread messages they were not yet told
-- about, at most once per conversation per 5 minutes ("3 new messages in Supper club"), and
-- skips
--   * muted members;
--   * members who are "online" in the conversation: they read it (mark_conversation_read) or
--     sent to it in the last 2 minutes — apps mark messages read while a conversation is open,
--     so such a member is looking at it or just was; a notification would only echo what they
--     see (the database cannot see Realtime presence, so this is the rule);
--   * messages that are deleted, system messages, their own, and those from people they
--     blocked.
-- A member skipped for being online or inside the 5-minute window stays queued and is looked
-- at again next minute (for up to 30 minutes). The job takes each conversation's row lock with
-- SKIP LOCKED, so a send in progress is never missed: its conversation is simply looked at on
-- the next run.
-- Reminders (private.fire_due_reminders): when remind_at comes, every member with access gets
-- a message_reminder notification (muted members only when they set the reminder themselves;
-- never a member with a block either way with whoever set it: private.notify_from) and
-- reminder_due is broadcast on conversation:<id>. Each reminder fires once.

-- "Maya: See you at 8" / "Sent a photo" / "3 new messages".
create or replace function private.message_snippet(p_message public.messages) returns text
language sql
immutable
set search_path = ''
as $$
  select case p_message.kind
    when 'text' then left(p_message.body, 140)
    when 'image' then 'Sent a photo' || coalesce(': ' || left(p_message.body, 100), '')
    when 'voice' then 'Sent a voice message'
    when 'event' then 'Shared an event' || coalesce(': ' || left(p_message.body, 100), '')
    when 'reminder' then 'Set a reminder: ' || left(p_message.body, 100)
    else left(coalesce(p_message.body, ''), 140) end
$$;
comment on function private.message_snippet(public.messages) is 'A one-line description of a message for notifications.';

create or replace function private.notify_unread_messages(p_limit integer default 100) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_queue private.chat_notification_queue;
  v_conv public.conversations;
  v_member public.conversation_members;
  v_latest public.messages;
  v_latest_seq bigint;
  v_count integer;
  v_pending boolean;
  v_sent integer := 0;
  v_sender text;
  v_title text;
  v_body text;
begin
  for v_queue in
    select * from private.chat_notification_queue q order by q.queued_at limit p_limit for update skip locked
  loop
    select * into v_conv from public.conversations c where c.id = v_queue.conversation_id for update skip locked;
    if v_conv.id is null then
      continue;  -- a send is in progress (or the conversation is gone: the queue row cascades)
    end if;
    v_pending := false;
    for v_member in
      select * from public.conversation_members m
       where m.conversation_id = v_conv.id and not m.muted
         and m.last_read_seq < v_conv.last_seq and m.notified_seq < v_conv.last_seq
       order by m.user_id
    loop
      continue when private.conversation_role(v_conv.id, v_member.user_id) is null;
      select u.unread_count, u.latest_seq into v_count, v_latest_seq
        from private.unread_messages(v_conv.id, v_member.user_id, greatest(v_member.last_read_seq, v_member.notified_seq),
                                     private.blocked_by(v_member.user_id)) u;
      if v_count = 0 then
        update public.conversation_members set notified_seq = v_conv.last_seq
         where conversation_id = v_conv.id and user_id = v_member.user_id;
        continue;
      end if;
      if v_member.last_read_at > now() - interval '2 minutes' or v_member.notified_at > now() - interval '5 minutes' then
        v_pending := true;
        continue;
      end if;
      select * into v_latest from public.messages x where x.conversation_id = v_conv.id and x.seq = v_latest_seq;
      v_sender := private.chat_display_name(v_latest.sender_id);
      if v_conv.kind = 'direct' then
        v_title := v_sender;
        v_body := case when v_count = 1 then private.message_snippet(v_latest) else format('%s new messages', v_count) end;
      else
        v_title := coalesce(v_conv.title, 'Group chat');
        v_body := case when v_count = 1 then v_sender || ': ' || private.message_snippet(v_latest)
                       else format('%s new messages', v_count) end;
      end if;
      perform private.notify(v_member.user_id, 'message_received', left(v_title, 200), left(v_body, 2000),
        jsonb_build_object('conversation_id', v_conv.id, 'message_id', v_latest.id, 'count', v_count, 'kind', v_conv.kind));
      update public.conversation_members set notified_seq = v_conv.last_seq, notified_at = now()
       where conversation_id = v_conv.id and user_id = v_member.user_id;
      v_sent := v_sent + 1;
    end loop;
    if v_pending and v_queue.queued_at > now() - interval '30 minutes' then
      update private.chat_notification_queue set checked_at = now() where conversation_id = v_conv.id;
    else
      delete from private.chat_notification_queue where conversation_id = v_conv.id;
    end if;
  end loop;
  return v_sent;
end
$$;
comment on function private.notify_unread_messages(integer) is
  'Job (every minute): batched message_received notifications for members who are not muted, not online in the conversation (read or sent in the last 2 minutes), and not notified about it in the last 5 minutes. Returns how many were sent.';

create or replace function private.fire_due_reminders(p_limit integer default 200) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_message public.messages;
  v_conv public.conversations;
  v_member public.conversation_members;
  v_fired integer := 0;
  v_title text;
begin
  for v_message in
    select * from public.messages m
     where m.kind = 'reminder' and m.reminded_at is null and m.deleted_at is null and m.remind_at <= now()
     order by m.remind_at
     limit p_limit
     for update skip locked
  loop
    update public.messages set reminded_at = now() where id = v_message.id;
    select * into v_conv from public.conversations c where c.id = v_message.conversation_id;
    v_title := case when v_conv.kind = 'direct' then 'Reminder' else left('Reminder · ' || coalesce(v_conv.title, 'Group chat'), 200) end;
    for v_member in select * from public.conversation_members m where m.conversation_id = v_conv.id order by m.user_id loop
      continue when private.conversation_role(v_conv.id, v_member.user_id) is null;
      continue when v_member.muted and v_member.user_id is distinct from v_message.sender_id;
      perform private.notify_from(v_message.sender_id, v_member.user_id, 'message_reminder', v_title, left(v_message.body, 2000),
        jsonb_build_object('conversation_id', v_conv.id, 'message_id', v_message.id, 'remind_at', v_message.remind_at,
                           'set_by', v_message.sender_id));
    end loop;
    perform private.broadcast_to_conversation(v_conv.id, 'reminder_due',
      jsonb_build_object('conversation_id', v_conv.id, 'message_id', v_message.id, 'remind_at', v_message.remind_at,
                         'body', v_message.body, 'set_by', v_message.sender_id));
    v_fired := v_fired + 1;
  end loop;
  return v_fired;
end
$$;
comment on function private.fire_due_reminders(integer) is
  'Job (every minute): reminder messages whose time has come notify every member with access (message_reminder; muted members only if they set it; nobody with a block either way with whoever set it) and broadcast reminder_due on conversation:<id>. Each fires once.';

select private.schedule_job('rally-chat-notify-unread', '* * * * *', interval '1 minute',
  'select private.notify_unread_messages()',
  'Batched message_received notifications for members who are not muted, not online in the conversation and not told in the last 5 minutes.');
select private.schedule_job('rally-chat-reminders', '* * * * *', interval '1 minute',
  'select private.fire_due_reminders()',
  'Fires chat reminder messages whose time has come.');

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.fire_due_reminders(integer),
  private.message_snippet(messages),
  private.notify_unread_messages(integer)
  from public;
