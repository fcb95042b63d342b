-- Ticket types and their seat inventory.
--
-- Inventory design (why it never oversells, and why a hot event does not serialise on one row):
-- each ticket type's capacity is split across up to 8 slot rows in private.ticket_inventory,
-- each with its own `capacity` and `taken` and the constraint 0 ≤ taken ≤ capacity. A booking
-- takes seats from one slot that has room, chosen from a random starting point with
-- `for update skip locked`, so concurrent bookers spread over the slots instead of queueing
-- behind a single counter. When every slot with room is merely busy, it waits on ONE of them
-- alone (holding no other slot) and re-checks. Only when no single slot can fit the party (the
-- last seats, or a party larger than any slot's remainder) does a booking lock every slot of
-- that ticket type in slot order and take seats from several; bookings never wait for one slot
-- while holding another outside that ordered path, so they cannot deadlock. Every change to `taken` happens under that slot's row
-- lock and the check constraint holds per slot, so Σ taken ≤ Σ capacity = capacity under any
-- concurrency; no lock is ever taken on the event itself. Seats left = Σ (capacity − taken).

create table public.ticket_types (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id) on delete cascade,
  name text not null,
  description text,
  price_cents bigint not null default 0,
  currency text not null references public.currencies (code),
  capacity integer not null,
  sales_start timestamptz,
  sales_end timestamptz,
  max_per_booking integer not null default 10,
  position integer not null default 0,
  hidden boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint ticket_types_name_length check (char_length(name) between 1 and 80),
  constraint ticket_types_description_length check (description is null or char_length(description) <= 1000),
  constraint ticket_types_price check (price_cents between 0 and 100000000),
  constraint ticket_types_capacity check (capacity between 1 and 1000000),
  constraint ticket_types_max_per_booking check (max_per_booking between 1 and 100)
);
revoke all on public.ticket_types from public, anon, authenticated, service_role;
comment on table public.ticket_types is
  'Ticket types of an event: price in minor units of `currency`, capacity, optional sales window (inside the event) and a per-booking limit. Managed by the host and managing co-hosts.';
comment on column public.ticket_types.price_cents is 'Price per ticket in minor units of currency (cents; yen for JPY). 0 = free.';
comment on column public.ticket_types.sales_end is 'When sales close; defaults to the event''s end. Must not be after the event ends.';
comment on column public.ticket_types.hidden is
  'A hidden tier: listed only to the event''s staff and to guests who booked it, and bookable only with a promo code scoped to it (preview_promo_code shows it to whoever has the code; 20261125110420_promo_codes).';
create index ticket_types_event_idx on public.ticket_types (event_id, position);
create index ticket_types_currency_idx on public.ticket_types (currency);

create table private.ticket_inventory (
  ticket_type_id uuid not null references public.ticket_types (id) on delete cascade,
  slot smallint not null,
  capacity integer not null,
  taken integer not null default 0,
  primary key (ticket_type_id, slot),
  constraint ticket_inventory_bounds check (taken >= 0 and taken <= capacity)
);
comment on table private.ticket_inventory is
  'Seat inventory of a ticket type split into slots (see the migration header for why this cannot oversell).';

