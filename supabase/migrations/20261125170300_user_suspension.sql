-- Operations, step 4: suspending a user.
--
-- An admin suspends an account with a reason (public.admin_suspend_user) and lifts it with
-- another (public.admin_unsuspend_user). A suspended account is frozen:
--   - Sign-in stops: auth.users.banned_until is set as GoTrue's own ban does (ban_duration
--     "876000h", i.e. a hundred years), so Supabase Auth refuses password, OTP and OAuth sign-in
--     and refresh-token grants with `user_banned`. Lifting the suspension clears it.
--   - The access token the user still holds (valid up to an hour) can do nothing that writes:
--     private.require_user() — which every public RPC calls first — refuses a suspended caller
--     with 42501 `account_suspended`, so they cannot book, pay, cancel, send or edit messages,
--     follow, report, review, create or publish events, become a host or ask for a payout; and a
--     statement trigger refuses their direct table writes (profiles, follows, blocks, events,
--     ticket types, co-hosts, reviews, reactions, notifications) and Storage uploads; on Realtime
--     they can no longer broadcast typing or track presence (they still receive until the token
--     expires).
--   - A host's host_status becomes 'suspended' (restored on lifting), which become_host already
--     refuses; their events stay published so booked guests keep their tickets, chat and
--     refunds, but take no new bookings or waitlist entries (P0001 `host_suspended`). Cancelling
--     those events is a separate operator decision (it refunds every guest).
--   - Nothing is deleted: messages, reviews and money records stay; payouts already in flight
--     complete. The user's earnings stay in their wallet.
-- Admins cannot suspend themselves or another admin (revoke the admin right first, with the
-- service role). Every suspension and lifting is in the audit log, with its reason.
--
-- Why it is built this way: one guard in require_user covers every current and future RPC
-- without touching them; a history table (not a flag on profiles) keeps who suspended whom,
-- when and why, and what host status to restore; the lookup is one index probe on a tiny table.
-- The history (private.user_suspensions), private.caller_is_suspended() and that guard are
-- account status, defined with the profiles in 20261125100100_identity_profiles; Realtime's
-- refusal is in 20261125130400_realtime_authorization. This migration adds the admin RPCs and
-- the refusals that sit on other capabilities' tables.

-- Statement trigger: a suspended caller's direct writes (through the Data API or Storage) are refused.
create or replace function private.refuse_suspended_writer() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- Nested, so writers without a user (Auth, Storage and Realtime internals, jobs) never need
  -- the private helper.
  if auth.uid() is not null then
    if private.caller_is_suspended() then
      perform private.raise_error('42501', 'account_suspended', 'Your account is suspended. Contact Rally support.');
    end if;
  end if;
  return null;
end
$$;
comment on function private.refuse_suspended_writer() is 'Trigger (per statement): refuses writes by a suspended account.';

create trigger refuse_suspended_writer before insert or update or delete on public.profiles
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update or delete on public.follows
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update or delete on public.blocks
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update or delete on private.events
  for each statement execute function private.refuse_suspended_writer();
-- Statement triggers on the view fire before its INSTEAD OF triggers, so the caller hears why.
create trigger refuse_suspended_writer before insert or update or delete on public.events
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update or delete on public.ticket_types
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update or delete on public.promo_codes
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update or delete on public.event_cohosts
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update or delete on public.reviews
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update or delete on public.message_reactions
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update or delete on public.notifications
  for each statement execute function private.refuse_suspended_writer();
create trigger refuse_suspended_writer before insert or update on storage.objects
  for each statement execute function private.refuse_suspended_writer();

-- A suspended host's events take no new bookings or waitlist entries from guests (offers the
-- waitlist makes when a seat frees up still go out, so cancellations keep working).
create or replace function private.refuse_booking_suspended_host() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.guest_id = auth.uid()
     and exists (select 1 from private.events e join public.profiles p on p.id = e.host_id
                  where e.id = new.event_id and p.host_status = 'suspended') then
    perform private.raise_error('P0001', 'host_suspended', 'This host is suspended: their events take no new bookings.');
  end if;
  return new;
end
$$;
comment on function private.refuse_booking_suspended_host() is 'Trigger: guests cannot book or join the waitlist of a suspended host''s events.';

create trigger refuse_booking_suspended_host before insert on public.bookings
  for each row execute function private.refuse_booking_suspended_host();
create trigger refuse_booking_suspended_host before insert on public.waitlist_entries
  for each row execute function private.refuse_booking_suspended_host();

-- ---------------------------------------------------------------------------------------------
-- The admin RPCs
-- ---------------------------------------------------------------------------------------------

