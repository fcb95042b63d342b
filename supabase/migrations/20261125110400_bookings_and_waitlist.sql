-- Bookings, holds, approvals, cancellations with refund intents, check-in, and the waitlist.
--
-- book_event: free → confirmed (or pending_approval); paid → held for 15 minutes awaiting
-- payment. The booking row is written first and the seats are taken last (see the inventory
-- migration), so the slot row locks are held for the shortest time; when no seats are left the
-- whole call rolls back and nothing is written. The same idempotency key returns the same
-- booking. Seats freed by a cancellation, decline or expiry go to the waitlist at once: each
-- waiting party that fits (in joining order) gets a held booking as an offer for 2 hours.
-- A request for an approval-only event holds no seats (issue 13: one guest's request could
-- hold every seat for 72 hours): approve_booking takes them, and refuses with sold_out when
-- they are gone, so approval still never oversells. (A waitlist offer accepted on such an event
-- keeps the seats it was offered while the host decides.)
-- Money never moves here: paid cancellations write a refund request into private.refund_requests,
-- which the payments capability executes; it confirms paid bookings with
-- private.confirm_booking_payment().
-- A booking records what it costs: amount_cents (what the guest pays, and what the PaymentIntent,
-- the platform fee, the host's ledger entries and every refund follow), discount_cents (a promo
-- code's discount) and list_amount_cents (their sum: the list price at booking time).
-- Later capabilities book_event calls through hooks: invitations (20261125110410: invitees skip
-- approval, private.accept_invitation) and promo codes (20261125110420: private.promo_code_for_booking
-- prices a code, private.claim_promo_code counts its uses under the code's lock, taken before any
-- slot lock and never by a release, so it adds no deadlock).

create table public.bookings (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id),
  ticket_type_id uuid not null references public.ticket_types (id),
  guest_id uuid not null references public.profiles (id),
  quantity integer not null,
  status text not null,
  amount_cents bigint not null default 0,
  discount_cents bigint not null default 0,
  list_amount_cents bigint generated always as (amount_cents + discount_cents) stored,
  promo_code_id uuid,
  currency text not null references public.currencies (code),
  hold_expires_at timestamptz,
  check_in_code text not null default encode(extensions.gen_random_bytes(16), 'hex'),
  checked_in_at timestamptz,
  checked_in_by uuid references public.profiles (id),
  idempotency_key text,
  confirmed_at timestamptz,
  cancelled_at timestamptz,
  cancelled_by uuid references public.profiles (id),
  cancel_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint bookings_status check (status in ('held', 'pending_approval', 'confirmed', 'cancelled', 'refunded', 'expired', 'declined')),
  constraint bookings_quantity check (quantity between 1 and 100),
  constraint bookings_amount check (amount_cents >= 0),
  constraint bookings_discount check (discount_cents >= 0),
  constraint bookings_idempotency_key_length check (idempotency_key is null or char_length(idempotency_key) between 1 and 200),
  constraint bookings_hold_has_deadline check (status not in ('held', 'pending_approval') or hold_expires_at is not null),
  constraint bookings_cancel_reason check (cancel_reason is null or cancel_reason in
    ('guest_cancelled', 'host_cancelled', 'event_cancelled', 'expired', 'declined', 'admin'))
);
revoke all on public.bookings from public, anon, authenticated, service_role;
comment on table public.bookings is
  'Bookings. A guest sees their own (with the check-in code); the host and co-hosts see their event''s. Written only through book_event and the booking RPCs.';
comment on column public.bookings.status is 'held | pending_approval | confirmed | cancelled | refunded | expired | declined';
comment on column public.bookings.hold_expires_at is 'Deadline of a held booking (payment) or a pending approval (72 hours); past it the booking expires and any seats it held go back.';
comment on column public.bookings.check_in_code is '128-bit random code shown to the guest as a QR code; single use at check_in().';
comment on column public.bookings.amount_cents is 'What the guest pays (minor units of currency): the list price times the quantity minus the discount. The PaymentIntent, the platform fee, the host''s earnings and every refund follow it.';
comment on column public.bookings.discount_cents is 'The promo code''s discount on this booking (0 without a code).';
comment on column public.bookings.list_amount_cents is 'The list price times the quantity at booking time (amount_cents + discount_cents).';
comment on column public.bookings.promo_code_id is 'The promo code this booking used (its discount is discount_cents); references public.promo_codes (20261125110420_promo_codes).';
create unique index bookings_guest_idempotency_key on public.bookings (guest_id, idempotency_key);
create unique index bookings_one_active_per_guest on public.bookings (event_id, guest_id)
  where status in ('held', 'pending_approval', 'confirmed');
create unique index bookings_check_in_code_key on public.bookings (check_in_code);
create index bookings_event_status_idx on public.bookings (event_id, status);
create index bookings_guest_idx on public.bookings (guest_id, created_at desc);
create index bookings_ticket_type_idx on public.bookings (ticket_type_id);
create index bookings_deadline_idx on public.bookings (hold_expires_at) where status in ('held', 'pending_approval');
create index bookings_checked_in_by_idx on public.bookings (checked_in_by);
create index bookings_cancelled_by_idx on public.bookings (cancelled_by);
create index bookings_currency_idx on public.bookings (currency);

create table private.booking_allocations (
  booking_id uuid not null references public.bookings (id) on delete cascade,
  ticket_type_id uuid not null,
  slot smallint not null,
  quantity integer not null check (quantity > 0),
  primary key (booking_id, slot),
  foreign key (ticket_type_id, slot) references private.ticket_inventory (ticket_type_id, slot)
);
comment on table private.booking_allocations is 'Which inventory slots a booking''s seats came from, so releasing returns them exactly.';
create index booking_allocations_slot_idx on private.booking_allocations (ticket_type_id, slot);

create table private.refund_requests (
  id uuid primary key default gen_random_uuid(),
  booking_id uuid not null references public.bookings (id),
  amount_cents bigint not null check (amount_cents > 0),
  currency text not null,
  reason text not null check (reason in ('guest_cancelled', 'host_cancelled', 'event_cancelled', 'admin', 'unfulfillable')),
  requested_by uuid,
  status text not null default 'pending' check (status in ('pending', 'processing', 'succeeded', 'failed', 'cancelled')),
  created_at timestamptz not null default now(),
  processed_at timestamptz
);
comment on table private.refund_requests is
  'Refund intents: the payments capability executes each. A booking is cancelled once, so it has at most one cancellation refund (guest_cancelled | host_cancelled | event_cancelled | unfulfillable: paid after the hold ended and the seats were gone); admins may add goodwill refunds (admin) before or after it.';
create unique index refund_requests_one_cancellation on private.refund_requests (booking_id) where reason <> 'admin';
create index refund_requests_booking_idx on private.refund_requests (booking_id);
create index refund_requests_pending_idx on private.refund_requests (created_at) where status = 'pending';

create table public.waitlist_entries (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id),
  ticket_type_id uuid not null references public.ticket_types (id),
  guest_id uuid not null references public.profiles (id),
  quantity integer not null check (quantity between 1 and 100),
  status text not null default 'waiting',
  booking_id uuid references public.bookings (id),
  offered_at timestamptz,
  offer_expires_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint waitlist_status check (status in ('waiting', 'offered', 'converted', 'expired', 'left', 'cancelled'))
);
revoke all on public.waitlist_entries from public, anon, authenticated, service_role;
comment on table public.waitlist_entries is
  'Waitlist, first come first served per ticket type. When seats free up the next party that fits gets a held booking as an offer (2 hours).';
create unique index waitlist_one_active_per_guest on public.waitlist_entries (event_id, guest_id)
  where status in ('waiting', 'offered');
create index waitlist_queue_idx on public.waitlist_entries (ticket_type_id, created_at, id) where status = 'waiting';
create index waitlist_guest_idx on public.waitlist_entries (guest_id, created_at desc);
create index waitlist_booking_idx on public.waitlist_entries (booking_id);

