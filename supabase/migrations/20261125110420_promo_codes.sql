-- Promo codes and hidden tiers.
--
-- A promo code belongs to one event: a percentage (0–100 %) or a fixed amount off each ticket,
-- optionally only for one ticket type, with an optional maximum of tickets redeemed, a per-guest
-- limit and a validity window. The host and managing co-hosts manage codes in public.promo_codes
-- (like ticket types: direct writes, validated by a trigger); guests never list them. A guest
-- types a code: preview_promo_code shows what it does, and book_event(…, p_promo_code) applies it
-- through the two hooks defined here (book_event lives in 20261125110400_bookings_and_waitlist).
--
-- Money: the discount is per ticket, in the ticket's minor units: a percentage is floored (the
-- guest never gets more off than the code says), a fixed amount is capped at the price (never
-- below zero) and must be in the event's currency. The booking records list_amount_cents,
-- discount_cents and amount_cents; the PaymentIntent, the platform fee, the host's ledger entries
-- and every refund follow amount_cents, so a refund can never return more than was paid. A
-- booking a code makes free is a free booking (confirmed, nothing to pay).
--
-- Redemptions are tickets in live bookings (held, pending approval, confirmed) that used the
-- code: a cancelled, declined or expired booking gives its uses back, and nothing has to be
-- decremented (no counter to lock on the way out). They are never over-redeemed, whatever the
-- concurrency, for the same reason seats are never oversold: book_event writes the booking first,
-- then claim_promo_code locks the code's row (FOR NO KEY UPDATE), counts the live tickets committed so
-- far plus its own, and refuses past max_redemptions, which rolls the whole booking back. Every
-- claim of a code queues on that one row from the claim to commit (the last statements of
-- book_event), the count after the lock sees every claim committed before, and nothing else ever
-- takes the lock: releases (cancel, decline, expiry, cancel_event) only change a booking's
-- status. Codes without a maximum take no lock at all. The lock comes before the seat slots' in
-- every path (book_event, confirm_booking_payment), so it adds no deadlock. Because a guest has
-- at most one live booking per event, the per-guest limit is a cap on that booking's quantity.
--
-- Hidden tiers: public.ticket_types.hidden (20261125110300). A hidden tier is listed only to staff
-- and to the guests who booked it, has no waitlist, is not announced on event:<id>, does not count
-- as the event's cheapest price in search or the feed, and is booked only with a code scoped to it.

create table public.promo_codes (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id) on delete cascade,
  code text not null,
  ticket_type_id uuid references public.ticket_types (id) on delete cascade,
  percent_off integer,
  amount_off_cents bigint,
  currency text references public.currencies (code),
  max_redemptions integer,
  per_guest_limit integer,
  valid_from timestamptz,
  valid_until timestamptz,
  active boolean not null default true,
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint promo_codes_code_format check (code ~ '^[A-Z0-9_-]{3,40}$'),
  constraint promo_codes_one_discount check ((percent_off is null) <> (amount_off_cents is null)),
  constraint promo_codes_percent check (percent_off is null or percent_off between 0 and 100),
  constraint promo_codes_amount check (amount_off_cents is null or (amount_off_cents between 1 and 100000000 and currency is not null)),
  constraint promo_codes_max_redemptions check (max_redemptions is null or max_redemptions between 1 and 1000000),
  constraint promo_codes_per_guest_limit check (per_guest_limit is null or per_guest_limit between 1 and 100),
  constraint promo_codes_window check (valid_from is null or valid_until is null or valid_until > valid_from)
);
revoke all on public.promo_codes from public, anon, authenticated, service_role;
comment on table public.promo_codes is
  'Promo codes of an event: percent_off (0–100, floored per ticket) or amount_off_cents (per ticket, in currency, capped at the price), optionally for one ticket_type_id (the only way to book a hidden tier), with max_redemptions (tickets, never exceeded under any concurrency), per_guest_limit (tickets per guest), a validity window and an active switch. The host and managing co-hosts read and manage them; guests use them through preview_promo_code and book_event(p_promo_code).';
