-- The RLS matrix: for every table and view the Data API exposes, what each kind of caller may
-- select / insert / update / delete. Actors: anon, the row's owner, another user, a host,
-- a co-host, an admin, and the service role. 'rows:1' = allowed, 'rows:0' = RLS hides the
-- row, 'error:42501' = refused by grants or WITH CHECK. Every cell runs against the real
-- schema and is undone afterwards. A new exposed table without a section here fails the gate.
begin;
select plan(776);

select tests.create_supabase_user('owner', 'owner@example.test', '{"username":"owner"}');
select tests.create_supabase_user('other', 'other@example.test', '{"username":"other"}');
select tests.create_supabase_user('host', 'host@example.test', '{"username":"a_host"}');
select tests.create_supabase_user('cohost', 'cohost@example.test', '{"username":"cohost"}');
select tests.create_supabase_user('admin', 'admin@example.test', '{"username":"the_admin"}', '{"role":"admin"}');
select tests.create_supabase_user('stranger', 'stranger@example.test', '{"username":"stranger"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('host');
-- The owner's one notification is the welcome their confirmed sign-up brought.

-- Event fixtures: E published (owner confirmed, cohost manages), D a draft, P1/P2 past events the
-- owner attended (P1 already reviewed). Past rows skip the validation triggers, as history does.
select tests.create_fixtures();
select tests.authenticate_as('host');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Matrix night', now() + interval '5 days', now() + interval '5 days 2 hours', 'UTC') returning id)
insert into fx select 'E', id from e;
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Matrix draft', now() + interval '6 days', now() + interval '6 days 2 hours', 'UTC') returning id)
insert into fx select 'D', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('E'), 'GA', 0, 'EUR', 50) returning id)
insert into fx select 'T', id from t;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('E'), 'Spare', 0, 'EUR', 5) returning id)
insert into fx select 'T2', id from t;
select public.publish_event(tests.fx('E'));
insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('E'), tests.get_supabase_uid('cohost'), 'manager');
select tests.authenticate_as('owner');
insert into fx select 'B', id from public.book_event(tests.fx('E'), tests.fx('T'), 1, 'matrix');
insert into public.follows (follower_id, followee_id) values (tests.get_supabase_uid('owner'), tests.get_supabase_uid('host'));
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('owner'), tests.get_supabase_uid('stranger'));
select tests.as_superuser();
insert into public.waitlist_entries (event_id, ticket_type_id, guest_id, quantity, status)
values (tests.fx('E'), tests.fx('T'), tests.get_supabase_uid('owner'), 1, 'left');
set local session_replication_role = replica;
insert into fx values ('P1', gen_random_uuid()), ('P2', gen_random_uuid()), ('PT', gen_random_uuid()), ('PB1', gen_random_uuid()), ('PB2', gen_random_uuid());
insert into private.events (id, host_id, title, starts_at, ends_at, timezone, status, published_at, completed_at)
select tests.fx(n), tests.get_supabase_uid('host'), 'Past ' || n, now() - interval '3 days', now() - interval '3 days' + interval '2 hours', 'UTC', 'completed', now() - interval '10 days', now() - interval '2 days'
  from unnest(array['P1', 'P2']) as n;
insert into public.ticket_types (id, event_id, name, price_cents, currency, capacity) values (tests.fx('PT'), tests.fx('P1'), 'Old', 0, 'EUR', 10);
insert into public.bookings (id, event_id, ticket_type_id, guest_id, quantity, status, currency, confirmed_at, checked_in_at)
values (tests.fx('PB1'), tests.fx('P1'), tests.fx('PT'), tests.get_supabase_uid('owner'), 1, 'confirmed', 'EUR', now() - interval '5 days', now() - interval '3 days'),
       (tests.fx('PB2'), tests.fx('P2'), tests.fx('PT'), tests.get_supabase_uid('owner'), 1, 'confirmed', 'EUR', now() - interval '5 days', now() - interval '3 days');
insert into public.reviews (event_id, booking_id, author_id, host_id, rating, body)
values (tests.fx('P1'), tests.fx('PB1'), tests.get_supabase_uid('owner'), tests.get_supabase_uid('host'), 5, 'Great');
update public.profiles set rating_count = rating_count + 1, rating_sum = rating_sum + 5 where id = tests.get_supabase_uid('host');
set local session_replication_role = origin;
select tests.create_supabase_user('loner', 'loner@example.test', '{"username":"loner"}');

