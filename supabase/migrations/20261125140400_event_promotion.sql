-- Event promotion and engagement: followers hear about new events, hosts promote again at most
-- weekly, anyone can share a link that attributes views and bookings, and hosts see per-event
-- stats (views, shares, bookings, conversion, revenue).
--
-- Fan-out without blocking: publishing an event only enqueues a private.promotion_jobs row in
-- its own transaction (O(1), whatever the follower count). A job, private.process_promotion_queue
-- (pg_cron every minute, or every 10 seconds where pg_cron ≥ 1.5), walks the host's followers in
-- keyset batches by follower id (index follows_followee_follower_idx), inserting each batch of
-- notifications with ONE set-based INSERT (the outbox fan-out trigger then adds the email / SMS /
-- WhatsApp deliveries for the whole batch in one more statement) and broadcasting each on
-- user:<id>. Jobs are claimed with FOR UPDATE SKIP LOCKED, so several runners split the queue; a
-- crashed run resumes from the stored cursor. Nothing here locks the event, its ticket inventory
-- or anyone's bookings, so bookings go on while 100,000 followers are notified. Each job's
-- notifications carry the dedupe key event_published:<job id>, so a follower gets one alert per
-- job even if a batch were replayed. A cancelled or started event stops its job.
-- Who is told: followers of the host, for public and followers-only events (an unlisted event is
-- shared by link, not announced); never across a block; a re-promotion skips followers who
-- already booked.
-- promote_event: the host or a managing co-host re-notifies followers at most once per event per
-- 7 days, counting the publish announcement.
-- Share links: create_share_link(event) gives each user one short code per event (10 characters,
-- 50 random bits). record_event_view(event, code) counts a view (anonymous callers too) and
-- book_event(…, p_share_code) attributes the booking to the link (not when sharer = booker).
-- book_event (20261125110400) and publish_event (20261125110500) call the two hooks defined
-- here: private.attribute_booking records the attribution, private.announce_published_event
-- queues the announcement.
-- host_event_stats: for the host only; it also counts the host's announcements to guests and
-- their reach (20261125140350_event_announcements).

-- Promotion walks followers in follower-id order.
create index follows_followee_follower_idx on public.follows (followee_id, follower_id);

create table private.promotion_jobs (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id) on delete cascade,
  host_id uuid not null references public.profiles (id) on delete cascade,
  kind text not null,
  requested_by uuid references public.profiles (id) on delete set null,
  status text not null default 'queued',
  cursor uuid,
  notified integer not null default 0,
  broadcasts integer not null default 0,
  batches integer not null default 0,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  constraint promotion_jobs_kind check (kind in ('published', 'promoted')),
  constraint promotion_jobs_status check (status in ('queued', 'done', 'cancelled'))
);
comment on table private.promotion_jobs is
  'Fan-out queue: one row per announcement of an event to the host''s followers (published at publish time, promoted by promote_event), processed in batches by process_promotion_queue. cursor = last follower id handled; notified = notifications stored, broadcasts = of those, pushed live (the rest were muted in-app).';
create index promotion_jobs_queue_idx on private.promotion_jobs (created_at) where status = 'queued';
create index promotion_jobs_event_idx on private.promotion_jobs (event_id, created_at desc);
create index promotion_jobs_host_idx on private.promotion_jobs (host_id);
create index promotion_jobs_requested_by_idx on private.promotion_jobs (requested_by);

create table private.share_links (
  code text primary key,
  event_id uuid not null references private.events (id) on delete cascade,
  created_by uuid not null references public.profiles (id) on delete cascade,
  created_at timestamptz not null default now(),
  constraint share_links_code_format check (code ~ '^[0-9a-hjkmnp-tv-z]{10}$'),
  constraint share_links_one_per_user unique (event_id, created_by)
);
comment on table private.share_links is 'Share links: one short code per user and event; views and bookings through it are attributed to it.';
create index share_links_created_by_idx on private.share_links (created_by);

