-- Payments, step 8: reconciliation and the operators' views (Studio, schema admin).
--
-- A job compares what Stripe reported (the stored webhook events: payments, refunds, transfers
-- and reversals, host payouts, dispute balance transactions) with what the ledger booked for
-- the same Stripe objects, and lists every difference in admin.payment_reconciliation. It also
-- lists ledger movements Stripe never reported (older than the grace period), and the ledger's
-- own health: unbalanced transactions, cached balances that differ from their entries,
-- refunds stuck in flight, dead commands, webhook events that keep failing, money in suspense,
-- statuses Stripe sent that Rally does not know, events still waiting for their payment to be
-- booked, and payments whose settlement amount was never read. Amounts are compared in the
-- settlement currency (what the ledger books). The comparison is by Stripe object id, so it
-- works the same whatever order events came in.

create table private.reconciliation_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  differences integer
);
comment on table private.reconciliation_runs is 'Each run of the payments reconciliation job.';

create table private.reconciliation_items (
  id bigint generated always as identity primary key,
  run_id bigint not null references private.reconciliation_runs (id),
  check_name text not null,
  object_type text,
  object_id text,
  currency text,
  stripe_amount bigint,
  ledger_amount bigint,
  detail text
);
comment on table private.reconciliation_items is 'Differences found by a reconciliation run (what Stripe reported vs what the ledger booked, and ledger health).';
create index reconciliation_items_run_idx on private.reconciliation_items (run_id);

-- The net amount the ledger booked on one kind of account for one Stripe object id.
create or replace function private.ledger_amount_for_object(p_object_id text, p_kind text) returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(sum(e.amount), 0)::bigint
    from private.ledger_transactions t
    join private.ledger_entries e on e.transaction_id = t.id
    join private.ledger_accounts a on a.id = e.account_id
   where t.stripe_object_id = p_object_id and a.kind = p_kind
$$;
comment on function private.ledger_amount_for_object(text, text) is 'Net ledger amount (debit +) on accounts of one kind for one Stripe object id.';

-- Job (hourly): one reconciliation run. Returns the run id.
create or replace function private.reconcile_payments() returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_run bigint;
  v_grace interval := make_interval(mins => (select s.reconciliation_grace_minutes from private.payment_settings s));
  v_count integer;
