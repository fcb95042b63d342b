-- Payments, step 2: the double-entry ledger (source of truth for hosts' wallets).
--
-- Every money movement Rally knows about is one ledger transaction with two or more entries.
-- Amounts are integers in the currency's minor unit, signed: a debit is positive, a credit
-- negative, so every transaction sums to zero per currency. Asset and expense accounts carry
-- positive balances; liability, income and clearing accounts negative ones (a host's wallet
-- figures are the negated balances of their liability accounts).
--
-- Accounts: one per kind × currency, and per host for host_* kinds. The kinds, their nature
-- (asset, liability, income, expense, clearing) and what each holds are the rows of
-- private.ledger_account_kinds below.
--
-- Why it is built this way (research §10):
-- - Append-only: entries and transactions are never updated or deleted (triggers refuse it,
--   including TRUNCATE); corrections are reversing transactions.
-- - Zero-sum is enforced by the database, not only by the posting function: a constraint
--   trigger DEFERRABLE INITIALLY DEFERRED re-checks every transaction per currency at commit,
--   and each account's currency is pinned by a composite foreign key.
-- - One posting function, private.post_ledger_transaction, with a unique idempotency key named
--   after the money movement itself (`payment:pi_…:succeeded`, `refund:<id>:settled`,
--   `transfer:tr_…`), so the webhook, the worker and a replay can all report the same movement
--   and it is booked once. The same key with different entries is an error.
-- - The entries of each business event are built by small immutable functions
--   (private.postings_*), unit-tested on their own.
-- - Host balances are cached in private.ledger_balances, updated by the posting function in the
--   same transaction under the row lock, so request_payout can lock one row and read an exact
--   balance. Platform accounts are not cached (they would be a hot row every payment waits on);
--   their balances are sums over entries. A kind nothing locks to decide on (host_pending: every
--   payment of a host posts to it, from the webhook's posting to its commit) is cached in
--   balance_stripes rows per account, a posting taking the row its transaction id picks, so
--   concurrent payments of one host (consecutive ids) do not queue on one row; its balance is
--   the sum of its rows. host_available, which request_payout locks, stays one exact row.

-- The account kinds, defined once: ledger_accounts.kind references them, every posting is
-- checked against them, and in_host_wallet says which of them make up a host's wallet (what
-- wallet_balances and my_wallet_activity show; host_transferred is Rally's side of the transfers).
create table private.ledger_account_kinds (
  kind text primary key,
  nature text not null check (nature in ('asset', 'liability', 'income', 'expense', 'clearing')),
  in_host_wallet boolean not null,
  description text not null,
  balance_stripes smallint not null default 1,
  constraint ledger_account_kinds_host check ((kind like 'host\_%') or not in_host_wallet),
  constraint ledger_account_kinds_stripes check (balance_stripes between 1 and 64)
);
comment on table private.ledger_account_kinds is
  'The ledger''s account kinds (see the migration header): their nature, whether they are part of a host''s wallet, and what they hold.';
insert into private.ledger_account_kinds (kind, nature, in_host_wallet, description) values
  ('platform_cash', 'asset', false, 'the platform''s Stripe balance'),
  ('platform_fees', 'income', false, 'platform fees earned (reduced by refunds and lost disputes)'),
  ('stripe_fees', 'expense', false, 'Stripe processing fees, once Stripe reports them'),
  ('dispute_fees', 'expense', false, 'dispute fees the platform bears (payment_settings.dispute_fee_payer)'),
  ('refunds', 'clearing', false, 'refunds asked of Stripe and not yet settled'),
  ('disputes', 'clearing', false, 'disputed amounts taken from balances until Stripe withdraws or reinstates them'),
  ('suspense', 'clearing', false, 'money Stripe reported that matches no booking (for operators)'),
  ('fx_difference', 'expense', false, 'what Stripe''s conversion at the rate of the day gave or took beyond the payment''s own rate; debit = a loss'),
  ('host_pending', 'liability', true, 'the host''s earnings from events not yet released'),
  ('host_available', 'liability', true, 'released earnings the host may withdraw (negative: the host owes Rally)'),
  ('host_in_transit', 'liability', true, 'payouts requested and not yet paid'),
  ('host_paid_out', 'liability', true, 'payouts paid to the host''s bank (cumulative)'),
  ('host_transferred', 'asset', false, 'money moved to the host''s connected Stripe account (net of reversals)');
-- Every payment of a host posts to its pending balance and nothing locks it to decide on it:
-- striped (see the header). Payouts lock host_available, so it is one row (the default).
update private.ledger_account_kinds set balance_stripes = 16 where kind = 'host_pending';
comment on column private.ledger_account_kinds.balance_stripes is
  'How many private.ledger_balances rows cache one account of this kind (a posting updates the one its transaction id picks; the balance is their sum). 1 for every kind a decision locks (host_available).';

create table private.ledger_accounts (
  id bigint generated always as identity primary key,
  kind text not null references private.ledger_account_kinds (kind),
  host_id uuid references public.profiles (id),
  currency text not null references public.currencies (code),
  created_at timestamptz not null default now(),
  constraint ledger_accounts_owner check ((kind like 'host\_%') = (host_id is not null)),
  constraint ledger_accounts_id_currency unique (id, currency),
  constraint ledger_accounts_identity unique nulls not distinct (kind, host_id, currency)
);
comment on table private.ledger_accounts is
  'Ledger accounts: one per kind and currency, and per host for host_* kinds. Created on first posting.';
create index ledger_accounts_host_idx on private.ledger_accounts (host_id) where host_id is not null;
create index ledger_accounts_currency_idx on private.ledger_accounts (currency);

create table private.ledger_transactions (
  id bigint generated always as identity primary key,
  idempotency_key text not null,
  kind text not null,
  host_id uuid references public.profiles (id),
  payment_id uuid,
  booking_id uuid,
  payout_id uuid,
  stripe_object_id text,
  stripe_event_id text,
  memo text,
  created_at timestamptz not null default now(),
  constraint ledger_transactions_key_length check (char_length(idempotency_key) between 1 and 200),
  constraint ledger_transactions_kind check (kind in (
    'payment', 'stripe_fee', 'release', 'transfer', 'transfer_reversal', 'payout_requested', 'payout_paid',
    'payout_returned', 'refund_requested', 'refund_settled', 'refund_failed', 'dispute_opened',
    'dispute_funds_withdrawn', 'dispute_fee', 'dispute_funds_reinstated', 'dispute_won', 'fx_difference', 'suspense', 'adjustment'))
);
comment on table private.ledger_transactions is
  'Ledger transactions: one per money movement, named by a unique idempotency key (e.g. payment:pi_123:succeeded). Append-only.';
comment on column private.ledger_transactions.idempotency_key is
  'The money movement this transaction books, e.g. payment:pi_…:succeeded, release:<payment>, refund:<refund>:settled, transfer:tr_…, payout:<payout>:paid.';
create unique index ledger_transactions_idempotency_key on private.ledger_transactions (idempotency_key);
create index ledger_transactions_host_idx on private.ledger_transactions (host_id, id desc);
create index ledger_transactions_payment_idx on private.ledger_transactions (payment_id) where payment_id is not null;
create index ledger_transactions_booking_idx on private.ledger_transactions (booking_id) where booking_id is not null;
create index ledger_transactions_payout_idx on private.ledger_transactions (payout_id) where payout_id is not null;
create index ledger_transactions_stripe_object_idx on private.ledger_transactions (stripe_object_id) where stripe_object_id is not null;
-- The release job's sweep looks only at recent pending movements.
create index ledger_transactions_created_idx on private.ledger_transactions (created_at);

create table private.ledger_entries (
  id bigint generated always as identity primary key,
  transaction_id bigint not null references private.ledger_transactions (id),
  account_id bigint not null,
  currency text not null,
  amount bigint not null,
  created_at timestamptz not null default now(),
  constraint ledger_entries_nonzero check (amount <> 0),
  constraint ledger_entries_account_currency foreign key (account_id, currency)
    references private.ledger_accounts (id, currency)
);
comment on table private.ledger_entries is
  'Ledger entries: signed minor units (debit +, credit −) on one account, in that account''s currency. Each transaction''s entries sum to zero per currency (checked at commit). Append-only.';
create index ledger_entries_transaction_idx on private.ledger_entries (transaction_id);
create index ledger_entries_account_idx on private.ledger_entries (account_id, id desc);

create table private.ledger_balances (
  account_id bigint not null references private.ledger_accounts (id),
  stripe smallint not null default 0,
  balance bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (account_id, stripe)
);
comment on table private.ledger_balances is
  'Cached balances of host accounts (debit +), updated by post_ledger_transaction under the row lock: an account''s balance is the sum of its rows (one row, stripe 0, except for kinds with balance_stripes > 1), and equals the sum of its entries. request_payout locks the host_available row.';

-- An account's cached balance, whatever the number of its rows: what every reader of the cache
-- that wants one figure per account reads (a row of ledger_balances is a stripe, not a balance).
create view private.ledger_account_balances with (security_invoker = true) as
  select b.account_id, sum(b.balance)::bigint as balance, max(b.updated_at) as updated_at
    from private.ledger_balances b
   group by b.account_id;
comment on view private.ledger_account_balances is
  'Cached balance of each host account: the sum of its private.ledger_balances rows (debit +), and when one last changed.';

-- ---------------------------------------------------------------------------------------------
-- Integrity: append-only, zero-sum at commit
-- ---------------------------------------------------------------------------------------------

create or replace function private.ledger_refuse_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform private.raise_error('P0001', 'ledger_append_only',
    format('The ledger is append-only (%s on %s refused): post a reversing transaction instead.', tg_op, tg_table_name));
  return null;
end
$$;
comment on function private.ledger_refuse_change() is 'Trigger: refuses UPDATE, DELETE and TRUNCATE on ledger tables.';

create trigger ledger_entries_append_only before update or delete on private.ledger_entries
  for each row execute function private.ledger_refuse_change();
create trigger ledger_entries_no_truncate before truncate on private.ledger_entries
  for each statement execute function private.ledger_refuse_change();
create trigger ledger_transactions_append_only before update or delete on private.ledger_transactions
  for each row execute function private.ledger_refuse_change();
create trigger ledger_transactions_no_truncate before truncate on private.ledger_transactions
  for each statement execute function private.ledger_refuse_change();

-- Deferred: runs at commit for each inserted entry, when the whole transaction is in place.
create or replace function private.ledger_check_balanced() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_currency text;
begin
  select e.currency into v_currency
    from private.ledger_entries e
   where e.transaction_id = new.transaction_id
   group by e.currency
  having sum(e.amount) <> 0
   limit 1;
  if v_currency is not null then
    raise exception using errcode = '23514', hint = 'ledger_unbalanced',
      message = format('Ledger transaction %s does not sum to zero in %s.', new.transaction_id, v_currency);
  end if;
  return null;
end
$$;
comment on function private.ledger_check_balanced() is 'Constraint trigger (deferred): a ledger transaction''s entries sum to zero per currency.';

create constraint trigger ledger_entries_balanced after insert on private.ledger_entries
  deferrable initially deferred
  for each row execute function private.ledger_check_balanced();

create or replace function private.ledger_check_has_entries() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if (select count(*) from private.ledger_entries e where e.transaction_id = new.id) < 2 then
    raise exception using errcode = '23514', hint = 'ledger_too_few_entries',
      message = format('Ledger transaction %s has fewer than two entries.', new.id);
  end if;
  return null;
end
$$;
comment on function private.ledger_check_has_entries() is 'Constraint trigger (deferred): every ledger transaction has at least two entries.';

create constraint trigger ledger_transactions_have_entries after insert on private.ledger_transactions
  deferrable initially deferred
  for each row execute function private.ledger_check_has_entries();

-- ---------------------------------------------------------------------------------------------
-- Pure building blocks (immutable; unit-tested in tests/db/20261125120100-ledger.test.sql)
-- ---------------------------------------------------------------------------------------------

-- The platform fee on an amount: basis points, rounded half up to the minor unit.
create or replace function private.platform_fee_for(p_amount bigint, p_fee_bps integer) returns bigint
language sql
immutable
set search_path = ''
as $$
  select (p_amount * p_fee_bps + 5000) / 10000
$$;
comment on function private.platform_fee_for(bigint, integer) is 'Platform fee of p_amount at p_fee_bps basis points, rounded half up (1000 bps of 4999 = 500).';

-- p_part / p_whole of p_amount, floored: the host's part of a partial refund or dispute.
create or replace function private.pro_rata(p_amount bigint, p_part bigint, p_whole bigint) returns bigint
language sql
immutable
set search_path = ''
as $$
  select case when p_whole = 0 then 0 else (p_amount * p_part) / p_whole end
$$;
comment on function private.pro_rata(bigint, bigint, bigint) is 'floor(p_amount × p_part / p_whole): the host''s part of a partial amount; the platform''s part is the rest.';

-- One entry, or null when the amount is zero (nothing moves).
create or replace function private.ledger_entry(p_account text, p_host_id uuid, p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select case when coalesce(p_amount, 0) = 0 then null
              else jsonb_build_object('account', p_account, 'host_id', p_host_id, 'currency', p_currency, 'amount', p_amount) end
$$;
comment on function private.ledger_entry(text, uuid, text, bigint) is 'One ledger entry as jsonb (debit +, credit −), or null for a zero amount.';

-- The non-null entries as a jsonb array.
create or replace function private.ledger_entries_of(variadic p_entries jsonb[]) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select coalesce(jsonb_agg(e) filter (where e is not null), '[]'::jsonb) from unnest(p_entries) as e
$$;
comment on function private.ledger_entries_of(jsonb[]) is 'Collects entries into a jsonb array, dropping zero (null) ones.';

-- The opposite movement: every amount negated.
create or replace function private.ledger_negate(p_entries jsonb) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_set(e, '{amount}', to_jsonb(-(e ->> 'amount')::bigint))), '[]'::jsonb)
    from jsonb_array_elements(p_entries) as e
$$;
comment on function private.ledger_negate(jsonb) is 'The reversing entries: every amount negated.';

-- Guest paid p_gross; the host earns p_gross − p_fee (pending), the platform p_fee.
create or replace function private.postings_payment(p_host_id uuid, p_currency text, p_gross bigint, p_fee bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('platform_cash', null, p_currency, p_gross),
    private.ledger_entry('host_pending', p_host_id, p_currency, -(p_gross - p_fee)),
    private.ledger_entry('platform_fees', null, p_currency, -p_fee))
$$;

-- Stripe's processing fee on a charge, once known.
create or replace function private.postings_stripe_fee(p_currency text, p_fee bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('stripe_fees', null, p_currency, p_fee),
    private.ledger_entry('platform_cash', null, p_currency, -p_fee))
$$;

-- The event is over and the hold has passed: pending → available.
create or replace function private.postings_release(p_host_id uuid, p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('host_pending', p_host_id, p_currency, p_amount),
    private.ledger_entry('host_available', p_host_id, p_currency, -p_amount))
$$;

-- A transfer moved money from the platform's Stripe balance to the host's connected account.
create or replace function private.postings_transfer(p_host_id uuid, p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('host_transferred', p_host_id, p_currency, p_amount),
    private.ledger_entry('platform_cash', null, p_currency, -p_amount))
$$;

-- A transfer reversal brought money back from the host's connected account.
create or replace function private.postings_transfer_reversal(p_host_id uuid, p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('platform_cash', null, p_currency, p_amount),
    private.ledger_entry('host_transferred', p_host_id, p_currency, -p_amount))
$$;

-- The host asked for a payout: available → in transit.
create or replace function private.postings_payout_requested(p_host_id uuid, p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('host_available', p_host_id, p_currency, p_amount),
    private.ledger_entry('host_in_transit', p_host_id, p_currency, -p_amount))
$$;

-- Stripe paid the payout: in transit → paid out.
create or replace function private.postings_payout_paid(p_host_id uuid, p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('host_in_transit', p_host_id, p_currency, p_amount),
    private.ledger_entry('host_paid_out', p_host_id, p_currency, -p_amount))
$$;

-- A payout failed or was canceled: the money goes back to available, from wherever it was
-- (host_in_transit, or host_paid_out when Stripe first said paid).
create or replace function private.postings_payout_returned(p_host_id uuid, p_currency text, p_amount bigint, p_from text) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry(p_from, p_host_id, p_currency, p_amount),
    private.ledger_entry('host_available', p_host_id, p_currency, -p_amount))
