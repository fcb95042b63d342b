-- Moderation: blocking and unblocking people, and reporting content into the operators' queue
-- with a snapshot that survives the content being edited or deleted.
begin;
select plan(31);

select tests.create_fixtures();
create function pg_temp.reports() returns setof private.content_reports language sql security definer as $$
  select * from private.content_reports order by created_at, id
$$;

select tests.create_supabase_user('noa', 'noa@example.test', '{"username":"noa_n","display_name":"Noa"}');
select tests.create_supabase_user('otto', 'otto@example.test', '{"username":"otto_o","display_name":"Otto"}');
select tests.create_supabase_user('pam', 'pam@example.test', '{"username":"pam_p","display_name":"Pam"}');
select tests.create_supabase_user('quentin', 'quentin@example.test', '{"username":"quentin_q","display_name":"Quentin"}');
select tests.create_supabase_user('host_hope', 'hope@example.test', '{"username":"hope_hosts","display_name":"Hope"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('host_hope');

-- Blocking
select tests.authenticate_as('noa');
insert into public.follows (follower_id, followee_id) values (tests.get_supabase_uid('noa'), tests.get_supabase_uid('otto'));
insert into fx select 'dm', id from public.start_direct_conversation(tests.get_supabase_uid('otto'));
select results_eq($$select blocker_id, blocked_id from public.block_user(tests.get_supabase_uid('otto'))$$,
                  $$values (tests.get_supabase_uid('noa'), tests.get_supabase_uid('otto'))$$, 'Noa blocks Otto');
select results_eq($$select blocker_id from public.block_user(tests.get_supabase_uid('otto'))$$,
                  $$values (tests.get_supabase_uid('noa'))$$, 'blocking again changes nothing');
select is((select count(*)::int from public.blocks where blocker_id = tests.get_supabase_uid('noa')), 1, 'there is one block');
select is((select count(*)::int from public.follows where follower_id = tests.get_supabase_uid('noa')), 0, 'and Noa no longer follows Otto');
select tests.as_superuser();
select results_eq($$select payload ->> 'conversation_id' from realtime.messages
                    where topic = 'user:' || tests.get_supabase_uid('noa')::text and event = 'conversation_removed'$$,
                  $$values (tests.fx('dm')::text)$$, 'Noa''s other devices drop her conversation with Otto from the list');
select is((select count(*)::int from realtime.messages where topic = 'user:' || tests.get_supabase_uid('otto')::text
            and event = 'conversation_removed'), 0, 'Otto is not told');
select tests.authenticate_as('noa');
select tests.raises_hint($$select public.block_user(tests.get_supabase_uid('noa'))$$, 'cannot_block_self', 'nobody blocks themselves');
select tests.raises_hint($$select public.block_user(gen_random_uuid())$$, 'user_not_found', 'an unknown user cannot be blocked');
select tests.raises_hint($$select public.block_user(null)$$, 'user_not_found', 'nor can nobody');
select tests.clear_authentication();
select throws_ok($$select public.block_user(tests.get_supabase_uid('otto'))$$, '42501', 'You need to sign in to do this.',
                 'anonymous visitors cannot block');
select throws_ok($$select public.report_content('user', tests.get_supabase_uid('otto'), 'Spam')$$, '42501', 'You need to sign in to do this.',
                 'or report');
select tests.authenticate_as('noa');
select is((select public.unblock_user(tests.get_supabase_uid('otto'))), true, 'Noa unblocks Otto');
select is((select public.unblock_user(tests.get_supabase_uid('otto'))), false, 'unblocking again changes nothing');
select tests.raises_hint($$select public.unblock_user(tests.get_supabase_uid('noa'))$$, 'cannot_block_self', 'nor can anyone unblock themselves');

-- Reporting
select tests.authenticate_as('otto');
insert into fx select 'rude', id from public.send_message(tests.fx('dm'), 'text', 'You are an idiot');
select tests.authenticate_as('noa');
insert into fx select 'report', public.report_content('message', tests.fx('rude'), '  Insulting me  ');
select results_eq($$select kind, target_id, target_owner_id, reason, status, snapshot ->> 'body' from pg_temp.reports()$$,
                  $$values ('message'::text, tests.fx('rude'), tests.get_supabase_uid('otto'), 'Insulting me'::text, 'open'::text, 'You are an idiot'::text)$$,
                  'Noa reports Otto''s message: the queue has her reason and the message as it was');
select is(public.report_content('message', tests.fx('rude'), 'Again'), tests.fx('report'),
          'reporting it again while the report is open returns the same report');
select tests.authenticate_as('otto');
select public.delete_message(tests.fx('rude'));
select tests.as_superuser();
select results_eq($$select snapshot ->> 'body' from pg_temp.reports()$$, $$values ('You are an idiot'::text)$$,
                  'the evidence survives Otto deleting the message');

select tests.authenticate_as('pam');
select tests.raises_hint($$select public.report_content('message', tests.fx('rude'), 'Nosy')$$, 'content_not_found',
          'someone outside the conversation cannot report its messages');
select tests.raises_hint($$select public.report_content('tweet', gen_random_uuid(), 'Spam')$$, 'invalid_report_kind',
          'only known kinds of content can be reported');
select tests.raises_hint($$select public.report_content('user', tests.get_supabase_uid('otto'), '   ')$$, 'invalid_reason',
          'a report needs a reason');
select tests.raises_hint($$select public.report_content('user', tests.get_supabase_uid('otto'), repeat('x', 1001))$$, 'invalid_reason',
          'of at most 1,000 characters');
select tests.raises_hint($$select public.report_content('user', tests.get_supabase_uid('pam'), 'Me')$$, 'cannot_report_self',
          'nobody reports themselves');
select tests.authenticate_as('host_hope');
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Hidden draft', now() + interval '3 days', now() + interval '3 days 1 hour', 'UTC') returning id)
insert into fx select 'draft', id from e;
select tests.authenticate_as('pam');
select tests.raises_hint($$select public.report_content('event', tests.fx('draft'), 'Scam')$$, 'content_not_found',
          'an event Pam cannot see cannot be reported by her');
select is((select count(*)::int from pg_temp.reports()), 1, 'refused reports write nothing');
select ok(public.report_content('user', tests.get_supabase_uid('otto'), 'Harasses people') is not null, 'Pam reports Otto the user');

-- The operators' queue
select tests.authenticate_as('quentin');
select public.report_content('user', tests.get_supabase_uid('otto'), 'Fake profile');
select tests.as_superuser();
set local role postgres;
select results_eq($$select kind, reports_on_target::int, reporter_username from admin.moderation_queue where target_id = tests.get_supabase_uid('otto') order by reporter_username$$,
                  $$values ('user'::text, 2, 'pam_p'::text), ('user'::text, 2, 'quentin_q'::text)$$,
                  'operators see both reports on Otto, counted together');
select is((select reports_on_target::int from admin.moderation_queue limit 1), 2, 'the most-reported target comes first');
select is(admin.resolve_content_report((select id from admin.moderation_queue where reporter_username = 'pam_p'), 'actioned', 'Warned'), 2,
          'resolving one report closes every open report on the same target');
select is((select count(*)::int from admin.moderation_queue), 1, 'leaving only the message report');
reset role;
select tests.authenticate_as('noa');
select throws_ok($$select * from admin.moderation_queue$$, '42501', null, 'users cannot read the moderation queue');

-- At most 20 reports an hour
select tests.create_supabase_user('spammer_' || n) from generate_series(1, 20) n;
select tests.authenticate_as('quentin');
select public.report_content('user', p.id, 'Spam wave') from public.profiles p
 where p.id not in (tests.get_supabase_uid('quentin'), tests.get_supabase_uid('otto'), tests.get_supabase_uid('noa')) order by p.id limit 19;
select tests.raises_hint($$select public.report_content('user', tests.get_supabase_uid('noa'), 'One more')$$, 'rate_limited',
          'the 21st report within an hour is refused');

select * from finish();
rollback;
