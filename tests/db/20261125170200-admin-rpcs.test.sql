-- Admin RPCs for the admin app: only a current admin may refund a booking, resolve a report or
-- retry a dead letter; each needs a reason; bad input writes nothing; every success is in the
-- audit log, committed with the action.
begin;
select plan(40);

select tests.create_fixtures();
create function pg_temp.audits() returns bigint language sql security definer as $$
  select count(*) from private.audit_log where action like 'admin.%'
$$;
-- Everything an admin RPC could have written, to show a refused call wrote none of it.
create function pg_temp.footprint() returns text language sql security definer as $$
  select format('audit=%s refunds=%s requests=%s reports_open=%s commands_dead=%s deliveries_dead=%s',
    (select count(*) from private.audit_log where action like 'admin.%'), (select count(*) from private.refunds),
    (select count(*) from private.refund_requests), (select count(*) from private.content_reports where status = 'open'),
    (select count(*) from private.payment_commands where status = 'dead'),
    (select count(*) from private.alert_deliveries where status = 'dead'))
$$;

select tests.create_supabase_user('ada', 'ada@example.test', '{"username":"ada_admin"}', '{"role":"admin"}');
select tests.create_supabase_user('hal', 'hal@example.test', '{"username":"hal_host"}');
select tests.create_supabase_user('gil', 'gil@example.test', '{"username":"gil_guest"}');
select tests.create_supabase_user('rex', 'rex@example.test', '{"username":"rex_reporter"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('hal');
insert into private.stripe_accounts (host_id, account_id, details_submitted, payouts_enabled, transfers_capability)
values (tests.get_supabase_uid('hal'), 'acct_hal', true, true, 'active');

-- Fixtures: a paid booking, a report, a dead payment command and a dead alert delivery.
select tests.authenticate_as('hal');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Rooftop cinema', now() + interval '4 days', now() + interval '4 days 3 hours', 'UTC') returning id)
insert into fx select 'E', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('E'), 'Deckchair', 2500, 'EUR', 20) returning id)
insert into fx select 'T', id from t;
select public.publish_event(tests.fx('E'));
select tests.authenticate_as('gil');
insert into fx select 'B', id from public.book_event(tests.fx('E'), tests.fx('T'), 1, 'gil-1');
select * from private.prepare_checkout(tests.fx('B'));
select tests.as_superuser();
select private.apply_payment_intent(jsonb_build_object('object', 'payment_intent', 'id', 'pi_gil', 'status', 'succeeded', 'amount', 2500,
  'amount_received', 2500, 'currency', 'eur', 'latest_charge', 'ch_gil',
  'metadata', jsonb_build_object('payment_id', (select id from private.payments where booking_id = tests.fx('B')))), 'evt_gil', now());
select tests.authenticate_as('rex');
insert into fx select 'HELD', id from public.book_event(tests.fx('E'), tests.fx('T'), 1, 'rex-held');
insert into fx select 'REP', public.report_content('user', tests.get_supabase_uid('hal'), 'Scam events');
select tests.as_superuser();
insert into fx select 'CMD', private.enqueue_payment_command('sync_balance_transaction', '{"charge":"ch_gil"}', p_host_id => tests.get_supabase_uid('hal'));
update private.payment_commands set status = 'dead', attempts = 8, last_error = 'timeout', completed_at = now() where id = tests.fx('CMD');
with d as (insert into private.alert_deliveries (notification_id, user_id, type, channel, dedupe_key, status, attempts, finished_at, last_error)
           values (gen_random_uuid(), tests.get_supabase_uid('gil'), 'booking_confirmed', 'email', 'test-dead', 'dead', 8, now(), 'mailbox full') returning id)
insert into fx select 'DLV', id from d;
create temp table before_state as select pg_temp.footprint() as f;
grant select on before_state to public;

-- Nobody but an admin
select tests.authenticate_as('hal');
select is(tests.error_of(format($$select * from public.admin_refund_booking(%L, 'goodwill')$$, tests.fx('B'))), '42501 admin_only',
          'a host cannot refund bookings through the admin RPC');
select is(tests.error_of(format($$select public.admin_resolve_report(%L, 'dismissed', 'not me')$$, tests.fx('REP'))), '42501 admin_only',
          'a reported host cannot dismiss the report about them');
select is(tests.error_of(format($$select public.admin_retry_dead_letter('payment_command', %L, 'retry')$$, tests.fx('CMD'))), '42501 admin_only',
          'or retry dead letters');
select is(tests.error_of($$select * from public.admin_refund_booking(null, null, -5)$$), '42501 admin_only',
          'a non-admin is refused before their arguments are even looked at');
select tests.authenticate_as('gil');
select is(tests.error_of(format($$select * from public.admin_refund_booking(%L, 'I want my money')$$, tests.fx('B'))), '42501 admin_only',
          'a guest cannot refund themselves');