$$;

-- A refund was asked of Stripe: the host's part leaves p_bucket (host_pending before release,
-- host_available after), the platform gives back its fee part; both wait in `refunds`.
create or replace function private.postings_refund_requested(
  p_host_id uuid, p_currency text, p_host_part bigint, p_fee_part bigint, p_bucket text
) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry(p_bucket, p_host_id, p_currency, p_host_part),
    private.ledger_entry('platform_fees', null, p_currency, p_fee_part),
    private.ledger_entry('refunds', null, p_currency, -(p_host_part + p_fee_part)))
$$;

-- Stripe settled the refund: the money leaves the platform's balance.
create or replace function private.postings_refund_settled(p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('refunds', null, p_currency, p_amount),
    private.ledger_entry('platform_cash', null, p_currency, -p_amount))
$$;

-- A dispute opened: the disputed amount leaves the host's balance (their part) and the platform
-- fees (the rest) at once, into `disputes` until Stripe withdraws it.
create or replace function private.postings_dispute_opened(
  p_host_id uuid, p_currency text, p_host_part bigint, p_fee_part bigint, p_bucket text
) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry(p_bucket, p_host_id, p_currency, p_host_part),
    private.ledger_entry('platform_fees', null, p_currency, p_fee_part),
    private.ledger_entry('disputes', null, p_currency, -(p_host_part + p_fee_part)))
