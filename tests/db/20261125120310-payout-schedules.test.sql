-- Scheduled payouts: a host picks manual, weekly or monthly; the job pays out the whole
-- available balance at the start of the anchor day in the host's time zone, through the same
-- path as request_payout, once per period; refusals keep the money in the wallet.
begin;
select plan(41);

-- Money a host has earned and may withdraw (what release_host_earnings leaves in available).
create function pg_temp.fund(p_user text, p_amount bigint, p_currency text) returns void language sql as $$
  select private.post_ledger_transaction('test:fund:' || p_user || ':' || p_currency || ':' || p_amount, 'adjustment',
    private.ledger_entries_of(private.ledger_entry('platform_cash', null, p_currency, p_amount),
                              private.ledger_entry('host_available', tests.get_supabase_uid(p_user), p_currency, -p_amount)))
$$;
create function pg_temp.wallet(p_user text, p_currency text) returns text language sql as $$
  select format('available %s, in transit %s', w.available, w.in_transit) from private.host_wallet(tests.get_supabase_uid(p_user), p_currency) w
$$;
create function pg_temp.make_due(p_user text) returns void language sql as $$
  update public.payout_schedules set next_run_at = now() - interval '1 minute' where host_id = tests.get_supabase_uid(p_user)
$$;

select tests.create_supabase_user('hana', 'hana@example.test', '{"username":"hana_host"}');
select tests.create_supabase_user('nora', 'nora@example.test', '{"username":"nora_new_host"}');
select tests.create_supabase_user('gus', 'gus@example.test', '{"username":"gus_guest"}');
select tests.create_supabase_user('sid', 'sid@example.test', '{"username":"sid_host"}');
update public.profiles set is_host = true, host_status = 'active'
 where id in (tests.get_supabase_uid('hana'), tests.get_supabase_uid('nora'), tests.get_supabase_uid('sid'));
update public.profiles set timezone = 'Europe/London' where id = tests.get_supabase_uid('hana');
update public.profiles set timezone = 'Asia/Kolkata' where id = tests.get_supabase_uid('sid');
insert into private.stripe_accounts (host_id, account_id, details_submitted, charges_enabled, payouts_enabled, transfers_capability)
values (tests.get_supabase_uid('hana'), 'acct_hana', true, true, true, 'active'),
       (tests.get_supabase_uid('sid'), 'acct_sid', true, true, true, 'active'),
       (tests.get_supabase_uid('nora'), 'acct_nora', false, false, false, 'inactive');

-- When the next run is: the start of the anchor day in the host's own time zone
select is(private.next_payout_at('weekly', 'monday', null, 'Europe/London', '2026-07-15 12:00+00'),
          '2026-07-19 23:00+00'::timestamptz, 'weekly on Monday, asked on a Wednesday in summer: midnight BST next Monday (23:00 UTC Sunday)');
select is(private.next_payout_at('weekly', 'monday', null, 'Europe/London', '2026-01-14 12:00+00'),
          '2026-01-19 00:00+00'::timestamptz, 'and in winter midnight GMT');
select is(private.next_payout_at('weekly', 'monday', null, 'Europe/London', '2026-07-19 23:00+00'),
          '2026-07-26 23:00+00'::timestamptz, 'a run exactly at the anchor moves to the next week, never the same one');
select is(private.next_payout_at('weekly', 'sunday', null, 'Europe/London', '2026-03-28 12:00+00'),
          '2026-03-29 00:00+00'::timestamptz, 'the Sunday clocks go forward still starts at local midnight (GMT, before the 01:00 change)');
select is(private.next_payout_at('weekly', 'monday', null, 'Europe/London', '2026-03-28 12:00+00'),
          '2026-03-29 23:00+00'::timestamptz, 'and the Monday after it is midnight BST');
select is(private.next_payout_at('weekly', 'friday', null, 'Asia/Kolkata', '2026-07-16 20:00+00'),
          '2026-07-16 18:30+00'::timestamptz + interval '7 days',
          'in Kolkata (UTC+05:30) Friday has already begun at 20:00 UTC Thursday, so the next Friday is a week later');
select is(private.next_payout_at('monthly', null, 31, 'UTC', '2027-02-03 08:00+00'),
          '2027-02-28 00:00+00'::timestamptz, 'a 31st anchor pays on 28 February in a common year');
select is(private.next_payout_at('monthly', null, 31, 'UTC', '2028-02-03 08:00+00'),
          '2028-02-29 00:00+00'::timestamptz, 'and on the 29th in a leap year');
select is(private.next_payout_at('monthly', null, 31, 'UTC', '2027-02-28 00:00+00'),
          '2027-03-31 00:00+00'::timestamptz, 'after the short month it is the 31st again');
select is(private.next_payout_at('monthly', null, 15, 'America/New_York', '2026-12-20 12:00+00'),
          '2027-01-15 05:00+00'::timestamptz, 'a monthly anchor already passed this month rolls into the next year (EST midnight)');
select is(private.next_payout_at('manual', null, null, 'UTC', now()), null, 'manual has no next run');

-- Choosing a schedule
select tests.clear_authentication();
select is(tests.hint_of($$select public.set_payout_schedule('weekly')$$), 'not_authenticated', 'anonymous callers have no schedule to set');
select tests.authenticate_as('gus');
select is(tests.hint_of($$select public.set_payout_schedule('weekly')$$), 'not_a_host', 'a guest has no wallet to pay out');
select tests.authenticate_as('nora');
select is(tests.hint_of($$select public.set_payout_schedule('monthly', null, 5)$$), 'payouts_not_enabled',
          'a host who has not finished onboarding cannot schedule payouts');
