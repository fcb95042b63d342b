-- Ticket types: validated prices, currencies, capacities and sales windows; the inventory slots
-- always add up to the capacity and never drop below what is sold.
-- Also tells: 20261125110000_currencies
begin;
select plan(18);

select tests.create_supabase_user('tara', 'tara@example.test', '{"username":"tara_host"}');
select tests.create_supabase_user('ugo', 'ugo@example.test', '{"username":"ugo_guest"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('tara');
select tests.authenticate_as('tara');
create temp table ev as
  with ins as (insert into public.events (title, starts_at, ends_at, timezone)
               values ('Tokyo jazz', now() + interval '30 days', now() + interval '30 days 3 hours', 'Asia/Tokyo') returning id)
  select id from ins;
grant select on ev to public;

select tests.raises_hint($$insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'GA', -1, 'JPY', 10 from ev$$,
          'invalid_price', 'a negative price is refused');
select tests.raises_hint($$insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'GA', 100, 'XYZ', 10 from ev$$,
          'invalid_currency', 'a currency that is not ISO 4217 is refused');
select tests.raises_hint($$insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'GA', 100, 'JPY', 0 from ev$$,
          'invalid_capacity', 'a capacity of 0 is refused');
select tests.raises_hint($$insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking) select id, 'GA', 100, 'JPY', 5, 101 from ev$$,
          'invalid_max_per_booking', 'a per-booking limit above 100 is refused');
select tests.raises_hint($$insert into public.ticket_types (event_id, name, price_cents, currency, capacity, sales_end) select id, 'GA', 100, 'JPY', 5, now() + interval '31 days' from ev$$,
          'sales_window_outside_event', 'sales that close after the event ends are refused');
select tests.raises_hint($$insert into public.ticket_types (event_id, name, price_cents, currency, capacity, sales_start, sales_end) select id, 'GA', 100, 'JPY', 5, now() + interval '3 days', now() + interval '2 days' from ev$$,
          'sales_window_outside_event', 'sales that close before they open are refused');
select tests.raises_hint($$insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, '', 100, 'JPY', 5 from ev$$,
          'invalid_ticket_name', 'an empty ticket name is refused');

insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'General', 3000, 'jpy', 100 from ev;
select results_eq($$select price_cents, currency from public.ticket_types where name = 'General'$$, $$values (3000::bigint, 'JPY'::text)$$,
                  'a zero-decimal currency takes whole yen (3000 = ¥3,000) and the code is upper-cased');
select tests.raises_hint($$insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'VIP', 9000, 'USD', 10 from ev$$,
          'currency_mismatch', 'all ticket types of an event share one currency');
select is((select count(*)::int from public.ticket_types t join ev on ev.id = t.event_id), 1, 'none of the refused ticket types was written');
select is((select max_per_booking from public.ticket_types where name = 'General'), 10, 'the default per-booking limit is 10');

-- Inventory slots
select tests.as_superuser();
select results_eq($$select count(*)::int, sum(i.capacity)::int, sum(i.taken)::int from private.ticket_inventory i join public.ticket_types t on t.id = i.ticket_type_id where t.name = 'General'$$,
                  $$values (8, 100, 0)$$, 'capacity 100 is split into 8 slots that add up to 100');
select tests.authenticate_as('tara');
update public.ticket_types set capacity = 150 where name = 'General';
select tests.as_superuser();
select is((select sum(i.capacity)::int from private.ticket_inventory i join public.ticket_types t on t.id = i.ticket_type_id where t.name = 'General'), 150,
          'raising the capacity raises the slots'' total to match');
update private.ticket_inventory i set taken = least(i.capacity, 10) from public.ticket_types t where t.id = i.ticket_type_id and t.name = 'General';
select tests.authenticate_as('tara');
select tests.raises_hint($$update public.ticket_types set capacity = 79 where name = 'General'$$, 'capacity_below_sold',
          'the capacity cannot go below the 80 seats already taken');
update public.ticket_types set capacity = 80 where name = 'General';
select tests.as_superuser();
select results_eq($$select sum(i.capacity)::int, bool_and(i.taken <= i.capacity) from private.ticket_inventory i join public.ticket_types t on t.id = i.ticket_type_id where t.name = 'General'$$,
                  $$values (80, true)$$, 'shrinking to exactly the seats taken keeps every slot within bounds');
select is(private.seats_left((select id from public.ticket_types where name = 'General')), 0, 'and leaves no seat');

select tests.authenticate_as('ugo');
update public.ticket_types set price_cents = 1 where name = 'General';
select tests.as_superuser();
select is((select price_cents from public.ticket_types where name = 'General'), 3000::bigint, 'a guest cannot change a ticket price');
select tests.authenticate_as('ugo');
select throws_ok($$insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'Free for me', 0, 'JPY', 10 from ev$$,
                 '42501', null, 'a guest cannot add ticket types to someone else''s event');

select * from finish();
rollback;
