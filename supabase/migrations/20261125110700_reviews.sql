-- Reviews: one per attended (checked-in) booking, written after the event ends and within 30
-- days, rating 1–5 with optional text. The host may reply once. The host's rating summary on
-- profiles (rating_count, rating_sum → rating_average) is kept exact by row-locked increments.

create table public.reviews (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id),
  booking_id uuid not null unique references public.bookings (id),
  author_id uuid not null references public.profiles (id) on delete cascade,
  host_id uuid not null references public.profiles (id),
  rating smallint not null,
  body text,
  host_reply text,
  host_replied_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint reviews_rating check (rating between 1 and 5),
  constraint reviews_body_length check (body is null or char_length(body) <= 2000),
  constraint reviews_reply_length check (host_reply is null or char_length(host_reply) between 1 and 2000)
);
revoke all on public.reviews from public, anon, authenticated, service_role;
comment on table public.reviews is
  'Reviews of attended events. Readable by everyone who can see the event; the guest inserts theirs (booking_id, rating, body), the host sets host_reply once.';
create index reviews_event_idx on public.reviews (event_id, created_at desc);
create index reviews_host_idx on public.reviews (host_id, created_at desc);
create index reviews_author_idx on public.reviews (author_id);

create or replace function private.validate_review() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_booking public.bookings;
  v_event private.events;
  v_is_service boolean := coalesce(auth.role(), '') = 'service_role';
begin
  if tg_op = 'INSERT' then
    select * into v_booking from public.bookings where id = new.booking_id;
    if v_booking.id is null or (not v_is_service and v_booking.guest_id is distinct from v_uid) then
      perform private.raise_error('22023', 'booking_not_found', 'You can only review your own bookings.');
    end if;
    select * into v_event from private.events where id = v_booking.event_id;
    if v_booking.checked_in_at is null then
      perform private.raise_error('P0001', 'not_attended', 'Only guests who checked in can review the event.');
    end if;
    if v_event.ends_at > now() then
      perform private.raise_error('P0001', 'event_not_ended', 'Reviews open when the event ends.');
    end if;
    if now() > v_event.ends_at + interval '720 hours' then
      perform private.raise_error('P0001', 'review_window_closed', 'Reviews close 30 days after the event.');
    end if;
    if new.rating is null or new.rating not between 1 and 5 then
      perform private.raise_error('22023', 'invalid_rating', 'A rating is a whole number from 1 to 5.');
    end if;
    if new.body is not null and char_length(new.body) > 2000 then
      perform private.raise_error('22023', 'review_too_long', 'A review has at most 2,000 characters.');
    end if;
    if exists (select 1 from public.reviews r where r.booking_id = new.booking_id) then
      perform private.raise_error('P0001', 'already_reviewed', 'This booking was already reviewed.');
    end if;
    new.event_id := v_booking.event_id;
    new.author_id := v_booking.guest_id;
    new.host_id := v_event.host_id;
    new.host_reply := null;
    new.host_replied_at := null;
  else
    if new.host_reply is distinct from old.host_reply then
      if old.host_reply is not null then
        perform private.raise_error('P0001', 'already_replied', 'The host has already replied to this review.');
      end if;
      if v_is_service is not true and v_uid is distinct from old.host_id then
        perform private.raise_error('42501', 'not_the_host', 'Only the event''s host can reply.');
      end if;
      if new.host_reply is null or char_length(btrim(new.host_reply)) = 0 or char_length(new.host_reply) > 2000 then
        perform private.raise_error('22023', 'invalid_reply', 'A reply has 1 to 2,000 characters.');
      end if;
      new.host_replied_at := now();
    end if;
    if (new.rating, new.body) is distinct from (old.rating, old.body) and v_is_service is not true then
      perform private.raise_error('42501', 'review_not_editable', 'Reviews cannot be edited after posting.');
    end if;
  end if;
  new.updated_at := now();
  return new;
end
$$;
create trigger reviews_validate before insert or update on public.reviews
  for each row execute function private.validate_review();

create or replace function private.reviews_maintain_rating() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op in ('INSERT', 'UPDATE') then
    update public.profiles set rating_count = rating_count + 1, rating_sum = rating_sum + new.rating where id = new.host_id;
  end if;
  if tg_op in ('DELETE', 'UPDATE') then
    update public.profiles set rating_count = rating_count - 1, rating_sum = rating_sum - old.rating where id = old.host_id;
  end if;
  return null;
end
$$;
create trigger reviews_maintain_rating after insert or delete or update of rating on public.reviews
  for each row execute function private.reviews_maintain_rating();

create or replace function private.notify_review() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.notify(new.host_id, 'review_received', format('New %s-star review', new.rating), left(new.body, 200),
                         jsonb_build_object('event_id', new.event_id, 'review_id', new.id));
  return null;
end
$$;
create trigger reviews_notify after insert on public.reviews
  for each row execute function private.notify_review();

alter table public.reviews enable row level security;
create policy "reviews are visible with their event" on public.reviews
  for select to anon, authenticated
  using (private.can_see_event(event_id, (select auth.uid())));
create policy "guests review their attended bookings" on public.reviews
  for insert to authenticated
  with check (exists (select 1 from public.bookings b where b.id = booking_id and b.guest_id = (select auth.uid())));
create policy "hosts reply to reviews of their events" on public.reviews
  for update to authenticated
  using (host_id = (select auth.uid()))
  with check (host_id = (select auth.uid()));
grant select on public.reviews to anon, authenticated;
grant insert (booking_id, rating, body), update (host_reply) on public.reviews to authenticated;
grant select, insert, update, delete on public.reviews to service_role;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.notify_review(),
  private.reviews_maintain_rating(),
  private.validate_review()
  from public;
