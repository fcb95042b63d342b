-- Invite-only events and invitations: a private event is seen by invitees, booked guests and
-- staff only; invitations by name and by link (uses counted, expiry, revocation); invitees are
-- told, RSVP by booking (skipping approval) or declining; blocks are respected everywhere.
begin;
select plan(51);

select tests.create_supabase_user('hal', 'hal@example.test', '{"username":"hal_host"}');
select tests.create_supabase_user('mia', 'mia@example.test', '{"username":"mia_manager"}');
select tests.create_supabase_user('ana', 'ana@example.test', '{"username":"ana_invitee"}');
select tests.create_supabase_user('ben', 'ben@example.test', '{"username":"ben_linked"}');
select tests.create_supabase_user('cal', 'cal@example.test', '{"username":"cal_linked"}');
select tests.create_supabase_user('gus', 'gus@example.test', '{"username":"gus_late"}');
select tests.create_supabase_user('fay', 'fay@example.test', '{"username":"fay_follower"}');
select tests.create_supabase_user('zed', 'zed@example.test', '{"username":"zed_blocked"}');
update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = tests.get_supabase_uid('hal');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('hal'), tests.get_supabase_uid('zed'));
insert into public.follows (follower_id, followee_id) values (tests.get_supabase_uid('fay'), tests.get_supabase_uid('hal'));

create temp table fx (name text primary key, id uuid, token text);
grant all on fx to public;
create function pg_temp.token(p_name text) returns text language sql as $$ select token from fx where name = p_name $$;

select tests.authenticate_as('hal');
with e as (insert into public.events (title, starts_at, ends_at, timezone, visibility, requires_approval, address)
           values ('Rooftop supper', now() + interval '10 days', now() + interval '10 days 3 hours', 'Europe/London', 'private', true, '1 Secret Lane')
           returning id)
insert into fx (name, id) select 'private', id from e;
with t as (insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'Seat', 0, 'GBP', 10 from fx where name = 'private' returning id)
insert into fx (name, id) select 'seat', id from t;
with e as (insert into public.events (title, starts_at, ends_at, timezone, visibility)
           values ('Draft party', now() + interval '12 days', now() + interval '12 days 3 hours', 'Europe/London', 'private') returning id)
insert into fx (name, id) select 'draft', id from e;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'Seat', 0, 'GBP', 10 from fx where name = 'draft';
select public.publish_event(tests.fx('private'));
insert into public.event_cohosts (event_id, user_id, role) values (tests.fx('private'), tests.get_supabase_uid('mia'), 'manager');

-- Nobody else sees a private event
select tests.clear_authentication();
select is((select count(*)::int from public.events where id = tests.fx('private')), 0, 'anonymous visitors do not see a private event');
select tests.authenticate_as('fay');
select is((select count(*)::int from public.events where id = tests.fx('private')), 0, 'nor do the host''s followers');
select is((select count(*)::int from public.search_events(p_query => 'Rooftop')), 0, 'and search never lists it');
select tests.raises_hint($$select public.book_event(tests.fx('private'), tests.fx('seat'), 1)$$, 'event_not_found',
          'someone not invited cannot book it');
select tests.raises_hint($$select public.invite_to_event(tests.fx('private'), array[tests.get_supabase_uid('fay')])$$, 'event_not_found',
          'nor invite anyone to it');
select ok(not tests.can_receive_on('event:' || tests.fx('private')), 'nor listen to its live seat counts');

-- Invitations by name
select tests.authenticate_as('hal');
create temp table first_round as
select * from public.invite_to_event(tests.fx('private'),
  array[tests.get_supabase_uid('ana'), tests.get_supabase_uid('zed'), tests.get_supabase_uid('mia'), gen_random_uuid(), tests.get_supabase_uid('ana')]);
select results_eq(
  $$select status, count(*)::int, bool_or(user_id = tests.get_supabase_uid('ana')) from first_round group by status order by status$$,
  $$values ('invited'::text, 1, true), ('not_invitable', 3, false)$$,
  'the host invites a guest once (duplicates fold); a blocked person, a co-host and an unknown id all get one answer, not_invitable');