$$;

-- Stripe withdrew the disputed amount from the platform's balance.
create or replace function private.postings_dispute_funds_withdrawn(p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('disputes', null, p_currency, p_amount),
    private.ledger_entry('platform_cash', null, p_currency, -p_amount))
$$;

-- Stripe's dispute fee: borne by the host (from p_bucket) or by the platform (dispute_fees).
create or replace function private.postings_dispute_fee(
  p_host_id uuid, p_currency text, p_fee bigint, p_payer text, p_bucket text
) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    case when p_payer = 'host' then private.ledger_entry(p_bucket, p_host_id, p_currency, p_fee)
         else private.ledger_entry('dispute_fees', null, p_currency, p_fee) end,
    private.ledger_entry('platform_cash', null, p_currency, -p_fee))
$$;

-- Stripe returned disputed funds to the platform's balance.
create or replace function private.postings_dispute_funds_reinstated(p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('platform_cash', null, p_currency, p_amount),
    private.ledger_entry('disputes', null, p_currency, -p_amount))
$$;

-- Stripe moved p_amount more cash than Rally expected at the payment's own rate (negative: less).
create or replace function private.postings_fx_difference(p_currency text, p_amount bigint) returns jsonb
language sql
immutable
set search_path = ''
as $$
  select private.ledger_entries_of(
    private.ledger_entry('fx_difference', null, p_currency, p_amount),
    private.ledger_entry('platform_cash', null, p_currency, -p_amount))
