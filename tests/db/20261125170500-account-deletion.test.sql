-- Account deletion: Gus, a guest who booked and paid, chatted, reviewed, followed and was
-- followed, deletes his account. His personal data is gone from every table; the money records
-- stay (and the ledger still balances) under a "Deleted user" tombstone; the people he talked to
-- keep their conversations. Refusals say what to do and write nothing; a second call, a call for
-- someone else, and anything his old access token tries afterwards are refused.
-- Also tells: 20261125170800_storage_purge
begin;
select plan(89);

create function pg_temp.evt(p_id text, p_type text, p_object jsonb, p_created bigint) returns jsonb language sql as $$
  select jsonb_build_object('id', p_id, 'object', 'event', 'type', p_type, 'created', p_created, 'livemode', false,
                            'api_version', '2026-10-28.endive', 'data', jsonb_build_object('object', p_object))
$$;

-- Every table (outside realtime, whose broadcast rows the platform drops after days) with a row
-- whose text contains p_needle.
create function pg_temp.tables_containing(p_needle text) returns text[] language plpgsql as $$
declare
  r record;
  v_found boolean;
  v_tables text[] := '{}';
begin
  for r in
    select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname in ('public', 'private', 'auth', 'storage')
     order by 1, 2
  loop
    execute format('select exists (select 1 from %I.%I t where t::text ilike $1)', r.nspname, r.relname)
      into v_found using '%' || p_needle || '%';
    if v_found then
      v_tables := v_tables || (r.nspname || '.' || r.relname);
    end if;
  end loop;
  return v_tables;
end $$;

select tests.create_fixtures();

select tests.create_supabase_user('hana', 'hana@example.test', '{"username":"hana_host","display_name":"Hana Host"}');
select tests.create_supabase_user('gus', 'gus.gustafsson@example.test', '{"username":"gus_guest","display_name":"Gus Gustafsson"}');
select tests.create_supabase_user('ivy', 'ivy@example.test', '{"username":"ivy_guest","display_name":"Ivy"}');
select tests.create_supabase_user('moe', 'moe@example.test', '{"username":"moe_m","display_name":"Moe Mostel"}');
select tests.create_supabase_user('zed', 'zed@example.test', '{"username":"zed_z"}');
select tests.create_supabase_user('ops', 'ops@example.test', '{"username":"ops_team"}', '{"role":"admin"}');
insert into fx values ('gus', tests.get_supabase_uid('gus')), ('ivy', tests.get_supabase_uid('ivy')),
                      ('hana', tests.get_supabase_uid('hana')), ('zed', tests.get_supabase_uid('zed'));
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.fx('hana');
insert into private.stripe_accounts (host_id, account_id, details_submitted, charges_enabled, payouts_enabled, transfers_capability)
values (tests.fx('hana'), 'acct_hana', true, true, true, 'active');

-- Hana hosts a paid jazz night (E) and a free picnic next week (F).
select tests.authenticate_as('hana');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Jazz cellar', now() + interval '5 days', now() + interval '5 days 3 hours', 'UTC') returning id)
insert into fx select 'E', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('E'), 'Seat', 3000, 'EUR', 5) returning id)
insert into fx select 'ET', id from t;
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Park picnic', now() + interval '10 days', now() + interval '10 days 3 hours', 'UTC') returning id)
insert into fx select 'F', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('F'), 'Spot', 0, 'EUR', 10) returning id)
insert into fx select 'FT', id from t;
select public.publish_event(tests.fx('E'));
select public.publish_event(tests.fx('F'));

-- Gus pays for the jazz night and books the picnic; Ivy books the picnic too.
select tests.authenticate_as('gus');
insert into fx select 'B', id from public.book_event(tests.fx('E'), tests.fx('ET'), 1, 'gus-jazz');
select * from private.prepare_checkout(tests.fx('B'));
insert into fx select 'BF', id from public.book_event(tests.fx('F'), tests.fx('FT'), 1, 'gus-picnic');
select tests.authenticate_as('ivy');
insert into fx select 'IF', id from public.book_event(tests.fx('F'), tests.fx('FT'), 1, 'ivy-picnic');
select tests.as_superuser();
insert into fx select 'P', id from private.payments where booking_id = tests.fx('B');
select private.record_payment_intent(tests.fx('P'), '{"object":"payment_intent","id":"pi_gus","status":"requires_payment_method","amount":3000,"currency":"eur","created":2000000000}');
select private.ingest_stripe_event(pg_temp.evt('evt_pigus1', 'payment_intent.succeeded',
  '{"object":"payment_intent","id":"pi_gus","status":"succeeded","amount":3000,"amount_received":3000,"currency":"eur","latest_charge":"ch_gus"}', 2000000100), 'platform', false);

