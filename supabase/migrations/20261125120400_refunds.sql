-- Payments, step 5: refunds.
--
-- The events capability decides who gets how much back (refund_quote, cancel_booking,
-- cancel_event) and writes a private.refund_requests row (admins add goodwill ones). A trigger here
-- turns each request into a refund in the same transaction:
--   - the ledger takes the refunded amount back at once — the host's part (pro rata to their
--     share) from pending, or from available once the payment was released, and the platform's
--     fee part from platform fees — into the `refunds` clearing account;
--   - a create_refund command asks Stripe to refund the PaymentIntent, with the refund request
--     id as the idempotency key;
--   - after release the host's share is also reversed from their connected account
--     (sync_host_transfers), as far as they still hold it; any rest stays a negative available
--     balance, recovered from later earnings.
-- Stripe's answer (worker result or refund.* webhooks) settles it: succeeded → the money leaves
-- platform cash, the booking becomes `refunded`, the guest is told; failed / canceled (or the
-- command dead-lettered) → the ledger movement is reversed and operators are told. A refund
-- made in the Stripe Dashboard is booked the same way when its webhook arrives; one that Stripe
-- reports failed before Rally heard of it is recorded failed and moves nothing.
-- Admins refund with admin.refund_booking(booking, amount) (Studio).
--
-- Currencies: Stripe refunds amount_cents of the payment's currency (what the guest paid in);
-- the ledger moves the settlement currency, at the payment's own rate (pro rata of its settlement
-- amount). Stripe converts a refund at the rate of the day, so for a payment in another currency
-- the refund's balance transaction is read once the refund settled (or failed after settling) and
-- the difference is booked to fx_difference. A refund request for a payment not yet booked (its
-- balance transaction not read) waits and starts when the payment is booked.

create table private.refunds (
  id uuid primary key default gen_random_uuid(),
  refund_request_id uuid references private.refund_requests (id),
  payment_id uuid not null references private.payments (id),
  booking_id uuid not null references public.bookings (id),
  amount_cents bigint not null,
  currency text not null references public.currencies (code),
  settlement_currency text not null references public.currencies (code),
  settlement_amount_cents bigint not null,
  host_part_cents bigint not null,
  fee_part_cents bigint not null,
  bucket text not null,
  reason text not null,
  status text not null default 'requested',
  stripe_status text,
  stripe_refund_id text,
  failure_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  settled_at timestamptz,
  constraint refunds_amount check (amount_cents > 0 and settlement_amount_cents >= 0 and host_part_cents >= 0 and fee_part_cents >= 0
                                   and host_part_cents + fee_part_cents = settlement_amount_cents),
  constraint refunds_bucket check (bucket in ('host_pending', 'host_available')),
  constraint refunds_status check (status in ('requested', 'pending', 'succeeded', 'failed', 'canceled')),
  constraint refunds_stripe_id check (stripe_refund_id is null or stripe_refund_id ~ '^re_[A-Za-z0-9]+$')
);
comment on table private.refunds is
  'Refunds Rally asked Stripe for (from refund requests or admins) or Stripe reported (Dashboard refunds), with the split booked in the ledger. The id is the Stripe idempotency key; for a refund request it is the request id.';
comment on column private.refunds.amount_cents is 'What Stripe refunds the guest, in currency (the payment''s currency).';
comment on column private.refunds.settlement_amount_cents is
  'The refund at the payment''s own rate, in settlement_currency: what the ledger takes from the host (host_part_cents) and the platform fees (fee_part_cents). Stripe''s conversion at the rate of the day may differ: the difference goes to fx_difference.';
comment on column private.refunds.stripe_status is 'The refund status Stripe last sent, raw (may be one Rally does not know: reconciliation lists it).';
create unique index refunds_request_key on private.refunds (refund_request_id);
create unique index refunds_stripe_id_key on private.refunds (stripe_refund_id);
create index refunds_payment_idx on private.refunds (payment_id);
create index refunds_booking_idx on private.refunds (booking_id);
create index refunds_currency_idx on private.refunds (currency);
create index refunds_settlement_currency_idx on private.refunds (settlement_currency);

alter table private.payment_commands
  add constraint payment_commands_refund_fk foreign key (refund_id) references private.refunds (id);

