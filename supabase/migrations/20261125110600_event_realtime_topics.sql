-- Realtime authorization for event topics (private channels):
--   event:<id>        seats_left, waitlist size, check-in count, event_cancelled — anyone who
--                     may see the event may receive; nobody sends (the database broadcasts).
--   event:<id>:staff  per-guest check-ins — the host and co-hosts only. Kept apart from
--                     event:<id> because Broadcast authorizes whole topics, not single events,
--                     and guests must not receive other guests' names.

create or replace function private.realtime_can_receive(p_topic text, p_extension text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_match text[];
begin
  if v_uid is null or p_topic is null then
    return false;
  end if;
  if p_topic = 'user:' || v_uid::text then
    return p_extension in ('broadcast', 'presence');
  end if;
  v_match := regexp_match(p_topic, '^event:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(:staff)?$');
  if v_match is not null and p_extension = 'broadcast' then
    if v_match[2] is null then
      return private.can_see_event(v_match[1]::uuid, v_uid);
    end if;
    return private.is_event_staff(v_match[1]::uuid, v_uid);
  end if;
  return false;
end
$$;
comment on function private.realtime_can_receive(text, text) is
  'Whether the caller may receive on a private Realtime topic: user:<own id>; event:<id> if they may see the event; event:<id>:staff if they run it.';
