-- Fuzzing finding: a signed Stripe webhook whose envelope Rally cannot store answered 500.
--
-- The fuzzing gate (tests/fuzz/functions.fuzz.test.ts) sent stripe-webhook correctly signed
-- bodies shaped like events but with an id outside Stripe's `evt_…` alphabet, a non-numeric or
-- out-of-range `created`, a non-boolean `livemode`, or a `data.object` that is not an object.
-- ingest_stripe_event only checked that the fields were present, so the insert failed on the
-- stripe_events_id check constraint (23514) or a cast (22P02/22003/22008) — an internal error,
-- answered 500, that Stripe retries for three days. The envelope is now checked field by field
-- (each check guarded by the field's JSON type, in a CASE so no cast runs on the wrong type)
-- and refused with 22023 invalid_stripe_event (HTTP 400), like a missing field.
--
-- Likewise, an event of a known type whose object carries values of the wrong type (an amount
-- that is not a number, a timestamp out of range) made its applier fail with a data exception
-- (class 22). That is bad input, not an outage: it is now refused as 22023
-- invalid_stripe_event too. The event's own writes are rolled back either way, and the webhook
-- still notes the failure for operators (private.stripe_event_failures). Anything else an
-- applier raises is unchanged (a bug stays a 500, so Stripe retries after the fix).

-- True when p_event has the envelope of a Stripe event Rally can store.
create or replace function private.is_stripe_event_envelope(p_event jsonb) returns boolean
language sql
immutable
set search_path = ''
as $$
  select case
    when jsonb_typeof(p_event) is distinct from 'object' then false
    when p_event ->> 'object' is distinct from 'event' then false
    when jsonb_typeof(p_event -> 'id') is distinct from 'string' then false
    when (p_event ->> 'id') !~ '^evt_[A-Za-z0-9]+$' or length(p_event ->> 'id') > 255 then false
    when jsonb_typeof(p_event -> 'type') is distinct from 'string' or length(p_event ->> 'type') not between 1 and 255 then false
    when jsonb_typeof(p_event -> 'data' -> 'object') is distinct from 'object' then false
    when jsonb_typeof(p_event -> 'created') is distinct from 'number' then false
    when (p_event ->> 'created')::numeric not between 0 and 253402300799 then false
    when (p_event ->> 'created')::numeric <> trunc((p_event ->> 'created')::numeric) then false
    when coalesce(jsonb_typeof(p_event -> 'livemode'), 'null') not in ('boolean', 'null') then false
    when coalesce(jsonb_typeof(p_event -> 'account'), 'null') not in ('string', 'null') then false
    when coalesce(jsonb_typeof(p_event -> 'api_version'), 'null') not in ('string', 'null') then false
    when coalesce(jsonb_typeof(p_event -> 'data' -> 'object' -> 'id'), 'null') not in ('string', 'null') then false
    else true
  end
$$;
comment on function private.is_stripe_event_envelope(jsonb) is
  'True when a webhook body has the envelope of a Stripe event (evt_ id, type, integer created, object data.object, boolean livemode, string account) that private.stripe_events can store.';
-- Called only inside ingest_stripe_event (security definer): no role needs it directly.
revoke execute on function private.is_stripe_event_envelope(jsonb) from public;

create or replace function private.ingest_stripe_event(p_event jsonb, p_endpoint text, p_expected_livemode boolean default null)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_result text;
  v_status text;
begin
  if not private.is_stripe_event_envelope(p_event) then
    perform private.raise_error('22023', 'invalid_stripe_event', 'Expected a Stripe event object.');
  end if;
  insert into private.stripe_events (id, endpoint, type, account, livemode, api_version, stripe_created_at, object_id, payload)
  values (p_event ->> 'id', p_endpoint, p_event ->> 'type', p_event ->> 'account', coalesce((p_event ->> 'livemode')::boolean, false),
          p_event ->> 'api_version', to_timestamp((p_event ->> 'created')::bigint), p_event -> 'data' -> 'object' ->> 'id', p_event)
  on conflict (id) do nothing;
  if not found then
    return 'duplicate';
  end if;
  if p_expected_livemode is not null and coalesce((p_event ->> 'livemode')::boolean, false) <> p_expected_livemode then
    v_result := 'wrong_mode';
  else
    begin
      v_result := private.apply_stripe_event(p_event);
    exception when data_exception then
      -- A value of the wrong type or out of range in the event's object: bad input, not an outage.
      perform private.raise_error('22023', 'invalid_stripe_event',
        format('The %s event carries a value of the wrong type or out of range.', p_event ->> 'type'));
    end;
  end if;
  v_status := case when v_result in ('ignored', 'wrong_mode') then 'ignored' else 'processed' end;
  update private.stripe_events set status = v_status, result = v_result, processed_at = now() where id = p_event ->> 'id';
  delete from private.stripe_event_failures where event_id = p_event ->> 'id';
  return v_status;
end
$$;
comment on function private.ingest_stripe_event(jsonb, text, boolean) is
  'Service role (stripe-webhook): stores a verified Stripe event once and applies it in the same transaction. Returns processed, ignored (stored, not applied) or duplicate. Errors: 22023 invalid_stripe_event (not an event envelope Rally can store, or an object value of the wrong type).';
