-- Operations, step 6: account deletions in the audit log.
--
-- Account deletion (20261125170500) turns the profile into a tombstone (deleted_at set) in the
-- same transaction as everything else it erases. A trigger on that transition records
-- `account.deleted` with the actor taken from the request — the user themselves
-- (delete_my_account) or the admin (admin_delete_account), or `database` when an operator runs
-- private.erase_account from Studio — so the deletion path itself needs no change. The row holds
-- the deleted user's id only (no name, email or content), like the money records that must keep
-- pointing at them.

create or replace function private.audit_account_deleted() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.record_audit('account.deleted', 'user', new.id,
    jsonb_build_object('self', auth.uid() is not distinct from new.id, 'deleted_at', new.deleted_at));
  return null;
end
$$;
comment on function private.audit_account_deleted() is 'Trigger on profiles: records an account deletion (the tombstone being set) in the audit log.';

create trigger audit_account_deleted after update on public.profiles
  for each row when (old.deleted_at is null and new.deleted_at is not null)
  execute function private.audit_account_deleted();

revoke execute on function private.audit_account_deleted() from public;