create or replace function private.validate_ticket_type() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_event private.events;
begin
  select * into v_event from private.events where id = new.event_id;
  if v_event.id is null then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if v_event.status in ('cancelled', 'completed') then
    perform private.raise_error('P0001', 'event_closed', 'Tickets of a cancelled or completed event cannot change.');
  end if;
  if new.name is null or char_length(btrim(new.name)) = 0 or char_length(new.name) > 80 then
    perform private.raise_error('22023', 'invalid_ticket_name', 'A ticket type name has 1 to 80 characters.');
  end if;
  new.currency := upper(new.currency);
  if new.currency is null or not exists (select 1 from public.currencies c where c.code = new.currency) then
    perform private.raise_error('22023', 'invalid_currency', format('"%s" is not an ISO 4217 currency Rally accepts.', new.currency));
  end if;
  if exists (select 1 from public.ticket_types t where t.event_id = new.event_id and t.id <> new.id and t.currency <> new.currency) then
    perform private.raise_error('22023', 'currency_mismatch', 'All ticket types of an event use one currency.');
  end if;
  if new.price_cents is null or new.price_cents < 0 or new.price_cents > 100000000 then
    perform private.raise_error('22023', 'invalid_price', 'A price is 0 (free) or a positive amount in minor units.');
  end if;
  if new.capacity is null or new.capacity < 1 or new.capacity > 1000000 then
    perform private.raise_error('22023', 'invalid_capacity', 'Capacity is at least 1.');
  end if;
  if new.max_per_booking is null or new.max_per_booking < 1 or new.max_per_booking > 100 then
    perform private.raise_error('22023', 'invalid_max_per_booking', 'The per-booking limit is between 1 and 100.');
  end if;
  -- A limit above the capacity means "no limit beyond the capacity"; store what applies.
  new.max_per_booking := least(new.max_per_booking, new.capacity);
  if new.sales_end is not null and new.sales_end > v_event.ends_at then
    perform private.raise_error('22023', 'sales_window_outside_event', 'Ticket sales must close by the time the event ends.');
  end if;
  if new.sales_start is not null and new.sales_start >= coalesce(new.sales_end, v_event.ends_at) then
    perform private.raise_error('22023', 'sales_window_outside_event', 'Ticket sales must open before they close and before the event ends.');
  end if;
  if tg_op = 'INSERT' and exists (select 1 from public.ticket_types t where t.id = new.id) then
    perform private.raise_error('22023', 'ticket_type_exists', 'A ticket type with this id already exists.');
  end if;
  if tg_op = 'UPDATE' and new.event_id <> old.event_id then
    perform private.raise_error('22023', 'not_editable', 'A ticket type cannot move to another event.');
  end if;
  new.updated_at := now();
  return new;
end
$$;
create trigger ticket_types_validate before insert or update on public.ticket_types
  for each row execute function private.validate_ticket_type();

-- A ticket type guests booked stays: bookings, payments and the ledger point at it. (The row is
-- locked before this runs, so a booking committing meanwhile is seen.)
create or replace function private.refuse_booked_ticket_type_delete() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.bookings b where b.ticket_type_id = old.id) then
    perform private.raise_error('P0001', 'ticket_type_has_bookings',
      'Guests booked this ticket type, so it stays: end its sales or lower its capacity to the seats taken instead.');
  end if;
  return old;
end
$$;
comment on function private.refuse_booked_ticket_type_delete() is 'Trigger: a ticket type with bookings cannot be deleted (P0001 ticket_type_has_bookings).';
create trigger ticket_types_refuse_booked_delete before delete on public.ticket_types
  for each row execute function private.refuse_booked_ticket_type_delete();

-- Sets a ticket type's total capacity across its slots without ever dropping a slot below
-- what it has taken; refuses a capacity below the seats already taken.
create or replace function private.resize_inventory(p_ticket_type_id uuid, p_capacity integer) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_target_slots integer := least(p_capacity, 8);
  v_slots integer;
  v_taken integer;
  v_free integer;
begin
  perform 1 from private.ticket_inventory where ticket_type_id = p_ticket_type_id order by slot for update;
  select count(*), coalesce(sum(taken), 0) into v_slots, v_taken
    from private.ticket_inventory where ticket_type_id = p_ticket_type_id;
  if p_capacity < v_taken then
    perform private.raise_error('P0001', 'capacity_below_sold',
      format('%s seats are already taken; capacity cannot go below that.', v_taken));
  end if;
  if v_slots < v_target_slots then
    insert into private.ticket_inventory (ticket_type_id, slot, capacity, taken)
    select p_ticket_type_id, s, 0, 0 from generate_series(v_slots, v_target_slots - 1) as s;
    v_slots := v_target_slots;
  end if;
  v_free := p_capacity - v_taken;
  update private.ticket_inventory
     set capacity = taken + v_free / v_slots + case when slot < v_free % v_slots then 1 else 0 end
   where ticket_type_id = p_ticket_type_id;