-- His social life: follows, a block, preferences, a phone, an avatar, chats, a reaction, a report.
select tests.authenticate_as('gus');
select public.follow_user(tests.fx('hana'));
select public.block_user(tests.get_supabase_uid('moe'));
select public.set_notification_preference('event_published', 'email', false);
insert into storage.objects (bucket_id, name, owner_id, metadata)
values ('avatars', tests.fx('gus') || '/me.png', tests.fx('gus')::text, '{"mimetype":"image/png","size":1000}');
update public.profiles set avatar_path = tests.fx('gus') || '/me.png', bio = 'Jazz and long walks', city = 'Lisbon'
 where id = tests.fx('gus');
insert into fx select 'DM', id from public.start_direct_conversation(tests.fx('ivy'));
select tests.authenticate_as('ivy');
select public.follow_user(tests.fx('gus'));
select tests.authenticate_as('gus');
-- Ivy follows Gus and joins at once; Hana does not, so she is invited and accepts.
insert into fx select 'G', id from public.create_group_conversation('Jazz crew', array[tests.fx('ivy'), tests.fx('hana')]);
select tests.authenticate_as('hana');
select public.accept_group_invitation((select id from public.my_group_invitations()));
select tests.authenticate_as('ivy');
insert into fx select 'IM', id from public.send_message(tests.fx('DM'), 'text', 'Are you coming to the jazz night?');
select tests.authenticate_as('gus');
insert into fx select 'GM', id from public.send_message(tests.fx('DM'), 'text', 'Yes! Call me on +447700900123');
select public.send_message(tests.fx('G'), 'text', 'See you at the cellar');
insert into public.message_reactions (message_id, emoji) values (tests.fx('IM'), '👍');
select public.report_content('message', tests.fx('IM'), 'Testing the report flow');
select tests.as_superuser();
insert into public.notification_settings (user_id, phone_e164) values (tests.fx('gus'), '+447700900123');
insert into public.waitlist_entries (event_id, ticket_type_id, guest_id, quantity, status)
values (tests.fx('E'), tests.fx('ET'), tests.fx('gus'), 1, 'left');
update public.conversation_members set last_read_at = now() - interval '1 hour', notified_at = null
 where user_id = tests.fx('ivy');
select private.notify_unread_messages();
select ok(exists (select 1 from public.notifications where user_id = tests.fx('ivy') and type = 'message_received' and title = 'Gus Gustafsson'),
          'before deleting, Ivy was notified of Gus''s message under his name');

-- The jazz night happens; Gus checks in and reviews it; Hana's share is released.
-- The system completed it when it ended (complete_ended_events), ten days ago.
update private.events set starts_at = now() - interval '10 days', ends_at = now() - interval '10 days' + interval '3 hours',
                          status = 'completed', completed_at = now() - interval '10 days' + interval '3 hours' where id = tests.fx('E');
update public.bookings set checked_in_at = now() - interval '10 days' where id = tests.fx('B');
select tests.authenticate_as('gus');
insert into public.reviews (booking_id, rating, body) values (tests.fx('B'), 5, 'Wonderful night, thanks Hana');
select tests.as_superuser();
-- He had named himself on his seat and been invited to the jazz night: both must go with him
-- (the checks below find neither his name nor his id in those tables).
update public.booking_seats set attendee_name = 'Gus Gustafsson' where booking_id = tests.fx('B');
insert into public.event_invitations (event_id, user_id, invited_by) values (tests.fx('E'), tests.fx('gus'), tests.fx('hana'));
update private.payment_settings set release_hold_hours = 48;
select private.release_host_earnings();
create temp table before_counts as
select (select count(*) from private.ledger_entries) as ledger_entries,
       (select count(*) from private.payments) as payments,
       (select count(*) from public.bookings) as bookings;
grant all on before_counts to public;

-- Refusals write nothing
select tests.authenticate_as('gus');
select tests.raises_hint($$select public.delete_my_account('someone_else')$$, 'confirmation_mismatch',
          'Gus must confirm with his own username');
select tests.raises_hint($$select public.delete_my_account(null)$$, 'confirmation_mismatch',
          'a missing confirmation is refused too');
select tests.raises_hint($$select public.delete_my_account('gus_guest')$$, 'has_upcoming_bookings',
          'Gus cannot delete his account while he is booked for the picnic');
