-- Named attendees and ticket transfer.
--
-- Seats: every booking has one public.booking_seats row per ticket (made with the booking), each
-- with its own 128-bit check-in code and an optional attendee name. The booking's own code
-- (bookings.check_in_code) checks in every seat its guest still holds at once; a seat's code
-- checks in that seat alone, so a party can arrive separately.
--
-- Transfer: transfer_booking(booking, to_user[, seat_no]) offers the whole booking or one seat to
-- another user, who accepts (accept_booking_transfer) or declines within 7 days or until the
-- event starts. On acceptance the old codes die (new ones are drawn) and the new holder joins the
-- event chat (20261125130000_conversations follows seat holders), sees the exact address and gets
-- the event on their list:
--   * a whole booking changes guest: the recipient becomes bookings.guest_id, with the booking's
--     cancellation rights under the event's refund policy; the payment stays the payer's
--     (private.payments.guest_id): the receipt, and every refund, goes to the card that paid;
--   * one seat changes holder (booking_seats.holder_id): the payer keeps the booking, the receipt
--     and the other seats. Because a holder's seat is theirs, the payer can no longer cancel the
--     booking while any seat is held by someone else (seats_transferred) — selling a seat and
--     then cancelling it for a refund is exactly the fraud transfers invite — but the host still
--     can (a full refund to the payer), and the holder can hand the seat back.
-- Who may receive: someone who may see the event, is not already going, is not blocked with the
-- host or the sender, and is not its staff; one answer for all of these (recipient_not_eligible),
-- so nobody learns another's blocks or plans. Events that require approval take no transfers (the
-- host chose each guest), and nothing moves once the event has started or a seat is checked in.
-- Earlier capabilities call the hooks defined here: can_see_event / can_see_event_details
-- (events: seat holders), book_event, cancel_booking and check_in (bookings).