begin
  insert into private.reconciliation_runs default values returning id into v_run;

  -- Payments Stripe says succeeded vs platform cash booked for them, in the settlement currency:
  -- a payment in another currency is compared with its charge's balance transaction (once read:
  -- until then the payment_unsettled check below lists it).
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, stripe_amount, ledger_amount, detail)
  select v_run, 'payment', 'payment_intent', f.object_id, x.currency, x.amount, l.amount,
         case when l.amount = 0 then 'succeeded at Stripe, not in the ledger' else 'amounts differ' end
    from (select distinct on (e.object_id) e.object_id, upper(e.payload -> 'data' -> 'object' ->> 'currency') as currency,
                 coalesce((e.payload -> 'data' -> 'object' ->> 'amount_received')::bigint, (e.payload -> 'data' -> 'object' ->> 'amount')::bigint) as amount
            from private.stripe_events e
           where e.type like 'payment\_intent.%' and e.status <> 'ignored' and e.payload -> 'data' -> 'object' ->> 'status' = 'succeeded'
           order by e.object_id, e.stripe_created_at desc) as f
    left join private.payments p on p.payment_intent_id = f.object_id
    cross join lateral (select case when p.settlement_currency is not null and p.settlement_currency <> f.currency then p.settlement_currency
                                    else f.currency end as currency,
                               case when p.settlement_currency is not null and p.settlement_currency <> f.currency then p.settlement_amount_cents
                                    else f.amount end as amount) as x
    cross join lateral (select private.ledger_amount_for_object(f.object_id, 'platform_cash') as amount) as l
   where (p.id is null or p.settlement_amount_cents is not null)
     and l.amount <> x.amount;

  -- Refunds: Stripe's latest status (succeeded = the amount left; failed / canceled = nothing) vs
  -- cash booked. A refund of a payment in another currency is booked at the payment's rate (its
  -- exchange difference is booked apart, by balance transaction).
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, stripe_amount, ledger_amount, detail)
  select v_run, 'refund', 'refund', f.object_id, x.currency, x.amount, l.amount, format('Stripe status %s', f.status)
    from (select distinct on (e.object_id) e.object_id, upper(e.payload -> 'data' -> 'object' ->> 'currency') as currency,
                 e.payload -> 'data' -> 'object' ->> 'status' as status,
                 case when e.payload -> 'data' -> 'object' ->> 'status' = 'succeeded'
                      then (e.payload -> 'data' -> 'object' ->> 'amount')::bigint else 0 end as amount
            from private.stripe_events e
           where e.type in ('refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated') and e.status <> 'ignored'
             and e.payload -> 'data' -> 'object' ->> 'status' in ('succeeded', 'failed', 'canceled')
           order by e.object_id, e.stripe_created_at desc,
                    (e.payload -> 'data' -> 'object' ->> 'status' <> 'succeeded') desc) as f
    left join private.refunds r on r.stripe_refund_id = f.object_id
    cross join lateral (select case when r.settlement_currency is not null and r.settlement_currency <> f.currency then r.settlement_currency
                                    else f.currency end as currency,
                               case when r.settlement_currency is not null and r.settlement_currency <> f.currency
                                    then case when f.amount = 0 then 0 else r.settlement_amount_cents end
                                    else f.amount end as amount) as x
    cross join lateral (select -private.ledger_amount_for_object(f.object_id, 'platform_cash') as amount) as l
   where l.amount <> x.amount;

  -- Transfers to hosts and their reversals.
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, stripe_amount, ledger_amount, detail)
  select v_run, 'transfer', 'transfer', f.object_id, f.currency, f.amount, l.amount, 'transferred amount differs'
    from (select distinct on (e.object_id) e.object_id, upper(e.payload -> 'data' -> 'object' ->> 'currency') as currency,
                 (e.payload -> 'data' -> 'object' ->> 'amount')::bigint as amount
            from private.stripe_events e
           where e.type like 'transfer.%' and e.status <> 'ignored'
           order by e.object_id, e.stripe_created_at desc) as f
    cross join lateral (select private.ledger_amount_for_object(f.object_id, 'host_transferred') as amount) as l
   where l.amount <> f.amount;

  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, stripe_amount, ledger_amount, detail)
  select v_run, 'transfer_reversal', 'transfer_reversal', r ->> 'id', upper(r ->> 'currency'), max((r ->> 'amount')::bigint),
         -private.ledger_amount_for_object(r ->> 'id', 'host_transferred'), 'reversed amount differs'
    from private.stripe_events e
    cross join lateral jsonb_array_elements(coalesce(e.payload -> 'data' -> 'object' -> 'reversals' -> 'data', '[]'::jsonb)) as r
   where e.type like 'transfer.%' and e.status <> 'ignored'
   group by r ->> 'id', upper(r ->> 'currency')
  having max((r ->> 'amount')::bigint) <> -private.ledger_amount_for_object(r ->> 'id', 'host_transferred');

  -- Host payouts: Stripe's latest status vs what the ledger paid out.
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, stripe_amount, ledger_amount, detail)
  select v_run, case when p.id is null then 'payout_unmatched' else 'payout' end, 'payout', f.object_id, f.currency,
         f.amount, coalesce(-(select coalesce(sum(en.amount), 0) from private.ledger_transactions t
                                join private.ledger_entries en on en.transaction_id = t.id
                                join private.ledger_accounts a on a.id = en.account_id
                               where t.payout_id = p.id and a.kind = 'host_paid_out'), 0),
         case when p.id is null then 'a payout Rally did not request' else format('Stripe status %s', f.status) end
    from (select distinct on (e.object_id) e.object_id, upper(e.payload -> 'data' -> 'object' ->> 'currency') as currency,
                 e.payload -> 'data' -> 'object' ->> 'status' as status,
                 e.payload -> 'data' -> 'object' -> 'metadata' ->> 'payout_id' as payout_ref,
                 case when e.payload -> 'data' -> 'object' ->> 'status' = 'paid'
                      then (e.payload -> 'data' -> 'object' ->> 'amount')::bigint else 0 end as amount
            from private.stripe_events e
           where e.type like 'payout.%' and e.account is not null and e.status <> 'ignored'
           order by e.object_id, e.stripe_created_at desc,
                    (e.payload -> 'data' -> 'object' ->> 'status' in ('failed', 'canceled')) desc) as f
    left join private.payouts p on p.stripe_payout_id = f.object_id
   where p.id is null
      or f.amount <> coalesce(-(select coalesce(sum(en.amount), 0) from private.ledger_transactions t
                                  join private.ledger_entries en on en.transaction_id = t.id
                                  join private.ledger_accounts a on a.id = en.account_id
                                 where t.payout_id = p.id and a.kind = 'host_paid_out'), 0);

  -- Dispute money Stripe moved (per balance transaction) vs cash booked for it.
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, stripe_amount, ledger_amount, detail)
  select v_run, 'dispute_funds', 'balance_transaction', bt ->> 'id', upper(bt ->> 'currency'),
         max((bt ->> 'amount')::bigint - coalesce((bt ->> 'fee')::bigint, 0)),
         private.ledger_amount_for_object(bt ->> 'id', 'platform_cash'), format('dispute %s', max(e.object_id))
    from private.stripe_events e
    cross join lateral jsonb_array_elements(coalesce(e.payload -> 'data' -> 'object' -> 'balance_transactions', '[]'::jsonb)) as bt
   where e.type like 'charge.dispute.%' and e.status <> 'ignored'
   group by bt ->> 'id', upper(bt ->> 'currency')
  having max((bt ->> 'amount')::bigint - coalesce((bt ->> 'fee')::bigint, 0)) <> private.ledger_amount_for_object(bt ->> 'id', 'platform_cash');

  -- Movements the ledger booked from the worker's answers that Stripe never sent an event for.
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, detail)
  select v_run, 'not_reported_by_stripe', t.kind, t.stripe_object_id,
         format('booked %s, no webhook event for it yet', t.created_at)
    from private.ledger_transactions t
   where t.kind in ('payment', 'transfer', 'refund_settled', 'payout_paid') and t.stripe_object_id is not null
     and t.created_at < now() - v_grace
     and not exists (select 1 from private.stripe_events e where e.object_id = t.stripe_object_id);

  -- Ledger health.
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, ledger_amount, detail)
  select v_run, 'ledger_unbalanced', 'ledger_transaction', e.transaction_id::text, e.currency, sum(e.amount), 'entries do not sum to zero'
    from private.ledger_entries e group by e.transaction_id, e.currency having sum(e.amount) <> 0;
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, ledger_amount, detail)
  select v_run, 'balance_cache', 'ledger_account', b.account_id::text, b.balance,
         format('cached %s, entries sum to %s', b.balance, coalesce(s.total, 0))
    from private.ledger_account_balances b
    left join (select account_id, sum(amount) as total from private.ledger_entries group by account_id) as s on s.account_id = b.account_id
   where b.balance <> coalesce(s.total, 0);
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, ledger_amount, detail)
  select v_run, 'refund_in_flight', 'refund', r.id::text, r.currency, r.amount_cents, format('%s since %s', r.status, r.created_at)
    from private.refunds r where r.status in ('requested', 'pending') and r.created_at < now() - interval '7 days';
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, ledger_amount, detail)
  select v_run, 'refund_request_unpaid', 'refund_request', q.id::text, q.currency, q.amount_cents,
         format('requested %s for booking %s, which has no payment Rally collected', q.created_at, q.booking_id)
    from private.refund_requests q
   where q.status = 'pending' and q.created_at < now() - v_grace
     and not exists (select 1 from private.refunds r where r.refund_request_id = q.id);
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, detail)
  select v_run, 'command_dead', c.kind, c.id::text, coalesce(c.last_error_code || ': ', '') || coalesce(c.last_error, '')
    from private.payment_commands c where c.status = 'dead';
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, detail)
  select v_run, 'webhook_failing', f.type, f.event_id, format('%s attempts, last: %s', f.attempts, f.last_error)
    from private.stripe_event_failures f;
  insert into private.reconciliation_items (run_id, check_name, object_type, currency, ledger_amount, detail)
  select v_run, 'suspense', 'ledger_account', a.currency, -sum(e.amount), 'money Stripe reported that matches no booking'
    from private.ledger_accounts a join private.ledger_entries e on e.account_id = a.id
   where a.kind = 'suspense' group by a.currency having sum(e.amount) <> 0;

  -- Statuses Stripe sent that Rally does not know (kept raw; nothing moved): an operator decides.
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, stripe_amount, detail)
  select v_run, 'unknown_status', u.object_type, u.object_id, u.currency, u.amount, u.detail
    from (select 'dispute' as object_type, d.id as object_id, d.currency, d.amount_cents as amount,
                 format('Stripe status %s; Rally status %s', d.stripe_status, coalesce(d.status, 'none')) as detail
            from private.disputes d where d.stripe_status is not null and private.stripe_status_known('dispute', d.stripe_status) is not true
          union all
          select 'payment_intent', p.payment_intent_id, p.currency, p.amount_cents,
                 format('Stripe status %s; Rally status %s', p.stripe_status, p.status)
            from private.payments p where p.stripe_status is not null and private.stripe_status_known('payment_intent', p.stripe_status) is not true
          union all
          select 'refund', coalesce(r.stripe_refund_id, r.id::text), r.currency, r.amount_cents,
                 format('Stripe status %s; Rally status %s', r.stripe_status, r.status)
            from private.refunds r where r.stripe_status is not null and private.stripe_status_known('refund', r.stripe_status) is not true
          union all
          select 'payout', coalesce(o.stripe_payout_id, o.id::text), o.currency, o.amount_cents,
                 format('Stripe status %s; Rally status %s', o.stripe_status, o.status)
            from private.payouts o where o.stripe_status is not null and private.stripe_status_known('payout', o.stripe_status) is not true
          union all
          -- A Dashboard refund first seen with an unknown status has no row yet: its event is the record.
          select 'refund', e.object_id, upper(e.payload -> 'data' -> 'object' ->> 'currency'),
                 (e.payload -> 'data' -> 'object' ->> 'amount')::bigint,
                 format('Stripe status %s (event %s); no refund recorded', e.payload -> 'data' -> 'object' ->> 'status', e.id)
            from (select distinct on (se.object_id) se.* from private.stripe_events se
                   where se.type in ('refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated')
                   order by se.object_id, se.stripe_created_at desc, se.received_at desc) as e
           where e.result = 'unknown_status' and not exists (select 1 from private.refunds r where r.stripe_refund_id = e.object_id)) as u;

  -- Events still waiting for their payment to be booked, and payments whose settlement Stripe's
  -- balance transaction never gave (the look-up died, or no charge.updated came).
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, detail)
  select v_run, 'event_deferred', e.type, e.id, format('received %s, waiting for its payment to be booked', e.received_at)
    from private.stripe_events e
   where e.result = 'deferred' and e.received_at < now() - v_grace;
  insert into private.reconciliation_items (run_id, check_name, object_type, object_id, currency, stripe_amount, detail)
  select v_run, 'payment_unsettled', 'payment_intent', p.payment_intent_id, p.currency, p.amount_cents,
         format('succeeded %s; its balance transaction in the settlement currency was never read, so it is not booked', p.succeeded_at)
    from private.payments p
   where p.status = 'succeeded' and p.settlement_amount_cents is null and p.succeeded_at < now() - v_grace;

  select count(*) into v_count from private.reconciliation_items where run_id = v_run;
  update private.reconciliation_runs set finished_at = now(), differences = v_count where id = v_run;
  return v_run;
