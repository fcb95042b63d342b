-- The ledger: the pure posting functions for each business event, the one posting function
-- (balanced, idempotent per money movement), and the database's own guarantees (append-only,
-- zero-sum per transaction and currency at commit, accounts pinned to their currency).
begin;
select plan(50);

create function pg_temp.sum_of(p_entries jsonb) returns bigint language sql as $$
  select coalesce(sum((e ->> 'amount')::bigint), 0) from jsonb_array_elements(p_entries) e $$;

create function pg_temp.amount_on(p_entries jsonb, p_account text) returns bigint language sql as $$
  select coalesce(sum((e ->> 'amount')::bigint), 0) from jsonb_array_elements(p_entries) e where e ->> 'account' = p_account $$;

select tests.create_supabase_user('lena', 'lena@example.test', '{"username":"lena_host"}');

-- Pure building blocks
select is(private.platform_fee_for(5000, 1000), 500::bigint, 'a 10 % fee on 50.00 is 5.00');
select is(private.platform_fee_for(4999, 1000), 500::bigint, 'the platform fee rounds half up to the minor unit');
select is(private.platform_fee_for(3000, 0), 0::bigint, 'a zero fee rate takes nothing');
select is(private.pro_rata(1500, 2700, 3000), 1350::bigint, 'a host''s part of a partial refund is their share of it');
select is(private.pro_rata(1, 2, 3), 0::bigint, 'pro-rata parts are floored, so a host never gives back more than their share');
select is(private.ledger_entry('platform_cash', null, 'EUR', 0), null, 'a zero amount is no entry at all');

select is(pg_temp.sum_of(private.postings_payment(tests.get_supabase_uid('lena'), 'EUR', 5000, 500)), 0::bigint,
          'a payment''s entries sum to zero');
select results_eq($$select pg_temp.amount_on(private.postings_payment(tests.get_supabase_uid('lena'), 'EUR', 5000, 500), a)
                     from unnest(array['platform_cash', 'host_pending', 'platform_fees']) a$$,
                  $$values (5000::bigint), (-4500::bigint), (-500::bigint)$$,
                  'a payment: cash in, the host''s share pending, the platform fee earned');
select is(jsonb_array_length(private.postings_payment(tests.get_supabase_uid('lena'), 'EUR', 5000, 0)), 2,
          'with no platform fee there is no fee entry');
select is(pg_temp.amount_on(private.postings_release(tests.get_supabase_uid('lena'), 'EUR', 4500), 'host_available'), -4500::bigint,
          'a release credits the host''s available balance');
select is(pg_temp.amount_on(private.postings_transfer(tests.get_supabase_uid('lena'), 'EUR', 4500), 'platform_cash'), -4500::bigint,
          'a transfer takes the money out of platform cash');
select is(pg_temp.amount_on(private.postings_payout_requested(tests.get_supabase_uid('lena'), 'EUR', 1000), 'host_in_transit'), -1000::bigint,
          'a payout request moves money into transit');
select is(pg_temp.amount_on(private.postings_payout_returned(tests.get_supabase_uid('lena'), 'EUR', 1000, 'host_paid_out'), 'host_paid_out'), 1000::bigint,
          'a payout that fails after "paid" is taken back out of paid out');
select results_eq($$select pg_temp.amount_on(private.postings_refund_requested(tests.get_supabase_uid('lena'), 'EUR', 1350, 150, 'host_available'), a)
                     from unnest(array['host_available', 'platform_fees', 'refunds']) a$$,
                  $$values (1350::bigint), (150::bigint), (-1500::bigint)$$,
                  'a refund takes the host''s part and the fee part into the refunds clearing account');
select is(pg_temp.sum_of(private.postings_refund_settled('EUR', 1500) || private.postings_refund_requested(tests.get_supabase_uid('lena'), 'EUR', 1350, 150, 'host_pending')), 0::bigint,
          'a requested and settled refund together balance');
select results_eq($$select pg_temp.amount_on(private.postings_fx_difference('EUR', 143), a) from unnest(array['fx_difference', 'platform_cash']) a$$,
                  $$values (143::bigint), (-143::bigint)$$,
                  'Stripe converting a refund at a dearer rate of the day: the extra cash out is an exchange loss');
select is(pg_temp.amount_on(private.postings_fx_difference('EUR', -57), 'fx_difference'), -57::bigint,
          'and a cheaper rate books a gain');

-- A refund of a payment in another currency is split in the settlement currency, at the payment's rate.
create function pg_temp.usd_payment() returns private.payments language sql as $$
  select jsonb_populate_record(null::private.payments, '{"amount_cents": 5000, "currency": "USD", "settlement_currency": "EUR",
    "settlement_amount_cents": 4607, "exchange_rate": 0.9213, "platform_fee_cents": 461, "host_share_cents": 4146, "status": "succeeded"}') $$;
