-- Payments, step 6: disputes (chargebacks).
--
-- Rally is the merchant of record (separate charges and transfers), so Stripe debits disputes
-- from the platform and the platform answers them; hosts on the Express dashboard cannot.
-- Policy (stated in docs/payments.md):
--   - When a dispute opens (any non-inquiry status) the disputed amount leaves the host's
--     balance at once — their pro-rata share, from pending before release or from available
--     after (which may go negative, recovered from later earnings) — and the platform gives up
--     its fee part; both wait in the `disputes` clearing account. After release the host's share
--     is also reversed from their connected account as far as it is still there.
--   - Stripe's dispute fee is taken from the host with the amount when
--     payment_settings.dispute_fee_payer = 'host' (default), else the platform bears it.
--   - Won (or prevented): the amount goes back where it came from (to available, and transferred
--     again, when the payment was released meanwhile). Lost: nothing more moves; the money was
--     already taken.
--   - Appeals: a lost dispute may be appealed (appeal_needs_response → appeal_under_review →
--     won | lost). It holds the release like any open dispute; won after lost posts the same
--     dispute:<id>:won as a direct win, so the host is credited back once whichever way it was won.
--   - Statuses only move forward: a newer snapshot wins (Stripe's event time; on a tie the later
--     stage: warning_* < needs_response < under_review < lost < appeal_needs_response <
--     appeal_under_review < won | prevented | lost after an appeal), won, prevented and
--     warning_closed are final, and a lost dispute moves again only by a newer snapshot.
--   - A status Rally does not know is kept raw (stripe_status) and moves nothing; a dispute seen
--     only with such a status has no Rally status yet (null), holds the release, and is listed by
--     reconciliation.
--   - Inquiries (warning_*) move no money but hold the payment's release while open.
--   - Amounts: the dispute is in the payment's currency (amount_cents); the ledger moves the
--     settlement currency: the opened split at the payment's own rate, Stripe's withdrawals and
--     reinstatements at their balance transactions' amounts, any difference between the two (a
--     conversion at the rate of the day) in fx_difference. A dispute of a payment not booked yet
--     is deferred until it is (private.book_payment).
--   - Stripe's own money movements (funds_withdrawn / funds_reinstated) are booked per balance
--     transaction listed on the dispute, so each is booked once whichever event carries it.
--   - The host and every admin are notified; the evidence Rally holds (booking, guest, event,
--     check-in, the refund policy the guest accepted, refunds, cancellations) is gathered for
--     the admin in admin.disputes.

create table private.disputes (
  id text primary key,
  payment_id uuid not null references private.payments (id),
  booking_id uuid not null references public.bookings (id),
  host_id uuid not null references public.profiles (id),
  amount_cents bigint not null,
  currency text not null references public.currencies (code),
  settlement_currency text not null references public.currencies (code),
  settlement_amount_cents bigint not null,
  status text,
  stripe_status text,
  reason text,
  is_open boolean generated always as (status is null or status not in ('won', 'lost', 'warning_closed', 'prevented')) stored,
  bucket text,
  host_part_cents bigint,
  fee_part_cents bigint,
  fee_payer text,
  evidence jsonb not null default '{}'::jsonb,
  evidence_due_by timestamptz,
  stripe_created_at timestamptz,
  synced_at timestamptz,
  opened_at timestamptz,
  appealed_at timestamptz,
  closed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint disputes_id check (id ~ '^(dp|du)_[A-Za-z0-9]+$'),
  constraint disputes_amount check (amount_cents > 0),
  constraint disputes_status check (status in ('warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response',
                                               'under_review', 'won', 'lost', 'prevented', 'appeal_needs_response',
                                               'appeal_under_review')),
  constraint disputes_settlement check (settlement_amount_cents >= 0),
  constraint disputes_split check (host_part_cents is null or host_part_cents + fee_part_cents = settlement_amount_cents),
  constraint disputes_bucket check (bucket is null or bucket in ('host_pending', 'host_available')),
  constraint disputes_fee_payer check (fee_payer is null or fee_payer in ('host', 'platform'))
);
comment on table private.disputes is
  'Disputes (chargebacks and inquiries) on Rally payments, as Stripe reported them, with how the disputed amount was split between host and platform and the evidence gathered for operators.';