end
$$;
comment on function private.reconcile_payments() is
  'Job (hourly): compares Stripe''s reported payments, refunds, transfers, reversals, payouts and dispute movements with the ledger (in the settlement currency), checks ledger health, and lists statuses Rally does not know, deferred events and payments never booked. Differences go to admin.payment_reconciliation.';

-- ---------------------------------------------------------------------------------------------
-- Operators' views and functions (Studio)
-- ---------------------------------------------------------------------------------------------

create view admin.payment_reconciliation with (security_invoker = true) as
  select i.check_name, i.object_type, i.object_id, i.currency, i.stripe_amount, i.ledger_amount, i.detail, r.started_at as run_at
    from private.reconciliation_items i
    join private.reconciliation_runs r on r.id = i.run_id
   where i.run_id = (select max(x.id) from private.reconciliation_runs x where x.finished_at is not null);
comment on view admin.payment_reconciliation is 'Differences between Stripe and the ledger, and ledger health problems, from the latest reconciliation run (empty = all good).';

create view admin.payment_commands with (security_invoker = true) as
  select c.id, c.kind, c.status, c.attempts, c.max_attempts, c.next_attempt_at, c.last_error_code, c.last_error,
         c.payload, c.payment_id, c.host_id, c.payout_id, c.refund_id, c.created_at, c.completed_at
    from private.payment_commands c
   where c.status <> 'succeeded'
   order by c.status = 'dead' desc, c.next_attempt_at;
