-- Group invitations: nobody is put into a group by a stranger. People who follow the admin adding
-- them join at once; anyone else gets an invitation they accept or decline (final for that
-- group), listed for them, expiring after 14 days; admins can withdraw it; blocks stop it.
begin;
select plan(36);

select tests.create_fixtures();
create function pg_temp.members(p_conversation uuid) returns text language sql security definer as $$
  select string_agg(p.username, ',' order by p.username)
    from public.conversation_members m join public.profiles p on p.id = m.user_id where m.conversation_id = p_conversation
$$;
grant execute on function pg_temp.members(uuid) to public;

select tests.create_supabase_user('ola', 'ola@example.test', '{"username":"ola_o","display_name":"Ola"}');
select tests.create_supabase_user('fan', 'fan@example.test', '{"username":"fan_f","display_name":"Fan"}');
select tests.create_supabase_user('sol', 'sol@example.test', '{"username":"sol_s","display_name":"Sol"}');
select tests.create_supabase_user('tia', 'tia@example.test', '{"username":"tia_t","display_name":"Tia"}');
select tests.create_supabase_user('uma', 'uma@example.test', '{"username":"uma_u","display_name":"Uma"}');
select tests.create_supabase_user('vic', 'vic@example.test', '{"username":"vic_v","display_name":"Vic"}');

-- Fan follows Ola; Sol, Tia, Uma and Vic do not.
select tests.authenticate_as('fan');
select public.follow_user(tests.get_supabase_uid('ola'));
select tests.authenticate_as('ola');
insert into fx select 'g', id from public.create_group_conversation('Book club', array[tests.get_supabase_uid('fan'), tests.get_supabase_uid('sol'), tests.get_supabase_uid('tia')]);
select is(pg_temp.members(tests.fx('g')), 'fan_f,ola_o', 'a follower joins at once; strangers are not made members');
select results_eq($$select p.username, i.status, i.invited_by from public.group_invitations i join public.profiles p on p.id = i.user_id
                     where i.conversation_id = tests.fx('g') order by p.username$$,
                  $$values ('sol_s'::text, 'pending'::text, tests.get_supabase_uid('ola')), ('tia_t', 'pending', tests.get_supabase_uid('ola'))$$,
                  'the others are invited, and the group''s members see who');
select results_eq($$select body from public.messages where conversation_id = tests.fx('g')$$,
                  $$values ('Ola created the group with Fan'::text)$$, 'the system message names only those who joined');
select tests.as_superuser();
select results_eq($$select type, title, data ->> 'conversation_id' from public.notifications where user_id = tests.get_supabase_uid('sol') and type = 'group_invitation'$$,
                  $$values ('group_invitation'::text, 'Ola invited you to Book club'::text, tests.fx('g')::text)$$,
                  'Sol is told she was invited');
select is((select count(*)::int from realtime.messages where topic = 'user:' || tests.get_supabase_uid('sol') and event = 'conversation_added'), 0,
          'but the group does not appear in her list');

-- What an invitee sees, and what she cannot.
select tests.authenticate_as('sol');
select results_eq($$select title, invited_by_name, member_count from public.my_group_invitations()$$,
                  $$values ('Book club'::text, 'Ola'::text, 2)$$, 'Sol''s open invitations list the group, who invited her and its size');
select is((select count(*)::int from public.conversations where id = tests.fx('g')), 0, 'an invitee cannot read the group');
select is((select count(*)::int from public.messages where conversation_id = tests.fx('g')), 0, 'nor its messages');
select tests.raises_hint($$select public.send_message(tests.fx('g'), 'text', 'Hi?')$$, 'not_a_member', 'nor write in it');
select is((select count(*)::int from public.group_invitations), 1, 'she reads her own invitation only');
insert into fx select 'sol_inv', id from public.my_group_invitations();

-- Someone else's invitation cannot be answered.
select tests.authenticate_as('tia');
select tests.raises_hint($$select public.accept_group_invitation(tests.fx('sol_inv'))$$, 'invitation_not_found',
          'Tia cannot accept Sol''s invitation');
select tests.raises_hint($$select public.decline_group_invitation(tests.fx('sol_inv'))$$, 'invitation_not_found',
          'nor decline it');
select tests.raises_hint($$select public.accept_group_invitation(gen_random_uuid())$$, 'invitation_not_found', 'an unknown id is not found');
select tests.clear_authentication();
select throws_ok($$select public.accept_group_invitation(tests.fx('sol_inv'))$$, '42501', 'You need to sign in to do this.',
                 'anonymous callers answer nothing');
select throws_ok($$select * from public.my_group_invitations()$$, '42501', 'You need to sign in to do this.', 'nor list anything');