$$;

comment on function private.postings_payment(uuid, text, bigint, bigint) is 'Entries: Dr platform_cash gross / Cr host_pending (gross − fee), Cr platform_fees fee.';
comment on function private.postings_stripe_fee(text, bigint) is 'Entries: Dr stripe_fees / Cr platform_cash.';
comment on function private.postings_release(uuid, text, bigint) is 'Entries: Dr host_pending / Cr host_available.';
comment on function private.postings_transfer(uuid, text, bigint) is 'Entries: Dr host_transferred / Cr platform_cash.';
comment on function private.postings_transfer_reversal(uuid, text, bigint) is 'Entries: Dr platform_cash / Cr host_transferred.';
comment on function private.postings_payout_requested(uuid, text, bigint) is 'Entries: Dr host_available / Cr host_in_transit.';
comment on function private.postings_payout_paid(uuid, text, bigint) is 'Entries: Dr host_in_transit / Cr host_paid_out.';
comment on function private.postings_payout_returned(uuid, text, bigint, text) is 'Entries: Dr p_from (host_in_transit | host_paid_out) / Cr host_available.';
comment on function private.postings_refund_requested(uuid, text, bigint, bigint, text) is 'Entries: Dr p_bucket host part, Dr platform_fees fee part / Cr refunds.';
comment on function private.postings_refund_settled(text, bigint) is 'Entries: Dr refunds / Cr platform_cash.';
comment on function private.postings_dispute_opened(uuid, text, bigint, bigint, text) is 'Entries: Dr p_bucket host part, Dr platform_fees fee part / Cr disputes.';
comment on function private.postings_dispute_funds_withdrawn(text, bigint) is 'Entries: Dr disputes / Cr platform_cash.';
comment on function private.postings_dispute_fee(uuid, text, bigint, text, text) is 'Entries: Dr p_bucket (host pays) or dispute_fees (platform pays) / Cr platform_cash.';
comment on function private.postings_dispute_funds_reinstated(text, bigint) is 'Entries: Dr platform_cash / Cr disputes.';
comment on function private.postings_fx_difference(text, bigint) is 'Entries: Dr fx_difference / Cr platform_cash (a conversion loss; negative amounts book a gain).';

