-- Payments, step 4: hosts' wallets — release, transfers to connected accounts, payouts.
--
-- Money flow (separate charges and transfers, research §3.3 design A):
--   paid      → the host's share is pending (the platform holds it);
--   released  → a job moves it to available once the system completed the event (its end,
--               which a host can never move into the past, has passed) and
--               payment_settings.release_hold_hours have passed (disputed payments wait), and
--               queues a transfer of it to the host's connected account (source_transaction =
--               the charge, transfer_group = the booking);
--   withdrawn → request_payout(amount, currency) locks the host's available balance, refuses
--               more than it holds (insufficient_funds), moves the amount to in transit and
--               queues a Stripe payout from the connected account; payout.paid settles it
--               (paid out), payout.failed / canceled puts it back.
--
-- Transfers follow the wallet, not the other way round: private.sync_host_transfers keeps
-- "what Rally has transferred to the host" equal to "what the host's wallet says is at Stripe"
-- (available, if positive, + in transit + paid out), whatever order payments are released in.
-- After a refund or a dispute on released money the difference is negative and transfers are
-- reversed (that payment's first, then the host's others, newest first, as far as their
-- connected account still holds them); a host whose balance went negative receives no transfer
-- until later earnings have covered it — that is how a debt is recovered from future earnings.
-- Wallets, transfers and payouts are in the settlement currency (payments.settlement_currency):
-- a transfer with source_transaction must be in the currency of the charge's balance transaction.

create table private.stripe_transfers (
  id text primary key,
  payment_id uuid references private.payments (id),
  host_id uuid not null references public.profiles (id),
  account_id text not null,
  amount_cents bigint not null,
  amount_reversed_cents bigint not null default 0,
  currency text not null references public.currencies (code),
  command_id uuid,
  livemode boolean,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint stripe_transfers_id check (id ~ '^tr_[A-Za-z0-9]+$'),
  constraint stripe_transfers_amounts check (amount_cents > 0 and amount_reversed_cents between 0 and amount_cents)
);
comment on table private.stripe_transfers is 'Transfers to hosts'' connected accounts, as Stripe reported them (worker result or transfer.* webhooks).';
create index stripe_transfers_payment_idx on private.stripe_transfers (payment_id);
create index stripe_transfers_host_idx on private.stripe_transfers (host_id);
create index stripe_transfers_currency_idx on private.stripe_transfers (currency);

create table private.stripe_transfer_reversals (
  id text primary key,
  transfer_id text not null references private.stripe_transfers (id),
  amount_cents bigint not null,
  currency text not null references public.currencies (code),
  created_at timestamptz not null default now(),
  constraint stripe_transfer_reversals_id check (id ~ '^trr_[A-Za-z0-9]+$'),
  constraint stripe_transfer_reversals_amount check (amount_cents > 0)
);
comment on table private.stripe_transfer_reversals is 'Transfer reversals (refunds and disputes on released money), as Stripe reported them.';
create index stripe_transfer_reversals_transfer_idx on private.stripe_transfer_reversals (transfer_id);
create index stripe_transfer_reversals_currency_idx on private.stripe_transfer_reversals (currency);

create table private.payouts (
  id uuid primary key default gen_random_uuid(),
  host_id uuid not null references public.profiles (id),
  account_id text not null,
  amount_cents bigint not null,
  currency text not null references public.currencies (code),
  status text not null default 'requested',
  stripe_status text,
  stripe_payout_id text,
  failure_code text,
  failure_message text,
  arrival_date date,
  requested_at timestamptz not null default now(),
  paid_at timestamptz,
  failed_at timestamptz,
  synced_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint payouts_amount check (amount_cents > 0),
  constraint payouts_status check (status in ('requested', 'pending', 'in_transit', 'paid', 'failed', 'canceled')),
  constraint payouts_stripe_id check (stripe_payout_id is null or stripe_payout_id ~ '^po_[A-Za-z0-9]+$')
);
comment on table private.payouts is
  'Withdrawals hosts asked for with request_payout: Stripe payouts from their connected account to their bank. Status follows payout.* webhooks.';
comment on column private.payouts.failure_code is 'Stripe''s failure code, or command_dead when Stripe never accepted the payout.';
comment on column private.payouts.stripe_status is 'The payout status in Stripe''s newest snapshot, raw (may be one Rally does not know: reconciliation lists it).';
create unique index payouts_stripe_id_key on private.payouts (stripe_payout_id);
create index payouts_host_idx on private.payouts (host_id, requested_at desc);
create index payouts_currency_idx on private.payouts (currency);
create index payouts_open_idx on private.payouts (requested_at) where status in ('requested', 'pending', 'in_transit');

