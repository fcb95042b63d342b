-- Event lifecycle: publish_event, cancel_event, and the jobs that complete ended events and
-- expire stale holds. The jobs are scheduled with pg_cron (private.schedule_job, watched in
-- admin.scheduled_jobs); each is plain SQL that can also be run by hand.

-- Followers are told about a newly published event by private.announce_published_event, a hook
-- the event promotion capability defines (20261125140400_event_promotion.sql: it queues the
-- announcement job); publish_event calls it inside its transaction.

create or replace function private.publish_event(p_event_id uuid) returns setof public.events
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
begin
  select * into v_event from private.events where id = p_event_id for update;
  if v_event.id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if private.is_event_staff(p_event_id, v_uid, array['manager']) is not true then
    perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can publish this event.');
  end if;
  if v_event.status = 'published' then
    return query select * from public.events where id = p_event_id;
    return;
  end if;
  if v_event.status <> 'draft' then
    perform private.raise_error('P0001', 'event_closed', format('A %s event cannot be published.', v_event.status));
  end if;
  if v_event.starts_at <= now() then
    perform private.raise_error('P0001', 'event_in_past', 'An event that has already started cannot be published.');
  end if;
  if not exists (select 1 from public.ticket_types t where t.event_id = p_event_id) then
    perform private.raise_error('P0001', 'no_ticket_types', 'Add at least one ticket type before publishing.');
  end if;
  if exists (select 1 from public.ticket_types t where t.event_id = p_event_id and t.price_cents > 0)
     and not exists (select 1 from public.profiles p where p.id = v_event.host_id and p.payouts_enabled) then
    perform private.raise_error('P0001', 'payouts_not_enabled', 'Finish Stripe onboarding (payouts enabled) before selling paid tickets.');
  end if;
  update private.events set status = 'published', published_at = now() where id = p_event_id
  returning * into v_event;
  perform private.announce_published_event(v_event, v_uid);
  return query select * from public.events where id = p_event_id;
end
$$;

create or replace function public.publish_event(p_event_id uuid) returns setof public.events
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.publish_event(p_event_id);
end
$$;
comment on function public.publish_event(uuid) is
  'Publishes a draft (host or managing co-host). Needs at least one ticket type, a start in the future, and payouts enabled when any ticket is paid. Idempotent. Errors: 22023 event_not_found; 42501 not_event_staff; P0001 no_ticket_types, payouts_not_enabled, event_in_past, event_closed.';

-- An event with a new time, place or online link, as change_event_details and the series'
-- change_event_occurrences read their arguments: null keeps a value, an empty string clears a
-- text field, p_lat and p_lng move the location together.
create or replace function private.event_with_details(
  p_event private.events, p_starts_at timestamptz, p_ends_at timestamptz, p_timezone text, p_venue_name text,
  p_address text, p_city text, p_lat double precision, p_lng double precision, p_online_url text
) returns private.events
language plpgsql
stable
set search_path = ''
as $$
declare
  v_new private.events := p_event;
begin
  if (p_lat is null) <> (p_lng is null) then
    perform private.raise_error('22023', 'invalid_location', 'Give both p_lat and p_lng, or neither.');
  end if;
  v_new.starts_at := coalesce(p_starts_at, p_event.starts_at);
  v_new.ends_at := coalesce(p_ends_at, p_event.ends_at);
  v_new.timezone := coalesce(p_timezone, p_event.timezone);
  v_new.venue_name := case when p_venue_name is null then p_event.venue_name else nullif(btrim(p_venue_name), '') end;
  v_new.address := case when p_address is null then p_event.address else nullif(btrim(p_address), '') end;
  v_new.city := case when p_city is null then p_event.city else nullif(btrim(p_city), '') end;
  v_new.online_url := case when p_online_url is null then p_event.online_url else nullif(btrim(p_online_url), '') end;
  if p_lat is not null then
    v_new.location := private.event_location(extensions.st_setsrid(extensions.st_makepoint(p_lng, p_lat), 4326));
  end if;
  return v_new;
