-- Operations, step 2: the operators' dashboards in Studio (schema admin).
--
-- The payments, chat and alerts capabilities already give Studio the payout queue
-- (admin.payout_queue), payment commands, disputes with evidence, reconciliation, platform
-- balances, host wallets, the moderation queue and alert dead letters. This adds what an
-- operator looks at every morning:
--   admin.daily_revenue          money per day and currency, computed from the LEDGER (the source
--                                of truth), not from bookings or Stripe
--   admin.bookings_per_day       bookings made per day and what became of them
--   admin.open_disputes          open disputes, most urgent evidence deadline first
--   admin.payment_dead_letters   payment commands the worker gave up on, and what to do about each
--   admin.payout_dead_letters    payouts that did not reach the host's bank, and whether the money
--                                is back in their available balance
--   admin.hosts_in_debt          hosts whose pending or available balance is negative (refunds,
--                                disputes, dispute fees), recovered from their next earnings
--   admin.ledger_health          invariants of the ledger and the money tables: every row is a
--                                violation, so an empty view means healthy
--   admin.stuck_holds            seats the expiry sweep should have given back and did not, and
--                                seat counters that no longer match the bookings holding seats
--
-- Why it is built this way: plain security-invoker views over private tables, so only the
-- owner (postgres — what Studio and the SQL editor connect as) can read them; the admin schema
-- is not exposed to the Data API and no API role has USAGE on it. Health views are computed on
-- read (they are for a person looking, not for a hot path); the hourly reconciliation job keeps
-- its own snapshot in admin.payment_reconciliation.

create view admin.daily_revenue with (security_invoker = true) as
select (t.created_at at time zone 'UTC')::date as day,
       e.currency,
       count(distinct t.id) filter (where t.kind = 'payment') as payments,
       coalesce(sum(e.amount) filter (where t.kind = 'payment' and a.kind = 'platform_cash'), 0)::bigint as gross_cents,
       coalesce(-sum(e.amount) filter (where a.kind = 'platform_fees'), 0)::bigint as platform_fees_cents,
       coalesce(-sum(e.amount) filter (where t.kind = 'refund_settled' and a.kind = 'platform_cash'), 0)::bigint as refunds_cents,
       coalesce(-sum(e.amount) filter (where t.kind in ('dispute_funds_withdrawn', 'dispute_funds_reinstated', 'dispute_fee')
                                         and a.kind = 'platform_cash'), 0)::bigint as dispute_losses_cents,
       coalesce(sum(e.amount) filter (where a.kind = 'stripe_fees'), 0)::bigint as stripe_fees_cents,
       coalesce(sum(e.amount) filter (where a.kind = 'dispute_fees'), 0)::bigint as platform_dispute_fees_cents,
       (coalesce(-sum(e.amount) filter (where a.kind = 'platform_fees'), 0)
        - coalesce(sum(e.amount) filter (where a.kind in ('stripe_fees', 'dispute_fees')), 0))::bigint as net_cents
  from private.ledger_transactions t
  join private.ledger_entries e on e.transaction_id = t.id
  join private.ledger_accounts a on a.id = e.account_id
 group by 1, 2
 order by 1 desc, 2;
comment on view admin.daily_revenue is
  'Money per UTC day and currency, from the ledger: gross = guests'' payments booked; platform_fees = net fee income (fees earned minus the fee part of refunds and disputes); refunds = refunds settled (cash back to guests); dispute_losses = disputed amounts and dispute fees Stripe took, net of reinstatements; stripe_fees = processing fees; net = platform_fees − stripe_fees − dispute fees the platform bore.';

create view admin.bookings_per_day with (security_invoker = true) as
select (b.created_at at time zone 'UTC')::date as day,
       count(*) as bookings,
       count(*) filter (where b.amount_cents > 0) as paid_bookings,
       count(*) filter (where b.status = 'confirmed') as confirmed,
       count(*) filter (where b.status in ('held', 'pending_approval')) as awaiting,
       count(*) filter (where b.status = 'cancelled') as cancelled,
       count(*) filter (where b.status = 'refunded') as refunded,
       count(*) filter (where b.status = 'expired') as expired,
       count(*) filter (where b.status = 'declined') as declined,
       coalesce(sum(b.quantity) filter (where b.status = 'confirmed'), 0) as seats_confirmed,
       count(*) filter (where b.checked_in_at is not null) as checked_in
  from public.bookings b
 group by 1
 order by 1 desc;
