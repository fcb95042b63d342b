-- Payments, step 3: one payment per paid booking, and the payment command outbox.
--
-- Checkout (the `checkout` edge function) prepares a payment row as the guest, then asks Stripe
-- for one PaymentIntent per booking (transfer_group = booking id, idempotency key = booking id,
-- metadata booking id) and records its id. Stripe's webhooks confirm the booking; nothing else
-- does.
--
-- Two currencies per payment: the guest pays amount_cents of `currency` (what the booking says,
-- what refunds are asked in), and Stripe adds it to the platform's balance in its settlement
-- currency (payment_settings.settlement_currency), converted at the rate of the day when the
-- charge was in another currency: the charge's balance transaction says how much. The ledger,
-- the host's share and the platform fee are in the settlement currency, so they are known at
-- checkout for a payment in that currency and once the balance transaction is read otherwise.
--
-- Rally's status columns hold the statuses Rally understands; Stripe's enums are open ("prepared
-- to handle enum variants … not in the SDK"), so the raw status Stripe last sent is kept beside
-- them in stripe_status, unconstrained: an unknown one moves nothing and is listed by
-- reconciliation, never refused by a constraint (which would make the webhook fail for days).
--
-- Every call Rally makes to move money at Stripe (transfers, transfer reversals, refunds,
-- payouts, cancelling an abandoned PaymentIntent, reading a charge's fee) is a row in
-- private.payment_commands written in the same transaction as the decision (ARCHITECTURE §6).
-- The payments-worker edge function claims rows with FOR UPDATE SKIP LOCKED (a lease, so a
-- crashed worker's rows come back), calls Stripe with the row id as Idempotency-Key, and
-- reports back: complete (the Stripe object, applied exactly like the matching webhook) or fail
-- (retry with exponential backoff and jitter, dead letter after payment_settings.command_max_attempts,
-- with a compensating ledger movement where money was set aside for the call).

create table private.payments (
  id uuid primary key default gen_random_uuid(),
  booking_id uuid not null references public.bookings (id),
  event_id uuid not null references private.events (id),
  host_id uuid not null references public.profiles (id),
  guest_id uuid not null references public.profiles (id),
  amount_cents bigint not null,
  currency text not null references public.currencies (code),
  platform_fee_bps integer not null,
  settlement_currency text references public.currencies (code),
  settlement_amount_cents bigint,
  exchange_rate numeric,
  platform_fee_cents bigint,
  host_share_cents bigint,
  refund_policy text not null,
  status text not null default 'created',
  stripe_status text,
  payment_intent_id text,
  charge_id text,
  balance_transaction_id text,
  stripe_fee_cents bigint,
  amount_refunded_cents bigint not null default 0,
  last_payment_error text,
  livemode boolean,
  intent_synced_at timestamptz,
  succeeded_at timestamptz,
  released_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint payments_amount check (amount_cents > 0),
  constraint payments_status check (status in ('created', 'requires_payment_method', 'requires_confirmation', 'requires_action',
                                               'processing', 'requires_capture', 'succeeded', 'canceled')),
  constraint payments_fee_bps check (platform_fee_bps between 0 and 10000),
  constraint payments_split check ((platform_fee_cents is null) = (host_share_cents is null)
                                   and (platform_fee_cents is null) = (settlement_amount_cents is null)
                                   and (settlement_amount_cents is null) = (settlement_currency is null)),
  constraint payments_settlement check (settlement_amount_cents is null or settlement_amount_cents > 0),
  constraint payments_intent_id check (payment_intent_id is null or payment_intent_id ~ '^pi_[A-Za-z0-9]+$')
);
comment on table private.payments is
  'One payment per paid booking: the Stripe PaymentIntent, the amount and its split (platform fee at the rate in force at checkout), and its state. Released once the host''s share moved to available.';
comment on column private.payments.refund_policy is 'The event''s refund policy when the guest paid (evidence in disputes).';
comment on column private.payments.released_at is 'When the release job moved this payment''s pending host share to available.';
comment on column private.payments.settlement_amount_cents is
  'What the payment added to the platform''s Stripe balance, in settlement_currency (before Stripe''s fee): amount_cents for a payment in the settlement currency, else the amount of the charge''s balance transaction. Null until known.';
comment on column private.payments.exchange_rate is 'Stripe''s rate from currency into settlement_currency (the balance transaction''s exchange_rate); null when no conversion.';
comment on column private.payments.platform_fee_cents is 'The platform''s fee, in settlement_currency: platform_fee_bps of settlement_amount_cents.';
comment on column private.payments.host_share_cents is 'The host''s share, in settlement_currency: settlement_amount_cents − platform_fee_cents.';
comment on column private.payments.stripe_status is 'The PaymentIntent status Stripe last sent, raw (may be one Rally does not know: reconciliation lists it).';
create unique index payments_booking_key on private.payments (booking_id);
create unique index payments_intent_key on private.payments (payment_intent_id);
create unique index payments_charge_key on private.payments (charge_id);
create index payments_event_idx on private.payments (event_id);
create index payments_host_idx on private.payments (host_id);
create index payments_guest_idx on private.payments (guest_id);
create index payments_currency_idx on private.payments (currency);
create index payments_release_idx on private.payments (succeeded_at) where status = 'succeeded' and released_at is null;
create index payments_settlement_currency_idx on private.payments (settlement_currency);

-- A payment in the settlement currency knows its split (platform fee, host share) from checkout
-- on. Stripe does not promise event order: a dispute (or its funds_withdrawn) can arrive before
-- the payment_intent.succeeded it belongs to, and then needs the host's share to take the right
-- amount from the host. The split depends only on the amount and the fee rate fixed at checkout,
-- so it is filled in when the row is written (and computed again from Stripe's amount_received
-- when the payment succeeds). A payment in another currency learns its settlement amount, and so
-- its split, from the charge's balance transaction (private.settle_payment).
create or replace function private.fill_payment_split() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.settlement_amount_cents is null and new.currency = (select s.settlement_currency from private.payment_settings s) then
    new.settlement_currency := new.currency;
    new.settlement_amount_cents := new.amount_cents;
  end if;
  if new.platform_fee_cents is null and new.settlement_amount_cents is not null then
    new.platform_fee_cents := private.platform_fee_for(new.settlement_amount_cents, new.platform_fee_bps);
    new.host_share_cents := new.settlement_amount_cents - new.platform_fee_cents;
  end if;
  return new;
end
$$;
comment on function private.fill_payment_split() is 'Trigger: a new payment in the settlement currency gets its settlement amount, platform fee and host share from its amount and the fee rate fixed at checkout.';

create trigger payments_fill_split before insert on private.payments
  for each row execute function private.fill_payment_split();

-- The statuses of the pinned API version (2026-10-28.endive, stripe-node 23.1.0) Rally
-- understands, per Stripe object. Stripe may add more at any time: appliers store an unknown one
-- raw (stripe_status), move nothing, and reconciliation lists it for an operator.
create or replace function private.stripe_status_known(p_object text, p_status text) returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(p_status = any (case p_object
    when 'payment_intent' then array['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing',
                                     'requires_capture', 'succeeded', 'canceled']
    when 'refund' then array['pending', 'requires_action', 'succeeded', 'failed', 'canceled']
    when 'payout' then array['pending', 'in_transit', 'paid', 'failed', 'canceled']
    when 'dispute' then array['warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response', 'under_review',
                              'won', 'lost', 'prevented', 'appeal_needs_response', 'appeal_under_review']
  end), false)
$$;
comment on function private.stripe_status_known(text, text) is
  'Whether Rally understands a status Stripe sent for a payment_intent, refund, payout or dispute (the pinned API version''s statuses). Unknown ones are stored raw and listed by reconciliation.';

alter table private.ledger_transactions
  add constraint ledger_transactions_payment_fk foreign key (payment_id) references private.payments (id);

-- ---------------------------------------------------------------------------------------------
-- Payment command outbox
-- ---------------------------------------------------------------------------------------------

create table private.payment_commands (
  id uuid primary key default gen_random_uuid(),
  kind text not null,
  priority smallint not null,
  status text not null default 'pending',
  payload jsonb not null,
  idempotency_key text not null,
  payment_id uuid references private.payments (id),
  host_id uuid references public.profiles (id),
  payout_id uuid,
  refund_id uuid,
  attempts integer not null default 0,
  max_attempts integer not null,
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz,
  last_error_code text,
  last_error text,
  result jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  constraint payment_commands_kind check (kind in ('create_transfer', 'reverse_transfer', 'create_refund', 'create_payout',
                                                   'cancel_payment_intent', 'sync_balance_transaction')),
  constraint payment_commands_idempotency_key check (char_length(idempotency_key) between 1 and 255),
  constraint payment_commands_status check (status in ('pending', 'processing', 'succeeded', 'dead')),
  constraint payment_commands_payload check (jsonb_typeof(payload) = 'object')
);
comment on table private.payment_commands is
  'Outbox of Stripe calls (transfers, reversals, refunds, payouts, PaymentIntent cancellations, balance transaction look-ups). Sent with idempotency_key (the id, until Stripe saved a refusal under it). Drained by the payments-worker function; dead after command_max_attempts.';
comment on column private.payment_commands.priority is 'Lower runs first: refunds 10, transfers 20, reversals 30, payouts 40, cancellations 50, balance transaction look-ups 60.';
comment on column private.payment_commands.idempotency_key is
  'The Idempotency-Key the next attempt sends: the command id, or <id>:<attempt> after Stripe refused an attempt and saved that refusal under the key it used (balance_insufficient), so that a later attempt can succeed. Replaced only before an attempt, never after one was sent with it.';
comment on column private.payment_commands.locked_until is 'Lease of a claimed (processing) command; past it another worker may claim it again (same idempotency key).';
create index payment_commands_due_idx on private.payment_commands (priority, next_attempt_at) where status = 'pending';
create index payment_commands_lease_idx on private.payment_commands (locked_until) where status = 'processing';
create index payment_commands_payment_idx on private.payment_commands (payment_id);
create index payment_commands_host_idx on private.payment_commands (host_id);
create index payment_commands_payout_idx on private.payment_commands (payout_id) where payout_id is not null;
create index payment_commands_refund_idx on private.payment_commands (refund_id) where refund_id is not null;
create index payment_commands_dead_idx on private.payment_commands (completed_at) where status = 'dead';

-- Queues a Stripe call. p_id is the idempotency key (defaults to a new uuid).
create or replace function private.enqueue_payment_command(
  p_kind text,
  p_payload jsonb,
  p_payment_id uuid default null,
  p_host_id uuid default null,
  p_payout_id uuid default null,
  p_refund_id uuid default null,
  p_id uuid default null
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid := coalesce(p_id, gen_random_uuid());
begin
  insert into private.payment_commands (id, kind, priority, payload, idempotency_key, payment_id, host_id, payout_id, refund_id, max_attempts)
  values (v_id, p_kind,
          case p_kind when 'create_refund' then 10 when 'create_transfer' then 20 when 'reverse_transfer' then 30
                      when 'create_payout' then 40 when 'cancel_payment_intent' then 50 else 60 end,
          p_payload, v_id::text, p_payment_id, p_host_id, p_payout_id, p_refund_id,
          (select s.command_max_attempts from private.payment_settings s))
  on conflict (id) do nothing;
  return v_id;
end
$$;
comment on function private.enqueue_payment_command(text, jsonb, uuid, uuid, uuid, uuid, uuid) is
  'Queues a Stripe call in the payment command outbox (same transaction as the decision). Returns the command id, which is its first Stripe idempotency key.';

-- Queues the look-up of a Stripe balance transaction (the fee and settlement amount of a charge,
-- the converted amount of a refund), once per balance transaction.
create or replace function private.queue_balance_transaction_lookup(p_balance_transaction text, p_payment_id uuid, p_host_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_balance_transaction !~ '^txn_[A-Za-z0-9]+$' then
    return;
  end if;
  if not exists (select 1 from private.payment_commands c
                  where c.payment_id = p_payment_id and c.kind = 'sync_balance_transaction'
                    and c.payload ->> 'balance_transaction' = p_balance_transaction) then
    perform private.enqueue_payment_command('sync_balance_transaction', jsonb_build_object('balance_transaction', p_balance_transaction),
                                            p_payment_id, p_host_id);
  end if;
end
$$;
comment on function private.queue_balance_transaction_lookup(text, uuid, uuid) is
  'Queues (once per balance transaction) the worker''s look-up of a Stripe balance transaction of a payment.';

-- The worker's claim: due commands (and ones whose lease ran out), locked with SKIP LOCKED so
-- workers never take the same row, marked processing under a lease, attempts counted.
create or replace function private.claim_payment_commands(p_limit integer default 10, p_lease_seconds integer default 120)
returns setof private.payment_commands
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_limit is null or p_limit not between 1 and 100 then
    perform private.raise_error('22023', 'invalid_limit', 'Claim between 1 and 100 commands.');
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 5 and 3600 then
    perform private.raise_error('22023', 'invalid_lease', 'A lease lasts 5 to 3600 seconds.');
  end if;
  return query
    with due as (
      select c.id from private.payment_commands c
       where (c.status = 'pending' and c.next_attempt_at <= now())
          or (c.status = 'processing' and c.locked_until < now())
       order by c.priority, c.next_attempt_at, c.created_at
       limit p_limit
       for update skip locked
    )
    update private.payment_commands c
       set status = 'processing', attempts = c.attempts + 1, locked_until = now() + make_interval(secs => p_lease_seconds),
           payload = private.resolve_command_payload(c), updated_at = now()
      from due where c.id = due.id
    returning c.*;
end
$$;
comment on function private.claim_payment_commands(integer, integer) is
  'Service role (payments-worker): claims up to p_limit due commands with FOR UPDATE SKIP LOCKED under a lease; each claim counts as an attempt. Each row carries the idempotency_key its attempt sends.';

-- The transfer a reversal command reverses, as far as it is known: the one it names, or the one
-- the create_transfer command it names (transfer_command_id, sync_host_transfers) has made.
create or replace function private.reversal_transfer_id(p_payload jsonb) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(p_payload ->> 'transfer_id',
                  (select c.result ->> 'id' from private.payment_commands c
                    where c.id = (p_payload ->> 'transfer_command_id')::uuid and c.kind = 'create_transfer' and c.status = 'succeeded'))
$$;
comment on function private.reversal_transfer_id(jsonb) is 'The transfer a reverse_transfer payload reverses: its transfer_id, else the one its transfer_command_id made (null while that is not made).';

-- Fills what only becomes known after queueing (the transfer to reverse). Never changes a
-- parameter that was already sent: only absent keys are added.
create or replace function private.resolve_command_payload(p_command private.payment_commands) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_transfer text;
begin
  if p_command.kind = 'reverse_transfer' and p_command.payload ->> 'transfer_id' is null then
    -- A reversal queued for a transfer still being made (sync_host_transfers) reverses that one.
    v_transfer := private.reversal_transfer_id(p_command.payload);
    if v_transfer is not null then
      return p_command.payload || jsonb_build_object('transfer_id', v_transfer);
    end if;
    select t.id into v_transfer from private.stripe_transfers t
     where t.payment_id = p_command.payment_id and t.amount_cents - t.amount_reversed_cents > 0
     order by t.amount_cents - t.amount_reversed_cents >= (p_command.payload ->> 'amount')::bigint desc, t.created_at desc, t.id
     limit 1;
    if v_transfer is not null then
      return p_command.payload || jsonb_build_object('transfer_id', v_transfer);
    end if;
  end if;
  return p_command.payload;
end
$$;
comment on function private.resolve_command_payload(private.payment_commands) is 'Adds late-known parameters to a command payload: the transfer a reversal queued before its transfer was made applies to (the one its transfer_command_id made; else the newest of the payment''s transfers that still holds the amount).';

-- The worker reports a failed call. Retryable failures wait (exponential backoff with ±25 %
-- jitter, capped); the last attempt, or a failure Stripe says will never succeed, dead-letters
-- the command and runs its compensation. p_fresh_key: Stripe saved this refusal under the key the
-- attempt used and would replay it to any retry with that key (a 400 such as balance_insufficient,
-- docs.stripe.com/error-low-level), so the next attempt gets a new key, <id>:2, <id>:3, …, stored
-- now, before it is sent: an attempt that then fails indeterminately is retried with that same
-- new key. A command that dies this way gets its new key too, for an operator's retry.
-- Returns 'retry', 'dead' or the status it already had.
create or replace function private.fail_payment_command(p_id uuid, p_error_code text, p_error text, p_retryable boolean,
                                                        p_fresh_key boolean default false)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_command private.payment_commands;
  v_settings private.payment_settings;
  v_delay double precision;
  v_key text;
begin
  select * into v_command from private.payment_commands where id = p_id for update;
  if v_command.id is null then
    perform private.raise_error('22023', 'command_not_found', 'No such payment command.');
  end if;
  if v_command.status <> 'processing' then
    return v_command.status;
  end if;
  select * into v_settings from private.payment_settings;
  v_key := case when coalesce(p_fresh_key, false)
                then v_command.id::text || ':' || (coalesce(nullif(split_part(v_command.idempotency_key, ':', 2), '')::integer, 1) + 1)::text
                else v_command.idempotency_key end;
  if coalesce(p_retryable, false) and v_command.attempts < v_command.max_attempts then
    v_delay := least(v_settings.command_backoff_base_seconds * power(2, greatest(v_command.attempts - 1, 0)),
                     v_settings.command_backoff_max_seconds) * (0.75 + random() * 0.5);
    update private.payment_commands
       set status = 'pending', next_attempt_at = now() + make_interval(secs => v_delay), locked_until = null,
           idempotency_key = v_key,
           last_error_code = left(p_error_code, 100), last_error = left(p_error, 2000), updated_at = now()
     where id = p_id;
    return 'retry';
  end if;
  update private.payment_commands
     set status = 'dead', locked_until = null, completed_at = now(), idempotency_key = v_key,
         last_error_code = left(p_error_code, 100), last_error = left(p_error, 2000), updated_at = now()
   where id = p_id
  returning * into v_command;
  perform private.on_payment_command_dead(v_command);
  return 'dead';
end
$$;
comment on function private.fail_payment_command(uuid, text, text, boolean, boolean) is
  'Service role (payments-worker): records a failed Stripe call; retry with backoff (with a fresh idempotency key when Stripe saved the refusal under the old one), or dead-letter with compensation after the last attempt or a permanent error.';

-- ---------------------------------------------------------------------------------------------
-- Checkout
-- ---------------------------------------------------------------------------------------------

-- As the guest: checks the booking can be paid now and prepares its payment row. Returns what
-- the checkout function needs to create (or find) the PaymentIntent.
create or replace function private.prepare_checkout(p_booking_id uuid)
returns table (payment_id uuid, booking_id uuid, event_id uuid, host_id uuid, guest_id uuid, amount_cents bigint,
               currency text, hold_expires_at timestamptz, payment_intent_id text, payment_status text, event_title text)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_booking public.bookings;
  v_event private.events;
  v_payment private.payments;
begin
  if p_booking_id is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_booking_id is required.');
  end if;
  select * into v_booking from public.bookings b where b.id = p_booking_id for update;
  if v_booking.id is null then
    perform private.raise_error('22023', 'booking_not_found', 'No such booking.');
  end if;
  if v_booking.guest_id <> v_uid then
    perform private.raise_error('42501', 'not_your_booking', 'This booking is not yours.');
  end if;
  select * into v_payment from private.payments p where p.booking_id = p_booking_id;
  if v_booking.status = 'confirmed' or v_payment.status = 'succeeded' then
    perform private.raise_error('P0001', 'already_paid', 'This booking is already paid.');
  end if;
  if v_booking.status = 'pending_approval' then
    perform private.raise_error('P0001', 'awaiting_approval', 'The host has not approved this booking yet.');
  end if;
  if v_booking.status = 'expired' or (v_booking.status = 'held' and v_booking.hold_expires_at <= now()) then
    perform private.raise_error('P0001', 'hold_expired', 'Your hold on these seats has expired. Book again to pay.');
  end if;
  if v_booking.status <> 'held' then
    perform private.raise_error('P0001', 'booking_not_payable', format('A %s booking cannot be paid.', v_booking.status));
  end if;
  if v_booking.amount_cents <= 0 then
    perform private.raise_error('P0001', 'nothing_to_pay', 'This booking is free.');
  end if;
  select * into v_event from private.events e where e.id = v_booking.event_id;
  if not exists (select 1 from private.stripe_accounts a where a.host_id = v_event.host_id and private.stripe_account_ready(a)) then
    perform private.raise_error('P0001', 'host_cannot_accept_payments', 'The host cannot take payments right now.');
  end if;
  if v_payment.id is null then
    insert into private.payments (booking_id, event_id, host_id, guest_id, amount_cents, currency, platform_fee_bps, refund_policy)
    values (v_booking.id, v_booking.event_id, v_event.host_id, v_booking.guest_id, v_booking.amount_cents, v_booking.currency,
            (select s.platform_fee_bps from private.payment_settings s), v_event.refund_policy)
    returning * into v_payment;
  end if;
  return query select v_payment.id, v_booking.id, v_booking.event_id, v_event.host_id, v_booking.guest_id, v_payment.amount_cents,
                      v_payment.currency, v_booking.hold_expires_at, v_payment.payment_intent_id, v_payment.status, v_event.title;
end
$$;
comment on function private.prepare_checkout(uuid) is
  'As the guest (checkout function): checks the held booking can be paid now and prepares its payment. Errors: 22023 booking_not_found; 42501 not_your_booking; P0001 hold_expired, already_paid, awaiting_approval, booking_not_payable, nothing_to_pay, host_cannot_accept_payments.';

-- Service role (checkout): records the PaymentIntent created for a payment. If the hold ended
-- meanwhile, the intent is cancelled at once. Returns the intent id on record.
create or replace function private.record_payment_intent(p_payment_id uuid, p_intent jsonb) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
begin
  if p_intent ->> 'object' is distinct from 'payment_intent' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe PaymentIntent object.');
  end if;
  select * into v_payment from private.payments where id = p_payment_id for update;
  if v_payment.id is null then
    perform private.raise_error('22023', 'payment_not_found', 'No such payment.');
  end if;
  if v_payment.payment_intent_id is null then
    update private.payments set payment_intent_id = p_intent ->> 'id', livemode = (p_intent ->> 'livemode')::boolean, updated_at = now()
     where id = p_payment_id;
    perform private.apply_payment_intent(p_intent, null, to_timestamp((p_intent ->> 'created')::bigint));
    if exists (select 1 from public.bookings b where b.id = v_payment.booking_id and b.status in ('expired', 'cancelled'))
       and (select p.status from private.payments p where p.id = p_payment_id) not in ('succeeded', 'canceled') then
      perform private.enqueue_payment_command('cancel_payment_intent', jsonb_build_object('payment_intent_id', p_intent ->> 'id'),
                                              p_payment_id, v_payment.host_id);
    end if;
  end if;
  return coalesce(v_payment.payment_intent_id, p_intent ->> 'id');
end
$$;
comment on function private.record_payment_intent(uuid, jsonb) is
  'Service role (checkout): records the PaymentIntent of a payment (first one wins) and cancels it at once if the hold already ended.';

-- A held booking that ends unpaid (expired or cancelled) must not be paid later: its open
-- PaymentIntent is cancelled at Stripe. (Should a payment still succeed in the race, the
-- webhook refunds it.)
create or replace function private.on_booking_hold_ended() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
begin
  select * into v_payment from private.payments where booking_id = new.id;
  if v_payment.payment_intent_id is not null and v_payment.status not in ('succeeded', 'canceled') then
    perform private.enqueue_payment_command('cancel_payment_intent',
      jsonb_build_object('payment_intent_id', v_payment.payment_intent_id), v_payment.id, v_payment.host_id);
  end if;
  return null;
end
$$;
comment on function private.on_booking_hold_ended() is 'Trigger: a held booking that expired or was cancelled gets its open PaymentIntent cancelled.';

create trigger bookings_cancel_open_payment after update of status on public.bookings
  for each row when (old.status = 'held' and new.status in ('expired', 'cancelled'))
  execute function private.on_booking_hold_ended();

grant execute on function private.prepare_checkout(uuid) to authenticated;
grant execute on function private.record_payment_intent(uuid, jsonb), private.claim_payment_commands(integer, integer),
  private.fail_payment_command(uuid, text, text, boolean, boolean) to service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.claim_payment_commands(integer,integer),
  private.enqueue_payment_command(text,jsonb,uuid,uuid,uuid,uuid,uuid),
  private.fail_payment_command(uuid,text,text,boolean,boolean),
  private.fill_payment_split(),
  private.on_booking_hold_ended(),
  private.prepare_checkout(uuid),
  private.queue_balance_transaction_lookup(text,uuid,uuid),
  private.record_payment_intent(uuid,jsonb),
  private.resolve_command_payload(private.payment_commands),
  private.reversal_transfer_id(jsonb),
  private.stripe_status_known(text,text)
  from public;