alter table private.ledger_transactions
  add constraint ledger_transactions_payout_fk foreign key (payout_id) references private.payouts (id);
alter table private.payment_commands
  add constraint payment_commands_payout_fk foreign key (payout_id) references private.payouts (id);

-- ---------------------------------------------------------------------------------------------
-- Transfers follow the wallet
-- ---------------------------------------------------------------------------------------------

-- The host's natural (credit-positive) wallet balances in one currency.
create or replace function private.host_wallet(p_host_id uuid, p_currency text,
  out pending bigint, out available bigint, out in_transit bigint, out paid_out bigint, out transferred bigint)
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(-sum(b.balance) filter (where a.kind = 'host_pending'), 0)::bigint,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_available'), 0)::bigint,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_in_transit'), 0)::bigint,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_paid_out'), 0)::bigint,
         coalesce(sum(b.balance) filter (where a.kind = 'host_transferred'), 0)::bigint
    from private.ledger_accounts a join private.ledger_balances b on b.account_id = a.id
   where a.host_id = p_host_id and a.currency = p_currency
$$;
comment on function private.host_wallet(uuid, text) is 'A host''s wallet in one currency (pending, available, in transit, paid out, as positive amounts) and what was transferred to their connected account.';

-- What a payment's transfers still hold at the host (transferred − reversed), counting queued calls.
create or replace function private.payment_net_transferred(p_payment_id uuid) returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select sum(t.amount_cents - t.amount_reversed_cents) from private.stripe_transfers t where t.payment_id = p_payment_id), 0)
       + coalesce((select sum((c.payload ->> 'amount')::bigint) from private.payment_commands c
                    where c.payment_id = p_payment_id and c.kind = 'create_transfer' and c.status in ('pending', 'processing')), 0)
       - coalesce((select sum((c.payload ->> 'amount')::bigint) from private.payment_commands c
                    where c.payment_id = p_payment_id and c.kind = 'reverse_transfer' and c.status in ('pending', 'processing')), 0)
$$;
comment on function private.payment_net_transferred(uuid) is 'What a payment''s transfers still hold at the host, including queued transfers and reversals.';

-- Queues the transfers or reversals that make "transferred to the host" match the wallet:
-- target = max(available, 0) + in transit + paid out, in one currency. A positive gap is
-- transferred from released charges, this payment's first, then the host's other ones newest
-- first, each at most what it still earns the host (its share released to available, less what
-- refunds and disputes took back) not yet transferred; a negative gap is reversed from
-- transfers, this payment's first, then the host's others newest first, each as far as it still
-- holds money (and, last, from transfers still queued, once they are made). Serialized per host
-- and currency by the host_available row lock. Returns the amount queued (+ transfers, − reversals).
create or replace function private.sync_host_transfers(p_host_id uuid, p_currency text, p_payment_id uuid) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_account private.stripe_accounts;
  v_wallet record;
  v_current bigint;
  v_gap bigint;
  v_amount bigint;
  v_queued bigint := 0;
  r record;
