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
--   - Won (or prevented): the amount goes back where it came from (and is transferred again
--     after release). Lost: nothing more moves; the money was already taken.
--   - Inquiries (warning_*) move no money but hold the payment's release while open.
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
  status text not null,
  reason text,
  is_open boolean generated always as (status not in ('won', 'lost', 'warning_closed', 'prevented')) stored,
  bucket text,
  host_part_cents bigint,
  fee_part_cents bigint,
  fee_payer text,
  evidence jsonb not null default '{}'::jsonb,
  evidence_due_by timestamptz,
  stripe_created_at timestamptz,
  synced_at timestamptz,
  opened_at timestamptz,
  closed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint disputes_id check (id ~ '^(dp|du)_[A-Za-z0-9]+$'),
  constraint disputes_amount check (amount_cents > 0),
  constraint disputes_status check (status in ('warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response',
                                               'under_review', 'won', 'lost', 'prevented')),
  constraint disputes_bucket check (bucket is null or bucket in ('host_pending', 'host_available')),
  constraint disputes_fee_payer check (fee_payer is null or fee_payer in ('host', 'platform'))
);
comment on table private.disputes is
  'Disputes (chargebacks and inquiries) on Rally payments, as Stripe reported them, with how the disputed amount was split between host and platform and the evidence gathered for operators.';
comment on column private.disputes.evidence is 'What Rally''s data says about the booking (gathered when the dispute opened), for the operator answering it.';
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

