-- Payments in the database: checkout refusals, Stripe events stored once and applied
-- monotonically, payouts status from Connect, a payment that arrives after the hold ended,
-- the release job, request_payout's refusals, what hosts read, and reconciliation.
-- Also tells: 20261125120000_payment_settings_and_connect_accounts, 20261125120300_wallet_transfers_and_payouts
-- Also tells: 20261125120400_refunds, 20261125120500_disputes
-- Also tells: 20261125120600_stripe_events, 20261125120700_payment_reconciliation
begin;
select plan(56);

-- A Stripe event as the webhook would pass it on.
create function pg_temp.evt(p_id text, p_type text, p_object jsonb, p_created bigint default extract(epoch from now())::bigint,
                            p_account text default null) returns jsonb language sql as $$
  select jsonb_strip_nulls(jsonb_build_object('id', p_id, 'object', 'event', 'type', p_type, 'created', p_created, 'livemode', false,
                                              'api_version', '2026-10-28.endive', 'account', p_account, 'data', jsonb_build_object('object', p_object)))
$$;
create function pg_temp.ingest(p_event jsonb, p_endpoint text default 'platform') returns text language sql as $$
  select private.ingest_stripe_event(p_event, p_endpoint, false) $$;

select tests.create_supabase_user('hana', 'hana@example.test', '{"username":"hana_host"}');
select tests.create_supabase_user('gus', 'gus@example.test', '{"username":"gus_guest"}');
select tests.create_supabase_user('ivy', 'ivy@example.test', '{"username":"ivy_guest"}');
select tests.create_supabase_user('otto', 'otto@example.test', '{"username":"otto_host"}');
update public.profiles set is_host = true, host_status = 'active' where id in (tests.get_supabase_uid('hana'), tests.get_supabase_uid('otto'));
insert into private.stripe_accounts (host_id, account_id) values (tests.get_supabase_uid('hana'), 'acct_hana'), (tests.get_supabase_uid('otto'), 'acct_otto');

-- Stripe's statuses: those of the pinned API version are known, anything else is kept raw.
select is(private.stripe_status_known('dispute', 'appeal_under_review'), true, 'an appeal status is one Rally knows');
select is(private.stripe_status_known('refund', 'awaiting_partner'), false, 'a status from a later API version is not');
select is(private.stripe_status_known('payout', null), false, 'and neither is a missing one (never null)');
-- Dispute snapshots: the newer wins; on a tie the later stage; final statuses stay.
create function pg_temp.dispute_at(p_status text, p_appealed boolean) returns private.disputes language sql as $$
  select jsonb_populate_record(null::private.disputes, jsonb_build_object('status', p_status, 'synced_at', '2026-11-30T10:00:00Z',
    'appealed_at', case when p_appealed then '2026-11-30T09:00:00Z' end)) $$;
select is(private.dispute_snapshot_applies(pg_temp.dispute_at('lost', false), 'appeal_needs_response', '2026-11-30T10:00:00Z'), true,
          'an appeal stamped in the same second as the loss moves the dispute on');
select is(private.dispute_snapshot_applies(pg_temp.dispute_at('appeal_under_review', true), 'lost', '2026-11-30T10:00:00Z'), true,
          'a loss in the same second as the appeal''s review is the appeal''s decision');
select is(private.dispute_snapshot_applies(pg_temp.dispute_at('lost', true), 'appeal_under_review', '2026-11-30T10:00:00Z'), false,
          'and the review does not undo that decision');
select is(private.dispute_snapshot_applies(pg_temp.dispute_at('won', true), 'lost', '2026-11-30T11:00:00Z'), false,
          'a won dispute stays won, even against a newer snapshot');

-- Connect account status
select is(pg_temp.ingest(pg_temp.evt('evt_acct2', 'account.updated',
  '{"object":"account","id":"acct_hana","details_submitted":true,"payouts_enabled":true,"charges_enabled":true,"capabilities":{"transfers":"active"}}', 2000000000), 'connect'),
  'processed', 'account.updated on the Connect endpoint is applied');
