-- Payments, step 9: schedules (registered in private.scheduled_jobs, watched in admin.scheduled_jobs).
--
--   rally-release-host-earnings   every 10 minutes  private.release_host_earnings()
--   rally-reconcile-payments      hourly            private.reconcile_payments()
--   rally-payments-worker         every 30 seconds  the payments-worker edge function
-- The payments worker is an edge function (it calls Stripe, which SQL must not do inside a
-- transaction); pg_cron calls it through pg_net with the Vault secrets project_url and
-- service_role_key (see 20261125100050_scheduled_jobs).

select private.schedule_job('rally-release-host-earnings', '*/10 * * * *', interval '10 minutes',
  'select private.release_host_earnings()',
  'Moves hosts'' pending earnings to available once their events ended and the hold passed, and queues the transfers.');
select private.schedule_job('rally-reconcile-payments', '17 * * * *', interval '1 hour',
  'select private.reconcile_payments()',
  'Compares what Stripe reported (payments, refunds, transfers, reversals, payouts, disputes) with the ledger and checks ledger health; differences go to admin.payment_reconciliation.');
select private.schedule_edge_function('rally-payments-worker', 'payments-worker', private.cron_seconds_schedule(30),
  interval '30 seconds', 55000,
  'Executes queued Stripe commands (transfers, refunds, payouts, cancellations) with retries (the payments-worker edge function).');
