-- Scheduled jobs: every recurring job Rally needs, scheduled with pg_cron by the migration that
-- owns it, registered here, and watched by operators in Studio (admin.scheduled_jobs).
--
-- A job cannot silently vanish: each migration schedules its jobs unconditionally through
-- private.schedule_job (pg_cron is created by 20261125090000_extensions). Jobs that call an edge
-- function go through pg_net with the project URL and the service-role key read from Vault at
-- run time (no secret is written into a migration); a project without pg_net or Vault fails the
-- migration with a message saying what to enable. Create the two secrets once per project:
--   select vault.create_secret('https://<project-ref>.supabase.co', 'project_url');
--   select vault.create_secret('<service_role key>', 'service_role_key');
-- Seconds schedules ('10 seconds') need pg_cron 1.5 or later (the platform ships 1.6); on an
-- older pg_cron the job runs every minute instead, and the registry records what was scheduled.

create table private.scheduled_jobs (
  name text primary key,
  purpose text not null,
  schedule text not null,
  expected_every interval not null,
  command text not null,
  registered_at timestamptz not null default now(),
  constraint scheduled_jobs_name check (name ~ '^rally-[a-z0-9-]{1,60}$'),
  constraint scheduled_jobs_every check (expected_every >= interval '1 second')
);
comment on table private.scheduled_jobs is
  'Every recurring job Rally needs: what it does, the pg_cron schedule it was given and how often it must run. admin.scheduled_jobs compares it with pg_cron.';
comment on column private.scheduled_jobs.expected_every is 'The longest gap between two runs when the job is healthy (its schedule''s period).';

-- The pg_cron schedule for a job that should run every p_seconds (under a minute): pg_cron 1.5+
-- takes '<n> seconds'; older versions have no seconds syntax, so the job runs every minute.
create or replace function private.cron_seconds_schedule(p_seconds integer) returns text
language sql
stable
set search_path = ''
as $$
  select case
    when (select (regexp_match(e.extversion, '^(\d+)\.(\d+)'))::integer[] >= array[1, 5]
            from pg_catalog.pg_extension e where e.extname = 'pg_cron')
      then p_seconds || ' seconds'
    else '* * * * *'
  end
$$;
comment on function private.cron_seconds_schedule(integer) is
  'pg_cron schedule for a job every p_seconds (1–59): ''<n> seconds'' where pg_cron supports it (1.5+), else every minute.';

-- Schedules (or reschedules) one job with pg_cron and records it in the registry.
create or replace function private.schedule_job(
  p_name text, p_schedule text, p_expected_every interval, p_command text, p_purpose text
) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_every interval := p_expected_every;
begin
  if to_regnamespace('cron') is null then
    raise exception 'Rally schedules % with pg_cron, which is not enabled: enable the pg_cron extension (Dashboard → Database → Extensions), then run the migrations again.', p_name;
  end if;
  -- A seconds schedule that fell back to every minute runs every minute.
  if p_schedule = '* * * * *' and v_every < interval '1 minute' then
    v_every := interval '1 minute';
  end if;
  perform cron.schedule(p_name, p_schedule, p_command);
  insert into private.scheduled_jobs (name, purpose, schedule, expected_every, command)
  values (p_name, p_purpose, p_schedule, v_every, p_command)
  on conflict (name) do update
    set purpose = excluded.purpose, schedule = excluded.schedule, expected_every = excluded.expected_every,
        command = excluded.command, registered_at = now();
end
$$;
comment on function private.schedule_job(text, text, interval, text, text) is
  'Migrations only: schedules a job with pg_cron (cron.schedule) and registers it in private.scheduled_jobs. Fails when pg_cron is missing.';

-- Schedules a job that POSTs to an edge function through pg_net, with the project URL and the
-- service-role key from Vault (read when the job runs, so no secret is in the command).
create or replace function private.schedule_edge_function(
  p_name text, p_function text, p_schedule text, p_expected_every interval, p_timeout_ms integer, p_purpose text
) returns void
language plpgsql
set search_path = ''
as $$
begin
  if to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null then
    raise exception 'Rally calls the % edge function from pg_cron through pg_net, which is not enabled: enable the pg_net extension (Dashboard → Database → Extensions), then run the migrations again.', p_function;
  end if;
  if to_regclass('vault.decrypted_secrets') is null then
    raise exception 'Rally reads the project URL and service-role key for % from Vault, which is not enabled: enable the supabase_vault extension (Dashboard → Database → Extensions), then run the migrations again.', p_function;
  end if;
  if p_function !~ '^[a-z][a-z0-9-]{0,62}$' then
    raise exception 'invalid edge function name %', p_function;
  end if;
  perform private.schedule_job(p_name, p_schedule, p_expected_every, format($cmd$select net.http_post(
  url := (select decrypted_secret from vault.decrypted_secrets where name = 'project_url') || '/functions/v1/%s',
  headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization',
               'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = 'service_role_key')),
  body := '{}'::jsonb,
  timeout_milliseconds := %s)$cmd$, p_function, p_timeout_ms), p_purpose);
end
$$;
comment on function private.schedule_edge_function(text, text, text, interval, integer, text) is
  'Migrations only: schedules a pg_cron job that calls an edge function through pg_net with the Vault secrets project_url and service_role_key. Fails when pg_net or Vault is missing.';

revoke execute on function private.cron_seconds_schedule(integer), private.schedule_job(text, text, interval, text, text),
  private.schedule_edge_function(text, text, text, interval, integer, text) from public;

-- Operators: every job Rally needs beside what pg_cron knows about it. A job that is missing,
-- inactive, failing or overdue shows healthy = false and sorts first.
create view admin.scheduled_jobs with (security_invoker = true) as
select r.name, r.purpose, r.schedule, r.expected_every,
       j.jobid is not null as scheduled,
       coalesce(j.active, false) as active,
       last_run.start_time as last_run_at,
       last_run.status as last_status,
       last_run.return_message as last_message,
       greatest(now() - coalesce(last_run.start_time, r.registered_at) - r.expected_every, interval '0') as overdue_by,
       (j.jobid is not null and j.active
        and coalesce(last_run.status, 'succeeded') <> 'failed'
        and now() - coalesce(last_run.start_time, r.registered_at) <= r.expected_every * 2 + interval '1 minute') as healthy
  from private.scheduled_jobs r
  left join cron.job j on j.jobname = r.name
  left join lateral (
    select d.start_time, d.status, d.return_message
      from cron.job_run_details d
     where d.jobid = j.jobid
     order by d.runid desc
     limit 1) last_run on true
 order by healthy, r.name;
comment on view admin.scheduled_jobs is
  'Every recurring job Rally needs: scheduled in pg_cron or not, active, last run, last status and message (cron.job_run_details), how overdue, and healthy (scheduled, active, last run not failed, not overdue by more than one period). Unhealthy jobs first.';
revoke all on admin.scheduled_jobs from public, anon, authenticated, service_role;

-- pg_cron keeps every run's details; a week is enough to see what is wrong.
select private.schedule_job('rally-purge-cron-history', '41 4 * * *', interval '1 day',
  $$delete from cron.job_run_details where end_time < now() - interval '7 days'$$,
  'Deletes pg_cron run details older than 7 days (Supabase''s recommendation), so cron.job_run_details stays small.');
