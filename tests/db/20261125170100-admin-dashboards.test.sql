-- The operators' dashboards in Studio: a day of paid bookings, a refund and two disputes shows
-- up in revenue, bookings and the dispute queue; the health views stay empty until something is
-- broken on purpose, and then name exactly what broke. Only Studio's role can read any of it.
begin;
select plan(39);

select tests.create_fixtures();
-- A guest books one seat of the fair and pays for it (as the checkout function and the webhook would).
create function pg_temp.book_and_pay(p_guest text, p_name text) returns uuid language plpgsql as $$
declare
  v_booking uuid;
begin
  perform tests.authenticate_as(p_guest);
  select id into v_booking from public.book_event(tests.fx('E'), tests.fx('T'), 1, p_name);
  perform * from private.prepare_checkout(v_booking);
  perform tests.as_superuser();
  perform private.apply_payment_intent(jsonb_build_object('object', 'payment_intent', 'id', 'pi_' || p_name, 'status', 'succeeded',
    'amount', 3000, 'amount_received', 3000, 'currency', 'eur', 'latest_charge', 'ch_' || p_name,
    'metadata', jsonb_build_object('payment_id', (select id from private.payments where booking_id = v_booking))), 'evt_' || p_name, now());
  insert into fx values (p_name, v_booking);
  return v_booking;
end $$;

select tests.create_supabase_user('hana', 'hana@example.test', '{"username":"hana_h"}');
select tests.create_supabase_user('gus', 'gus@example.test', '{"username":"gus_g"}');
select tests.create_supabase_user('ivy', 'ivy@example.test', '{"username":"ivy_i"}');
select tests.create_supabase_user('jo', 'jo@example.test', '{"username":"jo_j"}');
select tests.create_supabase_user('kim', 'kim@example.test', '{"username":"kim_k"}');
select tests.create_supabase_user('lou', 'lou@example.test', '{"username":"lou_l"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('hana');
insert into private.stripe_accounts (host_id, account_id, details_submitted, payouts_enabled, transfers_capability)
values (tests.get_supabase_uid('hana'), 'acct_hana', true, true, 'active');
select tests.authenticate_as('hana');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Night market', now() + interval '7 days', now() + interval '7 days 4 hours', 'UTC') returning id)
insert into fx select 'E', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('E'), 'Entry', 3000, 'EUR', 10) returning id)
insert into fx select 'T', id from t;
select public.publish_event(tests.fx('E'));
select tests.as_superuser();

-- A healthy platform
set local role postgres;
select is_empty($$select * from admin.ledger_health$$, 'before anything happens the ledger is healthy');
select is_empty($$select * from admin.stuck_holds$$, 'and no seats are stuck');
reset role;

-- A day of business: four paid bookings, one refunded by an operator, two disputed.
select pg_temp.book_and_pay('gus', 'dash1');
select pg_temp.book_and_pay('ivy', 'dash2');
select pg_temp.book_and_pay('jo', 'dash3');
select pg_temp.book_and_pay('lou', 'dash4');
select private.post_ledger_transaction('stripe_fee:txn_fee1', 'stripe_fee', private.postings_stripe_fee('EUR', 117));
insert into fx select 'R2', admin.refund_booking(tests.fx('dash2'));
select private.apply_refund(jsonb_build_object('object', 'refund', 'id', 're_dash2', 'status', 'succeeded', 'amount', 3000, 'currency', 'eur',
  'payment_intent', 'pi_dash2', 'metadata', jsonb_build_object('refund_id', tests.fx('R2'))), 'evt_re_dash2');
select private.apply_dispute(jsonb_build_object('object', 'dispute', 'id', 'dp_dash3', 'amount', 3000, 'currency', 'eur', 'charge', 'ch_dash3',
  'payment_intent', 'pi_dash3', 'status', 'needs_response', 'reason', 'fraudulent', 'created', extract(epoch from now())::bigint,
  'evidence_details', jsonb_build_object('due_by', extract(epoch from now() + interval '5 days')::bigint),
  'balance_transactions', jsonb_build_array(jsonb_build_object('id', 'txn_dp3', 'amount', -3000, 'fee', 1500, 'currency', 'eur'))),
  now(), 'evt_dp3');
select private.apply_dispute(jsonb_build_object('object', 'dispute', 'id', 'dp_dash4', 'amount', 3000, 'currency', 'eur', 'charge', 'ch_dash4',
  'payment_intent', 'pi_dash4', 'status', 'needs_response', 'reason', 'product_not_received', 'created', extract(epoch from now())::bigint,
  'evidence_details', jsonb_build_object('due_by', extract(epoch from now() - interval '2 hours')::bigint)),
  now(), 'evt_dp4');