select is((select array_agg(code) from public.my_account_deletion_obstacles()), array['has_upcoming_bookings'],
          'and the obstacles list tells him exactly that');
select matches((select message from public.my_account_deletion_obstacles()), 'Cancel them first',
               'with a sentence saying what to do');
select tests.as_superuser();
select is((select username from public.profiles where id = tests.fx('gus')), 'gus_guest', 'a refused deletion leaves his profile as it was');
select is((select email::text from auth.users where id = tests.fx('gus')), 'gus.gustafsson@example.test', 'and his sign-in');
select is((select count(*) from public.follows where follower_id = tests.fx('gus') or followee_id = tests.fx('gus')), 2::bigint,
          'and his follows');
select tests.authenticate_as('hana');
select tests.raises_hint($$select public.delete_my_account('hana_host')$$, 'has_upcoming_events',
          'a host with upcoming events cannot delete her account');
select tests.authenticate_as('ivy');
select tests.raises_hint(format('select public.admin_delete_account(%L, %L)', tests.fx('gus'), 'gus_guest'), 'admin_only',
          'nobody but an admin can delete someone else''s account');
select tests.clear_authentication();
select tests.raises_hint($$select public.delete_my_account('gus_guest')$$, 'not_authenticated',
          'anonymous callers are refused');
select tests.raises_hint($$select * from public.my_account_deletion_obstacles()$$, 'not_authenticated',
          'and cannot ask for the obstacles either');

-- Supabase Auth's session tables, written as GoTrue writes them: a session each for Gus and Ivy
-- with a refresh token, and an old session-less token of Gus.
select tests.as_superuser();
with s as (insert into auth.sessions (id, user_id, created_at, updated_at, aal, ip, user_agent)
           values (gen_random_uuid(), tests.fx('gus'), now(), now(), 'aal1', '203.0.113.7', 'GusPhone'),
                  (gen_random_uuid(), tests.fx('ivy'), now(), now(), 'aal1', '198.51.100.2', 'IvyPhone')
           returning id, user_id)
insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, session_id)
select '00000000-0000-0000-0000-000000000000', 'rt-' || user_id, user_id::text, false, now(), now(), id from s;
insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', 'rt-legacy-gus', tests.fx('gus')::text, false, now(), now());
-- And a passkey of Gus's, as GoTrue's WebAuthn stores it.
insert into auth.webauthn_credentials (user_id, credential_id, public_key, friendly_name)
values (tests.fx('gus'), '\x0102'::bytea, '\x0304'::bytea, 'Gus''s phone');

-- Gus cancels his picnic booking and deletes his account. His access token (kept here) stays
-- valid until it expires.
create temp table old_token as select tests.access_token_claims('gus') as claims;
grant all on old_token to public;
select tests.authenticate_as('gus');
select public.cancel_booking(tests.fx('BF'));
select is((select count(*) from public.my_account_deletion_obstacles()), 0::bigint, 'with the booking cancelled nothing blocks him');
select is((select public.delete_my_account(' GUS_GUEST ') ->> 'requested_by'), 'self',
          'Gus deletes his own account (the confirmation ignores case and spaces)');

-- His personal data is gone
select tests.as_superuser();
select matches((select username from public.profiles where id = tests.fx('gus')), '^deleted_[0-9a-f]{12}$',
               'his username became a tombstone');
select is((select display_name from public.profiles where id = tests.fx('gus')), 'Deleted user', 'he is shown as Deleted user');
select is((select row(avatar_path, bio, city)::text from public.profiles where id = tests.fx('gus')), '(,,)',
          'his avatar, bio and city are cleared');
select isnt((select deleted_at from public.profiles where id = tests.fx('gus')), null, 'and the profile is marked deleted');
select is(pg_temp.tables_containing('gus.gustafsson@example.test'), '{}'::text[], 'his email is in no table any more');
select is(pg_temp.tables_containing('7700900123'), array['public.messages'],
          'his phone number is left only inside the chat message he sent Ivy, which she keeps');
select is(pg_temp.tables_containing('gus_guest'), '{}'::text[], 'his username is in no table');
select is(pg_temp.tables_containing('Gus Gustafsson'), '{}'::text[], 'nor his name (notifications and system messages included)');
select is(pg_temp.tables_containing('Jazz and long walks'), '{}'::text[], 'nor his bio');
select is(pg_temp.tables_containing(tests.fx('gus')::text),
          array['auth.users', 'private.audit_log', 'private.payments', 'private.storage_purge_queue', 'public.bookings', 'public.conversations',
                'public.messages', 'public.profiles', 'public.reviews', 'storage.objects'],
          'his id is left only where records must point at him: money, bookings, reviews, messages, the tombstones, the audit log of his deletion, and his avatar until the purge worker deletes it');