-- ---------------------------------------------------------------------------------------------
-- Seats
-- ---------------------------------------------------------------------------------------------

-- Takes p_quantity seats for a booking; false when there are not enough left.
create or replace function private.take_seats(p_booking_id uuid, p_ticket_type_id uuid, p_quantity integer) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_start integer := floor(random() * 8)::integer;
  v_slot smallint;
  v_free integer;
  v_roomiest integer;
  v_attempt integer := 0;
  v_need integer := p_quantity;
  v_take integer;
  r record;
begin
  loop
    v_attempt := v_attempt + 1;
    -- 1. An unlocked slot with room, from a random starting slot. A row that fails the re-check
    --    after a concurrent update stays locked; rolling the subtransaction back releases it.
    begin
      select slot into v_slot
        from private.ticket_inventory
       where ticket_type_id = p_ticket_type_id and capacity - taken >= p_quantity
       order by (slot + 8 - v_start) % 8
       for update skip locked
       limit 1;
      if v_slot is null then
        raise exception using errcode = 'RLFP0', message = 'no unlocked slot with room';
      end if;
      update private.ticket_inventory set taken = taken + p_quantity
       where ticket_type_id = p_ticket_type_id and slot = v_slot;
      insert into private.booking_allocations (booking_id, ticket_type_id, slot, quantity)
      values (p_booking_id, p_ticket_type_id, v_slot, p_quantity);
      return true;
    exception when sqlstate 'RLFP0' then
      null;
    end;

    -- 2. The committed state, without locks: is there a single slot that can still fit us?
    select coalesce(sum(capacity - taken), 0), coalesce(max(capacity - taken), 0)
      into v_free, v_roomiest
      from private.ticket_inventory where ticket_type_id = p_ticket_type_id;
    exit when v_roomiest < p_quantity or v_attempt > 8;

    -- 3. Wait for that one slot alone, then take it if it still has room.
    select slot into v_slot
      from private.ticket_inventory
     where ticket_type_id = p_ticket_type_id and capacity - taken >= p_quantity
     order by capacity - taken desc, (slot + 8 - v_start) % 8
     limit 1;
    continue when v_slot is null;
    begin
      perform 1 from private.ticket_inventory
       where ticket_type_id = p_ticket_type_id and slot = v_slot and capacity - taken >= p_quantity
       for update;
      if not found then
        raise exception using errcode = 'RLFP0', message = 'the slot filled while we waited';
      end if;
      update private.ticket_inventory set taken = taken + p_quantity
       where ticket_type_id = p_ticket_type_id and slot = v_slot;
      insert into private.booking_allocations (booking_id, ticket_type_id, slot, quantity)
      values (p_booking_id, p_ticket_type_id, v_slot, p_quantity);
      return true;
    exception when sqlstate 'RLFP0' then
      null;
    end;
  end loop;

  -- 4. The last seats, or a party no single slot can fit: lock every slot in order (waiting for
  --    other bookers) and gather seats from several.
  select coalesce(sum(capacity - taken), 0) into v_free
    from (select capacity, taken from private.ticket_inventory
           where ticket_type_id = p_ticket_type_id order by slot for update) as locked;
  if v_free < p_quantity then
    return false;
  end if;
  for r in select slot, capacity - taken as free from private.ticket_inventory
            where ticket_type_id = p_ticket_type_id and capacity > taken order by slot loop
    v_take := least(r.free, v_need);
    update private.ticket_inventory set taken = taken + v_take where ticket_type_id = p_ticket_type_id and slot = r.slot;
    insert into private.booking_allocations (booking_id, ticket_type_id, slot, quantity)
    values (p_booking_id, p_ticket_type_id, r.slot, v_take);
    v_need := v_need - v_take;
    exit when v_need = 0;
  end loop;
  return true;
end
$$;