comment on view admin.bookings_per_day is
  'Bookings made per UTC day and what became of them: confirmed, still awaiting payment or approval, cancelled, refunded, expired, declined; seats confirmed and guests checked in.';

create view admin.open_disputes with (security_invoker = true) as
select d.id, d.status, d.stripe_status, d.reason, d.amount_cents, d.currency, d.evidence_due_by,
       case when d.evidence_due_by is null then null
            else round(extract(epoch from (d.evidence_due_by - now())) / 3600, 1) end as hours_left,
       case when d.status is null then 'unknown_status'
            when d.status not in ('needs_response', 'warning_needs_response', 'appeal_needs_response') then 'waiting_for_bank'
            when d.evidence_due_by is null then 'no_deadline'
            when d.evidence_due_by < now() then 'overdue'
            when d.evidence_due_by < now() + interval '24 hours' then 'due_within_24h'
            when d.evidence_due_by < now() + interval '72 hours' then 'due_within_72h'
            else 'later' end as urgency,
       d.booking_id, e.title as event_title, d.host_id, h.username as host_username, g.username as guest_username,
       d.host_part_cents, d.fee_part_cents, d.fee_payer, d.opened_at, d.evidence
  from private.disputes d
  join private.payments p on p.id = d.payment_id
  left join private.events e on e.id = p.event_id
  left join public.profiles h on h.id = d.host_id
  left join public.profiles g on g.id = p.guest_id
 where d.is_open
 order by d.status in ('needs_response', 'warning_needs_response', 'appeal_needs_response') desc, d.evidence_due_by nulls last, d.opened_at;
comment on view admin.open_disputes is
  'Open disputes, appeals and inquiries, most urgent first: those needing a response by their evidence deadline (overdue, due within 24 h, within 72 h, later), then those waiting for the bank (and any whose only status is one Rally does not know: unknown_status). With hours left, the event, host, guest and the evidence Rally gathered.';

create view admin.payment_dead_letters with (security_invoker = true) as
select c.id, c.kind, c.attempts, c.last_error_code, c.last_error,
       (c.payload ->> 'amount')::bigint as amount_cents, upper(c.payload ->> 'currency') as currency,
       c.host_id, h.username as host_username, c.payment_id, c.payout_id, c.refund_id,
       c.kind not in ('create_refund', 'create_payout') as retryable,
       case when c.kind in ('create_refund', 'create_payout')
            then 'Compensated when it died (the money is back where it came from): start a new refund or let the host ask again.'
            else 'Retry with public.admin_retry_dead_letter(''payment_command'', id, reason) once the cause is fixed.' end as next_step,
       c.created_at, c.completed_at as died_at
  from private.payment_commands c
  left join public.profiles h on h.id = c.host_id
 where c.status = 'dead'
 order by c.completed_at desc nulls last;
comment on view admin.payment_dead_letters is
  'Stripe calls the payments worker gave up on after its retries, newest first, each with whether it can be retried with the same idempotency key and what to do.';

create view admin.payout_dead_letters with (security_invoker = true) as
select p.id as payout_id, p.host_id, h.username as host_username, p.amount_cents, p.currency, p.status,
       coalesce(p.failure_code, c.last_error_code) as failure_code, coalesce(p.failure_message, c.last_error) as failure_message,
       c.id as command_id, c.status as command_status, c.attempts,
       private_returned.returned as returned_to_available, p.requested_at, coalesce(p.failed_at, c.completed_at) as failed_at
  from private.payouts p
  left join public.profiles h on h.id = p.host_id
  left join lateral (select x.* from private.payment_commands x
                      where x.payout_id = p.id and x.kind = 'create_payout' order by x.created_at desc limit 1) as c on true
  cross join lateral (select exists (select 1 from private.ledger_transactions t
                                      where t.payout_id = p.id and t.kind = 'payout_returned') as returned) as private_returned
 where p.status in ('failed', 'canceled') or c.status = 'dead'
 order by coalesce(p.failed_at, c.completed_at) desc nulls last;
comment on view admin.payout_dead_letters is
  'Payouts that did not reach the host''s bank: failed or canceled at Stripe, or whose create_payout call died. returned_to_available says whether the ledger already put the amount back; the host can then ask again.';