-- Applies a Stripe Dispute object (charge.dispute.created / updated / closed / funds_withdrawn /
-- funds_reinstated). Monotonic: a closed dispute never reopens; each money movement is booked
-- once (opened, each balance transaction, won).
create or replace function private.apply_dispute(p_dispute jsonb, p_as_of timestamptz, p_event_id text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment private.payments;
  v_row private.disputes;
  v_status text := p_dispute ->> 'status';
  v_amount bigint := (p_dispute ->> 'amount')::bigint;
  v_bt jsonb;
  v_bt_amount bigint;
  v_bt_fee bigint;
  v_entries jsonb;
  v_title text;
  v_inserted boolean;
  v_closed_now boolean := false;
begin
  if p_dispute ->> 'object' is distinct from 'dispute' then
    perform private.raise_error('22023', 'invalid_stripe_object', 'Expected a Stripe dispute object.');
  end if;
  select * into v_payment from private.payments
   where payment_intent_id = p_dispute ->> 'payment_intent' or charge_id = p_dispute ->> 'charge'
   limit 1;
  if v_payment.id is null then
    return 'unknown_payment';
  end if;
  insert into private.disputes (id, payment_id, booking_id, host_id, amount_cents, currency, status, reason, stripe_created_at, synced_at)
  values (p_dispute ->> 'id', v_payment.id, v_payment.booking_id, v_payment.host_id, v_amount, upper(p_dispute ->> 'currency'),
          v_status, p_dispute ->> 'reason', to_timestamp((p_dispute ->> 'created')::bigint), p_as_of)
  on conflict (id) do nothing;
  v_inserted := found;
  select * into v_row from private.disputes where id = p_dispute ->> 'id' for update;
  select title into v_title from private.events where id = v_payment.event_id;

  -- Status: newer snapshots win, and a closed dispute stays closed.
  if v_inserted or (v_row.is_open and p_as_of >= v_row.synced_at) then
    v_closed_now := v_status in ('won', 'lost', 'warning_closed', 'prevented');
    update private.disputes
       set status = v_status, reason = coalesce(p_dispute ->> 'reason', reason), synced_at = p_as_of,
           evidence_due_by = coalesce(to_timestamp((p_dispute -> 'evidence_details' ->> 'due_by')::bigint), evidence_due_by),
           closed_at = case when v_closed_now then now() end,
           updated_at = now()
     where id = v_row.id
    returning * into v_row;
  end if;

  -- Opened: the first time a real (non-inquiry) dispute shows, the amount leaves the balances.
  if v_row.opened_at is null and v_status not like 'warning\_%' then
    update private.disputes
       set bucket = case when v_payment.released_at is null then 'host_pending' else 'host_available' end,
           host_part_cents = private.pro_rata(v_amount, v_payment.host_share_cents, v_payment.amount_cents),
           fee_part_cents = v_amount - private.pro_rata(v_amount, v_payment.host_share_cents, v_payment.amount_cents),
           fee_payer = (select s.dispute_fee_payer from private.payment_settings s),
           evidence = private.dispute_evidence(v_payment.id),
           opened_at = now(), updated_at = now()
     where id = v_row.id
    returning * into v_row;
    perform private.post_ledger_transaction('dispute:' || v_row.id || ':opened', 'dispute_opened',
      private.postings_dispute_opened(v_row.host_id, v_row.currency, v_row.host_part_cents, v_row.fee_part_cents, v_row.bucket),
      p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_row.id, p_stripe_event_id => p_event_id);
    if v_row.bucket = 'host_available' then
      perform private.sync_host_transfers(v_row.host_id, v_row.currency, v_payment.id);
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

  -- Stripe's own movements, one booking per balance transaction.
  for v_bt in select bt from jsonb_array_elements(coalesce(p_dispute -> 'balance_transactions', '[]'::jsonb)) as bt loop
    v_bt_amount := coalesce((v_bt ->> 'amount')::bigint, 0);
    v_bt_fee := coalesce((v_bt ->> 'fee')::bigint, 0);
    if v_bt_amount < 0 then
      v_entries := private.postings_dispute_funds_withdrawn(v_row.currency, -v_bt_amount)
                   || private.postings_dispute_fee(v_row.host_id, v_row.currency, v_bt_fee, coalesce(v_row.fee_payer, 'platform'),
                                                   coalesce(v_row.bucket, 'host_available'));
      perform private.post_ledger_transaction('dispute:' || v_row.id || ':bt:' || (v_bt ->> 'id'), 'dispute_funds_withdrawn', v_entries,
        p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_bt ->> 'id', p_stripe_event_id => p_event_id);
    elsif v_bt_amount > 0 then
      v_entries := private.postings_dispute_funds_reinstated(v_row.currency, v_bt_amount)
                   || private.ledger_negate(private.postings_dispute_fee(v_row.host_id, v_row.currency, greatest(-v_bt_fee, 0),
                                                                         coalesce(v_row.fee_payer, 'platform'), coalesce(v_row.bucket, 'host_available')));
      perform private.post_ledger_transaction('dispute:' || v_row.id || ':bt:' || (v_bt ->> 'id'), 'dispute_funds_reinstated', v_entries,
        p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_bt ->> 'id', p_stripe_event_id => p_event_id);
    end if;
  end loop;

  -- Closed in Rally's favour: what was taken goes back.
  if v_closed_now and v_row.status in ('won', 'prevented') and v_row.opened_at is not null then
    perform private.post_ledger_transaction('dispute:' || v_row.id || ':won', 'dispute_won',
      private.ledger_negate(private.postings_dispute_opened(v_row.host_id, v_row.currency, v_row.host_part_cents, v_row.fee_part_cents, v_row.bucket)),
      p_payment_id => v_payment.id, p_booking_id => v_payment.booking_id, p_stripe_object_id => v_row.id, p_stripe_event_id => p_event_id);
    if v_row.bucket = 'host_available' then
      perform private.sync_host_transfers(v_row.host_id, v_row.currency, v_payment.id);
    end if;
    perform private.notify(v_row.host_id, 'dispute_won', format('Dispute won for %s', v_title),
      'The disputed amount is back in your wallet.', jsonb_build_object('dispute_id', v_row.id, 'booking_id', v_row.booking_id));
    perform private.notify_admins('dispute_closed', format('Dispute won: %s', v_title), null,
      jsonb_build_object('dispute_id', v_row.id, 'status', v_row.status));
  elsif v_closed_now and v_row.status = 'lost' and v_row.opened_at is not null then
    perform private.notify(v_row.host_id, 'dispute_lost', format('Dispute lost for %s', v_title),
      'The bank sided with the guest; the disputed amount stays deducted from your wallet.',
      jsonb_build_object('dispute_id', v_row.id, 'booking_id', v_row.booking_id));
    perform private.notify_admins('dispute_closed', format('Dispute lost: %s', v_title), null,
      jsonb_build_object('dispute_id', v_row.id, 'status', v_row.status));
  end if;
  return 'applied';
end
$$;
comment on function private.apply_dispute(jsonb, timestamptz, text) is
  'Applies a Stripe Dispute: opened → the disputed amount leaves the host''s balance and the platform fees into disputes (host and admins told, evidence gathered); Stripe''s withdrawals and reinstatements booked per balance transaction (with the dispute fee per policy); won → put back.';

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.apply_dispute(jsonb,timestamp with time zone,text),
  private.dispute_evidence(uuid)
  from public;