comment on column public.promo_codes.code is 'What guests type: 3–40 of A–Z 0–9 _ -, stored upper-case and matched case-insensitively; unique per event.';
comment on column public.promo_codes.percent_off is 'Percentage off each ticket (0 = an access code that only unlocks its hidden tier). Either this or amount_off_cents.';
comment on column public.promo_codes.amount_off_cents is 'Fixed amount off each ticket in minor units of currency (the event''s), capped at the ticket price.';
comment on column public.promo_codes.max_redemptions is 'Most tickets that may be booked with the code at once in live bookings (held, pending approval, confirmed); null = no limit. Cancelled, declined and expired bookings give their tickets back.';
comment on column public.promo_codes.per_guest_limit is 'Most tickets one guest may book with the code; null = the ticket type''s per-booking limit.';
comment on column public.promo_codes.ticket_type_id is 'Only this ticket type (required to unlock a hidden tier); null = every visible ticket type of the event.';
create unique index promo_codes_event_code_key on public.promo_codes (event_id, code);
create index promo_codes_ticket_type_idx on public.promo_codes (ticket_type_id);
create index promo_codes_currency_idx on public.promo_codes (currency);
create index promo_codes_created_by_idx on public.promo_codes (created_by);

alter table public.bookings add constraint bookings_promo_code_id_fkey foreign key (promo_code_id) references public.promo_codes (id);
-- Counting a code's live tickets reads this index alone (book_event, under the code's lock).
create index bookings_promo_code_idx on public.bookings (promo_code_id, status) include (quantity) where promo_code_id is not null;

-- ---------------------------------------------------------------------------------------------
-- Rules
-- ---------------------------------------------------------------------------------------------

-- The discount on one ticket: never negative, never more than the price; a percentage floored
-- to the currency's minor unit (all amounts are integer minor units already).
create or replace function private.promo_unit_discount(p_price_cents bigint, p_percent_off integer, p_amount_off_cents bigint)
returns bigint
language sql
immutable
set search_path = ''
as $$
  select case
    when p_price_cents is null or p_price_cents <= 0 then 0
    when p_percent_off is not null then (p_price_cents * greatest(least(p_percent_off, 100), 0)) / 100
    else greatest(least(coalesce(p_amount_off_cents, 0), p_price_cents), 0)
  end::bigint
$$;
comment on function private.promo_unit_discount(bigint, integer, bigint) is
  'Discount on one ticket in minor units: floor(price × percent / 100), or the fixed amount capped at the price; 0 for free tickets.';

-- The code's id for an event (case-insensitive), null when there is none.
create or replace function private.promo_code_id(p_event_id uuid, p_code text) returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select c.id from public.promo_codes c where c.event_id = p_event_id and c.code = upper(btrim(p_code))
$$;
comment on function private.promo_code_id(uuid, text) is 'The promo code''s id for the event (matched case-insensitively), or null.';

-- Tickets held by live bookings with the code, other than p_except_booking_id.
create or replace function private.promo_code_uses(p_promo_code_id uuid, p_except_booking_id uuid default null) returns bigint
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(sum(b.quantity), 0)::bigint from public.bookings b
   where b.promo_code_id = p_promo_code_id and b.status in ('held', 'pending_approval', 'confirmed')
     and b.id is distinct from p_except_booking_id
$$;
comment on function private.promo_code_uses(uuid, uuid) is 'Tickets in live bookings (held, pending approval, confirmed) that used the promo code.';

-- The event's code a guest typed, if it can be used now; raises otherwise (preview and booking
-- share this one rule).
create or replace function private.usable_promo_code(p_event_id uuid, p_code text) returns public.promo_codes
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_code public.promo_codes;
begin
  if p_code is not null and char_length(p_code) <= 100 then
    select * into v_code from public.promo_codes c where c.id = private.promo_code_id(p_event_id, p_code) and c.active;
  end if;
  if v_code.id is null then
    perform private.raise_error('22023', 'promo_code_not_found', 'This promo code does not exist for this event.');
  end if;
  if v_code.valid_from > now() then
    perform private.raise_error('P0001', 'promo_code_not_started', format('This promo code works from %s.', v_code.valid_from));
  end if;
  if v_code.valid_until <= now() then
    perform private.raise_error('P0001', 'promo_code_expired', 'This promo code has expired.');
  end if;
  return v_code;
end
$$;
comment on function private.usable_promo_code(uuid, text) is
  'The event''s active promo code matching p_code inside its window; raises 22023 promo_code_not_found, P0001 promo_code_not_started / promo_code_expired.';