comment on column private.disputes.evidence is 'What Rally''s data says about the booking (gathered when the dispute opened), for the operator answering it.';
comment on column private.disputes.status is
  'The newest status Rally understands (one of the pinned API version''s ten); null while Stripe has sent only statuses Rally does not know.';
comment on column private.disputes.stripe_status is 'The status in Stripe''s newest snapshot, raw: differs from status when Stripe sent one Rally does not know (reconciliation lists it).';
comment on column private.disputes.settlement_amount_cents is
  'The disputed amount in settlement_currency at the payment''s own rate: host_part_cents + fee_part_cents, what the dispute takes from the host and the platform fees.';
comment on column private.disputes.appealed_at is 'When Rally first saw the dispute in an appeal status (after a loss).';
create index disputes_payment_idx on private.disputes (payment_id);
create index disputes_booking_idx on private.disputes (booking_id);
create index disputes_host_idx on private.disputes (host_id);
create index disputes_currency_idx on private.disputes (currency);
create index disputes_open_idx on private.disputes (evidence_due_by) where is_open;

-- What Rally knows about a paid booking, for a dispute answer.
create or replace function private.dispute_evidence(p_payment_id uuid) returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'booking', jsonb_build_object('id', b.id, 'status', b.status, 'quantity', b.quantity, 'ticket_type', t.name,
                                  'amount_cents', b.amount_cents, 'currency', b.currency, 'booked_at', b.created_at,
                                  'confirmed_at', b.confirmed_at, 'checked_in_at', b.checked_in_at,
                                  'cancelled_at', b.cancelled_at, 'cancel_reason', b.cancel_reason),
    'guest', jsonb_build_object('id', g.id, 'username', g.username, 'display_name', g.display_name, 'email', u.email,
                                'signed_up_at', u.created_at),
    'event', jsonb_build_object('id', e.id, 'title', e.title, 'starts_at', e.starts_at, 'ends_at', e.ends_at,
                                'timezone', e.timezone, 'venue_name', e.venue_name, 'address', e.address,
                                'online', e.online_url is not null, 'status', e.status, 'cancelled_at', e.cancelled_at),
    'host', jsonb_build_object('id', h.id, 'username', h.username, 'display_name', h.display_name),
    'payment', jsonb_build_object('payment_intent_id', p.payment_intent_id, 'charge_id', p.charge_id,
                                  'amount_cents', p.amount_cents, 'currency', p.currency, 'paid_at', p.succeeded_at,
                                  'refund_policy_accepted', p.refund_policy, 'policy_accepted_at', p.created_at),
    'refunds', coalesce((select jsonb_agg(jsonb_build_object('amount_cents', r.amount_cents, 'status', r.status,
                                                             'reason', r.reason, 'requested_at', r.created_at) order by r.created_at)
                           from private.refunds r where r.payment_id = p.id), '[]'::jsonb))
    from private.payments p
    join public.bookings b on b.id = p.booking_id
    join public.ticket_types t on t.id = b.ticket_type_id
    join private.events e on e.id = p.event_id
    join public.profiles g on g.id = p.guest_id
    join auth.users u on u.id = p.guest_id
    join public.profiles h on h.id = p.host_id
   where p.id = p_payment_id
$$;
comment on function private.dispute_evidence(uuid) is
  'Evidence for a dispute answer: booking (check-in time, cancellation), guest, event, host, payment with the refund policy accepted at payment, refunds.';

-- How far along a dispute status is, to order two snapshots Stripe stamped with the same second:
-- inquiries, then the chargeback, its first decision, the appeal, the final decision. `lost` is
-- a final decision once the dispute was appealed (p_appealed).
create or replace function private.dispute_status_rank(p_status text, p_appealed boolean) returns integer
language sql
immutable
set search_path = ''
as $$
  select case p_status
    when 'warning_needs_response' then 1 when 'warning_under_review' then 2 when 'warning_closed' then 3
    when 'needs_response' then 4 when 'under_review' then 5
    when 'lost' then case when p_appealed then 9 else 6 end
    when 'appeal_needs_response' then 7 when 'appeal_under_review' then 8
    when 'won' then 9 when 'prevented' then 9
    else 0 end
