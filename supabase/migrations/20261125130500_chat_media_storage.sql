-- Chat media in the private Storage bucket chat-media (created with its limits by the
-- storage_buckets migration: 10 MiB; PNG, JPEG, WebP, GIF, and voice notes as audio/webm,
-- audio/ogg, audio/mp4 or audio/mpeg).
--
-- Object names are <conversation id>/<sender id>/<file>. Members of the conversation (the same
-- live check as everywhere in chat) read and list its files, except files of deleted messages
-- (private.chat_media_tombstones). A member uploads, replaces and deletes only in their own
-- sender folder, and only while they may take part; deleting one's own file needs no
-- membership, so people can always take back what they uploaded. Nobody else writes.
-- Size and MIME type are enforced by the Storage API from the bucket row; locally objects are
-- plain rows, so send_message also checks metadata.size and metadata.mimetype of any object it
-- references (private.check_chat_attachment): a row that bypassed the limits cannot be sent.

-- Splits <conversation id>/<sender id>/<file> (null parts when the name has another shape).
create or replace function private.chat_media_path(p_name text, out conversation_id uuid, out sender_id uuid)
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_match text[] := regexp_match(p_name,
    '^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/[^/]{1,200}$');
begin
  if v_match is not null then
    conversation_id := v_match[1]::uuid;
    sender_id := v_match[2]::uuid;
  end if;
end
$$;
comment on function private.chat_media_path(text) is 'The conversation and sender ids of a chat-media object name <conversation id>/<sender id>/<file>, or nulls.';

create or replace function private.chat_media_can_read(p_name text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_path record := private.chat_media_path(p_name);
begin
  return v_path.conversation_id is not null
     and private.can_access_conversation(v_path.conversation_id, auth.uid())
     and not exists (select 1 from private.chat_media_tombstones t where t.name = p_name);
end
$$;
comment on function private.chat_media_can_read(text) is 'Storage RLS: members of the conversation read its files, except those of deleted messages.';

create or replace function private.chat_media_can_write(p_name text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_path record := private.chat_media_path(p_name);
begin
  return v_path.conversation_id is not null
     and v_path.sender_id = auth.uid()
     and private.can_access_conversation(v_path.conversation_id, auth.uid());
end
$$;
comment on function private.chat_media_can_write(text) is 'Storage RLS: a member uploads only into their own sender folder of the conversation.';

create or replace function private.chat_media_is_own(p_name text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_path record := private.chat_media_path(p_name);
begin
  return v_path.sender_id is not null and v_path.sender_id = auth.uid();
end
$$;
comment on function private.chat_media_is_own(text) is 'Storage RLS: the uploader''s own chat-media files.';

-- chat_media_path is only called inside these helpers (security definer): no role needs it.
grant execute on function private.chat_media_can_read(text), private.chat_media_can_write(text),
  private.chat_media_is_own(text) to authenticated;

create policy "chat-media: members read their conversations' files" on storage.objects
  for select to authenticated
  using (bucket_id = 'chat-media' and private.chat_media_can_read(name));
create policy "chat-media: members upload into their own folder" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'chat-media' and private.chat_media_can_write(name));
create policy "chat-media: members replace their own files" on storage.objects
  for update to authenticated
  using (bucket_id = 'chat-media' and private.chat_media_can_write(name))
  with check (bucket_id = 'chat-media' and private.chat_media_can_write(name));
create policy "chat-media: uploaders delete their own files" on storage.objects
  for delete to authenticated
  using (bucket_id = 'chat-media' and private.chat_media_is_own(name));

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.chat_media_can_read(text),
  private.chat_media_can_write(text),
  private.chat_media_is_own(text),
  private.chat_media_path(text)
  from public;