-- ---------------------------------------------------------------------------------------------
-- Posting
-- ---------------------------------------------------------------------------------------------

-- Validates entries: known account kinds, host ids exactly on host_* accounts, known
-- currencies, integer amounts. Zero amounts are dropped. Returns them sorted canonically.
create or replace function private.ledger_normalize_entries(p_entries jsonb) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_entry jsonb;
  v_out jsonb := '[]'::jsonb;
  v_kind text;
  v_host uuid;
  v_currency text;
  v_amount bigint;
begin
  if p_entries is null or jsonb_typeof(p_entries) <> 'array' then
    perform private.raise_error('22023', 'invalid_ledger_entries', 'Ledger entries must be a JSON array.');
  end if;
  for v_entry in select e from jsonb_array_elements(p_entries) as e loop
    v_kind := v_entry ->> 'account';
    if v_kind is null or not exists (select 1 from private.ledger_account_kinds k where k.kind = v_kind) then
      perform private.raise_error('22023', 'invalid_ledger_account', format('Unknown ledger account %L.', v_kind));
    end if;
    if (v_kind like 'host\_%') <> (v_entry ->> 'host_id' is not null) then
      perform private.raise_error('22023', 'invalid_ledger_account',
        format('Account %s %s a host id.', v_kind, case when v_kind like 'host\_%' then 'needs' else 'takes no' end));
    end if;
    v_host := (v_entry ->> 'host_id')::uuid;
    v_currency := v_entry ->> 'currency';
    if v_currency is null or not exists (select 1 from public.currencies c where c.code = v_currency) then
      perform private.raise_error('22023', 'invalid_currency', format('Unknown currency %L.', v_currency));
    end if;
    if jsonb_typeof(v_entry -> 'amount') <> 'number' or (v_entry ->> 'amount') !~ '^-?[0-9]+$' then
      perform private.raise_error('22023', 'invalid_amount', 'Ledger amounts are whole numbers of minor units.');
    end if;
    v_amount := (v_entry ->> 'amount')::bigint;
    if v_amount <> 0 then
      v_out := v_out || jsonb_build_array(jsonb_build_object('account', v_kind, 'host_id', v_host, 'currency', v_currency, 'amount', v_amount));
    end if;
  end loop;
  return (select coalesce(jsonb_agg(e order by e ->> 'account', e ->> 'host_id', e ->> 'currency', (e ->> 'amount')::bigint), '[]'::jsonb)
            from jsonb_array_elements(v_out) as e);