comment on view admin.payment_commands is 'The payment command outbox: pending, processing and dead-lettered Stripe calls.';

create view admin.disputes with (security_invoker = true) as
  select d.id, d.status, d.stripe_status, d.reason, d.amount_cents, d.currency, d.evidence_due_by, d.host_id, d.booking_id, d.payment_id,
         d.settlement_currency, d.settlement_amount_cents, d.host_part_cents, d.fee_part_cents, d.fee_payer, d.evidence, d.opened_at,
         d.appealed_at, d.closed_at
    from private.disputes d
   order by d.is_open desc, d.evidence_due_by nulls last;
comment on view admin.disputes is 'Disputes with the evidence Rally gathered (booking, guest, event, check-in, refund policy accepted, refunds); open ones first, by due date. stripe_status is Stripe''s raw status: when Rally does not know it, status keeps the last one it understood (null if none) and nothing moved.';

create view admin.payout_queue with (security_invoker = true) as
  select p.id, p.host_id, pr.username, p.amount_cents, p.currency, p.status, p.stripe_status, p.stripe_payout_id, p.failure_code,
         p.failure_message, p.requested_at, p.arrival_date
    from private.payouts p join public.profiles pr on pr.id = p.host_id
   where p.status in ('requested', 'pending', 'in_transit') or p.failed_at > now() - interval '30 days'
   order by p.requested_at;