select is((select count(*)::int from public.event_invitations where event_id = tests.fx('private')), 1, 'only the invitation to ana is written');
select tests.authenticate_as('ana');
select results_eq($$select type, data ->> 'event_id' from public.notifications where type = 'event_invitation'$$,
                  $$values ('event_invitation'::text, tests.fx('private')::text)$$, 'the invitee is told');
select is((select title from public.events where id = tests.fx('private')), 'Rooftop supper', 'and sees the private event');
select is((select address from public.events where id = tests.fx('private')), null, 'but not its exact address until she is going');
select ok(tests.can_receive_on('event:' || tests.fx('private')), 'she may listen to its live seat counts');
select is((select status from public.event_invitations where event_id = tests.fx('private')), 'pending', 'her invitation is pending');
select tests.authenticate_as('mia');
select results_eq($$select status from public.invite_to_event(tests.fx('private'), array[tests.get_supabase_uid('ana')])$$,
                  $$values ('already_invited'::text)$$, 'a managing co-host may invite too; inviting again changes nothing');
select tests.as_superuser();
select is((select count(*)::int from public.notifications where user_id = tests.get_supabase_uid('ana') and type = 'event_invitation'), 1,
          'and nobody is told twice');
select tests.authenticate_as('zed');
select is((select count(*)::int from public.events where id = tests.fx('private')), 0, 'the person the host blocked still sees nothing');

-- RSVP: an invitee skips approval
select tests.authenticate_as('ana');
select results_eq($$select status from public.book_event(tests.fx('private'), tests.fx('seat'), 1, 'ana-rsvp')$$,
                  $$values ('confirmed'::text)$$, 'an invitee''s booking of an approval-only event is confirmed at once');
select is((select status from public.event_invitations where event_id = tests.fx('private') and user_id = tests.get_supabase_uid('ana')),
          'accepted', 'and her invitation reads accepted');
select is((select address from public.events where id = tests.fx('private')), '1 Secret Lane', 'now she sees the address');
select tests.raises_hint($$select public.decline_invitation(tests.fx('private'))$$, 'already_booked',
          'declining while booked is refused (cancel the booking instead)');

-- Invite links
select tests.authenticate_as('ben');
select tests.raises_hint($$select public.create_invite_link(tests.fx('private'), 2)$$, 'event_not_found', 'a stranger cannot make an invite link');
select tests.authenticate_as('hal');
insert into fx select 'link', l.id, l.token from public.create_invite_link(tests.fx('private'), 2) l;
select matches(pg_temp.token('link'), '^[A-Za-z0-9_-]{24}$', 'an invite link carries a 24-character URL-safe token (144 random bits)');
select tests.raises_hint($$select public.create_invite_link(tests.fx('private'), 0)$$, 'invalid_max_uses', 'a link needs at least one use');
select tests.raises_hint($$select public.create_invite_link(tests.fx('private'), null, now() - interval '1 minute')$$, 'invalid_expiry',
          'a link cannot expire in the past');
select tests.raises_hint($$select public.create_invite_link(tests.fx('draft'))$$, 'event_not_open', 'a draft takes no invitations yet');
select tests.authenticate_as('ben');
select is((select count(*)::int from public.event_invite_links), 0, 'guests cannot read invite links (the token is a secret)');
select results_eq($$select event_id, status, invite_link_id from public.redeem_invite_link(pg_temp.token('link'))$$,
                  $$values (tests.fx('private'), 'pending'::text, tests.fx('link'))$$, 'following the link makes him an invitee');
select is((select title from public.events where id = tests.fx('private')), 'Rooftop supper', 'and he sees the event');
select results_eq($$select status from public.redeem_invite_link(pg_temp.token('link'))$$, $$values ('pending'::text)$$,
                  'following it again returns the same invitation');
select tests.authenticate_as('ana');
select results_eq($$select status from public.redeem_invite_link(pg_temp.token('link'))$$, $$values ('accepted'::text)$$,
                  'someone already invited uses nothing up');
select tests.authenticate_as('cal');
select public.redeem_invite_link(pg_temp.token('link'));
select tests.authenticate_as('gus');
select tests.raises_hint($$select public.redeem_invite_link(pg_temp.token('link'))$$, 'invite_link_used_up', 'a link with 2 uses admits exactly 2 people');
select tests.as_superuser();
select is((select uses from public.event_invite_links where id = tests.fx('link')), 2, 'its use count is exactly 2');
select is((select count(*)::int from public.event_invitations where user_id = tests.get_supabase_uid('gus')), 0, 'and the third visitor got no invitation');
select tests.authenticate_as('zed');
select tests.raises_hint($$select public.redeem_invite_link(pg_temp.token('link'))$$, 'invite_link_not_found',
          'the person the host blocked learns no more than from a wrong token');