-- Ticketing fixtures: PV a private event the owner is invited to (the co-host manages it too),
-- with an invite link IL; on E a hidden tier HT and a promo code PC; the owner offers booking B
-- to 'other' (transfer TR, pending).
select tests.authenticate_as('host');
with e as (insert into public.events (title, starts_at, ends_at, timezone, visibility) values ('Matrix private', now() + interval '7 days', now() + interval '7 days 2 hours', 'UTC', 'private') returning id)
insert into fx select 'PV', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('PV'), 'Guest list', 0, 'EUR', 20);
select public.publish_event(tests.fx('PV'));
insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('PV'), tests.get_supabase_uid('cohost'), 'manager');
select public.invite_to_event(tests.fx('PV'), array[tests.get_supabase_uid('owner')]);
insert into fx select 'IL', id from public.create_invite_link(tests.fx('PV'), 10, null);
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity, hidden) values (tests.fx('E'), 'Crew', 0, 'EUR', 5, true) returning id)
insert into fx select 'HT', id from t;
with c as (insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('E'), 'matrix10', 10) returning id)
insert into fx select 'PC', id from c;
select tests.authenticate_as('owner');
insert into fx select 'TR', id from public.transfer_booking(tests.fx('B'), tests.get_supabase_uid('other'));
select tests.as_superuser();

-- The gate: every exposed table and view has a section in this file.
select is_empty($$
  select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p', 'f')
  except
  select unnest(array['profiles', 'notifications', 'currencies', 'follows', 'blocks', 'events', 'ticket_types',
                      'event_cohosts', 'bookings', 'waitlist_entries', 'reviews',
                      'event_invitations', 'event_invite_links', 'promo_codes', 'booking_seats', 'booking_transfers',
                      'notification_preferences', 'notification_settings', 'push_devices',
                      'conversations', 'conversation_members', 'messages', 'message_reactions',
                      'group_invitations', 'wallet_balances', 'payout_schedules', 'event_series'])
$$, 'every table and view in public has an RLS matrix section');
select is_empty($$
  select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
$$, 'every table in public has row level security enabled');
-- The other exposed schema (config.toml [api] schemas) must stay empty: it has no matrix.
select is_empty($$
  select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'graphql_public' and c.relkind in ('r', 'v', 'm', 'p', 'f')
$$, 'graphql_public exposes no tables or views');

-- A cell: (table, actor, action, statement, expected outcome)
create temp table matrix (tbl text, actor text, action text, stmt text, expected text);
grant select on matrix to public;