end
$$;
comment on function private.event_with_details(private.events, timestamptz, timestamptz, text, text, text, text, double precision, double precision, text) is
  'The event with new time, place or link applied as the change RPCs take them (null keeps, '''' clears, lat and lng together); nothing is written. Errors: 22023 invalid_location.';

-- Changes a published event's time, place or online link: the one way they change once guests
-- may have booked (public.events refuses them). Every booked guest is told what changed, in their
-- own time zone, on every channel they chose for event_changed (in-app, email, push, SMS,
-- WhatsApp: private.notify and the alert outbox); who counts as a booked guest is
-- private.event_guests_to_tell, the same definition announcements use
-- (20261125140350_event_announcements), and each person is told once. A material change (the start moves, the venue, address or location changes, or
-- the event goes from in person to online or back) gives each guest booked before it a window
-- to cancel with a full refund, whatever the policy: until the new start, at most 7 days.
-- Times only move to the future (the release of the host's earnings follows the real end).
-- Arguments left null keep their value; an empty string clears a text field.
create or replace function private.change_event_details(
  p_event_id uuid, p_starts_at timestamptz, p_ends_at timestamptz, p_timezone text, p_venue_name text,
  p_address text, p_city text, p_lat double precision, p_lng double precision, p_online_url text, p_reason text
) returns setof public.events
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_old private.events;
  v_new private.events;
  v_material boolean;
  v_window timestamptz;
  v_change_id uuid;
  r record;
begin
  if p_reason is not null and char_length(p_reason) > 1000 then
    perform private.raise_error('22023', 'reason_too_long', 'A reason has at most 1,000 characters.');
  end if;
  select * into v_old from private.events where id = p_event_id for update;
  if v_old.id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if private.is_event_staff(p_event_id, v_uid, array['manager']) is not true then
    perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can change this event.');
  end if;
  if v_old.status = 'draft' then
    perform private.raise_error('P0001', 'event_not_published', 'Edit a draft through public.events; this is for published events.');
  elsif v_old.status <> 'published' then
    perform private.raise_error('P0001', 'event_closed', format('A %s event can no longer change.', v_old.status));
  end if;

  v_new := private.event_with_details(v_old, p_starts_at, p_ends_at, p_timezone, p_venue_name, p_address, p_city, p_lat, p_lng,
                                      p_online_url);
  if (v_new.starts_at, v_new.ends_at, v_new.timezone, v_new.venue_name, v_new.address, v_new.city, v_new.location::text,
      v_new.online_url)
     is not distinct from (v_old.starts_at, v_old.ends_at, v_old.timezone, v_old.venue_name, v_old.address, v_old.city,
                           v_old.location::text, v_old.online_url) then
    return query select * from public.events where id = p_event_id;
    return;
  end if;
  if v_new.starts_at is distinct from v_old.starts_at and v_old.starts_at <= now() then
    perform private.raise_error('P0001', 'event_started', 'The event has begun: its start can no longer move.');
  end if;
  if v_new.starts_at <= now() or v_new.ends_at <= now() then
    perform private.raise_error('22023', 'event_in_past', 'An event can only move to the future.');
  end if;

  -- validate_event checks the rest (order of times, length, zone, link format) for every writer.
  update private.events
     set starts_at = v_new.starts_at, ends_at = v_new.ends_at, timezone = v_new.timezone, venue_name = v_new.venue_name,
         address = v_new.address, city = v_new.city, location = v_new.location, online_url = v_new.online_url
   where id = p_event_id
  returning * into v_new;
  -- Ticket sales close by the event's end.
  update public.ticket_types set sales_end = v_new.ends_at where event_id = p_event_id and sales_end > v_new.ends_at;

  v_material := v_new.starts_at is distinct from v_old.starts_at
             or (v_new.venue_name, v_new.address, v_new.city, v_new.location::text)
                  is distinct from (v_old.venue_name, v_old.address, v_old.city, v_old.location::text)
             or (v_new.online_url is null) <> (v_old.online_url is null);
  v_window := case when v_material then least(v_new.starts_at, now() + interval '7 days') end;
  insert into private.event_changes (event_id, changed_by, reason, old_values, new_values, material, refund_window_until)
  values (p_event_id, v_uid, nullif(btrim(p_reason), ''),
          jsonb_build_object('starts_at', v_old.starts_at, 'ends_at', v_old.ends_at, 'timezone', v_old.timezone,
                             'venue_name', v_old.venue_name, 'address', v_old.address, 'city', v_old.city,
                             'online', v_old.online_url is not null),
          jsonb_build_object('starts_at', v_new.starts_at, 'ends_at', v_new.ends_at, 'timezone', v_new.timezone,
                             'venue_name', v_new.venue_name, 'address', v_new.address, 'city', v_new.city,
                             'online', v_new.online_url is not null),
          v_material, v_window)
  returning id into v_change_id;

  for r in
    select g.booking_id, g.user_id as guest_id, g.timezone as guest_timezone
      from private.event_guests_to_tell(p_event_id, true, false) g
  loop
    perform private.notify(r.guest_id, 'event_changed',
      format('%s has changed', v_new.title),
      concat_ws(' ',
        case when (v_new.starts_at, v_new.ends_at) is distinct from (v_old.starts_at, v_old.ends_at)
             then format('New time: %s – %s (%s).',
                         to_char(v_new.starts_at at time zone r.guest_timezone, 'Dy DD Mon YYYY HH24:MI'),
                         to_char(v_new.ends_at at time zone r.guest_timezone, 'Dy DD Mon YYYY HH24:MI'),
                         r.guest_timezone) end,
        case when (v_new.venue_name, v_new.address, v_new.city, v_new.location::text)
                    is distinct from (v_old.venue_name, v_old.address, v_old.city, v_old.location::text)
             then format('New place: %s.', coalesce(concat_ws(', ', v_new.venue_name, v_new.city), 'see the event')) end,
        case when v_new.online_url is distinct from v_old.online_url then 'The online link changed.' end,
        case when v_material then format('You can cancel for a full refund until %s (%s).',
                                        to_char(v_window at time zone r.guest_timezone, 'Dy DD Mon YYYY HH24:MI'),
                                        r.guest_timezone) end,
        nullif(btrim(p_reason), '')),
      -- What the templates need to say it in the guest's language and zone.
      jsonb_build_object('event_id', p_event_id, 'booking_id', r.booking_id, 'change_id', v_change_id,
                         'material', v_material, 'refund_window_until', v_window, 'timezone', r.guest_timezone,
                         'time_changed', (v_new.starts_at, v_new.ends_at) is distinct from (v_old.starts_at, v_old.ends_at),
                         'place_changed', (v_new.venue_name, v_new.address, v_new.city, v_new.location::text)
                                            is distinct from (v_old.venue_name, v_old.address, v_old.city, v_old.location::text),
                         'link_changed', v_new.online_url is distinct from v_old.online_url,
                         'old_starts_at', v_old.starts_at, 'reason', nullif(btrim(p_reason), '')));
  end loop;
  perform realtime.send(jsonb_build_object('event_id', p_event_id, 'starts_at', v_new.starts_at, 'ends_at', v_new.ends_at,
                                           'material', v_material),
                        'event_changed', 'event:' || p_event_id::text, true);
  return query select * from public.events where id = p_event_id;
end
$$;

create or replace function public.change_event_details(
  p_event_id uuid, p_starts_at timestamptz default null, p_ends_at timestamptz default null, p_timezone text default null,
  p_venue_name text default null, p_address text default null, p_city text default null,
  p_lat double precision default null, p_lng double precision default null, p_online_url text default null,
  p_reason text default null
) returns setof public.events
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.change_event_details(p_event_id, p_starts_at, p_ends_at, p_timezone, p_venue_name,
                                                          p_address, p_city, p_lat, p_lng, p_online_url, p_reason);
end
$$;
comment on function public.change_event_details(uuid, timestamptz, timestamptz, text, text, text, text, double precision, double precision, text, text) is
  'Host or managing co-host changes a published event''s time, place or online link (null keeps a value, '''' clears a text field). Every booked guest is told what changed, in their own time zone (event_changed); a material change (start, venue/address/location, in person ↔ online) lets guests booked before it cancel with a full refund until the new start, at most 7 days. Times only move to the future. Errors: 22023 event_not_found / event_in_past / invalid_location / reason_too_long (and the event field checks); 42501 not_event_staff; P0001 event_not_published / event_closed / event_started.';