end
$$;

create or replace function private.ticket_types_sync_inventory() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or new.capacity <> old.capacity then
    perform private.resize_inventory(new.id, new.capacity);
  end if;
  return null;
end
$$;
create trigger ticket_types_sync_inventory after insert or update of capacity on public.ticket_types
  for each row execute function private.ticket_types_sync_inventory();

-- Seats still available for a ticket type. Also a computed field: select=*,seats_left.
-- PL/pgSQL, because book_event and the seat paths call it from PL/pgSQL once per request: a
-- security definer SQL function with its own search_path is never inlined and re-plans its query
-- on each such call (65 µs against 10 µs for the same query kept planned by PL/pgSQL, measured
-- on one dev cluster); per row of a listing the two cost the same within 10 %.
create or replace function private.seats_left(p_ticket_type_id uuid) returns integer
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select coalesce(sum(capacity - taken), 0)::integer from private.ticket_inventory where ticket_type_id = p_ticket_type_id);
end
$$;
grant execute on function private.seats_left(uuid) to anon, authenticated, service_role;

create or replace function public.seats_left(public.ticket_types) returns integer
language sql
stable
set search_path = ''
as $$
  select private.seats_left($1.id)
$$;
comment on function public.seats_left(public.ticket_types) is
  'Seats still available for this ticket type (computed field: ticket_types?select=*,seats_left).';
grant execute on function public.seats_left(public.ticket_types) to anon, authenticated, service_role;

-- Whether p_user_id (null = anonymous) may list a ticket type: with its event, and a hidden tier
-- only for the event's staff and guests who booked it (private.has_booked_ticket_type, a hook the
-- bookings capability defines); others reach a hidden tier through its promo code.
create or replace function private.can_see_ticket_type(p_event_id uuid, p_ticket_type_id uuid, p_hidden boolean, p_user_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if private.can_see_event(p_event_id, p_user_id) is not true then
    return false;
  end if;
  if p_hidden is not true then
    return true;
  end if;
  return p_user_id is not null
     and (private.is_event_staff(p_event_id, p_user_id) or private.has_booked_ticket_type(p_ticket_type_id, p_user_id));
end
$$;
comment on function private.can_see_ticket_type(uuid, uuid, boolean, uuid) is
  'Ticket type visibility: with the event; a hidden tier only for staff and the guests who booked it.';
grant execute on function private.can_see_ticket_type(uuid, uuid, boolean, uuid) to anon, authenticated, service_role;

alter table public.ticket_types enable row level security;
create policy "ticket types are visible with their event, hidden tiers to staff and their guests" on public.ticket_types
  for select to anon, authenticated
  using (private.can_see_ticket_type(event_id, id, hidden, (select auth.uid())));
create policy "hosts and managers add ticket types" on public.ticket_types
  for insert to authenticated
  with check (private.is_event_staff(event_id, (select auth.uid()), array['manager']));
create policy "hosts and managers edit ticket types" on public.ticket_types
  for update to authenticated
  using (private.is_event_staff(event_id, (select auth.uid()), array['manager']))
  with check (private.is_event_staff(event_id, (select auth.uid()), array['manager']));
create policy "hosts and managers remove unsold ticket types" on public.ticket_types
  for delete to authenticated
  using (private.is_event_staff(event_id, (select auth.uid()), array['manager']));

grant select on public.ticket_types to anon, authenticated;
grant insert (id, event_id, name, description, price_cents, currency, capacity, sales_start, sales_end, max_per_booking, position, hidden),
      update (name, description, price_cents, capacity, sales_start, sales_end, max_per_booking, position, hidden),
      delete on public.ticket_types to authenticated;
grant select, insert, update, delete on public.ticket_types to service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.can_see_ticket_type(uuid,uuid,boolean,uuid),
  private.refuse_booked_ticket_type_delete(),
  private.resize_inventory(uuid,integer),
  private.seats_left(uuid),
  private.ticket_types_sync_inventory(),
  private.validate_ticket_type()
  from public;