select is((select row(email, phone, encrypted_password)::text from auth.users where id = tests.fx('gus')), '(,,)',
          'his sign-in email, phone and password are gone');
select is((select raw_user_meta_data from auth.users where id = tests.fx('gus')), '{}'::jsonb, 'and his sign-up metadata');
select ok((select banned_until > now() + interval '99 years' from auth.users where id = tests.fx('gus')),
          'no refresh token can start a session for him again (banned for a hundred years, a timestamp GoTrue can read)');
select isnt((select deleted_at from auth.users where id = tests.fx('gus')), null, 'the auth user is soft-deleted as Supabase Auth does');
select is((select count(*) from auth.identities where user_id = tests.fx('gus')), 0::bigint, 'and his identities are removed');
select is((select count(*) from auth.sessions where user_id = tests.fx('gus'))
        + (select count(*) from auth.refresh_tokens where user_id = tests.fx('gus')::text), 0::bigint,
          'his sessions (with their IP addresses and devices) and refresh tokens are gone');
select is((select count(*) from auth.webauthn_credentials where user_id = tests.fx('gus')), 0::bigint, 'and so are his passkeys');
select is((select count(*) from auth.sessions where user_id = tests.fx('ivy'))
        + (select count(*) from auth.refresh_tokens where user_id = tests.fx('ivy')::text), 2::bigint,
          'Ivy stays signed in');
select is((select count(*) from public.follows where follower_id = tests.fx('gus') or followee_id = tests.fx('gus')), 0::bigint,
          'his follows are gone both ways');
select is((select followers_count from public.profiles where id = tests.fx('hana')), 0, 'Hana''s follower count is exact again');
select is((select following_count from public.profiles where id = tests.fx('ivy')), 0, 'and so is Ivy''s following count');
select is((select count(*) from public.blocks where blocker_id = tests.fx('gus')), 0::bigint, 'his blocks are gone');
select is((select count(*) from public.notifications where user_id = tests.fx('gus')), 0::bigint, 'his notifications are gone');
select is((select count(*) from public.notifications where user_id = tests.fx('hana') and type = 'new_follower'), 0::bigint,
          'Hana''s notification that he followed her is gone');
select is((select count(*) from public.notification_preferences where user_id = tests.fx('gus'))
        + (select count(*) from public.notification_settings where user_id = tests.fx('gus')), 0::bigint,
          'his preferences and contact points are gone');
select is((select count(*) from private.alert_deliveries where user_id = tests.fx('gus') and (status = 'pending' or destination is not null)),
          0::bigint, 'no alert is waiting to go to him, and none keeps his address');
select is((select count(*) from public.waitlist_entries where guest_id = tests.fx('gus')), 0::bigint, 'his waitlist entries are gone');
select is((select count(*) from public.message_reactions where user_id = tests.fx('gus')), 0::bigint, 'his reactions are gone');
select is((select count(*) from public.conversation_members where user_id = tests.fx('gus')), 0::bigint,
          'he is no longer a member of any conversation');
select is((select count(*) from storage.objects where bucket_id = 'avatars' and name like tests.fx('gus') || '/%'), 1::bigint,
          'his avatar stays in Storage until the purge worker deletes it through the Storage API (which deletes only objects it still finds)');
select is((select count(*) from private.storage_purge_queue where name = tests.fx('gus') || '/me.png' and status = 'pending' and purged_at is null), 1::bigint,
          'and it is queued for the purge worker');
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', (select claims::text from old_token), true);
select throws_ok(format($$insert into storage.objects (bucket_id, name, owner_id, metadata)
                         values ('avatars', '%s/new.png', '%s', '{"mimetype":"image/png","size":10}')$$, tests.fx('gus'), tests.fx('gus')),
                 '42501', null, 'his old access token cannot store a new avatar the purge worker would never see');
with u as (update storage.objects set metadata = '{"mimetype":"image/png","size":20}'
            where bucket_id = 'avatars' and name = tests.fx('gus') || '/me.png' returning 1)
select is(count(*), 0::bigint, 'nor replace the one waiting for the purge') from u;
select tests.as_superuser();
select is((select reporter_id from private.content_reports where target_id = tests.fx('IM')), null,
          'the report he filed stays for moderators, without him');

