-- Authorization that cannot fail open, checked over every function in the database.
--
-- In PL/pgSQL `if not (a or b) then raise …` never raises when the condition is NULL (a
-- stranger's role in a conversation is NULL), so a permission test written that way lets the
-- stranger through. Rally writes every such test as `if (…) is not true then raise …`, which
-- refuses on false and on NULL; `not exists (…)` and `not found` cannot be NULL and stay. And a
-- role is never read from the access token alone: a revoked admin keeps their token for up to an
-- hour, so only private.is_admin() reads app_metadata, and it checks auth.users too.
begin;
select plan(6);

create temp table rally_functions as
select p.oid::regprocedure::text as signature, p.prosrc as src, l.lanname as language
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
  join pg_language l on l.oid = p.prolang
 where n.nspname in ('public', 'private', 'admin') and l.lanname in ('plpgsql', 'sql');

-- Conditions that start with NOT (IF NOT …, ELSIF NOT …, and NOT … / OR NOT … inside an IF),
-- other than NOT EXISTS and NOT FOUND.
create temp table unsafe_negations as
select f.signature, m[1] as condition
  from rally_functions f,
       regexp_matches(f.src, '(\m(?:if|elsif)\M(?:[^;]*?\m(?:and|or)\M)?\s+not\s+(?!exists\M|found\M)[^;]*?\mthen\M)', 'gi') as m
 where f.language = 'plpgsql';

select is((select count(*)::int from rally_functions where language = 'plpgsql'),
          (select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            join pg_language l on l.oid = p.prolang where n.nspname in ('public', 'private', 'admin') and l.lanname = 'plpgsql'),
          'the scan reads every PL/pgSQL function in public, private and admin');
select ok((select count(*) from rally_functions where language = 'plpgsql') > 100, 'and there are well over a hundred of them');

select is((select coalesce(string_agg(signature || ': ' || left(regexp_replace(condition, '\s+', ' ', 'g'), 160), E'\n' order by signature), '')
             from unsafe_negations),
          '', 'no IF condition is a negation that a NULL turns into "allowed" (write it as (…) is not true)');

-- The scan itself must catch the bug the adversarial review found in delete_message.
select ok(exists (select 1 from regexp_matches(
            $src$ if not (v_message.sender_id = v_uid or v_role = 'admin' or private.is_admin()) then $src$,
            '(\m(?:if|elsif)\M(?:[^;]*?\m(?:and|or)\M)?\s+not\s+(?!exists\M|found\M)[^;]*?\mthen\M)', 'gi')),
          'the pattern flags `if not (a = b or …) then`, the shape of the delete_message hole');
select ok(not exists (select 1 from regexp_matches(
            $src$ if not exists (select 1) then $src$ || $src$ if not found then $src$,
            '(\m(?:if|elsif)\M(?:[^;]*?\m(?:and|or)\M)?\s+not\s+(?!exists\M|found\M)[^;]*?\mthen\M)', 'gi')),
          'and lets `if not exists` and `if not found` through');

select is((select coalesce(string_agg(signature, ', ' order by signature), '')
             from rally_functions
            where src ~* 'auth\.jwt\(\)[^;]*(app_metadata|user_role)'
              -- is_admin checks auth.users too; audit_actor_role only labels an audit row with
              -- the claim the request carried (who it acted as), it decides nothing.
              and signature not in ('private.is_admin()', 'private.audit_actor_role()')),
          '', 'no function but private.is_admin() decides a role from the access token''s claims');

select * from finish();
rollback;