create table private.event_views (
  id bigint generated always as identity primary key,
  event_id uuid not null references private.events (id) on delete cascade,
  share_code text references private.share_links (code) on delete set null,
  viewer_id uuid,
  viewed_at timestamptz not null default now()
);
comment on table private.event_views is 'Event page views recorded by record_event_view (insert-only: no hot counter row), with the share link that brought the viewer.';
create index event_views_event_idx on private.event_views (event_id, viewed_at);
create index event_views_share_code_idx on private.event_views (share_code) where share_code is not null;

create table private.booking_attributions (
  booking_id uuid primary key references public.bookings (id) on delete cascade,
  event_id uuid not null references private.events (id) on delete cascade,
  share_code text not null references private.share_links (code) on delete cascade,
  created_at timestamptz not null default now()
);
comment on table private.booking_attributions is 'Bookings made through a share link (book_event p_share_code).';
create index booking_attributions_event_idx on private.booking_attributions (event_id);
create index booking_attributions_share_code_idx on private.booking_attributions (share_code);

-- ---------------------------------------------------------------------------------------------
-- Fan-out queue
-- ---------------------------------------------------------------------------------------------

-- Queues an announcement when the host has followers and the event is announced to followers.
create or replace function private.enqueue_promotion(p_event private.events, p_kind text, p_requested_by uuid)
returns private.promotion_jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job private.promotion_jobs;
begin
  if p_event.visibility not in ('public', 'followers')
     or not exists (select 1 from public.follows f where f.followee_id = p_event.host_id) then
    return null;
  end if;
  insert into private.promotion_jobs (event_id, host_id, kind, requested_by)
  values (p_event.id, p_event.host_id, p_kind, p_requested_by)
  returning * into v_job;
  return v_job;
end
$$;

-- One batch of one job: up to p_batch_size followers after the cursor. Returns how many were
-- notified; marks the job done when the followers are exhausted.
create or replace function private.promotion_batch(p_job_id uuid, p_batch_size integer) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job private.promotion_jobs;
  v_event private.events;
  v_host public.profiles;
  v_batch uuid[];
  v_title text;
  v_body text;
  v_data jsonb;
  v_recipients uuid[];
  v_in_app boolean[];
  v_notified integer;
  v_pinged integer;