select is((select "interval" from public.set_payout_schedule('manual')), 'manual', 'but may keep (or go back to) manual');
select tests.authenticate_as('hana');
select is(tests.hint_of($$select public.set_payout_schedule('daily')$$), 'invalid_payout_interval', 'only manual, weekly and monthly exist');
select is(tests.hint_of($$select public.set_payout_schedule(null)$$), 'invalid_payout_interval', 'and an interval is required');
select is(tests.hint_of($$select public.set_payout_schedule('weekly', 'funday')$$), 'invalid_weekly_anchor', 'a weekly anchor is a weekday');
select is(tests.hint_of($$select public.set_payout_schedule('monthly', null, 32)$$), 'invalid_monthly_anchor', 'a monthly anchor is 1–31');
select is(tests.hint_of($$select public.set_payout_schedule('monthly', null, 0)$$), 'invalid_monthly_anchor', 'not 0');
select is(tests.hint_of($$select public.set_payout_schedule('weekly', null, 3)$$), 'invalid_monthly_anchor',
          'an anchor for the other interval is refused rather than ignored');
select is(tests.hint_of($$select public.set_payout_schedule('manual', 'monday')$$), 'invalid_weekly_anchor', 'and so is an anchor for manual');
select tests.as_superuser();
select is((select count(*)::int from public.payout_schedules where host_id = tests.get_supabase_uid('hana')), 0, 'refused choices wrote nothing');

select tests.authenticate_as('hana');
select results_eq($$select "interval", weekly_anchor, monthly_anchor from public.set_payout_schedule('Weekly', 'Friday')$$,
                  $$values ('weekly'::text, 'friday'::text, null::smallint)$$, 'a weekly schedule on Friday is saved (names are case-insensitive)');
select tests.as_superuser();
select is((select next_run_at from public.payout_schedules where host_id = tests.get_supabase_uid('hana')),
          private.next_payout_at('weekly', 'friday', null, 'Europe/London', now()), 'with its next run at the start of Friday in London');
select tests.authenticate_as('hana');
select is((select weekly_anchor from public.set_payout_schedule('weekly')), 'monday', 'weekly without an anchor means Monday');
select is((select count(*)::int from public.payout_schedules), 1, 'the host reads their own schedule');
select tests.authenticate_as('sid');
select is((select count(*)::int from public.payout_schedules), 0, 'and nobody else''s');

-- The job
select tests.as_superuser();
select pg_temp.fund('hana', 12345, 'EUR');
select pg_temp.fund('hana', 700, 'USD');
select is(private.run_scheduled_payouts(), 0, 'nothing is paid before the anchor day');
select pg_temp.make_due('hana');
select is(private.run_scheduled_payouts(), 2, 'on the anchor day each currency''s available balance is paid out');
select is(pg_temp.wallet('hana', 'EUR') || ' / ' || pg_temp.wallet('hana', 'USD'), 'available 0, in transit 12345 / available 0, in transit 700',
          'all of it moves to in transit, as request_payout would');
select is((select count(*)::int from private.payment_commands c join private.payouts p on p.id = c.payout_id
            where p.host_id = tests.get_supabase_uid('hana') and c.kind = 'create_payout'), 2, 'and a Stripe payout is queued for each');
select ok((select last_outcome = 'paid_out' and last_run_at is not null and next_run_at > now() from public.payout_schedules
            where host_id = tests.get_supabase_uid('hana')), 'the schedule records the run and moves to next week');
select is(private.run_scheduled_payouts(), 0, 'a second run in the same period pays nothing');
select pg_temp.make_due('hana');
select is(private.run_scheduled_payouts(), 0, 'and next period, with nothing available, nothing is paid');
select is((select last_outcome from public.payout_schedules where host_id = tests.get_supabase_uid('hana')), 'nothing_available',
          'which the schedule says');

-- A host the balance cannot be paid to keeps the money
select tests.authenticate_as('sid');
select public.set_payout_schedule('monthly', null, 31);
select tests.as_superuser();
select pg_temp.fund('sid', 5000, 'EUR');
update public.profiles set host_status = 'suspended' where id = tests.get_supabase_uid('sid');
select pg_temp.make_due('sid');
select is(private.run_scheduled_payouts(), 0, 'a suspended host is not paid out');
select is((select last_outcome from public.payout_schedules where host_id = tests.get_supabase_uid('sid')), 'host_suspended',
          'the schedule records why');
select is(pg_temp.wallet('sid', 'EUR'), 'available 5000, in transit 0', 'and the money stays available');
update public.profiles set host_status = 'active' where id = tests.get_supabase_uid('sid');
update private.stripe_accounts set payouts_enabled = false where host_id = tests.get_supabase_uid('sid');
select pg_temp.make_due('sid');
select private.run_scheduled_payouts();
select is((select last_outcome from public.payout_schedules where host_id = tests.get_supabase_uid('sid')), 'payouts_not_enabled',
          'a host whose Stripe account can no longer pay out is skipped with payouts_not_enabled');

-- Back to manual
select tests.authenticate_as('hana');
select ok((select next_run_at is null and weekly_anchor is null from public.set_payout_schedule('manual')),
          'going back to manual clears the next run');

select * from finish();
rollback;