$$;
comment on function private.dispute_status_rank(text, boolean) is
  'Stage of a dispute status (1 warning_needs_response … 9 won / prevented / lost after an appeal), ordering snapshots Stripe stamped with the same second.';

-- Whether a snapshot with p_status at p_as_of moves the dispute: final statuses (won, prevented,
-- warning_closed) never move; otherwise the newer snapshot wins, and on a tie the later stage.
create or replace function private.dispute_snapshot_applies(p_row private.disputes, p_status text, p_as_of timestamptz) returns boolean
language sql
immutable
set search_path = ''
as $$
  select case
    when p_row.status in ('won', 'prevented', 'warning_closed') then false
    when p_row.synced_at is null then true
    when p_as_of <> p_row.synced_at then p_as_of > p_row.synced_at
    when p_row.status is null then true
    else private.dispute_status_rank(p_status, p_row.status like 'appeal\_%' or p_row.appealed_at is not null)
           > private.dispute_status_rank(p_row.status, p_row.appealed_at is not null)
  end
$$;
comment on function private.dispute_snapshot_applies(private.disputes, text, timestamptz) is
  'Whether a dispute snapshot moves the dispute: not when it is final (won, prevented, warning_closed); otherwise when newer, or as new and a later stage.';

-- Applies a Stripe Dispute object (charge.dispute.created / updated / closed / funds_withdrawn /
-- funds_reinstated). Monotonic (private.dispute_snapshot_applies); each money movement is booked
-- once (opened, each balance transaction, won) whatever order the events come in.
create or replace function private.apply_dispute(p_dispute jsonb, p_as_of timestamptz, p_event_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_row private.disputes;
  v_before private.disputes;
  v_status text := p_dispute ->> 'status';
  v_known boolean := private.stripe_status_known('dispute', p_dispute ->> 'status');
  v_amount bigint := (p_dispute ->> 'amount')::bigint;
  v_bt jsonb;
  v_bt_amount bigint;
  v_bt_fee bigint;
  v_bt_currency text;
  v_expected bigint;
  v_entries jsonb;
  v_title text;
  v_back_to text;
  v_moved boolean := false;
begin
  if p_dispute ->> 'object' is distinct from 'dispute' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe dispute object.');
  end if;
  -- Locked: booking the payment (which replays what was deferred) and deferring are serialized.
  select * into v_payment from private.payments
   where payment_intent_id = p_dispute ->> 'payment_intent' or charge_id = p_dispute ->> 'charge'
   limit 1
   for update;
  if v_payment.id is null then
    return 'unknown_payment';
  end if;
  if v_payment.settlement_amount_cents is null then
    return 'deferred'; -- applied again once Stripe's balance transaction books the payment (private.book_payment)
  end if;
  insert into private.disputes (id, payment_id, booking_id, host_id, amount_cents, currency, settlement_currency, settlement_amount_cents,
                                stripe_status, reason, stripe_created_at)
  values (p_dispute ->> 'id', v_payment.id, v_payment.booking_id, v_payment.host_id, v_amount, upper(p_dispute ->> 'currency'),
          v_payment.settlement_currency, private.pro_rata(v_payment.settlement_amount_cents, v_amount, v_payment.amount_cents),
          v_status, p_dispute ->> 'reason', to_timestamp((p_dispute ->> 'created')::bigint))
  on conflict (id) do nothing;
  select * into v_before from private.disputes where id = p_dispute ->> 'id' for update;
  v_row := v_before;
  select title into v_title from private.events where id = v_payment.event_id;

  -- Status: the newest snapshot Rally understands; an unknown one is only kept raw.
  if v_known is not true then
    if v_row.synced_at is null or p_as_of >= v_row.synced_at then
      update private.disputes set stripe_status = v_status, synced_at = p_as_of, updated_at = now() where id = v_row.id
      returning * into v_row;
    end if;
  elsif private.dispute_snapshot_applies(v_row, v_status, p_as_of) then
    update private.disputes
       set status = v_status, stripe_status = v_status, reason = coalesce(p_dispute ->> 'reason', reason), synced_at = p_as_of,
           evidence_due_by = coalesce(to_timestamp((p_dispute -> 'evidence_details' ->> 'due_by')::bigint), evidence_due_by),
           appealed_at = case when v_status like 'appeal\_%' then coalesce(appealed_at, now()) else appealed_at end,
           closed_at = case when v_status in ('won', 'lost', 'warning_closed', 'prevented') then now() end,
           updated_at = now()
     where id = v_row.id
    returning * into v_row;
    v_moved := v_row.status is distinct from v_before.status;
  end if;

  -- Opened: the first time a real (non-inquiry) dispute shows, the amount leaves the balances.
  if v_row.opened_at is null and v_known and v_status not like 'warning\_%' then
    update private.disputes
       set bucket = case when v_payment.released_at is null then 'host_pending' else 'host_available' end,
           host_part_cents = private.pro_rata(settlement_amount_cents, v_payment.host_share_cents, v_payment.settlement_amount_cents),
           fee_part_cents = settlement_amount_cents
                            - private.pro_rata(settlement_amount_cents, v_payment.host_share_cents, v_payment.settlement_amount_cents),
           fee_payer = (select s.dispute_fee_payer from private.payment_settings s),
           evidence = private.dispute_evidence(v_payment.id),
           opened_at = now(), updated_at = now()
     where id = v_row.id
    returning * into v_row;
    perform private.post_ledger_transaction('dispute:' || v_row.id || ':opened', 'dispute_opened',
      private.postings_dispute_opened(v_row.host_id, v_row.settlement_currency, v_row.host_part_cents, v_row.fee_part_cents, v_row.bucket),
      p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_row.id, p_stripe_event_id => p_event_id);
    if v_row.bucket = 'host_available' then
      perform private.sync_host_transfers(v_row.host_id, v_row.settlement_currency, v_payment.id);
    end if;
    perform private.notify(v_row.host_id, 'dispute_opened', format('A guest disputed a payment for %s', v_title),
      'The disputed amount is on hold in your wallet while Rally answers the dispute.',
      jsonb_build_object('dispute_id', v_row.id, 'booking_id', v_row.booking_id, 'amount_cents', v_row.amount_cents,
                         'currency', v_row.currency));
    perform private.notify_admins('dispute_opened', format('Dispute on %s', v_title),
      format('%s %s, reason %s; evidence due %s.', v_row.amount_cents, v_row.currency, coalesce(v_row.reason, 'unknown'),
             coalesce(v_row.evidence_due_by::text, 'unknown')),
      jsonb_build_object('dispute_id', v_row.id, 'booking_id', v_row.booking_id, 'payment_id', v_payment.id));
  end if;

  -- Stripe's own movements, one booking per balance transaction, in its currency. Converted
  -- (exchange_rate set): the disputes clearing account moves the amount at the payment's rate,
  -- platform cash what Stripe moved, fx_difference the rest.
  for v_bt in select bt from jsonb_array_elements(coalesce(p_dispute -> 'balance_transactions', '[]'::jsonb)) as bt loop
    v_bt_amount := coalesce((v_bt ->> 'amount')::bigint, 0);
    v_bt_fee := coalesce((v_bt ->> 'fee')::bigint, 0);
    v_bt_currency := coalesce(upper(v_bt ->> 'currency'), v_row.settlement_currency);
    v_expected := case when jsonb_typeof(v_bt -> 'exchange_rate') = 'number' and v_bt_currency = v_row.settlement_currency
                       then v_row.settlement_amount_cents else abs(v_bt_amount) end;
    if v_bt_amount < 0 then
      v_entries := private.postings_dispute_funds_withdrawn(v_bt_currency, v_expected)
                   || private.postings_fx_difference(v_bt_currency, -v_bt_amount - v_expected)
                   || private.postings_dispute_fee(v_row.host_id, v_bt_currency, v_bt_fee, coalesce(v_row.fee_payer, 'platform'),
                                                   coalesce(v_row.bucket, 'host_available'));
      perform private.post_ledger_transaction('dispute:' || v_row.id || ':bt:' || (v_bt ->> 'id'), 'dispute_funds_withdrawn', v_entries,
        p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_bt ->> 'id', p_stripe_event_id => p_event_id);
    elsif v_bt_amount > 0 then
      v_entries := private.postings_dispute_funds_reinstated(v_bt_currency, v_expected)
                   || private.postings_fx_difference(v_bt_currency, v_expected - v_bt_amount)
                   || private.ledger_negate(private.postings_dispute_fee(v_row.host_id, v_bt_currency, greatest(-v_bt_fee, 0),
                                                                         coalesce(v_row.fee_payer, 'platform'), coalesce(v_row.bucket, 'host_available')));
      perform private.post_ledger_transaction('dispute:' || v_row.id || ':bt:' || (v_bt ->> 'id'), 'dispute_funds_reinstated', v_entries,
        p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_bt ->> 'id', p_stripe_event_id => p_event_id);
    end if;
  end loop;

  if v_moved and v_row.status like 'appeal\_%' and v_before.appealed_at is null then
    perform private.notify_admins('dispute_appeal_opened', format('Appeal open: dispute on %s', v_title),
      format('The lost dispute of %s %s can be appealed; evidence due %s.', v_row.amount_cents, v_row.currency,
             coalesce(v_row.evidence_due_by::text, 'unknown')),
      jsonb_build_object('dispute_id', v_row.id, 'booking_id', v_row.booking_id, 'payment_id', v_payment.id,
                         'evidence_due_by', v_row.evidence_due_by));
  end if;

  -- Decided in Rally's favour (directly or on appeal): what was taken goes back, to available
  -- (and transferred again) when the payment was released meanwhile.
  if v_moved and v_row.status in ('won', 'prevented') and v_row.opened_at is not null then
    v_back_to := case when v_row.bucket = 'host_pending' and v_payment.released_at is not null then 'host_available' else v_row.bucket end;
    perform private.post_ledger_transaction('dispute:' || v_row.id || ':won', 'dispute_won',
      private.ledger_negate(private.postings_dispute_opened(v_row.host_id, v_row.settlement_currency, v_row.host_part_cents,
                                                            v_row.fee_part_cents, v_back_to)),
      p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_row.id, p_stripe_event_id => p_event_id);
    if v_back_to = 'host_available' then
      perform private.sync_host_transfers(v_row.host_id, v_row.settlement_currency, v_payment.id);
    end if;
    perform private.notify(v_row.host_id, 'dispute_won', format('Dispute won for %s', v_title),
      'The disputed amount is back in your wallet.', jsonb_build_object('dispute_id', v_row.id, 'booking_id', v_row.booking_id));
    perform private.notify_admins('dispute_closed', format('Dispute won: %s', v_title), null,
      jsonb_build_object('dispute_id', v_row.id, 'status', v_row.status));
  elsif v_moved and v_row.status = 'lost' and v_row.opened_at is not null then
    perform private.notify(v_row.host_id, 'dispute_lost', format('Dispute lost for %s', v_title),
      'The bank sided with the guest; the disputed amount stays deducted from your wallet.',
      jsonb_build_object('dispute_id', v_row.id, 'booking_id', v_row.booking_id));
    perform private.notify_admins('dispute_closed', format('Dispute lost: %s', v_title), null,
      jsonb_build_object('dispute_id', v_row.id, 'status', v_row.status));
  end if;
  return case when v_known then 'applied' else 'unknown_status' end;
end
$$;
comment on function private.apply_dispute(jsonb, timestamptz, text) is
  'Applies a Stripe Dispute: opened → the disputed amount leaves the host''s balance and the platform fees into disputes (host and admins told, evidence gathered); Stripe''s withdrawals and reinstatements booked per balance transaction (with the dispute fee per policy); won — also on appeal after a loss → put back. Newer snapshots win; unknown statuses are stored raw (unknown_status); a dispute of a payment not booked yet is deferred.';

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.apply_dispute(jsonb,timestamp with time zone,text),
  private.dispute_evidence(uuid),
  private.dispute_snapshot_applies(private.disputes,text,timestamp with time zone),
  private.dispute_status_rank(text,boolean)
  from public;
