-- Push devices: the phones and browsers a user gets push notifications on (issue 14).
--
-- An app registers its FCM registration token at every start (register_push_device) and
-- unregisters it at sign-out (unregister_push_device). One user, many devices; one device, one
-- user: a token is the app install on one device, so when another account signs in on that
-- device and registers the same token, the token moves to that account (the previous one must
-- not get the new account's alerts). Android and iOS both go through Firebase Cloud Messaging
-- (iOS apps get an FCM token for their APNs token through the Firebase SDK); `platform` says
-- which, so the dispatcher can set the APNs badge for iOS and the Android options for Android.
-- A user keeps at most 10 devices: registering an 11th drops the one registered longest ago.
--
-- Tokens FCM reports as unregistered (the app was uninstalled, or the token rotated) are
-- deleted the moment the dispatcher learns it (private.complete_alert_deliveries), so nothing
-- is sent to them again. push is a channel of the preferences grid (in_app, email, sms,
-- whatsapp, push), with quiet hours like SMS; deliveries are one per device, through the alert
-- outbox (20261125140200_alert_outbox).

create table public.push_devices (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  token text not null,
  platform text not null,
  created_at timestamptz not null default now(),
  registered_at timestamptz not null default now(),
  constraint push_devices_token_key unique (token),
  constraint push_devices_token_format check (char_length(token) between 16 and 4096 and token ~ '^[A-Za-z0-9_:.\-]+$'),
  constraint push_devices_platform check (platform in ('android', 'ios', 'web'))
);
revoke all on public.push_devices from public, anon, authenticated, service_role;
comment on table public.push_devices is
  'Devices a user gets push notifications on: the FCM registration token of each app install and its platform. Read your own; register and unregister with register_push_device and unregister_push_device. Tokens FCM reports as unregistered are removed at once.';
comment on column public.push_devices.token is 'The FCM registration token of the app install (Android, iOS through FCM, or web).';
comment on column public.push_devices.platform is 'android | ios | web';
comment on column public.push_devices.registered_at is 'When the app last registered this token (apps register at every start).';
create index push_devices_user_idx on public.push_devices (user_id, registered_at);

alter table public.push_devices enable row level security;
create policy "users read their own push devices" on public.push_devices
  for select to authenticated using (user_id = (select auth.uid()));
grant select on public.push_devices to authenticated;
grant select, insert, update, delete on public.push_devices to service_role;

create or replace function private.register_push_device(p_token text, p_platform text) returns public.push_devices
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_row public.push_devices;
begin
  if p_token is null or char_length(p_token) not between 16 and 4096 or p_token !~ '^[A-Za-z0-9_:.\-]+$' then
    perform private.raise_error('22023', 'invalid_token', 'p_token is the FCM registration token of this app install (16 to 4,096 characters: letters, digits, _ : . -).');
  end if;
  if p_platform is null or p_platform not in ('android', 'ios', 'web') then
    perform private.raise_error('22023', 'invalid_platform', 'p_platform is android, ios or web.');
  end if;
  perform private.consume_rate_limit('push_device', v_uid::text);
  -- The same install registering again is the normal case (every app start): only the time moves.
  insert into public.push_devices as d (user_id, token, platform)
  values (v_uid, p_token, p_platform)
  on conflict (token) do update
     set user_id = excluded.user_id, platform = excluded.platform, registered_at = now(),
         created_at = case when d.user_id = excluded.user_id then d.created_at else now() end
  returning * into v_row;
  -- At most 10 devices each: the ones registered longest ago go first.
  delete from public.push_devices d
   where d.user_id = v_uid
     and d.id in (select x.id from public.push_devices x where x.user_id = v_uid
                   order by x.registered_at desc, x.id desc offset 10);
  return v_row;
end
$$;

create or replace function public.register_push_device(p_token text, p_platform text) returns public.push_devices
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.register_push_device(p_token, p_platform);
end
$$;
comment on function public.register_push_device(text, text) is
  'Registers this app install''s FCM registration token for the caller''s push notifications (call it at every app start; the same token again only refreshes it). A token another account registered moves to the caller. At most 10 devices per user: the one registered longest ago is dropped. Errors: 22023 invalid_token, invalid_platform; P0001 rate_limited; 42501 not_authenticated.';

create or replace function private.unregister_push_device(p_token text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  if p_token is null then
    perform private.raise_error('22023', 'invalid_token', 'p_token is the FCM registration token to forget.');
  end if;
  delete from public.push_devices d where d.token = p_token and d.user_id = v_uid;
  return found;
end
$$;

create or replace function public.unregister_push_device(p_token text) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.unregister_push_device(p_token);
end
$$;
comment on function public.unregister_push_device(text) is
  'Forgets one of the caller''s push devices (call it at sign-out). true when it was removed, false when the caller had no such token. Errors: 22023 invalid_token; 42501 not_authenticated.';

revoke execute on function private.register_push_device(text, text), private.unregister_push_device(text) from public;
grant execute on function private.register_push_device(text, text), private.unregister_push_device(text) to authenticated;
revoke execute on function public.register_push_device(text, text), public.unregister_push_device(text)
  from public, anon, authenticated, service_role;
grant execute on function public.register_push_device(text, text), public.unregister_push_device(text) to anon, authenticated;
