-- Payments, step 11: money that comes back to a host after their payment was released goes to
-- available, not to a pending balance nobody will ever release.
--
-- A refund taken from pending can fail after the release job already ran for that payment (the
-- refund was still in flight at Stripe); a dispute fee or a late refund reinstatement can also
-- arrive after release. Two changes:
--   - fail_refund gives the host's part back to available when the payment has been released
--     since the refund started (and re-syncs the transfer);
--   - the release job also sweeps any pending amount left on an already released payment into
--     available (booked as its own release, keyed by the pending entry it clears). It looks at
--     pending movements of the last 7 days, which the 10-minute job covers many times over.

create or replace function private.fail_refund(p_refund private.refunds, p_status text, p_reason text, p_event_id text) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_entries jsonb;
  v_back_to text;
begin
  select * into v_payment from private.payments where id = p_refund.payment_id;
  v_back_to := case when p_refund.bucket = 'host_pending' and v_payment.released_at is not null then 'host_available' else p_refund.bucket end;
  v_entries := private.ledger_negate(private.postings_refund_requested(
    v_payment.host_id, p_refund.currency, p_refund.host_part_cents, p_refund.fee_part_cents, v_back_to));
  if private.ledger_posted('refund:' || p_refund.id::text || ':settled') then
    v_entries := v_entries || private.ledger_negate(private.postings_refund_settled(p_refund.currency, p_refund.amount_cents));
  end if;
  perform private.post_ledger_transaction('refund:' || p_refund.id::text || ':failed', 'refund_failed', v_entries,
    p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id,
    p_stripe_object_id => p_refund.stripe_refund_id, p_stripe_event_id => p_event_id);
  update private.refunds set status = p_status, failure_reason = p_reason, updated_at = now() where id = p_refund.id;
  if p_refund.refund_request_id is not null then
    update private.refund_requests set status = 'failed', processed_at = now() where id = p_refund.refund_request_id;
  end if;
  if v_back_to = 'host_available' then
    perform private.sync_host_transfers(v_payment.host_id, v_payment.currency, v_payment.id);
  end if;
  perform private.notify_admins('refund_failed', 'A refund failed',
    format('Refund of %s %s for booking %s: %s.', p_refund.amount_cents, p_refund.currency, p_refund.booking_id, coalesce(p_reason, p_status)),
    jsonb_build_object('refund_id', p_refund.id, 'booking_id', p_refund.booking_id));
end
$$;
comment on function private.fail_refund(private.refunds, text, text, text) is
  'Reverses a refund''s ledger booking (and its settlement, if any) — to available when the payment was released meanwhile — and tells operators.';

create or replace function private.release_host_earnings(p_limit integer default 200) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_hold integer := (select s.release_hold_hours from private.payment_settings s);
  v_payment private.payments;
  v_pending bigint;
  v_last_entry bigint;
  v_count integer := 0;
begin
  for v_payment in
    select p.* from private.payments p join private.events e on e.id = p.event_id
     where p.status = 'succeeded' and p.released_at is null and e.status <> 'cancelled'
       and e.ends_at + make_interval(hours => v_hold) <= now()
       and not exists (select 1 from private.disputes d where d.payment_id = p.id and d.is_open)
     order by e.ends_at, p.id
     limit p_limit
     for update of p skip locked
  loop
    v_pending := -private.payment_ledger_sum(v_payment.id, 'host_pending');
    perform private.post_ledger_transaction('release:' || v_payment.id::text, 'release',
      private.postings_release(v_payment.host_id, v_payment.currency, v_pending),
      p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id);
    update private.payments set released_at = now(), updated_at = now() where id = v_payment.id;
    perform private.sync_host_transfers(v_payment.host_id, v_payment.currency, v_payment.id);
    v_count := v_count + 1;
  end loop;

  -- Sweep: pending left on payments released earlier (a refund that failed late, a late dispute fee).
  for v_payment in
    select p.* from private.payments p
     where p.id in (select t.payment_id from private.ledger_transactions t
                      join private.ledger_entries e on e.transaction_id = t.id
                      join private.ledger_accounts a on a.id = e.account_id
                     where t.created_at > now() - interval '7 days' and a.kind = 'host_pending' and t.payment_id is not null)
       and p.released_at is not null
       and private.payment_ledger_sum(p.id, 'host_pending') <> 0
       and not exists (select 1 from private.disputes d where d.payment_id = p.id and d.is_open)
     order by p.id
     limit p_limit
     for update of p skip locked
  loop
    v_pending := -private.payment_ledger_sum(v_payment.id, 'host_pending');
    select max(e.id) into v_last_entry
      from private.ledger_transactions t
      join private.ledger_entries e on e.transaction_id = t.id
      join private.ledger_accounts a on a.id = e.account_id
     where t.payment_id = v_payment.id and a.kind = 'host_pending';
    perform private.post_ledger_transaction('release:' || v_payment.id::text || ':after:' || v_last_entry::text, 'release',
      private.postings_release(v_payment.host_id, v_payment.currency, v_pending),
      p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id);
    perform private.sync_host_transfers(v_payment.host_id, v_payment.currency, v_payment.id);
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;
comment on function private.release_host_earnings(integer) is
  'Job (every 10 minutes): moves the pending share of paid bookings to available once the event ended release_hold_hours ago (disputed payments and cancelled events wait), queues the transfer to the host, and sweeps pending amounts that came back after a payment''s release.';

-- The sweep looks only at recent pending movements.
create index ledger_transactions_created_idx on private.ledger_transactions (created_at);