begin
  select * into v_job from private.promotion_jobs where id = p_job_id for update;
  if v_job.id is null or v_job.status <> 'queued' then
    return 0;
  end if;
  select * into v_event from private.events where id = v_job.event_id;
  if v_event.status <> 'published' or v_event.starts_at <= now() then
    update private.promotion_jobs set status = 'cancelled', finished_at = now() where id = p_job_id;
    return 0;
  end if;
  select * into v_host from public.profiles where id = v_job.host_id;

  select coalesce(array_agg(b.follower_id order by b.follower_id), '{}') into v_batch
    from (select f.follower_id from public.follows f
           where f.followee_id = v_job.host_id
             and f.follower_id > coalesce(v_job.cursor, '00000000-0000-0000-0000-000000000000')
           order by f.follower_id
           limit p_batch_size) b;

  v_title := case v_job.kind when 'published' then format('%s posted a new event: %s', v_host.display_name, v_event.title)
                             else format('Don''t miss %s by %s', v_event.title, v_host.display_name) end;
  v_body := format('%s, %s%s', to_char(v_event.starts_at at time zone v_event.timezone, 'Dy DD Mon, HH24:MI'),
                   v_event.timezone, coalesce(' · ' || v_event.city, ''));
  v_data := jsonb_build_object('event_id', v_event.id, 'host_id', v_host.id, 'kind', v_job.kind,
                               'starts_at', v_event.starts_at, 'dedupe_key', 'event_published:' || v_job.id);

  -- Who gets it: not across a block, and on a re-promotion not those who already booked.
  select coalesce(array_agg(r.user_id order by r.user_id), '{}'), coalesce(array_agg(coalesce(p.enabled, true) order by r.user_id), '{}')
    into v_recipients, v_in_app
    from unnest(v_batch) as r(user_id)
    left join public.notification_preferences p
      on p.user_id = r.user_id and p.type = 'event_published' and p.channel = 'in_app'
   where not exists (select 1 from public.blocks bl
                      where (bl.blocker_id = v_job.host_id and bl.blocked_id = r.user_id)
                         or (bl.blocker_id = r.user_id and bl.blocked_id = v_job.host_id))
     and (v_job.kind = 'published' or not exists (
           select 1 from public.bookings bk where bk.event_id = v_event.id and bk.guest_id = r.user_id
              and bk.status in ('held', 'pending_approval', 'confirmed')));

  -- One INSERT for the whole batch (the outbox trigger fans it out in one more statement) and,
  -- in the same statement, one broadcast per recipient who has the type on in-app, as
  -- private.notify sends it: the rows realtime.send() writes (a fresh id, the notification as
  -- payload, topic user:<id>, private, 'broadcast'), without 5,000 function calls. Like
  -- realtime.send, a failing broadcast only warns: the batch is then stored without it.
  begin
    with inserted as (
      insert into public.notifications (user_id, type, title, body, data, read_at)
      select r.user_id, 'event_published', v_title, v_body, v_data, case when not r.in_app then now() end
        from unnest(v_recipients, v_in_app) as r(user_id, in_app)
      returning *
    ), pinged as (
      insert into realtime.messages (id, payload, event, topic, private, extension)
      select gen_random_uuid(), to_jsonb(i), 'notification_created', 'user:' || i.user_id::text, true, 'broadcast'
        from inserted i where i.read_at is null
      returning 1
    )
    select (select count(*) from inserted), (select count(*) from pinged) into v_notified, v_pinged;
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
    insert into public.notifications (user_id, type, title, body, data, read_at)
    select r.user_id, 'event_published', v_title, v_body, v_data, case when not r.in_app then now() end
      from unnest(v_recipients, v_in_app) as r(user_id, in_app);
    get diagnostics v_notified = row_count;
    v_pinged := 0;
  end;

  update private.promotion_jobs
     set cursor = coalesce(v_batch[cardinality(v_batch)], cursor),
         notified = notified + v_notified,
         broadcasts = broadcasts + v_pinged,
         batches = batches + 1,
         started_at = coalesce(started_at, now()),
         status = case when cardinality(v_batch) < p_batch_size then 'done' else status end,
         finished_at = case when cardinality(v_batch) < p_batch_size then now() end
   where id = p_job_id;
  return v_notified;
end
$$;
comment on function private.promotion_batch(uuid, integer) is
  'One batch of a promotion job: the next p_batch_size followers after the cursor get event_published (one set-based insert + broadcasts).';

create or replace function private.process_promotion_queue(
  p_max_notifications integer default 200000, p_batch_size integer default 5000, p_max_seconds integer default 25
) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_started timestamptz := clock_timestamp();
  v_total integer := 0;
  v_job_id uuid;
begin
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 50000 then
    perform private.raise_error('22023', 'invalid_batch_size', 'A batch has 1 to 50,000 followers.');
  end if;
  loop
    exit when v_total >= p_max_notifications or clock_timestamp() - v_started > make_interval(secs => p_max_seconds);
    -- Oldest queued job nobody else is working on.
    select j.id into v_job_id from private.promotion_jobs j
     where j.status = 'queued'
     order by j.created_at
     limit 1
     for update skip locked;
    exit when v_job_id is null;
    v_total := v_total + private.promotion_batch(v_job_id, p_batch_size);
    v_job_id := null;
  end loop;
  return v_total;
end
$$;
comment on function private.process_promotion_queue(integer, integer, integer) is
  'Job: works through queued promotion jobs in batches (jobs locked with SKIP LOCKED) until the queue is empty, p_max_notifications were sent or p_max_seconds passed. Returns notifications created.';

-- ---------------------------------------------------------------------------------------------
-- The announcement when an event is published (publish_event, 20261125110500_event_lifecycle.sql)
-- ---------------------------------------------------------------------------------------------