-- Money records stay
select is((select count(*) from public.bookings where guest_id = tests.fx('gus')), 2::bigint, 'both his bookings are kept');
select is((select row(status, amount_cents)::text from private.payments where id = tests.fx('P')), '(succeeded,3000)',
          'his payment is kept with its amount');
select ok((select ledger_entries = (select count(*) from private.ledger_entries)
                  and payments = (select count(*) from private.payments)
                  and bookings = (select count(*) from public.bookings) from before_counts),
          'not one ledger entry, payment or booking was removed');
select is_empty($$select transaction_id from private.ledger_entries group by transaction_id, currency having sum(amount) <> 0$$,
                'the ledger still balances');
select is((select available from private.host_wallet(tests.fx('hana'), 'EUR')), 2700::bigint, 'Hana''s earnings from his ticket are untouched');
select throws_ok(format('delete from auth.users where id = %L', tests.fx('gus')), '23503', null,
                 'even a hard delete of his auth user cannot cascade into his bookings and payments');
select is((select row(author_id, rating)::text from public.reviews where booking_id = tests.fx('B')),
          row(tests.fx('gus'), 5)::text, 'his review stays with the event, under the tombstone');

-- The people he talked to keep their conversations
select tests.authenticate_as('ivy');
select is((select count(*) from public.conversation_messages(tests.fx('DM'))), 2::bigint,
          'Ivy still reads her direct conversation with him');
select is((select p.display_name from public.messages m join public.profiles p on p.id = m.sender_id where m.id = tests.fx('GM')),
          'Deleted user', 'his messages show Deleted user as the sender');
select is((select title from public.my_conversations() where conversation_id = tests.fx('DM')), 'Deleted user',
          'and the conversation is titled Deleted user in her list');
select is((select count(*) from public.conversation_members where conversation_id = tests.fx('G') and role = 'admin'), 1::bigint,
          'the group he ran got a new admin');
select tests.raises_hint(format('select public.follow_user(%L)', tests.fx('gus')), 'user_not_found',
          'nobody can follow the deleted account');
select is((select count(*) from public.profiles where id = tests.fx('gus')), 1::bigint, 'others still see the tombstone profile');
select is((select count(*) from public.bookings where guest_id = tests.fx('gus')), 0::bigint, 'but not his bookings');
select is((select status from public.bookings where id = tests.fx('IF')), 'confirmed', 'Ivy''s own booking is untouched');
select is((select row(username, display_name)::text from public.profiles where id = tests.fx('ivy')), '(ivy_guest,Ivy)',
          'and so is her profile');
select tests.authenticate_as('hana');
select is((select count(*) from public.bookings where guest_id = tests.fx('gus')), 2::bigint,
          'the host still sees his bookings of her events, as before');

-- His old access token can do nothing any more
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', (select claims::text from old_token), true);
select tests.raises_hint($$select public.delete_my_account('gus_guest')$$, 'account_deleted', 'a second call says the account is deleted');
select tests.raises_hint(format('select public.book_event(%L, %L, 1, %L)', tests.fx('F'), tests.fx('FT'), 'again'), 'account_deleted',
          'his old token cannot book');
select tests.raises_hint(format('update public.profiles set display_name = %L where id = %L', 'Gus again', tests.fx('gus')),
          'account_deleted', 'nor bring his profile back');
select is((select count(*) from public.conversations where event_id = tests.fx('E')), 0::bigint,
          'nor read the event chat his past booking used to open');
select tests.as_superuser();
select is(private.notify(tests.fx('gus'), 'welcome', 'Hello'), null, 'notifications to him are not stored');
select is((select count(*) from realtime.messages where topic = 'user:' || tests.fx('gus') and event = 'notification_created'
             and payload ->> 'title' = 'Hello'), 0::bigint, 'nor broadcast');

-- Money keeps flowing after he left: his bank opens an inquiry on his payment.
select is(private.ingest_stripe_event(pg_temp.evt('evt_dugus1', 'charge.dispute.created',
  '{"object":"dispute","id":"du_gus","amount":3000,"currency":"eur","charge":"ch_gus","payment_intent":"pi_gus","status":"warning_needs_response","reason":"general","created":2000000400,"balance_transactions":[]}',
  2000000400), 'platform', false), 'processed', 'a dispute on a deleted guest''s payment is still applied');
select is((select row(is_open, payment_id)::text from private.disputes where id = 'du_gus'), row(true, tests.fx('P'))::text,
          'against the payment that was kept');