-- Cancels the event and every booking in it; paid, confirmed bookings get full refund
-- requests (the payments capability executes them). Guests and waitlisted people are told.
create or replace function private.cancel_event(p_event_id uuid, p_reason text) returns setof public.events
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
  v_booking public.bookings;
  v_entry public.waitlist_entries;
  v_refund bigint;
begin
  if p_reason is not null and char_length(p_reason) > 1000 then
    perform private.raise_error('22023', 'reason_too_long', 'A cancellation reason has at most 1,000 characters.');
  end if;
  select * into v_event from private.events where id = p_event_id for update;
  if v_event.id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if v_event.host_id is distinct from v_uid and private.is_admin() is not true then
    perform private.raise_error('42501', 'not_your_event', 'Only the host can cancel this event.');
  end if;
  if v_event.status = 'cancelled' then
    return query select * from public.events where id = p_event_id;
    return;
  end if;
  if v_event.status = 'completed' then
    perform private.raise_error('P0001', 'event_closed', 'A completed event cannot be cancelled.');
  end if;

  update private.events set status = 'cancelled', cancelled_at = now(), cancel_reason = nullif(btrim(p_reason), '')
   where id = p_event_id;

  for v_booking in
    select * from public.bookings where event_id = p_event_id and status in ('held', 'pending_approval', 'confirmed')
     order by id for update
  loop
    update public.bookings
       set status = 'cancelled', cancel_reason = 'event_cancelled', cancelled_at = now(), cancelled_by = v_uid,
           hold_expires_at = null, updated_at = now()
     where id = v_booking.id;
    delete from private.booking_allocations where booking_id = v_booking.id;
    -- Everything paid comes back: what an admin's goodwill refund already returned is deducted.
    v_refund := 0;
    if v_booking.status = 'confirmed' and v_booking.amount_cents > 0 then
      select v_booking.amount_cents - coalesce(sum(r.amount_cents), 0) into v_refund
        from private.refund_requests r where r.booking_id = v_booking.id and r.status not in ('failed', 'cancelled');
      if v_refund > 0 then
        insert into private.refund_requests (booking_id, amount_cents, currency, reason, requested_by)
        values (v_booking.id, v_refund, v_booking.currency, 'event_cancelled', v_uid);
      end if;
    end if;
    perform private.notify(v_booking.guest_id, 'event_cancelled', format('%s was cancelled', v_event.title),
      coalesce(nullif(btrim(p_reason), ''), 'The host cancelled this event.')
        || case when v_refund = v_booking.amount_cents and v_refund > 0 then ' You will get a full refund.'
                when v_refund > 0 then ' You will get the rest of your payment back.' else '' end,
      jsonb_build_object('event_id', p_event_id, 'booking_id', v_booking.id, 'refund_cents', v_refund));
    perform private.notify_seat_holders(v_booking.id, format('%s was cancelled', v_event.title),
      coalesce(nullif(btrim(p_reason), ''), 'The host cancelled this event.'),
      jsonb_build_object('event_id', p_event_id, 'booking_id', v_booking.id));
  end loop;

  -- Open offers close with their (now cancelled) bookings, whose guests were told above.
  for v_entry in
    update public.waitlist_entries w set status = 'cancelled', updated_at = now()
     where w.event_id = p_event_id and w.status in ('waiting', 'offered')
    returning w.*
  loop
    if v_entry.booking_id is null then
      perform private.notify(v_entry.guest_id, 'event_cancelled', format('%s was cancelled', v_event.title),
        coalesce(nullif(btrim(p_reason), ''), 'The host cancelled this event.'), jsonb_build_object('event_id', p_event_id));
    end if;
  end loop;
  -- Slots in (ticket type, slot) order, the order every booker locks them in.
  perform 1 from private.ticket_inventory i join public.ticket_types t on t.id = i.ticket_type_id
   where t.event_id = p_event_id order by i.ticket_type_id, i.slot for update of i;
  update private.ticket_inventory i set taken = 0
    from public.ticket_types t where t.id = i.ticket_type_id and t.event_id = p_event_id;

  perform realtime.send(jsonb_build_object('event_id', p_event_id, 'status', 'cancelled'), 'event_cancelled',
                        'event:' || p_event_id::text, true);
  return query select * from public.events where id = p_event_id;
