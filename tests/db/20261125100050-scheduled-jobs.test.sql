-- Scheduled jobs: every recurring job Rally needs exists in pg_cron after the migrations, exactly
-- as registered, and an operator sees at a glance in admin.scheduled_jobs when one is missing,
-- failing or overdue.
-- Also tells: 20261125120800_payment_schedules
begin;
select plan(19);

create temp table expected_jobs (name text primary key, edge_function text);
insert into expected_jobs values
  ('rally-chat-notify-unread', null), ('rally-chat-reminders', null), ('rally-complete-ended-events', null),
  ('rally-dispatch-alerts', 'dispatch-alerts'), ('rally-expire-stale-bookings', null),
  ('rally-payments-worker', 'payments-worker'), ('rally-process-promotion-queue', null),
  ('rally-purge-alert-history', null), ('rally-purge-cron-history', null), ('rally-purge-rate-limits', null),
  ('rally-reconcile-payments', null), ('rally-release-host-earnings', null), ('rally-scheduled-payouts', null),
  ('rally-send-event-reminders', null), ('rally-storage-purge', 'storage-purge');

select set_eq($$select name from private.scheduled_jobs$$, $$select name from expected_jobs$$,
              'the registry lists every job Rally needs, and nothing else');
select set_eq($$select jobname from cron.job where jobname like 'rally-%'$$, $$select name from expected_jobs$$,
              'pg_cron has every one of them scheduled after the migrations');
select is((select count(*)::int from private.scheduled_jobs r join cron.job j on j.jobname = r.name
            where j.schedule = r.schedule and j.command = r.command),
          (select count(*)::int from expected_jobs),
          'each has the schedule and command the registry records');
-- The test cluster pauses every job (tests run them by hand); here they run as on a project.
select count(cron.alter_job(j.jobid, active := true)) from cron.job j where j.jobname like 'rally-%';
select is((select count(*)::int from admin.scheduled_jobs where scheduled and active), (select count(*)::int from expected_jobs),
          'admin.scheduled_jobs shows every one scheduled and active');

-- Seconds schedules are feature-detected, not skipped.
select is(private.cron_seconds_schedule(10),
          case when (select (regexp_match(extversion, '^(\d+)\.(\d+)'))::int[] >= array[1, 5] from pg_extension where extname = 'pg_cron')
               then '10 seconds' else '* * * * *' end,
          'a 10-second job gets the seconds syntax on pg_cron 1.5+, and every minute before');
select is((select expected_every from private.scheduled_jobs where name = 'rally-dispatch-alerts'),
          case when private.cron_seconds_schedule(10) = '10 seconds' then interval '10 seconds' else interval '1 minute' end,
          'and the registry expects it as often as it was really scheduled');

-- Edge functions are called through pg_net with the secrets read from Vault at run time.
select is((select count(*)::int from expected_jobs e join private.scheduled_jobs r using (name)
            where e.edge_function is not null
              and r.command like '%net.http_post(%'
              and r.command like '%/functions/v1/' || e.edge_function || '''%'
              and r.command like '%vault.decrypted_secrets where name = ''project_url''%'
              and r.command like '%vault.decrypted_secrets where name = ''service_role_key''%'),
          3, 'the three worker jobs POST to their edge function with the Vault secrets');
select is((select count(*)::int from private.scheduled_jobs where command ~* '(eyJ[a-z0-9_-]{10,}|https?://[a-z0-9])'),
          0, 'no job command carries a key or a hard-coded URL');

-- A healthy job has run recently and did not fail. (pg_cron's run ids come from cron.runid_seq,
-- which postgres may not use on the platform; these rows take ids of their own.)
insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
select j.jobid, 900000000 + row_number() over (), 1, 'postgres', 'postgres', j.command, 'succeeded', '1 row', now() - interval '20 seconds', now() - interval '19 seconds'
  from cron.job j where j.jobname like 'rally-%';
select is((select count(*)::int from admin.scheduled_jobs where healthy), (select count(*)::int from expected_jobs),
          'after a successful run each, every job is healthy');
select is((select last_status from admin.scheduled_jobs where name = 'rally-expire-stale-bookings'), 'succeeded',
          'the last run''s status is shown');

-- A failing job.
insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
select j.jobid, 900001000, 1, 'postgres', 'postgres', j.command, 'failed',
       'ERROR: relation "private.bookings" does not exist', now() - interval '5 seconds', now() - interval '4 seconds'
  from cron.job j where j.jobname = 'rally-expire-stale-bookings';
select is((select name from admin.scheduled_jobs limit 1), 'rally-expire-stale-bookings', 'a failing job sorts first');
select is((select (healthy, last_status, last_message) from admin.scheduled_jobs where name = 'rally-expire-stale-bookings'),
          (false, 'failed'::text, 'ERROR: relation "private.bookings" does not exist'::text),
          'it is unhealthy, with the error pg_cron recorded');

-- An overdue job: the release job last ran an hour ago although it runs every 10 minutes.
update cron.job_run_details d set start_time = now() - interval '1 hour', end_time = now() - interval '1 hour'
  from cron.job j where j.jobid = d.jobid and j.jobname = 'rally-release-host-earnings';
select ok((select overdue_by between interval '49 minutes' and interval '51 minutes' and not healthy
             from admin.scheduled_jobs where name = 'rally-release-host-earnings'),
          'a job that missed its runs is overdue by the time past its period, and unhealthy');

-- A missing job (unscheduled by hand, or never scheduled on this project).
select cron.unschedule(j.jobid) from cron.job j where j.jobname = 'rally-reconcile-payments';
select is((select (scheduled, active, healthy) from admin.scheduled_jobs where name = 'rally-reconcile-payments'),
          (false, false, false), 'an unscheduled job is still listed, as not scheduled and unhealthy');
select is((select count(*)::int from admin.scheduled_jobs where not healthy), 3, 'exactly the three troubled jobs are unhealthy');
select count(cron.alter_job(j.jobid, active := false)) from cron.job j where j.jobname = 'rally-chat-reminders';
select is((select (scheduled, active, healthy) from admin.scheduled_jobs where name = 'rally-chat-reminders'),
          (true, false, false), 'a paused job is unhealthy too');

-- Scheduling is for migrations; the API roles cannot reach any of it.
select ok(not has_function_privilege('authenticated', 'private.schedule_job(text, text, interval, text, text)', 'execute')
          and not has_function_privilege('anon', 'private.schedule_edge_function(text, text, text, interval, integer, text)', 'execute'),
          'the API roles cannot schedule jobs');
select ok(not has_table_privilege('authenticated', 'admin.scheduled_jobs', 'select')
          and not has_table_privilege('service_role', 'admin.scheduled_jobs', 'select'),
          'nor read the operators'' view');
select throws_ok($$select private.schedule_edge_function('rally-x', 'Not A Function', '* * * * *', interval '1 minute', 1000, 'x')$$,
                 'P0001', 'invalid edge function name Not A Function', 'an edge-function job refuses a name that is not a function slug');

select * from finish();
rollback;
