-- In-app notifications, and the Realtime authorization of private topics.
--
-- Every capability notifies users through private.notify(), which stores the notification and
-- broadcasts it on the user's private topic `user:<id>` in the same transaction (Broadcast from
-- Database). RLS on realtime.messages decides who may join which private topic; one SELECT and
-- one INSERT policy dispatch on the topic prefix through private functions that later
-- capabilities extend (conversation:<id>, event:<id>), so there is never more than one
-- permissive policy per action.

create table public.notifications (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  type text not null,
  title text not null,
  body text,
  data jsonb not null default '{}'::jsonb,
  read_at timestamptz,
  created_at timestamptz not null default now(),
  constraint notifications_type_format check (type ~ '^[a-z][a-z0-9_.]{1,63}$'),
  constraint notifications_title_length check (char_length(title) between 1 and 200),
  constraint notifications_body_length check (body is null or char_length(body) <= 2000),
  constraint notifications_data_object check (jsonb_typeof(data) = 'object')
);
comment on table public.notifications is
  'In-app notifications. A user reads only their own and may set read_at; rows are written by the platform (private.notify) and broadcast on user:<id>.';
comment on column public.notifications.type is 'Stable dotted or snake_case type, e.g. booking_confirmed; apps switch on it.';
comment on column public.notifications.data is 'Type-specific payload (ids of the event, booking, conversation…).';

create index notifications_user_created_idx on public.notifications (user_id, created_at desc, id desc);
create index notifications_user_unread_idx on public.notifications (user_id) where read_at is null;

alter table public.notifications enable row level security;
create policy "users read their own notifications" on public.notifications
  for select to authenticated using (user_id = (select auth.uid()));
create policy "users mark their own notifications read" on public.notifications
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

grant select on public.notifications to authenticated;
grant update (read_at) on public.notifications to authenticated;
grant select, insert, update, delete on public.notifications to service_role;

-- Stores an in-app notification and broadcasts it on user:<id>. Returns the notification id.
create or replace function private.notify(
  p_user_id uuid, p_type text, p_title text, p_body text default null, p_data jsonb default '{}'::jsonb
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.notifications;
begin
  insert into public.notifications (user_id, type, title, body, data)
  values (p_user_id, p_type, p_title, p_body, coalesce(p_data, '{}'::jsonb))
  returning * into v_row;
  perform realtime.send(to_jsonb(v_row), 'notification_created', 'user:' || p_user_id::text, true);
  return v_row.id;
end
$$;
comment on function private.notify(uuid, text, text, text, jsonb) is
  'Writes an in-app notification and broadcasts it (event notification_created) on the private topic user:<id>, in the caller''s transaction.';
revoke execute on function private.notify(uuid, text, text, text, jsonb) from public;

-- Realtime authorization. The Realtime server evaluates these when a client joins a private
-- channel: SELECT = may receive, INSERT = may send broadcast / track presence.
create or replace function private.realtime_can_receive(p_topic text, p_extension text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null or p_topic is null then
    return false;
  end if;
  if p_topic = 'user:' || v_uid::text then
    return p_extension in ('broadcast', 'presence');
  end if;
  return false;
end
$$;
comment on function private.realtime_can_receive(text, text) is
  'Whether the caller may receive on a private Realtime topic; dispatches on the topic prefix (user:<id> so far).';

create or replace function private.realtime_can_send(p_topic text, p_extension text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null or p_topic is null then
    return false;
  end if;
  -- Presence on one's own topic lets several devices of the same user see each other online.
  if p_topic = 'user:' || v_uid::text then
    return p_extension = 'presence';
  end if;
  return false;
end
$$;
comment on function private.realtime_can_send(text, text) is
  'Whether the caller may broadcast or track presence on a private Realtime topic; dispatches on the topic prefix.';

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