select tests.clear_authentication();
select is(tests.error_of(format($$select public.admin_resolve_report(%L, 'dismissed', 'x')$$, tests.fx('REP'))), '42501 not_authenticated',
          'anonymous callers are told to sign in');
select tests.authenticate_as_service_role();
select is(left(tests.error_of(format($$select public.admin_retry_dead_letter('alert_delivery', %L, 'x')$$, tests.fx('DLV'))), 5), '42501',
          'the service role is no admin user and cannot call admin RPCs');
-- A user who claims admin in a forged user_metadata, or whose admin right was revoked after the token was issued.
select tests.as_superuser();
update auth.users set raw_user_meta_data = raw_user_meta_data || '{"role":"admin"}' where id = tests.get_supabase_uid('hal');
select tests.authenticate_as('hal');
select is(tests.error_of(format($$select public.admin_resolve_report(%L, 'dismissed', 'x')$$, tests.fx('REP'))), '42501 admin_only',
          'user_metadata (which users edit themselves) grants nothing');
select tests.as_superuser();
select set_config('request.jwt.claims', (select tests.access_token_claims('ada'))::text, true);
update auth.users set raw_app_meta_data = raw_app_meta_data - 'role' where id = tests.get_supabase_uid('ada');
select set_config('role', 'authenticated', true);
select is(tests.error_of(format($$select public.admin_resolve_report(%L, 'dismissed', 'x')$$, tests.fx('REP'))), '42501 admin_only',
          'an admin whose right was revoked is refused at once, though their token still says admin');
select tests.as_superuser();
update auth.users set raw_app_meta_data = raw_app_meta_data || '{"role":"admin"}' where id = tests.get_supabase_uid('ada');
select is((select pg_temp.footprint()), (select f from before_state), 'none of the refused calls wrote anything');
select ok(not has_function_privilege('authenticated', 'admin.refund_booking(uuid, bigint)', 'execute')
          and not has_function_privilege('authenticated', 'admin.retry_payment_command(uuid)', 'execute'),
          'and nobody signed in can reach the operators'' functions behind the RPCs');

-- Bad input: a clear error and nothing written
select tests.authenticate_as('ada');
select is(tests.error_of(format($$select * from public.admin_refund_booking(%L, '   ')$$, tests.fx('B'))), '22023 invalid_reason',
          'a refund needs a reason');
select is(tests.error_of(format($$select * from public.admin_refund_booking(%L, repeat('x', 1001))$$, tests.fx('B'))), '22023 invalid_reason',
          'of at most 1,000 characters');
select is(tests.error_of(format($$select * from public.admin_refund_booking(%L, 'goodwill', 0)$$, tests.fx('B'))), '22023 invalid_amount',
          'a refund of nothing is refused');
select is(tests.error_of(format($$select * from public.admin_refund_booking(%L, 'goodwill', 2501)$$, tests.fx('B'))), 'P0001 refund_exceeds_payment',
          'so is more than was paid');
select is(tests.error_of(format($$select * from public.admin_refund_booking(%L, 'goodwill')$$, gen_random_uuid())), '22023 booking_not_found',
          'an unknown booking is not found');
select is(tests.error_of(format($$select * from public.admin_refund_booking(%L, 'goodwill')$$, tests.fx('HELD'))), '22023 booking_not_found',
          'nor is a booking nobody paid for');
select is(tests.error_of(format($$select public.admin_resolve_report(%L, 'deleted', 'spam')$$, tests.fx('REP'))), '22023 invalid_status',
          'a report is actioned or dismissed, nothing else');
select is(tests.error_of(format($$select public.admin_resolve_report(%L, 'dismissed', 'spam')$$, gen_random_uuid())), '22023 report_not_found',
          'an unknown report is not found');
select is(tests.error_of(format($$select public.admin_resolve_report(%L, 'dismissed', null)$$, tests.fx('REP'))), '22023 invalid_reason',
          'resolving needs a reason');
select is(tests.error_of(format($$select public.admin_retry_dead_letter('stripe_event', %L, 'again')$$, tests.fx('CMD'))), '22023 invalid_dead_letter_kind',
          'only payment commands and alert deliveries can be retried');
select is(tests.error_of(format($$select public.admin_retry_dead_letter('payment_command', %L, 'again')$$, gen_random_uuid())), '22023 command_not_found',
          'an unknown payment command is not found');
select is(tests.error_of(format($$select public.admin_retry_dead_letter('alert_delivery', %L, 'again')$$, tests.fx('CMD'))), '22023 delivery_not_found',
          'a payment command id is no alert delivery');
select tests.as_superuser();
select is((select pg_temp.footprint()), (select f from before_state), 'and none of the bad calls wrote anything');

