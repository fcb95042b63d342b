-- Chat, part 2: messages and reactions.
--
-- Kinds: text, image and voice (an object in chat-media under <conversation id>/<sender id>/,
-- checked to exist with an allowed size and type), event (shares an event the sender can see),
-- reminder (a time; a job notifies the members when it comes) and system (joins and leaves,
-- written by Rally only). send_message is idempotent on (sender, p_client_id), so a phone
-- retrying over a flaky network gets the same message back; it is rate limited (P0001
-- rate_limited: the `message` limit, 30 per 10 seconds, and for reminders, which notify every
-- member when they fire, also `chat_reminder`, 10 per hour). Authors edit text within 15 minutes; the author,
-- a conversation admin or a platform admin deletes (soft: the row stays as a placeholder, its
-- content and reactions are gone and the attachment becomes unreadable).
--
-- Ordering and unread counts: each message takes the next per-conversation sequence number
-- (seq) under the conversation's row lock, so seq is gap-free in commit order within a
-- conversation and "unread" is simply "later than my read pointer". Sending moves the sender's
-- own read pointer, so a user's own messages are never unread to them.
--
-- Broadcast from Database (triggers, so every writer is covered): message_created,
-- message_updated, message_deleted, reaction_added, reaction_removed on conversation:<id>, and
-- conversation_activity on user:<id> of every member, for conversation lists. The triggers also
-- queue the conversation for the batched offline notifications (chat_notifications migration).

create table private.chat_media_tombstones (
  name text primary key,
  message_id uuid,
  deleted_at timestamptz not null default now()
);
comment on table private.chat_media_tombstones is
  'chat-media object names whose message was deleted: nobody may read them any more (the Storage policy checks this); a cleanup can remove the files.';

create table private.chat_notification_queue (
  conversation_id uuid primary key references public.conversations (id) on delete cascade,
  queued_at timestamptz not null default now(),
  checked_at timestamptz
);
comment on table private.chat_notification_queue is
  'Conversations with messages that may need offline notifications; drained by private.notify_unread_messages().';

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  seq bigint not null,
  sender_id uuid references public.profiles (id) on delete set null,
  kind text not null default 'text',
  body text,
  attachment_path text,
  duration_ms integer,
  shared_event_id uuid references private.events (id) on delete set null,
  remind_at timestamptz,
  reminded_at timestamptz,
  reply_to uuid references public.messages (id) on delete set null,
  client_id text,
  data jsonb,
  created_at timestamptz not null default now(),
  edited_at timestamptz,
  deleted_at timestamptz,
  deleted_by uuid references public.profiles (id) on delete set null,
  constraint messages_kind check (kind in ('text', 'image', 'voice', 'event', 'reminder', 'system')),
  constraint messages_body_length check (body is null or char_length(body) <= 4000),
  constraint messages_attachment_path_length check (attachment_path is null or char_length(attachment_path) <= 1024),
  constraint messages_duration check (duration_ms is null or duration_ms between 1 and 900000),
  constraint messages_client_id_length check (client_id is null or char_length(client_id) between 1 and 100),
  constraint messages_data_object check (data is null or jsonb_typeof(data) = 'object')
);
revoke all on public.messages from public, anon, authenticated, service_role;
comment on table public.messages is
  'Chat messages. Readable by those with access to the conversation (minus senders the reader blocked); written only through send_message / edit_message / delete_message.';
comment on column public.messages.seq is 'Position in the conversation (1, 2, 3, … in commit order); conversation_messages pages on it.';
comment on column public.messages.kind is 'text | image | voice | event | reminder | system';
comment on column public.messages.attachment_path is 'Object name in the private bucket chat-media: <conversation id>/<sender id>/<file>.';
comment on column public.messages.duration_ms is 'Length of a voice message in milliseconds.';
comment on column public.messages.shared_event_id is 'The event an `event` message shares.';
comment on column public.messages.remind_at is 'When a `reminder` message notifies the members.';
comment on column public.messages.client_id is 'The sender''s idempotency key: a retry with the same client_id returns the same message.';
comment on column public.messages.data is 'System messages: what happened ({"action": "added", "user_ids": [...]}, …).';
comment on column public.messages.deleted_at is 'Soft delete: the row stays as a placeholder; body, attachment and reactions are gone.';