select results_eq($$select settlement_amount, host_part, fee_part, bucket from private.refund_split(pg_temp.usd_payment(), 5000)$$,
                  $$values (4607::bigint, 4146::bigint, 461::bigint, 'host_pending'::text)$$,
                  'a full refund of a USD payment gives back everything it settled for in EUR, the host''s share from pending');
select results_eq($$select settlement_amount, host_part, fee_part from private.refund_split(pg_temp.usd_payment(), 2500)$$,
                  $$values (2303::bigint, 2072::bigint, 231::bigint)$$,
                  'half of it: the EUR amount at the payment''s rate, floored, the host''s part pro rata (floored)');
select is(pg_temp.amount_on(private.postings_dispute_fee(tests.get_supabase_uid('lena'), 'EUR', 1500, 'host', 'host_pending'), 'host_pending'), 1500::bigint,
          'the dispute fee comes from the host when the host pays it');
select is(pg_temp.amount_on(private.postings_dispute_fee(tests.get_supabase_uid('lena'), 'EUR', 1500, 'platform', 'host_pending'), 'dispute_fees'), 1500::bigint,
          'and from the platform''s dispute fees otherwise');
select is(private.ledger_negate(private.postings_dispute_opened(tests.get_supabase_uid('lena'), 'EUR', 900, 100, 'host_pending'))
            || private.postings_dispute_opened(tests.get_supabase_uid('lena'), 'EUR', 900, 100, 'host_pending') = '[]'::jsonb, false,
          'negating entries gives the opposite movement');
select is(pg_temp.sum_of(private.ledger_negate(private.postings_dispute_opened(tests.get_supabase_uid('lena'), 'EUR', 900, 100, 'host_pending'))
                        || private.postings_dispute_opened(tests.get_supabase_uid('lena'), 'EUR', 900, 100, 'host_pending')), 0::bigint,
          'a won dispute exactly undoes its opening');

-- Posting
select isnt(private.post_ledger_transaction('test:pay:1', 'payment', private.postings_payment(tests.get_supabase_uid('lena'), 'EUR', 5000, 500)), null,
            'a balanced movement is posted');
select is(private.post_ledger_transaction('test:pay:1', 'payment', private.postings_payment(tests.get_supabase_uid('lena'), 'EUR', 5000, 500)),
          (select id from private.ledger_transactions where idempotency_key = 'test:pay:1'),
          'posting the same movement again returns the same transaction');
select is((select count(*) from private.ledger_entries e join private.ledger_transactions t on t.id = e.transaction_id
            where t.idempotency_key = 'test:pay:1'), 3::bigint, 'and books it only once');
select tests.raises_hint($$select private.post_ledger_transaction('test:pay:1', 'payment',
            private.postings_payment(tests.get_supabase_uid('lena'), 'EUR', 6000, 600))$$,
          'ledger_idempotency_conflict', 'the same key with a different movement is refused');
select tests.raises_hint($$select private.post_ledger_transaction('test:bad:1', 'adjustment',
            '[{"account":"platform_cash","host_id":null,"currency":"EUR","amount":100},{"account":"platform_fees","host_id":null,"currency":"EUR","amount":-99}]')$$,
          'ledger_unbalanced', 'entries that do not sum to zero are refused');
select tests.raises_hint($$select private.post_ledger_transaction('test:bad:2', 'adjustment',
            '[{"account":"platform_cash","host_id":null,"currency":"EUR","amount":100},{"account":"platform_fees","host_id":null,"currency":"GBP","amount":-100}]')$$,
          'ledger_unbalanced', 'a movement must balance in each currency on its own');
select tests.raises_hint($$select private.post_ledger_transaction('test:bad:3', 'adjustment',
            '[{"account":"host_pending","host_id":null,"currency":"EUR","amount":100},{"account":"platform_fees","host_id":null,"currency":"EUR","amount":-100}]')$$,
          'invalid_ledger_account', 'host accounts need a host');
select tests.raises_hint($$select private.post_ledger_transaction('test:bad:4', 'adjustment',
            '[{"account":"platform_cash","host_id":null,"currency":"XXX","amount":100},{"account":"platform_fees","host_id":null,"currency":"XXX","amount":-100}]')$$,
          'invalid_currency', 'unknown currencies are refused');
select tests.raises_hint($$select private.post_ledger_transaction('test:bad:5', 'adjustment',
            '[{"account":"platform_cash","host_id":null,"currency":"EUR","amount":1.5},{"account":"platform_fees","host_id":null,"currency":"EUR","amount":-1.5}]')$$,
          'invalid_amount', 'amounts are whole minor units');
select is((select count(*) from private.ledger_transactions where idempotency_key like 'test:bad:%'), 0::bigint,
          'refused movements write nothing');
select is(private.post_ledger_transaction('test:zero:1', 'adjustment', private.postings_stripe_fee('EUR', 0)), null,
          'a movement of nothing is not booked');
select is((select -balance from private.ledger_account_balances b join private.ledger_accounts a on a.id = b.account_id
            where a.kind = 'host_pending' and a.host_id = tests.get_supabase_uid('lena')), 4500::bigint,
          'the host''s cached balance follows their postings');
