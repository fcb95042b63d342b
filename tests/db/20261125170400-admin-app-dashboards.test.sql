-- The admin app reads Studio's dashboards through two RPCs: only admins, only views of the
-- admin schema, never anything a crafted name could reach.
begin;
select plan(13);

select tests.create_supabase_user('ada', 'ada@example.test', '{"username":"ada_admin"}', '{"role":"admin"}');
select tests.create_supabase_user('otto', 'otto@example.test', '{"username":"otto_o"}');
select tests.create_supabase_user('rex', 'rex@example.test', '{"username":"rex_r"}');
select tests.authenticate_as('rex');
select public.report_content('user', tests.get_supabase_uid('otto'), 'Spam');

select tests.authenticate_as('ada');
select ok((select count(*) from public.admin_dashboards() where name in ('moderation_queue', 'ledger_health', 'payment_dead_letters', 'audit_log')) = 4,
          'an admin lists the dashboards');
select ok(not exists (select 1 from public.admin_dashboards() where description is null), 'each with what it shows');
select results_eq($$select jsonb_array_length(public.admin_dashboard('moderation_queue')), (public.admin_dashboard('moderation_queue') -> 0 ->> 'reporter_username')$$,
                  $$values (1, 'rex_r'::text)$$, 'the admin app reads the moderation queue: Rex''s report');
select is(public.admin_dashboard('ledger_health'), '[]'::jsonb, 'a healthy ledger is an empty array');
select is(jsonb_array_length(public.admin_dashboard('audit_log', 1)), 1, 'p_limit bounds the rows');
select is(tests.error_of($$select public.admin_dashboard('audit_log', 0)$$), '22023 invalid_limit', 'at least one row');
select is(tests.error_of($$select public.admin_dashboard('audit_log', 1001)$$), '22023 invalid_limit', 'at most a thousand');
select is(tests.error_of($$select public.admin_dashboard('users')$$), '22023 dashboard_not_found', 'only admin views can be named');
select is(tests.error_of($$select public.admin_dashboard('audit_log; drop table private.audit_log')$$), '22023 dashboard_not_found',
          'and a crafted name is just an unknown dashboard');
select is(tests.error_of($$select public.admin_dashboard('../private.ledger_entries')$$), '22023 dashboard_not_found',
          'even one pointing at another schema');

select tests.authenticate_as('otto');
select is(tests.error_of($$select public.admin_dashboard('moderation_queue')$$), '42501 admin_only',
          'Otto cannot read the reports about him');
select is(tests.error_of($$select * from public.admin_dashboards()$$), '42501 admin_only', 'or even list the dashboards');
select tests.clear_authentication();
select is(tests.error_of($$select public.admin_dashboard('daily_revenue')$$), '42501 not_authenticated', 'anonymous visitors are told to sign in');

select * from finish();
rollback;