create unique index messages_conversation_seq_key on public.messages (conversation_id, seq);
create index messages_sender_created_idx on public.messages (sender_id, created_at);
create unique index messages_sender_client_id_key on public.messages (sender_id, client_id) where client_id is not null;
create index messages_reply_to_idx on public.messages (reply_to) where reply_to is not null;
create index messages_shared_event_idx on public.messages (shared_event_id) where shared_event_id is not null;
create index messages_deleted_by_idx on public.messages (deleted_by) where deleted_by is not null;
-- Unread counts scan only this (index-only once the visibility map is set): live, non-system messages.
create index messages_unread_idx on public.messages (conversation_id, seq) include (sender_id)
  where deleted_at is null and kind <> 'system';
create index messages_due_reminders_idx on public.messages (remind_at)
  where kind = 'reminder' and reminded_at is null and deleted_at is null;

create table public.message_reactions (
  message_id uuid not null references public.messages (id) on delete cascade,
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  emoji text not null,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (message_id, user_id, emoji),
  constraint message_reactions_emoji_length check (char_length(emoji) between 1 and 16)
);
revoke all on public.message_reactions from public, anon, authenticated, service_role;
comment on table public.message_reactions is
  'Reactions: one per emoji per user per message. Members insert their own (message_id, emoji) and delete their own; everyone with access to the conversation reads them.';
comment on column public.message_reactions.conversation_id is 'Set from the message by a trigger (clients do not send it).';
create index message_reactions_user_idx on public.message_reactions (user_id);
create index message_reactions_conversation_idx on public.message_reactions (conversation_id);

-- ---------------------------------------------------------------------------------------------
-- Payloads and broadcasts
-- ---------------------------------------------------------------------------------------------

create or replace function private.message_payload(p_message public.messages) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_message.id, 'conversation_id', p_message.conversation_id, 'seq', p_message.seq,
    'sender_id', p_message.sender_id, 'kind', p_message.kind, 'body', p_message.body,
    'attachment_path', p_message.attachment_path, 'duration_ms', p_message.duration_ms,
    'shared_event_id', p_message.shared_event_id, 'remind_at', p_message.remind_at,
    'reply_to', p_message.reply_to, 'client_id', p_message.client_id, 'data', p_message.data,
    'created_at', p_message.created_at, 'edited_at', p_message.edited_at, 'deleted_at', p_message.deleted_at)
$$;
comment on function private.message_payload(public.messages) is 'A message as apps receive it in broadcasts (the table''s columns).';

-- Every message takes the next seq of its conversation under the conversation's row lock.
create or replace function private.messages_assign_seq() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.conversations
     set last_seq = last_seq + 1,
         last_message_at = greatest(coalesce(last_message_at, new.created_at), new.created_at),
         last_activity_at = greatest(last_activity_at, new.created_at)
   where id = new.conversation_id
  returning last_seq into new.seq;
  if new.seq is null then
    perform private.raise_error('22023', 'conversation_not_found', 'No such conversation.');
  end if;
  return new;
end
$$;
comment on function private.messages_assign_seq() is 'Trigger: numbers messages per conversation and records the conversation''s latest activity.';
create trigger messages_assign_seq before insert on public.messages
  for each row execute function private.messages_assign_seq();

create or replace function private.messages_after_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid;
  v_activity jsonb := jsonb_build_object('conversation_id', new.conversation_id, 'message_id', new.id, 'seq', new.seq,
                                         'sender_id', new.sender_id, 'kind', new.kind, 'at', new.created_at);
begin
  perform private.broadcast_to_conversation(new.conversation_id, 'message_created', private.message_payload(new));
  -- Sending reads the conversation up to one's own message.
  if new.sender_id is not null then
    update public.conversation_members
       set last_read_seq = new.seq, last_read_message_id = new.id, last_read_at = now()
     where conversation_id = new.conversation_id and user_id = new.sender_id and last_read_seq < new.seq;
  end if;
  for v_user in select m.user_id from public.conversation_members m where m.conversation_id = new.conversation_id loop
    perform private.broadcast_to_user(v_user, 'conversation_activity', v_activity);
  end loop;
  if new.kind <> 'system' then
    insert into private.chat_notification_queue (conversation_id) values (new.conversation_id)
    on conflict (conversation_id) do nothing;
  end if;
  return null;
