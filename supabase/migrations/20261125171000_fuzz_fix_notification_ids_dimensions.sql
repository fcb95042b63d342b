-- Fuzzing finding: mark_notifications_read with a multidimensional id array.
--
-- The fuzzing gate (tests/fuzz/rpcs.fuzz.test.ts) sent `{"p_ids": [["<uuid>"], ["<uuid>"]]}`,
-- which PostgREST coerces to a two-dimensional uuid[]; the function's null check
-- (`array_position`) then failed with 0A000 "searching for elements in multidimensional arrays
-- is not supported" — an internal error (HTTP 500) instead of Rally's 22023 refusal. The id list
-- is now checked for being one-dimensional first, in its own test so the element search never
-- sees a multidimensional array, and refused with the same `invalid_ids` code as the other
-- malformed lists. Everything else is unchanged (create or replace keeps the grants).

create or replace function private.mark_notifications_read(p_ids uuid[]) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_ids uuid[];
begin
  if p_ids is not null and array_ndims(p_ids) > 1 then
    perform private.raise_error('22023', 'invalid_ids', 'Give the notification ids as a flat list (or null for all).');
  end if;
  if p_ids is not null and (cardinality(p_ids) > 1000 or array_position(p_ids, null) is not null) then
    perform private.raise_error('22023', 'invalid_ids', 'Give at most 1,000 notification ids, none of them null (or null for all).');
  end if;
  with marked as (
    update public.notifications n set read_at = now()
     where n.user_id = v_uid and n.read_at is null and (p_ids is null or n.id = any (p_ids))
    returning n.id
  )
  select coalesce(array_agg(marked.id), '{}') into v_ids from marked;
  if cardinality(v_ids) > 0 then
    -- The user's other devices clear the same badges.
    perform realtime.send(jsonb_build_object('ids', case when p_ids is null then null else to_jsonb(v_ids) end,
                                             'all', p_ids is null,
                                             'unread_count', (select count(*) from public.notifications n
                                                               where n.user_id = v_uid and n.read_at is null)),
                          'notifications_read', 'user:' || v_uid::text, true);
  end if;
  return cardinality(v_ids);
end
$$;

comment on function public.mark_notifications_read(uuid[]) is
  'Marks the caller''s notifications read: those in p_ids (a flat list), or all when p_ids is null. Returns how many changed; other ids are ignored. Broadcasts notifications_read (ids, unread_count) on user:<id>. Errors: 22023 invalid_ids; 42501 not_authenticated.';