begin
  perform private.lock_host_balance(p_host_id, 'host_available', p_currency);
  select * into v_wallet from private.host_wallet(p_host_id, p_currency);
  v_current := v_wallet.transferred
    + coalesce((select sum((c.payload ->> 'amount')::bigint) from private.payment_commands c
                 where c.host_id = p_host_id and c.kind = 'create_transfer' and c.status in ('pending', 'processing')
                   and c.payload ->> 'currency' = lower(p_currency)), 0)
    - coalesce((select sum((c.payload ->> 'amount')::bigint) from private.payment_commands c
                 where c.host_id = p_host_id and c.kind = 'reverse_transfer' and c.status in ('pending', 'processing')
                   and c.payload ->> 'currency' = lower(p_currency)), 0);
  v_gap := greatest(v_wallet.available, 0) + v_wallet.in_transit + v_wallet.paid_out - v_current;
  if v_gap > 0 then
    select * into v_account from private.stripe_accounts where host_id = p_host_id;
    if v_account.host_id is null or private.stripe_account_ready(v_account) is not true then
      return 0;
    end if;
    for r in
      select p.* from private.payments p
       where p.host_id = p_host_id and p.settlement_currency = upper(p_currency) and p.status = 'succeeded'
         and p.released_at is not null and p.charge_id is not null
       order by p.id = p_payment_id desc, p.released_at desc, p.id
    loop
      exit when v_gap <= 0;
      v_amount := least(v_gap, -private.payment_ledger_sum(r.id, 'host_available') - private.payment_net_transferred(r.id));
      continue when v_amount <= 0;
      perform private.enqueue_payment_command('create_transfer',
        jsonb_build_object('amount', v_amount, 'currency', lower(p_currency), 'destination', v_account.account_id,
                           'source_transaction', r.charge_id, 'transfer_group', r.booking_id::text,
                           'metadata', jsonb_build_object('payment_id', r.id::text, 'booking_id', r.booking_id::text,
                                                          'host_id', p_host_id::text)),
        r.id, p_host_id);
      v_gap := v_gap - v_amount;
      v_queued := v_queued + v_amount;
    end loop;
    return v_queued;
  end if;
  if v_gap = 0 then
    return 0;
  end if;
  -- Transfers made: each as far as it still holds money, counting reversals already queued for it
  -- (also those queued while it was still being made).
  for r in
    select t.id, t.payment_id, p.booking_id,
           t.amount_cents - t.amount_reversed_cents
             - coalesce((select sum((c.payload ->> 'amount')::bigint) from private.payment_commands c
                          where c.kind = 'reverse_transfer' and c.status in ('pending', 'processing')
                            and private.reversal_transfer_id(c.payload) = t.id), 0) as holds
      from private.stripe_transfers t left join private.payments p on p.id = t.payment_id
     where t.host_id = p_host_id and t.currency = upper(p_currency)
     order by t.payment_id is not distinct from p_payment_id desc, t.created_at desc, t.id
  loop
    exit when v_gap >= 0;
    v_amount := least(-v_gap, r.holds);
    continue when v_amount <= 0;
    perform private.enqueue_payment_command('reverse_transfer',
      jsonb_build_object('amount', v_amount, 'currency', lower(p_currency), 'transfer_id', r.id,
                         'metadata', jsonb_strip_nulls(jsonb_build_object('payment_id', r.payment_id::text, 'booking_id', r.booking_id::text,
                                                                          'host_id', p_host_id::text))),
      r.payment_id, p_host_id);
    v_gap := v_gap + v_amount;
    v_queued := v_queued - v_amount;
  end loop;
  -- Transfers still queued: each reversed once made, by no more than it will hold (Stripe refuses a
  -- reversal larger than its transfer). The reversal names the command that makes its transfer;
  -- the worker names the transfer itself once that command has run (resolve_command_payload).
  for r in
    select c.id as command_id, c.payment_id, p.booking_id,
           (c.payload ->> 'amount')::bigint
             - coalesce((select sum((x.payload ->> 'amount')::bigint) from private.payment_commands x
                          where x.kind = 'reverse_transfer' and x.status in ('pending', 'processing')
                            and x.payload ->> 'transfer_command_id' = c.id::text), 0) as holds
      from private.payment_commands c join private.payments p on p.id = c.payment_id
     where c.host_id = p_host_id and c.kind = 'create_transfer' and c.status in ('pending', 'processing')
       and c.payload ->> 'currency' = lower(p_currency)
     order by c.payment_id = p_payment_id desc, c.created_at desc, c.id
  loop
    exit when v_gap >= 0;
    v_amount := least(-v_gap, r.holds);
    continue when v_amount <= 0;
    perform private.enqueue_payment_command('reverse_transfer',
      jsonb_build_object('amount', v_amount, 'currency', lower(p_currency), 'transfer_command_id', r.command_id,
                         'metadata', jsonb_build_object('payment_id', r.payment_id::text, 'booking_id', r.booking_id::text,
                                                        'host_id', p_host_id::text)),
      r.payment_id, p_host_id);
    v_gap := v_gap + v_amount;
    v_queued := v_queued - v_amount;
  end loop;
  return v_queued;
end
$$;
comment on function private.sync_host_transfers(uuid, text, uuid) is
  'Queues the transfers (or reversals) that keep what was transferred to a host equal to max(available, 0) + in transit + paid out in one currency, whatever order payments were released in: this payment''s charge or transfers first, then the host''s others. Returns the amount queued (+ transfers, − reversals).';