end
$$;
comment on function private.messages_after_insert() is
  'Trigger: broadcasts message_created on conversation:<id> and conversation_activity on each member''s user:<id>, moves the sender''s read pointer, queues offline notifications.';
create trigger messages_after_insert after insert on public.messages
  for each row execute function private.messages_after_insert();

create or replace function private.messages_after_update() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.deleted_at is not null and old.deleted_at is null then
    perform private.broadcast_to_conversation(new.conversation_id, 'message_deleted',
      jsonb_build_object('id', new.id, 'conversation_id', new.conversation_id, 'seq', new.seq,
                         'deleted_at', new.deleted_at, 'deleted_by', new.deleted_by));
  elsif new.deleted_at is null then
    perform private.broadcast_to_conversation(new.conversation_id, 'message_updated', private.message_payload(new));
  end if;
  return null;
end
$$;
comment on function private.messages_after_update() is 'Trigger: broadcasts message_updated (edits) and message_deleted on conversation:<id>.';
create trigger messages_after_update after update of body, edited_at, deleted_at on public.messages
  for each row
  when ((old.body, old.edited_at, old.deleted_at) is distinct from (new.body, new.edited_at, new.deleted_at))
  execute function private.messages_after_update();

-- Reactions: the conversation comes from the message; deleted and system messages take none.
create or replace function private.message_reactions_before_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_message public.messages;
begin
  select * into v_message from public.messages where id = new.message_id;
  if v_message.id is null then
    perform private.raise_error('22023', 'message_not_found', 'No such message.');
  end if;
  if v_message.deleted_at is not null then
    perform private.raise_error('P0001', 'message_deleted', 'This message was deleted.');
  end if;
  if v_message.kind = 'system' then
    perform private.raise_error('P0001', 'not_reactable', 'System messages take no reactions.');
  end if;
  if new.emoji is null or char_length(new.emoji) not between 1 and 16 or new.emoji ~ '[[:space:][:cntrl:]]' then
    perform private.raise_error('22023', 'invalid_emoji', 'A reaction is one emoji (at most 16 characters, no spaces).');
  end if;
  -- The same reaction twice is a no-op.
  perform private.lock_key('reaction:' || new.message_id::text || ':' || new.user_id::text);
  if exists (select 1 from public.message_reactions r
              where r.message_id = new.message_id and r.user_id = new.user_id and r.emoji = new.emoji) then
    return null;
  end if;
  if (select count(*) from public.message_reactions r where r.message_id = new.message_id and r.user_id = new.user_id) >= 20 then
    perform private.raise_error('P0001', 'too_many_reactions', 'At most 20 different reactions per message.');
  end if;
  new.conversation_id := v_message.conversation_id;
  new.created_at := now();
  return new;
end
$$;
comment on function private.message_reactions_before_insert() is 'Trigger: validates a reaction and files it under the message''s conversation.';
create trigger message_reactions_before_insert before insert on public.message_reactions
  for each row execute function private.message_reactions_before_insert();

create or replace function private.message_reactions_broadcast() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.broadcast_to_conversation(new.conversation_id, 'reaction_added',
      jsonb_build_object('message_id', new.message_id, 'user_id', new.user_id, 'emoji', new.emoji, 'conversation_id', new.conversation_id));
  else
    perform private.broadcast_to_conversation(old.conversation_id, 'reaction_removed',
      jsonb_build_object('message_id', old.message_id, 'user_id', old.user_id, 'emoji', old.emoji, 'conversation_id', old.conversation_id));
  end if;
  return null;
end
$$;
comment on function private.message_reactions_broadcast() is 'Trigger: broadcasts reaction_added / reaction_removed on conversation:<id>.';
create trigger message_reactions_broadcast after insert or delete on public.message_reactions
  for each row execute function private.message_reactions_broadcast();

-- ---------------------------------------------------------------------------------------------
-- Validation
-- ---------------------------------------------------------------------------------------------

-- A whitespace-only body counts as no body.
create or replace function private.normalize_message_body(p_body text) returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_body is null or btrim(p_body, E' \t\r\n\u00a0') = '' then null else p_body end
$$;

-- The attachment must be an uploaded chat-media object in the sender's folder of this
-- conversation, within the bucket's size limit and of a type the bucket allows and the kind
-- expects. The Storage API enforces the bucket limits on upload; this check makes sure no
-- object row that bypassed it (or is not finished) can be referenced.
create or replace function private.check_chat_attachment(p_conversation_id uuid, p_sender_id uuid, p_path text, p_kind text)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_object storage.objects;
  v_bucket storage.buckets;
  v_size text;
  v_type text;