-- Checks a code for a booking of p_quantity tickets of p_ticket and prices it; raises otherwise.
-- The maximum is checked here against committed bookings only (a fast refusal); claim_promo_code
-- decides under the lock.
create or replace function private.promo_code_for_booking(
  p_event private.events, p_ticket public.ticket_types, p_quantity integer, p_code text
) returns table (promo_code_id uuid, unit_discount_cents bigint)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_code public.promo_codes := private.usable_promo_code(p_event.id, p_code);
begin
  if p_ticket.hidden and v_code.ticket_type_id is distinct from p_ticket.id then
    perform private.raise_error('22023', 'ticket_type_not_found', 'This ticket type does not belong to the event.');
  end if;
  if v_code.ticket_type_id is not null and v_code.ticket_type_id <> p_ticket.id then
    perform private.raise_error('P0001', 'promo_code_not_applicable', 'This promo code is for another ticket type.');
  end if;
  if v_code.amount_off_cents is not null and v_code.currency is distinct from p_ticket.currency then
    perform private.raise_error('P0001', 'promo_code_not_applicable',
      format('This promo code takes %s off, but the tickets are priced in %s.', v_code.currency, p_ticket.currency));
  end if;
  if p_quantity > v_code.per_guest_limit then
    perform private.raise_error('P0001', 'promo_code_guest_limit',
      format('This promo code is good for at most %s tickets per guest.', v_code.per_guest_limit));
  end if;
  if private.promo_code_uses(v_code.id) + p_quantity > v_code.max_redemptions then
    perform private.raise_error('P0001', 'promo_code_used_up', 'This promo code has been used as many times as the host allowed.');
  end if;
  return query select v_code.id, private.promo_unit_discount(p_ticket.price_cents, v_code.percent_off, v_code.amount_off_cents);
end
$$;
comment on function private.promo_code_for_booking(private.events, public.ticket_types, integer, text) is
  'Hook for book_event: validates a promo code for a booking (exists and active, window, ticket type and currency, per-guest limit, uses left) and returns its id and the discount per ticket. Raises 22023 promo_code_not_found / ticket_type_not_found (a hidden tier the code does not unlock); P0001 promo_code_not_started, promo_code_expired, promo_code_not_applicable, promo_code_guest_limit, promo_code_used_up.';

-- Counts p_quantity more tickets on the code for p_booking_id under the code's row lock; false
-- when that would pass max_redemptions. Called last by book_event (and by a late payment that
-- revives an expired booking), before the seat slots are locked.
create or replace function private.claim_promo_code(p_promo_code_id uuid, p_booking_id uuid, p_quantity integer) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_max integer;
begin
  select c.max_redemptions into v_max from public.promo_codes c where c.id = p_promo_code_id;
  if v_max is null then
    return true;
  end if;
  -- READ COMMITTED: the count below runs after the lock is granted, so it sees every booking
  -- committed by the claims that held the lock before. NO KEY UPDATE, not UPDATE: each booking
  -- that names the code holds a KEY SHARE lock on it (the foreign key), which UPDATE would wait
  -- for, and every claimer would wait for every other.
  select c.max_redemptions into v_max from public.promo_codes c where c.id = p_promo_code_id for no key update;
  return private.promo_code_uses(p_promo_code_id, p_booking_id) + p_quantity <= v_max;
end
$$;
comment on function private.claim_promo_code(uuid, uuid, integer) is
  'Hook for book_event and confirm_booking_payment: under the code''s row lock, true when the booking''s tickets fit in max_redemptions with every live booking committed so far.';

-- ---------------------------------------------------------------------------------------------
-- Managing codes (public.promo_codes, the host and managing co-hosts)
-- ---------------------------------------------------------------------------------------------

create or replace function private.validate_promo_code() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_event private.events;
  v_currency text;
