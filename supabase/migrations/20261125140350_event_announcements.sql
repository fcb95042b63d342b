-- Host announcements to an event's guests, and who an event notice goes to (issue 14).
--
-- send_event_announcement: the host or a managing co-host writes to the event's confirmed guests
-- (and, if they ask, to the people on its waitlist). Each guest gets it in-app and on every
-- channel they chose for `event_announcement` (email, push, SMS, WhatsApp: the alert outbox
-- fans it out), and it is posted in the event chat as a system message, so it stays where the
-- conversation is. Never across a block (private.notify_from). At most 5 per event per day,
-- whoever of its staff sends them (rate limit `event_announcement`, keyed by the event): each
-- one reaches every guest on every channel. Each is recorded with how many guests it reached,
-- which host_event_stats sums (20261125140400_event_promotion).
--
-- private.event_guests_to_tell is the one definition of "the guests an event notice goes to",
-- one row per person: announcements use it (confirmed, optionally the waitlist), and so do the
-- change notices of change_event_details (20261125110500_event_lifecycle: everyone holding a
-- booking, confirmed or not yet), so the two never disagree about who is a guest.

create table private.event_announcements (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id) on delete cascade,
  sent_by uuid references public.profiles (id) on delete set null,
  title text not null,
  body text not null,
  include_waitlist boolean not null default false,
  recipients integer not null default 0,
  chat_message_id uuid,
  created_at timestamptz not null default now(),
  constraint event_announcements_title check (char_length(title) between 1 and 120),
  constraint event_announcements_body check (char_length(body) between 1 and 2000),
  constraint event_announcements_recipients check (recipients >= 0)
);
comment on table private.event_announcements is
  'Announcements hosts sent to an event''s guests (send_event_announcement): who sent it, what, whether the waitlist was included, how many guests it reached, and its system message in the event chat.';
create index event_announcements_event_idx on private.event_announcements (event_id, created_at);
create index event_announcements_sent_by_idx on private.event_announcements (sent_by);

-- The people an event notice goes to, once each: guests with a confirmed booking, with
-- p_include_unconfirmed also those holding seats or waiting for approval, and with
-- p_include_waitlist also people waiting on (or offered a spot from) the waitlist. booking_id is
-- their booking (null for the waitlist); timezone is theirs, for times they read.
create or replace function private.event_guests_to_tell(p_event_id uuid, p_include_unconfirmed boolean, p_include_waitlist boolean)
returns table (user_id uuid, booking_id uuid, timezone text)
language sql
stable
security definer
set search_path = ''
as $$
  select distinct on (g.user_id) g.user_id, g.booking_id, p.timezone
    from (select b.guest_id as user_id, b.id as booking_id, case b.status when 'confirmed' then 0 else 1 end as rank
            from public.bookings b
           where b.event_id = p_event_id
             and (b.status = 'confirmed' or (p_include_unconfirmed and b.status in ('held', 'pending_approval')))
          union all
          select w.guest_id, null, 2
            from public.waitlist_entries w
           where p_include_waitlist and w.event_id = p_event_id and w.status in ('waiting', 'offered')) g
    join public.profiles p on p.id = g.user_id and p.deleted_at is null
   order by g.user_id, g.rank, g.booking_id
$$;
comment on function private.event_guests_to_tell(uuid, boolean, boolean) is
  'Who an event notice goes to, one row per person with their booking and time zone: confirmed guests, optionally those holding seats or awaiting approval, optionally the waitlist. Shared by announcements and change notices.';

create or replace function private.send_event_announcement(p_event_id uuid, p_title text, p_body text, p_include_waitlist boolean)
returns table (id uuid, event_id uuid, recipients integer, chat_message_id uuid, created_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
  v_title text := btrim(p_title);
  v_body text := btrim(p_body);
  v_row private.event_announcements;
  v_count integer := 0;
  v_conversation uuid;
  v_message public.messages;
  r record;
begin
  if v_title is null or char_length(v_title) not between 1 and 120 then
    perform private.raise_error('22023', 'invalid_title', 'An announcement has a title of 1 to 120 characters.');
  end if;
  if v_body is null or char_length(v_body) not between 1 and 2000 then
    perform private.raise_error('22023', 'invalid_body', 'An announcement has a message of 1 to 2,000 characters.');
  end if;
  select * into v_event from private.events e where e.id = p_event_id for share;
  if v_event.id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if private.is_event_staff(p_event_id, v_uid, array['manager']) is not true then
    perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can write to this event''s guests.');
  end if;
  if v_event.status not in ('published', 'completed') then
    perform private.raise_error('P0001', 'event_not_open', format('A %s event has no guests to write to.', v_event.status));
  end if;
  perform private.consume_rate_limit('event_announcement', p_event_id::text);

  insert into private.event_announcements (event_id, sent_by, title, body, include_waitlist)
  values (p_event_id, v_uid, v_title, v_body, coalesce(p_include_waitlist, false))
  returning * into v_row;
  for r in select * from private.event_guests_to_tell(p_event_id, false, coalesce(p_include_waitlist, false)) g
            where g.user_id <> v_uid
  loop
    if private.notify_from(v_uid, r.user_id, 'event_announcement', v_title, v_body,
         jsonb_build_object('event_id', p_event_id, 'booking_id', r.booking_id, 'announcement_id', v_row.id,
                            'dedupe_key', 'event_announcement:' || v_row.id::text)) is not null then
      v_count := v_count + 1;
    end if;
  end loop;
  if v_count = 0 then
    perform private.raise_error('P0001', 'no_guests', 'Nobody is booked for this event yet (or everyone booked has blocked you).');
  end if;

  select c.id into v_conversation from public.conversations c where c.event_id = p_event_id;
  if v_conversation is not null then
    v_message := private.post_system_message(v_conversation, v_uid, v_title || E'\n\n' || v_body,
                                             jsonb_build_object('kind', 'announcement', 'announcement_id', v_row.id));
  end if;
  update private.event_announcements a set recipients = v_count, chat_message_id = v_message.id
   where a.id = v_row.id
  returning * into v_row;
  return query select v_row.id, v_row.event_id, v_row.recipients, v_row.chat_message_id, v_row.created_at;
end
$$;

create or replace function public.send_event_announcement(
  p_event_id uuid, p_title text, p_body text, p_include_waitlist boolean default false
) returns table (id uuid, event_id uuid, recipients integer, chat_message_id uuid, created_at timestamptz)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.send_event_announcement(p_event_id, p_title, p_body, p_include_waitlist);
end
$$;
comment on function public.send_event_announcement(uuid, text, text, boolean) is
  'The host or a managing co-host writes to the event''s confirmed guests (p_include_waitlist: also the people on its waitlist): each gets it in-app and on the channels they chose for event_announcement (email, push, SMS, WhatsApp), never across a block, and it is posted in the event chat. Published or completed events; at most 5 per event per day. Returns the announcement''s id, how many guests it reached and the chat message. Errors: 22023 event_not_found, invalid_title, invalid_body; 42501 not_event_staff; P0001 event_not_open, no_guests, rate_limited.';

revoke execute on function private.event_guests_to_tell(uuid, boolean, boolean),
  private.send_event_announcement(uuid, text, text, boolean) from public;
grant execute on function private.send_event_announcement(uuid, text, text, boolean) to authenticated;
revoke execute on function public.send_event_announcement(uuid, text, text, boolean) from public, anon, authenticated, service_role;
grant execute on function public.send_event_announcement(uuid, text, text, boolean) to anon, authenticated;