begin
  if p_path is null or left(p_path, 74) <> p_conversation_id::text || '/' || p_sender_id::text || '/'
     or p_path !~ '^[0-9a-f-]{36}/[0-9a-f-]{36}/[^/]{1,200}$' then
    perform private.raise_error('22023', 'invalid_attachment_path',
      'Upload attachments to chat-media under <conversation id>/<your user id>/<file name>.');
  end if;
  select * into v_object from storage.objects o where o.bucket_id = 'chat-media' and o.name = p_path;
  if v_object.id is null or exists (select 1 from private.chat_media_tombstones t where t.name = p_path) then
    perform private.raise_error('22023', 'attachment_not_found', 'The attachment has not been uploaded.');
  end if;
  select * into v_bucket from storage.buckets b where b.id = 'chat-media';
  v_size := v_object.metadata ->> 'size';
  v_type := lower(v_object.metadata ->> 'mimetype');
  if v_size is null or v_size !~ '^[0-9]{1,15}$' or v_type is null then
    perform private.raise_error('22023', 'attachment_not_found', 'The attachment upload has not finished.');
  end if;
  if v_size::bigint = 0 or (v_bucket.file_size_limit is not null and v_size::bigint > v_bucket.file_size_limit) then
    perform private.raise_error('22023', 'attachment_too_large',
      format('Attachments are at most %s MiB.', coalesce(v_bucket.file_size_limit, 0) / 1048576));
  end if;
  if (v_bucket.allowed_mime_types is not null and (v_type = any (v_bucket.allowed_mime_types)) is not true)
     or (p_kind = 'image' and v_type not like 'image/%')
     or (p_kind = 'voice' and v_type not like 'audio/%') then
    perform private.raise_error('22023', 'attachment_type_not_allowed',
      case when p_kind = 'voice' then 'A voice message is audio/webm, audio/ogg, audio/mp4 or audio/mpeg.'
           else 'An image is PNG, JPEG, WebP or GIF.' end);
  end if;
end
$$;
comment on function private.check_chat_attachment(uuid, uuid, text, text) is
  'Raises unless the path is an uploaded chat-media object under <conversation>/<sender>/ with an allowed size and MIME type for the message kind.';

-- Which fields each kind takes (bad input → 22023 with a specific hint).
create or replace function private.check_message_content(
  p_conversation_id uuid, p_sender_id uuid, p_kind text, p_body text, p_attachment_path text, p_duration_ms integer,
  p_shared_event_id uuid, p_remind_at timestamptz
) returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_kind is null or p_kind not in ('text', 'image', 'voice', 'event', 'reminder') then
    perform private.raise_error('22023', 'invalid_kind',
      'A message kind is text, image, voice, event or reminder (system messages are written by Rally).');
  end if;
  if p_body is not null and char_length(p_body) > 4000 then
    perform private.raise_error('22023', 'body_too_long', 'A message has at most 4,000 characters.');
  end if;
  if p_kind in ('text', 'reminder') and p_body is null then
    perform private.raise_error('22023', 'body_required', 'Write something first: the message is empty.');
  end if;
  if p_kind = 'voice' and p_body is not null then
    perform private.raise_error('22023', 'field_not_allowed', 'A voice message has no text.');
  end if;
  if p_kind in ('image', 'voice') and p_attachment_path is null then
    perform private.raise_error('22023', 'attachment_required', format('An %s message needs an uploaded file.', p_kind));
  end if;
  if p_kind not in ('image', 'voice') and p_attachment_path is not null then
    perform private.raise_error('22023', 'field_not_allowed', 'Only image and voice messages have an attachment.');
  end if;
  if p_kind = 'voice' and (p_duration_ms is null or p_duration_ms not between 1 and 900000) then
    perform private.raise_error('22023', 'invalid_duration', 'A voice message needs its duration (up to 15 minutes) in milliseconds.');
  end if;
  if p_kind <> 'voice' and p_duration_ms is not null then
    perform private.raise_error('22023', 'field_not_allowed', 'Only voice messages have a duration.');
  end if;
  if p_kind = 'event' and p_shared_event_id is null then
    perform private.raise_error('22023', 'shared_event_required', 'An event message needs the event to share.');
  end if;
  if p_kind <> 'event' and p_shared_event_id is not null then
    perform private.raise_error('22023', 'field_not_allowed', 'Only event messages share an event.');
  end if;
  if p_kind = 'event' and private.can_see_event(p_shared_event_id, p_sender_id) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if p_kind = 'reminder' and (p_remind_at is null or p_remind_at <= now() or p_remind_at > now() + interval '366 days') then
    perform private.raise_error('22023', 'invalid_remind_at', 'A reminder needs a time in the future, within a year.');
  end if;
  if p_kind <> 'reminder' and p_remind_at is not null then
    perform private.raise_error('22023', 'field_not_allowed', 'Only reminder messages have a reminder time.');
  end if;
  if p_attachment_path is not null then
    perform private.check_chat_attachment(p_conversation_id, p_sender_id, p_attachment_path, p_kind);
  end if;