-- profiles: everyone reads; only the owner edits (editable columns); nobody but the service role inserts or deletes.
-- (The sign-up trigger already made the new user's profile, so the service role's permitted insert
-- stops at the duplicate key, 23505, not at a privilege check.)
insert into matrix
select 'profiles', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.profiles where id = tests.get_supabase_uid('owner')$$,
   array['rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1']),
  ('insert', $$insert into public.profiles (id, username, display_name) values (tests.create_supabase_user('matrix_new_' || floor(random() * 1e9)::text), 'matrix_dup_' || floor(random() * 1e9)::text, 'X')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:23505']),
  ('update', $$update public.profiles set bio = 'changed' where id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('delete', $$delete from public.profiles where id = tests.get_supabase_uid('loner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- notifications: only the recipient reads them and marks them read; the platform writes them.
insert into matrix
select 'notifications', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.notifications where user_id = tests.get_supabase_uid('owner') and type = 'welcome'$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.notifications (user_id, type, title) values (tests.get_supabase_uid('owner'), 'spoof', 'Spoofed')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.notifications set read_at = now() where user_id = tests.get_supabase_uid('owner') and type = 'welcome'$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('delete', $$delete from public.notifications where user_id = tests.get_supabase_uid('owner') and type = 'welcome'$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- currencies: reference data everyone reads; nobody writes through the API.
insert into matrix
select 'currencies', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.currencies where code = 'EUR'$$, array['rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1']),
  ('insert', $$insert into public.currencies values ('ZZZ', 2, 'Fake')$$, array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501']),
  ('update', $$update public.currencies set minor_unit = 0 where code = 'EUR'$$, array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501']),
  ('delete', $$delete from public.currencies where code = 'EUR'$$, array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501'])
) as x(action, stmt, expected);

-- follows: the two people in a follow see it; only the follower creates or removes it.
insert into matrix
select 'follows', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.follows where follower_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:1', 'rows:0', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.follows (follower_id, followee_id) values (tests.get_supabase_uid('owner'), tests.get_supabase_uid('other'))$$,
   array['error:42501', 'rows:1', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.follows set created_at = now() where follower_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.follows where follower_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1'])
) as x(action, stmt, expected);

-- blocks: private to the blocker.
insert into matrix
select 'blocks', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.blocks where blocker_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('owner'), tests.get_supabase_uid('other'))$$,
   array['error:42501', 'rows:1', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.blocks set created_at = now() where blocker_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.blocks where blocker_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1'])
) as x(action, stmt, expected);

-- events (view): everyone sees a published public event; hosts create drafts; the host and
-- managing co-hosts edit; only the host deletes, and only drafts.
insert into matrix
select 'events', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.events where id = tests.fx('E')$$,
   array['rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1']),
  ('insert', $$insert into public.events (host_id, title, starts_at, ends_at, timezone) values (tests.get_supabase_uid('host'), 'New one', now() + interval '9 days', now() + interval '9 days 1 hour', 'UTC')$$,
   array['error:42501', 'error:42501', 'error:42501', 'rows:1', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.events set description = 'edited' where id = tests.fx('E')$$,
   array['error:42501', 'error:42501', 'error:42501', 'rows:1', 'rows:1', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.events where id = tests.fx('D')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:0', 'rows:0', 'rows:1'])
) as x(action, stmt, expected);

-- events (private visibility): only invitees, booked guests and staff see an invite-only event.
insert into matrix
select 'events', a.actor, 'select private', $$select 1 from public.events where id = tests.fx('PV')$$,
       (array['rows:0', 'rows:1', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1'])[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord);

-- ticket_types (hidden tier): listed to the event's staff and to guests who booked it only.
insert into matrix
select 'ticket_types', a.actor, 'select hidden', $$select 1 from public.ticket_types where id = tests.fx('HT')$$,
       (array['rows:0', 'rows:0', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1'])[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord);

-- ticket_types: visible with the event; the host and managing co-hosts manage them.
insert into matrix
select 'ticket_types', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.ticket_types where id = tests.fx('T')$$,
   array['rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1']),
  ('insert', $$insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('E'), 'Extra', 0, 'EUR', 5)$$,
   array['error:42501', 'error:42501', 'error:42501', 'rows:1', 'rows:1', 'error:42501', 'rows:1']),
  ('update', $$update public.ticket_types set name = 'Renamed' where id = tests.fx('T2')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('delete', $$delete from public.ticket_types where id = tests.fx('T2')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1'])
) as x(action, stmt, expected);

-- event_cohosts: visible with the event; the host adds, changes and removes; a co-host may leave.
insert into matrix
select 'event_cohosts', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.event_cohosts where event_id = tests.fx('E')$$,
   array['rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1']),
  ('insert', $$insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('E'), tests.get_supabase_uid('other'), 'checkin')$$,
   array['error:42501', 'error:42501', 'error:42501', 'rows:1', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.event_cohosts set role = 'checkin' where event_id = tests.fx('E') and user_id = tests.get_supabase_uid('cohost')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:0', 'rows:0', 'rows:1']),
  ('delete', $$delete from public.event_cohosts where event_id = tests.fx('E') and user_id = tests.get_supabase_uid('cohost')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1'])
) as x(action, stmt, expected);

-- bookings: the guest and the event's staff read them; all writes go through the booking RPCs.
insert into matrix
select 'bookings', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.bookings where id = tests.fx('B')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.bookings (event_id, ticket_type_id, guest_id, quantity, status, currency) values (tests.fx('E'), tests.fx('T'), tests.get_supabase_uid('other'), 1, 'confirmed', 'EUR')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.bookings set status = 'confirmed' where id = tests.fx('B')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.bookings where id = tests.fx('B')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- waitlist_entries: the guest and the event's staff read them; writes go through the waitlist RPCs.
insert into matrix
select 'waitlist_entries', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.waitlist_entries where guest_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.waitlist_entries (event_id, ticket_type_id, guest_id, quantity) values (tests.fx('E'), tests.fx('T'), tests.get_supabase_uid('other'), 1)$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.waitlist_entries set quantity = 2 where guest_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.waitlist_entries where guest_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- event_invitations: the invitee and the event's staff read them; written only through the invitation RPCs.
insert into matrix
select 'event_invitations', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.event_invitations where event_id = tests.fx('PV') and user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.event_invitations (event_id, user_id) values (tests.fx('PV'), tests.get_supabase_uid('other'))$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.event_invitations set status = 'declined' where event_id = tests.fx('PV')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.event_invitations where event_id = tests.fx('PV')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- event_invite_links: the token is a secret: the host and managing co-hosts only; written through the link RPCs.
insert into matrix
select 'event_invite_links', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.event_invite_links where id = tests.fx('IL')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.event_invite_links (event_id) values (tests.fx('PV'))$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.event_invite_links set max_uses = 5 where id = tests.fx('IL')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.event_invite_links where id = tests.fx('IL')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- promo_codes: the host and managing co-hosts read and manage them; guests only use them (book_event, preview_promo_code).
insert into matrix
select 'promo_codes', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.promo_codes where id = tests.fx('PC')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.promo_codes (event_id, code, percent_off) values (tests.fx('E'), 'MATRIXNEW', 5)$$,
   array['error:42501', 'error:42501', 'error:42501', 'rows:1', 'rows:1', 'error:42501', 'rows:1']),
  ('update', $$update public.promo_codes set active = false where id = tests.fx('PC')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('delete', $$delete from public.promo_codes where id = tests.fx('PC')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1'])
) as x(action, stmt, expected);

-- booking_seats: the guest sees the seats they hold, a transfer's recipient theirs, staff every seat; written by the booking RPCs.
insert into matrix
select 'booking_seats', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.booking_seats where booking_id = tests.fx('B')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.booking_seats (booking_id, seat_no, event_id) values (tests.fx('B'), 2, tests.fx('E'))$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.booking_seats set attendee_name = 'Matrix' where booking_id = tests.fx('B')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.booking_seats where booking_id = tests.fx('B')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- booking_transfers: the sender, the recipient and the event's staff read them; written through the transfer RPCs.
insert into matrix
select 'booking_transfers', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.booking_transfers where id = tests.fx('TR')$$,
   array['error:42501', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.booking_transfers (booking_id, event_id, seat_no, from_user_id, to_user_id, expires_at) values (tests.fx('B'), tests.fx('E'), 1, tests.get_supabase_uid('owner'), tests.get_supabase_uid('loner'), now() + interval '1 day')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.booking_transfers set status = 'cancelled' where id = tests.fx('TR')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.booking_transfers where id = tests.fx('TR')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- reviews: visible with the event; an attendee reviews their own booking; the host replies.
insert into matrix
select 'reviews', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.reviews where booking_id = tests.fx('PB1')$$,
   array['rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1']),
  ('insert', $$insert into public.reviews (booking_id, rating, body) values (tests.fx('PB2'), 4, 'Lovely')$$,
   array['error:42501', 'rows:1', 'error:22023', 'error:22023', 'error:22023', 'error:22023', 'rows:1']),
  ('update', $$update public.reviews set host_reply = 'Thank you!' where booking_id = tests.fx('PB1')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:0', 'rows:0', 'rows:1']),
  ('delete', $$delete from public.reviews where booking_id = tests.fx('PB1')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- notification_preferences: the owner reads their overrides; changes go through set_notification_preference.
select tests.authenticate_as('owner');
select public.set_notification_preference('review_received', 'email', true);
select tests.as_superuser();
insert into matrix
select 'notification_preferences', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.notification_preferences where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.notification_preferences (user_id, type, channel, enabled) values (tests.get_supabase_uid('owner'), 'new_follower', 'email', true)$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.notification_preferences set enabled = false where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.notification_preferences where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- notification_settings: contact points and quiet hours, private to the owner; changed through RPCs.
select tests.authenticate_as('owner');
select public.set_quiet_hours('22:00', '07:00');
select tests.as_superuser();
insert into matrix
select 'notification_settings', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.notification_settings where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.notification_settings (user_id, phone_e164) values (tests.get_supabase_uid('other'), '+447700900123')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.notification_settings set phone_e164 = '+447700900123' where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.notification_settings where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- push_devices: the owner reads their own devices; register_push_device / unregister_push_device write.
select tests.authenticate_as('owner');
select public.register_push_device('matrix-token-owner-0001:APA91bOwner', 'ios');
select tests.as_superuser();
insert into matrix
select 'push_devices', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.push_devices where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.push_devices (user_id, token, platform) values (tests.get_supabase_uid('owner'), 'matrix-token-new-0002:APA91bNew', 'android')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.push_devices set platform = 'android' where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.push_devices where user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- Chat fixtures: E's event chat EC (host and co-host admins, the owner a confirmed guest), the
-- owner's message M in it, and the host's reaction to M.
insert into fx select 'EC', id from public.conversations where event_id = tests.fx('E');
select tests.authenticate_as('owner');
insert into fx select 'M', id from public.send_message(tests.fx('EC'), 'text', 'Hello everyone');
select tests.authenticate_as('host');
insert into public.message_reactions (message_id, emoji) values (tests.fx('M'), '🎉');
select tests.as_superuser();

-- conversations: those who take part read them (platform admins do not read chats); all writes go through the chat RPCs.
insert into matrix
select 'conversations', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.conversations where id = tests.fx('EC')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.conversations (kind, title, created_by) values ('group', 'Sneaky', tests.get_supabase_uid('owner'))$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.conversations set title = 'Renamed' where id = tests.fx('EC')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.conversations where id = tests.fx('EC')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- conversation_members: members see each other (read receipts); membership changes go through the RPCs.
insert into matrix
select 'conversation_members', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.conversation_members where conversation_id = tests.fx('EC') and user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.conversation_members (conversation_id, user_id) values (tests.fx('EC'), tests.get_supabase_uid('other'))$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.conversation_members set muted = true where conversation_id = tests.fx('EC') and user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.conversation_members where conversation_id = tests.fx('EC') and user_id = tests.get_supabase_uid('owner')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- messages: members read them; sending, editing and deleting go through send_message / edit_message / delete_message.
insert into matrix
select 'messages', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.messages where id = tests.fx('M')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.messages (conversation_id, sender_id, body) values (tests.fx('EC'), coalesce(auth.uid(), tests.get_supabase_uid('owner')), 'Direct insert')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.messages set body = 'Rewritten' where id = tests.fx('M')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.messages where id = tests.fx('M')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- message_reactions: members read them, react as themselves and take back their own reactions.
insert into matrix
select 'message_reactions', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.message_reactions where message_id = tests.fx('M')$$,
   array['error:42501', 'rows:1', 'rows:0', 'rows:1', 'rows:1', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.message_reactions (message_id, user_id, emoji) values (tests.fx('M'), coalesce(auth.uid(), tests.get_supabase_uid('owner')), '👍')$$,
   array['error:42501', 'rows:1', 'error:42501', 'rows:1', 'rows:1', 'error:42501', 'rows:1']),
  ('update', $$update public.message_reactions set emoji = '🔥' where message_id = tests.fx('M')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.message_reactions where message_id = tests.fx('M') and user_id = tests.get_supabase_uid('host')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:0', 'rows:0', 'rows:1'])
) as x(action, stmt, expected);

-- wallet_balances (view): a host reads only their own wallet; nobody writes it (the ledger does). It is
-- not an updatable view, so PostgreSQL refuses every write (55000) before it even checks grants.
select private.post_ledger_transaction('matrix:wallet', 'payment',
  private.postings_payment(tests.get_supabase_uid('host'), 'EUR', 1000, 100));
insert into matrix
select 'wallet_balances', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.wallet_balances where currency = 'EUR'$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:0', 'rows:0', 'rows:0']),
  ('insert', $$insert into public.wallet_balances (currency, pending_cents) values ('EUR', 1)$$,
   array['error:55000', 'error:55000', 'error:55000', 'error:55000', 'error:55000', 'error:55000', 'error:55000']),
  ('update', $$update public.wallet_balances set available_cents = 1000000$$,
   array['error:55000', 'error:55000', 'error:55000', 'error:55000', 'error:55000', 'error:55000', 'error:55000']),
  ('delete', $$delete from public.wallet_balances$$,
   array['error:55000', 'error:55000', 'error:55000', 'error:55000', 'error:55000', 'error:55000', 'error:55000'])
) as x(action, stmt, expected);

-- event_series: visible with its occurrences (here a public series S); made by the event-series
-- function, never written through the API. The service role cannot delete a series its events
-- still point at (23503).
select tests.authenticate_as('host');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Matrix series', now() + interval '7 days', now() + interval '7 days 2 hours', 'UTC') returning id)
insert into fx select 'S', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('S'), 'GA', 0, 'EUR', 10);
select public.publish_event(tests.fx('S'));
select count(*) from private.create_event_series(tests.fx('S'), 'FREQ=DAILY;COUNT=2',
  array[(select starts_at_local from private.events where id = tests.fx('S')), (select starts_at_local + interval '1 day' from private.events where id = tests.fx('S'))], false);
select tests.as_superuser();
insert into matrix
select 'event_series', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.event_series where id = tests.fx('S')$$,
   array['rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1', 'rows:1']),
  ('insert', $$insert into public.event_series (id, host_id, rrule, timezone, first_local_start, occurrence_count) values (gen_random_uuid(), tests.get_supabase_uid('host'), 'FREQ=DAILY;COUNT=2', 'UTC', now()::timestamp, 2)$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.event_series set rrule = 'FREQ=DAILY;COUNT=3' where id = tests.fx('S')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.event_series where id = tests.fx('S')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:23503'])
) as x(action, stmt, expected);

-- payout_schedules: a host reads their own schedule; it changes only through set_payout_schedule.
insert into public.payout_schedules (host_id, "interval", weekly_anchor, next_run_at)
values (tests.get_supabase_uid('host'), 'weekly', 'monday', now() + interval '3 days');
insert into matrix
select 'payout_schedules', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.payout_schedules where host_id = tests.get_supabase_uid('host')$$,
   array['error:42501', 'rows:0', 'rows:0', 'rows:1', 'rows:0', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.payout_schedules (host_id, "interval") values (coalesce(auth.uid(), tests.get_supabase_uid('owner')), 'manual')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.payout_schedules set next_run_at = now() where host_id = tests.get_supabase_uid('host')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.payout_schedules where host_id = tests.get_supabase_uid('host')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

-- group_invitations: the other user's group invites the owner (who does not follow them). The
-- invitee and the group's members read it; answers go through accept/decline_group_invitation.
select tests.authenticate_as('other');
insert into fx select 'GI', id from public.create_group_conversation('Matrix group', array[tests.get_supabase_uid('owner')]);
select tests.as_superuser();
insert into matrix
select 'group_invitations', a.actor, x.action, x.stmt, x.expected[a.ord]
from (values ('anon', 1), ('owner', 2), ('other', 3), ('host', 4), ('cohost', 5), ('admin', 6), ('service_role', 7)) as a(actor, ord)
cross join (values
  ('select', $$select 1 from public.group_invitations where conversation_id = tests.fx('GI')$$,
   array['error:42501', 'rows:1', 'rows:1', 'rows:0', 'rows:0', 'rows:0', 'rows:1']),
  ('insert', $$insert into public.group_invitations (conversation_id, user_id, invited_by) values (tests.fx('GI'), tests.get_supabase_uid('host'), tests.get_supabase_uid('other'))$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('update', $$update public.group_invitations set status = 'accepted' where conversation_id = tests.fx('GI')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1']),
  ('delete', $$delete from public.group_invitations where conversation_id = tests.fx('GI')$$,
   array['error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'error:42501', 'rows:1'])
) as x(action, stmt, expected);

select is(tests.rls_outcome(actor, stmt), expected, format('%s: %s may %s → %s', tbl, actor, action, expected))
  from matrix order by tbl, action, actor;

-- Column rules inside an allowed UPDATE
select is(tests.rls_outcome('owner', $$update public.notifications set title = 'edited' where user_id = tests.get_supabase_uid('owner')$$),
          'error:42501', 'notifications: the recipient may set read_at but not rewrite the title');
select is(tests.rls_outcome('owner', $$update public.profiles set is_host = true where id = tests.get_supabase_uid('owner')$$),
          'error:42501', 'profiles: the owner cannot set is_host');
select is(tests.rls_outcome('host', $$update public.profiles set followers_count = 99 where id = tests.get_supabase_uid('host')$$),
          'error:42501', 'profiles: a host cannot set their follower count');

select * from finish();
rollback;
