-- Rate limits: one limiter (private.consume_rate_limit) with its settings in one table an operator
-- changes; a limited call is refused with P0001 rate_limited, says how long to wait, and takes
-- nothing; a bucket refills with time; a call that fails afterwards gives its token back; and the
-- repeatable writes use it (the hostile loops themselves are tests/abuse/).
begin;
select plan(35);

create function pg_temp.error_of(p_sql text) returns jsonb language plpgsql as $$
declare v_message text; v_detail text; v_hint text; v_state text;
begin
  execute p_sql;
  return null;
exception when others then
  get stacked diagnostics v_message = message_text, v_detail = pg_exception_detail, v_hint = pg_exception_hint, v_state = returned_sqlstate;
  return jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail, 'hint', v_hint);
end $$;
create function pg_temp.tokens(p_action text, p_key text) returns double precision language sql as $$
  select tokens from private.rate_limit_buckets where action = p_action and key = p_key
$$;
-- Takes a token, then fails: the caller's rollback (here a subtransaction) must give it back.
create function pg_temp.consume_then_fail(p_action text, p_key text) returns text language plpgsql as $$
begin
  perform private.consume_rate_limit(p_action, p_key);
  raise exception 'something later in the call failed' using errcode = 'P0001', hint = 'sold_out';
exception when others then
  return 'failed';
end $$;

-- Settings
select ok((select count(*) from private.rate_limits) >= 20, 'every limit lives in one settings table');
select set_has($$select action from private.rate_limits$$,
               $$values ('event_create'), ('booking'), ('booking_cancel'), ('follow'), ('event_view'), ('event_view_anonymous'),
                        ('group_create'), ('group_people'), ('message'), ('chat_reminder'), ('report'), ('checkout'),
                        ('connect_onboarding'), ('phone_verification'), ('phone_verification_number'),
                        ('alert_email_per_hour'), ('alert_email_per_day'), ('alert_sms_per_hour'), ('alert_sms_per_day'),
                        ('alert_whatsapp_per_hour'), ('alert_whatsapp_per_day')$$,
               'there is a limit for every repeatable write and every per-recipient alert cap');
select results_eq($$select max_calls, per from private.rate_limits where action = 'message'$$,
                  $$values (30, interval '10 seconds')$$, 'messages keep their limit of 30 per 10 seconds');
select results_eq($$select max_calls, per from admin.set_rate_limit('report', 3, interval '1 hour')$$,
                  $$values (3, interval '1 hour')$$, 'an operator changes a limit with one call');
select tests.raises_hint($$select admin.set_rate_limit('no_such_thing', 3, interval '1 hour')$$, 'unknown_rate_limit',
          'a limit that does not exist cannot be set');
select throws_ok($$select admin.set_rate_limit('report', 0, interval '1 hour')$$, '23514', null, 'a limit allows at least one call');

-- The bucket
select lives_ok($$select private.consume_rate_limit('report', 'key-a') from generate_series(1, 3)$$, 'three calls fit a limit of three');
select is(pg_temp.tokens('report', 'key-a'), 0::double precision, 'and empty the bucket');
select is(pg_temp.error_of($$select private.consume_rate_limit('report', 'key-a')$$) ->> 'sqlstate', 'P0001', 'the fourth is refused with P0001');
select tests.raises_hint($$select private.consume_rate_limit('report', 'key-a')$$, 'rate_limited', 'hint rate_limited');
select matches(pg_temp.error_of($$select private.consume_rate_limit('report', 'key-a')$$) ->> 'message',
               '^Too many reports: at most 3 per 1 hour\. Try again in (20 minutes|1[0-9]{3} seconds)\.$',
               'the message says the limit and how long to wait');
select results_eq($$select (d ->> 'action'), (d ->> 'limit')::int, (d ->> 'per_seconds')::int, (d ->> 'retry_after_seconds')::int
                      from (select (pg_temp.error_of($q$select private.consume_rate_limit('report', 'key-a')$q$) ->> 'detail')::jsonb as d) x$$,
                  $$values ('report'::text, 3, 3600, 1200)$$, 'DETAIL carries the wait in seconds for Retry-After');
select is(pg_temp.tokens('report', 'key-a'), 0::double precision, 'a refused call takes nothing');
select lives_ok($$select private.consume_rate_limit('report', 'key-b')$$, 'another key has its own bucket');
select tests.raises_hint($$select private.consume_rate_limit('report', 'key-b', 4)$$, 'rate_limited',
          'a cost larger than the whole limit is refused');
