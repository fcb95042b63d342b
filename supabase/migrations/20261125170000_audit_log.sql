-- Operations, step 1: the audit log of sensitive actions.
--
-- One append-only table, private.audit_log, records who did what to which subject and when:
-- admin actions (written by the admin RPCs in the same transaction as the action), payouts
-- requested and settled, refunds started and settled, and role changes (admin rights in
-- app_metadata, becoming a host, host status, co-hosts added, changed or removed).
--
-- Why it is built this way:
-- - The actor is never an argument: private.record_audit takes it from the request itself —
--   auth.uid() and the JWT (admin when app_metadata.role = 'admin', else the token's user_role
--   or role) — and the database user of the session, so a job, a webhook, Studio and a user
--   request are told apart. Rows keep the actor's id without a foreign key, so deleting an
--   account never deletes (or is blocked by) its history.
-- - Role changes and money movements are recorded by triggers on the tables that hold them
--   (auth.users, profiles, event_cohosts, payouts, refunds), so every path that changes them —
--   RPC, webhook, worker, Studio, GoTrue's admin API — is covered, not only the ones written today.
-- - Nobody can rewrite history through the normal paths: no API role has any privilege on the
--   table, the owner (postgres, which Studio and migrations use) has given up UPDATE, DELETE and
--   TRUNCATE on it, and triggers refuse UPDATE, DELETE and TRUNCATE for everyone else (the
--   superuser included). Only the superuser could remove those guards, as for the ledger.
-- - private.record_audit(action, subject_type, subject_id, details) is the one writer, also for
--   other capabilities (account deletion records itself with it).

create table private.audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_id uuid,
  actor_role text not null,
  db_user text not null default session_user,
  action text not null,
  subject_type text not null,
  subject_id uuid,
  details jsonb not null default '{}'::jsonb,
  constraint audit_log_action check (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' and char_length(action) <= 100),
  constraint audit_log_subject_type check (subject_type ~ '^[a-z][a-z0-9_]{0,49}$'),
  constraint audit_log_actor_role check (char_length(actor_role) between 1 and 50),
  constraint audit_log_details check (jsonb_typeof(details) = 'object')
);
comment on table private.audit_log is
  'Append-only log of sensitive actions: admin actions, payouts, refunds, role changes. Written only through private.record_audit and the audit triggers; read it in admin.audit_log.';
comment on column private.audit_log.actor_id is 'auth.uid() of the request that did it; null for jobs, webhooks and Studio.';
comment on column private.audit_log.actor_role is 'admin (JWT app_metadata.role), host / guest (JWT user_role), service_role, anon, or database for sessions without a JWT (jobs, Studio).';
comment on column private.audit_log.db_user is 'The database session user (authenticator for API requests, postgres for Studio and jobs).';
comment on column private.audit_log.action is 'What happened, dotted: admin.refund_booking, payout.requested, refund.started, user.admin_granted, event.cohost_added, …';
comment on column private.audit_log.subject_type is 'The kind of thing acted on: user, booking, payout, refund, event, report, payment_command, alert_delivery, …';
create index audit_log_subject_idx on private.audit_log (subject_id, id desc) where subject_id is not null;
create index audit_log_actor_idx on private.audit_log (actor_id, id desc) where actor_id is not null;
create index audit_log_action_idx on private.audit_log (action, id desc);

create or replace function private.audit_log_refuse_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform private.raise_error('P0001', 'audit_log_append_only',
    format('The audit log is append-only (%s refused).', tg_op));
  return null;
end
$$;
comment on function private.audit_log_refuse_change() is 'Trigger: refuses UPDATE, DELETE and TRUNCATE on the audit log.';

create trigger audit_log_append_only before update or delete on private.audit_log
  for each row execute function private.audit_log_refuse_change();
create trigger audit_log_no_truncate before truncate on private.audit_log
  for each statement execute function private.audit_log_refuse_change();

revoke all on private.audit_log from public, anon, authenticated, service_role;
-- The owner keeps INSERT (private.record_audit runs as the owner) and SELECT (Studio).
revoke update, delete, truncate on private.audit_log from postgres;