-- Accepting.
select tests.authenticate_as('sol');
select results_eq($$select user_id, role, added_by from public.accept_group_invitation(tests.fx('sol_inv'))$$,
                  $$values (tests.get_supabase_uid('sol'), 'member'::text, tests.get_supabase_uid('ola'))$$, 'Sol accepts and is a member');
select is(pg_temp.members(tests.fx('g')), 'fan_f,ola_o,sol_s', 'the group has her now');
select is((select body from public.messages where conversation_id = tests.fx('g') order by seq desc limit 1), 'Sol joined',
          'and is told she joined');
select is((select count(*)::int from public.my_group_invitations()), 0, 'the invitation is no longer open');
select tests.raises_hint($$select public.accept_group_invitation(tests.fx('sol_inv'))$$, 'invitation_not_pending',
          'accepting twice is refused');
select tests.as_superuser();
select is((select count(*)::int from realtime.messages where topic = 'user:' || tests.get_supabase_uid('sol') and event = 'conversation_added'), 1,
          'her other devices add the group to the list');

-- Declining is final for that group.
select tests.authenticate_as('tia');
insert into fx select 'tia_inv', id from public.my_group_invitations();
select results_eq($$select status from public.decline_group_invitation(tests.fx('tia_inv'))$$, $$values ('declined'::text)$$,
                  'Tia declines');
select tests.authenticate_as('ola');
select is((select count(*)::int from public.add_conversation_members(tests.fx('g'), array[tests.get_supabase_uid('tia')])), 0,
          'adding her again adds nobody');
select tests.as_superuser();
select results_eq($$select status, (select count(*)::int from public.notifications n where n.user_id = i.user_id and n.type = 'group_invitation')
                      from public.group_invitations i where i.id = tests.fx('tia_inv')$$,
                  $$values ('declined'::text, 1)$$, 'her no stands and she is not asked again');
select is(pg_temp.members(tests.fx('g')), 'fan_f,ola_o,sol_s', 'she is not a member');

-- An admin withdraws an open invitation.
select tests.authenticate_as('ola');
select is((select count(*)::int from public.add_conversation_members(tests.fx('g'), array[tests.get_supabase_uid('uma')])), 0,
          'inviting Uma adds no member');
select is((select public.remove_conversation_member(tests.fx('g'), tests.get_supabase_uid('uma'))), true, 'Ola withdraws the invitation');
select tests.authenticate_as('uma');
select is((select count(*)::int from public.my_group_invitations()), 0, 'Uma has nothing to answer');
select tests.raises_hint($$select public.accept_group_invitation((select id from public.group_invitations where user_id = tests.get_supabase_uid('uma')))$$,
          'invitation_not_pending', 'and cannot accept the withdrawn one');

-- Expired invitations.
select tests.authenticate_as('ola');
select public.add_conversation_members(tests.fx('g'), array[tests.get_supabase_uid('vic')]);
select tests.as_superuser();
update public.group_invitations set created_at = now() - interval '15 days', expires_at = now() - interval '1 day'
 where user_id = tests.get_supabase_uid('vic');
select tests.authenticate_as('vic');
select is((select count(*)::int from public.my_group_invitations()), 0, 'an invitation older than 14 days is not listed');
select tests.raises_hint($$select public.accept_group_invitation((select id from public.group_invitations where user_id = tests.get_supabase_uid('vic')))$$,
          'invitation_expired', 'nor accepted');

-- Blocks.
select tests.authenticate_as('ola');
select public.add_conversation_members(tests.fx('g'), array[tests.get_supabase_uid('vic')]);
select tests.authenticate_as('vic');
select is((select count(*)::int from public.my_group_invitations()), 1, 'an admin may invite again once one expired');
select public.block_user(tests.get_supabase_uid('ola'));
select is((select count(*)::int from public.my_group_invitations()), 0, 'blocking the inviter hides the invitation');
select tests.raises_hint($$select public.accept_group_invitation((select id from public.group_invitations where user_id = tests.get_supabase_uid('vic')))$$,
          'blocked', 'and it cannot be accepted');
select tests.authenticate_as('ola');
select tests.raises_hint($$select public.create_group_conversation('Again', array[tests.get_supabase_uid('vic')])$$, 'blocked',
          'and Ola cannot invite Vic anywhere');

-- Someone invited who starts following the admin is simply added next time.
select tests.authenticate_as('uma');
select public.follow_user(tests.get_supabase_uid('ola'));
select tests.authenticate_as('ola');
select results_eq($$select user_id from public.add_conversation_members(tests.fx('g'), array[tests.get_supabase_uid('uma')])$$,
                  $$values (tests.get_supabase_uid('uma'))$$, 'once Uma follows Ola she is added directly');

select * from finish();
rollback;