-- What of a payment can still be refunded: paid − refunds not failed − open or lost disputes.
-- (plpgsql: private.disputes is created by the next migration.)
create or replace function private.payment_refundable(p_payment_id uuid) returns bigint
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select p.amount_cents
                 - coalesce((select sum(r.amount_cents) from private.refunds r
                              where r.payment_id = p.id and r.status not in ('failed', 'canceled')), 0)
                 - coalesce((select sum(d.amount_cents) from private.disputes d
                              where d.payment_id = p.id and (d.is_open or d.status = 'lost')), 0)
            from private.payments p where p.id = p_payment_id);
end
$$;
comment on function private.payment_refundable(uuid) is 'Amount of a payment that can still be refunded.';

-- The split of a refund of p_amount (in the payment's currency) of a booked payment: its amount in
-- the settlement currency at the payment's own rate, the host's part (pro rata to their share,
-- floored) and the platform fee part, and the balance it comes from.
create or replace function private.refund_split(p_payment private.payments, p_amount bigint,
  out settlement_amount bigint, out host_part bigint, out fee_part bigint, out bucket text)
language sql
immutable
set search_path = ''
as $$
  select x.settlement_amount, x.host_part, x.settlement_amount - x.host_part,
         case when p_payment.released_at is null then 'host_pending' else 'host_available' end
    from (select s.settlement_amount,
                 private.pro_rata(s.settlement_amount, p_payment.host_share_cents, p_payment.settlement_amount_cents) as host_part
            from (select private.pro_rata(p_payment.settlement_amount_cents, p_amount, p_payment.amount_cents) as settlement_amount) as s) as x
$$;
comment on function private.refund_split(private.payments, bigint) is
  'A refund of p_amount (payment currency) in the settlement currency at the payment''s rate, split into the host''s part (pro rata, floored) and the fee part, with the wallet balance it comes from (pending before release, available after).';

-- Starts a refund of p_amount of a succeeded, booked payment: books the split into `refunds`,
-- queues the Stripe call (idempotency key = p_id) and, after release, the reversal of the host's share.
create or replace function private.start_refund(p_payment_id uuid, p_amount bigint, p_reason text, p_request_id uuid, p_id uuid)
returns private.refunds
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_refund private.refunds;
  v_split record;
begin
  select * into v_payment from private.payments where id = p_payment_id for update;
  -- Booked too (its settlement amount known): callers make refunds of payments not booked yet wait.
  if v_payment.id is null or v_payment.status <> 'succeeded' or v_payment.settlement_amount_cents is null then
    perform private.raise_error('P0001', 'payment_not_refundable', 'There is no completed payment to refund.');
  end if;
  if p_amount is null or p_amount <= 0 or p_amount > private.payment_refundable(p_payment_id) then
    perform private.raise_error('P0001', 'refund_exceeds_payment', 'The refund is more than what is left of the payment.');
  end if;
  select * into v_split from private.refund_split(v_payment, p_amount);
  insert into private.refunds (id, refund_request_id, payment_id, booking_id, amount_cents, currency, settlement_currency,
                               settlement_amount_cents, host_part_cents, fee_part_cents, bucket, reason)
  values (coalesce(p_id, gen_random_uuid()), p_request_id, v_payment.id, v_payment.booking_id, p_amount, v_payment.currency,
          v_payment.settlement_currency, v_split.settlement_amount, v_split.host_part, v_split.fee_part, v_split.bucket, p_reason)
  returning * into v_refund;
  perform private.post_ledger_transaction('refund:' || v_refund.id::text || ':requested', 'refund_requested',
    private.postings_refund_requested(v_payment.host_id, v_refund.settlement_currency, v_refund.host_part_cents,
                                      v_refund.fee_part_cents, v_refund.bucket),
    p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id);
  perform private.enqueue_payment_command('create_refund',
    jsonb_build_object('payment_intent', v_payment.payment_intent_id, 'amount', p_amount, 'reason', 'requested_by_customer',
                       'metadata', jsonb_strip_nulls(jsonb_build_object('refund_id', v_refund.id::text,
                                                      'booking_id', v_payment.booking_id::text, 'refund_request_id', p_request_id::text))),
    v_payment.id, v_payment.host_id, p_refund_id => v_refund.id, p_id => v_refund.id);
  if v_refund.bucket = 'host_available' then
    perform private.sync_host_transfers(v_payment.host_id, v_refund.settlement_currency, v_payment.id);
  end if;
  return v_refund;
end
$$;
comment on function private.start_refund(uuid, bigint, text, uuid, uuid) is
  'Starts a refund: books the host''s pro-rata part (pending before release, available after) and the fee part into refunds, in the settlement currency at the payment''s rate, queues the Stripe refund (idempotency key = the refund id) and, after release, the transfer reversal. Errors: P0001 payment_not_refundable / refund_exceeds_payment.';

-- Turns a pending refund request into a refund, once its booking's payment is booked. Returns
-- the request's status afterwards (pending while the payment is not booked yet).
create or replace function private.start_refund_request(p_request private.refund_requests) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_amount bigint;
begin
  -- Locked: a request either sees its payment booked or is started by the booking (book_payment).
  select * into v_payment from private.payments where booking_id = p_request.booking_id for update;
  if v_payment.id is null or v_payment.status <> 'succeeded' then
    -- Nothing Rally collected to give back (e.g. a booking confirmed by hand): the request stays
    -- pending for an operator; reconciliation lists it.
    perform private.notify_admins('refund_request_unpaid', 'A refund was requested for a booking Rally has no payment for',
      null, jsonb_build_object('refund_request_id', p_request.id, 'booking_id', p_request.booking_id));
    return 'pending';
  end if;
  if v_payment.settlement_amount_cents is null then
    return 'pending'; -- started when Stripe's balance transaction books the payment (private.book_payment)
  end if;
  v_amount := least(p_request.amount_cents, private.payment_refundable(v_payment.id));
  if v_amount <= 0 then
    update private.refund_requests set status = 'cancelled', processed_at = now() where id = p_request.id;
    return 'cancelled';
  end if;
  perform private.start_refund(v_payment.id, v_amount, p_request.reason, p_request.id, p_request.id);
  update private.refund_requests set status = 'processing' where id = p_request.id;
  return 'processing';
end
$$;
comment on function private.start_refund_request(private.refund_requests) is
  'Turns a refund request into a refund (ledger, Stripe command, reversal after release); it waits, pending, while its payment is not booked yet.';

-- Trigger: every refund request becomes a refund (or waits for its payment).
create or replace function private.on_refund_requested() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.start_refund_request(new);
  return null;
end
$$;
comment on function private.on_refund_requested() is 'Trigger: turns each refund request into a refund (ledger, Stripe command, reversal after release).';

create trigger refund_requests_start after insert on private.refund_requests
  for each row execute function private.on_refund_requested();

-- A payment was just booked: the refund requests that waited for it start.
create or replace function private.start_waiting_refund_requests(p_payment_id uuid) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_request private.refund_requests;
  v_count integer := 0;
begin
  for v_request in
    select q.* from private.refund_requests q join private.payments p on p.booking_id = q.booking_id
     where p.id = p_payment_id and q.status = 'pending'
       and not exists (select 1 from private.refunds r where r.refund_request_id = q.id)
     order by q.created_at, q.id
     for update of q
  loop
    perform private.start_refund_request(v_request);
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;
comment on function private.start_waiting_refund_requests(uuid) is 'Starts the refund requests that waited for their payment to be booked. Returns how many.';

-- Undoes a refund's booking when it failed (or we gave up on it): the host's part and the fee
-- part go back, and, if Stripe had said succeeded, the money comes back to platform cash. A
-- refund taken from pending can fail after the release job already ran for that payment (the
-- refund was still in flight at Stripe): the host's part then goes to available, not to a
-- pending balance nobody will ever release (and the transfer is re-synced).
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
    v_payment.host_id, p_refund.settlement_currency, p_refund.host_part_cents, p_refund.fee_part_cents, v_back_to));
  if private.ledger_posted('refund:' || p_refund.id::text || ':settled') then
    v_entries := v_entries || private.ledger_negate(private.postings_refund_settled(p_refund.settlement_currency, p_refund.settlement_amount_cents));
  end if;
  perform private.post_ledger_transaction('refund:' || p_refund.id::text || ':failed', 'refund_failed', v_entries,
    p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id,
    p_stripe_object_id => p_refund.stripe_refund_id, p_stripe_event_id => p_event_id);
  update private.refunds set status = p_status, failure_reason = p_reason, updated_at = now() where id = p_refund.id;
  if p_refund.refund_request_id is not null then
    update private.refund_requests set status = 'failed', processed_at = now() where id = p_refund.refund_request_id;
  end if;
  if v_back_to = 'host_available' then
    perform private.sync_host_transfers(v_payment.host_id, p_refund.settlement_currency, v_payment.id);
  end if;
  -- The guest is waiting for this money: they hear that it is late and that people are on it.
  perform private.notify(v_payment.guest_id, 'refund_failed', 'Your refund is delayed',
    'We could not complete your refund yet. Our team is on it and will be in touch.',
    jsonb_build_object('booking_id', p_refund.booking_id, 'event_id', v_payment.event_id, 'refund_id', p_refund.id,
                       'amount_cents', p_refund.amount_cents, 'currency', p_refund.currency,
                       'dedupe_key', 'refund_failed:' || p_refund.id::text));
  perform private.notify_admins('refund_needs_attention', 'A refund failed',
    format('Refund of %s %s for booking %s: %s.', p_refund.amount_cents, p_refund.currency, p_refund.booking_id, coalesce(p_reason, p_status)),
    jsonb_build_object('refund_id', p_refund.id, 'booking_id', p_refund.booking_id));
