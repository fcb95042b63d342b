-- Merge of operations (suspension) and account deletion: both extended private.require_user();
-- the guard every public RPC calls refuses deleted accounts and suspended accounts alike.
create or replace function private.require_user() returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    perform private.raise_error('42501', 'not_authenticated', 'You need to sign in to do this.');
  end if;
  if exists (select 1 from public.profiles p where p.id = v_uid and p.deleted_at is not null) then
    perform private.raise_error('42501', 'account_deleted', 'This account has been deleted.');
  end if;
  if private.caller_is_suspended() then
    perform private.raise_error('42501', 'account_suspended', 'Your account is suspended. Contact Rally support.');
  end if;
  return v_uid;
end
$$;
comment on function private.require_user() is
  'The signed-in caller''s id; raises 42501 not_authenticated for anonymous requests, account_deleted for a deleted account and account_suspended for a suspended one (tokens issued before either).';