select ok((select payouts_enabled from public.profiles where id = tests.get_supabase_uid('hana')), 'a fully onboarded host has payouts enabled');
select ok(exists (select 1 from public.notifications where user_id = tests.get_supabase_uid('hana') and type = 'payouts_enabled'),
          'and is told so');
select is((select private.apply_stripe_account('{"object":"account","id":"acct_hana","details_submitted":false,"payouts_enabled":false,"capabilities":{"transfers":"inactive"}}',
                                               to_timestamp(1999999999))), 'stale', 'an older account snapshot arriving late changes nothing');
select ok((select payouts_enabled from public.profiles where id = tests.get_supabase_uid('hana')), 'so payouts stay enabled');
select is(pg_temp.ingest(pg_temp.evt('evt_cap1', 'capability.updated', '{"object":"capability","id":"transfers","account":"acct_otto","status":"active"}', 2000000000), 'connect'),
          'processed', 'capability.updated is applied');
select ok(not (select payouts_enabled from public.profiles where id = tests.get_supabase_uid('otto')),
          'an active transfers capability alone does not enable payouts before details are submitted');

-- Events stored once; unknown and wrong-mode events stored, not applied
select is(pg_temp.ingest(pg_temp.evt('evt_acct2', 'account.updated', '{"object":"account","id":"acct_hana"}', 2000000000), 'connect'),
          'duplicate', 'a redelivered event is answered as a duplicate');
select is(pg_temp.ingest(pg_temp.evt('evt_unknown1', 'customer.created', '{"object":"customer","id":"cus_1"}')), 'ignored',
          'an event type Rally does not handle is stored as ignored');
select ok(exists (select 1 from private.stripe_events where id = 'evt_unknown1' and status = 'ignored'), 'and kept, not dropped');
select is(private.ingest_stripe_event(jsonb_set(pg_temp.evt('evt_live1', 'account.updated', '{"object":"account","id":"acct_hana","payouts_enabled":false}', 2100000000),
                                                '{livemode}', 'true'), 'connect', false),
          'ignored', 'a live-mode event reaching a test-mode deployment is stored but not applied');
select ok((select payouts_enabled from public.profiles where id = tests.get_supabase_uid('hana')), 'so it changes nothing');
select tests.raises_hint($$select private.ingest_stripe_event('{"id":"evt_x"}', 'platform', false)$$, 'invalid_stripe_event',
          'something that is not a Stripe event is refused');

-- A paid event and a booking
select tests.authenticate_as('hana');
select tests.create_fixtures();
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Jazz cellar', now() + interval '5 days', now() + interval '5 days 3 hours', 'UTC') returning id)
insert into fx select 'E', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('E'), 'Seat', 3000, 'EUR', 1) returning id)
insert into fx select 'T', id from t;
select public.publish_event(tests.fx('E'));

select tests.authenticate_as('gus');
insert into fx select 'B', id from public.book_event(tests.fx('E'), tests.fx('T'), 1, 'gus-1');

-- Checkout refusals (as the function calls it, as the guest)
select tests.authenticate_as('ivy');
select tests.raises_hint(format('select * from private.prepare_checkout(%L)', tests.fx('B')), 'not_your_booking',
          'nobody can pay for someone else''s booking');
select tests.raises_hint(format('select * from private.prepare_checkout(%L)', gen_random_uuid()), 'booking_not_found',
          'an unknown booking is not found');
select tests.authenticate_as('gus');
select is((select amount_cents from private.prepare_checkout(tests.fx('B'))), 3000::bigint, 'the guest prepares checkout for their held booking');
select is((select count(*) from private.prepare_checkout(tests.fx('B'))), 1::bigint, 'preparing again works too');
select tests.as_superuser();
select is((select count(*) from private.payments where booking_id = tests.fx('B')), 1::bigint, 'and reuses the one payment per booking');
select is((select platform_fee_bps from private.payments where booking_id = tests.fx('B')), 1000, 'which keeps the fee rate in force at checkout');
insert into fx select 'P', id from private.payments where booking_id = tests.fx('B');
select private.record_payment_intent(tests.fx('P'), '{"object":"payment_intent","id":"pi_gus","status":"requires_payment_method","amount":3000,"currency":"eur","created":2000000000}');