-- The seats_left message of a ticket type on the event's public topic (sent at commit, and not
-- at all if the transaction rolls back). A hidden tier is not announced to everyone who may see
-- the event.
create or replace function private.send_seats_left(
  p_event_id uuid, p_ticket_type_id uuid, p_hidden boolean, p_seats_left integer, p_waiting bigint
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_hidden then
    return;
  end if;
  perform realtime.send(
    jsonb_build_object('ticket_type_id', p_ticket_type_id, 'seats_left', greatest(p_seats_left, 0), 'waiting', p_waiting),
    'seats_left', 'event:' || p_event_id::text, true);
end
$$;

-- Broadcasts the seats left of a ticket type and how many parties wait, as committed now.
create or replace function private.broadcast_seats_left(p_event_id uuid, p_ticket_type_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.send_seats_left(p_event_id, p_ticket_type_id,
    coalesce((select t.hidden from public.ticket_types t where t.id = p_ticket_type_id), false),
    private.seats_left(p_ticket_type_id),
    (select count(*) from public.waitlist_entries w where w.ticket_type_id = p_ticket_type_id and w.status = 'waiting'));
end
$$;

-- Gives a booking's seats back, then offers them to the waitlist.
create or replace function private.release_seats(p_booking_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  v_ticket_type uuid;
  v_event uuid;
begin
  -- Lock the ticket type's slots in slot order, as the booking slow path does, before touching
  -- any of them: releasing and offering to the waitlist then never deadlocks with a booker.
  perform 1 from private.ticket_inventory i
   where i.ticket_type_id in (select a.ticket_type_id from private.booking_allocations a where a.booking_id = p_booking_id)
   order by i.ticket_type_id, i.slot
   for update;
  for r in select * from private.booking_allocations where booking_id = p_booking_id order by slot loop
    update private.ticket_inventory set taken = taken - r.quantity
     where ticket_type_id = r.ticket_type_id and slot = r.slot;
    v_ticket_type := r.ticket_type_id;
  end loop;
  delete from private.booking_allocations where booking_id = p_booking_id;
  if v_ticket_type is not null then
    select event_id into v_event from public.ticket_types where id = v_ticket_type;
    perform private.promote_waitlist(v_ticket_type);
    perform private.broadcast_seats_left(v_event, v_ticket_type);
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Booking helpers
-- ---------------------------------------------------------------------------------------------

-- PL/pgSQL: its callers are PL/pgSQL, where a SQL function with its own search_path is planned
-- on every call (21 µs against 6 µs).
create or replace function private.booking_deadline(p_status text, p_starts_at timestamptz) returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
begin
  return case p_status
           when 'held' then least(now() + interval '15 minutes', p_starts_at)
           when 'pending_approval' then least(now() + interval '72 hours', p_starts_at)
         end;
end
$$;

-- The payments capability calls this when a held booking's payment succeeds.
-- Returns false when the booking cannot be confirmed any more (its hold expired and the seats
-- are gone), so the caller refunds the payment instead.
create or replace function private.confirm_booking_payment(p_booking_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_booking public.bookings;
  v_title text;
begin
  select * into v_booking from public.bookings where id = p_booking_id for update;
  if v_booking.id is null then
    return false;
  end if;
  if v_booking.status = 'confirmed' then
    return true;
  end if;
  if v_booking.status = 'expired' then
    -- Paid after the hold lapsed: it comes back only if its seats and its promo code's uses are
    -- still there (the code's lock before the slots', as in book_event).
    if exists (select 1 from public.bookings b where b.event_id = v_booking.event_id and b.guest_id = v_booking.guest_id
                and b.status in ('held', 'pending_approval', 'confirmed'))
       or (v_booking.promo_code_id is not null
           and private.claim_promo_code(v_booking.promo_code_id, v_booking.id, v_booking.quantity) is not true)
       or private.take_seats(v_booking.id, v_booking.ticket_type_id, v_booking.quantity) is not true then
      return false;
    end if;
  elsif v_booking.status <> 'held' then
    return false;
  end if;
  update public.bookings
     set status = 'confirmed', confirmed_at = now(), hold_expires_at = null, updated_at = now()
   where id = p_booking_id;
  update public.waitlist_entries set status = 'converted', updated_at = now()
   where booking_id = p_booking_id and status = 'offered';
  select title into v_title from private.events where id = v_booking.event_id;
  perform private.notify(v_booking.guest_id, 'booking_confirmed', format('You''re going to %s', v_title), null,
                         jsonb_build_object('event_id', v_booking.event_id, 'booking_id', v_booking.id));
  return true;
end
$$;
comment on function private.confirm_booking_payment(uuid) is
  'Hook for the payments capability: a held booking was paid → confirmed. False when it can no longer be confirmed (refund instead).';

-- ---------------------------------------------------------------------------------------------
-- book_event
-- ---------------------------------------------------------------------------------------------

-- A booking made through a share link is attributed to it by private.attribute_booking, a hook
-- the event promotion capability defines with the share links (20261125140400_event_promotion.sql).

-- Whether a booking answers the same request (an idempotent retry), or the key was reused.
create or replace function private.is_same_booking_request(
  p_booking public.bookings, p_event_id uuid, p_ticket_type_id uuid, p_quantity integer, p_promo_code_id uuid
) returns boolean
language sql
immutable
set search_path = ''
as $$
  select (p_booking.event_id, p_booking.ticket_type_id, p_booking.quantity, p_booking.promo_code_id)
         is not distinct from (p_event_id, p_ticket_type_id, p_quantity, p_promo_code_id)
$$;

-- The booking an earlier call with this key made (null if none); raises when it was a different request.
create or replace function private.booking_for_idempotency_key(
  p_guest_id uuid, p_idempotency_key text, p_event_id uuid, p_ticket_type_id uuid, p_quantity integer, p_promo_code text
) returns public.bookings
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_booking public.bookings;
begin
  if p_idempotency_key is null then
    return null;
  end if;
  select * into v_booking from public.bookings where guest_id = p_guest_id and idempotency_key = p_idempotency_key;
  if v_booking.id is not null and private.is_same_booking_request(v_booking, p_event_id, p_ticket_type_id, p_quantity,
       private.promo_code_id(p_event_id, p_promo_code)) is not true then
    perform private.raise_error('P0001', 'idempotency_key_reused', 'This idempotency key was already used for a different booking.');
  end if;
  return v_booking;
end
$$;

create or replace function private.book_event(
  p_event_id uuid, p_ticket_type_id uuid, p_quantity integer, p_idempotency_key text, p_share_code text, p_promo_code text
) returns public.bookings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
  v_ticket public.ticket_types;
  v_booking public.bookings;
  v_promo_code_id uuid;
  v_unit_discount bigint := 0;
  v_status text;
  v_constraint text;
  v_seats_left integer;
begin
  if p_event_id is null or p_ticket_type_id is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_event_id and p_ticket_type_id are required.');
  end if;
  if p_quantity is null or p_quantity < 1 or p_quantity > 100 then
    perform private.raise_error('22023', 'invalid_quantity', 'Book between 1 and 100 tickets.');
  end if;
  if p_idempotency_key is not null and (char_length(p_idempotency_key) = 0 or char_length(p_idempotency_key) > 200) then
    perform private.raise_error('22023', 'invalid_idempotency_key', 'An idempotency key has 1 to 200 characters.');
  end if;
  if p_share_code is not null and p_share_code !~ '^[0-9a-hjkmnp-tv-z]{10}$' then
    perform private.raise_error('22023', 'invalid_share_code', 'A share code has 10 characters from create_share_link.');
  end if;

  -- A retry with the same key gets the booking the first call made.
  v_booking := private.booking_for_idempotency_key(v_uid, p_idempotency_key, p_event_id, p_ticket_type_id, p_quantity, p_promo_code);
  if v_booking.id is not null then
    return v_booking;
  end if;

  -- KEY SHARE, the lock the booking's foreign key takes on the event anyway, taken before the
  -- status is read: cancel_event (FOR UPDATE) then either waits for this booking and cancels it
  -- too, or has committed first and this booking reads the event as cancelled. Read without it, a
  -- booking racing the cancellation could commit into the cancelled event. Bookings never wait
  -- for each other here: KEY SHARE locks do not conflict.
  select * into v_event from private.events where id = p_event_id for key share;
  if v_event.id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  select * into v_ticket from public.ticket_types where id = p_ticket_type_id and event_id = p_event_id;
  if v_ticket.id is null then
    perform private.raise_error('22023', 'ticket_type_not_found', 'This ticket type does not belong to the event.');
  end if;
  if v_event.status = 'cancelled' then
    perform private.raise_error('P0001', 'event_cancelled', 'This event was cancelled.');
  elsif v_event.status = 'completed' or v_event.ends_at <= now() then
    perform private.raise_error('P0001', 'event_ended', 'This event has ended.');
  elsif v_event.status <> 'published' then
    perform private.raise_error('P0001', 'event_not_published', 'This event is not open for booking yet.');
  end if;
  if v_event.host_id = v_uid then
    perform private.raise_error('P0001', 'host_cannot_book', 'Hosts do not book their own events.');
  end if;
  -- Someone gave them a seat already (attendees and transfers, 20261125110430).
  if private.holds_seat(p_event_id, v_uid) then
    perform private.raise_error('P0001', 'already_booked', 'You already have a ticket for this event.');
  end if;
  -- A promo code prices the booking; a hidden tier is bookable only with a code made for it.
  if p_promo_code is not null then
    select q.promo_code_id, q.unit_discount_cents into v_promo_code_id, v_unit_discount
      from private.promo_code_for_booking(v_event, v_ticket, p_quantity, p_promo_code) q;
  end if;
  if v_ticket.hidden and v_promo_code_id is null then
    perform private.raise_error('22023', 'ticket_type_not_found', 'This ticket type does not belong to the event.');
  end if;
  if v_ticket.sales_start is not null and now() < v_ticket.sales_start then
    perform private.raise_error('P0001', 'sales_not_started', format('Sales open at %s.', v_ticket.sales_start));
  end if;
  if now() >= coalesce(v_ticket.sales_end, v_event.ends_at) then
    perform private.raise_error('P0001', 'sales_ended', 'Ticket sales have closed.');
  end if;
  if p_quantity > v_ticket.max_per_booking then
    perform private.raise_error('P0001', 'over_max_per_booking', format('At most %s tickets per booking.', v_ticket.max_per_booking));
  end if;
  -- Freed seats belong to the people already waiting. And when the committed inventory already
  -- has too few seats, say so before writing anything: a rush on a sold-out event then costs a
  -- few index reads per attempt. (Seats held by transactions still in flight are not visible
  -- here, so this never refuses seats that exist; take_seats below stays the one that decides.)
  v_seats_left := private.seats_left(p_ticket_type_id);
  if exists (select 1 from public.waitlist_entries w where w.ticket_type_id = p_ticket_type_id and w.status = 'waiting')
     or v_seats_left < p_quantity then
    -- A concurrent retry with the same key may have committed the booking (and the last seats)
    -- since we looked: it gets that booking, not sold_out.
    v_booking := private.booking_for_idempotency_key(v_uid, p_idempotency_key, p_event_id, p_ticket_type_id, p_quantity, p_promo_code);
    if v_booking.id is not null then
      return v_booking;
    end if;
    perform private.raise_error('P0001', 'sold_out', 'Sold out. Join the waitlist to get the next free seats.');
  end if;

  -- Book-and-cancel loops (issue 13): each booking a guest makes is counted; a retry with the
  -- same idempotency key returned above and costs nothing.
  perform private.consume_rate_limit('booking', v_uid::text);

  -- Invitees skip approval: the host chose them already.
  v_status := case
    when v_event.requires_approval and private.is_event_invitee(p_event_id, v_uid) is not true then 'pending_approval'
    when v_ticket.price_cents - v_unit_discount > 0 then 'held'
    else 'confirmed' end;

  begin
    insert into public.bookings (event_id, ticket_type_id, guest_id, quantity, status, amount_cents, discount_cents,
                                 promo_code_id, currency, hold_expires_at, idempotency_key, confirmed_at)
    values (p_event_id, p_ticket_type_id, v_uid, p_quantity, v_status, (v_ticket.price_cents - v_unit_discount) * p_quantity,
            v_unit_discount * p_quantity, v_promo_code_id, v_ticket.currency,
            private.booking_deadline(v_status, v_event.starts_at), p_idempotency_key,
            case when v_status = 'confirmed' then now() end)
    returning * into v_booking;
  exception when unique_violation then
    get stacked diagnostics v_constraint = constraint_name;
    if v_constraint = 'bookings_guest_idempotency_key' then
      -- A concurrent retry with the same key won the race: answer with its booking.
      return private.booking_for_idempotency_key(v_uid, p_idempotency_key, p_event_id, p_ticket_type_id, p_quantity, p_promo_code);
    end if;
    perform private.raise_error('P0001', 'already_booked', 'You already have a booking for this event.');
  end;

  if p_share_code is not null then
    perform private.attribute_booking(v_booking.id, p_event_id, p_share_code, v_uid);
  end if;
  perform private.accept_invitation(p_event_id, v_uid);

  if v_status = 'confirmed' then
    perform private.notify(v_uid, 'booking_confirmed', format('You''re going to %s', v_event.title), null,
                           jsonb_build_object('event_id', p_event_id, 'booking_id', v_booking.id));
  elsif v_status = 'pending_approval' then
    perform private.notify_from(v_uid, v_event.host_id, 'booking_request', format('New request for %s', v_event.title), null,
                           jsonb_build_object('event_id', p_event_id, 'booking_id', v_booking.id));
  end if;

  -- The seats this booking takes are announced before any lock (the message goes out at commit),
  -- from what the check above read: nobody was waiting, and v_seats_left were left.
  if v_status <> 'pending_approval' then
    perform private.send_seats_left(p_event_id, p_ticket_type_id, v_ticket.hidden, v_seats_left - p_quantity, 0);
  end if;

  -- Locks last, the promo code's before the slots': each is held only from here to commit. A
  -- request's promo use counts from now; its seats are taken when the host approves it.
  if v_promo_code_id is not null and private.claim_promo_code(v_promo_code_id, v_booking.id, p_quantity) is not true then
    perform private.raise_error('P0001', 'promo_code_used_up', 'This promo code has been used as many times as the host allowed.');
  end if;
  if v_status = 'pending_approval' then
    return v_booking;
  end if;
  if private.take_seats(v_booking.id, p_ticket_type_id, p_quantity) is not true then
    perform private.raise_error('P0001', 'sold_out', 'Sold out. Join the waitlist to get the next free seats.');
  end if;
  return v_booking;
end
$$;

create or replace function public.book_event(
  p_event_id uuid, p_ticket_type_id uuid, p_quantity integer default 1, p_idempotency_key text default null,
  p_share_code text default null, p_promo_code text default null
) returns public.bookings
language plpgsql
set search_path = ''
as $$
begin
  -- private.book_event resolves the caller first (require_user), and anon may call it, so an
  -- anonymous caller gets 42501 not_authenticated rather than a bare privilege error, from the
  -- one require_user of the booking path.
  return private.book_event(p_event_id, p_ticket_type_id, p_quantity, p_idempotency_key, p_share_code, p_promo_code);
end
$$;
comment on function public.book_event(uuid, uuid, integer, text, text, text) is
  'Books p_quantity tickets. Free → confirmed (pending_approval when the event requires approval, unless the guest is invited); paid → held for 15 minutes until paid via the checkout function. The same p_idempotency_key returns the same booking. p_share_code (from create_share_link) attributes the booking to that link. p_promo_code (case-insensitive) takes the code''s discount off each ticket — the booking records list_amount_cents, discount_cents and amount_cents, and the payment, fees and refunds follow amount_cents (a booking the code makes free is confirmed at once) — and is the only way to book a hidden ticket type. Errors: 22023 invalid_quantity / event_not_found / ticket_type_not_found / invalid_share_code / promo_code_not_found; P0001 sold_out, already_booked, sales_not_started, sales_ended, over_max_per_booking, event_cancelled, event_ended, event_not_published, host_cannot_book, idempotency_key_reused, promo_code_not_started, promo_code_expired, promo_code_not_applicable, promo_code_used_up, promo_code_guest_limit, rate_limited (more than the booking limit, see docs/abuse-limits.md); 42501 not_authenticated (a guest the host blocked gets event_not_found: the event is hidden from them).';

-- ---------------------------------------------------------------------------------------------
-- Approvals
-- ---------------------------------------------------------------------------------------------

-- Loads a booking for a staff action, locking it; raises the right error otherwise.
create or replace function private.booking_for_staff(p_booking_id uuid, p_user_id uuid, p_roles text[]) returns public.bookings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_booking public.bookings;
begin
  select * into v_booking from public.bookings where id = p_booking_id for update;
  if v_booking.id is null then
    perform private.raise_error('22023', 'booking_not_found', 'No such booking.');
  end if;
  if private.is_event_staff(v_booking.event_id, p_user_id, p_roles) is not true then
    perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can do this.');
  end if;
  return v_booking;
end
$$;

create or replace function private.approve_booking(p_booking_id uuid) returns public.bookings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_booking public.bookings := private.booking_for_staff(p_booking_id, v_uid, array['manager']);
  v_event private.events;
begin
  if v_booking.status <> 'pending_approval' then
    perform private.raise_error('P0001', 'not_pending', 'Only pending requests can be approved.');
  end if;
  select * into v_event from private.events where id = v_booking.event_id;
  -- Requests hold no seats (an accepted waitlist offer already has its own): take them now.
  if not exists (select 1 from private.booking_allocations a where a.booking_id = p_booking_id) then
    if private.take_seats(p_booking_id, v_booking.ticket_type_id, v_booking.quantity) is not true then
      perform private.raise_error('P0001', 'sold_out', 'No seats are left for this request: decline it, or free seats first.');
    end if;
    perform private.broadcast_seats_left(v_booking.event_id, v_booking.ticket_type_id);
  end if;
  if v_booking.amount_cents = 0 then
    update public.bookings set status = 'confirmed', confirmed_at = now(), hold_expires_at = null, updated_at = now()
     where id = p_booking_id returning * into v_booking;
    perform private.notify(v_booking.guest_id, 'booking_approved', format('You''re in: %s', v_event.title), null,
                           jsonb_build_object('event_id', v_event.id, 'booking_id', v_booking.id));
  else
    -- Paid: approval opens a 24-hour window to pay, holding the seats it just took.
    update public.bookings set status = 'held', hold_expires_at = least(now() + interval '24 hours', v_event.starts_at),
                               updated_at = now()
     where id = p_booking_id returning * into v_booking;
    perform private.notify(v_booking.guest_id, 'booking_approved', format('Approved: pay within 24 hours for %s', v_event.title), null,
                           jsonb_build_object('event_id', v_event.id, 'booking_id', v_booking.id, 'pay_by', v_booking.hold_expires_at));
  end if;
  return v_booking;
end
$$;

create or replace function private.decline_booking(p_booking_id uuid) returns public.bookings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_booking public.bookings := private.booking_for_staff(p_booking_id, v_uid, array['manager']);
  v_title text;
begin
  if v_booking.status <> 'pending_approval' then
    perform private.raise_error('P0001', 'not_pending', 'Only pending requests can be declined.');
  end if;
  update public.bookings set status = 'declined', cancel_reason = 'declined', cancelled_at = now(),
                             cancelled_by = v_uid, hold_expires_at = null, updated_at = now()
   where id = p_booking_id returning * into v_booking;
  perform private.release_seats(p_booking_id);
  select title into v_title from private.events where id = v_booking.event_id;
  perform private.notify(v_booking.guest_id, 'booking_declined', format('Your request for %s was declined', v_title), null,
                         jsonb_build_object('event_id', v_booking.event_id, 'booking_id', v_booking.id));
  return v_booking;
end
$$;

create or replace function public.approve_booking(p_booking_id uuid) returns public.bookings
language plpgsql
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return private.approve_booking(p_booking_id);
end
$$;
comment on function public.approve_booking(uuid) is
  'Host or managing co-host approves a pending request, taking its seats (requests hold none): free → confirmed; paid → held for 24 hours to pay. Errors: 22023 booking_not_found, 42501 not_event_staff, P0001 not_pending, sold_out (no seats left for it).';

create or replace function public.decline_booking(p_booking_id uuid) returns public.bookings
language plpgsql
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return private.decline_booking(p_booking_id);
end
$$;
comment on function public.decline_booking(uuid) is
  'Host or managing co-host declines a pending request (one that came from a waitlist offer gives its seats back, to the waitlist first). Errors: 22023 booking_not_found, 42501 not_event_staff, P0001 not_pending.';

-- ---------------------------------------------------------------------------------------------
-- Refund policy, quotes and cancellation
-- ---------------------------------------------------------------------------------------------

-- Percentage of the amount a guest gets back when cancelling at p_at (docs/events-and-bookings.md: refund policies).
create or replace function private.refund_percent(p_policy text, p_starts_at timestamptz, p_at timestamptz) returns integer
language sql
immutable
set search_path = ''
as $$
  -- Deadlines in hours, not calendar days: "7 days" on a timestamptz would follow the session's
  -- time zone across daylight-saving changes, and a refund must not depend on who asks.
  select case p_policy
    when 'flexible' then case when p_at <= p_starts_at - interval '24 hours' then 100 else 0 end
    when 'moderate' then case when p_at <= p_starts_at - interval '168 hours' then 100
                              when p_at <= p_starts_at - interval '24 hours' then 50 else 0 end
    when 'strict' then case when p_at <= p_starts_at - interval '168 hours' then 50 else 0 end
    else 0 end
$$;
comment on function private.refund_percent(text, timestamptz, timestamptz) is
  'flexible: 100% until 24 h before start; moderate: 100% until 7 days, 50% until 24 h; strict: 50% until 7 days; none: 0%.';

-- Refundable minor units: floor, so a refund never exceeds what the policy allows.
create or replace function private.refund_amount(p_amount_cents bigint, p_percent integer) returns bigint
language sql
immutable
set search_path = ''
as $$
  select (p_amount_cents * p_percent) / 100
$$;

create or replace function private.refund_quote_as(p_user_id uuid, p_booking_id uuid, p_at timestamptz)
returns table (booking_id uuid, amount_cents bigint, refundable_cents bigint, currency text, refund_policy text,
               refund_percent integer, cancelled_by_host boolean, full_refund_until timestamptz, partial_refund_until timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_booking public.bookings;
  v_event private.events;
  v_by_host boolean;
  v_percent integer;
  v_change_window timestamptz;
  v_already bigint;
begin
  select * into v_booking from public.bookings b where b.id = p_booking_id;
  if v_booking.id is null then
    perform private.raise_error('22023', 'booking_not_found', 'No such booking.');
  end if;
  v_by_host := private.is_event_staff(v_booking.event_id, p_user_id, array['manager']);
  if v_booking.guest_id is distinct from p_user_id and v_by_host is not true then
    perform private.raise_error('42501', 'not_your_booking', 'This booking is not yours.');
  end if;
  select * into v_event from private.events e where e.id = v_booking.event_id;
  -- A material change to the event after the guest booked (change_event_details) opens a window
  -- for a full refund, whatever the policy.
  select max(c.refund_window_until) into v_change_window
    from private.event_changes c
   where c.event_id = v_booking.event_id and c.material and c.changed_at > v_booking.created_at;
  v_percent := case
    when v_booking.status <> 'confirmed' or v_booking.amount_cents = 0 then 0
    when v_by_host and v_booking.guest_id <> p_user_id then 100
    when p_at <= v_change_window then 100
    else private.refund_percent(v_event.refund_policy, v_event.starts_at, p_at) end;
  -- What refunds already gave back (an admin's goodwill refund) counts towards it.
  select coalesce(sum(r.amount_cents), 0) into v_already
    from private.refund_requests r where r.booking_id = v_booking.id and r.status not in ('failed', 'cancelled');
  return query select v_booking.id, v_booking.amount_cents,
    greatest(private.refund_amount(v_booking.amount_cents, v_percent) - v_already, 0),
    v_booking.currency, v_event.refund_policy, v_percent, v_by_host and v_booking.guest_id <> p_user_id,
    greatest(case v_event.refund_policy when 'flexible' then v_event.starts_at - interval '24 hours'
                                        when 'moderate' then v_event.starts_at - interval '168 hours' end,
             case when v_change_window > p_at then v_change_window end),
    case v_event.refund_policy when 'moderate' then v_event.starts_at - interval '24 hours'
                               when 'strict' then v_event.starts_at - interval '168 hours' end;
end
$$;

create or replace function private.refund_quote(p_booking_id uuid)
returns table (booking_id uuid, amount_cents bigint, refundable_cents bigint, currency text, refund_policy text,
               refund_percent integer, cancelled_by_host boolean, full_refund_until timestamptz, partial_refund_until timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  return query select * from private.refund_quote_as(v_uid, p_booking_id, now());
end
$$;

create or replace function public.refund_quote(p_booking_id uuid)
returns table (booking_id uuid, amount_cents bigint, refundable_cents bigint, currency text, refund_policy text,
               refund_percent integer, cancelled_by_host boolean, full_refund_until timestamptz, partial_refund_until timestamptz)
language plpgsql
stable
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return query select * from private.refund_quote(p_booking_id);
end
$$;
comment on function public.refund_quote(uuid) is
  'What cancelling this booking now would refund: the guest gets the event''s policy (in full within the window a material change to the event opened, see change_event_details), a cancellation by the host or a managing co-host refunds in full; refunds already made (an admin''s goodwill refund) are deducted from refundable_cents. Errors: 22023 booking_not_found, 42501 not_your_booking.';

-- Cancels one booking: the guest under the event's policy, or the host / a managing co-host
-- with a full refund. A paid, confirmed booking gets a refund request for the payments worker.
create or replace function private.cancel_booking_as(p_user_id uuid, p_booking_id uuid, p_reason text default null) returns public.bookings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_booking public.bookings;
  v_event private.events;
  v_quote record;
  v_by_host boolean;
begin
  select * into v_booking from public.bookings where id = p_booking_id for update;
  if v_booking.id is null then
    perform private.raise_error('22023', 'booking_not_found', 'No such booking.');
  end if;
  v_by_host := v_booking.guest_id is distinct from p_user_id and private.is_event_staff(v_booking.event_id, p_user_id, array['manager']);
  if v_booking.guest_id is distinct from p_user_id and v_by_host is not true then
    perform private.raise_error('42501', 'not_your_booking', 'This booking is not yours.');
  end if;
  if v_booking.status not in ('held', 'pending_approval', 'confirmed') then
    perform private.raise_error('P0001', 'not_cancellable', format('A %s booking cannot be cancelled.', v_booking.status));
  end if;
  if v_booking.checked_in_at is not null then
    perform private.raise_error('P0001', 'already_checked_in', 'A checked-in booking cannot be cancelled.');
  end if;
  select * into v_event from private.events where id = v_booking.event_id;
  if v_by_host is not true and v_event.starts_at <= now() then
    perform private.raise_error('P0001', 'event_started', 'The event has started; bookings can no longer be cancelled.');
  end if;
  -- Seats the guest gave away belong to their holders now (20261125110430_attendees_and_transfers).
  if v_by_host is not true and private.has_transferred_seats(p_booking_id) then
    perform private.raise_error('P0001', 'seats_transferred',
      'Some seats of this booking belong to the people you gave them to; they can hand them back first.');
  end if;

  select * into v_quote from private.refund_quote_as(p_user_id, p_booking_id, now());
  update public.bookings
     set status = 'cancelled', cancelled_at = now(), cancelled_by = p_user_id, hold_expires_at = null, updated_at = now(),
         cancel_reason = coalesce(p_reason, case when v_by_host then 'host_cancelled' else 'guest_cancelled' end)
   where id = p_booking_id
  returning * into v_booking;
  if v_quote.refundable_cents > 0 then
    insert into private.refund_requests (booking_id, amount_cents, currency, reason, requested_by)
    values (p_booking_id, v_quote.refundable_cents, v_booking.currency, v_booking.cancel_reason, p_user_id);
  end if;
  update public.waitlist_entries set status = 'cancelled', updated_at = now()
   where booking_id = p_booking_id and status = 'offered';
  perform private.release_seats(p_booking_id);

  if v_by_host then
    perform private.notify(v_booking.guest_id, 'booking_cancelled', format('Your booking for %s was cancelled by the host', v_event.title),
      case when v_quote.refundable_cents = v_booking.amount_cents and v_quote.refundable_cents > 0 then 'You will get a full refund.'
           when v_quote.refundable_cents > 0 then 'You will get the rest of your payment back.' end,
      jsonb_build_object('event_id', v_event.id, 'booking_id', v_booking.id, 'refund_cents', v_quote.refundable_cents));
    perform private.notify_seat_holders(v_booking.id, format('Your ticket for %s was cancelled by the host', v_event.title), null,
      jsonb_build_object('event_id', v_event.id, 'booking_id', v_booking.id));
  else
    -- The host's own copy is guest_cancelled, which the host may mute (booking_cancelled, the
    -- guest's refund notice, is critical); nothing crosses a block.
    perform private.notify_from(v_booking.guest_id, v_event.host_id, 'guest_cancelled', format('A guest cancelled for %s', v_event.title), null,
      jsonb_build_object('event_id', v_event.id, 'booking_id', v_booking.id));
  end if;
  return v_booking;
end
$$;

create or replace function private.cancel_booking(p_booking_id uuid) returns public.bookings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  -- A guest's own cancellations are counted (book-and-cancel loops); staff cancelling a guest's
  -- booking are not.
  if exists (select 1 from public.bookings b where b.id = p_booking_id and b.guest_id = v_uid) then
    perform private.consume_rate_limit('booking_cancel', v_uid::text);
  end if;
  return private.cancel_booking_as(v_uid, p_booking_id, null);
end
$$;

create or replace function public.cancel_booking(p_booking_id uuid) returns public.bookings
language plpgsql
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return private.cancel_booking(p_booking_id);
end
$$;
comment on function public.cancel_booking(uuid) is
  'Cancels a booking. The guest is refunded per the event''s refund policy (see refund_quote); the host or a managing co-host cancelling refunds in full (to the card that paid, also after a transfer). Seats go to the waitlist. A guest cannot cancel while someone they gave a seat to holds it. Errors: 22023 booking_not_found, 42501 not_your_booking, P0001 not_cancellable / already_checked_in / event_started / seats_transferred / rate_limited (a guest''s own cancellations are limited).';

-- ---------------------------------------------------------------------------------------------
-- Check-in
-- ---------------------------------------------------------------------------------------------

-- A code is a booking's own (every seat its guest holds) or one seat's (named attendees and
-- transfer, 20261125110430, defines the seat hooks called here).
create or replace function private.check_in(p_code text)
returns table (booking_id uuid, event_id uuid, guest_id uuid, username text, display_name text, quantity integer,
               ticket_type text, checked_in_at timestamptz, seat_no integer, attendee_name text)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_booking public.bookings;
  v_seat_no smallint;
  v_attendee text;
  v_holder uuid;
  v_count integer;
  v_event private.events;
  v_guest public.profiles;
  v_ticket_name text;
begin
  if p_code is null or p_code !~ '^[0-9a-f]{32}$' then
    perform private.raise_error('22023', 'invalid_code', 'This is not a valid check-in code.');
  end if;
  select * into v_booking from public.bookings b where b.check_in_code = p_code for update;
  if v_booking.id is null then
    select * into v_booking from public.bookings b
     where b.id = (select c.booking_id from private.seat_for_code(p_code) c) for update;
    -- The seat may have changed hands (and codes) while we waited for the booking's lock: only
    -- the code as it is now counts.
    select c.seat_no into v_seat_no from private.seat_for_code(p_code) c where c.booking_id = v_booking.id;
    if v_seat_no is null then
      v_booking := null;
    end if;
  end if;
  if v_booking.id is null then
    perform private.raise_error('22023', 'invalid_code', 'This is not a valid check-in code.');
  end if;
  if private.is_event_staff(v_booking.event_id, v_uid) is not true then
    perform private.raise_error('42501', 'not_event_staff', 'Only the host and co-hosts can check guests in.');
  end if;
  if v_booking.status <> 'confirmed' then
    perform private.raise_error('P0001', 'booking_not_confirmed', format('This booking is %s, not confirmed.', v_booking.status));
  end if;
  select * into v_event from private.events e where e.id = v_booking.event_id;
  if now() < v_event.starts_at - interval '2 hours' or now() > v_event.ends_at then
    perform private.raise_error('P0001', 'outside_event_window', 'Check-in opens 2 hours before the start and closes at the end.');
  end if;
  v_count := private.check_in_seats(v_booking, v_seat_no, v_uid);
  if v_count = 0 then
    perform private.raise_error('P0001', 'already_checked_in',
      format('Already checked in at %s.', coalesce(v_booking.checked_in_at, now())));
  end if;
  update public.bookings b set checked_in_at = coalesce(b.checked_in_at, now()), checked_in_by = coalesce(b.checked_in_by, v_uid),
                              updated_at = now()
   where b.id = v_booking.id returning * into v_booking;
  if v_seat_no is not null then
    select s.holder_id, s.attendee_name into v_holder, v_attendee
      from public.booking_seats s where s.booking_id = v_booking.id and s.seat_no = v_seat_no;
  end if;
  select * into v_guest from public.profiles p where p.id = coalesce(v_holder, v_booking.guest_id);
  select t.name into v_ticket_name from public.ticket_types t where t.id = v_booking.ticket_type_id;

  perform realtime.send(jsonb_build_object('checked_in', private.checked_in_count(v_event.id)),
                        'check_in_count', 'event:' || v_event.id::text, true);
  perform realtime.send(jsonb_build_object('booking_id', v_booking.id, 'guest_id', v_guest.id, 'display_name', v_guest.display_name,
                                           'quantity', v_count, 'seat_no', v_seat_no, 'attendee_name', v_attendee,
                                           'checked_in_at', now()),
                        'check_in', 'event:' || v_event.id::text || ':staff', true);
  return query select v_booking.id, v_booking.event_id, v_guest.id, v_guest.username, v_guest.display_name,
                      v_count, v_ticket_name, now(), v_seat_no::integer, v_attendee;
end
$$;

create or replace function public.check_in(p_code text)
returns table (booking_id uuid, event_id uuid, guest_id uuid, username text, display_name text, quantity integer,
               ticket_type text, checked_in_at timestamptz, seat_no integer, attendee_name text)
language plpgsql
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return query select * from private.check_in(p_code);
end
$$;
comment on function public.check_in(text) is
  'Host or co-host scans a code: from 2 hours before the start until the end. A booking''s code checks in every seat its guest still holds; a seat''s own code (booking_seats) checks in that seat alone, for whoever holds it. Each seat checks in once. Returns who checked in and how many seats (quantity), with the seat number and attendee name for a seat''s code. Errors: 22023 invalid_code, 42501 not_event_staff, P0001 already_checked_in / booking_not_confirmed / outside_event_window.';

-- ---------------------------------------------------------------------------------------------
-- Waitlist
-- ---------------------------------------------------------------------------------------------

-- Offers freed seats to waiting parties in joining order; a party too large for the seats left
-- keeps its place while smaller parties behind it are served.
create or replace function private.promote_waitlist(p_ticket_type_id uuid) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_entry public.waitlist_entries;
  v_event private.events;
  v_ticket public.ticket_types;
  v_booking public.bookings;
  v_offers integer := 0;
begin
  select * into v_ticket from public.ticket_types where id = p_ticket_type_id;
  select * into v_event from private.events where id = v_ticket.event_id;
  if v_event.status <> 'published' or v_event.ends_at <= now() then
    return 0;
  end if;
  for v_entry in
    select * from public.waitlist_entries
     where ticket_type_id = p_ticket_type_id and status = 'waiting'
     order by created_at, id
     for update skip locked
  loop
    exit when private.seats_left(p_ticket_type_id) = 0;
    -- A block between host and guest since they joined ends their place in the queue.
    if private.is_blocked_between(v_event.host_id, v_entry.guest_id) then
      update public.waitlist_entries set status = 'cancelled', updated_at = now() where id = v_entry.id;
      continue;
    end if;
    continue when v_entry.quantity > private.seats_left(p_ticket_type_id);
    insert into public.bookings (event_id, ticket_type_id, guest_id, quantity, status, amount_cents, currency, hold_expires_at)
    values (v_event.id, p_ticket_type_id, v_entry.guest_id, v_entry.quantity, 'held', v_ticket.price_cents * v_entry.quantity,
            v_ticket.currency, least(now() + interval '2 hours', v_event.starts_at))
    on conflict do nothing
    returning * into v_booking;
    if v_booking.id is null then
      -- The guest booked another way meanwhile; their place in the queue is done.
      update public.waitlist_entries set status = 'cancelled', updated_at = now() where id = v_entry.id;
      continue;
    end if;
    if private.take_seats(v_booking.id, p_ticket_type_id, v_entry.quantity) is not true then
      -- Cannot happen while we hold the slots, but never leave a booking without seats.
      delete from public.bookings where id = v_booking.id;
      exit;
    end if;
    update public.waitlist_entries
       set status = 'offered', booking_id = v_booking.id, offered_at = now(), offer_expires_at = v_booking.hold_expires_at,
           updated_at = now()
     where id = v_entry.id;
    perform private.notify(v_entry.guest_id, 'waitlist_offer', format('A spot opened up for %s', v_event.title),
      case when v_ticket.price_cents > 0 then 'Pay within 2 hours to keep it.' else 'Accept within 2 hours to keep it.' end,
      jsonb_build_object('event_id', v_event.id, 'booking_id', v_booking.id, 'expires_at', v_booking.hold_expires_at));
    v_offers := v_offers + 1;
  end loop;
  return v_offers;
end
$$;

create or replace function private.join_waitlist(p_event_id uuid, p_ticket_type_id uuid, p_quantity integer)
returns public.waitlist_entries
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
  v_ticket public.ticket_types;
  v_entry public.waitlist_entries;
begin
  if p_quantity is null or p_quantity < 1 or p_quantity > 100 then
    perform private.raise_error('22023', 'invalid_quantity', 'A party has 1 to 100 people.');
  end if;
  -- KEY SHARE before the status is read, as book_event does: a cancellation either waits for this
  -- entry (and cancels it with the waitlist) or is seen.
  select * into v_event from private.events where id = p_event_id for key share;
  if v_event.id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  -- A hidden tier has no public queue: it is booked with its promo code only.
  select * into v_ticket from public.ticket_types where id = p_ticket_type_id and event_id = p_event_id and not hidden;
  if v_ticket.id is null then
    perform private.raise_error('22023', 'ticket_type_not_found', 'This ticket type does not belong to the event.');
  end if;
  if v_event.status <> 'published' or v_event.ends_at <= now() then
    perform private.raise_error('P0001', 'event_not_open', 'This event is not taking bookings.');
  end if;
  if v_event.host_id = v_uid then
    perform private.raise_error('P0001', 'host_cannot_book', 'Hosts do not book their own events.');
  end if;
  if private.is_blocked_between(v_event.host_id, v_uid) then
    perform private.raise_error('P0001', 'blocked', 'You cannot join this waitlist.');
  end if;
  if p_quantity > v_ticket.max_per_booking then
    perform private.raise_error('P0001', 'over_max_per_booking', format('At most %s tickets per booking.', v_ticket.max_per_booking));
  end if;
  if exists (select 1 from public.bookings b where b.event_id = p_event_id and b.guest_id = v_uid
              and b.status in ('held', 'pending_approval', 'confirmed')) then
    perform private.raise_error('P0001', 'already_booked', 'You already have a booking for this event.');
  end if;
  if private.seats_left(p_ticket_type_id) >= p_quantity
     and not exists (select 1 from public.waitlist_entries w where w.ticket_type_id = p_ticket_type_id and w.status = 'waiting') then
    perform private.raise_error('P0001', 'seats_available', 'Seats are available: book them directly.');
  end if;
  -- Joining a waitlist counts as a booking, leaving it as a cancellation (join/leave loops).
  perform private.consume_rate_limit('booking', v_uid::text);
  begin
    insert into public.waitlist_entries (event_id, ticket_type_id, guest_id, quantity)
    values (p_event_id, p_ticket_type_id, v_uid, p_quantity)
    returning * into v_entry;
  exception when unique_violation then
    perform private.raise_error('P0001', 'already_waiting', 'You are already on this event''s waitlist.');
  end;
  -- Seats may be free but held back for a larger party ahead in the queue: a party that fits
  -- them is offered them at once.
  if private.promote_waitlist(p_ticket_type_id) > 0 then
    select * into v_entry from public.waitlist_entries where id = v_entry.id;
  end if;
  perform private.broadcast_seats_left(p_event_id, p_ticket_type_id);
  return v_entry;
end
$$;

create or replace function public.join_waitlist(p_event_id uuid, p_ticket_type_id uuid, p_quantity integer default 1)
returns public.waitlist_entries
language plpgsql
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return private.join_waitlist(p_event_id, p_ticket_type_id, p_quantity);
end
$$;
comment on function public.join_waitlist(uuid, uuid, integer) is
  'Joins a sold-out ticket type''s waitlist with a party of p_quantity. When seats free up the party gets a held booking as an offer for 2 hours (pay for paid events, accept_waitlist_offer for free ones). Errors: 22023 event_not_found / ticket_type_not_found / invalid_quantity; P0001 seats_available, already_booked, already_waiting, event_not_open, blocked, rate_limited (joins count as bookings).';

create or replace function private.leave_waitlist(p_event_id uuid) returns public.waitlist_entries
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_entry public.waitlist_entries;
begin
  select * into v_entry from public.waitlist_entries
   where event_id = p_event_id and guest_id = v_uid and status in ('waiting', 'offered')
   for update;
  if v_entry.id is null then
    perform private.raise_error('P0001', 'not_waiting', 'You are not on this event''s waitlist.');
  end if;
  perform private.consume_rate_limit('booking_cancel', v_uid::text);
  update public.waitlist_entries set status = 'left', updated_at = now() where id = v_entry.id returning * into v_entry;
  if v_entry.booking_id is not null then
    update public.bookings set status = 'cancelled', cancel_reason = 'guest_cancelled', cancelled_at = now(),
                               cancelled_by = v_uid, hold_expires_at = null, updated_at = now()
     where id = v_entry.booking_id and status = 'held';
    perform private.release_seats(v_entry.booking_id);
  else
    perform private.broadcast_seats_left(v_entry.event_id, v_entry.ticket_type_id);
  end if;
  return v_entry;
end
$$;

create or replace function public.leave_waitlist(p_event_id uuid) returns public.waitlist_entries
language plpgsql
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return private.leave_waitlist(p_event_id);
end
$$;
comment on function public.leave_waitlist(uuid) is
  'Leaves the event''s waitlist; an open offer is given up and passed to the next party. Errors: P0001 not_waiting, rate_limited (counts as a cancellation).';

-- A free event's waitlist offer is accepted here (paid offers are accepted by paying).
create or replace function private.accept_waitlist_offer(p_booking_id uuid) returns public.bookings
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_booking public.bookings;
  v_event private.events;
begin
  select * into v_booking from public.bookings where id = p_booking_id for update;
  if v_booking.id is null or v_booking.guest_id <> v_uid then
    perform private.raise_error('22023', 'booking_not_found', 'No such offer.');
  end if;
  if v_booking.status <> 'held' or not exists (select 1 from public.waitlist_entries w where w.booking_id = p_booking_id and w.status = 'offered') then
    perform private.raise_error('P0001', 'no_open_offer', 'There is no open waitlist offer for this booking.');
  end if;
  if v_booking.amount_cents > 0 then
    perform private.raise_error('P0001', 'payment_required', 'Pay for this offer through the checkout function.');
  end if;
  select * into v_event from private.events where id = v_booking.event_id;
  if v_event.requires_approval and private.is_event_invitee(v_event.id, v_uid) is not true then
    update public.bookings set status = 'pending_approval', hold_expires_at = private.booking_deadline('pending_approval', v_event.starts_at),
                               updated_at = now()
     where id = p_booking_id returning * into v_booking;
  else
    update public.bookings set status = 'confirmed', confirmed_at = now(), hold_expires_at = null, updated_at = now()
     where id = p_booking_id returning * into v_booking;
    perform private.notify(v_uid, 'booking_confirmed', format('You''re going to %s', v_event.title), null,
                           jsonb_build_object('event_id', v_event.id, 'booking_id', v_booking.id));
    perform private.accept_invitation(v_event.id, v_uid);
  end if;
  update public.waitlist_entries set status = 'converted', updated_at = now() where booking_id = p_booking_id;
  return v_booking;
end
$$;

create or replace function public.accept_waitlist_offer(p_booking_id uuid) returns public.bookings
language plpgsql
set search_path = ''
as $$
begin
  -- Anonymous callers get 42501 not_authenticated rather than a bare privilege error.
  perform private.require_user();
  return private.accept_waitlist_offer(p_booking_id);
end
$$;
comment on function public.accept_waitlist_offer(uuid) is
  'Accepts a free event''s waitlist offer (the held booking from the waitlist_offer notification): confirmed, or pending_approval when the event requires approval. Errors: 22023 booking_not_found; P0001 no_open_offer, payment_required.';

-- ---------------------------------------------------------------------------------------------
-- Jobs
-- ---------------------------------------------------------------------------------------------

-- Expires holds and pending approvals past their deadline; their seats go to the waitlist.
create or replace function private.expire_stale_bookings(p_limit integer default 500) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_booking public.bookings;
  v_count integer := 0;
  v_title text;
begin
  for v_booking in
    select * from public.bookings
     where status in ('held', 'pending_approval') and hold_expires_at <= now()
     -- Ticket type first: slots of different ticket types are always locked in one order.
     order by ticket_type_id, hold_expires_at
     limit p_limit
     for update skip locked
  loop
    update public.bookings set status = 'expired', cancel_reason = 'expired', cancelled_at = now(), updated_at = now()
     where id = v_booking.id;
    update public.waitlist_entries set status = 'expired', updated_at = now()
     where booking_id = v_booking.id and status = 'offered';
    perform private.release_seats(v_booking.id);
    select title into v_title from private.events where id = v_booking.event_id;
    perform private.notify(v_booking.guest_id, 'booking_expired',
      case v_booking.status when 'held' then format('Your hold on %s expired', v_title)
                            else format('Your request for %s expired', v_title) end, null,
      jsonb_build_object('event_id', v_booking.event_id, 'booking_id', v_booking.id));
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;
comment on function private.expire_stale_bookings(integer) is 'Job (every minute): expires held bookings and pending approvals past their deadline and frees their seats.';

-- The ticket types capability (20261125110300) lists a hidden tier to the guests who booked it.
create or replace function private.has_booked_ticket_type(p_ticket_type_id uuid, p_user_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.bookings b where b.ticket_type_id = p_ticket_type_id and b.guest_id = p_user_id)
$$;
comment on function private.has_booked_ticket_type(uuid, uuid) is 'True when the user has (or had) a booking of this ticket type.';
grant execute on function private.has_booked_ticket_type(uuid, uuid) to anon, authenticated, service_role;

alter table public.bookings enable row level security;
create policy "guests see their bookings and staff see their events' bookings" on public.bookings
  for select to authenticated
  using (guest_id = (select auth.uid()) or private.is_event_staff(event_id, (select auth.uid())));
grant select on public.bookings to authenticated;
grant select, insert, update, delete on public.bookings to service_role;

alter table public.waitlist_entries enable row level security;
create policy "guests see their waitlist entries and staff see their events' waitlists" on public.waitlist_entries
  for select to authenticated
  using (guest_id = (select auth.uid()) or private.is_event_staff(event_id, (select auth.uid())));
grant select on public.waitlist_entries to authenticated;
grant select, insert, update, delete on public.waitlist_entries to service_role;

-- Entry points the public RPCs call; each resolves the caller from the JWT itself, so none
-- can act for another user. Internal helpers (taking a user id) are granted to nobody.
grant execute on function private.book_event(uuid, uuid, integer, text, text, text), private.approve_booking(uuid),
  private.decline_booking(uuid), private.refund_quote(uuid), private.cancel_booking(uuid), private.check_in(text),
  private.join_waitlist(uuid, uuid, integer), private.leave_waitlist(uuid), private.accept_waitlist_offer(uuid)
  to authenticated;
-- public.book_event calls it without its own require_user (the hot path's second one).
grant execute on function private.book_event(uuid, uuid, integer, text, text, text) to anon;
revoke execute on function public.book_event(uuid, uuid, integer, text, text, text), public.approve_booking(uuid), public.decline_booking(uuid),
  public.refund_quote(uuid), public.cancel_booking(uuid), public.check_in(text), public.join_waitlist(uuid, uuid, integer),
  public.leave_waitlist(uuid), public.accept_waitlist_offer(uuid) from public, anon, authenticated, service_role;
grant execute on function public.book_event(uuid, uuid, integer, text, text, text), public.approve_booking(uuid), public.decline_booking(uuid),
  public.refund_quote(uuid), public.cancel_booking(uuid), public.check_in(text), public.join_waitlist(uuid, uuid, integer),
  public.leave_waitlist(uuid), public.accept_waitlist_offer(uuid) to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.accept_waitlist_offer(uuid),
  private.approve_booking(uuid),
  private.book_event(uuid,uuid,integer,text,text,text),
  private.booking_for_idempotency_key(uuid,text,uuid,uuid,integer,text),
  private.booking_deadline(text,timestamp with time zone),
  private.booking_for_staff(uuid,uuid,text[]),
  private.broadcast_seats_left(uuid,uuid),
  private.send_seats_left(uuid,uuid,boolean,integer,bigint),
  private.cancel_booking(uuid),
  private.cancel_booking_as(uuid,uuid,text),
  private.check_in(text),
  private.confirm_booking_payment(uuid),
  private.decline_booking(uuid),
  private.expire_stale_bookings(integer),
  private.has_booked_ticket_type(uuid,uuid),
  private.is_same_booking_request(public.bookings,uuid,uuid,integer,uuid),
  private.join_waitlist(uuid,uuid,integer),
  private.leave_waitlist(uuid),
  private.promote_waitlist(uuid),
    private.refund_amount(bigint,integer),
  private.refund_percent(text,timestamp with time zone,timestamp with time zone),
  private.refund_quote(uuid),
  private.refund_quote_as(uuid,uuid,timestamp with time zone),
  private.release_seats(uuid),
  private.take_seats(uuid,uuid,integer)
  from public;