set local role postgres;
select results_eq($$select payments, gross_cents, platform_fees_cents, refunds_cents, dispute_losses_cents, stripe_fees_cents, net_cents
                      from admin.daily_revenue where day = (now() at time zone 'UTC')::date and currency = 'EUR'$$,
                  $$values (4::bigint, 12000::bigint, 300::bigint, 3000::bigint, 4500::bigint, 117::bigint, 183::bigint)$$,
                  'daily revenue: 4 payments (120.00), fees 12.00 less the fee parts given back for the refund and both disputes, 30.00 refunded, 45.00 taken by the dispute with its fee, Stripe''s 1.17, net 1.83');
select results_eq($$select bookings, paid_bookings, confirmed, refunded, seats_confirmed::bigint from admin.bookings_per_day where day = (now() at time zone 'UTC')::date$$,
                  $$values (4::bigint, 4::bigint, 4::bigint, 0::bigint, 4::bigint)$$,
                  'bookings per day: four paid bookings today, all still confirmed (an operator''s goodwill refund does not cancel a booking)');
select results_eq($$select id, urgency from admin.open_disputes$$,
                  $$values ('dp_dash4'::text, 'overdue'::text), ('dp_dash3', 'later')$$,
                  'open disputes: the overdue one comes before the one due in five days');
select results_eq($$select event_title, host_username, guest_username from admin.open_disputes where id = 'dp_dash3'$$,
                  $$values ('Night market'::text, 'hana_h'::text, 'jo_j'::text)$$,
                  'each with the event, the host and the guest');
select ok((select hours_left between 119 and 121 from admin.open_disputes where id = 'dp_dash3'), 'and the hours left to answer');
select is_empty($$select * from admin.ledger_health$$, 'all of that leaves the ledger healthy');
select is_empty($$select * from admin.payment_dead_letters$$, 'no payment command has died');
reset role;
select private.apply_dispute(jsonb_build_object('object', 'dispute', 'id', 'dp_dash4', 'amount', 3000, 'currency', 'eur', 'charge', 'ch_dash4',
  'payment_intent', 'pi_dash4', 'status', 'won', 'reason', 'product_not_received', 'created', extract(epoch from now())::bigint),
  now() + interval '1 minute', 'evt_dp4_won');
set local role postgres;
select results_eq($$select id from admin.open_disputes$$, $$values ('dp_dash3'::text)$$, 'a won dispute leaves the queue');
reset role;

-- Dead letters
select private.post_ledger_transaction('release:test', 'release', private.postings_release(tests.get_supabase_uid('hana'), 'EUR', 1000));
select tests.authenticate_as('hana');
insert into fx select 'PO', payout_id from public.request_payout(600, 'EUR');
select tests.as_superuser();
update private.payment_commands set status = 'dead', attempts = 8, last_error_code = 'rate_limited', last_error = 'Too many requests', completed_at = now()
 where payout_id = tests.fx('PO');
insert into fx select 'CMD', private.enqueue_payment_command('sync_balance_transaction', '{"charge":"ch_dash1"}', p_host_id => tests.get_supabase_uid('hana'));
update private.payment_commands set status = 'dead', attempts = 8, last_error = 'timeout', completed_at = now() - interval '1 hour' where id = tests.fx('CMD');
set local role postgres;
select results_eq($$select kind, retryable from admin.payment_dead_letters order by died_at desc$$,
                  $$values ('create_payout'::text, false), ('sync_balance_transaction', true)$$,
                  'dead payment commands are listed newest first, with whether a retry is safe');
select results_eq($$select payout_id, host_username, amount_cents, failure_code, returned_to_available from admin.payout_dead_letters$$,
                  $$values (tests.fx('PO'), 'hana_h'::text, 600::bigint, 'rate_limited'::text, false)$$,
                  'a payout whose call died is listed with the host, the amount, the cause and whether the money is back');
reset role;

-- Debt: a balance that went below zero is listed, and is not a health problem.
select private.post_ledger_transaction('test:debt', 'adjustment', private.ledger_entries_of(
  private.ledger_entry('host_available', tests.get_supabase_uid('hana'), 'EUR', 900), private.ledger_entry('platform_cash', null, 'EUR', -900)));