-- Applies a Stripe Transfer object (worker result or transfer.created / .updated / .reversed):
-- records it, books the transfer once (transfer:<tr id>) and every reversal it lists once.
create or replace function private.apply_transfer(p_transfer jsonb, p_event_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_host uuid;
  v_currency text := upper(p_transfer ->> 'currency');
  v_reversal jsonb;
begin
  if p_transfer ->> 'object' is distinct from 'transfer' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe transfer object.');
  end if;
  select p.* into v_payment from private.payments p
   where p.id = case when p_transfer -> 'metadata' ->> 'payment_id' ~ '^[0-9a-f-]{36}$'
                     then (p_transfer -> 'metadata' ->> 'payment_id')::uuid end;
  select a.host_id into v_host from private.stripe_accounts a where a.account_id = p_transfer ->> 'destination';
  if v_host is null then
    return 'unknown_destination';
  end if;
  insert into private.stripe_transfers (id, payment_id, host_id, account_id, amount_cents, currency, livemode, created_at)
  values (p_transfer ->> 'id', v_payment.id, v_host, p_transfer ->> 'destination', (p_transfer ->> 'amount')::bigint, v_currency,
          (p_transfer ->> 'livemode')::boolean, coalesce(to_timestamp((p_transfer ->> 'created')::bigint), now()))
  on conflict (id) do nothing;
  perform private.post_ledger_transaction('transfer:' || (p_transfer ->> 'id'), 'transfer',
    private.postings_transfer(v_host, v_currency, (p_transfer ->> 'amount')::bigint),
    p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id,
    p_stripe_object_id => p_transfer ->> 'id', p_stripe_event_id => p_event_id);
  for v_reversal in select r from jsonb_array_elements(coalesce(p_transfer -> 'reversals' -> 'data', '[]'::jsonb)) as r loop
    perform private.apply_transfer_reversal(v_reversal, p_event_id);
  end loop;
  return 'applied';
end
$$;
comment on function private.apply_transfer(jsonb, text) is 'Applies a Stripe Transfer (and the reversals it lists): recorded and booked once each.';

create or replace function private.apply_transfer_reversal(p_reversal jsonb, p_event_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_transfer private.stripe_transfers;
  v_inserted integer;
begin
  if p_reversal ->> 'object' is distinct from 'transfer_reversal' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe transfer reversal object.');
  end if;
  select * into v_transfer from private.stripe_transfers where id = p_reversal ->> 'transfer' for update;
  if v_transfer.id is null then
    return 'unknown_transfer';
  end if;
  insert into private.stripe_transfer_reversals (id, transfer_id, amount_cents, currency, created_at)
  values (p_reversal ->> 'id', v_transfer.id, (p_reversal ->> 'amount')::bigint, v_transfer.currency,
          coalesce(to_timestamp((p_reversal ->> 'created')::bigint), now()))
  on conflict (id) do nothing;
  get diagnostics v_inserted = row_count;
  if v_inserted > 0 then
    update private.stripe_transfers
       set amount_reversed_cents = (select coalesce(sum(r.amount_cents), 0) from private.stripe_transfer_reversals r where r.transfer_id = v_transfer.id),
           updated_at = now()
     where id = v_transfer.id;
  end if;
  perform private.post_ledger_transaction('transfer_reversal:' || (p_reversal ->> 'id'), 'transfer_reversal',
    private.postings_transfer_reversal(v_transfer.host_id, v_transfer.currency, (p_reversal ->> 'amount')::bigint),
    p_payment_id => v_transfer.payment_id,
    p_booking_id => (select p.booking_id from private.payments p where p.id = v_transfer.payment_id),
    p_stripe_object_id => p_reversal ->> 'id', p_stripe_event_id => p_event_id);
  return 'applied';
end
$$;
comment on function private.apply_transfer_reversal(jsonb, text) is 'Applies a Stripe TransferReversal: recorded and booked once.';

-- ---------------------------------------------------------------------------------------------
-- Release job
-- ---------------------------------------------------------------------------------------------

-- Job (every 10 minutes): paid bookings whose event ended at least release_hold_hours ago
-- (and whose payment has no open dispute, in an event not cancelled) have their pending host
-- share moved to available, and the transfers to the host are queued. Returns how many payments
-- were released. Money that comes back to pending after a payment's release (a refund taken from
-- pending that failed late, a late dispute fee or reinstatement) is swept into available too,
-- booked as its own release keyed by the pending entry it clears; the sweep looks at pending
-- movements of the last 7 days, which the 10-minute job covers many times over. Transfers are
-- synced once per host and currency after all of the run's releases, so the order payments are
-- released in cannot change what the host is sent.
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
  v_hosts uuid[] := array[]::uuid[];
  v_currencies text[] := array[]::text[];
  v_payments uuid[] := array[]::uuid[];
  r record;
begin
  for v_payment in
    select p.* from private.payments p join private.events e on e.id = p.event_id
     where p.status = 'succeeded' and p.released_at is null
       -- Booked: a payment in another currency than the settlement currency is booked (and so
       -- released) only once Stripe's balance transaction said what it settled for.
       and p.settlement_amount_cents is not null
       -- Money follows facts: the event really ended (completed by the system, never a time
       -- the host can move) at least release_hold_hours ago.
       and e.status = 'completed' and e.completed_at + make_interval(hours => v_hold) <= now()
       and not exists (select 1 from private.disputes d where d.payment_id = p.id and d.is_open)
     order by e.completed_at, p.id
     limit p_limit
     for update of p skip locked
  loop
    v_pending := -private.payment_ledger_sum(v_payment.id, 'host_pending');
    perform private.post_ledger_transaction('release:' || v_payment.id::text, 'release',
      private.postings_release(v_payment.host_id, v_payment.settlement_currency, v_pending),
      p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id);
    update private.payments set released_at = now(), updated_at = now() where id = v_payment.id;
    v_hosts := v_hosts || v_payment.host_id;
    v_currencies := v_currencies || v_payment.settlement_currency;
    v_payments := v_payments || v_payment.id;
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
      private.postings_release(v_payment.host_id, v_payment.settlement_currency, v_pending),
      p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id);
    v_hosts := v_hosts || v_payment.host_id;
    v_currencies := v_currencies || v_payment.settlement_currency;
    v_payments := v_payments || v_payment.id;
    v_count := v_count + 1;
  end loop;

  for r in
    select distinct on (u.host_id, u.currency) u.host_id, u.currency, u.payment_id
      from unnest(v_hosts, v_currencies, v_payments) with ordinality as u(host_id, currency, payment_id, n)
     order by u.host_id, u.currency, u.n
  loop
    perform private.sync_host_transfers(r.host_id, r.currency, r.payment_id);
  end loop;
  return v_count;