end
$$;
comment on function private.fail_refund(private.refunds, text, text, text) is
  'Reverses a refund''s ledger booking (and its settlement, if any) — to available when the payment was released meanwhile — and tells the guest (refund_failed) and operators (refund_needs_attention).';

-- Queues the look-up of a balance transaction Stripe made for a refund of a payment in another
-- currency than the settlement currency (Stripe converted it at the rate of the day), once per
-- balance transaction.
create or replace function private.queue_refund_fx_lookup(p_refund private.refunds, p_balance_transaction text) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_refund.currency <> p_refund.settlement_currency then
    perform private.queue_balance_transaction_lookup(p_balance_transaction, p_refund.payment_id,
                                                     (select p.host_id from private.payments p where p.id = p_refund.payment_id));
  end if;
end
$$;
comment on function private.queue_refund_fx_lookup(private.refunds, text) is
  'Queues (once) the look-up of a converted refund''s balance transaction, whose amount settles the exchange difference.';

-- Books what Stripe's conversion of a refund (or of the money a failed refund brought back) gave or
-- took beyond the payment's own rate: the refund settled at settlement_amount_cents, Stripe's
-- balance transaction says how much really moved; the difference goes to fx_difference.
create or replace function private.apply_refund_balance_transaction(p_bt jsonb) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_refund private.refunds;
  v_expected bigint;