create view admin.hosts_in_debt with (security_invoker = true) as
select a.host_id, p.username, a.currency, a.kind as wallet_bucket, b.balance as owed_cents, b.updated_at as since
  from private.ledger_account_balances b
  join private.ledger_accounts a on a.id = b.account_id
  left join public.profiles p on p.id = a.host_id
 where a.kind in ('host_pending', 'host_available') and b.balance > 0
 order by b.balance desc;
comment on view admin.hosts_in_debt is
  'Hosts with a negative pending or available balance (a refund, dispute or dispute fee larger than what they still held): owed_cents is recovered from their next earnings. Allowed by design, so not in admin.ledger_health.';

-- Every row is a violation; the checks are cheap enough to run on read at Rally's scale.
create view admin.ledger_health with (security_invoker = true) as
-- A transaction whose entries do not sum to zero in a currency (the commit-time trigger should make this impossible).
select 'unbalanced_transaction'::text as check_name, 'ledger_transaction'::text as object_type, e.transaction_id::text as object_id,
       e.currency, sum(e.amount)::bigint as amount, 'entries do not sum to zero'::text as detail
  from private.ledger_entries e group by e.transaction_id, e.currency having sum(e.amount) <> 0
union all
-- A transaction with fewer than two entries.
select 'transaction_without_entries', 'ledger_transaction', t.id::text, null, count(e.id)::bigint,
       format('%s entries', count(e.id))
  from private.ledger_transactions t left join private.ledger_entries e on e.transaction_id = t.id
 group by t.id having count(e.id) < 2
union all
-- A host balance cache that differs from the sum of its account's entries (request_payout trusts the cache).
select 'balance_cache_mismatch', 'ledger_account', a.id::text, a.currency, (coalesce(b.balance, 0) - coalesce(s.total, 0))::bigint,
       format('%s of host %s: cached %s, entries sum to %s', a.kind, a.host_id, coalesce(b.balance, 0), coalesce(s.total, 0))
  from private.ledger_accounts a
  left join private.ledger_account_balances b on b.account_id = a.id
  left join (select x.account_id, sum(x.amount) as total from private.ledger_entries x group by x.account_id) as s on s.account_id = a.id
 where a.host_id is not null and coalesce(b.balance, 0) <> coalesce(s.total, 0)
union all
-- Wallet buckets that can never be negative: payouts in transit and paid out (pending and
-- available may be, after disputes and refunds: admin.hosts_in_debt).
select 'negative_wallet', 'ledger_account', a.id::text, a.currency, (-s.total)::bigint,
       format('%s of host %s is %s', a.kind, a.host_id, -s.total)
  from private.ledger_accounts a
  join (select x.account_id, sum(x.amount) as total from private.ledger_entries x group by x.account_id) as s on s.account_id = a.id
 where a.kind in ('host_in_transit', 'host_paid_out') and s.total > 0
union all
-- A payment Stripe confirmed that the ledger never booked.
select 'payment_without_ledger', 'payment', p.id::text, p.currency, p.amount_cents,
       format('succeeded %s (%s) with no payment transaction', p.succeeded_at, p.payment_intent_id)
  from private.payments p
 where p.status = 'succeeded'
   and p.settlement_amount_cents is not null -- else not booked yet (reconciliation lists it after the grace period)
   and not exists (select 1 from private.ledger_transactions t where t.payment_id = p.id and t.kind = 'payment')
union all
-- A paid booking confirmed without a payment Rally collected.
select 'paid_booking_without_payment', 'booking', b.id::text, b.currency, b.amount_cents,
       format('confirmed %s with no succeeded payment', b.confirmed_at)
  from public.bookings b
 where b.status = 'confirmed' and b.amount_cents > 0
   and not exists (select 1 from private.payments p where p.booking_id = b.id and p.status = 'succeeded')
union all
-- A payout whose request never moved money to in transit.
select 'payout_without_ledger', 'payout', p.id::text, p.currency, p.amount_cents, format('%s since %s', p.status, p.requested_at)
  from private.payouts p
 where not exists (select 1 from private.ledger_transactions t where t.payout_id = p.id and t.kind = 'payout_requested')
union all
-- A refund whose amount was never taken from the balances (but one Stripe reported failed before
-- Rally heard of it, which moves nothing).
select 'refund_without_ledger', 'refund', r.id::text, r.currency, r.amount_cents, format('%s since %s', r.status, r.created_at)
  from private.refunds r
 where r.status not in ('failed', 'canceled')
   and not exists (select 1 from private.ledger_transactions t where t.idempotency_key = 'refund:' || r.id::text || ':requested')