select is(private.lock_host_balance(tests.get_supabase_uid('lena'), 'host_pending', 'EUR'), -4500::bigint,
          'locking a host balance returns it');

-- host_pending is cached in stripes (balance_stripes): the next posting, with the next transaction
-- id, updates another row, so a host's concurrent payments do not queue on one; host_available,
-- which payouts lock to decide, stays one exact row.
savepoint striping;
select isnt(private.post_ledger_transaction('test:pay:2', 'payment', private.postings_payment(tests.get_supabase_uid('lena'), 'EUR', 5000, 500)), null,
            'a second payment for the host is booked');
select results_eq($$select count(*) filter (where b.balance <> 0), -sum(b.balance) from private.ledger_balances b join private.ledger_accounts a on a.id = b.account_id
                    where a.kind = 'host_pending' and a.host_id = tests.get_supabase_uid('lena')$$,
                  $$values (2::bigint, 9000::numeric)$$,
                  'consecutive postings to a host''s pending balance update different cached rows, which sum to the balance');
select isnt(private.post_ledger_transaction('test:release:1', 'release', private.postings_release(tests.get_supabase_uid('lena'), 'EUR', 1000)), null,
            'a release is booked');
select isnt(private.post_ledger_transaction('test:release:2', 'release', private.postings_release(tests.get_supabase_uid('lena'), 'EUR', 1000)), null,
            'and another');
select results_eq($$select count(*), -sum(b.balance) from private.ledger_balances b join private.ledger_accounts a on a.id = b.account_id
                    where a.kind = 'host_available' and a.host_id = tests.get_supabase_uid('lena')$$,
                  $$values (1::bigint, 2000::numeric)$$,
                  'the available balance payouts lock stays one row');
select is(private.lock_host_balance(tests.get_supabase_uid('lena'), 'host_pending', 'EUR'), -7000::bigint,
          'locking a striped balance locks its rows and returns their sum');
rollback to savepoint striping;

-- The database's own guarantees
select tests.raises_hint($$update private.ledger_entries set amount = amount + 1$$, 'ledger_append_only', 'entries cannot be changed');
select tests.raises_hint($$delete from private.ledger_entries$$, 'ledger_append_only', 'entries cannot be deleted');
select tests.raises_hint($$delete from private.ledger_transactions$$, 'ledger_append_only', 'transactions cannot be deleted');
-- (TRUNCATE cannot run inside this test's own statement; the trigger that refuses it is checked instead.)
select ok(exists (select 1 from pg_trigger where tgname = 'ledger_entries_no_truncate' and tgrelid = 'private.ledger_entries'::regclass
                  and tgtype & 32 = 32), 'the ledger cannot be truncated (a BEFORE TRUNCATE trigger refuses it)');

-- Writing around the posting function still cannot leave an unbalanced transaction.
create function pg_temp.raw_unbalanced() returns text language plpgsql as $$
declare v_tx bigint; v_hint text;
begin
  insert into private.ledger_transactions (idempotency_key, kind) values ('test:raw:1', 'adjustment') returning id into v_tx;
  insert into private.ledger_entries (transaction_id, account_id, currency, amount)
  select v_tx, id, 'EUR', 100 from private.ledger_accounts where kind = 'platform_cash' and currency = 'EUR';
  insert into private.ledger_entries (transaction_id, account_id, currency, amount)
  select v_tx, id, 'EUR', -90 from private.ledger_accounts where kind = 'platform_fees' and currency = 'EUR';
  set constraints all immediate;
  return 'committed';
exception when others then
  get stacked diagnostics v_hint = pg_exception_hint;
  return v_hint;
end $$;
select is(pg_temp.raw_unbalanced(), 'ledger_unbalanced', 'an unbalanced transaction written by hand fails at commit (deferred constraint)');

create function pg_temp.raw_wrong_currency() returns text language plpgsql as $$
begin
  insert into private.ledger_entries (transaction_id, account_id, currency, amount)
  select (select id from private.ledger_transactions where idempotency_key = 'test:pay:1'), id, 'GBP', 1
    from private.ledger_accounts where kind = 'platform_cash' and currency = 'EUR';
  return 'inserted';
exception when foreign_key_violation then
  return 'refused';
end $$;
select is(pg_temp.raw_wrong_currency(), 'refused', 'an entry cannot be booked in another currency than its account''s');

create function pg_temp.raw_lonely() returns text language plpgsql as $$
declare v_hint text;
begin
  insert into private.ledger_transactions (idempotency_key, kind) values ('test:raw:2', 'adjustment');
  set constraints all immediate;
  return 'committed';
exception when others then
  get stacked diagnostics v_hint = pg_exception_hint;
  return v_hint;
end $$;
select is(pg_temp.raw_lonely(), 'ledger_too_few_entries', 'a transaction without entries fails at commit');
select is((select count(*) from private.ledger_transactions where idempotency_key like 'test:raw:%'), 0::bigint,
          'and neither left anything behind');

select * from finish();
rollback;