end
$$;
comment on function private.ledger_normalize_entries(jsonb) is 'Validates ledger entries (22023 invalid_ledger_account / invalid_currency / invalid_amount), drops zero amounts, sorts canonically.';

-- The one way money enters the ledger. Returns the transaction id: the existing one when the
-- idempotency key was posted before with the same entries (a replay), null when every amount is
-- zero (nothing moved). Raises 22023 ledger_unbalanced when the entries do not sum to zero per
-- currency, P0001 ledger_idempotency_conflict when the key was used for different entries.
create or replace function private.post_ledger_transaction(
  p_idempotency_key text,
  p_kind text,
  p_entries jsonb,
  p_payment_id uuid default null,
  p_booking_id uuid default null,
  p_payout_id uuid default null,
  p_stripe_object_id text default null,
  p_stripe_event_id text default null,
  p_memo text default null
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_entries jsonb := private.ledger_normalize_entries(p_entries);
  v_tx bigint;
  v_existing jsonb;
  v_hosts uuid[];
  r record;
begin
  if p_idempotency_key is null or char_length(p_idempotency_key) not between 1 and 200 then
    perform private.raise_error('22023', 'invalid_idempotency_key', 'A ledger idempotency key has 1 to 200 characters.');
  end if;
  if jsonb_array_length(v_entries) = 0 then
    return null;
  end if;
  if jsonb_array_length(v_entries) < 2 then
    perform private.raise_error('22023', 'ledger_unbalanced', 'A ledger transaction needs at least two non-zero entries.');
  end if;
  if exists (select 1 from jsonb_array_elements(v_entries) as e group by e ->> 'currency' having sum((e ->> 'amount')::bigint) <> 0) then
    perform private.raise_error('22023', 'ledger_unbalanced', 'Ledger entries must sum to zero in each currency.');
  end if;
  select array_agg(distinct (e ->> 'host_id')::uuid) filter (where e ->> 'host_id' is not null) into v_hosts
    from jsonb_array_elements(v_entries) as e;
  if coalesce(array_length(v_hosts, 1), 0) > 1 then
    perform private.raise_error('22023', 'ledger_multiple_hosts', 'One ledger transaction concerns at most one host.');
  end if;

  insert into private.ledger_transactions (idempotency_key, kind, host_id, payment_id, booking_id, payout_id,
                                           stripe_object_id, stripe_event_id, memo)
  values (p_idempotency_key, p_kind, v_hosts[1], p_payment_id, p_booking_id, p_payout_id,
          p_stripe_object_id, p_stripe_event_id, p_memo)
  on conflict (idempotency_key) do nothing
  returning id into v_tx;

  if v_tx is null then
    -- Posted before (a replay, or the same movement reported by another path).
    select t.id into v_tx from private.ledger_transactions t where t.idempotency_key = p_idempotency_key;
    select coalesce(jsonb_agg(jsonb_build_object('account', a.kind, 'host_id', a.host_id, 'currency', e.currency, 'amount', e.amount)
                              order by a.kind, a.host_id::text, e.currency, e.amount), '[]'::jsonb)
      into v_existing
      from private.ledger_entries e join private.ledger_accounts a on a.id = e.account_id
     where e.transaction_id = v_tx;
    if v_existing is distinct from v_entries then
      perform private.raise_error('P0001', 'ledger_idempotency_conflict',
        format('Ledger key %s was already used for a different movement.', p_idempotency_key));
    end if;
    return v_tx;
  end if;

  insert into private.ledger_accounts (kind, host_id, currency)
  select distinct e ->> 'account', (e ->> 'host_id')::uuid, e ->> 'currency' from jsonb_array_elements(v_entries) as e
  on conflict do nothing;

  -- Each entry's account by one probe of the (kind, host_id, currency) index: a join on
  -- `host_id is not distinct from …` cannot use it and read every account of the kind, a cost
  -- that grew with the number of hosts (1.5 ms per posting at 2,000 hosts).
  insert into private.ledger_entries (transaction_id, account_id, currency, amount)
  select v_tx, a.id, e ->> 'currency', (e ->> 'amount')::bigint
    from jsonb_array_elements(v_entries) as e
    cross join lateral (
      select x.id from private.ledger_accounts x
       where x.kind = e ->> 'account' and x.host_id = (e ->> 'host_id')::uuid and x.currency = e ->> 'currency'
      union all
      select x.id from private.ledger_accounts x
       where x.kind = e ->> 'account' and x.host_id is null and x.currency = e ->> 'currency' and e ->> 'host_id' is null
    ) as a;

  -- Host balances, the available balance first (the lock payouts and lock_host_balance's callers
  -- take before any other) and then in account id order, so concurrent postings lock rows in the
  -- same order; a striped kind's row picked by the transaction id (consecutive postings,
  -- different rows).
  for r in
    select a.id, (v_tx % k.balance_stripes)::smallint as stripe, sum((e ->> 'amount')::bigint) as delta
      from jsonb_array_elements(v_entries) as e
      join private.ledger_account_kinds k on k.kind = e ->> 'account'
      cross join lateral (
        -- (limit: the identity is unique, and a subquery with a limit stays a probe per entry
        -- instead of being flattened into a join over every account of the kind)
        select x.id from private.ledger_accounts x
         where x.kind = e ->> 'account' and x.host_id = (e ->> 'host_id')::uuid and x.currency = e ->> 'currency'
         limit 1
      ) as a
     group by a.id, k.kind, k.balance_stripes
     order by k.kind = 'host_available' desc, a.id
  loop
    insert into private.ledger_balances (account_id, stripe, balance) values (r.id, r.stripe, r.delta)
    on conflict (account_id, stripe) do update set balance = private.ledger_balances.balance + excluded.balance, updated_at = now();
  end loop;
  return v_tx;