-- Refund
select tests.authenticate_as('ada');
select results_eq(format($$select booking_id, amount_cents, currency, status from public.admin_refund_booking(%L, '  Venue changed without notice  ', 1000)$$, tests.fx('B')),
                  format($$values (%L::uuid, 1000::bigint, 'EUR'::text, 'requested'::text)$$, tests.fx('B')),
                  'Ada refunds 10.00 of Gil''s booking: a refund is requested from Stripe');
select tests.as_superuser();
select results_eq($$select actor_id, actor_role, subject_id, details ->> 'reason', (details ->> 'amount_cents')::bigint
                      from private.audit_log where action = 'admin.refund_booking'$$,
                  format($$values (%L::uuid, 'admin'::text, %L::uuid, 'Venue changed without notice'::text, 1000::bigint)$$, tests.get_supabase_uid('ada'), tests.fx('B')),
                  'the audit log names Ada, the booking, her reason and the amount');
set local role postgres;
select is_empty($$select * from admin.ledger_health$$, 'a refund waiting for Stripe keeps the ledger healthy');
reset role;
select is((select count(*)::int from private.payment_commands where kind = 'create_refund' and payment_id = (select id from private.payments where booking_id = tests.fx('B'))),
          1, 'and the Stripe refund is queued in the same transaction');
select tests.authenticate_as('ada');
select is((select amount_cents from public.admin_refund_booking(tests.fx('B'), 'The rest as goodwill')), 1500::bigint,
          'a second refund without an amount refunds what is left');
select is(tests.error_of(format($$select * from public.admin_refund_booking(%L, 'more')$$, tests.fx('B'))), 'P0001 nothing_to_refund',
          'after which there is nothing left to refund');

-- Resolve a report
select tests.authenticate_as('gil');
select public.report_content('user', tests.get_supabase_uid('hal'), 'Same scam');
select tests.authenticate_as('ada');
select is(public.admin_resolve_report(tests.fx('REP'), 'actioned', 'Host warned'), 2, 'Ada resolves Rex''s report, closing Gil''s on the same host too');
select tests.as_superuser();
select is((select count(*)::int from private.content_reports where status = 'actioned' and resolved_by = tests.get_supabase_uid('ada')::text
            and resolution_note = 'Host warned'), 2, 'both name Ada and carry her note');
select results_eq($$select subject_id, details ->> 'status', (details ->> 'reports_closed')::int from private.audit_log where action = 'admin.resolve_report'$$,
                  format($$values (%L::uuid, 'actioned'::text, 2)$$, tests.fx('REP')), 'the resolution is in the audit log');
select tests.authenticate_as('ada');
select is(tests.error_of(format($$select public.admin_resolve_report(%L, 'dismissed', 'again')$$, tests.fx('REP'))), 'P0001 report_already_resolved',
          'a resolved report cannot be resolved again');

-- Retry dead letters
select is(public.admin_retry_dead_letter('payment_command', tests.fx('CMD'), 'Stripe outage is over'), 'pending',
          'Ada queues the dead fee look-up again');
select is(public.admin_retry_dead_letter('alert_delivery', tests.fx('DLV'), 'Mailbox fixed'), 'pending',
          'and the dead email');
select tests.as_superuser();
select results_eq($$select status, attempts from private.payment_commands where id = tests.fx('CMD')
                    union all select status, attempts from private.alert_deliveries where id = tests.fx('DLV')$$,
                  $$values ('pending'::text, 0), ('pending', 0)$$, 'both are pending again with fresh attempts');
select results_eq($$select subject_type, details ->> 'reason' from private.audit_log where action = 'admin.retry_dead_letter' order by id$$,
                  $$values ('payment_command'::text, 'Stripe outage is over'::text), ('alert_delivery', 'Mailbox fixed')$$,
                  'each retry is in the audit log with its reason');
select tests.authenticate_as('ada');
select is(tests.error_of(format($$select public.admin_retry_dead_letter('payment_command', %L, 'again')$$, tests.fx('CMD'))), 'P0001 command_not_dead',
          'a command that is not dead cannot be retried');
select tests.as_superuser();
update private.payment_commands set status = 'dead', completed_at = now()
 where kind = 'create_refund' and refund_id = (select id from private.refunds where booking_id = tests.fx('B') order by created_at limit 1);
insert into fx select 'RCMD', c.id from private.payment_commands c where c.kind = 'create_refund' and c.status = 'dead';
select tests.authenticate_as('ada');
select is(tests.error_of(format($$select public.admin_retry_dead_letter('payment_command', %L, 'again')$$, tests.fx('RCMD'))),
          'P0001 command_compensated', 'a dead refund is not retried blindly: it was already put back');

select * from finish();
rollback;