end
$$;
comment on function private.check_message_content(uuid, uuid, text, text, text, integer, uuid, timestamptz) is
  'Validates a message''s fields for its kind; raises 22023 with a specific hint.';

-- Writes a system message (joins, leaves) as p_actor.
create or replace function private.post_system_message(p_conversation_id uuid, p_actor uuid, p_body text, p_data jsonb)
returns public.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_message public.messages;
begin
  insert into public.messages (conversation_id, sender_id, kind, body, data)
  values (p_conversation_id, p_actor, 'system', left(p_body, 4000), p_data)
  returning * into v_message;
  return v_message;
end
$$;
comment on function private.post_system_message(uuid, uuid, text, jsonb) is 'Writes a system message (group created, member added, left, removed).';

-- ---------------------------------------------------------------------------------------------
-- send_message / edit_message / delete_message
-- ---------------------------------------------------------------------------------------------

create or replace function private.send_message(
  p_conversation_id uuid, p_kind text, p_body text, p_attachment_path text, p_shared_event_id uuid,
  p_remind_at timestamptz, p_reply_to uuid, p_client_id text, p_duration_ms integer
) returns public.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_kind text := coalesce(p_kind, 'text');
  v_body text := private.normalize_message_body(p_body);
  v_message public.messages;
begin
  if p_client_id is not null and char_length(p_client_id) not between 1 and 100 then
    perform private.raise_error('22023', 'invalid_client_id', 'A client id has 1 to 100 characters.');
  end if;
  -- A retry with the same client id gets the message the first call made. Concurrent retries
  -- queue on a lock for that key, so the second finds the first's message instead of taking a
  -- sequence number it would not use.
  if p_client_id is not null then
    perform pg_advisory_xact_lock(hashtextextended(v_uid::text || '/' || p_client_id, 0));
    select * into v_message from public.messages where sender_id = v_uid and client_id = p_client_id;
    if v_message.id is not null then
      if v_message.conversation_id is distinct from p_conversation_id or v_message.kind <> v_kind then
        perform private.raise_error('P0001', 'client_id_reused', 'This client id was already used for a different message.');
      end if;
      return v_message;
    end if;
  end if;

  perform private.require_conversation_role(p_conversation_id, v_uid);
  perform private.check_message_content(p_conversation_id, v_uid, v_kind, v_body, p_attachment_path, p_duration_ms,
                                        p_shared_event_id, p_remind_at);
  if p_reply_to is not null and not exists (
       select 1 from public.messages r where r.id = p_reply_to and r.conversation_id = p_conversation_id and r.deleted_at is null) then
    perform private.raise_error('22023', 'reply_not_found', 'You can only reply to a message in the same conversation.');
  end if;

  perform private.consume_rate_limit('message', v_uid::text);
  if v_kind = 'reminder' then
    perform private.consume_rate_limit('chat_reminder', v_uid::text);
  end if;

  insert into public.messages (conversation_id, sender_id, kind, body, attachment_path, duration_ms, shared_event_id,
                               remind_at, reply_to, client_id)
  values (p_conversation_id, v_uid, v_kind, v_body, p_attachment_path, p_duration_ms, p_shared_event_id,
          p_remind_at, p_reply_to, p_client_id)
  on conflict (sender_id, client_id) where client_id is not null do nothing
  returning * into v_message;
  if v_message.id is null then
    -- A concurrent retry with the same client id won the race: answer with its message.
    select * into v_message from public.messages where sender_id = v_uid and client_id = p_client_id;
    if v_message.conversation_id is distinct from p_conversation_id or v_message.kind <> v_kind then
      perform private.raise_error('P0001', 'client_id_reused', 'This client id was already used for a different message.');
    end if;
  end if;
  return v_message;