end
$$;
comment on function private.post_ledger_transaction(text, text, jsonb, uuid, uuid, uuid, text, text, text) is
  'Posts one balanced ledger transaction, once per idempotency key (a replay with the same entries returns the same id). Errors: 22023 ledger_unbalanced / invalid_ledger_account / invalid_currency / invalid_amount / ledger_multiple_hosts; P0001 ledger_idempotency_conflict.';

-- True when a movement was booked.
create or replace function private.ledger_posted(p_idempotency_key text) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from private.ledger_transactions t where t.idempotency_key = p_idempotency_key)
$$;
comment on function private.ledger_posted(text) is 'Whether a movement with this idempotency key is in the ledger.';

-- An account's balance (debit +) from its entries.
create or replace function private.ledger_balance(p_kind text, p_host_id uuid, p_currency text) returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(sum(e.amount), 0)::bigint
    from private.ledger_accounts a join private.ledger_entries e on e.account_id = a.id
   where a.kind = p_kind and a.host_id is not distinct from p_host_id and a.currency = p_currency
$$;
comment on function private.ledger_balance(text, uuid, text) is 'Balance of one account (debit +, credit −) summed from its entries.';

-- The sum of one payment's entries on one kind of account (e.g. what of its host share is still pending).
create or replace function private.payment_ledger_sum(p_payment_id uuid, p_kind text) returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(sum(e.amount), 0)::bigint
    from private.ledger_transactions t
    join private.ledger_entries e on e.transaction_id = t.id
    join private.ledger_accounts a on a.id = e.account_id
   where t.payment_id = p_payment_id and a.kind = p_kind