-- Followers hear about it from the promotion queue, not inside the publishing transaction.
create or replace function private.announce_published_event(p_event private.events, p_published_by uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  perform private.enqueue_promotion(p_event, 'published', p_published_by);
end
$$;
comment on function private.announce_published_event(private.events, uuid) is
  'Queues the announcement of a newly published event to the host''s followers (publish_event calls it inside its transaction).';

-- ---------------------------------------------------------------------------------------------
-- Bookings through a share link (book_event's p_share_code, 20261125110400_bookings_and_waitlist.sql)
-- ---------------------------------------------------------------------------------------------

-- Through a share link of this event (not one's own): attributed. An unknown or other event's
-- code is ignored rather than failing the booking.
create or replace function private.attribute_booking(p_booking_id uuid, p_event_id uuid, p_share_code text, p_booker_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  insert into private.booking_attributions (booking_id, event_id, share_code)
  select p_booking_id, p_event_id, s.code from private.share_links s
   where s.code = p_share_code and s.event_id = p_event_id and s.created_by <> p_booker_id;
end
$$;
comment on function private.attribute_booking(uuid, uuid, text, uuid) is
  'Records that a booking came through someone else''s share link of the same event (book_event calls it inside its transaction).';

-- ---------------------------------------------------------------------------------------------
-- promote_event
-- ---------------------------------------------------------------------------------------------

create or replace function private.promote_event(p_event_id uuid)
returns table (job_id uuid, event_id uuid, followers integer, next_promotion_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
  v_last timestamptz;
  v_job private.promotion_jobs;
begin
  -- The row lock makes two concurrent promotions of the same event queue: the second sees the first.
  select * into v_event from private.events e where e.id = p_event_id for update;
  if v_event.id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if private.is_event_staff(p_event_id, v_uid, array['manager']) is not true then
    perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can promote this event.');
  end if;
  if v_event.status <> 'published' or v_event.starts_at <= now() then
    perform private.raise_error('P0001', 'event_not_open', 'Only published events that have not started can be promoted.');
  end if;
  if v_event.visibility = 'unlisted' then
    perform private.raise_error('P0001', 'event_unlisted', 'Unlisted events are shared by link, not announced to followers.');
  end if;
  if v_event.visibility = 'private' then
    perform private.raise_error('P0001', 'event_private', 'Private events are shared by invitation (invite_to_event, create_invite_link), not announced.');
  end if;
  select max(j.created_at) into v_last from private.promotion_jobs j where j.event_id = p_event_id;
  if v_last > now() - interval '7 days' then
    perform private.raise_error('P0001', 'promoted_recently',
      format('Followers heard about this event on %s; promote it again after %s.',
             to_char(v_last at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
             to_char((v_last + interval '7 days') at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')));
  end if;
  v_job := private.enqueue_promotion(v_event, 'promoted', v_uid);
  if v_job.id is null then
    perform private.raise_error('P0001', 'no_followers', 'The host has no followers to tell yet.');
  end if;
  return query select v_job.id, p_event_id,
    (select count(*)::integer from public.follows f where f.followee_id = v_event.host_id),
    v_job.created_at + interval '7 days';
end
$$;

create or replace function public.promote_event(p_event_id uuid)
returns table (job_id uuid, event_id uuid, followers integer, next_promotion_at timestamptz)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.promote_event(p_event_id);
end
$$;
comment on function public.promote_event(uuid) is
  'The host or a managing co-host tells the host''s followers about the event again (event_published, kind promoted; followers who already booked are skipped). At most once per event per 7 days, counting the announcement at publish. Delivered in batches by the promotion queue. Errors: 22023 event_not_found; 42501 not_event_staff; P0001 event_not_open, event_unlisted, event_private, promoted_recently, no_followers.';

-- ---------------------------------------------------------------------------------------------
-- Share links and views
-- ---------------------------------------------------------------------------------------------

-- 10 characters of lower-case Crockford base32 (no i, l, o, u): 50 random bits.
create or replace function private.new_share_code() returns text
language sql
volatile
set search_path = ''
as $$
  select string_agg(substr('0123456789abcdefghjkmnpqrstvwxyz', (get_byte(b.bytes, i) % 32) + 1, 1), '' order by i)
    from (select extensions.gen_random_bytes(10) as bytes) b, generate_series(0, 9) as i
$$;

create or replace function private.create_share_link(p_event_id uuid)
returns table (code text, event_id uuid, created_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_link private.share_links;
  v_status text;
begin
  select e.status into v_status from private.events e where e.id = p_event_id;
  if v_status is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if v_status <> 'published' then
    perform private.raise_error('P0001', 'event_not_open', 'Only published events can be shared.');
  end if;
  select * into v_link from private.share_links s where s.event_id = p_event_id and s.created_by = v_uid;
  for attempt in 1..5 loop
    exit when v_link.code is not null;
    begin
      insert into private.share_links (code, event_id, created_by) values (private.new_share_code(), p_event_id, v_uid)
      returning * into v_link;
    exception when unique_violation then
      -- Either a concurrent call of the same user won (read it) or a code collided (try another).
      select * into v_link from private.share_links s where s.event_id = p_event_id and s.created_by = v_uid;
    end;
  end loop;
  if v_link.code is null then
    perform private.raise_error('P0001', 'share_code_unavailable', 'No share code could be made; try again.');
  end if;
  return query select v_link.code, v_link.event_id, v_link.created_at;
end
$$;

create or replace function public.create_share_link(p_event_id uuid)
returns table (code text, event_id uuid, created_at timestamptz)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.create_share_link(p_event_id);
end
$$;
comment on function public.create_share_link(uuid) is
  'The caller''s short share code for a published event they can see (the same code every time). Pass it to record_event_view and book_event (p_share_code) so views and bookings are attributed. Errors: 22023 event_not_found; P0001 event_not_open; 42501 not_authenticated.';

create or replace function private.record_event_view(p_event_id uuid, p_share_code text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if p_share_code is not null and p_share_code !~ '^[0-9a-hjkmnp-tv-z]{10}$' then
    perform private.raise_error('22023', 'invalid_share_code', 'A share code has 10 characters from create_share_link.');
  end if;
  if p_event_id is null or private.can_see_event(p_event_id, v_uid) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  -- The host's and co-hosts' own visits are not audience.
  if v_uid is not null and private.is_event_staff(p_event_id, v_uid) then
    return false;
  end if;
  -- View inflation (issue 13): a signed-in viewer has their own bucket; anonymous viewers share
  -- one per event, as the database sees no IP address to tell them apart.
  if v_uid is not null then
    perform private.consume_rate_limit('event_view', v_uid::text);
  else
    perform private.consume_rate_limit('event_view_anonymous', p_event_id::text);
  end if;
  insert into private.event_views (event_id, share_code, viewer_id)
  values (p_event_id,
          (select s.code from private.share_links s where s.code = p_share_code and s.event_id = p_event_id),
          v_uid);
  return true;
end
$$;

create or replace function public.record_event_view(p_event_id uuid, p_share_code text default null) returns boolean
language sql
set search_path = ''
as $$
  select private.record_event_view(p_event_id, p_share_code)
$$;
comment on function public.record_event_view(uuid, text) is
  'Counts a view of the event page (signed in or anonymous), attributed to the share link when p_share_code is this event''s. Views by the host and co-hosts are not counted (returns false). Errors: 22023 event_not_found, invalid_share_code; P0001 rate_limited (views per signed-in user per hour, and anonymous views per event per hour).';

-- ---------------------------------------------------------------------------------------------
-- host_event_stats
-- ---------------------------------------------------------------------------------------------

create or replace function private.host_event_stats(p_event_id uuid)
returns table (event_id uuid, title text, status text, starts_at timestamptz, views bigint, signed_in_viewers bigint,
               shares bigint, share_views bigint, bookings bigint, share_bookings bigint, tickets bigint,
               conversion numeric, revenue_cents bigint, currency text, followers_notified bigint,
               announcements bigint, announcement_reach bigint)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_host uuid;
begin
  if p_event_id is not null then
    select e.host_id into v_host from private.events e where e.id = p_event_id;
    if v_host is null or private.can_see_event(p_event_id, v_uid) is not true then
      perform private.raise_error('22023', 'event_not_found', 'No such event.');
    end if;
    if v_host <> v_uid then
      perform private.raise_error('42501', 'not_your_event', 'Only the host sees this event''s stats.');
    end if;
  end if;
  return query
  select e.id, e.title, e.status, e.starts_at,
         v.views, v.signed_in_viewers, sh.shares, v.share_views, bk.bookings, bk.share_bookings, bk.tickets,
         case when v.views > 0 then round(bk.bookings::numeric / v.views, 4) end,
         bk.revenue_cents, (select min(t.currency) from public.ticket_types t where t.event_id = e.id),
         (select coalesce(sum(j.notified), 0)::bigint from private.promotion_jobs j where j.event_id = e.id),
         an.announcements, an.reach
    from private.events e
    cross join lateral (
      select count(*) as views, count(distinct ev.viewer_id) as signed_in_viewers,
             count(*) filter (where ev.share_code is not null) as share_views
        from private.event_views ev where ev.event_id = e.id) v
    cross join lateral (select count(*) as shares from private.share_links s where s.event_id = e.id) sh
    cross join lateral (select count(*) as announcements, coalesce(sum(a.recipients), 0)::bigint as reach
                          from private.event_announcements a where a.event_id = e.id) an
    cross join lateral (
      -- Bookings that were confirmed at some point; revenue is what was paid minus what was
      -- (or will be) refunded.
      select count(*) filter (where b.status = 'confirmed') as bookings,
             count(*) filter (where b.status = 'confirmed' and a.booking_id is not null) as share_bookings,
             coalesce(sum(b.quantity) filter (where b.status = 'confirmed'), 0) as tickets,
             coalesce(sum(b.amount_cents - r.amount_cents), 0)::bigint as revenue_cents
        from public.bookings b
        left join private.booking_attributions a on a.booking_id = b.id
        cross join lateral (select coalesce(sum(q.amount_cents), 0) as amount_cents from private.refund_requests q
                             where q.booking_id = b.id and q.status <> 'cancelled') r
       where b.event_id = e.id and b.confirmed_at is not null) bk
   where e.host_id = v_uid and (p_event_id is null or e.id = p_event_id)
   order by e.starts_at desc, e.id;
end
$$;

create or replace function public.host_event_stats(p_event_id uuid default null)
returns table (event_id uuid, title text, status text, starts_at timestamptz, views bigint, signed_in_viewers bigint,
               shares bigint, share_views bigint, bookings bigint, share_bookings bigint, tickets bigint,
               conversion numeric, revenue_cents bigint, currency text, followers_notified bigint,
               announcements bigint, announcement_reach bigint)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.host_event_stats(p_event_id);
end
$$;
comment on function public.host_event_stats(uuid) is
  'For the host only: per event (or just p_event_id), newest first — views (record_event_view), signed-in viewers, shares (share links made), views and confirmed bookings through share links, confirmed bookings and tickets, conversion (confirmed bookings / views), revenue in minor units (paid minus refunded, in the event''s currency), followers notified, and the host''s announcements (send_event_announcement) with their reach (guests told, summed over announcements). Errors: 22023 event_not_found; 42501 not_your_event, not_authenticated.';

-- Schema-level default privileges cannot take away PostgreSQL's global PUBLIC execute on new
-- functions, so each private function defined here is revoked explicitly, then granted.
revoke execute on function private.enqueue_promotion(private.events, text, uuid), private.promotion_batch(uuid, integer),
  private.process_promotion_queue(integer, integer, integer), private.promote_event(uuid), private.new_share_code(),
  private.create_share_link(uuid), private.record_event_view(uuid, text), private.host_event_stats(uuid) from public;
grant execute on function private.promote_event(uuid), private.create_share_link(uuid), private.host_event_stats(uuid)
  to authenticated;
grant execute on function private.record_event_view(uuid, text) to anon, authenticated;
revoke execute on function public.promote_event(uuid), public.create_share_link(uuid), public.host_event_stats(uuid),
  public.record_event_view(uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.promote_event(uuid), public.create_share_link(uuid), public.host_event_stats(uuid),
  public.record_event_view(uuid, text) to anon, authenticated;

select private.schedule_job('rally-process-promotion-queue', private.cron_seconds_schedule(10), interval '10 seconds',
  'select private.process_promotion_queue()',
  'Announces published and promoted events to the host''s followers, in batches.');

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.announce_published_event(private.events,uuid),
  private.attribute_booking(uuid,uuid,text,uuid)
  from public;
