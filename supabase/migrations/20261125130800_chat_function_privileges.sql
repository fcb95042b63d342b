-- Chat: who may execute chat's functions in `private` and `admin`.
--
-- PostgreSQL grants EXECUTE on every new function to PUBLIC. The foundation's
-- `alter default privileges … in schema private revoke execute on functions from public` does
-- not undo that: per-schema default privileges can only add to the global defaults, never take
-- away (PostgreSQL docs, ALTER DEFAULT PRIVILEGES), so without an explicit REVOKE every private
-- function is callable by anon and authenticated — including helpers that take a user id or
-- write as someone else (post_system_message, broadcast_to_user, sync_event_chat_member, …).
-- This migration revokes PUBLIC from every chat function; the grants the chat migrations made
-- stay: the security-definer entry points behind the public RPCs and the caller-bound RLS,
-- Storage and Realtime helpers for `authenticated`. Trigger functions need no grant to fire.

do $revoke$
declare
  v_function regprocedure;
begin
  for v_function in
    select p.oid::regprocedure
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where (n.nspname = 'private' and p.proname = any (array[
              'event_chat_role', 'conversation_role', 'can_access_conversation', 'caller_can_access_conversation',
              'require_conversation_role', 'broadcast_to_user', 'broadcast_to_conversation', 'sync_event_chat_member',
              'events_create_chat', 'events_sync_chat_title', 'bookings_sync_event_chat', 'cohosts_sync_event_chat',
              'blocks_sync_event_chats', 'message_payload', 'messages_assign_seq', 'messages_after_insert',
              'messages_after_update', 'message_reactions_before_insert', 'message_reactions_broadcast',
              'normalize_message_body', 'check_chat_attachment', 'check_message_content', 'post_system_message',
              'send_message', 'edit_message', 'delete_message', 'can_read_message', 'chat_display_name', 'chat_name_list',
              'check_new_group_members', 'lock_group_for_admin', 'start_direct_conversation', 'create_group_conversation',
              'add_conversation_members', 'remove_conversation_member', 'leave_conversation', 'set_conversation_muted',
              'mark_conversation_read', 'unread_count', 'message_preview', 'my_conversations', 'conversation_messages',
              'chat_media_path', 'chat_media_can_read', 'chat_media_can_write', 'chat_media_is_own', 'message_snippet',
              'notify_unread_messages', 'fire_due_reminders', 'block_user', 'unblock_user', 'report_content',
              'realtime_can_receive', 'realtime_can_send']))
        or (n.nspname = 'admin' and p.proname = 'resolve_content_report')
  loop
    execute format('revoke execute on function %s from public', v_function);
  end loop;
end
$revoke$;

-- chat_media_path is only called inside the Storage helpers (security definer).
revoke execute on function private.chat_media_path(text) from authenticated;
