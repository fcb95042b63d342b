-- Storage purge: the worker side of private.storage_purge_queue (account deletion queues a
-- deleted account's avatar and the covers of their drafts there).
--
-- Why a worker and the Storage API, not SQL: the bytes live in the Storage backend (S3), which
-- only the Storage API can reach. Its delete (`DELETE /storage/v1/object/{bucket}` with
-- `{"prefixes": [names]}`, what supabase-js `storage.from(bucket).remove(names)` sends) deletes the
-- storage.objects rows it finds and, in the same transaction, those objects' bytes; names
-- without a row are skipped silently. So the rows must still be there when the worker calls, and
-- a 200 whose row is gone means row and bytes are gone; a row still there means the backend
-- delete failed and rolled back (retry).
--
-- How (ARCHITECTURE §6, like the alert and payment outboxes):
--   claim_storage_purges     FOR UPDATE SKIP LOCKED, a lease and a claim token per row, the
--                            attempt counted at claim; expired leases come back (or die when
--                            their attempts are spent)
--   (the edge function functions/storage-purge calls the Storage API per bucket, outside any
--    transaction; deleting an already-deleted name is success, so retries are idempotent)
--   complete_storage_purges  records outcomes for rows the claim still holds: purged (only if
--                            the storage.objects row is really gone), retry at the worker's
--                            backoff, dead after max_attempts or a permanent error
--   admin.storage_purge_dead_letters  what the worker gave up on, for operators (postgres only)
--   requeue_storage_purge    puts a dead letter back once the cause is fixed (postgres only)
--   "deleted accounts upload nothing"  a RESTRICTIVE insert/update policy on storage.objects: an
--                            access token issued before the deletion (valid up to an hour) could
--                            otherwise store a new file under the deleted account's folder, a
--                            name the queue never saw. Restrictive, so each action keeps its one
--                            permissive policy per bucket rule; a primary-key read per write.

create or replace function private.claim_storage_purges(p_limit integer default 100, p_lease_seconds integer default 60)
returns table (bucket_id text, name text, claim_token uuid, attempt integer, max_attempts integer)
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    perform private.raise_error('22023', 'invalid_limit', 'Claim 1 to 1,000 objects at a time.');
  end if;
  if p_lease_seconds is null or p_lease_seconds < 10 or p_lease_seconds > 3600 then
    perform private.raise_error('22023', 'invalid_lease', 'A lease lasts 10 to 3,600 seconds.');
  end if;

  -- A worker that died mid-call: its lease ran out; the row is due again, or dead when that was
  -- its last attempt (the attempt was counted at claim time).
  update private.storage_purge_queue q
     set status = case when q.attempts >= q.max_attempts then 'dead' else 'pending' end,
         dead_at = case when q.attempts >= q.max_attempts then now() end,
         next_attempt_at = now(), claim_token = null, lease_expires_at = null,
         last_error = 'lease expired before the outcome was recorded'
   where (q.bucket_id, q.name) in (select x.bucket_id, x.name from private.storage_purge_queue x
                                    where x.status = 'claimed' and x.lease_expires_at <= now()
                                    for update skip locked);

  return query
  with due as (
    select x.bucket_id, x.name from private.storage_purge_queue x
     where x.status = 'pending' and x.next_attempt_at <= now()
     order by x.next_attempt_at
     limit p_limit
     for update skip locked
  )
  update private.storage_purge_queue q
     set status = 'claimed', claim_token = gen_random_uuid(), attempts = q.attempts + 1,
         lease_expires_at = now() + make_interval(secs => p_lease_seconds)
    from due
   where q.bucket_id = due.bucket_id and q.name = due.name
  returning q.bucket_id, q.name, q.claim_token, q.attempts, q.max_attempts;
end
$$;
comment on function private.claim_storage_purges(integer, integer) is
  'storage-purge worker: claims up to p_limit due objects (FOR UPDATE SKIP LOCKED) with a claim token and a p_lease_seconds lease, counting the attempt; expired leases are released first (dead when their attempts are spent). Errors: 22023 invalid_limit / invalid_lease.';

create or replace function private.complete_storage_purges(p_results jsonb) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_updated integer;
begin
  if p_results is null or jsonb_typeof(p_results) <> 'array' then
    perform private.raise_error('22023', 'invalid_results', 'Results must be a JSON array.');
  end if;
  if exists (select 1 from jsonb_array_elements(p_results) e
              where jsonb_typeof(e) <> 'object' or coalesce(e ->> 'outcome', '') not in ('purged', 'retry', 'dead')
                 or e ->> 'bucket_id' is null or e ->> 'name' is null or e ->> 'claim_token' is null) then
    perform private.raise_error('22023', 'invalid_results',
      'Each result needs bucket_id, name, claim_token and an outcome of purged, retry or dead.');
  end if;

  with r as (
    select x.bucket_id, x.name, x.claim_token, x.outcome, x.error, x.retry_at
      from jsonb_to_recordset(p_results) as x(bucket_id text, name text, claim_token uuid, outcome text, error text,
                                               retry_at timestamptz)
  ), decided as (
    select q.bucket_id, q.name, r.retry_at,
           -- "Purged" is believed only when the row is really gone: the Storage API deletes row
           -- and bytes in one transaction, so a row still there means the bytes are too.
           case when r.outcome = 'purged' and exists (select 1 from storage.objects o
                                                       where o.bucket_id = q.bucket_id and o.name = q.name)
                then 'retry' else r.outcome end as outcome,
           case when r.outcome = 'purged' then 'the Storage API answered, but the object is still in storage.objects'
                else coalesce(r.error, 'failed') end as error,
           q.attempts, q.max_attempts
      from r
      join private.storage_purge_queue q
        on q.bucket_id = r.bucket_id and q.name = r.name and q.status = 'claimed' and q.claim_token = r.claim_token
       for update of q
  )
  update private.storage_purge_queue q
     set status = case when d.outcome = 'purged' then 'purged'
                       when d.outcome = 'dead' or d.attempts >= d.max_attempts then 'dead'
                       else 'pending' end,
         purged_at = case when d.outcome = 'purged' then now() end,
         dead_at = case when d.outcome <> 'purged' and (d.outcome = 'dead' or d.attempts >= d.max_attempts) then now() end,
         last_error = case when d.outcome = 'purged' then q.last_error else left(d.error, 1000) end,
         next_attempt_at = case when d.outcome = 'retry' then greatest(coalesce(d.retry_at, now()), now()) else q.next_attempt_at end,
         claim_token = null, lease_expires_at = null
    from decided d
   where q.bucket_id = d.bucket_id and q.name = d.name;
  get diagnostics v_updated = row_count;
  return v_updated;
end
$$;
comment on function private.complete_storage_purges(jsonb) is
  'storage-purge worker: records outcomes [{bucket_id, name, claim_token, outcome: purged|retry|dead, error?, retry_at?}] for rows the claim still holds; purged only when the storage.objects row is gone (else a retry); a retry past max_attempts is dead. Returns the rows updated. Errors: 22023 invalid_results.';

create or replace function private.requeue_storage_purge(p_bucket_id text, p_name text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_status text;
begin
  update private.storage_purge_queue q
     set status = 'pending', attempts = 0, next_attempt_at = now(), dead_at = null, claim_token = null, lease_expires_at = null
   where q.bucket_id = p_bucket_id and q.name = p_name and q.status = 'dead'
  returning q.status into v_status;
  if v_status is null then
    perform private.raise_error('22023', 'dead_letter_not_found', 'No dead storage purge has that bucket and name.');
  end if;
  return v_status;
end
$$;
comment on function private.requeue_storage_purge(text, text) is
  'Operators (postgres, Studio): queues a dead storage purge again with fresh attempts once its cause is fixed; the last error stays until the next outcome. Errors: 22023 dead_letter_not_found.';

create or replace function private.caller_is_deleted() returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.profiles p where p.id = (select auth.uid()) and p.deleted_at is not null)
$$;
comment on function private.caller_is_deleted() is 'True when the signed-in caller''s account has been deleted (an access token issued before the deletion).';

create policy "deleted accounts upload nothing" on storage.objects
  as restrictive for insert to authenticated
  with check (not (select private.caller_is_deleted()));
create policy "deleted accounts change nothing" on storage.objects
  as restrictive for update to authenticated
  using (not (select private.caller_is_deleted()));

create view admin.storage_purge_dead_letters with (security_invoker = true) as
select q.bucket_id, q.name, q.reason, q.attempts, q.max_attempts, q.last_error, q.queued_at, q.dead_at,
       format('Fix the cause (Storage API reachable? SUPABASE_SERVICE_ROLE_KEY valid?), then select private.requeue_storage_purge(%L, %L);',
              q.bucket_id, q.name) as next_step
  from private.storage_purge_queue q
 where q.status = 'dead'
 order by q.dead_at desc;
comment on view admin.storage_purge_dead_letters is
  'Files the storage-purge worker gave up on (a deleted account''s avatar or draft covers whose bytes are still stored), newest first, with the last error and the statement that queues each again.';

revoke all on admin.storage_purge_dead_letters from public, anon, authenticated, service_role;
revoke execute on function private.claim_storage_purges(integer, integer), private.complete_storage_purges(jsonb),
  private.requeue_storage_purge(text, text), private.caller_is_deleted() from public;
grant execute on function private.caller_is_deleted() to authenticated;
grant execute on function private.claim_storage_purges(integer, integer), private.complete_storage_purges(jsonb)
  to service_role;

-- Schedule. The worker is an edge function, called through pg_net every 10 seconds (every minute
-- before pg_cron 1.5) with the Vault secrets project_url and service_role_key (see
-- 20261125100050_scheduled_jobs). The interval bounds how long a deleted account's public avatar
-- URL keeps answering.
select private.schedule_edge_function('rally-storage-purge', 'storage-purge', private.cron_seconds_schedule(10),
  interval '10 seconds', 60000,
  'Deletes the files of deleted accounts (avatars, draft covers) through the Storage API.');