end
$$;

create or replace function public.send_message(
  p_conversation_id uuid, p_kind text default 'text', p_body text default null, p_attachment_path text default null,
  p_shared_event_id uuid default null, p_remind_at timestamptz default null, p_reply_to uuid default null,
  p_client_id text default null, p_duration_ms integer default null
) returns public.messages
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.send_message(p_conversation_id, p_kind, p_body, p_attachment_path, p_shared_event_id, p_remind_at,
                              p_reply_to, p_client_id, p_duration_ms);
end
$$;
comment on function public.send_message(uuid, text, text, text, uuid, timestamptz, uuid, text, integer) is
  'Sends a message. p_kind: text (p_body ≤ 4,000 chars), image (p_attachment_path, optional caption), voice (p_attachment_path, p_duration_ms), event (p_shared_event_id of an event you can see, optional comment), reminder (p_body, p_remind_at within a year). Attachments: chat-media objects under <conversation id>/<your id>/. p_reply_to: a message of the same conversation. p_client_id: idempotency key; a retry returns the same message. Errors: 22023 conversation_not_found, invalid_kind, body_required, body_too_long, field_not_allowed, attachment_required, invalid_attachment_path, attachment_not_found, attachment_too_large, attachment_type_not_allowed, invalid_duration, shared_event_required, event_not_found, invalid_remind_at, reply_not_found, invalid_client_id; 42501 not_authenticated, not_a_member; P0001 blocked, rate_limited, client_id_reused.';

create or replace function private.edit_message(p_message_id uuid, p_body text) returns public.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_body text := private.normalize_message_body(p_body);
  v_message public.messages;
begin
  select * into v_message from public.messages where id = p_message_id for update;
  if v_message.id is null then
    perform private.raise_error('22023', 'message_not_found', 'No such message.');
  end if;
  perform private.require_conversation_role(v_message.conversation_id, v_uid);
  if v_message.sender_id is distinct from v_uid then
    perform private.raise_error('42501', 'not_your_message', 'You can only edit your own messages.');
  end if;
  if v_message.deleted_at is not null then
    perform private.raise_error('P0001', 'message_deleted', 'This message was deleted.');
  end if;
  if v_message.kind in ('voice', 'system') then
    perform private.raise_error('P0001', 'not_editable', format('A %s message cannot be edited.', v_message.kind));
  end if;
  if v_message.created_at < now() - interval '15 minutes' then
    perform private.raise_error('P0001', 'edit_window_passed', 'Messages can be edited for 15 minutes after sending.');
  end if;
  if v_body is not null and char_length(v_body) > 4000 then
    perform private.raise_error('22023', 'body_too_long', 'A message has at most 4,000 characters.');
  end if;
  if v_message.kind in ('text', 'reminder') and v_body is null then
    perform private.raise_error('22023', 'body_required', 'A message cannot be edited to nothing; delete it instead.');
  end if;
  if v_body is not distinct from v_message.body then
    return v_message;
  end if;
  update public.messages set body = v_body, edited_at = now() where id = p_message_id returning * into v_message;
  return v_message;
end
$$;

create or replace function public.edit_message(p_message_id uuid, p_body text) returns public.messages
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.edit_message(p_message_id, p_body);
end
$$;
comment on function public.edit_message(uuid, text) is
  'The author changes the text of a message (text, image caption, event comment, reminder) within 15 minutes of sending; sets edited_at and broadcasts message_updated. Errors: 22023 message_not_found, body_required, body_too_long; 42501 not_authenticated, not_a_member, not_your_message; P0001 message_deleted, not_editable, edit_window_passed.';

create or replace function private.delete_message(p_message_id uuid) returns public.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_message public.messages;
  v_role text;
