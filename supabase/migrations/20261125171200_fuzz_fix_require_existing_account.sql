-- Fuzzing finding: a valid access token whose account row is gone broke RPCs with foreign-key
-- violations.
--
-- Access tokens outlive their account. Supabase Auth signs JWTs that stay valid until they
-- expire (an hour by default), so a request can arrive with the token of a user whose
-- auth.users row — and, by cascade, their profile — was deleted a minute ago (an operator's
-- `auth.admin.deleteUser`, a cleanup). Account deletion (20261125170500) keeps a tombstone
-- profile and refuses it as account_deleted; but with no profile row at all, the fuzzing gate
-- (tests/fuzz/rpcs.fuzz.test.ts, actor "ghost") found nine RPCs that wrote a row referencing
-- the missing profile and failed with 23503 (block_user, follow_user, start_direct_conversation,
-- create_group_conversation, create_share_link, delete_message, set_phone_number,
-- set_quiet_hours, set_whatsapp_opt_in): an internal error carrying a constraint name instead
-- of a refusal. Every RPC starts with private.require_user(), so that is where the account is
-- now also required to exist: no profile for the token's subject is 42501 account_not_found
-- ("sign in again"). Everything the latest definition (20261125170500_account_deletion.sql)
-- checks is kept, in the same order. The function becomes security definer (search_path '')
-- so RLS on profiles can never hide the caller's own row from these checks; it reads only the
-- caller's own profile and JWT.

create or replace function private.require_user() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_deleted_at timestamptz;
begin
  if v_uid is null then
    perform private.raise_error('42501', 'not_authenticated', 'You need to sign in to do this.');
  end if;
  select p.deleted_at into v_deleted_at from public.profiles p where p.id = v_uid;
  if not found then
    perform private.raise_error('42501', 'account_not_found', 'Your account no longer exists. Sign in again.');
  end if;
  if v_deleted_at is not null then
    perform private.raise_error('42501', 'account_deleted', 'This account has been deleted.');
  end if;
  if private.caller_is_suspended() then
    perform private.raise_error('42501', 'account_suspended', 'Your account is suspended. Contact Rally support.');
  end if;
  return v_uid;
end
$$;
comment on function private.require_user() is
  'The signed-in caller''s id; raises 42501 not_authenticated for anonymous requests, account_not_found when the token''s account no longer exists, account_deleted for a deleted account and account_suspended for a suspended one (tokens issued before any of these).';
