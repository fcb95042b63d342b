-- Helpers in private and admin run with the owner's rights; none may be callable by everyone.
-- Also tells: 20261125100000_private_and_admin_schemas
begin;
select plan(3);

select is_empty($$
  select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('private', 'admin')
     and (p.proacl is null or exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE'))
$$, 'no function in private or admin is executable by PUBLIC');

select ok(not has_function_privilege('authenticated', 'private.cancel_booking_as(uuid, uuid, text)', 'execute'),
          'a signed-in user cannot cancel bookings in someone else''s name through the internal helper');
select ok(not has_function_privilege('authenticated', 'private.confirm_booking_payment(uuid)', 'execute'),
          'a signed-in user cannot confirm their own unpaid hold');

select * from finish();
rollback;
