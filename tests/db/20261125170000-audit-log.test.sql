-- The audit log: sensitive actions are recorded with the actor taken from the request, and
-- nobody can rewrite or erase what was recorded.
begin;
select plan(28);

create function pg_temp.audit(p_action text) returns setof private.audit_log language sql security definer as $$
  select * from private.audit_log where action = p_action order by id
$$;

select tests.create_supabase_user('hilda', 'hilda@example.test', '{"username":"hilda_h"}');
select tests.create_supabase_user('cora', 'cora@example.test', '{"username":"cora_c"}');
select tests.create_supabase_user('gina', 'gina@example.test', '{"username":"gina_g"}');

-- Writing
select ok(not has_function_privilege('authenticated', 'private.record_audit(text, text, uuid, jsonb)', 'execute'),
          'a signed-in user cannot write audit rows of their own');
select ok(not has_table_privilege('service_role', 'private.audit_log', 'insert')
          and not has_table_privilege('authenticated', 'private.audit_log', 'select'),
          'no API role touches the audit table directly');
select tests.authenticate_as_service_role();
select ok(private.record_audit('ops.note_added', 'user', tests.get_supabase_uid('gina'), '{"note":"checked"}') > 0,
          'a worker acting as the service role records an action');
select tests.as_superuser();
select results_eq($$select actor_id, actor_role, subject_type, subject_id, details ->> 'note' from pg_temp.audit('ops.note_added')$$,
                  $$values (null::uuid, 'service_role'::text, 'user'::text, tests.get_supabase_uid('gina'), 'checked'::text)$$,
                  'the row names the service role as the actor, whatever the arguments say');
select tests.authenticate_as_service_role();
select tests.raises_hint($$select private.record_audit('Drop Table', 'user', null, '{}')$$, 'invalid_audit_action',
          'an action that is not dotted snake case is refused');
select tests.raises_hint($$select private.record_audit('ops.x', 'User Row', null, '{}')$$, 'invalid_audit_subject',
          'so is a malformed subject type');
select tests.raises_hint($$select private.record_audit('ops.x', 'user', null, '[1,2]')$$, 'invalid_audit_details',
          'and details that are not an object');
select tests.as_superuser();
select is((select count(*)::int from pg_temp.audit('ops.x')), 0, 'refused audit writes leave nothing behind');

-- Immutability
select is(tests.sqlstate_of($$update private.audit_log set details = '{}'$$), '42501',
          'not even postgres (Studio, migrations) may rewrite an audit row');
select is(tests.sqlstate_of($$delete from private.audit_log$$), '42501', 'or delete one');
select is(tests.sqlstate_of($$truncate private.audit_log$$), '42501', 'or empty the log');
select is(tests.sqlstate_of($$update admin.audit_log set action = 'ops.hidden'$$), '55000',
          'and the Studio view is read-only');
-- The table's owner could grant itself the privileges back; the trigger still refuses.
grant update, delete, truncate on private.audit_log to postgres;
select tests.raises_hint($$update private.audit_log set details = '{}'$$, 'audit_log_append_only',
          'and the append-only trigger stops even a session that holds every privilege');
select tests.raises_hint($$delete from private.audit_log$$, 'audit_log_append_only', 'from deleting');
select tests.raises_hint($$truncate private.audit_log$$, 'audit_log_append_only', 'or truncating');
select is((select count(*)::int from pg_temp.audit('ops.note_added')), 1, 'so the record is still there');

-- Role changes
select tests.authenticate_as_service_role();
select public.set_user_admin(tests.get_supabase_uid('gina'), true);
select public.set_user_admin(tests.get_supabase_uid('gina'), false);
select tests.as_superuser();
select results_eq($$select action, actor_role, details ->> 'to' from private.audit_log where subject_id = tests.get_supabase_uid('gina') and action like 'user.admin%' order by id$$,
                  $$values ('user.admin_granted'::text, 'service_role'::text, 'admin'::text), ('user.admin_revoked', 'service_role', null)$$,
                  'granting and revoking admin rights are both recorded');

select tests.authenticate_as('hilda');
select public.become_host();
select tests.as_superuser();
select results_eq($$select actor_id, actor_role, details ->> 'from', details ->> 'to' from pg_temp.audit('user.became_host') where subject_id = tests.get_supabase_uid('hilda')$$,
                  $$values (tests.get_supabase_uid('hilda'), 'guest'::text, 'none'::text, 'active'::text)$$,
                  'Hilda becoming a host is recorded as her own action');

