-- Invitations: invite-only (private) events, invitations by name and invite links.
--
-- A host or managing co-host invites people by user id (invite_to_event) or hands out an invite
-- link (create_invite_link: an unguessable 144-bit token, optionally limited in uses and time).
-- Whoever is invited sees the event whatever its visibility, and for a `private` event only
-- invitees, booked guests and staff do. Invitees are notified (event_invitation), RSVP by
-- booking or with decline_invitation, and skip the host's approval: the host already chose them.
-- Earlier capabilities call the hooks defined here: can_see_event (20261125110200_events) asks
-- private.is_event_invitee; book_event and accept_waitlist_offer (20261125110400) skip approval
-- for invitees and mark the invitation accepted (private.accept_invitation).
-- Blocks: nobody is invited across a block (either direction), a link does not let a blocked
-- person in, and a block made after the invitation hides the event again (can_see_event checks
-- blocks before invitations).
-- Counting link uses cannot over-admit: one conditional UPDATE under the link's row lock, with
-- the check constraint uses <= max_uses behind it. Redeeming a link again, or after being invited
-- by name, uses nothing. A revoked invitation is final for links too (the host removed that
-- person); only invite_to_event brings them back.
-- Spam bounds: at most 100 people per call and 500 new invitations per event per 24 hours;
-- someone who declined is never notified again, and a person is told about an event at most once
-- a day however often the host revokes and renews their invitation.

create table public.event_invite_links (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id) on delete cascade,
  token text not null default translate(encode(extensions.gen_random_bytes(18), 'base64'), '+/', '-_'),
  created_by uuid references public.profiles (id) on delete set null,
  max_uses integer,
  uses integer not null default 0,
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  constraint event_invite_links_token_format check (token ~ '^[A-Za-z0-9_-]{24}$'),
  constraint event_invite_links_max_uses check (max_uses is null or max_uses between 1 and 10000),
  constraint event_invite_links_uses check (uses >= 0 and (max_uses is null or uses <= max_uses))
);
revoke all on public.event_invite_links from public, anon, authenticated, service_role;
comment on table public.event_invite_links is
  'Invite links of an event: whoever redeems the token (redeem_invite_link) becomes an invitee. Optional maximum uses and expiry; revocable. Visible to the host and managing co-hosts only (the token is a secret); created with create_invite_link.';
comment on column public.event_invite_links.token is '144-bit random, URL-safe (24 characters). Put it in the invite URL; redeem_invite_link(p_token) takes it.';
comment on column public.event_invite_links.uses is 'People who joined through this link; never above max_uses, whatever the concurrency.';
create unique index event_invite_links_token_key on public.event_invite_links (token);
create index event_invite_links_event_idx on public.event_invite_links (event_id, created_at desc);
create index event_invite_links_created_by_idx on public.event_invite_links (created_by);

