-- Account deletion: a user deletes their own account (an admin may do it for them on request).
--
-- What a real platform must do, and how Rally does it in ONE transaction:
--   * Money records stay, as accounting and tax law require (bookings, payments, the ledger,
--     refunds, disputes, payouts, Stripe objects): amounts, dates and ids, no personal data.
--     They point at profiles / auth.users with ON DELETE NO ACTION, so the rows that hold them
--     must outlive the person. The profile is therefore kept as a TOMBSTONE — username
--     `deleted_<random>`, display name "Deleted user", every personal field cleared,
--     `deleted_at` set — and the auth.users row is soft-deleted the way Supabase Auth's own
--     `DELETE /admin/users/{id}` with `should_soft_delete` does (email, phone, password, tokens
--     and metadata cleared, identities removed, sessions ended), plus `banned_until` a hundred
--     years ahead (GoTrue's own longest ban, "876000h") so no refresh token can mint a new
--     session. Not `infinity`: GoTrue and most clients cannot read an infinite timestamp, and
--     one such row would break Auth's admin user listing. The uuid that remains identifies nobody.
--   * Why SQL and not an edge function calling GoTrue: a hard delete through GoTrue cascades
--     auth.users → profiles and fails on the money rows (or, without them, would null every
--     message sender); a soft delete through GoTrue would be a second, non-transactional step
--     after the database part (a failure between the two leaves a scrubbed profile with a live
--     login, or the reverse). `postgres` may write auth.users on the platform (set_user_admin
--     already does), so one transaction does all of it or none of it.
--   * Removed: profile personal fields, contact points (notification_settings: phone;
--     auth email), notification preferences, in-app notifications, unsent alert deliveries (and
--     the destination on sent ones, the local sink's copies, provider callback payloads),
--     follows both ways, the user's blocks, waitlist entries, event invitations and open ticket
--     offers, attendee names typed on their seats, co-host roles, reactions, conversation
--     memberships and group invitations to them (those they sent stay open, from nobody),
--     rate-limit buckets, unpublished drafts, the avatar (queued: the storage-purge
--     worker deletes row and bytes through the Storage API, 20261125170800_storage_purge),
--     the viewer id on event views, the reporter on their content reports, and the
--     notifications in other people's inboxes that name them (follows, announcements, chat).
--   * Kept, anonymised by the tombstone: bookings and every money row, reviews (rating and text
--     stay with the event; the author shows as "Deleted user"), chat messages (other members
--     keep the conversation; the sender shows as "Deleted user"; direct conversations stay
--     readable by the other person), completed and cancelled events they hosted, share links
--     (random codes; the host's attribution statistics hang off them), other people's blocks of
--     them, and content reports about them (moderation evidence).
--   * Preconditions (P0001 with a hint, nothing written) where deleting would lose money or
--     break other people's plans: upcoming events they host, bookings for events not yet over,
--     open disputes, payouts or transfers in flight, a wallet that is not zero. Each message
--     says what to do. `my_account_deletion_obstacles()` lists them all before asking.
--   * A deleted account can do nothing more, even with an access token issued before (valid up
--     to an hour): private.require_user() refuses it (42501 account_deleted), which every RPC
--     calls; the owner-update policy on profiles cannot revive the tombstone; event chats no
--     longer count its past bookings; private.notify() stores and sends nothing for it; and new
--     follows, direct conversations, group memberships and co-host roles that target it are
--     refused as user_not_found. A booking, waitlist entry or follow from a request already
--     running when the deletion commits waits for it and is refused too.

-- ---------------------------------------------------------------------------------------------
-- The tombstone marker (profiles.deleted_at) and the purge queue
-- ---------------------------------------------------------------------------------------------
-- profiles.deleted_at is part of account status in 20261125100100_identity_profiles, where
-- private.require_user() refuses a deleted account; private.notify() (notification preferences)
-- and private.event_chat_role() (conversations) leave deleted accounts out where they are defined.

-- Files to delete (a deleted account's avatar, the covers of their drafts). Only the Storage API
-- can delete the bytes, and it deletes only objects it still finds in storage.objects (deleting
-- the rows in SQL would orphan the bytes for good), so the rows stay and this outbox tells the
-- storage-purge worker (functions/storage-purge, 20261125170800_storage_purge.sql) what to
-- delete: claim with a lease, call the Storage API, record, retry with backoff, dead-letter.
create table private.storage_purge_queue (
  bucket_id text not null,
  name text not null,
  reason text not null,
  status text not null default 'pending',
  attempts integer not null default 0,
  max_attempts integer not null default 8,
  next_attempt_at timestamptz not null default now(),
  claim_token uuid,
  lease_expires_at timestamptz,
  last_error text,
  queued_at timestamptz not null default now(),
  purged_at timestamptz,
  dead_at timestamptz,
  primary key (bucket_id, name),
  constraint storage_purge_queue_reason check (reason in ('account_deleted')),
  constraint storage_purge_queue_status check (status in ('pending', 'claimed', 'purged', 'dead')),
  constraint storage_purge_queue_attempts check (attempts >= 0 and max_attempts between 1 and 50),
  constraint storage_purge_queue_lease check (status <> 'claimed' or (claim_token is not null and lease_expires_at is not null)),
  constraint storage_purge_queue_purged check ((status = 'purged') = (purged_at is not null)),
  constraint storage_purge_queue_dead check ((status = 'dead') = (dead_at is not null))
);
comment on table private.storage_purge_queue is
  'Outbox of Storage objects to delete through the Storage API (row and bytes), e.g. a deleted account''s avatar. pending → claimed (leased by the storage-purge worker) → purged; retried with backoff; dead after max_attempts (admin.storage_purge_dead_letters).';
comment on column private.storage_purge_queue.next_attempt_at is 'Not before this instant: the backoff of the next retry.';
create index storage_purge_queue_due_idx on private.storage_purge_queue (next_attempt_at) where status = 'pending';
create index storage_purge_queue_lease_idx on private.storage_purge_queue (lease_expires_at) where status = 'claimed';
create index storage_purge_queue_dead_idx on private.storage_purge_queue (dead_at) where status = 'dead';

-- ---------------------------------------------------------------------------------------------
-- A deleted account can no longer act
-- ---------------------------------------------------------------------------------------------

-- The tombstone cannot be edited through the API (an access token issued before the deletion
-- still passes the owner-update policy).
create or replace function private.profiles_guard_tombstone() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.deleted_at is not null and current_user in ('anon', 'authenticated') then
    perform private.raise_error('42501', 'account_deleted', 'This account has been deleted.');
  end if;
  return new;
end
$$;
comment on function private.profiles_guard_tombstone() is 'Trigger: API users cannot change a deleted account''s profile.';
create trigger profiles_guard_tombstone before update on public.profiles
  for each row execute function private.profiles_guard_tombstone();

-- New relations that would point at a deleted account are refused as if it did not exist.
-- Arguments: the columns of the new row that hold user ids.
create or replace function private.refuse_deleted_account_target() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row jsonb := to_jsonb(new);
  v_column text;
begin
  foreach v_column in array tg_argv loop
    if exists (select 1 from public.profiles p
                where p.id = (v_row ->> v_column)::uuid and p.deleted_at is not null) then
      perform private.raise_error('22023', 'user_not_found', 'No such user.');
    end if;
  end loop;
  return new;
end
$$;
comment on function private.refuse_deleted_account_target() is
  'Trigger: refuses (22023 user_not_found) a new follow, direct conversation, conversation member or co-host that names a deleted account.';
create trigger follows_refuse_deleted before insert on public.follows
  for each row execute function private.refuse_deleted_account_target('followee_id');
create trigger conversations_refuse_deleted before insert on public.conversations
  for each row when (new.kind = 'direct')
  execute function private.refuse_deleted_account_target('direct_user_low', 'direct_user_high');
create trigger conversation_members_refuse_deleted before insert on public.conversation_members
  for each row execute function private.refuse_deleted_account_target('user_id');
create trigger event_cohosts_refuse_deleted before insert on public.event_cohosts
  for each row execute function private.refuse_deleted_account_target('user_id');

-- A request that passed require_user() just before the deletion committed must not write new
-- bookings, waitlist entries or follows for the account afterwards. The deletion holds the
-- profile row FOR UPDATE; this check takes FOR KEY SHARE on it (as the foreign key check does
-- anyway), so it waits for the deletion and then reads the committed row: deleted → refused.
create or replace function private.refuse_deleted_account_actor() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_deleted_at timestamptz;
begin
  select p.deleted_at into v_deleted_at from public.profiles p
   where p.id = (to_jsonb(new) ->> tg_argv[0])::uuid
     for key share;
  if v_deleted_at is not null then
    perform private.raise_error('42501', 'account_deleted', 'This account has been deleted.');
  end if;
  return new;
end
$$;
comment on function private.refuse_deleted_account_actor() is
  'Trigger: a new booking, waitlist entry or follow by a deleted account is refused (42501 account_deleted), also when the deletion commits while the request is running.';
create trigger bookings_refuse_deleted before insert on public.bookings
  for each row execute function private.refuse_deleted_account_actor('guest_id');
create trigger waitlist_entries_refuse_deleted before insert on public.waitlist_entries
  for each row execute function private.refuse_deleted_account_actor('guest_id');
create trigger follows_refuse_deleted_follower before insert on public.follows
  for each row execute function private.refuse_deleted_account_actor('follower_id');

-- ---------------------------------------------------------------------------------------------
-- Preconditions
-- ---------------------------------------------------------------------------------------------

-- What stands in the way of deleting p_user_id's account, most important first; empty = none.
create or replace function private.account_deletion_obstacles(p_user_id uuid)
returns table (code text, count bigint, message text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_count bigint;
begin
  select count(*) into v_count from private.events e
   where e.host_id = p_user_id and e.status = 'published' and e.ends_at > now();
  if v_count > 0 then
    return query select 'has_upcoming_events'::text, v_count, format(
      'You host %s upcoming event(s). Cancel them first (guests are refunded in full), or wait until they have ended.', v_count);
  end if;

  select (select count(*) from public.bookings b join private.events e on e.id = b.event_id
            where b.guest_id = p_user_id and b.status in ('held', 'pending_approval', 'confirmed')
              and e.status = 'published' and e.ends_at > now())
       -- Seats someone gave them count too: they can hand them back (transfer_booking).
       + (select count(*) from public.booking_seats s join public.bookings b on b.id = s.booking_id
            join private.events e on e.id = s.event_id
           where s.holder_id = p_user_id and b.status = 'confirmed' and e.status = 'published' and e.ends_at > now())
    into v_count;
  if v_count > 0 then
    return query select 'has_upcoming_bookings'::text, v_count, format(
      'You have %s booking(s) for events that are not over yet. Cancel them first (refunds follow each event''s policy), or wait until the events have ended.', v_count);
  end if;

  select count(*) into v_count from private.disputes d where d.host_id = p_user_id and d.is_open;
  if v_count > 0 then
    return query select 'open_disputes'::text, v_count, format(
      '%s payment dispute(s) on your events are still open. You can delete your account once they are closed.', v_count);
  end if;

  select (select count(*) from private.payouts p
           where p.host_id = p_user_id and p.status in ('requested', 'pending', 'in_transit'))
       + (select count(*) from private.payment_commands c
           where c.host_id = p_user_id and c.status in ('pending', 'processing'))
    into v_count;
  if v_count > 0 then
    return query select 'payouts_in_flight'::text, v_count,
      'A payout or transfer to you is still on its way. Try again once it has arrived.'::text;
  end if;

  select count(*) into v_count
    from private.ledger_accounts a join private.ledger_account_balances b on b.account_id = a.id
   where a.host_id = p_user_id and a.kind in ('host_pending', 'host_available', 'host_in_transit') and b.balance <> 0;
  if v_count > 0 then
    return query select 'wallet_not_settled'::text, v_count,
      'Your wallet is not empty: withdraw your available balance with a payout, and wait for pending earnings to be released (or, if you owe Rally after a refund or dispute, settle it with support) before deleting your account.'::text;
  end if;
end
$$;
comment on function private.account_deletion_obstacles(uuid) is
  'Reasons an account cannot be deleted yet (code, count, message): has_upcoming_events, has_upcoming_bookings, open_disputes, payouts_in_flight, wallet_not_settled. Internal: answers for any user id.';

create or replace function private.my_account_deletion_obstacles()
returns table (code text, count bigint, message text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  return query select * from private.account_deletion_obstacles(v_uid);
end
$$;
comment on function private.my_account_deletion_obstacles() is 'What stands in the way of deleting the caller''s account (see account_deletion_obstacles).';

create or replace function public.my_account_deletion_obstacles()
returns table (code text, count bigint, message text)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.my_account_deletion_obstacles();
end
$$;
comment on function public.my_account_deletion_obstacles() is
  'What must happen before the caller can delete their account, one row per reason (code, count, message): has_upcoming_events, has_upcoming_bookings, open_disputes, payouts_in_flight, wallet_not_settled. Empty when delete_my_account would succeed. Errors: 42501 not_authenticated, account_deleted.';

-- ---------------------------------------------------------------------------------------------
-- The deletion itself
-- ---------------------------------------------------------------------------------------------

-- Erases p_user_id's personal data and leaves the tombstone (see the header). Internal: granted
-- to nobody; delete_my_account and admin_delete_account decide who may call it. Returns a
-- summary of what was removed and kept (ids and counts only, no personal data).
create or replace function private.erase_account(p_user_id uuid, p_requested_by text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_profile public.profiles;
  v_obstacle record;
  v_now timestamptz := now();
  v_removed jsonb := '{}'::jsonb;
  v_count bigint;
  v_other bigint;
  v_table text;
  v_draft_folders text[];
begin
  if p_requested_by is null or p_requested_by not in ('self', 'admin') then
    perform private.raise_error('22023', 'invalid_argument', 'p_requested_by is self or admin.');
  end if;
  select * into v_profile from public.profiles where id = p_user_id for update;
  if v_profile.id is null then
    perform private.raise_error('22023', 'user_not_found', 'No such user.');
  end if;
  if v_profile.deleted_at is not null then
    perform private.raise_error('P0001', 'account_already_deleted', 'This account has already been deleted.');
  end if;
  -- The host's balance rows are locked like every payout and posting does, so no earning or
  -- payout can slip in between the check and the commit.
  perform 1 from private.ledger_accounts a join private.ledger_balances b on b.account_id = a.id
   where a.host_id = p_user_id for update of b;
  select * into v_obstacle from private.account_deletion_obstacles(p_user_id) limit 1;
  if v_obstacle.code is not null then
    perform private.raise_error('P0001', v_obstacle.code, v_obstacle.message);
  end if;

  -- Other people's inboxes: the notifications that name them (their follows, their chat
  -- messages and reminders, their event announcements), found through the people concerned so
  -- no inbox is scanned whole.
  delete from public.notifications n
   where ((n.type = 'new_follower' and n.data ->> 'follower_id' = p_user_id::text
           and n.user_id in (select f.followee_id from public.follows f where f.follower_id = p_user_id))
       or (n.type = 'event_published' and n.data ->> 'host_id' = p_user_id::text
           and n.user_id in (select f.follower_id from public.follows f where f.followee_id = p_user_id)));
  get diagnostics v_count = row_count;
  delete from public.notifications n
   where n.type in ('message_received', 'message_reminder')
     and n.user_id in (select o.user_id from public.conversation_members mine
                         join public.conversation_members o on o.conversation_id = mine.conversation_id
                        where mine.user_id = p_user_id and o.user_id <> p_user_id)
     and exists (select 1 from public.messages x where x.id::text = n.data ->> 'message_id' and x.sender_id = p_user_id);
  get diagnostics v_other = row_count;
  v_count := v_count + v_other;
  delete from public.notifications n
   where n.type = 'group_invitation' and n.data ->> 'invited_by' = p_user_id::text
     and n.user_id in (select i.user_id from public.group_invitations i where i.invited_by = p_user_id);
  get diagnostics v_other = row_count;
  v_removed := v_removed || jsonb_build_object('notifications_to_others', v_count + v_other);
  -- Group invitations: those sent to them go; those they sent stay open, from nobody.
  delete from public.group_invitations where user_id = p_user_id;
  update public.group_invitations set invited_by = null where invited_by = p_user_id;
  -- System messages ("Sam created the group with Priya") name them too.
  update public.messages x set body = replace(x.body, v_profile.display_name, 'Deleted user')
   where x.kind = 'system' and strpos(x.body, v_profile.display_name) > 0
     and x.conversation_id in (select m.conversation_id from public.conversation_members m where m.user_id = p_user_id);

  -- Social graph (follow counts on both sides are kept exact by the follows triggers).
  delete from public.follows where follower_id = p_user_id or followee_id = p_user_id;
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('follows', v_count);
  delete from public.blocks where blocker_id = p_user_id;
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('blocks', v_count);

  -- Notifications, preferences, contact points, outbound alerts.
  delete from public.notifications where user_id = p_user_id;
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('notifications', v_count);
  delete from public.notification_preferences where user_id = p_user_id;
  -- (with the settings go any open phone verification code: private.phone_verifications)
  delete from public.notification_settings where user_id = p_user_id;
  -- Rate-limit buckets are keyed by the user id.
  delete from private.rate_limit_buckets where key = p_user_id::text;
  -- Their calendar subscription stops answering, and no payout is scheduled for them any more.
  delete from private.calendar_feeds where user_id = p_user_id;
  delete from public.payout_schedules where host_id = p_user_id;
  delete from private.alert_sink s
   using private.alert_deliveries d where d.id = s.delivery_id and d.user_id = p_user_id;
  update private.provider_events pe set payload = '{}'::jsonb, error = null
    from private.alert_deliveries d where d.id = pe.delivery_id and d.user_id = p_user_id;
  delete from private.alert_deliveries where user_id = p_user_id and status = 'pending';
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('pending_alerts', v_count);
  update private.alert_deliveries set destination = null, last_error = null
   where user_id = p_user_id and (destination is not null or last_error is not null);

  -- Events: waitlists, co-host roles, drafts nobody else ever saw; views become anonymous.
  delete from public.waitlist_entries where guest_id = p_user_id;
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('waitlist_entries', v_count);
  delete from public.event_cohosts where user_id = p_user_id;
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('cohost_roles', v_count);
  v_draft_folders := array(select e.id::text from private.events e where e.host_id = p_user_id and e.status = 'draft');
  delete from private.events where host_id = p_user_id and status = 'draft';
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('draft_events', v_count);
  update private.event_views set viewer_id = null where viewer_id = p_user_id;
  update private.content_reports set reporter_id = null where reporter_id = p_user_id;
  -- Ticketing: invitations and open transfer offers go; the names typed on their bookings' seats
  -- (other people's names, entered by this account) are erased; seats stay with the booking.
  delete from public.event_invitations where user_id = p_user_id;
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('invitations', v_count);
  update public.booking_transfers set status = 'cancelled', responded_at = now()
   where status = 'pending' and (from_user_id = p_user_id or to_user_id = p_user_id);
  update public.booking_seats s set attendee_name = null
   where s.attendee_name is not null
     and (s.holder_id = p_user_id
          or (s.holder_id is null and s.booking_id in (select b.id from public.bookings b where b.guest_id = p_user_id)));

  -- Chat: reactions go; memberships go (groups keep an admin: the longest-standing member
  -- takes over, as when the last admin leaves); messages stay under the tombstone.
  delete from public.message_reactions where user_id = p_user_id;
  perform 1 from public.conversations c
   where c.kind = 'group'
     and c.id in (select m.conversation_id from public.conversation_members m where m.user_id = p_user_id and m.role = 'admin')
   order by c.id for update;
  update public.conversation_members m set role = 'admin'
    from (select distinct on (o.conversation_id) o.conversation_id, o.user_id
            from public.conversation_members o
            join public.conversations c on c.id = o.conversation_id and c.kind = 'group'
           where o.user_id <> p_user_id
             and exists (select 1 from public.conversation_members me
                          where me.conversation_id = o.conversation_id and me.user_id = p_user_id and me.role = 'admin')
             and not exists (select 1 from public.conversation_members a
                              where a.conversation_id = o.conversation_id and a.role = 'admin' and a.user_id <> p_user_id)
           order by o.conversation_id, o.joined_at, o.user_id) heir
   where m.conversation_id = heir.conversation_id and m.user_id = heir.user_id;
  delete from public.conversation_members where user_id = p_user_id;
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('conversation_memberships', v_count);
  update public.conversation_members set added_by = null where added_by = p_user_id;
  update public.event_cohosts set added_by = null where added_by = p_user_id;
  update private.promotion_jobs set requested_by = null where requested_by = p_user_id;
  update public.conversations set created_by = null where created_by = p_user_id;

  -- Files: their avatar and the covers of the drafts removed above go to the purge outbox; the
  -- storage-purge worker deletes rows and bytes through the Storage API (which deletes only
  -- objects whose rows it still finds, so the rows must stay until then). The public URL answers
  -- until that run: at most the schedule's interval. (Chat media stay with the messages others
  -- keep.) A name purged before and back again is queued afresh.
  insert into private.storage_purge_queue as q (bucket_id, name, reason)
  select o.bucket_id, o.name, 'account_deleted' from storage.objects o
   where (o.bucket_id = 'avatars' and (storage.foldername(o.name))[1] = p_user_id::text)
      or (o.bucket_id = 'event-covers' and (storage.foldername(o.name))[1] = any (v_draft_folders))
  on conflict (bucket_id, name) do update
     set status = 'pending', attempts = 0, next_attempt_at = now(), last_error = null, purged_at = null, dead_at = null,
         claim_token = null, lease_expires_at = null, queued_at = now(), reason = excluded.reason
   where q.status in ('purged', 'dead');
  get diagnostics v_count = row_count;
  v_removed := v_removed || jsonb_build_object('storage_objects', v_count);

  -- The tombstone.
  update public.profiles
     set username = 'deleted_' || encode(extensions.gen_random_bytes(6), 'hex'),
         display_name = 'Deleted user', avatar_path = null, bio = null, city = null,
         timezone = 'UTC', locale = 'en', hide_attendance = true, payouts_enabled = false,
         deleted_at = v_now
   where id = p_user_id;

  -- Auth: soft delete as Supabase Auth does it, and end every session.
  update auth.users
     set email = null, phone = null, encrypted_password = null,
         email_change = '', phone_change = '', confirmation_token = '', recovery_token = '',
         email_change_token_current = '', email_change_token_new = '', phone_change_token = '',
         reauthentication_token = '', raw_user_meta_data = '{}'::jsonb, raw_app_meta_data = '{}'::jsonb,
         banned_until = v_now + interval '100 years', deleted_at = v_now, updated_at = v_now
   where id = p_user_id;
  delete from auth.identities where user_id = p_user_id;
  -- Supabase Auth's per-user tables: sessions carry the IP and user agent, refresh tokens the way
  -- back in; factors, passkeys, one-time tokens and OAuth grants the rest. Deleting a session
  -- deletes its refresh tokens (ON DELETE CASCADE); older tokens without a session are matched on
  -- their varchar user_id (compared as text, so its index still serves). GoTrue adds tables over
  -- time, so each is deleted from only where the project's Auth version has it.
  foreach v_table in array array['sessions', 'refresh_tokens', 'mfa_factors', 'one_time_tokens', 'webauthn_credentials',
                                 'webauthn_challenges', 'oauth_consents', 'oauth_authorizations'] loop
    if pg_catalog.to_regclass('auth.' || v_table) is not null then
      execute format('delete from auth.%I where user_id = $1::%s', v_table,
                     case v_table when 'refresh_tokens' then 'text' else 'uuid' end)
        using p_user_id::text;
    end if;
  end loop;

  return jsonb_build_object(
    'user_id', p_user_id,
    'deleted_at', v_now,
    'requested_by', p_requested_by,
    'removed', v_removed,
    'kept', jsonb_build_object(
      'bookings', (select count(*) from public.bookings where guest_id = p_user_id),
      'payments', (select count(*) from private.payments where guest_id = p_user_id or host_id = p_user_id),
      'reviews', (select count(*) from public.reviews where author_id = p_user_id),
      'messages', (select count(*) from public.messages where sender_id = p_user_id),
      'hosted_events', (select count(*) from private.events where host_id = p_user_id)));
end
$$;
comment on function private.erase_account(uuid, text) is
  'Deletes an account: personal data removed, money records, reviews and messages kept under a tombstone profile, auth user soft-deleted. Refuses with the first account_deletion_obstacles reason. Internal: no API role may call it.';

create or replace function private.delete_my_account(p_confirm_username text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_username text;
begin
  select username into v_username from public.profiles where id = v_uid;
  if p_confirm_username is null or lower(btrim(p_confirm_username)) is distinct from v_username then
    perform private.raise_error('22023', 'confirmation_mismatch',
      format('To delete your account, confirm with your username (%s).', v_username));
  end if;
  return private.erase_account(v_uid, 'self');
end
$$;
comment on function private.delete_my_account(text) is 'Deletes the caller''s own account (see public.delete_my_account).';

create or replace function public.delete_my_account(p_confirm_username text) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.delete_my_account(p_confirm_username);
end
$$;
comment on function public.delete_my_account(text) is
  'Deletes the caller''s account for good. p_confirm_username must be the caller''s current username (so a forged click cannot do it). Personal data is removed; bookings, payments and other money records, reviews and chat messages are kept under a "Deleted user" profile; sign-in ends. Returns {user_id, deleted_at, requested_by, removed, kept}. Errors: 22023 confirmation_mismatch; P0001 has_upcoming_events, has_upcoming_bookings, open_disputes, payouts_in_flight, wallet_not_settled (see my_account_deletion_obstacles); 42501 not_authenticated, account_deleted (a second call).';

create or replace function private.admin_delete_account(p_user_id uuid, p_confirm_username text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_username text;
begin
  perform private.require_user();
  if private.is_admin() is not true then
    perform private.raise_error('42501', 'admin_only', 'Only an admin can delete someone else''s account.');
  end if;
  if p_user_id is null then
    perform private.raise_error('22023', 'user_not_found', 'No such user.');
  end if;
  select username into v_username from public.profiles where id = p_user_id;
  if v_username is null then
    perform private.raise_error('22023', 'user_not_found', 'No such user.');
  end if;
  if p_confirm_username is null or lower(btrim(p_confirm_username)) is distinct from v_username then
    perform private.raise_error('22023', 'confirmation_mismatch',
      format('Confirm with the account''s current username (%s).', v_username));
  end if;
  return private.erase_account(p_user_id, 'admin');
end
$$;
comment on function private.admin_delete_account(uuid, text) is 'Admin: deletes a user''s account on their request (see public.admin_delete_account).';

create or replace function public.admin_delete_account(p_user_id uuid, p_confirm_username text) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.admin_delete_account(p_user_id, p_confirm_username);
end
$$;
comment on function public.admin_delete_account(uuid, text) is
  'Admins only (app_metadata.role = admin): deletes a user''s account on their request, exactly as delete_my_account would; p_confirm_username must be that account''s current username. Errors: 42501 admin_only, not_authenticated; 22023 user_not_found, confirmation_mismatch; P0001 account_already_deleted and the obstacles of delete_my_account.';

-- ---------------------------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------------------------

revoke execute on function private.profiles_guard_tombstone(), private.refuse_deleted_account_target(),
  private.refuse_deleted_account_actor(),
  private.account_deletion_obstacles(uuid), private.my_account_deletion_obstacles(),
  private.erase_account(uuid, text), private.delete_my_account(text),
  private.admin_delete_account(uuid, text) from public;
revoke execute on function public.my_account_deletion_obstacles(), public.delete_my_account(text),
  public.admin_delete_account(uuid, text) from public, anon, authenticated, service_role;

grant execute on function private.my_account_deletion_obstacles(), private.delete_my_account(text),
  private.admin_delete_account(uuid, text) to authenticated;
grant execute on function public.my_account_deletion_obstacles(), public.delete_my_account(text),
  public.admin_delete_account(uuid, text) to anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- The audit log
-- ---------------------------------------------------------------------------------------------

-- The tombstone being set records `account.deleted`, with the actor taken from the request — the
-- user themselves (delete_my_account), the admin (admin_delete_account), or `database` when an
-- operator runs private.erase_account from Studio. The row holds the deleted user's id only (no
-- name, email or content), like the money records that must keep pointing at them.
create or replace function private.audit_account_deleted() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.record_audit('account.deleted', 'user', new.id,
    jsonb_build_object('self', auth.uid() is not distinct from new.id, 'deleted_at', new.deleted_at));
  return null;
end
$$;
comment on function private.audit_account_deleted() is 'Trigger on profiles: records an account deletion (the tombstone being set) in the audit log.';

create trigger audit_account_deleted after update on public.profiles
  for each row when (old.deleted_at is null and new.deleted_at is not null)
  execute function private.audit_account_deleted();

revoke execute on function private.audit_account_deleted() from public;