-- The hold expires and someone else takes the last seat; the PaymentIntent is cancelled.
update public.bookings set hold_expires_at = now() - interval '1 minute' where id = tests.fx('B');
select tests.authenticate_as('gus');
select tests.raises_hint(format('select * from private.prepare_checkout(%L)', tests.fx('B')), 'hold_expired',
          'checkout is refused once the hold has expired');
select tests.as_superuser();
select private.expire_stale_bookings();
select is((select payload ->> 'payment_intent_id' from private.payment_commands where payment_id = tests.fx('P') and kind = 'cancel_payment_intent'),
          'pi_gus', 'an expired hold gets its open PaymentIntent cancelled at Stripe');
select tests.authenticate_as('ivy');
insert into fx select 'B2', id from public.book_event(tests.fx('E'), tests.fx('T'), 1, 'ivy-1');
select tests.as_superuser();

-- …but the guest's payment succeeds anyway (a race with the cancellation): refunded in full.
select is(pg_temp.ingest(pg_temp.evt('evt_pi1', 'payment_intent.succeeded',
  '{"object":"payment_intent","id":"pi_gus","status":"succeeded","amount":3000,"amount_received":3000,"currency":"eur","latest_charge":"ch_gus"}', 2000000100)),
  'processed', 'a late payment is still applied');
select is((select status from public.bookings where id = tests.fx('B')), 'expired', 'the booking stays expired: its seat is gone');
select is((select reason from private.refund_requests where booking_id = tests.fx('B')), 'unfulfillable', 'and the payment is refunded in full');
select is((select amount_cents from private.refunds where booking_id = tests.fx('B')), 3000::bigint, 'for the whole amount');
select ok(exists (select 1 from public.notifications where user_id = tests.get_supabase_uid('gus') and type = 'payment_refunded_unfulfillable'),
          'and the guest is told why');
select is((select -balance from private.ledger_account_balances b join private.ledger_accounts a on a.id = b.account_id
            where a.host_id = tests.get_supabase_uid('hana') and a.kind = 'host_pending'), 0::bigint,
          'the host''s pending share went in and straight back out');
select is(pg_temp.ingest(pg_temp.evt('evt_pi1b', 'payment_intent.payment_failed',
  '{"object":"payment_intent","id":"pi_gus","status":"requires_payment_method","amount":3000,"currency":"eur"}', 2000000050)),
  'processed', 'an older failure arriving after the success is stored');
select is((select status from private.payments where id = tests.fx('P')), 'succeeded', 'but cannot undo a succeeded payment');

-- Ivy pays for the seat; the event ends; release.
select tests.authenticate_as('ivy');
select * from private.prepare_checkout(tests.fx('B2'));
select tests.as_superuser();
insert into fx select 'P2', id from private.payments where booking_id = tests.fx('B2');
select private.record_payment_intent(tests.fx('P2'), '{"object":"payment_intent","id":"pi_ivy","status":"requires_payment_method","amount":3000,"currency":"eur","created":2000000200}');
select pg_temp.ingest(pg_temp.evt('evt_pi2', 'payment_intent.succeeded',
  '{"object":"payment_intent","id":"pi_ivy","status":"succeeded","amount":3000,"amount_received":3000,"currency":"eur","latest_charge":"ch_ivy"}', 2000000300));
select is((select status from public.bookings where id = tests.fx('B2')), 'confirmed', 'a paid booking is confirmed by the webhook');
select is((select pending from private.host_wallet(tests.get_supabase_uid('hana'), 'EUR')), 2700::bigint, 'and the host''s share is pending');

-- The system completed it when it ended (complete_ended_events), ten days ago.
update private.events set starts_at = now() - interval '10 days', ends_at = now() - interval '10 days' + interval '3 hours',
                          status = 'completed', completed_at = now() - interval '10 days' + interval '3 hours' where id = tests.fx('E');
update private.payment_settings set release_hold_hours = 48;
-- An inquiry holds the release while it is open.
select pg_temp.ingest(pg_temp.evt('evt_du1', 'charge.dispute.created',
  '{"object":"dispute","id":"du_ivy","amount":3000,"currency":"eur","charge":"ch_ivy","payment_intent":"pi_ivy","status":"warning_needs_response","reason":"general","created":2000000400,"balance_transactions":[]}', 2000000400));