begin
  select * into v_event from private.events e where e.id = new.event_id;
  if v_event.id is null then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if v_event.status in ('cancelled', 'completed') then
    perform private.raise_error('P0001', 'event_closed', 'Promo codes of a cancelled or completed event cannot change.');
  end if;
  new.code := upper(btrim(new.code));
  if tg_op = 'UPDATE' and (new.event_id, new.code) is distinct from (old.event_id, old.code) then
    perform private.raise_error('22023', 'not_editable', 'A promo code''s event and text cannot change; make a new code.');
  end if;
  if new.code is null or new.code !~ '^[A-Z0-9_-]{3,40}$' then
    perform private.raise_error('22023', 'invalid_promo_code', 'A promo code has 3 to 40 letters, digits, _ or -.');
  end if;
  if (new.percent_off is null) = (new.amount_off_cents is null) then
    perform private.raise_error('22023', 'invalid_discount', 'A promo code takes either a percentage (percent_off) or an amount (amount_off_cents) off.');
  end if;
  if new.percent_off < 0 or new.percent_off > 100 then
    perform private.raise_error('22023', 'invalid_discount', 'percent_off is between 0 and 100.');
  end if;
  if new.amount_off_cents < 1 or new.amount_off_cents > 100000000 then
    perform private.raise_error('22023', 'invalid_discount', 'amount_off_cents is a positive amount in minor units.');
  end if;
  select min(t.currency) into v_currency from public.ticket_types t where t.event_id = new.event_id;
  if new.amount_off_cents is null then
    new.currency := null;
  else
    new.currency := upper(coalesce(new.currency, v_currency));
    if new.currency is null or not exists (select 1 from public.currencies c where c.code = new.currency) then
      perform private.raise_error('22023', 'invalid_currency', 'An amount off needs the event''s ISO 4217 currency.');
    end if;
    if new.currency is distinct from coalesce(v_currency, new.currency) then
      perform private.raise_error('22023', 'currency_mismatch', format('The event''s tickets are priced in %s.', v_currency));
    end if;
  end if;
  if new.ticket_type_id is not null
     and not exists (select 1 from public.ticket_types t where t.id = new.ticket_type_id and t.event_id = new.event_id) then
    perform private.raise_error('22023', 'ticket_type_not_found', 'This ticket type does not belong to the event.');
  end if;
  if new.max_redemptions < 1 or new.max_redemptions > 1000000 then
    perform private.raise_error('22023', 'invalid_max_redemptions', 'max_redemptions is between 1 and 1,000,000 tickets, or null for no limit.');
  end if;
  if new.per_guest_limit < 1 or new.per_guest_limit > 100 then
    perform private.raise_error('22023', 'invalid_per_guest_limit', 'per_guest_limit is between 1 and 100 tickets, or null.');
  end if;
  if new.valid_until <= new.valid_from then
    perform private.raise_error('22023', 'invalid_validity_window', 'valid_until must be after valid_from.');
  end if;
  if tg_op = 'INSERT' then
    perform private.lock_key('promo_code:' || new.event_id::text || ':' || new.code);
    if exists (select 1 from public.promo_codes c where c.event_id = new.event_id and c.code = new.code) then
      perform private.raise_error('P0001', 'promo_code_exists', format('This event already has the code %s.', new.code));
    end if;
    new.created_by := coalesce(new.created_by, auth.uid());
  elsif new.max_redemptions < old.max_redemptions and new.max_redemptions < private.promo_code_uses(new.id) then
    perform private.raise_error('P0001', 'max_below_redeemed',
      format('%s tickets were already booked with this code.', private.promo_code_uses(new.id)));
  end if;
  new.updated_at := now();
  return new;
end
$$;
comment on function private.validate_promo_code() is 'Trigger: promo codes are validated (and normalised to upper case) whoever writes them.';
create trigger promo_codes_validate before insert or update on public.promo_codes
  for each row execute function private.validate_promo_code();

-- A code guests booked with stays (their bookings point at it): it is switched off instead.
create or replace function private.refuse_redeemed_promo_code_delete() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.bookings b where b.promo_code_id = old.id) then
    perform private.raise_error('P0001', 'promo_code_redeemed', 'Guests booked with this code, so it stays: set active = false instead.');
  end if;
  return old;
end
$$;
comment on function private.refuse_redeemed_promo_code_delete() is 'Trigger: a promo code used by a booking cannot be deleted (P0001 promo_code_redeemed).';
create trigger promo_codes_refuse_redeemed_delete before delete on public.promo_codes
  for each row execute function private.refuse_redeemed_promo_code_delete();

-- Tickets booked with the code in live bookings. A computed field: promo_codes?select=*,redeemed
create or replace function public.redeemed(public.promo_codes) returns bigint
language sql
stable
set search_path = ''
as $$
  select private.promo_code_uses($1.id)
$$;
comment on function public.redeemed(public.promo_codes) is
  'Tickets booked with this promo code in live bookings (computed field: promo_codes?select=*,redeemed).';

-- ---------------------------------------------------------------------------------------------
-- preview_promo_code: what a code does, for a guest about to book
-- ---------------------------------------------------------------------------------------------