union all
-- The refunds clearing account holds exactly the refunds asked of Stripe and not yet settled.
select 'refunds_clearing_mismatch', 'ledger_account', 'refunds', c.currency, (c.clearing + coalesce(f.in_flight, 0))::bigint,
       format('refunds clearing holds %s, refunds in flight total %s', -c.clearing, coalesce(f.in_flight, 0))
  from (select a.currency, sum(e.amount) as clearing
          from private.ledger_accounts a join private.ledger_entries e on e.account_id = a.id
         where a.kind = 'refunds' group by a.currency) as c
  left join (select r.settlement_currency as currency, sum(r.settlement_amount_cents) as in_flight from private.refunds r
              where r.status in ('requested', 'pending') group by r.settlement_currency) as f on f.currency = c.currency
 where c.clearing + coalesce(f.in_flight, 0) <> 0
union all
-- Payouts and refunds asked for more than a week ago that Stripe never settled either way.
select 'payout_in_flight', 'payout', p.id::text, p.currency, p.amount_cents, format('%s since %s', p.status, p.requested_at)
  from private.payouts p
 where p.status in ('requested', 'pending', 'in_transit') and p.requested_at < now() - interval '7 days'
union all
select 'refund_in_flight', 'refund', r.id::text, r.currency, r.amount_cents, format('%s since %s', r.status, r.created_at)
  from private.refunds r
 where r.status in ('requested', 'pending') and r.created_at < now() - interval '7 days';
comment on view admin.ledger_health is
  'Ledger invariants; every row is a violation, so empty means healthy: unbalanced transactions, transactions without entries, host balance caches that differ from their entries, negative in-transit / paid-out wallets, succeeded payments or payouts or refunds the ledger never booked, a refunds clearing balance that differs from the refunds in flight, paid bookings confirmed without a payment, payouts and refunds in flight for over a week. (Negative pending or available balances are allowed: see admin.hosts_in_debt.)';

create view admin.stuck_holds with (security_invoker = true) as
-- Holds and approval requests past their deadline that the every-minute sweep has not expired.
select 'hold_past_expiry'::text as problem, b.id as booking_id, b.ticket_type_id, b.event_id, b.guest_id, b.status,
       b.quantity, b.hold_expires_at, round(extract(epoch from (now() - b.hold_expires_at)) / 60)::integer as minutes_overdue,
       null::integer as seats_counted, null::integer as seats_held
  from public.bookings b
 where b.status in ('held', 'pending_approval') and b.hold_expires_at < now() - interval '5 minutes'
union all
-- Bookings that ended (expired, cancelled, declined, refunded) but still hold seats.
select 'released_booking_keeps_seats', b.id, b.ticket_type_id, b.event_id, b.guest_id, b.status, b.quantity, b.hold_expires_at,
       null, null, sum(a.quantity)::integer
  from public.bookings b join private.booking_allocations a on a.booking_id = b.id
 where b.status in ('expired', 'cancelled', 'declined', 'refunded')
 group by b.id
union all
-- Seat counters that differ from the seats bookings hold (oversold or leaked seats).
select 'seat_count_drift', null, i.ticket_type_id, t.event_id, null, null, null, null, null, i.taken::integer, coalesce(h.held, 0)::integer
  from (select x.ticket_type_id, sum(x.taken) as taken from private.ticket_inventory x group by x.ticket_type_id) as i
  join public.ticket_types t on t.id = i.ticket_type_id
  left join (select y.ticket_type_id, sum(y.quantity) as held from private.booking_allocations y group by y.ticket_type_id) as h
    on h.ticket_type_id = i.ticket_type_id
 where i.taken <> coalesce(h.held, 0);
comment on view admin.stuck_holds is
  'Seats that should have gone back and did not: holds and approval requests more than 5 minutes past their deadline (the sweep runs every minute), ended bookings still holding seats, and ticket types whose seat counter differs from the seats bookings hold. Empty means healthy; private.expire_stale_bookings() releases the first kind.';

revoke all on admin.daily_revenue, admin.bookings_per_day, admin.open_disputes, admin.payment_dead_letters,
  admin.payout_dead_letters, admin.hosts_in_debt, admin.ledger_health, admin.stuck_holds
  from public, anon, authenticated, service_role;