select tests.raises_hint($$select public.redeem_invite_link('not-a-token')$$, 'invite_link_not_found', 'a malformed token is refused');
select tests.authenticate_as('hal');
insert into fx select 'spare', l.id, l.token from public.create_invite_link(tests.fx('private')) l;
select is((select revoked_at is not null from public.revoke_invite_link(tests.fx('spare'))), true, 'the host switches a link off');
select tests.authenticate_as('gus');
select tests.raises_hint($$select public.redeem_invite_link(pg_temp.token('spare'))$$, 'invite_link_revoked', 'a switched-off link admits nobody');
select tests.authenticate_as('hal');
insert into fx select 'soon', l.id, l.token from public.create_invite_link(tests.fx('private'), null, now() + interval '1 hour') l;
select tests.as_superuser();
update public.event_invite_links set expires_at = now() - interval '1 second' where id = tests.fx('soon');
select tests.authenticate_as('gus');
select tests.raises_hint($$select public.redeem_invite_link(pg_temp.token('soon'))$$, 'invite_link_expired', 'an expired link admits nobody');

-- Declining, revoking, blocking
select tests.authenticate_as('ben');
select is((select status from public.decline_invitation(tests.fx('private'))), 'declined', 'an invitee declines');
select is((select count(*)::int from public.events where id = tests.fx('private')), 1, 'and may still look at the event (and change his mind)');
select tests.authenticate_as('hal');
select results_eq($$select status from public.invite_to_event(tests.fx('private'), array[tests.get_supabase_uid('ben')])$$,
                  $$values ('already_invited'::text)$$, 'someone who declined is not invited (or notified) again');
select is((select status from public.revoke_invitation(tests.fx('private'), tests.get_supabase_uid('cal'))), 'revoked', 'the host withdraws an invitation');
select tests.authenticate_as('cal');
select is((select count(*)::int from public.events where id = tests.fx('private')), 0, 'the private event is hidden from him again');
select tests.authenticate_as('hal');
insert into fx select 'again', l.id, l.token from public.create_invite_link(tests.fx('private')) l;
select tests.authenticate_as('cal');
select tests.raises_hint($$select public.redeem_invite_link(pg_temp.token('again'))$$, 'invitation_revoked', 'and no link lets him back in');
select tests.authenticate_as('hal');
select results_eq($$select status from public.invite_to_event(tests.fx('private'), array[tests.get_supabase_uid('cal'), tests.get_supabase_uid('fay')]) order by user_id$$,
                  $$select status from (values (tests.get_supabase_uid('cal'), 'invited'::text), (tests.get_supabase_uid('fay'), 'invited')) v(u, status) order by u$$,
                  'only the host inviting him by name renews it');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('hal'), tests.get_supabase_uid('fay'));
select tests.authenticate_as('fay');
select is((select count(*)::int from public.events where id = tests.fx('private')), 0, 'a block after the invitation hides the event again');

-- Bad input, limits and who may ask
select tests.authenticate_as('ben');
select tests.raises_hint($$select public.revoke_invitation(tests.fx('private'), tests.get_supabase_uid('ana'))$$, 'not_event_staff',
          'a guest cannot revoke anyone''s invitation');
select tests.authenticate_as('hal');
select tests.raises_hint($$select public.invite_to_event(tests.fx('private'), array(select gen_random_uuid() from generate_series(1, 101)))$$,
          'too_many_invitees', 'at most 100 people per call');
select tests.raises_hint($$select public.invite_to_event(tests.fx('private'), '{}')$$, 'invalid_argument', 'an empty list is bad input');
select tests.raises_hint($$select public.promote_event(tests.fx('private'))$$, 'event_private', 'a private event is never announced to followers');
select tests.clear_authentication();
select tests.raises_hint($$select public.redeem_invite_link(pg_temp.token('again'))$$, 'not_authenticated', 'anonymous visitors must sign in to follow a link');

select * from finish();
rollback;