$$;
comment on function private.payment_ledger_sum(uuid, text) is 'Sum (debit +) of a payment''s entries on accounts of one kind.';

-- Locks (creating if needed) a host account's cached balance rows and returns the balance.
create or replace function private.lock_host_balance(p_host_id uuid, p_kind text, p_currency text) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_account bigint;
  v_balance bigint;
begin
  insert into private.ledger_accounts (kind, host_id, currency) values (p_kind, p_host_id, p_currency) on conflict do nothing;
  select id into v_account from private.ledger_accounts where kind = p_kind and host_id = p_host_id and currency = p_currency;
  insert into private.ledger_balances (account_id, balance) values (v_account, 0) on conflict (account_id, stripe) do nothing;
  select sum(b.balance)::bigint into v_balance
    from (select x.balance from private.ledger_balances x where x.account_id = v_account order by x.stripe for update) as b;
  return v_balance;
end
$$;
comment on function private.lock_host_balance(uuid, text, text) is 'Locks a host account''s cached balance rows (created if missing; one row for host_available) and returns its balance (debit +).';

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.ledger_balance(text,uuid,text),
  private.ledger_check_balanced(),
  private.ledger_check_has_entries(),
  private.ledger_entries_of(jsonb[]),
  private.ledger_entry(text,uuid,text,bigint),
  private.ledger_negate(jsonb),
  private.ledger_normalize_entries(jsonb),
  private.ledger_posted(text),
  private.ledger_refuse_change(),
  private.lock_host_balance(uuid,text,text),
  private.payment_ledger_sum(uuid,text),
  private.platform_fee_for(bigint,integer),
  private.post_ledger_transaction(text,text,jsonb,uuid,uuid,uuid,text,text,text),
  private.postings_dispute_fee(uuid,text,bigint,text,text),
  private.postings_dispute_funds_reinstated(text,bigint),
  private.postings_dispute_funds_withdrawn(text,bigint),
  private.postings_dispute_opened(uuid,text,bigint,bigint,text),
  private.postings_fx_difference(text,bigint),
  private.postings_payment(uuid,text,bigint,bigint),
  private.postings_payout_paid(uuid,text,bigint),
  private.postings_payout_requested(uuid,text,bigint),
  private.postings_payout_returned(uuid,text,bigint,text),
  private.postings_refund_requested(uuid,text,bigint,bigint,text),
  private.postings_refund_settled(text,bigint),
  private.postings_release(uuid,text,bigint),
  private.postings_stripe_fee(text,bigint),
  private.postings_transfer_reversal(uuid,text,bigint),
  private.postings_transfer(uuid,text,bigint),
  private.pro_rata(bigint,bigint,bigint)
  from public;