select tests.authenticate_as('hilda');
select tests.create_fixtures();
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Audit fair', now() + interval '5 days', now() + interval '5 days 2 hours', 'UTC') returning id)
insert into fx select 'E', id from e;
insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('E'), tests.get_supabase_uid('cora'), 'checkin');
update public.event_cohosts set role = 'manager' where event_id = tests.fx('E');
delete from public.event_cohosts where event_id = tests.fx('E');
select tests.as_superuser();
select results_eq($$select action, actor_id, details ->> 'user_id' from private.audit_log where subject_id = tests.fx('E') order by id$$,
                  $$values ('event.cohost_added'::text, tests.get_supabase_uid('hilda'), tests.get_supabase_uid('cora')::text),
                           ('event.cohost_role_changed', tests.get_supabase_uid('hilda'), tests.get_supabase_uid('cora')::text),
                           ('event.cohost_removed', tests.get_supabase_uid('hilda'), tests.get_supabase_uid('cora')::text)$$,
                  'adding, re-roling and removing a co-host are recorded with the host as the actor');

-- Payouts and refunds
insert into private.stripe_accounts (host_id, account_id, details_submitted, payouts_enabled, transfers_capability)
values (tests.get_supabase_uid('hilda'), 'acct_hilda', true, true, 'active');
update public.profiles set payouts_enabled = true where id = tests.get_supabase_uid('hilda');
select private.post_ledger_transaction('audit:earned', 'payment', private.postings_payment(tests.get_supabase_uid('hilda'), 'EUR', 5000, 500));
select private.post_ledger_transaction('audit:released', 'release', private.postings_release(tests.get_supabase_uid('hilda'), 'EUR', 4500));
select tests.authenticate_as('hilda');
insert into fx select 'PO', payout_id from public.request_payout(4000, 'EUR');
select tests.as_superuser();
select results_eq($$select actor_id, actor_role, (details ->> 'amount_cents')::bigint, details ->> 'currency' from pg_temp.audit('payout.requested')$$,
                  $$values (tests.get_supabase_uid('hilda'), 'host'::text, 4000::bigint, 'EUR'::text)$$,
                  'a payout request is recorded with the host, the amount and the currency');
update private.payouts set status = 'paid', paid_at = now() where id = tests.fx('PO');
select results_eq($$select actor_role, details ->> 'from' from pg_temp.audit('payout.paid')$$,
                  $$values ('database'::text, 'requested'::text)$$,
                  'its settlement by a job or webhook is recorded too');
select tests.authenticate_as('hilda');
select tests.raises_hint($$select * from public.request_payout(1000, 'EUR')$$, 'insufficient_funds', 'a refused payout request…');
select tests.as_superuser();
select is((select count(*)::int from pg_temp.audit('payout.requested')), 1, '…leaves no audit row');

-- A paid booking refunded by the guest's cancellation.
select tests.authenticate_as('hilda');
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('E'), 'Seat', 2000, 'EUR', 10) returning id)
insert into fx select 'T', id from t;
select public.publish_event(tests.fx('E'));
select tests.authenticate_as('gina');
insert into fx select 'B', id from public.book_event(tests.fx('E'), tests.fx('T'), 1, 'audit-1');
select * from private.prepare_checkout(tests.fx('B'));
select tests.as_superuser();
select private.apply_payment_intent(jsonb_build_object('object', 'payment_intent', 'id', 'pi_audit', 'status', 'succeeded', 'amount', 2000,
  'amount_received', 2000, 'currency', 'eur', 'latest_charge', 'ch_audit',
  'metadata', jsonb_build_object('payment_id', (select id from private.payments where booking_id = tests.fx('B')))), 'evt_audit', now());
select is((select status from public.bookings where id = tests.fx('B')), 'confirmed', 'Gina''s paid booking is confirmed');
select tests.authenticate_as('gina');
select public.cancel_booking(tests.fx('B'));
select tests.as_superuser();
select results_eq($$select actor_id, (details ->> 'amount_cents')::bigint, details ->> 'reason' from pg_temp.audit('refund.started')$$,
                  $$select tests.get_supabase_uid('gina'), amount_cents, 'guest_cancelled'::text from private.refund_requests where booking_id = tests.fx('B')$$,
                  'her cancellation starts a refund (what the refund policy gives back), recorded with her as the actor and the reason');

-- Account deletion
insert into fx select 'dora', tests.create_supabase_user('dora', 'dora@example.test', '{"username":"dora_d"}');
select tests.authenticate_as('dora');
select public.delete_my_account('dora_d');
select tests.as_superuser();
select results_eq($$select actor_id, actor_role, (details ->> 'self')::boolean from private.audit_log
                     where action = 'account.deleted' and subject_id = tests.fx('dora')$$,
                  $$values (tests.fx('dora'), 'guest'::text, true)$$,
                  'Dora deleting her own account is recorded, with her id and nothing else about her');

-- Studio
set local role postgres;
select ok((select count(*) from admin.audit_log where actor_username = 'hilda_h') >= 5, 'operators read the log in Studio with usernames');
reset role;
select tests.authenticate_as('hilda');
select is(tests.sqlstate_of($$select * from admin.audit_log$$), '42501', 'users cannot read the audit log');

select * from finish();
rollback;