begin
  select * into v_refund from private.refunds where stripe_refund_id = p_bt ->> 'source';
  if v_refund.id is null then
    return 'unknown_refund';
  end if;
  if upper(p_bt ->> 'currency') <> v_refund.settlement_currency then
    return 'currency_mismatch'; -- the payment settled in another currency: reconciliation shows the cash difference
  end if;
  v_expected := case p_bt ->> 'type' when 'refund' then -v_refund.settlement_amount_cents
                                     when 'refund_failure' then v_refund.settlement_amount_cents end;
  if v_expected is null then
    return 'ignored';
  end if;
  perform private.post_ledger_transaction('fx:' || (p_bt ->> 'id'), 'fx_difference',
    private.postings_fx_difference(v_refund.settlement_currency, v_expected - (p_bt ->> 'amount')::bigint),
    p_payment_id => v_refund.payment_id, p_booking_id => v_refund.booking_id, p_stripe_object_id => p_bt ->> 'id');
  return 'applied';
end
$$;
comment on function private.apply_refund_balance_transaction(jsonb) is
  'Books the exchange difference of a converted refund (or refund failure) from its balance transaction: fx:<txn id>, Dr fx_difference / Cr platform_cash.';

-- Applies a Stripe Refund object (worker result, refund.created / .updated / .failed,
-- charge.refund.updated). Refunds Rally did not start (Dashboard) are booked as admin refunds;
-- one that Stripe reports failed or canceled before Rally heard of it is recorded, and moves
-- nothing, so that its older `succeeded` snapshot arriving later is known to be stale (Stripe's
-- only way back is succeeded → failed). A Dashboard refund of a payment not booked yet is
-- 'deferred' and applied again when it is. A status Rally does not know is stored raw.
create or replace function private.apply_refund(p_refund jsonb, p_event_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row private.refunds;
  v_payment private.payments;
  v_status text := p_refund ->> 'status';
  v_amount bigint := (p_refund ->> 'amount')::bigint;
  v_split record;
  v_id uuid;
begin
  if p_refund ->> 'object' is distinct from 'refund' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe refund object.');
  end if;
  select * into v_row from private.refunds where stripe_refund_id = p_refund ->> 'id' for update;
  if v_row.id is null and p_refund -> 'metadata' ->> 'refund_id' ~ '^[0-9a-f-]{36}$' then
    select * into v_row from private.refunds where id = (p_refund -> 'metadata' ->> 'refund_id')::uuid for update;
  end if;
  if v_row.id is null then
    -- Not started by Rally: a refund made in the Stripe Dashboard. (The payment is locked, so that
    -- deferring it and booking the payment, which replays what was deferred, are serialized.)
    select * into v_payment from private.payments
     where payment_intent_id = p_refund ->> 'payment_intent' or charge_id = p_refund ->> 'charge' limit 1
     for update;
    if v_payment.id is null then
      return 'unknown_payment';
    end if;
    if private.stripe_status_known('refund', v_status) is not true then
      return 'unknown_status'; -- no row to keep it on: reconciliation lists the event
    end if;
    if v_payment.status <> 'succeeded' or v_payment.settlement_amount_cents is null then
      return 'deferred'; -- applied again once the payment is booked (private.book_payment)
    end if;
    if v_status in ('failed', 'canceled') then
      -- Stripe gave up on it before Rally heard of it: recorded, nothing moves.
      select * into v_split from private.refund_split(v_payment, v_amount);
      insert into private.refunds (payment_id, booking_id, amount_cents, currency, settlement_currency, settlement_amount_cents,
                                   host_part_cents, fee_part_cents, bucket, reason, status, stripe_status, stripe_refund_id,
                                   failure_reason)
      values (v_payment.id, v_payment.booking_id, v_amount, v_payment.currency, v_payment.settlement_currency, v_split.settlement_amount,
              v_split.host_part, v_split.fee_part, v_split.bucket, 'stripe_dashboard', v_status, v_status, p_refund ->> 'id',
              coalesce(p_refund ->> 'failure_reason', v_status));
      return 'applied';
    end if;
    if v_amount > private.payment_refundable(v_payment.id) then
      -- More than Rally thinks is left: listed by reconciliation for an operator to resolve.
      perform private.notify_admins('refund_unmatched', 'Stripe reported a refund Rally cannot match',
        format('Refund %s of %s %s exceeds what is left of the payment.', p_refund ->> 'id', v_amount, v_payment.currency),
        jsonb_build_object('stripe_refund_id', p_refund ->> 'id', 'payment_id', v_payment.id));
      return 'unmatched';
    end if;
    v_id := gen_random_uuid();
    select * into v_row from private.start_refund(v_payment.id, v_amount, 'stripe_dashboard', null, v_id);
    -- Stripe already did it: nothing to ask for.
    update private.payment_commands set status = 'succeeded', completed_at = now(), result = p_refund, updated_at = now()
     where id = v_id and status = 'pending';
  end if;
  if v_row.stripe_refund_id is null then
    update private.refunds set stripe_refund_id = p_refund ->> 'id', updated_at = now() where id = v_row.id;
    v_row.stripe_refund_id := p_refund ->> 'id';
  end if;
  if private.stripe_status_known('refund', v_status) is not true then
    update private.refunds set stripe_status = v_status, updated_at = now()
     where id = v_row.id and status not in ('succeeded', 'failed', 'canceled');
    return 'unknown_status'; -- nothing moves; reconciliation lists it
  end if;
  select * into v_payment from private.payments where id = v_row.payment_id;

  if v_status = 'succeeded' then
    if v_row.status in ('failed', 'canceled') then
      if v_row.failure_reason is distinct from 'command_dead' then
        return 'applied'; -- an older snapshot arriving after Stripe's own failure
      end if;
      -- We gave up on the call but Stripe refunded: book it again, then settle below.
      perform private.post_ledger_transaction('refund:' || v_row.id::text || ':reinstated', 'refund_requested',
        private.postings_refund_requested(v_payment.host_id, v_row.settlement_currency, v_row.host_part_cents, v_row.fee_part_cents, v_row.bucket),
        p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_row.stripe_refund_id,
        p_stripe_event_id => p_event_id);
      perform private.post_ledger_transaction('refund:' || v_row.id::text || ':late_settled', 'refund_settled',
        private.postings_refund_settled(v_row.settlement_currency, v_row.settlement_amount_cents),
        p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_row.stripe_refund_id,
        p_stripe_event_id => p_event_id);
    elsif v_row.status <> 'succeeded' then
      perform private.post_ledger_transaction('refund:' || v_row.id::text || ':settled', 'refund_settled',
        private.postings_refund_settled(v_row.settlement_currency, v_row.settlement_amount_cents),
        p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_row.stripe_refund_id,
        p_stripe_event_id => p_event_id);
    else
      return 'applied';
    end if;
    update private.refunds set status = 'succeeded', stripe_status = v_status, settled_at = now(), failure_reason = null, updated_at = now()
     where id = v_row.id;
    perform private.queue_refund_fx_lookup(v_row, p_refund ->> 'balance_transaction');
    if v_row.refund_request_id is not null then
      update private.refund_requests set status = 'succeeded', processed_at = now() where id = v_row.refund_request_id;
    end if;
    update public.bookings set status = 'refunded', updated_at = now()
     where id = v_row.booking_id and status in ('cancelled', 'expired');
    perform private.notify(v_payment.guest_id, 'refund_issued', 'Your refund is on its way',
      'It can take 5–10 business days to reach your card.',
      jsonb_build_object('booking_id', v_row.booking_id, 'event_id', v_payment.event_id, 'refund_id', v_row.id,
                         'amount_cents', v_row.amount_cents, 'currency', v_row.currency,
                         'dedupe_key', 'refund_issued:' || v_row.id::text));
  elsif v_status in ('failed', 'canceled') then
    if v_row.status not in ('failed', 'canceled') then
      if v_row.status = 'succeeded' then
        perform private.queue_refund_fx_lookup(v_row, p_refund ->> 'failure_balance_transaction');
      end if;
      perform private.fail_refund(v_row, v_status, coalesce(p_refund ->> 'failure_reason', v_status), p_event_id);
      update private.refunds set stripe_status = v_status where id = v_row.id;
    end if;
  elsif v_status in ('pending', 'requires_action') and v_row.status = 'requested' then
    update private.refunds set status = 'pending', stripe_status = v_status, updated_at = now() where id = v_row.id;
  end if;
  return 'applied';
end
$$;
comment on function private.apply_refund(jsonb, text) is
  'Applies a Stripe Refund: succeeded → settled from platform cash, booking refunded, guest notified; failed / canceled → the booking is reversed and operators told. Dashboard refunds are booked as new refunds (one Stripe reports failed first is recorded and moves nothing; one for a payment not booked yet is deferred). Unknown statuses are stored raw: unknown_status.';

-- Studio: an operator refunds (part of) a paid booking. Amount null = everything refundable.
create or replace function admin.refund_booking(p_booking_id uuid, p_amount_cents bigint default null) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_refund private.refunds;
  v_amount bigint;
  v_request_id uuid;
begin
  select * into v_payment from private.payments where booking_id = p_booking_id;
  if v_payment.id is null then
    perform private.raise_error('22023', 'booking_not_found', 'No paid booking with this id.');
  end if;
  if v_payment.status = 'succeeded' and v_payment.settlement_amount_cents is null then
    perform private.raise_error('P0001', 'payment_not_settled',
      'Stripe has not yet said what this payment settled for (it was in another currency); try again in a few minutes.');
  end if;
  v_amount := coalesce(p_amount_cents, private.payment_refundable(v_payment.id));
  if v_amount is null or v_amount <= 0 or v_amount > private.payment_refundable(v_payment.id) then
    perform private.raise_error('P0001', 'refund_exceeds_payment', 'The refund is more than what is left of the payment.');
  end if;
  -- A request like any other (the trigger starts the refund), so a later cancellation of the
  -- booking deducts it from what it refunds.
  insert into private.refund_requests (booking_id, amount_cents, currency, reason, requested_by)
  values (p_booking_id, v_amount, v_payment.currency, 'admin', auth.uid())
  returning id into v_request_id;
  select * into v_refund from private.refunds where refund_request_id = v_request_id;
  return v_refund.id;
end
$$;
comment on function admin.refund_booking(uuid, bigint) is
  'Operators (Studio): refunds p_amount_cents of a paid booking (default: all that is left), through the normal refund path. Returns the refund id. Errors: 22023 booking_not_found; P0001 payment_not_settled / refund_exceeds_payment.';

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  admin.refund_booking(uuid,bigint),
  private.apply_refund(jsonb,text),
  private.apply_refund_balance_transaction(jsonb),
  private.fail_refund(private.refunds,text,text,text),
  private.on_refund_requested(),
  private.payment_refundable(uuid),
  private.queue_refund_fx_lookup(private.refunds,text),
  private.refund_split(private.payments,bigint),
  private.start_refund(uuid,bigint,text,uuid,uuid),
  private.start_refund_request(private.refund_requests),
  private.start_waiting_refund_requests(uuid)
  from public;