begin
  select * into v_message from public.messages where id = p_message_id for update;
  if v_message.id is null then
    perform private.raise_error('22023', 'message_not_found', 'No such message.');
  end if;
  v_role := private.conversation_role(v_message.conversation_id, v_uid);
  -- Authors may always take back what they wrote (even after losing access); conversation
  -- admins and platform admins moderate.
  if (v_message.sender_id = v_uid or v_role = 'admin' or private.is_admin()) is not true then
    if v_role is null then
      perform private.raise_error('42501', 'not_a_member', 'You are not a member of this conversation.');
    end if;
    perform private.raise_error('42501', 'not_allowed', 'Only the author or a conversation admin can delete this message.');
  end if;
  if v_message.deleted_at is not null then
    return v_message;
  end if;
  if v_message.attachment_path is not null then
    insert into private.chat_media_tombstones (name, message_id) values (v_message.attachment_path, v_message.id)
    on conflict (name) do nothing;
  end if;
  delete from public.message_reactions where message_id = p_message_id;
  update public.messages
     set body = null, attachment_path = null, duration_ms = null, shared_event_id = null, data = null,
         deleted_at = now(), deleted_by = v_uid
   where id = p_message_id
  returning * into v_message;
  return v_message;
end
$$;

create or replace function public.delete_message(p_message_id uuid) returns public.messages
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.delete_message(p_message_id);
end
$$;
comment on function public.delete_message(uuid) is
  'Soft-deletes a message (the author, a conversation admin, or a platform admin): the row stays as a placeholder, its content, attachment and reactions are gone; broadcasts message_deleted. Idempotent. Errors: 22023 message_not_found; 42501 not_authenticated, not_a_member, not_allowed.';

-- ---------------------------------------------------------------------------------------------
-- Row level security
-- ---------------------------------------------------------------------------------------------

-- Readers see a conversation's messages, except those from people they blocked.
create or replace function private.can_read_message(p_conversation_id uuid, p_sender_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select private.caller_can_access_conversation(p_conversation_id)
     and (p_sender_id is null or p_sender_id = auth.uid()
          or not exists (select 1 from public.blocks b where b.blocker_id = auth.uid() and b.blocked_id = p_sender_id))
$$;
comment on function private.can_read_message(uuid, uuid) is
  'RLS: the caller has access to the conversation and has not blocked the sender.';

alter table public.messages enable row level security;
alter table public.message_reactions enable row level security;

create policy "members read their conversations' messages" on public.messages
  for select to authenticated
  using (private.can_read_message(conversation_id, sender_id));

create policy "members see reactions in their conversations" on public.message_reactions
  for select to authenticated
  using ((select auth.uid()) is not null and private.caller_can_access_conversation(conversation_id));
create policy "members react as themselves" on public.message_reactions
  for insert to authenticated
  with check (user_id = (select auth.uid()) and private.caller_can_access_conversation(conversation_id));
create policy "members remove their own reactions" on public.message_reactions
  for delete to authenticated
  using (user_id = (select auth.uid()));

grant select on public.messages to authenticated;
grant select, insert (message_id, user_id, emoji), delete on public.message_reactions to authenticated;
grant select, insert, update, delete on public.messages, public.message_reactions to service_role;

grant execute on function private.can_read_message(uuid, uuid) to authenticated;
grant execute on function private.send_message(uuid, text, text, text, uuid, timestamptz, uuid, text, integer),
  private.edit_message(uuid, text), private.delete_message(uuid) to authenticated;
revoke execute on function public.send_message(uuid, text, text, text, uuid, timestamptz, uuid, text, integer),
  public.edit_message(uuid, text), public.delete_message(uuid) from public, anon, authenticated, service_role;
grant execute on function public.send_message(uuid, text, text, text, uuid, timestamptz, uuid, text, integer),
  public.edit_message(uuid, text), public.delete_message(uuid) to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.can_read_message(uuid,uuid),
  private.check_chat_attachment(uuid,uuid,text,text),
  private.check_message_content(uuid,uuid,text,text,text,integer,uuid,timestamp with time zone),
  private.delete_message(uuid),
  private.edit_message(uuid,text),
  private.message_payload(messages),
  private.message_reactions_before_insert(),
  private.message_reactions_broadcast(),
  private.messages_after_insert(),
  private.messages_after_update(),
  private.messages_assign_seq(),
  private.normalize_message_body(text),
  private.post_system_message(uuid,uuid,text,jsonb),
  private.send_message(uuid,text,text,text,uuid,timestamp with time zone,uuid,text,integer)
  from public;