end
$$;
comment on function private.release_host_earnings(integer) is
  'Job (every 10 minutes): moves the pending share of paid bookings to available once the event ended release_hold_hours ago (disputed payments, payments not yet booked and cancelled events wait), sweeps pending amounts that came back after a payment''s release, then queues the transfers to each host once.';

-- ---------------------------------------------------------------------------------------------
-- Payouts
-- ---------------------------------------------------------------------------------------------

-- The one way money leaves a host's wallet for their bank, whoever asks (the host through
-- request_payout, or the payout schedule's job): under the lock on the host's available balance
-- it refuses more than the balance holds (insufficient_funds), moves the amount to in transit
-- and queues the Stripe payout from the connected account. Parallel callers queue on that lock,
-- so no combination of them can overdraw the balance.
create or replace function private.start_payout(p_host_id uuid, p_amount_cents bigint, p_currency text)
returns private.payouts
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_profile public.profiles;
  v_account private.stripe_accounts;
  v_available bigint;
  v_payout private.payouts;
begin
  if p_amount_cents is null or p_amount_cents <= 0 then
    perform private.raise_error('22023', 'invalid_amount', 'Ask for a positive amount in minor units.');
  end if;
  if p_currency is null or not exists (select 1 from public.currencies c where c.code = p_currency) then
    perform private.raise_error('22023', 'invalid_currency', 'Unknown currency.');
  end if;
  select * into v_profile from public.profiles p where p.id = p_host_id;
  if v_profile.is_host is not true then
    perform private.raise_error('42501', 'not_a_host', 'Only hosts have a wallet to withdraw from.');
  end if;
  if v_profile.host_status = 'suspended' then
    perform private.raise_error('P0001', 'host_suspended', 'Your hosting rights are suspended; payouts wait until they are restored.');
  end if;
  select * into v_account from private.stripe_accounts a where a.host_id = p_host_id;
  if v_account.host_id is null or private.stripe_account_ready(v_account) is not true then
    perform private.raise_error('P0001', 'payouts_not_enabled', 'Finish Stripe onboarding before withdrawing.');
  end if;
  -- The committed balance first, without a lock: when even that is too small the answer is
  -- no at once, as it would have been a moment earlier, and the request never queues.
  v_available := (select w.available from private.host_wallet(p_host_id, p_currency) w);
  if v_available >= p_amount_cents then
    -- Everything is written before the lock, and a refusal below undoes it with the transaction:
    -- the payout, the worker's command, and the move itself, whose last act is the update of the
    -- host's available balance row — the lock every payout for this host and currency queues on.
    -- The balance it leaves is checked under that lock, so the lock is held for the check and the
    -- commit only, and no combination of requests can overdraw it.
    insert into private.payouts (host_id, account_id, amount_cents, currency)
    values (p_host_id, v_account.account_id, p_amount_cents, p_currency)
    returning * into v_payout;
    perform private.enqueue_payment_command('create_payout',
      jsonb_build_object('amount', p_amount_cents, 'currency', lower(p_currency), 'stripe_account', v_account.account_id,
                         'metadata', jsonb_build_object('payout_id', v_payout.id::text, 'host_id', p_host_id::text)),
      p_host_id => p_host_id, p_payout_id => v_payout.id);
    -- The first payout in a currency creates the host's in-transit account, and a concurrent
    -- payout (or the payout schedule, which locks the available balance first) would wait on that
    -- creation while this one waits on the available balance: the first takes the lock up front,
    -- as every caller of lock_host_balance does.
    if not exists (select 1 from private.ledger_accounts a
                    where a.kind = 'host_in_transit' and a.host_id = p_host_id and a.currency = p_currency) then
      perform private.lock_host_balance(p_host_id, 'host_available', p_currency);
    end if;
    perform private.post_ledger_transaction('payout:' || v_payout.id::text || ':requested', 'payout_requested',
      private.postings_payout_requested(p_host_id, p_currency, p_amount_cents), p_payout_id => v_payout.id);
    -- What was available before this move, read under the lock the move took.
    v_available := -private.lock_host_balance(p_host_id, 'host_available', p_currency) + p_amount_cents;
  end if;
  if v_available < p_amount_cents then
    perform private.raise_error('P0001', 'insufficient_funds',
      format('You can withdraw at most %s %s right now.', greatest(v_available, 0), p_currency));
  end if;
  return v_payout;