select lives_ok($$select private.consume_rate_limit('report', 'key-a', 0)$$, 'a cost of nothing is always allowed');
select tests.raises_hint($$select private.consume_rate_limit('nothing_like_this', 'key-a')$$, 'unknown_rate_limit',
          'an unknown action is a programming error, not a free pass');
select tests.raises_hint($$select private.consume_rate_limit('report', null)$$, 'invalid_argument', 'and so is a missing key');

-- Time refills it: 3 per hour is one call every 20 minutes.
update private.rate_limit_buckets set refilled_at = refilled_at - interval '21 minutes' where action = 'report' and key = 'key-a';
select lives_ok($$select private.consume_rate_limit('report', 'key-a')$$, 'twenty minutes later one more call fits');
select tests.raises_hint($$select private.consume_rate_limit('report', 'key-a')$$, 'rate_limited', 'but only one');
update private.rate_limit_buckets set refilled_at = refilled_at - interval '1 day' where action = 'report' and key = 'key-a';
select lives_ok($$select private.consume_rate_limit('report', 'key-a') from generate_series(1, 3)$$,
                'a day later the bucket is full again');
select tests.raises_hint($$select private.consume_rate_limit('report', 'key-a')$$, 'rate_limited',
          'and holds no more than the limit, however long it waited');

-- A call that fails after taking its token gives it back.
select is(pg_temp.consume_then_fail('report', 'key-c'), 'failed', 'a call takes a token and then fails');
select is(pg_temp.tokens('report', 'key-c'), null, 'its rollback gives the token back');

-- Lowering a limit applies to the next call.
select admin.set_rate_limit('report', 1, interval '1 hour');
select lives_ok($$select private.consume_rate_limit('report', 'key-d')$$, 'a limit of one allows one call');
select tests.raises_hint($$select private.consume_rate_limit('report', 'key-d')$$, 'rate_limited', 'and no second');
select is((select limited_keys::int from admin.rate_limits where action = 'report'), 2,
          'operators see how many keys are limited right now');

-- Buckets that have refilled completely are purged.
update private.rate_limit_buckets set refilled_at = now() - interval '2 hours' where action = 'report' and key = 'key-b';
select is(private.purge_rate_limit_buckets(), 1, 'the purge job deletes a bucket untouched for a whole period');
select is((select count(*)::int from private.rate_limit_buckets where key = 'key-b'), 0, 'so it is as if it never existed');

-- Who may call it: only the platform; signed-in users only for their own bucket.
select ok(not has_function_privilege('authenticated', 'private.consume_rate_limit(text, text, integer)', 'execute'),
          'a user cannot spend (or probe) someone else''s bucket');
select ok(not has_function_privilege('anon', 'private.consume_caller_rate_limit(text)', 'execute'),
          'anonymous callers have no bucket of their own to spend');

-- The RPCs use it: a user's new follows (whichever way they are made) and reports.
select tests.create_supabase_user('rl_ada', 'rl_ada@example.test', '{"username":"rl_ada"}');
select tests.create_supabase_user('rl_bo', 'rl_bo@example.test', '{"username":"rl_bo"}');
select tests.create_supabase_user('rl_cy', 'rl_cy@example.test', '{"username":"rl_cy"}');
select admin.set_rate_limit('follow', 1, interval '1 hour');
select tests.authenticate_as('rl_ada');
select lives_ok($$select public.follow_user(tests.get_supabase_uid('rl_bo'))$$, 'Ada follows Bo');
select lives_ok($$select public.follow_user(tests.get_supabase_uid('rl_bo'))$$, 'following Bo again is free (idempotent)');
select tests.raises_hint($$insert into public.follows (follower_id, followee_id) values (tests.get_supabase_uid('rl_ada'), tests.get_supabase_uid('rl_cy'))$$,
          'rate_limited', 'a follow inserted through the Data API counts against the same limit');
select is(tests.hint_of($$select public.report_content('user', tests.get_supabase_uid('rl_bo'), 'Spam')$$) is distinct from 'rate_limited'
          and tests.hint_of($$select public.report_content('user', tests.get_supabase_uid('rl_cy'), 'Spam')$$) = 'rate_limited', true,
          'reports use the limiter too (a limit of one: the second report is refused)');

select * from finish();
rollback;