create or replace function private.preview_promo_code(p_event_id uuid, p_code text)
returns table (code text, ticket_type_id uuid, name text, description text, hidden boolean, currency text,
               price_cents bigint, discount_cents bigint, final_price_cents bigint, seats_left integer,
               max_per_booking integer, uses_left bigint, valid_until timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_code public.promo_codes;
begin
  if p_event_id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  v_code := private.usable_promo_code(p_event_id, p_code);
  return query
  select v_code.code, t.id, t.name, t.description, t.hidden, t.currency, t.price_cents,
         private.promo_unit_discount(t.price_cents, v_code.percent_off, v_code.amount_off_cents),
         t.price_cents - private.promo_unit_discount(t.price_cents, v_code.percent_off, v_code.amount_off_cents),
         private.seats_left(t.id), least(t.max_per_booking, coalesce(v_code.per_guest_limit, t.max_per_booking)),
         greatest(v_code.max_redemptions - private.promo_code_uses(v_code.id), 0), v_code.valid_until
    from public.ticket_types t
   where t.event_id = p_event_id
     and (t.id = v_code.ticket_type_id or (v_code.ticket_type_id is null and not t.hidden))
     and (v_code.amount_off_cents is null or t.currency = v_code.currency)
   order by t.position, t.price_cents, t.id;
end
$$;

create or replace function public.preview_promo_code(p_event_id uuid, p_code text)
returns table (code text, ticket_type_id uuid, name text, description text, hidden boolean, currency text,
               price_cents bigint, discount_cents bigint, final_price_cents bigint, seats_left integer,
               max_per_booking integer, uses_left bigint, valid_until timestamptz)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.preview_promo_code(p_event_id, p_code);
end
$$;
comment on function public.preview_promo_code(uuid, text) is
  'What a promo code does for the caller before booking: one row per ticket type it applies to (a hidden tier it unlocks included) with the list price, the discount and the final price per ticket, seats left, the most tickets per booking with the code, the uses left (null = no limit) and its end. Book with book_event(…, p_promo_code). Errors: 22023 event_not_found, promo_code_not_found (unknown or switched off); P0001 promo_code_not_started, promo_code_expired; 42501 not_authenticated.';

-- ---------------------------------------------------------------------------------------------
-- Row level security: the host and managing co-hosts only.
-- ---------------------------------------------------------------------------------------------

alter table public.promo_codes enable row level security;
create policy "the host and managing co-hosts see their event's promo codes" on public.promo_codes
  for select to authenticated
  using (private.is_event_staff(event_id, (select auth.uid()), array['manager']));
create policy "the host and managing co-hosts add promo codes" on public.promo_codes
  for insert to authenticated
  with check (private.is_event_staff(event_id, (select auth.uid()), array['manager']));
create policy "the host and managing co-hosts edit promo codes" on public.promo_codes
  for update to authenticated
  using (private.is_event_staff(event_id, (select auth.uid()), array['manager']))
  with check (private.is_event_staff(event_id, (select auth.uid()), array['manager']));
create policy "the host and managing co-hosts remove unused promo codes" on public.promo_codes
  for delete to authenticated
  using (private.is_event_staff(event_id, (select auth.uid()), array['manager']));
grant select on public.promo_codes to authenticated;
grant insert (event_id, code, ticket_type_id, percent_off, amount_off_cents, currency, max_redemptions, per_guest_limit,
              valid_from, valid_until, active),
      update (ticket_type_id, percent_off, amount_off_cents, currency, max_redemptions, per_guest_limit, valid_from,
              valid_until, active),
      delete on public.promo_codes to authenticated;
grant select, insert, update, delete on public.promo_codes to service_role;

grant execute on function private.preview_promo_code(uuid, text) to authenticated;
grant execute on function private.promo_code_uses(uuid, uuid) to authenticated, service_role;
revoke execute on function public.preview_promo_code(uuid, text), public.redeemed(public.promo_codes)
  from public, anon, authenticated, service_role;
grant execute on function public.preview_promo_code(uuid, text) to anon, authenticated;
grant execute on function public.redeemed(public.promo_codes) to authenticated, service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.claim_promo_code(uuid,uuid,integer),
  private.preview_promo_code(uuid,text),
  private.promo_code_for_booking(private.events,public.ticket_types,integer,text),
  private.promo_code_id(uuid,text),
  private.promo_code_uses(uuid,uuid),
  private.promo_unit_discount(bigint,integer,bigint),
  private.usable_promo_code(uuid,text),
  private.refuse_redeemed_promo_code_delete(),
  private.validate_promo_code()
  from public;
