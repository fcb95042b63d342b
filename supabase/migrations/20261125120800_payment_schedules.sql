-- Payments, step 9: schedules.
--
-- SQL jobs run under pg_cron where it exists (Supabase; the local stack preloads it too):
--   rally-release-host-earnings   every 10 minutes  private.release_host_earnings()
--   rally-reconcile-payments      hourly            private.reconcile_payments()
-- The payments worker is an edge function (it calls Stripe, which SQL must not do inside a
-- transaction). On Supabase pg_cron calls it through pg_net every 30 seconds with the service
-- role key; both the project URL and the key are read from Vault at run time, so no secret is
-- written into a migration. Create them once per project:
--   select vault.create_secret('https://<project-ref>.supabase.co', 'project_url');
--   select vault.create_secret('<service_role key>', 'service_role_key');
-- This part only runs where the `net` schema (pg_net) exists. Locally there is no pg_net: the
-- stack runner (scripts/lib/schedules.ts) POSTs to the worker on the same interval instead.

do $schedule$
begin
  if exists (select 1 from pg_catalog.pg_namespace where nspname = 'cron') then
    perform cron.schedule('rally-release-host-earnings', '*/10 * * * *', 'select private.release_host_earnings()');
    perform cron.schedule('rally-reconcile-payments', '17 * * * *', 'select private.reconcile_payments()');
    if exists (select 1 from pg_catalog.pg_namespace where nspname = 'net') then
      perform cron.schedule('rally-payments-worker', '30 seconds', $job$
        select net.http_post(
          url := (select decrypted_secret from vault.decrypted_secrets where name = 'project_url') || '/functions/v1/payments-worker',
          headers := jsonb_build_object(
            'Content-Type', 'application/json',
            'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = 'service_role_key')),
          body := '{}'::jsonb,
          timeout_milliseconds := 55000)
      $job$);
    end if;
  end if;
end
$schedule$;
