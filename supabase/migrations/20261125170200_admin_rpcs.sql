-- Operations, step 3: admin RPCs for an admin app (supabase-js), guarded by the admin claim.
--
-- Studio operators call the admin.* functions directly as postgres. An admin app cannot: the
-- admin schema is not exposed, and the app signs in as a user. These public RPCs give it the
-- same powers — refund a booking, resolve a report, retry a dead letter (suspension follows in
-- the next migration) — with the house pattern: a security-invoker public wrapper that requires a
-- signed-in caller, then a security-definer private function that
--   1. requires an admin (private.is_admin: the JWT's app_metadata.role = 'admin' AND the
--      user's current app_metadata in auth.users, so revoking admin rights takes effect at once
--      rather than when the admin's last token expires); anyone else gets 42501 `admin_only`
--      before any argument is looked at;
--   2. requires a reason (1–1,000 characters, 22023 `invalid_reason`) — operators explain
--      every intervention;
--   3. calls the existing machinery (admin.refund_booking, admin.resolve_content_report,
--      admin.retry_payment_command, admin.retry_alert_delivery), so the app and Studio behave the same;
--   4. writes the audit log (private.record_audit) in the same transaction: the action and its
--      record commit together or not at all.

create or replace function private.require_admin() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  if private.is_admin() is not true then
    perform private.raise_error('42501', 'admin_only', 'Only Rally admins can do this.');
  end if;
  return v_uid;
end
$$;
comment on function private.require_admin() is
  'The signed-in admin''s id: the JWT carries app_metadata.role = admin and auth.users still does. Errors: 42501 not_authenticated / admin_only.';

-- An operator's reason, trimmed; 22023 invalid_reason when missing or longer than 1,000 characters.
create or replace function private.admin_reason(p_reason text) returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_reason text := btrim(p_reason);
begin
  if v_reason is null or char_length(v_reason) = 0 or char_length(v_reason) > 1000 then
    perform private.raise_error('22023', 'invalid_reason', 'Give a reason of 1 to 1,000 characters; it goes into the audit log.');
  end if;
  return v_reason;
end
$$;
comment on function private.admin_reason(text) is 'Validates and trims an admin action''s reason (22023 invalid_reason).';

-- ---------------------------------------------------------------------------------------------
-- Refund a booking
-- ---------------------------------------------------------------------------------------------

create or replace function private.admin_refund_booking(p_booking_id uuid, p_reason text, p_amount_cents bigint)
returns table (refund_id uuid, booking_id uuid, amount_cents bigint, currency text, status text)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_reason text;
  v_payment private.payments;
  v_refundable bigint;
  v_refund_id uuid;
  v_refund private.refunds;
begin
  perform private.require_admin();
  v_reason := private.admin_reason(p_reason);
  if p_amount_cents is not null and p_amount_cents <= 0 then
    perform private.raise_error('22023', 'invalid_amount', 'Refund a positive amount in minor units, or leave it empty for everything left.');
  end if;
  select * into v_payment from private.payments p where p.booking_id = p_booking_id for update;
  if v_payment.id is null then
    perform private.raise_error('22023', 'booking_not_found', 'No paid booking has this id.');
  end if;
  if v_payment.status <> 'succeeded' then
    perform private.raise_error('P0001', 'payment_not_refundable', 'This booking''s payment has not completed, so there is nothing to refund.');
  end if;
  v_refundable := private.payment_refundable(v_payment.id);
  if v_refundable <= 0 then
    perform private.raise_error('P0001', 'nothing_to_refund', 'Everything paid for this booking was already refunded or disputed.');
  end if;
  if coalesce(p_amount_cents, v_refundable) > v_refundable then
    perform private.raise_error('P0001', 'refund_exceeds_payment',
      format('At most %s %s of this payment can still be refunded.', v_refundable, v_payment.currency));
  end if;
  v_refund_id := admin.refund_booking(p_booking_id, coalesce(p_amount_cents, v_refundable));
  select * into v_refund from private.refunds r where r.id = v_refund_id;
  perform private.record_audit('admin.refund_booking', 'booking', p_booking_id,
    jsonb_build_object('reason', v_reason, 'refund_id', v_refund.id, 'amount_cents', v_refund.amount_cents,
                       'currency', v_refund.currency, 'payment_id', v_payment.id));
  return query select v_refund.id, v_refund.booking_id, v_refund.amount_cents, v_refund.currency, v_refund.status;
end
$$;
comment on function private.admin_refund_booking(uuid, text, bigint) is
  'Admins: refunds (part of) a paid booking through the normal refund path and records it in the audit log.';

create or replace function public.admin_refund_booking(p_booking_id uuid, p_reason text, p_amount_cents bigint default null)
returns table (refund_id uuid, booking_id uuid, amount_cents bigint, currency text, status text)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.admin_refund_booking(p_booking_id, p_reason, p_amount_cents);
end
$$;
comment on function public.admin_refund_booking(uuid, text, bigint) is
  'Admins only: refunds p_amount_cents (minor units; null = everything still refundable) of a paid booking to the guest, through Stripe, with the host''s share taken back pro rata. The booking itself stays as it is (cancel it separately if needed). Returns the refund (status requested until Stripe settles it). Recorded in the audit log with p_reason. Errors: 42501 not_authenticated / admin_only; 22023 invalid_reason / invalid_amount / booking_not_found; P0001 payment_not_refundable / payment_not_settled (paid in another currency than the settlement currency, and Stripe''s balance transaction not read yet: try again in a few minutes) / nothing_to_refund / refund_exceeds_payment.';

-- ---------------------------------------------------------------------------------------------
-- Resolve a report
-- ---------------------------------------------------------------------------------------------

create or replace function private.admin_resolve_report(p_report_id uuid, p_status text, p_reason text) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_admin uuid;
  v_reason text;
  v_report private.content_reports;
  v_closed integer;
begin
  v_admin := private.require_admin();
  v_reason := private.admin_reason(p_reason);
  if p_status is null or p_status not in ('actioned', 'dismissed') then
    perform private.raise_error('22023', 'invalid_status', 'Resolve a report as actioned or dismissed.');
  end if;
  select * into v_report from private.content_reports r where r.id = p_report_id for update;
  if v_report.id is null then
    perform private.raise_error('22023', 'report_not_found', 'No report has this id.');
  end if;
  if v_report.status <> 'open' then
    perform private.raise_error('P0001', 'report_already_resolved', format('This report was already %s.', v_report.status));
  end if;
  v_closed := admin.resolve_content_report(p_report_id, p_status, v_reason);
  -- Name the admin rather than the database role the operators' function saw.
  update private.content_reports r set resolved_by = v_admin::text
   where r.kind = v_report.kind and r.target_id = v_report.target_id and r.resolved_at = now() and r.resolved_by = current_user;
  perform private.record_audit('admin.resolve_report', 'report', p_report_id,
    jsonb_build_object('reason', v_reason, 'status', p_status, 'reports_closed', v_closed, 'kind', v_report.kind,
                       'target_id', v_report.target_id, 'target_owner_id', v_report.target_owner_id));
  return v_closed;
end
$$;
comment on function private.admin_resolve_report(uuid, text, text) is
  'Admins: resolves a report (and every other open report on the same content) and records it in the audit log.';

create or replace function public.admin_resolve_report(p_report_id uuid, p_status text, p_reason text) returns integer
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.admin_resolve_report(p_report_id, p_status, p_reason);
end
$$;
comment on function public.admin_resolve_report(uuid, text, text) is
  'Admins only: marks a content report actioned or dismissed, together with every other open report on the same content; returns how many reports were closed. p_reason is kept as the resolution note and in the audit log. Acting on the content (suspending the user, deleting the message) is a separate call. Errors: 42501 not_authenticated / admin_only; 22023 invalid_reason / invalid_status / report_not_found; P0001 report_already_resolved.';

-- ---------------------------------------------------------------------------------------------
-- Retry a dead letter
-- ---------------------------------------------------------------------------------------------

create or replace function private.admin_retry_dead_letter(p_kind text, p_id uuid, p_reason text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_reason text;
  v_status text;
  v_delivery private.alert_deliveries;
  v_details jsonb;
begin
  perform private.require_admin();
  v_reason := private.admin_reason(p_reason);
  if p_kind is null or p_kind not in ('payment_command', 'alert_delivery') then
    perform private.raise_error('22023', 'invalid_dead_letter_kind', 'A dead letter is a payment_command or an alert_delivery.');
  end if;
  if p_kind = 'payment_command' then
    v_status := admin.retry_payment_command(p_id);
    select jsonb_build_object('command_kind', c.kind, 'payment_id', c.payment_id, 'host_id', c.host_id)
      into v_details from private.payment_commands c where c.id = p_id;
  else
    v_delivery := admin.retry_alert_delivery(p_id);
    v_status := v_delivery.status;
    select jsonb_build_object('channel', d.channel, 'type', d.type, 'user_id', d.user_id)
      into v_details from private.alert_deliveries d where d.id = p_id;
  end if;
  perform private.record_audit('admin.retry_dead_letter', p_kind, p_id, coalesce(v_details, '{}'::jsonb) || jsonb_build_object('reason', v_reason));
  return v_status;
end
$$;
comment on function private.admin_retry_dead_letter(text, uuid, text) is
  'Admins: queues a dead payment command or a dead / failed alert delivery again and records it in the audit log.';

create or replace function public.admin_retry_dead_letter(p_kind text, p_id uuid, p_reason text) returns text
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.admin_retry_dead_letter(p_kind, p_id, p_reason);
end
$$;
comment on function public.admin_retry_dead_letter(text, uuid, text) is
  'Admins only: queues a dead letter again with fresh attempts and returns its new status (pending). p_kind: payment_command (a dead Stripe transfer, reversal, balance transaction look-up or PaymentIntent cancellation, retried with the idempotency key it holds — a fresh one when it died of a refusal Stripe saved under the old one; dead refunds and payouts were already put back and cannot be retried) or alert_delivery (a dead or failed email / SMS / WhatsApp alert). Recorded in the audit log with p_reason. Errors: 42501 not_authenticated / admin_only; 22023 invalid_reason / invalid_dead_letter_kind / command_not_found / delivery_not_found; P0001 command_not_dead / command_compensated.';

revoke execute on function private.require_admin(), private.admin_reason(text),
  private.admin_refund_booking(uuid, text, bigint), private.admin_resolve_report(uuid, text, text),
  private.admin_retry_dead_letter(text, uuid, text) from public;
grant execute on function private.require_admin(), private.admin_reason(text),
  private.admin_refund_booking(uuid, text, bigint), private.admin_resolve_report(uuid, text, text),
  private.admin_retry_dead_letter(text, uuid, text) to authenticated;
revoke execute on function public.admin_refund_booking(uuid, text, bigint), public.admin_resolve_report(uuid, text, text),
  public.admin_retry_dead_letter(text, uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.admin_refund_booking(uuid, text, bigint), public.admin_resolve_report(uuid, text, text),
  public.admin_retry_dead_letter(text, uuid, text) to anon, authenticated;