select private.release_host_earnings();
select is((select released_at from private.payments where id = tests.fx('P2')), null, 'a payment under an open inquiry is not released');
select is((select pending from private.host_wallet(tests.get_supabase_uid('hana'), 'EUR')), 2700::bigint, 'an inquiry moves no money');
select pg_temp.ingest(pg_temp.evt('evt_du2', 'charge.dispute.closed',
  '{"object":"dispute","id":"du_ivy","amount":3000,"currency":"eur","charge":"ch_ivy","payment_intent":"pi_ivy","status":"warning_closed","reason":"general","created":2000000400,"balance_transactions":[]}', 2000000500));
select is(private.release_host_earnings(), 1, 'once closed, the payment is released');
select is((select available from private.host_wallet(tests.get_supabase_uid('hana'), 'EUR')), 2700::bigint, 'into the host''s available balance');
select is((select (payload ->> 'amount')::bigint from private.payment_commands where payment_id = tests.fx('P2') and kind = 'create_transfer'),
          2700::bigint, 'and a transfer of the host''s share is queued');

-- request_payout refusals write nothing
select tests.authenticate_as('hana');
select tests.raises_hint($$select * from public.request_payout(0, 'EUR')$$, 'invalid_amount', 'a payout of nothing is refused');
select tests.raises_hint($$select * from public.request_payout(100, 'ZZZ')$$, 'invalid_currency', 'an unknown currency is refused');
select tests.raises_hint($$select * from public.request_payout(2701, 'EUR')$$, 'insufficient_funds', 'more than available is refused');
select tests.authenticate_as('otto');
select tests.raises_hint($$select * from public.request_payout(100, 'EUR')$$, 'payouts_not_enabled', 'a host without payouts set up cannot withdraw');
select tests.authenticate_as('gus');
select tests.raises_hint($$select * from public.request_payout(100, 'EUR')$$, 'not_a_host', 'a guest has no wallet to withdraw from');
select tests.clear_authentication();
select tests.raises_hint($$select * from public.request_payout(100, 'EUR')$$, 'not_authenticated', 'anonymous callers are refused');
select tests.as_superuser();
select is((select count(*) from private.payouts where host_id in (tests.get_supabase_uid('hana'), tests.get_supabase_uid('otto'), tests.get_supabase_uid('gus'))),
          0::bigint, 'none of the refused requests wrote a payout');

-- What hosts read
select tests.authenticate_as('hana');
select is((select available_cents from public.wallet_balances where currency = 'EUR'), 2700::bigint, 'a host reads their own wallet');
select is((select count(*) from public.wallet_activity(null, 2)), 2::bigint, 'wallet activity pages');
select tests.raises_hint($$select * from public.wallet_activity('not a cursor', 10)$$, 'invalid_cursor', 'a made-up cursor is refused');
select tests.authenticate_as('ivy');
select is((select count(*) from public.wallet_balances), 0::bigint, 'nobody else sees the host''s wallet');
select tests.as_superuser();

-- Reconciliation: a succeeded payment whose ledger booking is missing is listed.
insert into private.stripe_events (id, endpoint, type, livemode, stripe_created_at, object_id, payload, status)
values ('evt_orphan', 'platform', 'payment_intent.succeeded', false, now(), 'pi_orphan',
        pg_temp.evt('evt_orphan', 'payment_intent.succeeded', '{"object":"payment_intent","id":"pi_orphan","status":"succeeded","amount":700,"amount_received":700,"currency":"eur"}'),
        'processed');
select private.reconcile_payments();
select is((select stripe_amount from admin.payment_reconciliation where object_id = 'pi_orphan'), 700::bigint,
          'reconciliation lists a payment Stripe reported that the ledger never booked');
select is((select count(*) from admin.payment_reconciliation where object_id in ('pi_gus', 'pi_ivy')), 0::bigint,
          'and nothing for payments that match');

select * from finish();
rollback;