select is((select (private.dispute_evidence(tests.fx('P')) -> 'guest') - 'id' - 'username' - 'signed_up_at'),
          '{"email": null, "display_name": "Deleted user"}'::jsonb,
          'and the evidence Rally would answer with carries no personal data of his');

-- Hana cancels her picnic; a dispute is open and her earnings are on their way to her bank.
select tests.authenticate_as('hana');
select public.cancel_event(tests.fx('F'));
select is((select array_agg(code order by code) from public.my_account_deletion_obstacles()),
          array['open_disputes', 'payouts_in_flight', 'wallet_not_settled'],
          'a host with an open dispute and earnings still on their way is told to wait for them');
select tests.raises_hint($$select public.delete_my_account('hana_host')$$, 'open_disputes',
          'and cannot delete her account yet');
select tests.as_superuser();
select is((select username from public.profiles where id = tests.fx('hana')), 'hana_host', 'her refused deletion changed nothing');

-- Moe hosted a free meetup that is over and left a draft with a cover; he deletes his account.
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('moe');
insert into fx values ('moe', tests.get_supabase_uid('moe'));
select tests.authenticate_as('moe');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Board games', now() + interval '2 days', now() + interval '2 days 2 hours', 'UTC') returning id)
insert into fx select 'M', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) values (tests.fx('M'), 'Seat', 0, 'EUR', 8) returning id)
insert into fx select 'MT', id from t;
select tests.authenticate_as('ivy');
select public.follow_user(tests.get_supabase_uid('moe'));
select tests.authenticate_as('moe');
select public.publish_event(tests.fx('M'));
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Secret plans', now() + interval '20 days', now() + interval '20 days 2 hours', 'UTC') returning id)
insert into fx select 'MD', id from e;
select tests.authenticate_as('ivy');
insert into fx select 'IM2', id from public.book_event(tests.fx('M'), tests.fx('MT'), 1, 'ivy-games');
select tests.as_superuser();
select private.process_promotion_queue();
select ok(exists (select 1 from public.notifications where user_id = tests.fx('ivy') and type = 'event_published'
                   and title like 'Moe Mostel posted a new event%'), 'Ivy, who follows Moe, heard about his meetup under his name');
insert into storage.objects (bucket_id, name, owner_id, metadata)
values ('event-covers', tests.fx('MD') || '/cover.png', tests.fx('moe')::text, '{"mimetype":"image/png","size":1000}');
update private.events set starts_at = now() - interval '3 days', ends_at = now() - interval '3 days' + interval '2 hours' where id = tests.fx('M');
select private.complete_ended_events();
select tests.authenticate_as('moe');
select is((select public.delete_my_account('moe_m') -> 'removed' ->> 'draft_events'), '1', 'a host whose events are over deletes his account');
select tests.as_superuser();
select is((select count(*) from private.events where id = tests.fx('MD')), 0::bigint, 'his unpublished draft is gone');
select is(pg_temp.tables_containing('Moe Mostel'), '{}'::text[], 'his name is in no table, Ivy''s announcement included');
select is((select count(*) from storage.objects where bucket_id = 'event-covers' and name like tests.fx('MD') || '/%'), 1::bigint,
          'its cover waits for the purge worker');
select is((select count(*) from private.storage_purge_queue where bucket_id = 'event-covers' and name = tests.fx('MD') || '/cover.png'), 1::bigint,
          'whose bytes are queued for the Storage API');
select tests.authenticate_as('ivy');
select is((select p.display_name from public.events e join public.profiles p on p.id = e.host_id where e.id = tests.fx('M')), 'Deleted user',
          'the meetup Ivy went to is still there, hosted by Deleted user');
select is((select status from public.bookings where id = tests.fx('IM2')), 'confirmed', 'and her booking of it stands');

-- An admin deletes Zed's account on his request
select tests.authenticate_as('ops');
select tests.raises_hint(format('select public.admin_delete_account(%L, %L)', tests.fx('zed'), 'zed'), 'confirmation_mismatch',
          'an admin must name the account being deleted');
select is((select public.admin_delete_account(tests.fx('zed'), 'zed_z') ->> 'requested_by'), 'admin',
          'an admin deletes an account on request');
select tests.raises_hint(format('select public.admin_delete_account(%L, %L)', tests.fx('zed'), (select username from public.profiles where id = tests.fx('zed'))),
          'account_already_deleted', 'and cannot delete it twice');

select * from finish();
rollback;