end
$$;

create or replace function public.cancel_event(p_event_id uuid, p_reason text default null) returns setof public.events
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.cancel_event(p_event_id, p_reason);
end
$$;
comment on function public.cancel_event(uuid, text) is
  'The host cancels the event: every booking is cancelled, paid ones are refunded in full, guests and the waitlist are notified. Idempotent. Errors: 22023 event_not_found / reason_too_long; 42501 not_your_event; P0001 event_closed.';

-- Job: published events whose end has passed become completed.
create or replace function private.complete_ended_events() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  update private.events set status = 'completed', completed_at = now()
   where status = 'published' and ends_at <= now();
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function private.complete_ended_events() is 'Job (every 5 minutes): published events past their end become completed.';

grant execute on function private.publish_event(uuid), private.cancel_event(uuid, text),
  private.change_event_details(uuid, timestamptz, timestamptz, text, text, text, text, double precision, double precision, text, text)
  to authenticated;
revoke execute on function public.publish_event(uuid), public.cancel_event(uuid, text),
  public.change_event_details(uuid, timestamptz, timestamptz, text, text, text, text, double precision, double precision, text, text)
  from public, anon, authenticated, service_role;
grant execute on function public.publish_event(uuid), public.cancel_event(uuid, text),
  public.change_event_details(uuid, timestamptz, timestamptz, text, text, text, text, double precision, double precision, text, text)
  to anon, authenticated;

select private.schedule_job('rally-expire-stale-bookings', '* * * * *', interval '1 minute',
  'select private.expire_stale_bookings()',
  'Expires held bookings and pending approvals past their deadline; their seats go to the waitlist.');
select private.schedule_job('rally-complete-ended-events', '*/5 * * * *', interval '5 minutes',
  'select private.complete_ended_events()',
  'Marks published events that have ended as completed.');

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.cancel_event(uuid,text),
  private.change_event_details(uuid,timestamptz,timestamptz,text,text,text,text,double precision,double precision,text,text),
  private.complete_ended_events(),
  private.event_with_details(private.events,timestamptz,timestamptz,text,text,text,text,double precision,double precision,text),
  private.publish_event(uuid)
  from public;