-- The role of the request's actor, from its JWT; 'database' for sessions without one.
create or replace function private.audit_actor_role() returns text
language sql
stable
set search_path = ''
as $$
  select case
           when private.is_admin() then 'admin'
           when auth.role() = 'authenticated' then coalesce(nullif(auth.jwt() ->> 'user_role', ''), 'authenticated')
           else coalesce(nullif(auth.role(), ''), 'database')
         end
$$;
comment on function private.audit_actor_role() is 'admin | host | guest | authenticated | service_role | anon | database: who the current request acts as.';

create or replace function private.record_audit(p_action text, p_subject_type text, p_subject_id uuid, p_details jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id bigint;
begin
  if p_action is null or char_length(p_action) > 100 or p_action !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' then
    perform private.raise_error('22023', 'invalid_audit_action', 'An audit action is dotted lower snake case, e.g. admin.refund_booking.');
  end if;
  if p_subject_type is null or p_subject_type !~ '^[a-z][a-z0-9_]{0,49}$' then
    perform private.raise_error('22023', 'invalid_audit_subject', 'An audit subject type is lower snake case, e.g. booking.');
  end if;
  if p_details is not null and jsonb_typeof(p_details) <> 'object' then
    perform private.raise_error('22023', 'invalid_audit_details', 'Audit details are a JSON object.');
  end if;
  insert into private.audit_log (actor_id, actor_role, action, subject_type, subject_id, details)
  values (auth.uid(), private.audit_actor_role(), p_action, p_subject_type, p_subject_id, coalesce(p_details, '{}'::jsonb))
  returning id into v_id;
  return v_id;
end
$$;
comment on function private.record_audit(text, text, uuid, jsonb) is
  'Appends one audit row: p_action (dotted, e.g. admin.suspend_user), the subject (type and id) and details; the actor is taken from the request (auth.uid(), JWT role, session user), never from an argument. Returns the row id. Errors: 22023 invalid_audit_action / invalid_audit_subject / invalid_audit_details.';

-- ---------------------------------------------------------------------------------------------
-- What is recorded by triggers
-- ---------------------------------------------------------------------------------------------

-- Admin rights (app_metadata.role), however they were changed: set_user_admin, GoTrue's admin
-- API, Studio.
create or replace function private.audit_app_role_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old text := case when tg_op = 'UPDATE' then old.raw_app_meta_data ->> 'role' end;
  v_new text := new.raw_app_meta_data ->> 'role';
begin
  perform private.record_audit(
    case when v_new = 'admin' then 'user.admin_granted' when v_old = 'admin' then 'user.admin_revoked' else 'user.app_role_changed' end,
    'user', new.id, jsonb_build_object('from', v_old, 'to', v_new));
  return null;
end
$$;
comment on function private.audit_app_role_change() is 'Trigger on auth.users: records changes of app_metadata.role (admin rights).';

create trigger audit_app_role_insert after insert on auth.users
  for each row when (new.raw_app_meta_data ->> 'role' is not null)
  execute function private.audit_app_role_change();
create trigger audit_app_role_update after update on auth.users
  for each row when (old.raw_app_meta_data ->> 'role' is distinct from new.raw_app_meta_data ->> 'role')
  execute function private.audit_app_role_change();

-- Becoming a host and host status changes (suspension).
create or replace function private.audit_host_status_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.record_audit(
    case when old.host_status = 'none' and new.host_status = 'active' then 'user.became_host' else 'user.host_status_changed' end,
    'user', new.id, jsonb_build_object('from', old.host_status, 'to', new.host_status));
  return null;
end
$$;
comment on function private.audit_host_status_change() is 'Trigger on profiles: records becoming a host and every host status change.';

create trigger audit_host_status after update on public.profiles
  for each row when (old.host_status is distinct from new.host_status)
  execute function private.audit_host_status_change();

-- Co-hosts added, re-roled or removed.
create or replace function private.audit_cohost_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.record_audit('event.cohost_added', 'event', new.event_id, jsonb_build_object('user_id', new.user_id, 'role', new.role));
  elsif tg_op = 'UPDATE' then
    perform private.record_audit('event.cohost_role_changed', 'event', new.event_id,
      jsonb_build_object('user_id', new.user_id, 'from', old.role, 'to', new.role));
  else
    perform private.record_audit('event.cohost_removed', 'event', old.event_id, jsonb_build_object('user_id', old.user_id, 'role', old.role));
  end if;
  return null;
end
$$;
comment on function private.audit_cohost_change() is 'Trigger on event_cohosts: records co-hosts added, re-roled and removed.';

create trigger audit_cohost_insert_delete after insert or delete on public.event_cohosts
  for each row execute function private.audit_cohost_change();
create trigger audit_cohost_role after update on public.event_cohosts
  for each row when (old.role is distinct from new.role)
  execute function private.audit_cohost_change();

-- Payouts: requested (by the host), then paid, failed or canceled (webhooks, worker).
create or replace function private.audit_payout_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.record_audit('payout.' || case when tg_op = 'INSERT' then 'requested' else new.status end, 'payout', new.id,
    jsonb_strip_nulls(jsonb_build_object('host_id', new.host_id, 'amount_cents', new.amount_cents, 'currency', new.currency,
                                         'from', case when tg_op = 'UPDATE' then old.status end,
                                         'stripe_payout_id', new.stripe_payout_id, 'failure_code', new.failure_code)));
  return null;
end
$$;
comment on function private.audit_payout_change() is 'Trigger on payouts: records payouts requested and their status changes.';

create trigger audit_payout_insert after insert on private.payouts
  for each row execute function private.audit_payout_change();
create trigger audit_payout_status after update on private.payouts
  for each row when (old.status is distinct from new.status)
  execute function private.audit_payout_change();

-- Refunds: started (guest or host cancellation, admin, Stripe Dashboard), then settled or failed.
create or replace function private.audit_refund_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.record_audit('refund.' || case when tg_op = 'INSERT' then 'started' else new.status end, 'refund', new.id,
    jsonb_strip_nulls(jsonb_build_object('booking_id', new.booking_id, 'payment_id', new.payment_id, 'amount_cents', new.amount_cents,
                                         'currency', new.currency, 'reason', new.reason, 'host_part_cents', new.host_part_cents,
                                         'from', case when tg_op = 'UPDATE' then old.status end,
                                         'failure_reason', new.failure_reason)));
  return null;
end
$$;
comment on function private.audit_refund_change() is 'Trigger on refunds: records refunds started and their status changes.';

create trigger audit_refund_insert after insert on private.refunds
  for each row execute function private.audit_refund_change();
create trigger audit_refund_status after update on private.refunds
  for each row when (old.status is distinct from new.status)
  execute function private.audit_refund_change();

-- ---------------------------------------------------------------------------------------------
-- Studio
-- ---------------------------------------------------------------------------------------------

create view admin.audit_log with (security_invoker = true) as
select a.id, a.at, a.action, a.actor_id, p.username as actor_username, a.actor_role, a.db_user,
       a.subject_type, a.subject_id, a.details
  from private.audit_log a
  left join public.profiles p on p.id = a.actor_id
 order by a.id desc;
comment on view admin.audit_log is
  'Sensitive actions, newest first: admin actions, payouts, refunds, role changes — who (actor id, username, role from the JWT, database user), what, on which subject, with details. Append-only.';

revoke all on admin.audit_log from public, anon, authenticated, service_role;
revoke execute on function private.audit_log_refuse_change(), private.audit_actor_role(),
  private.record_audit(text, text, uuid, jsonb), private.audit_app_role_change(), private.audit_host_status_change(),
  private.audit_cohost_change(), private.audit_payout_change(), private.audit_refund_change() from public;
-- Edge functions and workers acting as the service role may record what they do.
grant execute on function private.record_audit(text, text, uuid, jsonb) to service_role;
