-- Fuzzing finding: a valid access token of an account that no longer exists broke RPCs with
-- foreign-key violations.
--
-- Access tokens outlive their account: Supabase Auth signs JWTs that stay valid until they
-- expire (an hour by default), so a request can arrive with the token of a user whose
-- auth.users row — and with it, by cascade, their profile — was deleted a minute ago. The
-- fuzzing gate (tests/fuzz/rpcs.fuzz.test.ts, actor "ghost") found nine RPCs that then wrote a
-- row referencing the missing profile and failed with 23503 (block_user, follow_user,
-- start_direct_conversation, create_group_conversation, create_share_link, delete_message,
-- set_phone_number, set_quiet_hours, set_whatsapp_opt_in): an internal error (HTTP 409/500
-- with a constraint name) instead of a refusal. Every RPC starts with private.require_user(),
-- so that is where the caller's account is now checked: no profile for the token's subject is
-- 42501 account_not_found ("sign in again"). The check is one primary-key lookup; the
-- function becomes security definer so RLS on profiles cannot hide the caller's own row.

create or replace function private.require_user() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    perform private.raise_error('42501', 'not_authenticated', 'You need to sign in to do this.');
  end if;
  if not exists (select 1 from public.profiles p where p.id = v_uid) then
    perform private.raise_error('42501', 'account_not_found', 'Your account no longer exists. Sign in again.');
  end if;
  return v_uid;
end
$$;
comment on function private.require_user() is
  'The signed-in caller''s id; raises 42501 not_authenticated for anonymous requests and 42501 account_not_found when the token''s account no longer exists.';