create or replace function private.admin_suspend_user(p_user_id uuid, p_reason text)
returns table (user_id uuid, suspended boolean, host_status text, banned_until timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_admin uuid;
  v_reason text;
  v_user auth.users;
  v_profile public.profiles;
begin
  v_admin := private.require_admin();
  v_reason := private.admin_reason(p_reason);
  select * into v_user from auth.users u where u.id = p_user_id for update;
  if v_user.id is null then
    perform private.raise_error('22023', 'user_not_found', 'No user has this id.');
  end if;
  if v_user.id = v_admin then
    perform private.raise_error('22023', 'cannot_suspend_self', 'Admins cannot suspend themselves.');
  end if;
  if v_user.raw_app_meta_data ->> 'role' = 'admin' then
    perform private.raise_error('P0001', 'cannot_suspend_admin', 'Revoke this user''s admin rights before suspending them.');
  end if;
  if exists (select 1 from private.user_suspensions s where s.user_id = p_user_id and s.lifted_at is null) then
    perform private.raise_error('P0001', 'already_suspended', 'This account is already suspended.');
  end if;
  select * into v_profile from public.profiles p where p.id = p_user_id for update;
  insert into private.user_suspensions (user_id, reason, suspended_by, previous_host_status)
  values (p_user_id, v_reason, v_admin, v_profile.host_status);
  if v_profile.is_host then
    update public.profiles p set host_status = 'suspended' where p.id = p_user_id returning * into v_profile;
  end if;
  -- As GoTrue's ban does (ban_duration 876000h): sign-in and refresh are refused from now on.
  update auth.users u set banned_until = now() + interval '100 years', updated_at = now()
   where u.id = p_user_id returning * into v_user;
  perform private.record_audit('admin.suspend_user', 'user', p_user_id,
    jsonb_build_object('reason', v_reason, 'previous_host_status', v_profile.host_status));
  return query select p_user_id, true, v_profile.host_status, v_user.banned_until;
end
$$;
comment on function private.admin_suspend_user(uuid, text) is 'Admins: suspends an account (see the migration header for what that stops) and records it in the audit log.';

create or replace function public.admin_suspend_user(p_user_id uuid, p_reason text)
returns table (user_id uuid, suspended boolean, host_status text, banned_until timestamptz)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.admin_suspend_user(p_user_id, p_reason);
end
$$;
comment on function public.admin_suspend_user(uuid, text) is
  'Admins only: suspends an account until an admin lifts it. The user can no longer sign in or refresh a session (Supabase Auth ban), every RPC and direct write refuses their remaining token with 42501 account_suspended, and a host''s events take no new bookings (host_status suspended); nothing is deleted. Recorded in the audit log with p_reason. Errors: 42501 not_authenticated / admin_only; 22023 invalid_reason / user_not_found / cannot_suspend_self; P0001 cannot_suspend_admin / already_suspended.';

create or replace function private.admin_unsuspend_user(p_user_id uuid, p_reason text)
returns table (user_id uuid, suspended boolean, host_status text, banned_until timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_admin uuid;
  v_reason text;
  v_suspension private.user_suspensions;
  v_profile public.profiles;
begin
  v_admin := private.require_admin();
  v_reason := private.admin_reason(p_reason);
  if p_user_id is null or not exists (select 1 from auth.users u where u.id = p_user_id) then
    perform private.raise_error('22023', 'user_not_found', 'No user has this id.');
  end if;
  select * into v_suspension from private.user_suspensions s where s.user_id = p_user_id and s.lifted_at is null for update;
  if v_suspension.id is null then
    perform private.raise_error('P0001', 'not_suspended', 'This account is not suspended.');
  end if;
  update private.user_suspensions s set lifted_at = now(), lifted_by = v_admin, lift_reason = v_reason where s.id = v_suspension.id;
  select * into v_profile from public.profiles p where p.id = p_user_id for update;
  if v_profile.host_status = 'suspended' and v_suspension.previous_host_status is distinct from 'suspended' then
    update public.profiles p set host_status = coalesce(v_suspension.previous_host_status, 'none')
     where p.id = p_user_id returning * into v_profile;
  end if;
  update auth.users u set banned_until = null, updated_at = now() where u.id = p_user_id;
  perform private.record_audit('admin.unsuspend_user', 'user', p_user_id,
    jsonb_build_object('reason', v_reason, 'suspension_id', v_suspension.id, 'suspended_at', v_suspension.suspended_at,
                       'host_status', v_profile.host_status));
  return query select p_user_id, false, v_profile.host_status, null::timestamptz;
end
$$;
comment on function private.admin_unsuspend_user(uuid, text) is 'Admins: lifts an account''s suspension (sign-in, RPCs and host status come back) and records it in the audit log.';

create or replace function public.admin_unsuspend_user(p_user_id uuid, p_reason text)
returns table (user_id uuid, suspended boolean, host_status text, banned_until timestamptz)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.admin_unsuspend_user(p_user_id, p_reason);
end
$$;
comment on function public.admin_unsuspend_user(uuid, text) is
  'Admins only: lifts a suspension: the user can sign in again, their RPCs work, and a host gets back the host status they had. Recorded in the audit log with p_reason. Errors: 42501 not_authenticated / admin_only; 22023 invalid_reason / user_not_found; P0001 not_suspended.';

create view admin.suspended_users with (security_invoker = true) as
select s.user_id, p.username, u.email, s.reason, s.suspended_at, s.suspended_by, a.username as suspended_by_username,
       s.previous_host_status, u.banned_until
  from private.user_suspensions s
  join auth.users u on u.id = s.user_id
  left join public.profiles p on p.id = s.user_id
  left join public.profiles a on a.id = s.suspended_by
 where s.lifted_at is null
 order by s.suspended_at desc;
comment on view admin.suspended_users is
  'Accounts suspended now, newest first, with the reason and the admin who decided. Lift with public.admin_unsuspend_user (or history in admin.audit_log).';
revoke all on admin.suspended_users from public, anon, authenticated, service_role;

revoke execute on function private.refuse_suspended_writer(), private.refuse_booking_suspended_host(),
  private.admin_suspend_user(uuid, text), private.admin_unsuspend_user(uuid, text) from public;
grant execute on function private.admin_suspend_user(uuid, text), private.admin_unsuspend_user(uuid, text) to authenticated;
revoke execute on function public.admin_suspend_user(uuid, text), public.admin_unsuspend_user(uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.admin_suspend_user(uuid, text), public.admin_unsuspend_user(uuid, text) to anon, authenticated;