create table public.event_invitations (
  id uuid primary key default gen_random_uuid(),
  event_id uuid not null references private.events (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  invited_by uuid references public.profiles (id) on delete set null,
  invite_link_id uuid references public.event_invite_links (id) on delete set null,
  status text not null default 'pending',
  responded_at timestamptz,
  notified_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint event_invitations_status check (status in ('pending', 'accepted', 'declined', 'revoked')),
  constraint event_invitations_one_per_user unique (event_id, user_id)
);
revoke all on public.event_invitations from public, anon, authenticated, service_role;
comment on table public.event_invitations is
  'Who is invited to an event: by name (invite_to_event, invited_by) or through a link (invite_link_id). pending → accepted (they booked) or declined (decline_invitation); revoked by the host (revoke_invitation). Invitees see the event (a private one only they, booked guests and staff see) and skip approval. The invitee and the event''s staff read it; written only through the invitation RPCs.';
comment on column public.event_invitations.notified_at is 'When the invitee was last told (event_invitation); a renewed invitation tells them again only a day later.';
comment on column public.event_invitations.status is 'pending | accepted (booked) | declined | revoked (by the host; the event is hidden again unless they hold a booking)';
create index event_invitations_user_idx on public.event_invitations (user_id, created_at desc);
create index event_invitations_event_created_idx on public.event_invitations (event_id, created_at);
create index event_invitations_invited_by_idx on public.event_invitations (invited_by);
create index event_invitations_link_idx on public.event_invitations (invite_link_id);

insert into private.notification_types (type, category, critical, in_app, email, sms, whatsapp, description) values
  ('event_invitation', 'events', false, true, true, false, false, 'A host invited you to an event');

-- ---------------------------------------------------------------------------------------------
-- Hooks other capabilities call
-- ---------------------------------------------------------------------------------------------

-- can_see_event (events) asks this; it checks no block itself (can_see_event does first).
create or replace function private.is_event_invitee(p_event_id uuid, p_user_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.event_invitations i
                  where i.event_id = p_event_id and i.user_id = p_user_id and i.status in ('pending', 'accepted', 'declined'))
$$;
comment on function private.is_event_invitee(uuid, uuid) is
  'True while the user holds an invitation to the event that was not revoked (pending, accepted or declined). Invitees see the event and skip approval.';

-- book_event calls this once the invitee's booking is written: the RSVP is a yes.
create or replace function private.accept_invitation(p_event_id uuid, p_user_id uuid) returns void
language sql
security definer
set search_path = ''
as $$
  update public.event_invitations
     set status = 'accepted', responded_at = now(), updated_at = now()
   where event_id = p_event_id and user_id = p_user_id and status in ('pending', 'declined')
$$;
comment on function private.accept_invitation(uuid, uuid) is 'An invitee booked: their invitation is accepted (book_event calls it).';

-- The event for a staff action on invitations, or raises.
create or replace function private.event_for_inviting(p_event_id uuid, p_user_id uuid) returns private.events
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_event private.events;
begin
  select * into v_event from private.events e where e.id = p_event_id;
  if v_event.id is null or private.can_see_event(p_event_id, p_user_id) is not true then
    perform private.raise_error('22023', 'event_not_found', 'No such event.');
  end if;
  if private.is_event_staff(p_event_id, p_user_id, array['manager']) is not true then
    perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can invite people.');
  end if;
  if v_event.status <> 'published' or v_event.ends_at <= now() then
    perform private.raise_error('P0001', 'event_not_open', 'Invitations go out for published events that have not ended.');
  end if;
  return v_event;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Invitations by name
-- ---------------------------------------------------------------------------------------------

create or replace function private.invite_to_event(p_event_id uuid, p_user_ids uuid[])
returns table (user_id uuid, status text)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_event private.events;
  v_host public.profiles;
  v_ids uuid[];
  v_recent integer;
  v_id uuid;
  v_invitation public.event_invitations;
  v_outcome text;
begin
  if p_user_ids is null or array_ndims(p_user_ids) is distinct from 1 or array_position(p_user_ids, null) is not null then
    perform private.raise_error('22023', 'invalid_argument', 'p_user_ids is a non-empty list of user ids.');
  end if;
  select array_agg(distinct x) into v_ids from unnest(p_user_ids) as x;
  if cardinality(v_ids) > 100 then
    perform private.raise_error('22023', 'too_many_invitees', 'Invite at most 100 people at a time.');
  end if;
  v_event := private.event_for_inviting(p_event_id, v_uid);
  select * into v_host from public.profiles p where p.id = v_event.host_id;
  -- Invitations to one event are counted one call at a time.
  perform private.lock_key('event_invitations:' || p_event_id::text);
  select count(*) into v_recent from public.event_invitations i
   where i.event_id = p_event_id and i.created_at > now() - interval '24 hours';
  if v_recent + cardinality(v_ids) > 500 then
    perform private.raise_error('P0001', 'invitation_limit',
      format('At most 500 people can be invited to an event per 24 hours; %s were invited already.', v_recent));
  end if;

  foreach v_id in array v_ids loop
    v_outcome := null;
    if not exists (select 1 from public.profiles p where p.id = v_id and p.deleted_at is null)
       or private.is_event_staff(p_event_id, v_id)
       or private.is_blocked_between(v_event.host_id, v_id)
       or private.is_blocked_between(v_uid, v_id) then
      -- One answer for unknown, deleted, staff and blocked people: a host learns nobody's blocks.
      v_outcome := 'not_invitable';
    elsif exists (select 1 from public.bookings b where b.event_id = p_event_id and b.guest_id = v_id
                   and b.status in ('held', 'pending_approval', 'confirmed')) then
      v_outcome := 'already_going';
    end if;
    if v_outcome is null then
      v_invitation := null;
      insert into public.event_invitations as i (event_id, user_id, invited_by)
      values (p_event_id, v_id, v_uid)
      on conflict on constraint event_invitations_one_per_user do update
         set status = 'pending', invited_by = excluded.invited_by, invite_link_id = null, responded_at = null,
             created_at = now(), updated_at = now()
       where i.status = 'revoked'
      returning * into v_invitation;
      if v_invitation.id is null then
        -- Pending, accepted or declined already: nobody is told twice (declining is final for the host).
        v_outcome := 'already_invited';
      elsif v_invitation.notified_at > now() - interval '24 hours' then
        -- Renewed after a revocation: a revoke-and-invite loop tells them once a day at most.
        v_outcome := 'invited';
      else
        v_outcome := 'invited';
        update public.event_invitations i set notified_at = now() where i.id = v_invitation.id;
        perform private.notify(v_id, 'event_invitation',
          format('%s invited you to %s', coalesce(v_host.display_name, v_host.username), v_event.title),
          format('%s, %s%s', to_char(v_event.starts_at at time zone v_event.timezone, 'Dy DD Mon, HH24:MI'),
                 v_event.timezone, coalesce(' · ' || v_event.city, '')),
          jsonb_build_object('event_id', p_event_id, 'invitation_id', v_invitation.id, 'invited_by', v_uid));
      end if;
    end if;
    user_id := v_id;
    status := v_outcome;
    return next;
  end loop;
end
$$;

create or replace function public.invite_to_event(p_event_id uuid, p_user_ids uuid[])
returns table (user_id uuid, status text)
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.invite_to_event(p_event_id, p_user_ids);
end
$$;
comment on function public.invite_to_event(uuid, uuid[]) is
  'The host or a managing co-host invites people (up to 100 per call) to a published event. Each gets an event_invitation notification, sees the event (also a private one) and may book it without approval. Returns one row per person: invited, already_invited (nobody is notified twice; someone who declined stays declined), already_going, or not_invitable (unknown, deleted, staff, or a block either way — one answer, so blocks stay private). A revoked invitation is renewed. Errors: 22023 event_not_found / invalid_argument / too_many_invitees; 42501 not_event_staff; P0001 event_not_open, invitation_limit (500 new invitations per event per 24 hours).';

create or replace function private.decline_invitation(p_event_id uuid) returns public.event_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_invitation public.event_invitations;
begin
  select * into v_invitation from public.event_invitations i
   where i.event_id = p_event_id and i.user_id = v_uid and i.status in ('pending', 'accepted', 'declined')
     for update;
  if v_invitation.id is null then
    perform private.raise_error('22023', 'invitation_not_found', 'You have no invitation to this event.');
  end if;
  if exists (select 1 from public.bookings b where b.event_id = p_event_id and b.guest_id = v_uid
              and b.status in ('held', 'pending_approval', 'confirmed')) then
    perform private.raise_error('P0001', 'already_booked', 'You have a booking for this event: cancel it with cancel_booking instead.');
  end if;
  update public.event_invitations set status = 'declined', responded_at = now(), updated_at = now()
   where id = v_invitation.id returning * into v_invitation;
  return v_invitation;
end
$$;

create or replace function public.decline_invitation(p_event_id uuid) returns public.event_invitations
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.decline_invitation(p_event_id);
end
$$;
comment on function public.decline_invitation(uuid) is
  'The invitee says no. They still see the event and may change their mind by booking it (book_event accepts the invitation); the host sees the answer in event_invitations and cannot re-notify them. Errors: 22023 invitation_not_found; P0001 already_booked (cancel the booking instead).';

create or replace function private.revoke_invitation(p_event_id uuid, p_user_id uuid) returns public.event_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_invitation public.event_invitations;
begin
  if p_event_id is null or p_user_id is null then
    perform private.raise_error('22023', 'invalid_argument', 'p_event_id and p_user_id are required.');
  end if;
  if private.is_event_staff(p_event_id, v_uid, array['manager']) is not true then
    perform private.raise_error('42501', 'not_event_staff', 'Only the host or a managing co-host can revoke invitations.');
  end if;
  select * into v_invitation from public.event_invitations i
   where i.event_id = p_event_id and i.user_id = p_user_id for update;
  if v_invitation.id is null then
    perform private.raise_error('22023', 'invitation_not_found', 'This person has no invitation to this event.');
  end if;
  update public.event_invitations set status = 'revoked', updated_at = now()
   where id = v_invitation.id returning * into v_invitation;
  return v_invitation;
end
$$;

create or replace function public.revoke_invitation(p_event_id uuid, p_user_id uuid) returns public.event_invitations
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.revoke_invitation(p_event_id, p_user_id);
end
$$;
comment on function public.revoke_invitation(uuid, uuid) is
  'The host or a managing co-host withdraws an invitation: a private event is hidden from that person again unless they hold a booking (a booking is cancelled with cancel_booking, which refunds in full when staff cancel), and invite links no longer let them in. Idempotent. Errors: 22023 invitation_not_found / invalid_argument; 42501 not_event_staff.';

-- ---------------------------------------------------------------------------------------------
-- Invite links
-- ---------------------------------------------------------------------------------------------

create or replace function private.create_invite_link(p_event_id uuid, p_max_uses integer, p_expires_at timestamptz)
returns public.event_invite_links
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_link public.event_invite_links;
begin
  if p_max_uses is not null and (p_max_uses < 1 or p_max_uses > 10000) then
    perform private.raise_error('22023', 'invalid_max_uses', 'An invite link has 1 to 10,000 uses, or no limit (null).');
  end if;
  if p_expires_at is not null and p_expires_at <= now() then
    perform private.raise_error('22023', 'invalid_expiry', 'An invite link must expire in the future (or never: null).');
  end if;
  perform private.event_for_inviting(p_event_id, v_uid);
  perform private.lock_key('event_invite_links:' || p_event_id::text);
  if (select count(*) from public.event_invite_links l where l.event_id = p_event_id and l.revoked_at is null) >= 100 then
    perform private.raise_error('P0001', 'too_many_invite_links', 'An event has at most 100 active invite links; revoke one first.');
  end if;
  insert into public.event_invite_links (event_id, created_by, max_uses, expires_at)
  values (p_event_id, v_uid, p_max_uses, p_expires_at)
  returning * into v_link;
  return v_link;
end
$$;

create or replace function public.create_invite_link(p_event_id uuid, p_max_uses integer default null, p_expires_at timestamptz default null)
returns public.event_invite_links
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.create_invite_link(p_event_id, p_max_uses, p_expires_at);
end
$$;
comment on function public.create_invite_link(uuid, integer, timestamptz) is
  'The host or a managing co-host makes an invite link for a published event: an unguessable token (put it in the URL) that makes whoever redeems it (redeem_invite_link) an invitee. p_max_uses (1–10,000, null = no limit) is never exceeded under any concurrency; p_expires_at (future, null = until the event ends). Errors: 22023 event_not_found / invalid_max_uses / invalid_expiry; 42501 not_event_staff; P0001 event_not_open, too_many_invite_links (100 active per event).';

create or replace function private.revoke_invite_link(p_link_id uuid) returns public.event_invite_links
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_link public.event_invite_links;
begin
  select * into v_link from public.event_invite_links l where l.id = p_link_id for update;
  if v_link.id is null or private.is_event_staff(v_link.event_id, v_uid, array['manager']) is not true then
    perform private.raise_error('22023', 'invite_link_not_found', 'No such invite link.');
  end if;
  update public.event_invite_links set revoked_at = coalesce(revoked_at, now())
   where id = p_link_id returning * into v_link;
  return v_link;
end
$$;

create or replace function public.revoke_invite_link(p_link_id uuid) returns public.event_invite_links
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.revoke_invite_link(p_link_id);
end
$$;
comment on function public.revoke_invite_link(uuid) is
  'The host or a managing co-host stops an invite link; people who already joined through it stay invited. Idempotent. Errors: 22023 invite_link_not_found.';

create or replace function private.redeem_invite_link(p_token text) returns public.event_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_link public.event_invite_links;
  v_event private.events;
  v_invitation public.event_invitations;
begin
  if p_token is null or p_token !~ '^[A-Za-z0-9_-]{24}$' then
    perform private.raise_error('22023', 'invite_link_not_found', 'This invite link is not valid.');
  end if;
  select * into v_link from public.event_invite_links l where l.token = p_token;
  select * into v_event from private.events e where e.id = v_link.event_id;
  -- A blocked person learns no more than from a wrong token.
  if v_link.id is null or v_event.status = 'draft' or private.is_blocked_between(v_event.host_id, v_uid) then
    perform private.raise_error('22023', 'invite_link_not_found', 'This invite link is not valid.');
  end if;
  if v_event.host_id = v_uid or private.is_event_staff(v_event.id, v_uid) then
    perform private.raise_error('P0001', 'already_staff', 'You run this event.');
  end if;
  select * into v_invitation from public.event_invitations i where i.event_id = v_event.id and i.user_id = v_uid;
  if v_invitation.status = 'revoked' then
    perform private.raise_error('P0001', 'invitation_revoked', 'The host withdrew your invitation to this event.');
  end if;
  if v_invitation.id is not null then
    -- Already invited (by name or by a link): nothing is used up.
    return v_invitation;
  end if;
  if v_event.status <> 'published' or v_event.ends_at <= now() then
    perform private.raise_error('P0001', 'event_not_open', 'This event is over or was cancelled.');
  end if;
  if v_link.revoked_at is not null then
    perform private.raise_error('P0001', 'invite_link_revoked', 'This invite link was switched off by the host.');
  end if;
  if v_link.expires_at <= now() then
    perform private.raise_error('P0001', 'invite_link_expired', 'This invite link has expired.');
  end if;
  -- The invitation first (a concurrent redeem by the same person meets the unique key), then one
  -- use under the link's row lock; a link already used up rolls both back.
  begin
    insert into public.event_invitations (event_id, user_id, invited_by, invite_link_id)
    values (v_event.id, v_uid, v_link.created_by, v_link.id)
    returning * into v_invitation;
  exception when unique_violation then
    select * into v_invitation from public.event_invitations i where i.event_id = v_event.id and i.user_id = v_uid;
    if v_invitation.status = 'revoked' then
      perform private.raise_error('P0001', 'invitation_revoked', 'The host withdrew your invitation to this event.');
    end if;
    return v_invitation;
  end;
  update public.event_invite_links l set uses = l.uses + 1
   where l.id = v_link.id and l.revoked_at is null and (l.max_uses is null or l.uses < l.max_uses)
     and (l.expires_at is null or l.expires_at > now());
  if not found then
    select * into v_link from public.event_invite_links l where l.id = v_link.id;
    if v_link.revoked_at is not null then
      perform private.raise_error('P0001', 'invite_link_revoked', 'This invite link was switched off by the host.');
    end if;
    perform private.raise_error('P0001', 'invite_link_used_up', 'This invite link has been used as many times as the host allowed.');
  end if;
  return v_invitation;
end
$$;

create or replace function public.redeem_invite_link(p_token text) returns public.event_invitations
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.redeem_invite_link(p_token);
end
$$;
comment on function public.redeem_invite_link(text) is
  'The signed-in caller follows an invite link: they become an invitee of its event (see it, book it without approval) and the link''s use is counted; redeeming again, or when already invited, uses nothing and returns the same invitation. Errors: 22023 invite_link_not_found (also for someone the host blocked); P0001 invite_link_used_up, invite_link_expired, invite_link_revoked, invitation_revoked, event_not_open, already_staff; 42501 not_authenticated.';

-- ---------------------------------------------------------------------------------------------
-- Row level security: read your own invitations; staff read their event's. Writes via RPCs only.
-- ---------------------------------------------------------------------------------------------

alter table public.event_invitations enable row level security;
create policy "invitees see their invitations and staff see their event's" on public.event_invitations
  for select to authenticated
  using (user_id = (select auth.uid()) or private.is_event_staff(event_id, (select auth.uid())));
grant select on public.event_invitations to authenticated;
grant select, insert, update, delete on public.event_invitations to service_role;

alter table public.event_invite_links enable row level security;
create policy "the host and managing co-hosts see their event's invite links" on public.event_invite_links
  for select to authenticated
  using (private.is_event_staff(event_id, (select auth.uid()), array['manager']));
grant select on public.event_invite_links to authenticated;
grant select, insert, update, delete on public.event_invite_links to service_role;

grant execute on function private.invite_to_event(uuid, uuid[]), private.decline_invitation(uuid),
  private.revoke_invitation(uuid, uuid), private.create_invite_link(uuid, integer, timestamptz),
  private.revoke_invite_link(uuid), private.redeem_invite_link(text)
  to authenticated;
grant execute on function private.is_event_invitee(uuid, uuid) to anon, authenticated, service_role;
revoke execute on function public.invite_to_event(uuid, uuid[]), public.decline_invitation(uuid),
  public.revoke_invitation(uuid, uuid), public.create_invite_link(uuid, integer, timestamptz),
  public.revoke_invite_link(uuid), public.redeem_invite_link(text)
  from public, anon, authenticated, service_role;
grant execute on function public.invite_to_event(uuid, uuid[]), public.decline_invitation(uuid),
  public.revoke_invitation(uuid, uuid), public.create_invite_link(uuid, integer, timestamptz),
  public.revoke_invite_link(uuid), public.redeem_invite_link(text)
  to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  private.accept_invitation(uuid,uuid),
  private.create_invite_link(uuid,integer,timestamptz),
  private.decline_invitation(uuid),
  private.event_for_inviting(uuid,uuid),
  private.invite_to_event(uuid,uuid[]),
  private.is_event_invitee(uuid,uuid),
  private.redeem_invite_link(text),
  private.revoke_invitation(uuid,uuid),
  private.revoke_invite_link(uuid)
  from public;