set local role postgres;
select results_eq($$select username, wallet_bucket, owed_cents from admin.hosts_in_debt$$,
                  $$values ('hana_h'::text, 'host_available'::text, 500::bigint)$$,
                  'a host whose available balance went negative is listed with what they owe');
select is_empty($$select * from admin.ledger_health$$, 'owing money is allowed: the ledger is still healthy');
reset role;

-- Breaking the ledger on purpose, one invariant at a time.
-- (one of the account's cached rows: host_pending is striped)
update private.ledger_balances set balance = balance + 1
 where (account_id, stripe) = (select b.account_id, min(b.stripe) from private.ledger_balances b join private.ledger_accounts a on a.id = b.account_id
                                where a.kind = 'host_pending' and a.host_id = tests.get_supabase_uid('hana') group by b.account_id);
set local role postgres;
select results_eq($$select check_name, amount from admin.ledger_health$$, $$values ('balance_cache_mismatch'::text, 1::bigint)$$,
                  'a cached balance that differs from its entries is a violation');
reset role;
update private.ledger_balances set balance = balance - 1
 where (account_id, stripe) = (select b.account_id, min(b.stripe) from private.ledger_balances b join private.ledger_accounts a on a.id = b.account_id
                                where a.kind = 'host_pending' and a.host_id = tests.get_supabase_uid('hana') group by b.account_id);

-- (The commit-time check would refuse this transaction; the test rolls back before it runs.)
with t as (insert into private.ledger_transactions (idempotency_key, kind) values ('test:broken', 'adjustment') returning id)
insert into private.ledger_entries (transaction_id, account_id, currency, amount)
select t.id, a.id, 'EUR', 250 from t, private.ledger_accounts a where a.kind = 'platform_cash' and a.currency = 'EUR';
set local role postgres;
select results_eq($$select check_name, amount from admin.ledger_health order by check_name$$,
                  $$values ('transaction_without_entries'::text, 1::bigint), ('unbalanced_transaction', 250::bigint)$$,
                  'a one-sided transaction shows as unbalanced and as having too few entries');
reset role;
set local session_replication_role = replica;
delete from private.ledger_entries where transaction_id = (select id from private.ledger_transactions where idempotency_key = 'test:broken');
delete from private.ledger_transactions where idempotency_key = 'test:broken';
set local session_replication_role = origin;

select private.post_ledger_transaction('test:in_transit', 'adjustment', private.ledger_entries_of(
  private.ledger_entry('host_in_transit', tests.get_supabase_uid('hana'), 'EUR', 5000), private.ledger_entry('host_available', tests.get_supabase_uid('hana'), 'EUR', -5000)));
set local role postgres;
select results_eq($$select check_name, amount from admin.ledger_health$$, $$values ('negative_wallet'::text, -4400::bigint)$$,
                  'more money out of transit than went in is a negative wallet');
reset role;
select private.post_ledger_transaction('test:in_transit_back', 'adjustment', private.ledger_negate(private.ledger_entries_of(
  private.ledger_entry('host_in_transit', tests.get_supabase_uid('hana'), 'EUR', 5000), private.ledger_entry('host_available', tests.get_supabase_uid('hana'), 'EUR', -5000))));

select private.post_ledger_transaction('test:clearing', 'adjustment', private.ledger_entries_of(
  private.ledger_entry('platform_cash', null, 'EUR', 50), private.ledger_entry('refunds', null, 'EUR', -50)));
set local role postgres;
select results_eq($$select check_name, amount from admin.ledger_health$$, $$values ('refunds_clearing_mismatch'::text, -50::bigint)$$,
                  'money in the refunds clearing account that no refund in flight explains is a violation');
reset role;
select private.post_ledger_transaction('test:clearing_back', 'adjustment', private.ledger_entries_of(
  private.ledger_entry('platform_cash', null, 'EUR', -50), private.ledger_entry('refunds', null, 'EUR', 50)));

set local session_replication_role = replica;
insert into fx values ('BX', gen_random_uuid());
insert into public.bookings (id, event_id, ticket_type_id, guest_id, quantity, status, amount_cents, currency, confirmed_at)
values (tests.fx('BX'), tests.fx('E'), tests.fx('T'), tests.get_supabase_uid('kim'), 1, 'confirmed', 3000, 'EUR', now());
set local session_replication_role = origin;
set local role postgres;
select results_eq($$select check_name, object_id from admin.ledger_health$$, $$values ('paid_booking_without_payment'::text, tests.fx('BX')::text)$$,
                  'a paid booking confirmed without a payment is a violation');
reset role;
insert into private.payments (booking_id, event_id, host_id, guest_id, amount_cents, currency, platform_fee_bps, platform_fee_cents,
                              host_share_cents, refund_policy, status, payment_intent_id, succeeded_at)
values (tests.fx('BX'), tests.fx('E'), tests.get_supabase_uid('hana'), tests.get_supabase_uid('kim'), 3000, 'EUR', 1000, 300, 2700, 'flexible', 'succeeded',
        'pi_ghost', now());
set local role postgres;
select results_eq($$select check_name, amount from admin.ledger_health$$, $$values ('payment_without_ledger'::text, 3000::bigint)$$,
                  'so is a succeeded payment the ledger never booked');
reset role;
set local session_replication_role = replica;
delete from private.payments where booking_id = tests.fx('BX');
delete from public.bookings where id = tests.fx('BX');
set local session_replication_role = origin;

insert into private.payouts (host_id, account_id, amount_cents, currency) values (tests.get_supabase_uid('hana'), 'acct_hana', 100, 'EUR');
update private.payouts set requested_at = now() - interval '8 days' where id = tests.fx('PO');
set local role postgres;
select results_eq($$select check_name, amount from admin.ledger_health order by check_name$$,
                  $$values ('payout_in_flight'::text, 600::bigint), ('payout_without_ledger', 100::bigint)$$,
                  'a payout that never left the wallet, and one stuck in flight for over a week, are violations');
reset role;

-- Stuck holds
select tests.authenticate_as('kim');
insert into fx select 'HOLD', id from public.book_event(tests.fx('E'), tests.fx('T'), 2, 'kim-hold');
select tests.as_superuser();
update public.bookings set hold_expires_at = now() - interval '10 minutes' where id = tests.fx('HOLD');
set local role postgres;
select results_eq($$select problem, booking_id, minutes_overdue from admin.stuck_holds$$,
                  $$values ('hold_past_expiry'::text, tests.fx('HOLD'), 10)$$,
                  'a hold ten minutes past its deadline that the sweep missed is stuck');
reset role;
select private.expire_stale_bookings();
set local role postgres;
select is_empty($$select * from admin.stuck_holds$$, 'the sweep releases it');
reset role;
insert into private.booking_allocations (booking_id, ticket_type_id, slot, quantity)
select tests.fx('HOLD'), tests.fx('T'), min(slot), 2 from private.ticket_inventory where ticket_type_id = tests.fx('T');
set local role postgres;
select results_eq($$select problem, seats_held from admin.stuck_holds order by problem$$,
                  $$values ('released_booking_keeps_seats'::text, 2), ('seat_count_drift', 6)$$,
                  'an expired booking still holding seats, and the seat counter that no longer matches, are both listed');
reset role;

-- Who may read
select ok(has_table_privilege('postgres', format('admin.%I', v), 'select'), format('Studio (postgres) reads admin.%s', v))
  from unnest(array['daily_revenue', 'bookings_per_day', 'open_disputes', 'payment_dead_letters', 'payout_dead_letters',
                    'hosts_in_debt', 'ledger_health', 'stuck_holds']) as v;
select tests.authenticate_as('hana');
select is(tests.sqlstate_of($$select * from admin.daily_revenue$$), '42501', 'a host cannot read platform revenue');
select is(tests.sqlstate_of($$select * from admin.ledger_health$$), '42501', 'or ledger health');
select tests.clear_authentication();
select is(tests.sqlstate_of($$select * from admin.open_disputes$$), '42501', 'anonymous visitors cannot read disputes');
select is(tests.sqlstate_of($$select * from admin.stuck_holds$$), '42501', 'or stuck holds');
select tests.as_superuser();
select ok(not exists (select 1 from unnest(array['daily_revenue', 'bookings_per_day', 'open_disputes', 'payment_dead_letters',
                                                 'payout_dead_letters', 'hosts_in_debt', 'ledger_health', 'stuck_holds']) as v,
                                    unnest(array['anon', 'authenticated', 'service_role']) as r
                       where has_table_privilege(r, format('admin.%I', v), 'select')),
          'no API role is granted any dashboard');
select ok(not has_schema_privilege('authenticated', 'admin', 'usage') and not has_schema_privilege('anon', 'admin', 'usage'),
          'and the API roles cannot even look inside the admin schema');
select ok(not exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                       where n.nspname = 'admin' and c.relkind = 'v' and obj_description(c.oid, 'pg_class') is null),
          'every admin view says what it shows (Studio displays the comment)');

select * from finish();
rollback;