create table public.booking_seats (
  booking_id uuid not null references public.bookings (id) on delete cascade,
  seat_no smallint not null,
  event_id uuid not null references private.events (id) on delete cascade,
  holder_id uuid references public.profiles (id),
  attendee_name text,
  check_in_code text not null default encode(extensions.gen_random_bytes(16), 'hex'),
  checked_in_at timestamptz,
  checked_in_by uuid references public.profiles (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (booking_id, seat_no),
  constraint booking_seats_seat_no check (seat_no between 1 and 100),
  constraint booking_seats_attendee_name check (attendee_name is null or char_length(attendee_name) between 1 and 120)
);
revoke all on public.booking_seats from public, anon, authenticated, service_role;
comment on table public.booking_seats is
  'One row per ticket of a booking: seat number, attendee name, who holds it (null = the booking''s guest; set when a seat was transferred) and its own check-in code. The guest sees the seats they hold, a holder their seat, the event''s staff every seat. Named with name_attendees, moved with transfer_booking.';
comment on column public.booking_seats.holder_id is 'Who holds this seat when it is not the booking''s guest (accepted transfer of one seat); null = the guest.';
comment on column public.booking_seats.check_in_code is '128-bit random code for this seat alone (check_in); a new one is drawn when the seat changes hands.';
create unique index booking_seats_check_in_code_key on public.booking_seats (check_in_code);
create index booking_seats_event_idx on public.booking_seats (event_id) where checked_in_at is not null;
create index booking_seats_holder_idx on public.booking_seats (holder_id, event_id) where holder_id is not null;
create index booking_seats_checked_in_by_idx on public.booking_seats (checked_in_by);
create index booking_seats_event_fk_idx on public.booking_seats (event_id);

create table public.booking_transfers (
  id uuid primary key default gen_random_uuid(),
  booking_id uuid not null references public.bookings (id) on delete cascade,
  event_id uuid not null references private.events (id) on delete cascade,
  seat_no smallint,
  from_user_id uuid not null references public.profiles (id),
  to_user_id uuid not null references public.profiles (id),
  status text not null default 'pending',
  expires_at timestamptz not null,
  responded_at timestamptz,
  created_at timestamptz not null default now(),
  constraint booking_transfers_status check (status in ('pending', 'accepted', 'declined', 'cancelled')),
  constraint booking_transfers_seat_no check (seat_no is null or seat_no between 1 and 100),
  constraint booking_transfers_not_to_self check (from_user_id <> to_user_id)
);
revoke all on public.booking_transfers from public, anon, authenticated, service_role;
comment on table public.booking_transfers is
  'Offers to hand a booking (seat_no null) or one seat to another user: pending until the recipient accepts or declines, the sender cancels, or expires_at passes (7 days, at most until the event starts). The sender, the recipient and the event''s staff read them; written through transfer_booking, accept_booking_transfer, decline_booking_transfer and cancel_booking_transfer.';
comment on column public.booking_transfers.status is 'pending | accepted | declined | cancelled (by the sender). A pending offer past expires_at can no longer be accepted.';
create unique index booking_transfers_one_pending on public.booking_transfers (booking_id, coalesce(seat_no, 0)) where status = 'pending';
create index booking_transfers_from_idx on public.booking_transfers (from_user_id, created_at desc);
create index booking_transfers_to_idx on public.booking_transfers (to_user_id, created_at desc);
create index booking_transfers_event_idx on public.booking_transfers (event_id);
create index booking_transfers_booking_idx on public.booking_transfers (booking_id, created_at);

insert into private.notification_types (type, category, critical, in_app, email, sms, whatsapp, description) values
  ('ticket_transfer_offered', 'bookings', false, true, true, false, false, 'Someone wants to give you their ticket'),
  ('ticket_transfer_accepted', 'bookings', false, true, true, false, false, 'The ticket you offered was accepted'),
  ('ticket_transfer_declined', 'bookings', false, true, false, false, false, 'The ticket you offered was declined');

-- Every new booking gets its seats.
create or replace function private.bookings_create_seats() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.booking_seats (booking_id, seat_no, event_id)
  select new.id, s, new.event_id from generate_series(1, new.quantity) as s;
  return null;
end
$$;
comment on function private.bookings_create_seats() is 'Trigger: a booking gets one seat (with its own check-in code) per ticket.';
create trigger bookings_create_seats after insert on public.bookings
  for each row execute function private.bookings_create_seats();

-- ---------------------------------------------------------------------------------------------
-- Hooks earlier capabilities call
-- ---------------------------------------------------------------------------------------------

-- can_see_event, can_see_event_details (events) and book_event: p_user_id holds a seat of someone
-- else's confirmed booking for the event.
create or replace function private.holds_seat(p_event_id uuid, p_user_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.booking_seats s join public.bookings b on b.id = s.booking_id
                  where s.holder_id = p_user_id and s.event_id = p_event_id and b.status = 'confirmed')
$$;
comment on function private.holds_seat(uuid, uuid) is 'True when the user holds a transferred seat of a confirmed booking for the event.';
grant execute on function private.holds_seat(uuid, uuid) to anon, authenticated, service_role;

-- cancel_booking (bookings): a guest cannot cancel seats other people hold.
create or replace function private.has_transferred_seats(p_booking_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.booking_seats s where s.booking_id = p_booking_id and s.holder_id is not null)
$$;
comment on function private.has_transferred_seats(uuid) is 'True when someone other than the guest holds a seat of the booking.';

-- cancel_booking and cancel_event: the holders of a cancelled booking's transferred seats are told.
create or replace function private.notify_seat_holders(p_booking_id uuid, p_title text, p_body text, p_data jsonb)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_holder uuid;
begin
  for v_holder in select distinct s.holder_id from public.booking_seats s
                   where s.booking_id = p_booking_id and s.holder_id is not null loop
    perform private.notify(v_holder, 'booking_cancelled', p_title, p_body, p_data);
  end loop;
end
$$;
comment on function private.notify_seat_holders(uuid, text, text, jsonb) is 'Tells everyone holding a transferred seat of the booking (booking_cancelled).';

-- check_in (bookings): the booking and seat a check-in code belongs to (a booking's own code,
-- seat_no null, or a seat's), locking the booking.
create or replace function private.seat_for_code(p_code text) returns table (booking_id uuid, seat_no smallint)
language sql
stable
security definer
set search_path = ''
as $$
  select s.booking_id, s.seat_no from public.booking_seats s where s.check_in_code = p_code
$$;
comment on function private.seat_for_code(text) is 'The booking and seat of a seat''s own check-in code.';

-- check_in (bookings): checks in one seat (p_seat_no) or every seat the guest holds (null), and
-- returns how many; 0 = already checked in. A booking without seat rows (made before seats
-- existed, or a fixture) checks in as a whole.
create or replace function private.check_in_seats(p_booking public.bookings, p_seat_no smallint, p_by uuid) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  if not exists (select 1 from public.booking_seats s where s.booking_id = p_booking.id) then
    return case when p_booking.checked_in_at is null then p_booking.quantity else 0 end;
  end if;
  update public.booking_seats s set checked_in_at = now(), checked_in_by = p_by, updated_at = now()
   where s.booking_id = p_booking.id and s.checked_in_at is null
     and (s.seat_no = p_seat_no or (p_seat_no is null and s.holder_id is null));
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function private.check_in_seats(public.bookings, smallint, uuid) is
  'Checks in one seat, or all seats the booking''s guest holds; returns how many were checked in now.';

-- check_in (bookings): people checked in at the event, counted per seat.
create or replace function private.checked_in_count(p_event_id uuid) returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select (select count(*) from public.booking_seats s where s.event_id = p_event_id and s.checked_in_at is not null)
       + (select coalesce(sum(b.quantity), 0) from public.bookings b
           where b.event_id = p_event_id and b.checked_in_at is not null
             and not exists (select 1 from public.booking_seats s where s.booking_id = b.id))
$$;
comment on function private.checked_in_count(uuid) is 'Seats checked in at the event (bookings without seat rows count whole).';

-- ---------------------------------------------------------------------------------------------
-- Naming attendees
-- ---------------------------------------------------------------------------------------------

-- p_names is a JSON array (what an app sends either way): PostgREST would coerce a text[]
-- parameter from any body before Rally could bound it, so a many-megabyte body would run into
-- the statement timeout instead of getting invalid_argument.
create or replace function private.name_attendees(p_booking_id uuid, p_names jsonb) returns setof public.booking_seats
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_booking public.bookings;
  v_event private.events;
  v_name text;
  v_seat public.booking_seats;
  v_mine uuid;  -- holder_id of the caller's seats: null for the booking's guest
  v_count integer;
begin
  if jsonb_typeof(p_names) is distinct from 'array' then
    perform private.raise_error('22023', 'invalid_argument', 'p_names lists the attendees seat by seat: 1 to 100 names or nulls.');
  end if;
  v_count := jsonb_array_length(p_names);
  if v_count < 1 or v_count > 100
     or exists (select 1 from jsonb_array_elements(p_names) as x(v) where jsonb_typeof(x.v) <> all (array['string', 'null'])) then
    perform private.raise_error('22023', 'invalid_argument', 'p_names lists the attendees seat by seat: 1 to 100 names or nulls.');
  end if;
  select * into v_booking from public.bookings b where b.id = p_booking_id for update;
  if v_booking.id is null or (v_booking.guest_id = v_uid
       or exists (select 1 from public.booking_seats s where s.booking_id = p_booking_id and s.holder_id = v_uid)) is not true then
    perform private.raise_error('22023', 'booking_not_found', 'No such booking.');
  end if;
  if v_booking.status not in ('held', 'pending_approval', 'confirmed') then
    perform private.raise_error('P0001', 'booking_not_active', format('A %s booking cannot be changed.', v_booking.status));
  end if;
  select * into v_event from private.events e where e.id = v_booking.event_id;
  if v_event.ends_at <= now() then
    perform private.raise_error('P0001', 'event_ended', 'This event has ended.');
  end if;
  v_mine := case when v_booking.guest_id = v_uid then null else v_uid end;
  if v_count > v_booking.quantity then
    perform private.raise_error('22023', 'too_many_names', format('This booking has %s seats.', v_booking.quantity));
  end if;
  for i in 1 .. v_count loop
    continue when jsonb_typeof(p_names -> (i - 1)) = 'null';
    v_name := nullif(btrim(p_names ->> (i - 1)), '');
    if char_length(v_name) > 120 then
      perform private.raise_error('22023', 'invalid_attendee_name', 'An attendee name has at most 120 characters.');
    end if;
    select * into v_seat from public.booking_seats s where s.booking_id = p_booking_id and s.seat_no = i for update;
    if v_seat.booking_id is null then
      perform private.raise_error('22023', 'seat_not_found', format('This booking has no seat %s.', i));
    end if;
    if v_seat.holder_id is distinct from v_mine then
      perform private.raise_error('P0001', 'seat_not_yours', format('Seat %s is held by someone else; they name it.', i));
    end if;
    update public.booking_seats s set attendee_name = v_name, updated_at = now()
     where s.booking_id = p_booking_id and s.seat_no = i;
  end loop;
  return query select s.* from public.booking_seats s
                where s.booking_id = p_booking_id
                  and s.holder_id is not distinct from v_mine
                order by s.seat_no;
end
$$;

create or replace function public.name_attendees(p_booking_id uuid, p_names jsonb) returns setof public.booking_seats
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.name_attendees(p_booking_id, p_names);
end
$$;
comment on function public.name_attendees(uuid, jsonb) is
  'Names the people on a booking, seat by seat: p_names is a JSON array whose i-th entry is seat i''s attendee (null leaves a seat as it is, "" clears it), e.g. ["Ana", null, "Ben"]. The guest names the seats they hold; someone holding a transferred seat names that seat. Returns the caller''s seats with their check-in codes. Errors: 22023 booking_not_found / invalid_argument / too_many_names / seat_not_found / invalid_attendee_name; P0001 seat_not_yours, booking_not_active, event_ended.';

-- ---------------------------------------------------------------------------------------------
-- Transfers
-- ---------------------------------------------------------------------------------------------

-- Whether p_to may take a booking or seat of p_booking's event from p_from (one answer for every
-- reason, see the header). Handing a seat back to the booking's own guest is always allowed.
create or replace function private.can_receive_transfer(p_booking public.bookings, p_from uuid, p_to uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_host uuid;
begin
  select e.host_id into v_host from private.events e where e.id = p_booking.event_id;
  if p_to is null or p_to = p_from
     or not exists (select 1 from public.profiles p where p.id = p_to and p.deleted_at is null)
     or private.is_event_staff(p_booking.event_id, p_to)
     or private.is_blocked_between(v_host, p_to) or private.is_blocked_between(p_from, p_to) then
    return false;
  end if;
  if p_to = p_booking.guest_id then
    return true;
  end if;
  return private.can_see_event(p_booking.event_id, p_to)
     and not exists (select 1 from public.bookings b where b.event_id = p_booking.event_id and b.guest_id = p_to
                      and b.status in ('held', 'pending_approval', 'confirmed'))
     and not private.holds_seat(p_booking.event_id, p_to);
end
$$;
comment on function private.can_receive_transfer(public.bookings, uuid, uuid) is
  'A transfer''s recipient: an existing, active account that may see the event, is not going already, is not its staff, and has no block with the host or the sender (or the booking''s own guest, taking a seat back).';

create or replace function private.transfer_booking(p_booking_id uuid, p_to_user_id uuid, p_seat_no integer)
returns public.booking_transfers
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_booking public.bookings;
  v_event private.events;
  v_seat public.booking_seats;
  v_sender public.profiles;
  v_transfer public.booking_transfers;
begin
  if p_booking_id is null or p_to_user_id is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_booking_id and p_to_user_id are required.');
  end if;
  if p_seat_no is not null and (p_seat_no < 1 or p_seat_no > 100) then
    perform private.raise_error('22023', 'seat_not_found', 'Seats are numbered from 1.');
  end if;
  -- The booking's row lock serialises every transfer, cancellation and check-in of it.
  select * into v_booking from public.bookings b where b.id = p_booking_id for update;
  if v_booking.id is null then
    perform private.raise_error('22023', 'booking_not_found', 'No such booking.');
  end if;
  -- Who may give it: the guest the booking or a seat they hold; a holder their seat.
  if p_seat_no is null then
    if (v_booking.guest_id = v_uid) is not true then
      perform private.raise_error('22023', 'booking_not_found', 'No such booking.');
    end if;
  else
    select * into v_seat from public.booking_seats s where s.booking_id = p_booking_id and s.seat_no = p_seat_no for update;
    if v_seat.booking_id is null and (v_booking.guest_id = v_uid) is true then
      perform private.raise_error('22023', 'seat_not_found', format('This booking has no seat %s.', p_seat_no));
    end if;
    if v_seat.booking_id is null or (coalesce(v_seat.holder_id, v_booking.guest_id) = v_uid) is not true then
      perform private.raise_error('22023', 'booking_not_found', 'No such booking.');
    end if;
  end if;
  select * into v_event from private.events e where e.id = v_booking.event_id;
  if v_booking.status <> 'confirmed' then
    perform private.raise_error('P0001', 'booking_not_confirmed', 'Only a confirmed booking can be transferred.');
  end if;
  if v_event.status <> 'published' or v_event.starts_at <= now() then
    perform private.raise_error('P0001', 'event_started', 'Tickets cannot change hands once the event has started.');
  end if;
  if v_event.requires_approval then
    perform private.raise_error('P0001', 'transfer_not_allowed', 'The host approves every guest of this event, so its tickets cannot be transferred.');
  end if;
  if (case when p_seat_no is null then v_booking.checked_in_at is not null else v_seat.checked_in_at is not null end) then
    perform private.raise_error('P0001', 'already_checked_in', 'A checked-in ticket cannot change hands.');
  end if;
  if p_seat_no is null and exists (select 1 from public.booking_transfers t where t.booking_id = p_booking_id and t.status = 'pending'
                                    and t.expires_at > now())
     or p_seat_no is not null and exists (select 1 from public.booking_transfers t where t.booking_id = p_booking_id
                                           and t.status = 'pending' and t.expires_at > now()
                                           and (t.seat_no is null or t.seat_no = p_seat_no)) then
    perform private.raise_error('P0001', 'transfer_pending', 'An offer for this ticket is open: cancel it first (cancel_booking_transfer).');
  end if;
  if (select count(*) from public.booking_transfers t where t.booking_id = p_booking_id and t.created_at > now() - interval '24 hours') >= 20 then
    perform private.raise_error('P0001', 'transfer_limit', 'A booking can be offered at most 20 times a day.');
  end if;
  if private.can_receive_transfer(v_booking, v_uid, p_to_user_id) is not true
     or (p_seat_no is null and p_to_user_id = v_booking.guest_id) then
    perform private.raise_error('P0001', 'recipient_not_eligible',
      'This person cannot receive this ticket: they may not be able to see the event, or are already going.');
  end if;
  -- Lapsed offers are closed now, so the one-pending-offer index only ever holds live ones.
  update public.booking_transfers t set status = 'cancelled', responded_at = now()
   where t.booking_id = p_booking_id and t.status = 'pending' and t.expires_at <= now();
  insert into public.booking_transfers (booking_id, event_id, seat_no, from_user_id, to_user_id, expires_at)
  values (p_booking_id, v_booking.event_id, p_seat_no, v_uid, p_to_user_id, least(now() + interval '7 days', v_event.starts_at))
  returning * into v_transfer;
  select * into v_sender from public.profiles p where p.id = v_uid;
  -- An offer-and-withdraw loop tells the recipient once a day (the offers are in booking_transfers).
  if exists (select 1 from public.booking_transfers t where t.booking_id = p_booking_id and t.to_user_id = p_to_user_id
              and t.id <> v_transfer.id and t.created_at > now() - interval '24 hours') then
    return v_transfer;
  end if;
  perform private.notify(p_to_user_id, 'ticket_transfer_offered',
    format('%s wants to give you %s for %s', coalesce(v_sender.display_name, v_sender.username),
           case when p_seat_no is not null or v_booking.quantity = 1 then 'a ticket' else format('%s tickets', v_booking.quantity) end,
           v_event.title),
    'Accept it in the app before the event starts.',
    jsonb_build_object('event_id', v_event.id, 'transfer_id', v_transfer.id, 'expires_at', v_transfer.expires_at));
  return v_transfer;
end
$$;

create or replace function public.transfer_booking(p_booking_id uuid, p_to_user_id uuid, p_seat_no integer default null)
returns public.booking_transfers
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.transfer_booking(p_booking_id, p_to_user_id, p_seat_no);
end
$$;
comment on function public.transfer_booking(uuid, uuid, integer) is
  'Offers a confirmed booking (p_seat_no null: by its guest) or one seat of it (by whoever holds the seat) to another user, who is notified (ticket_transfer_offered) and accepts with accept_booking_transfer within 7 days or until the event starts. Nothing moves until they accept. Errors: 22023 booking_not_found / seat_not_found / invalid_argument; P0001 booking_not_confirmed, event_started, transfer_not_allowed (the event requires approval), already_checked_in, transfer_pending, transfer_limit (20 offers per booking per day; the recipient is told once a day), recipient_not_eligible.';

create or replace function private.accept_booking_transfer(p_transfer_id uuid) returns public.booking_transfers
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_transfer public.booking_transfers;
  v_booking public.bookings;
  v_event private.events;
  v_seat public.booking_seats;
  v_holder public.profiles;
begin
  select * into v_transfer from public.booking_transfers t where t.id = p_transfer_id;
  if v_transfer.id is null or v_transfer.to_user_id is distinct from v_uid then
    perform private.raise_error('22023', 'transfer_not_found', 'No such transfer offer.');
  end if;
  -- The booking first, then the offer: the order transfer_booking and cancel_booking lock in.
  select * into v_booking from public.bookings b where b.id = v_transfer.booking_id for update;
  select * into v_transfer from public.booking_transfers t where t.id = p_transfer_id for update;
  if v_transfer.status <> 'pending' then
    perform private.raise_error('P0001', 'transfer_not_pending', format('This offer was %s.', v_transfer.status));
  end if;
  if v_transfer.expires_at <= now() then
    perform private.raise_error('P0001', 'transfer_expired', 'This offer has expired.');
  end if;
  select * into v_event from private.events e where e.id = v_booking.event_id;
  if v_booking.status <> 'confirmed' or v_event.status <> 'published' or v_event.starts_at <= now() then
    perform private.raise_error('P0001', 'transfer_void', 'This ticket can no longer change hands (the booking or the event changed).');
  end if;
  if v_transfer.seat_no is not null then
    select * into v_seat from public.booking_seats s where s.booking_id = v_booking.id and s.seat_no = v_transfer.seat_no for update;
  end if;
  -- The sender must still hold what they offered, unchecked-in.
  if (case when v_transfer.seat_no is null then v_booking.guest_id = v_transfer.from_user_id and v_booking.checked_in_at is null
           else coalesce(v_seat.holder_id, v_booking.guest_id) = v_transfer.from_user_id and v_seat.checked_in_at is null end)
     is not true then
    perform private.raise_error('P0001', 'transfer_void', 'This ticket can no longer change hands (the booking or the event changed).');
  end if;
  if private.can_receive_transfer(v_booking, v_transfer.from_user_id, v_uid) is not true then
    perform private.raise_error('P0001', 'recipient_not_eligible',
      'You cannot take this ticket: you are going already, or can no longer see the event.');
  end if;

  if v_transfer.seat_no is null then
    -- The whole booking: a new guest, new codes for every seat the guest held, names cleared.
    begin
      update public.bookings b
         set guest_id = v_uid, check_in_code = encode(extensions.gen_random_bytes(16), 'hex'), updated_at = now()
       where b.id = v_booking.id;
    exception when unique_violation then
      -- They booked the event themselves a moment ago.
      perform private.raise_error('P0001', 'recipient_not_eligible',
        'You cannot take this ticket: you are going already, or can no longer see the event.');
    end;
    update public.booking_seats s
       set check_in_code = encode(extensions.gen_random_bytes(16), 'hex'), attendee_name = null, updated_at = now()
     where s.booking_id = v_booking.id and s.holder_id is null;
  else
    select * into v_holder from public.profiles p where p.id = v_uid;
    update public.booking_seats s
       set holder_id = case when v_uid = v_booking.guest_id then null else v_uid end,
           check_in_code = encode(extensions.gen_random_bytes(16), 'hex'),
           attendee_name = left(coalesce(v_holder.display_name, v_holder.username), 120), updated_at = now()
     where s.booking_id = v_booking.id and s.seat_no = v_transfer.seat_no;
  end if;
  -- Going now: a place in the waitlist queue is done.
  update public.waitlist_entries w set status = 'cancelled', updated_at = now()
   where w.event_id = v_booking.event_id and w.guest_id = v_uid and w.status = 'waiting';
  update public.booking_transfers t set status = 'accepted', responded_at = now()
   where t.id = p_transfer_id returning * into v_transfer;
  select * into v_holder from public.profiles p where p.id = v_uid;
  perform private.notify(v_transfer.from_user_id, 'ticket_transfer_accepted',
    format('%s accepted your ticket for %s', coalesce(v_holder.display_name, v_holder.username), v_event.title), null,
    jsonb_build_object('event_id', v_event.id, 'transfer_id', v_transfer.id, 'booking_id', v_booking.id));
  return v_transfer;
end
$$;

create or replace function public.accept_booking_transfer(p_transfer_id uuid) returns public.booking_transfers
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.accept_booking_transfer(p_transfer_id);
end
$$;
comment on function public.accept_booking_transfer(uuid) is
  'The recipient takes the offered booking or seat: new check-in codes are drawn (the old ones stop working), they join the event chat and see the exact address. A whole booking becomes theirs (cancellable under the event''s refund policy; any refund goes back to the card that paid, and the payer keeps the receipt); a seat is held by them inside the payer''s booking. Errors: 22023 transfer_not_found; P0001 transfer_not_pending, transfer_expired, transfer_void (the booking was cancelled, checked in or the event started), recipient_not_eligible.';

create or replace function private.decline_booking_transfer(p_transfer_id uuid) returns public.booking_transfers
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_transfer public.booking_transfers;
  v_recipient public.profiles;
  v_title text;
begin
  select * into v_transfer from public.booking_transfers t where t.id = p_transfer_id for update;
  if v_transfer.id is null or v_transfer.to_user_id is distinct from v_uid then
    perform private.raise_error('22023', 'transfer_not_found', 'No such transfer offer.');
  end if;
  if v_transfer.status <> 'pending' then
    perform private.raise_error('P0001', 'transfer_not_pending', format('This offer was %s.', v_transfer.status));
  end if;
  update public.booking_transfers t set status = 'declined', responded_at = now()
   where t.id = p_transfer_id returning * into v_transfer;
  select * into v_recipient from public.profiles p where p.id = v_uid;
  select e.title into v_title from private.events e where e.id = v_transfer.event_id;
  perform private.notify(v_transfer.from_user_id, 'ticket_transfer_declined',
    format('%s declined your ticket for %s', coalesce(v_recipient.display_name, v_recipient.username), v_title), null,
    jsonb_build_object('event_id', v_transfer.event_id, 'transfer_id', v_transfer.id, 'booking_id', v_transfer.booking_id));
  return v_transfer;
end
$$;

create or replace function public.decline_booking_transfer(p_transfer_id uuid) returns public.booking_transfers
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.decline_booking_transfer(p_transfer_id);
end
$$;
comment on function public.decline_booking_transfer(uuid) is
  'The recipient turns an offer down; the sender is told and keeps the ticket. Errors: 22023 transfer_not_found; P0001 transfer_not_pending.';

create or replace function private.cancel_booking_transfer(p_transfer_id uuid) returns public.booking_transfers
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_transfer public.booking_transfers;
begin
  select * into v_transfer from public.booking_transfers t where t.id = p_transfer_id for update;
  if v_transfer.id is null or v_transfer.from_user_id is distinct from v_uid then
    perform private.raise_error('22023', 'transfer_not_found', 'No such transfer offer.');
  end if;
  if v_transfer.status <> 'pending' then
    perform private.raise_error('P0001', 'transfer_not_pending', format('This offer was %s.', v_transfer.status));
  end if;
  update public.booking_transfers t set status = 'cancelled', responded_at = now()
   where t.id = p_transfer_id returning * into v_transfer;
  return v_transfer;
end
$$;

create or replace function public.cancel_booking_transfer(p_transfer_id uuid) returns public.booking_transfers
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.cancel_booking_transfer(p_transfer_id);
end
$$;
comment on function public.cancel_booking_transfer(uuid) is
  'The sender withdraws an offer that was not answered yet. Errors: 22023 transfer_not_found; P0001 transfer_not_pending.';

-- ---------------------------------------------------------------------------------------------
-- Row level security
-- ---------------------------------------------------------------------------------------------

-- Seats the caller may see: the guest's own (not those others hold: their codes are theirs),
-- a holder's, and every seat for the event's staff.
create or replace function private.caller_can_see_seat(p_booking_id uuid, p_event_id uuid, p_holder_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select (select auth.uid()) is not null and (
           p_holder_id = (select auth.uid())
        or (p_holder_id is null and exists (select 1 from public.bookings b where b.id = p_booking_id and b.guest_id = (select auth.uid())))
        or private.is_event_staff(p_event_id, (select auth.uid())))
$$;
comment on function private.caller_can_see_seat(uuid, uuid, uuid) is
  'RLS: the signed-in caller holds the seat (as the booking''s guest or a transfer''s recipient) or runs the event.';

alter table public.booking_seats enable row level security;
create policy "holders see their seats and staff see their event's" on public.booking_seats
  for select to authenticated
  using (private.caller_can_see_seat(booking_id, event_id, holder_id));
grant select on public.booking_seats to authenticated;
grant select, insert, update, delete on public.booking_seats to service_role;

alter table public.booking_transfers enable row level security;
create policy "senders, recipients and staff see transfers" on public.booking_transfers
  for select to authenticated
  using (from_user_id = (select auth.uid()) or to_user_id = (select auth.uid())
         or private.is_event_staff(event_id, (select auth.uid())));
grant select on public.booking_transfers to authenticated;
grant select, insert, update, delete on public.booking_transfers to service_role;

grant execute on function private.caller_can_see_seat(uuid, uuid, uuid) to authenticated;
grant execute on function private.name_attendees(uuid, jsonb), private.transfer_booking(uuid, uuid, integer),
  private.accept_booking_transfer(uuid), private.decline_booking_transfer(uuid), private.cancel_booking_transfer(uuid)
  to authenticated;
revoke execute on function public.name_attendees(uuid, jsonb), public.transfer_booking(uuid, uuid, integer),
  public.accept_booking_transfer(uuid), public.decline_booking_transfer(uuid), public.cancel_booking_transfer(uuid)
  from public, anon, authenticated, service_role;
grant execute on function public.name_attendees(uuid, jsonb), public.transfer_booking(uuid, uuid, integer),
  public.accept_booking_transfer(uuid), public.decline_booking_transfer(uuid), public.cancel_booking_transfer(uuid)
  to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.accept_booking_transfer(uuid),
  private.bookings_create_seats(),
  private.caller_can_see_seat(uuid,uuid,uuid),
  private.can_receive_transfer(public.bookings,uuid,uuid),
  private.cancel_booking_transfer(uuid),
  private.check_in_seats(public.bookings,smallint,uuid),
  private.checked_in_count(uuid),
  private.decline_booking_transfer(uuid),
  private.has_transferred_seats(uuid),
  private.holds_seat(uuid,uuid),
  private.name_attendees(uuid,jsonb),
  private.notify_seat_holders(uuid,text,text,jsonb),
  private.seat_for_code(text),
  private.transfer_booking(uuid,uuid,integer)
  from public;
