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
  if v_event.id is null or not private.can_see_event(p_event_id, v_uid) then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if not private.is_event_staff(p_event_id, v_uid, array['manager']) then
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
begin
  if p_reason is not null and char_length(p_reason) > 1000 then
    perform private.raise_error('22023', 'reason_too_long', 'A cancellation reason has at most 1,000 characters.');
  end if;
  select * into v_event from private.events where id = p_event_id for update;
  if v_event.id is null or not private.can_see_event(p_event_id, v_uid) then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if v_event.host_id <> v_uid and not private.is_admin() then
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
    if v_booking.status = 'confirmed' and v_booking.amount_cents > 0 then
      insert into private.refund_requests (booking_id, amount_cents, currency, reason, requested_by)
      values (v_booking.id, v_booking.amount_cents, v_booking.currency, 'event_cancelled', v_uid)
      on conflict (booking_id) do nothing;
    end if;
    perform private.notify(v_booking.guest_id, 'event_cancelled', format('%s was cancelled', v_event.title),
      coalesce(nullif(btrim(p_reason), ''), 'The host cancelled this event.')
        || case when v_booking.status = 'confirmed' and v_booking.amount_cents > 0 then ' You will get a full refund.' else '' end,
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

grant execute on function private.publish_event(uuid), private.cancel_event(uuid, text) to authenticated;
revoke execute on function public.publish_event(uuid), public.cancel_event(uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.publish_event(uuid), public.cancel_event(uuid, text) to anon, authenticated;

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
  private.complete_ended_events(),
  private.publish_event(uuid)
  from public;
