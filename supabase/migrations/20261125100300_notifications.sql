-- In-app notifications.
--
-- Every capability notifies users through private.notify() (20261125100310_notification_preferences,
-- which applies each user's in-app muting), which stores the notification and broadcasts it on
-- the user's private topic `user:<id>` in the same transaction (Broadcast from Database). Who may
-- join which private topic is decided in one place, 20261125130400_realtime_authorization.

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
revoke all on public.notifications from public, anon, authenticated, service_role;
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