end
$$;
comment on function private.start_payout(uuid, bigint, text) is
  'Starts a payout of p_amount_cents from a host''s available balance (under its row lock: insufficient_funds when it holds less), moves it to in transit and queues the Stripe payout. The one path behind request_payout and scheduled payouts. Errors: 22023 invalid_amount / invalid_currency; 42501 not_a_host; P0001 host_suspended, payouts_not_enabled, insufficient_funds.';

create or replace function private.request_payout(p_amount_cents bigint, p_currency text)
returns table (payout_id uuid, amount_cents bigint, currency text, status text, requested_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payout private.payouts := private.start_payout(private.require_user(), p_amount_cents, upper(btrim(p_currency)));
begin
  return query select v_payout.id, v_payout.amount_cents, v_payout.currency, v_payout.status, v_payout.requested_at;
end
$$;

create or replace function public.request_payout(p_amount_cents bigint, p_currency text)
returns table (payout_id uuid, amount_cents bigint, currency text, status text, requested_at timestamptz)
language plpgsql
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return query select * from private.request_payout(p_amount_cents, p_currency);
end
$$;
comment on function public.request_payout(bigint, text) is
  'A host withdraws p_amount_cents (minor units) of p_currency from their available balance to their bank through Stripe: the amount moves to in transit at once (under a lock on the balance, so parallel requests never overdraw) and the payout is sent by the payments worker; payout.paid settles it, a failure puts it back. Errors: 22023 invalid_amount / invalid_currency; 42501 not_authenticated / not_a_host; P0001 payouts_not_enabled, insufficient_funds, host_suspended.';

-- Applies a Stripe Payout object from the host's connected account (worker result or payout.*
-- webhooks). Statuses only move forward (paid → failed is Stripe's one way back).
create or replace function private.apply_payout(p_payout jsonb, p_account text, p_as_of timestamptz, p_event_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row private.payouts;
  v_status text := p_payout ->> 'status';
  v_from text;
  v_title text;
begin
  if p_payout ->> 'object' is distinct from 'payout' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe payout object.');
  end if;
  select * into v_row from private.payouts where stripe_payout_id = p_payout ->> 'id' for update;
  if v_row.id is null and p_payout -> 'metadata' ->> 'payout_id' ~ '^[0-9a-f-]{36}$' then
    select * into v_row from private.payouts
     where id = (p_payout -> 'metadata' ->> 'payout_id')::uuid and (p_account is null or account_id = p_account)
     for update;
  end if;
  if v_row.id is null then
    return 'unknown_payout';
  end if;
  if v_row.stripe_payout_id is null then
    update private.payouts set stripe_payout_id = p_payout ->> 'id', updated_at = now() where id = v_row.id;
  end if;
  if v_row.synced_at is null or p_as_of > v_row.synced_at or (p_as_of = v_row.synced_at and v_status in ('failed', 'canceled')) then
    update private.payouts set synced_at = p_as_of, stripe_status = v_status,
           arrival_date = coalesce(to_timestamp((p_payout ->> 'arrival_date')::bigint)::date, arrival_date)
     where id = v_row.id;
  end if;
  if private.stripe_status_known('payout', v_status) is not true then
    return 'unknown_status'; -- kept raw in stripe_status; nothing moves (reconciliation lists it)
  end if;

  if v_status = 'paid' then
    if v_row.status in ('failed', 'canceled') then
      if v_row.failure_code = 'command_dead' then
        -- We gave up on the call, but Stripe did pay it: book the late success.
        perform private.post_ledger_transaction('payout:' || v_row.id::text || ':late_paid', 'payout_paid',
          private.ledger_entries_of(
            private.ledger_entry('host_available', v_row.host_id, v_row.currency, v_row.amount_cents),
            private.ledger_entry('host_paid_out', v_row.host_id, v_row.currency, -v_row.amount_cents)),
          p_payout_id => v_row.id, p_stripe_object_id => p_payout ->> 'id', p_stripe_event_id => p_event_id);
        update private.payouts set status = 'paid', paid_at = now(), failure_code = null, failure_message = null, updated_at = now()
         where id = v_row.id;
      end if;
      return 'applied';
    end if;
    if v_row.status <> 'paid' then
      perform private.post_ledger_transaction('payout:' || v_row.id::text || ':paid', 'payout_paid',
        private.postings_payout_paid(v_row.host_id, v_row.currency, v_row.amount_cents),
        p_payout_id => v_row.id, p_stripe_object_id => p_payout ->> 'id', p_stripe_event_id => p_event_id);
      update private.payouts set status = 'paid', paid_at = now(), updated_at = now() where id = v_row.id;
      perform private.notify(v_row.host_id, 'payout_paid', 'Your payout is on its way to your bank', null,
        jsonb_build_object('payout_id', v_row.id, 'amount_cents', v_row.amount_cents, 'currency', v_row.currency));
    end if;
  elsif v_status in ('failed', 'canceled') then
    if v_row.status not in ('failed', 'canceled') then
      v_from := case when private.ledger_posted('payout:' || v_row.id::text || ':paid') then 'host_paid_out' else 'host_in_transit' end;
      perform private.post_ledger_transaction('payout:' || v_row.id::text || ':returned', 'payout_returned',
        private.postings_payout_returned(v_row.host_id, v_row.currency, v_row.amount_cents, v_from),
        p_payout_id => v_row.id, p_stripe_object_id => p_payout ->> 'id', p_stripe_event_id => p_event_id);
      update private.payouts
         set status = v_status, failed_at = now(), failure_code = p_payout ->> 'failure_code',
             failure_message = p_payout ->> 'failure_message', updated_at = now()
       where id = v_row.id;
      v_title := case v_status when 'failed' then 'Your payout failed' else 'Your payout was canceled' end;
      perform private.notify(v_row.host_id, 'payout_failed', v_title,
        coalesce(p_payout ->> 'failure_message', 'The money is back in your available balance.'),
        jsonb_build_object('payout_id', v_row.id, 'amount_cents', v_row.amount_cents, 'currency', v_row.currency,
                           'failure_code', p_payout ->> 'failure_code'));
    end if;
  elsif v_status in ('pending', 'in_transit') and v_row.status in ('requested', 'pending') and v_row.status <> v_status then
    update private.payouts set status = v_status, updated_at = now() where id = v_row.id;
  end if;
  return 'applied';
end
$$;
comment on function private.apply_payout(jsonb, text, timestamptz, text) is
  'Applies a Stripe Payout from a host''s connected account: paid → paid out; failed / canceled → back to available (from paid out if Stripe had said paid). Booked once per transition. A status Rally does not know is stored raw (stripe_status) and moves nothing: unknown_status.';

-- ---------------------------------------------------------------------------------------------
-- What hosts read
-- ---------------------------------------------------------------------------------------------

create or replace function private.my_wallet_balances()
returns table (currency text, pending_cents bigint, available_cents bigint, in_transit_cents bigint, paid_out_cents bigint)
language sql
stable
security definer
set search_path = ''
as $$
  select a.currency,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_pending'), 0)::bigint,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_available'), 0)::bigint,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_in_transit'), 0)::bigint,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_paid_out'), 0)::bigint
    from private.ledger_accounts a join private.ledger_balances b on b.account_id = a.id
   where a.host_id = (select auth.uid())
     and a.kind in (select k.kind from private.ledger_account_kinds k where k.in_host_wallet)
   group by a.currency
