-- Payments, step 7: Stripe webhook events, stored once and applied in the same transaction.
--
-- The stripe-webhook function verifies the signature on the raw body (platform and Connect
-- endpoints, each with its own secret) and calls private.ingest_stripe_event with the event.
-- That one database transaction stores the event (`on conflict do nothing`: a redelivery is
-- answered 200 and changes nothing) and applies it. Every applier is idempotent and monotonic
-- — ledger movements are keyed by the money movement, statuses only move forward, account
-- snapshots older than the one applied are ignored — so replays and out-of-order delivery
-- change nothing. Unknown event types are stored (status ignored), never dropped; a status
-- Rally does not know is stored raw and moves nothing (result unknown_status). An event about a
-- payment that is not booked yet (a Dashboard refund, a dispute, arriving before Stripe said
-- what the payment settled for) is stored with result `deferred` and applied again when the
-- payment is booked (private.book_payment). If applying fails, the transaction rolls back, the
-- function answers 500 and Stripe retries; the failure is recorded separately in
-- private.stripe_event_failures for operators.
--
-- The payments worker reports Stripe's answers to its commands through
-- private.complete_payment_command, which applies the returned object with the same appliers,
-- so a movement reported both by the worker and by a webhook is booked once.

create table private.stripe_events (
  id text primary key,
  endpoint text not null,
  type text not null,
  account text,
  livemode boolean not null,
  api_version text,
  stripe_created_at timestamptz not null,
  object_id text,
  payload jsonb not null,
  status text not null default 'received',
  result text,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  constraint stripe_events_id check (id ~ '^evt_[A-Za-z0-9]+$'),
  constraint stripe_events_endpoint check (endpoint in ('platform', 'connect')),
  constraint stripe_events_status check (status in ('received', 'processed', 'ignored'))
);
comment on table private.stripe_events is
  'Every Stripe webhook event received, stored once (redeliveries change nothing) and applied in the same transaction. status ignored = stored but not applied (unknown type, or the wrong live/test mode).';
comment on column private.stripe_events.result is 'What applying it did: applied, stale, unknown_payment, unknown_account, unknown_status (a status Rally does not know, stored raw), deferred (waiting for its payment to be booked), …';
create index stripe_events_type_idx on private.stripe_events (type, stripe_created_at);
create index stripe_events_deferred_idx on private.stripe_events (stripe_created_at) where result = 'deferred';
create index stripe_events_object_idx on private.stripe_events (object_id);
create index stripe_events_received_idx on private.stripe_events (received_at);

create table private.stripe_event_failures (
  event_id text primary key,
  type text,
  attempts integer not null default 1,
  last_error text,
  first_failed_at timestamptz not null default now(),
  last_failed_at timestamptz not null default now()
);
comment on table private.stripe_event_failures is 'Webhook events whose application failed (rolled back; Stripe retries). Cleared of nothing: an operator view lists those never stored since.';

-- ---------------------------------------------------------------------------------------------
-- PaymentIntents and charges
-- ---------------------------------------------------------------------------------------------