comment on view admin.payout_queue is 'Host payouts in flight, and those that failed in the last 30 days. stripe_status is Stripe''s raw status (one Rally does not know moves nothing and is listed by reconciliation).';

create view admin.platform_balances with (security_invoker = true) as
  select a.kind, a.currency, coalesce(sum(e.amount), 0)::bigint as balance
    from private.ledger_accounts a left join private.ledger_entries e on e.account_id = a.id
   where a.host_id is null
   group by a.kind, a.currency
   order by a.currency, a.kind;
comment on view admin.platform_balances is 'Platform ledger accounts per currency (debit +): platform_cash should match the Stripe balance; refunds, disputes and suspense should drain to zero.';

create view admin.host_wallets with (security_invoker = true) as
  select a.host_id, pr.username, a.currency,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_pending'), 0)::bigint as pending_cents,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_available'), 0)::bigint as available_cents,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_in_transit'), 0)::bigint as in_transit_cents,
         coalesce(-sum(b.balance) filter (where a.kind = 'host_paid_out'), 0)::bigint as paid_out_cents,
         coalesce(sum(b.balance) filter (where a.kind = 'host_transferred'), 0)::bigint as transferred_cents
    from private.ledger_accounts a
    join private.ledger_balances b on b.account_id = a.id
    join public.profiles pr on pr.id = a.host_id
   group by a.host_id, pr.username, a.currency;
comment on view admin.host_wallets is 'Every host''s wallet per currency, and what was transferred to their connected account.';

-- Studio: queue a dead transfer, reversal, balance transaction look-up or cancellation again
-- (with the idempotency key it holds: fail_payment_command gave it a fresh one if Stripe saved
-- the refusal it died of). Refunds and payouts were compensated when they died: start a new
-- one instead.
create or replace function admin.retry_payment_command(p_id uuid) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_command private.payment_commands;
begin
  select * into v_command from private.payment_commands where id = p_id for update;
  if v_command.id is null then
    perform private.raise_error('22023', 'command_not_found', 'No such payment command.');
  end if;
  if v_command.status <> 'dead' then
    perform private.raise_error('P0001', 'command_not_dead', 'Only dead commands can be retried.');
  end if;
  if v_command.kind in ('create_refund', 'create_payout') then
    perform private.raise_error('P0001', 'command_compensated',
      'This refund or payout was already put back; start a new one (admin.refund_booking, or the host asks again).');
  end if;
  update private.payment_commands
     set status = 'pending', attempts = 0, next_attempt_at = now(), completed_at = null, updated_at = now()
   where id = p_id;
  return 'pending';
end
$$;
comment on function admin.retry_payment_command(uuid) is
  'Operators: re-queues a dead transfer, reversal, balance transaction look-up or PaymentIntent cancellation with the idempotency key it holds (fresh after a saved refusal). Errors: 22023 command_not_found; P0001 command_not_dead / command_compensated.';

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  admin.retry_payment_command(uuid),
  private.ledger_amount_for_object(text,text),
  private.reconcile_payments()
  from public;