$$;
comment on function private.my_wallet_balances() is 'The caller''s wallet balances per currency (read through public.wallet_balances).';

create view public.wallet_balances with (security_invoker = true) as
  select w.currency, w.pending_cents, w.available_cents, w.in_transit_cents, w.paid_out_cents
    from private.my_wallet_balances() as w;
revoke all on public.wallet_balances from public, anon, authenticated, service_role;
comment on view public.wallet_balances is
  'The calling host''s wallet, one row per currency (minor units): pending (events not yet released), available (withdrawable; negative when the host owes Rally after a refund or dispute), in transit (payouts on their way), paid out (total paid to their bank). Nobody sees anyone else''s.';
comment on column public.wallet_balances.available_cents is 'Withdrawable with request_payout; negative when a refund or dispute took more than the host had (recovered from later earnings).';

-- Opaque keyset cursor: base64 of the last entry id.
create or replace function private.my_wallet_activity(p_cursor text, p_limit integer)
returns table (entry_id bigint, created_at timestamptz, currency text, balance text, amount_cents bigint, kind text,
               booking_id uuid, event_id uuid, payout_id uuid, cursor text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_after bigint;
begin
  if p_limit is null or p_limit not between 1 and 100 then
    perform private.raise_error('22023', 'invalid_limit', 'Ask for 1 to 100 rows.');
  end if;
  if p_cursor is not null then
    begin
      v_after := convert_from(decode(p_cursor, 'base64'), 'UTF8')::bigint;
    exception when others then
      perform private.raise_error('22023', 'invalid_cursor', 'The cursor is not one this API returned.');
    end;
  end if;
  return query
    select e.id, e.created_at, e.currency, substr(a.kind, 6), -e.amount, t.kind, t.booking_id, p.event_id, t.payout_id,
           encode(convert_to(e.id::text, 'UTF8'), 'base64')
      from private.ledger_entries e
      join private.ledger_accounts a on a.id = e.account_id
      join private.ledger_transactions t on t.id = e.transaction_id
      left join private.payments p on p.id = t.payment_id
     where a.host_id = v_uid and a.kind in (select k.kind from private.ledger_account_kinds k where k.in_host_wallet)
       and (v_after is null or e.id < v_after)
     order by e.id desc
     limit p_limit;
end
$$;

create or replace function public.wallet_activity(p_cursor text default null, p_limit integer default 20)
returns table (entry_id bigint, created_at timestamptz, currency text, balance text, amount_cents bigint, kind text,
               booking_id uuid, event_id uuid, payout_id uuid, cursor text)
language plpgsql
stable
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return query select * from private.my_wallet_activity(p_cursor, p_limit);
end
$$;
comment on function public.wallet_activity(text, integer) is
  'The calling host''s wallet movements, newest first: balance (pending | available | in_transit | paid_out), amount_cents (+ adds to that balance, − takes from it), kind (payment, release, refund_requested, dispute_opened, payout_requested, payout_paid, payout_returned, …), and the booking, event or payout it concerns. Pass the last row''s cursor for the next page; p_limit 1–100 (20). Errors: 22023 invalid_cursor / invalid_limit; 42501 not_authenticated.';

-- public.wallet_balances is a security-invoker view over the caller's own balances; the service
-- role reads it too (and sees none, having no wallet of its own).
grant execute on function private.my_wallet_balances() to authenticated, service_role;
grant execute on function private.request_payout(bigint, text), private.my_wallet_activity(text, integer) to authenticated;
revoke execute on function public.request_payout(bigint, text), public.wallet_activity(text, integer) from public, anon, authenticated, service_role;
grant execute on function public.request_payout(bigint, text), public.wallet_activity(text, integer) to anon, authenticated;
grant select on public.wallet_balances to authenticated, service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.apply_payout(jsonb,text,timestamp with time zone,text),
  private.apply_transfer_reversal(jsonb,text),
  private.apply_transfer(jsonb,text),
  private.host_wallet(uuid,text),
  private.my_wallet_activity(text,integer),
  private.my_wallet_balances(),
  private.payment_net_transferred(uuid),
  private.release_host_earnings(integer),
  private.request_payout(bigint,text),
  private.start_payout(uuid,bigint,text),
  private.sync_host_transfers(uuid,text,uuid)
  from public;