-- Books a payment once Rally knows both that Stripe says it succeeded and what it settled for
-- (whichever of the PaymentIntent and the charge's balance transaction comes second): the
-- payment (host pending + platform fee, in the settlement currency), then what waited for it —
-- refund requests, and the events deferred until it was booked. Returns whether it is booked.
create or replace function private.book_payment(p_payment_id uuid, p_event_id text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
begin
  select * into v_payment from private.payments where id = p_payment_id for update;
  if v_payment.status is distinct from 'succeeded' or v_payment.settlement_amount_cents is null then
    return false;
  end if;
  perform private.post_ledger_transaction('payment:' || v_payment.payment_intent_id || ':succeeded', 'payment',
    private.postings_payment(v_payment.host_id, v_payment.settlement_currency, v_payment.settlement_amount_cents, v_payment.platform_fee_cents),
    p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_payment.payment_intent_id,
    p_stripe_event_id => p_event_id);
  perform private.start_waiting_refund_requests(v_payment.id);
  perform private.replay_deferred_stripe_events(v_payment);
  return true;
end
$$;
comment on function private.book_payment(uuid, text) is
  'Books a succeeded payment once its settlement amount is known (payment:<pi>:succeeded, in the settlement currency), then starts the refund requests and applies the Stripe events that waited for it. Idempotent.';

-- Applies again, oldest first, the stored events that were deferred until this payment was booked.
create or replace function private.replay_deferred_stripe_events(p_payment private.payments) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_event private.stripe_events;
  v_result text;
  v_count integer := 0;
begin
  for v_event in
    select e.* from private.stripe_events e
     where e.result = 'deferred'
       and (e.payload -> 'data' -> 'object' ->> 'payment_intent' = p_payment.payment_intent_id
            or e.payload -> 'data' -> 'object' ->> 'charge' = p_payment.charge_id)
     order by e.stripe_created_at, e.received_at, e.id
     for update
  loop
    begin
      v_result := private.apply_stripe_event(v_event.payload);
    exception when data_exception then
      -- A value of the wrong type in that event's object: its own fault, not the payment's booking.
      v_result := 'invalid_stripe_event';
      perform private.record_stripe_event_failure(v_event.id, v_event.type, 'deferred event: ' || sqlerrm);
    end;
    update private.stripe_events set result = v_result, processed_at = now() where id = v_event.id;
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;
comment on function private.replay_deferred_stripe_events(private.payments) is
  'Applies again the stored Stripe events (Dashboard refunds, disputes) that were deferred until the payment was booked, oldest first (one carrying a value of the wrong type is marked invalid_stripe_event and noted in stripe_event_failures). Returns how many.';

-- Applies a PaymentIntent (webhooks, the checkout answer, a cancellation). Succeeded: the
-- booking is confirmed — or, when its hold ended and the seats are gone, refunded in full — and
-- the payment booked (private.book_payment) once its settlement amount is known: at once for a
-- payment in the settlement currency, else when the charge's balance transaction is read.
create or replace function private.apply_payment_intent(p_intent jsonb, p_event_id text, p_as_of timestamptz) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_status text := p_intent ->> 'status';
  v_amount bigint;
  v_fee bigint;
  v_confirmed boolean;
  v_title text;
begin
  if p_intent ->> 'object' is distinct from 'payment_intent' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe PaymentIntent object.');
  end if;
  select * into v_payment from private.payments where payment_intent_id = p_intent ->> 'id' for update;
  if v_payment.id is null and p_intent -> 'metadata' ->> 'payment_id' ~ '^[0-9a-f-]{36}$' then
    select * into v_payment from private.payments where id = (p_intent -> 'metadata' ->> 'payment_id')::uuid for update;
    if v_payment.id is not null and v_payment.payment_intent_id is null then
      update private.payments set payment_intent_id = p_intent ->> 'id', updated_at = now() where id = v_payment.id;
    elsif v_payment.payment_intent_id is distinct from p_intent ->> 'id' then
      v_payment.id := null;
    end if;
  end if;
  if v_payment.id is null then
    if v_status = 'succeeded' then
      -- Money Rally cannot attribute to a booking: kept apart for an operator.
      v_amount := coalesce((p_intent ->> 'amount_received')::bigint, (p_intent ->> 'amount')::bigint);
      perform private.post_ledger_transaction('payment:' || (p_intent ->> 'id') || ':succeeded', 'suspense',
        private.ledger_entries_of(private.ledger_entry('platform_cash', null, upper(p_intent ->> 'currency'), v_amount),
                                  private.ledger_entry('suspense', null, upper(p_intent ->> 'currency'), -v_amount)),
        p_stripe_object_id => p_intent ->> 'id', p_stripe_event_id => p_event_id, p_memo => 'payment matching no booking');
      perform private.notify_admins('payment_unmatched', 'A payment matches no booking',
        format('PaymentIntent %s (%s %s) is in suspense.', p_intent ->> 'id', v_amount, upper(p_intent ->> 'currency')),
        jsonb_build_object('payment_intent_id', p_intent ->> 'id'));
    end if;
    return 'unknown_payment';
  end if;

  if private.stripe_status_known('payment_intent', v_status) is not true then
    -- Kept raw; the payment's status and money do not move (reconciliation lists it).
    if v_payment.status not in ('succeeded', 'canceled') and (v_payment.intent_synced_at is null or p_as_of >= v_payment.intent_synced_at) then
      update private.payments set stripe_status = v_status, intent_synced_at = p_as_of, updated_at = now() where id = v_payment.id;
    end if;
    return 'unknown_status';
  end if;
  if v_payment.status in ('succeeded', 'canceled') then
    -- Final. A later snapshot can still tell us the charge.
    if v_payment.charge_id is null and p_intent ->> 'latest_charge' is not null then
      update private.payments set charge_id = p_intent ->> 'latest_charge', updated_at = now() where id = v_payment.id;
    end if;
    return 'applied';
  end if;
  -- Final statuses always win; in-between ones (which can cycle) only when newer.
  if v_status not in ('succeeded', 'canceled') and v_payment.intent_synced_at is not null and p_as_of < v_payment.intent_synced_at then
    return 'stale';
  end if;

  if v_status = 'succeeded' then
    v_amount := coalesce((p_intent ->> 'amount_received')::bigint, (p_intent ->> 'amount')::bigint);
    v_fee := private.platform_fee_for(v_amount, v_payment.platform_fee_bps);
    -- In the settlement currency the split follows what Stripe received; in another currency it
    -- comes from the balance transaction (private.apply_balance_transaction).
    update private.payments
       set status = 'succeeded', stripe_status = v_status, amount_cents = v_amount,
           settlement_amount_cents = case when currency = settlement_currency then v_amount else settlement_amount_cents end,
           platform_fee_cents = case when currency = settlement_currency then v_fee else platform_fee_cents end,
           host_share_cents = case when currency = settlement_currency then v_amount - v_fee else host_share_cents end,
           charge_id = coalesce(charge_id, p_intent ->> 'latest_charge'), succeeded_at = now(), last_payment_error = null,
           intent_synced_at = p_as_of, livemode = coalesce((p_intent ->> 'livemode')::boolean, livemode), updated_at = now()
     where id = v_payment.id
    returning * into v_payment;
    perform private.book_payment(v_payment.id, p_event_id);
    v_confirmed := private.confirm_booking_payment(v_payment.booking_id);
    if v_confirmed then
      -- The receipt (payment_succeeded is critical: its email cannot be turned off).
      perform private.notify(v_payment.guest_id, 'payment_succeeded', format('Receipt for %s', e.title),
          format('You paid %s %s.', to_char(v_amount / 100.0, 'FM999999999990.00'), v_payment.currency),
          jsonb_build_object('booking_id', v_payment.booking_id, 'event_id', v_payment.event_id, 'payment_id', v_payment.id,
                             'amount_cents', v_amount, 'platform_fee_cents', v_fee, 'currency', v_payment.currency,
                             'quantity', b.quantity, 'ticket_type', t.name, 'paid_at', v_payment.succeeded_at,
                             'dedupe_key', 'payment_succeeded:' || v_payment.id::text))
        from public.bookings b
        join private.events e on e.id = b.event_id
        join public.ticket_types t on t.id = b.ticket_type_id
       where b.id = v_payment.booking_id;
    else
      -- Paid after the hold ended and the seats were taken (or the booking was cancelled): refund in full.
      select title into v_title from private.events where id = v_payment.event_id;
      insert into private.refund_requests (booking_id, amount_cents, currency, reason, requested_by)
      values (v_payment.booking_id, v_amount, v_payment.currency, 'unfulfillable', null)
      on conflict (booking_id) where reason <> 'admin' do nothing;
      perform private.notify(v_payment.guest_id, 'payment_refunded_unfulfillable', format('Your payment for %s will be refunded', v_title),
        'Your hold had ended and the seats were gone by the time the payment arrived, so you get all of it back.',
        jsonb_build_object('booking_id', v_payment.booking_id, 'event_id', v_payment.event_id));
    end if;
  elsif v_status = 'canceled' then
    update private.payments set status = 'canceled', stripe_status = v_status, intent_synced_at = p_as_of, updated_at = now()
     where id = v_payment.id;
  else
    update private.payments
       set status = v_status, stripe_status = v_status, intent_synced_at = p_as_of,
           last_payment_error = coalesce(p_intent -> 'last_payment_error' ->> 'message', last_payment_error), updated_at = now()
     where id = v_payment.id;
    -- A declined card (payment_intent.payment_failed): the guest hears it, once per failure.
    if v_status = 'requires_payment_method' and jsonb_typeof(p_intent -> 'last_payment_error') = 'object'
       and (v_payment.status is distinct from v_status
            or v_payment.last_payment_error is distinct from p_intent -> 'last_payment_error' ->> 'message') then
      perform private.notify(v_payment.guest_id, 'payment_failed', format('Your payment for %s did not go through', e.title),
          coalesce(p_intent -> 'last_payment_error' ->> 'message', 'Your card was declined.'),
          jsonb_build_object('booking_id', v_payment.booking_id, 'event_id', v_payment.event_id, 'payment_id', v_payment.id,
                             'amount_cents', v_payment.amount_cents, 'currency', v_payment.currency,
                             'decline_code', coalesce(p_intent -> 'last_payment_error' ->> 'decline_code',
                                                      p_intent -> 'last_payment_error' ->> 'code'),
                             'hold_expires_at', b.hold_expires_at,
                             'dedupe_key', 'payment_failed:' || coalesce(p_event_id, (p_intent ->> 'id') || ':' || p_as_of::text)))
        from public.bookings b
        join private.events e on e.id = b.event_id
       where b.id = v_payment.booking_id;
    end if;
  end if;
  return 'applied';
end
$$;
comment on function private.apply_payment_intent(jsonb, text, timestamptz) is
  'Applies a PaymentIntent snapshot (statuses only move forward): succeeded → the booking confirmed and the receipt sent (payment_succeeded), or refunded in full if it can no longer be confirmed, and the payment booked once its settlement amount is known; a declined payment tells the guest (payment_failed). Unattributable payments go to suspense; unknown statuses are stored raw (unknown_status).';

-- Applies a Charge (charge.succeeded / .updated / .refunded): learns the charge id and its
-- balance transaction — with asynchronous capture, the default of the pinned API version, only
-- charge.updated brings it — and queues the look-up of Stripe's fee and settlement amount.
create or replace function private.apply_charge(p_charge jsonb) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_bt text;
begin
  if p_charge ->> 'object' is distinct from 'charge' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe charge object.');
  end if;
  select * into v_payment from private.payments
   where payment_intent_id = p_charge ->> 'payment_intent' or charge_id = p_charge ->> 'id'
   limit 1
   for update;
  if v_payment.id is null then
    return 'unknown_payment';
  end if;
  v_bt := case when jsonb_typeof(p_charge -> 'balance_transaction') = 'object' then p_charge -> 'balance_transaction' ->> 'id'
               else p_charge ->> 'balance_transaction' end;
  update private.payments
     set charge_id = coalesce(charge_id, p_charge ->> 'id'),
         amount_refunded_cents = greatest(amount_refunded_cents, coalesce((p_charge ->> 'amount_refunded')::bigint, 0)),
         balance_transaction_id = coalesce(balance_transaction_id, v_bt), updated_at = now()
   where id = v_payment.id;
  if v_bt is not null and (p_charge ->> 'status') = 'succeeded' then
    perform private.queue_balance_transaction_lookup(v_bt, v_payment.id, v_payment.host_id);
  end if;
  return 'applied';
end
$$;
comment on function private.apply_charge(jsonb) is 'Applies a Charge: records the charge and its balance transaction and queues the look-up of Stripe''s fee and settlement amount.';

-- Applies a BalanceTransaction the worker read. A charge's: what the payment settled for (in
-- the settlement currency, converted at exchange_rate when the charge was in another currency),
-- its split, and Stripe's fee (stripe_fee:<txn id>); the payment is booked if it is the second
-- of the two facts. A refund's or a refund failure's: its exchange difference.
create or replace function private.apply_balance_transaction(p_bt jsonb) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_fee bigint := coalesce((p_bt ->> 'fee')::bigint, 0);
  v_currency text := upper(p_bt ->> 'currency');
  v_amount bigint := (p_bt ->> 'amount')::bigint;
  v_platform_fee bigint;
  v_settled_now boolean := false;
begin
  if p_bt ->> 'object' is distinct from 'balance_transaction' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe balance transaction object.');
  end if;
  if p_bt ->> 'type' in ('refund', 'refund_failure') then
    return private.apply_refund_balance_transaction(p_bt);
  end if;
  select * into v_payment from private.payments where balance_transaction_id = p_bt ->> 'id' or charge_id = p_bt ->> 'source'
   limit 1 for update;
  if v_payment.id is null then
    return 'unknown_payment';
  end if;
  if v_payment.settlement_amount_cents is null then
    if v_amount is null or v_amount <= 0 then
      perform private.raise_error('22023', 'invalid_stripe_object', 'A charge''s balance transaction has a positive amount.');
    end if;
    v_platform_fee := private.platform_fee_for(v_amount, v_payment.platform_fee_bps);
    update private.payments
       set settlement_currency = v_currency, settlement_amount_cents = v_amount, exchange_rate = (p_bt ->> 'exchange_rate')::numeric,
           platform_fee_cents = v_platform_fee, host_share_cents = v_amount - v_platform_fee, updated_at = now()
     where id = v_payment.id;
    v_settled_now := true;
  end if;
  update private.payments
     set stripe_fee_cents = v_fee, balance_transaction_id = coalesce(balance_transaction_id, p_bt ->> 'id'), updated_at = now()
   where id = v_payment.id;
  perform private.post_ledger_transaction('stripe_fee:' || (p_bt ->> 'id'), 'stripe_fee',
    private.postings_stripe_fee(v_currency, v_fee),
    p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => p_bt ->> 'id');
  if v_settled_now then
    perform private.book_payment(v_payment.id, null);
  end if;
  return 'applied';
end
$$;
comment on function private.apply_balance_transaction(jsonb) is
  'Applies a balance transaction the worker read: a charge''s gives the payment''s settlement amount (booking it if Stripe already said it succeeded) and books Stripe''s fee (stripe_fee:<txn id>); a refund''s books its exchange difference.';

-- ---------------------------------------------------------------------------------------------
-- Events
-- ---------------------------------------------------------------------------------------------

-- Applies one event's object. Returns what happened; unknown types are 'ignored'.
create or replace function private.apply_stripe_event(p_event jsonb) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_type text := p_event ->> 'type';
  v_object jsonb := p_event -> 'data' -> 'object';
  v_as_of timestamptz := to_timestamp((p_event ->> 'created')::bigint);
  v_id text := p_event ->> 'id';
begin
  case
    when v_type in ('payment_intent.succeeded', 'payment_intent.payment_failed', 'payment_intent.canceled',
                    'payment_intent.processing', 'payment_intent.requires_action', 'payment_intent.created') then
      return private.apply_payment_intent(v_object, v_id, v_as_of);
    when v_type in ('charge.succeeded', 'charge.updated', 'charge.refunded', 'charge.captured') then
      return private.apply_charge(v_object);
    when v_type in ('refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated') then
      return private.apply_refund(v_object, v_id);
    when v_type like 'charge.dispute.%' then
      return private.apply_dispute(v_object, v_as_of, v_id);
    when v_type in ('transfer.created', 'transfer.updated', 'transfer.reversed') then
      return private.apply_transfer(v_object, v_id);
    when v_type like 'payout.%' and v_type <> 'payout.reconciliation_completed' then
      if p_event ->> 'account' is null then
        return 'ignored'; -- the platform's own payouts are not host money
      end if;
      return private.apply_payout(v_object, p_event ->> 'account', v_as_of, v_id);
    when v_type = 'account.updated' then
      return private.apply_stripe_account(v_object, v_as_of);
    when v_type = 'capability.updated' then
      return private.apply_stripe_capability(v_object, v_as_of);
    else
      return 'ignored';
  end case;
end
$$;
comment on function private.apply_stripe_event(jsonb) is
  'Dispatches a Stripe event to its applier (payment intents, charges, refunds, disputes, transfers, host payouts, accounts, capabilities). Unknown types: ignored.';

-- True when p_event has the envelope of a Stripe event Rally can store.
create or replace function private.is_stripe_event_envelope(p_event jsonb) returns boolean
language sql
immutable
set search_path = ''
as $$
  select case
    when jsonb_typeof(p_event) is distinct from 'object' then false
    when p_event ->> 'object' is distinct from 'event' then false
    when jsonb_typeof(p_event -> 'id') is distinct from 'string' then false
    when (p_event ->> 'id') !~ '^evt_[A-Za-z0-9]+$' or length(p_event ->> 'id') > 255 then false
    when jsonb_typeof(p_event -> 'type') is distinct from 'string' or length(p_event ->> 'type') not between 1 and 255 then false
    when jsonb_typeof(p_event -> 'data' -> 'object') is distinct from 'object' then false
    when jsonb_typeof(p_event -> 'created') is distinct from 'number' then false
    when (p_event ->> 'created')::numeric not between 0 and 253402300799 then false
    when (p_event ->> 'created')::numeric <> trunc((p_event ->> 'created')::numeric) then false
    when coalesce(jsonb_typeof(p_event -> 'livemode'), 'null') not in ('boolean', 'null') then false
    when coalesce(jsonb_typeof(p_event -> 'account'), 'null') not in ('string', 'null') then false
    when coalesce(jsonb_typeof(p_event -> 'api_version'), 'null') not in ('string', 'null') then false
    when coalesce(jsonb_typeof(p_event -> 'data' -> 'object' -> 'id'), 'null') not in ('string', 'null') then false
    else true
  end
$$;
comment on function private.is_stripe_event_envelope(jsonb) is
  'True when a webhook body has the envelope of a Stripe event (evt_ id, type, integer created, object data.object, boolean livemode, string account) that private.stripe_events can store.';
-- Called only inside ingest_stripe_event (security definer): no role needs it directly.
revoke execute on function private.is_stripe_event_envelope(jsonb) from public;


-- The webhook's one call: store once, apply in the same transaction. Returns 'processed',
-- 'ignored' (stored, not applied) or 'duplicate' (already stored: nothing changes).
-- A signed body whose envelope Rally cannot store (an id outside Stripe's `evt_…` alphabet, a
-- non-numeric `created`, a `data.object` that is not an object, …) and an event whose object
-- carries a value of the wrong type or out of range are bad input, not an outage: 22023
-- invalid_stripe_event (HTTP 400), never a 500 that Stripe retries for three days. The event's
-- own writes roll back either way, and the webhook still notes the failure for operators
-- (private.stripe_event_failures); anything else an applier raises stays a 500, so Stripe
-- retries after the fix.
create or replace function private.ingest_stripe_event(p_event jsonb, p_endpoint text, p_expected_livemode boolean default null)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_result text;
  v_status text;
begin
  if private.is_stripe_event_envelope(p_event) is not true then
    perform private.raise_error('22023', 'invalid_stripe_event', 'Expected a Stripe event object.');
  end if;
  insert into private.stripe_events (id, endpoint, type, account, livemode, api_version, stripe_created_at, object_id, payload)
  values (p_event ->> 'id', p_endpoint, p_event ->> 'type', p_event ->> 'account', coalesce((p_event ->> 'livemode')::boolean, false),
          p_event ->> 'api_version', to_timestamp((p_event ->> 'created')::bigint), p_event -> 'data' -> 'object' ->> 'id', p_event)
  on conflict (id) do nothing;
  if not found then
    return 'duplicate';
  end if;
  if p_expected_livemode is not null and coalesce((p_event ->> 'livemode')::boolean, false) <> p_expected_livemode then
    v_result := 'wrong_mode';
  else
    begin
      v_result := private.apply_stripe_event(p_event);
    exception when data_exception then
      -- A value of the wrong type or out of range in the event's object: bad input, not an outage.
      perform private.raise_error('22023', 'invalid_stripe_event',
        format('The %s event carries a value of the wrong type or out of range.', p_event ->> 'type'));
    end;
  end if;
  v_status := case when v_result in ('ignored', 'wrong_mode') then 'ignored' else 'processed' end;
  update private.stripe_events set status = v_status, result = v_result, processed_at = now() where id = p_event ->> 'id';
  delete from private.stripe_event_failures where event_id = p_event ->> 'id';
  return v_status;
end
$$;
comment on function private.ingest_stripe_event(jsonb, text, boolean) is
  'Service role (stripe-webhook): stores a verified Stripe event once and applies it in the same transaction. Returns processed, ignored (stored, not applied) or duplicate. Errors: 22023 invalid_stripe_event (not an event envelope Rally can store, or an object value of the wrong type).';

-- Records a failed application (called by the webhook in its own transaction after the rollback).
create or replace function private.record_stripe_event_failure(p_event_id text, p_type text, p_error text) returns void
language sql
security definer
set search_path = ''
as $$
  insert into private.stripe_event_failures (event_id, type, last_error)
  values (p_event_id, p_type, left(p_error, 2000))
  on conflict (event_id) do update
    set attempts = private.stripe_event_failures.attempts + 1, last_error = excluded.last_error, last_failed_at = now()
$$;
comment on function private.record_stripe_event_failure(text, text, text) is 'Service role (stripe-webhook): notes that applying an event failed (it was rolled back; Stripe retries).';

-- ---------------------------------------------------------------------------------------------
-- Command results
-- ---------------------------------------------------------------------------------------------

-- The worker reports Stripe's answer to a command; it is applied like the matching webhook.
-- A late answer for a dead command is still applied (it is what Stripe did).
create or replace function private.complete_payment_command(p_id uuid, p_result jsonb) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_command private.payment_commands;
  v_outcome text;
begin
  select * into v_command from private.payment_commands where id = p_id for update;
  if v_command.id is null then
    perform private.raise_error('22023', 'command_not_found', 'No such payment command.');
  end if;
  if v_command.status = 'succeeded' then
    return 'already_completed';
  end if;
  v_outcome := case v_command.kind
    when 'create_transfer' then private.apply_transfer(p_result, null)
    when 'reverse_transfer' then private.apply_transfer_reversal(p_result, null)
    when 'create_refund' then private.apply_refund(p_result, null)
    when 'create_payout' then private.apply_payout(p_result, v_command.payload ->> 'stripe_account', now(), null)
    when 'cancel_payment_intent' then
      case when p_result ->> 'object' = 'payment_intent' then private.apply_payment_intent(p_result, null, now()) else 'applied' end
    when 'sync_balance_transaction' then private.apply_balance_transaction(p_result)
  end;
  update private.payment_commands
     set status = 'succeeded', result = p_result, locked_until = null, completed_at = now(), updated_at = now()
   where id = p_id;
  return v_outcome;
end
$$;
comment on function private.complete_payment_command(uuid, jsonb) is
  'Service role (payments-worker): applies Stripe''s answer to a command (exactly as the matching webhook would) and marks it succeeded.';

-- Compensation when a command is given up: the money set aside for it goes back.
create or replace function private.on_payment_command_dead(p_command private.payment_commands) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_refund private.refunds;
  v_payout private.payouts;
begin
  if p_command.last_error_code = 'apply_failed' then
    -- Stripe did it; only applying its answer failed. Nothing to put back: an operator looks.
    perform private.notify_admins('payment_command_dead', format('Applying a %s failed', replace(p_command.kind, '_', ' ')),
      coalesce(p_command.last_error, 'No error recorded.'), jsonb_build_object('command_id', p_command.id));
    return;
  end if;
  if p_command.kind = 'create_refund' then
    select * into v_refund from private.refunds where id = p_command.refund_id for update;
    if v_refund.id is not null and v_refund.status in ('requested', 'pending') then
      perform private.fail_refund(v_refund, 'failed', 'command_dead', null);
    end if;
  elsif p_command.kind = 'create_payout' then
    select * into v_payout from private.payouts where id = p_command.payout_id for update;
    if v_payout.id is not null and v_payout.status in ('requested', 'pending') then
      perform private.post_ledger_transaction('payout:' || v_payout.id::text || ':returned', 'payout_returned',
        private.postings_payout_returned(v_payout.host_id, v_payout.currency, v_payout.amount_cents, 'host_in_transit'),
        p_payout_id => v_payout.id);
      update private.payouts
         set status = 'failed', failed_at = now(), failure_code = 'command_dead',
             failure_message = coalesce(p_command.last_error, 'Stripe did not accept the payout.'), updated_at = now()
       where id = v_payout.id;
      perform private.notify(v_payout.host_id, 'payout_failed', 'Your payout could not be sent',
        'The money is back in your available balance. Please try again later.',
        jsonb_build_object('payout_id', v_payout.id, 'amount_cents', v_payout.amount_cents, 'currency', v_payout.currency));
    end if;
  elsif p_command.kind in ('create_transfer', 'reverse_transfer', 'sync_balance_transaction') then
    perform private.notify_admins('payment_command_dead', format('A %s was given up', replace(p_command.kind, '_', ' ')),
      coalesce(p_command.last_error, 'No error recorded.'), jsonb_build_object('command_id', p_command.id, 'host_id', p_command.host_id));
  end if;
end
$$;
comment on function private.on_payment_command_dead(private.payment_commands) is
  'Compensates a dead-lettered command: refunds are reversed in the ledger (and operators told), payouts go back to available (and the host told), transfer problems and balance transaction look-ups (a payment that cannot be booked) go to operators.';

grant execute on function private.ingest_stripe_event(jsonb, text, boolean), private.record_stripe_event_failure(text, text, text),
  private.complete_payment_command(uuid, jsonb) to service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.apply_balance_transaction(jsonb),
  private.apply_charge(jsonb),
  private.apply_payment_intent(jsonb,text,timestamp with time zone),
  private.apply_stripe_event(jsonb),
  private.book_payment(uuid,text),
  private.replay_deferred_stripe_events(private.payments),
  private.complete_payment_command(uuid,jsonb),
  private.ingest_stripe_event(jsonb,text,boolean),
  private.on_payment_command_dead(private.payment_commands),
  private.record_stripe_event_failure(text,text,text)
  from public;
