-- Moderation: blocking people and reporting content.
--
--   block_user(user) / unblock_user(user)  idempotent wrappers over public.blocks with clear
--       errors (anonymous → 42501, yourself → 22023). What a block does is decided where each
--       capability reads blocks: follows end both ways and cannot be made; the host's events
--       disappear; direct conversations close and leave both lists; event chats close between
--       the host and the other person; people you blocked are left out of your message lists,
--       unread counts and notifications in group and event chats.
--   report_content(kind, id, reason)  files a report (message | user | event | review |
--       conversation) the reporter can see, with a snapshot of the content as it was, so the
--       evidence survives an edit or delete. One open report per reporter and target (a repeat
--       returns the same report); new reports are rate limited (the `report` limit, 20 per hour
--       by default: P0001 rate_limited).
-- Reports live in private.content_reports; operators work the queue in Studio through
-- admin.moderation_queue (open reports, most-reported targets first) and
-- admin.resolve_content_report().

create or replace function private.block_user(p_user_id uuid) returns public.blocks
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_block public.blocks;
begin
  if p_user_id is null or not exists (select 1 from public.profiles p where p.id = p_user_id) then
    perform private.raise_error('22023', 'user_not_found', 'No such user.');
  end if;
  if p_user_id = v_uid then
    perform private.raise_error('22023', 'cannot_block_self', 'You cannot block yourself.');
  end if;
  insert into public.blocks (blocker_id, blocked_id) values (v_uid, p_user_id)
  on conflict (blocker_id, blocked_id) do nothing
  returning * into v_block;
  if v_block.blocker_id is null then
    select * into v_block from public.blocks where blocker_id = v_uid and blocked_id = p_user_id;
    return v_block;
  end if;
  -- The blocker's other devices drop the direct conversation from their list.
  perform private.broadcast_to_user(v_uid, 'conversation_removed',
    jsonb_build_object('conversation_id', c.id, 'kind', 'direct', 'user_id', p_user_id))
    from public.conversations c
   where c.kind = 'direct' and c.direct_user_low = least(v_uid, p_user_id) and c.direct_user_high = greatest(v_uid, p_user_id);
  return v_block;
end
$$;

create or replace function public.block_user(p_user_id uuid) returns public.blocks
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.block_user(p_user_id);
end
$$;
comment on function public.block_user(uuid) is
  'Blocks a user (idempotent): follows between you end, you stop seeing each other''s events and direct conversation, the event chats between a host and the other person close, and their messages disappear from your group and event chats. They are not told. Errors: 22023 user_not_found, cannot_block_self; 42501 not_authenticated.';

create or replace function private.unblock_user(p_user_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
begin
  if p_user_id is null then
    perform private.raise_error('22023', 'user_not_found', 'No such user.');
  end if;
  if p_user_id = v_uid then
    perform private.raise_error('22023', 'cannot_block_self', 'You cannot block or unblock yourself.');
  end if;
  delete from public.blocks where blocker_id = v_uid and blocked_id = p_user_id;
  if not found then
    return false;
  end if;
  perform private.broadcast_to_user(v_uid, 'conversation_added',
    jsonb_build_object('conversation_id', c.id, 'kind', 'direct', 'user_id', p_user_id))
    from public.conversations c
   where c.kind = 'direct' and c.direct_user_low = least(v_uid, p_user_id) and c.direct_user_high = greatest(v_uid, p_user_id)
     and not private.is_blocked_between(v_uid, p_user_id);
  return true;
end
$$;

create or replace function public.unblock_user(p_user_id uuid) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.unblock_user(p_user_id);
end
$$;
comment on function public.unblock_user(uuid) is
  'Removes the caller''s block on a user (true), or does nothing when there was none (false). Follows are not restored. Errors: 22023 user_not_found, cannot_block_self; 42501 not_authenticated.';

-- ---------------------------------------------------------------------------------------------
-- Reports
-- ---------------------------------------------------------------------------------------------

create table private.content_reports (
  id uuid primary key default gen_random_uuid(),
  reporter_id uuid references public.profiles (id) on delete set null,
  kind text not null,
  target_id uuid not null,
  target_owner_id uuid references public.profiles (id) on delete set null,
  reason text not null,
  snapshot jsonb not null default '{}'::jsonb,
  status text not null default 'open',
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolved_by text,
  resolution_note text,
  constraint content_reports_kind check (kind in ('message', 'user', 'event', 'review', 'conversation')),
  constraint content_reports_status check (status in ('open', 'actioned', 'dismissed')),
  constraint content_reports_reason_length check (char_length(reason) between 1 and 1000),
  constraint content_reports_resolution check ((status = 'open') = (resolved_at is null))
);
comment on table private.content_reports is
  'Moderation queue: what users reported, with a snapshot of the content at the time. Worked through admin.moderation_queue.';
comment on column private.content_reports.target_owner_id is 'Who wrote or owns the reported content (message sender, event host, review author, the user).';
create unique index content_reports_one_open_per_reporter on private.content_reports (reporter_id, kind, target_id) where status = 'open';
create index content_reports_open_idx on private.content_reports (created_at) where status = 'open';
create index content_reports_target_idx on private.content_reports (kind, target_id);
create index content_reports_reporter_idx on private.content_reports (reporter_id, created_at);
create index content_reports_owner_idx on private.content_reports (target_owner_id);

create or replace function private.report_content(p_kind text, p_id uuid, p_reason text) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := private.require_user();
  v_reason text := btrim(p_reason);
  v_owner uuid;
  v_snapshot jsonb;
  v_id uuid;
begin
  if p_kind is null or p_kind not in ('message', 'user', 'event', 'review', 'conversation') then
    perform private.raise_error('22023', 'invalid_report_kind', 'Report a message, user, event, review or conversation.');
  end if;
  if v_reason is null or char_length(v_reason) not between 1 and 1000 then
    perform private.raise_error('22023', 'invalid_reason', 'Say what is wrong, in at most 1,000 characters.');
  end if;

  if p_kind = 'message' then
    select m.sender_id, jsonb_build_object('conversation_id', m.conversation_id, 'sender_id', m.sender_id, 'kind', m.kind,
             'body', m.body, 'attachment_path', m.attachment_path, 'shared_event_id', m.shared_event_id,
             'created_at', m.created_at, 'edited_at', m.edited_at, 'deleted_at', m.deleted_at)
      into v_owner, v_snapshot
      from public.messages m where m.id = p_id and private.can_access_conversation(m.conversation_id, v_uid);
  elsif p_kind = 'user' then
    if p_id = v_uid then
      perform private.raise_error('22023', 'cannot_report_self', 'You cannot report yourself.');
    end if;
    select p.id, jsonb_build_object('username', p.username, 'display_name', p.display_name, 'bio', p.bio, 'avatar_path', p.avatar_path)
      into v_owner, v_snapshot
      from public.profiles p where p.id = p_id;
  elsif p_kind = 'event' then
    select e.host_id, jsonb_build_object('title', e.title, 'description', left(e.description, 2000), 'host_id', e.host_id,
             'status', e.status, 'starts_at', e.starts_at)
      into v_owner, v_snapshot
      from private.events e where e.id = p_id and private.can_see_event(e.id, v_uid);
  elsif p_kind = 'review' then
    select r.author_id, jsonb_build_object('event_id', r.event_id, 'author_id', r.author_id, 'rating', r.rating, 'body', r.body,
             'host_reply', r.host_reply)
      into v_owner, v_snapshot
      from public.reviews r where r.id = p_id and private.can_see_event(r.event_id, v_uid);
  else
    select c.created_by, jsonb_build_object('kind', c.kind, 'title', c.title, 'event_id', c.event_id)
      into v_owner, v_snapshot
      from public.conversations c where c.id = p_id and private.can_access_conversation(c.id, v_uid);
  end if;
  if v_snapshot is null then
    perform private.raise_error('22023', 'content_not_found', format('No such %s.', p_kind));
  end if;

  select r.id into v_id from private.content_reports r
   where r.reporter_id = v_uid and r.kind = p_kind and r.target_id = p_id and r.status = 'open';
  if v_id is not null then
    return v_id;
  end if;
  perform private.consume_rate_limit('report', v_uid::text);
  insert into private.content_reports (reporter_id, kind, target_id, target_owner_id, reason, snapshot)
  values (v_uid, p_kind, p_id, v_owner, v_reason, v_snapshot)
  on conflict (reporter_id, kind, target_id) where status = 'open' do nothing
  returning id into v_id;
  if v_id is null then
    select r.id into v_id from private.content_reports r
     where r.reporter_id = v_uid and r.kind = p_kind and r.target_id = p_id and r.status = 'open';
  end if;
  return v_id;
end
$$;

create or replace function public.report_content(p_kind text, p_id uuid, p_reason text) returns uuid
language plpgsql
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.report_content(p_kind, p_id, p_reason);
end
$$;
comment on function public.report_content(text, uuid, text) is
  'Reports a message, user, event, review or conversation you can see to the moderators, with your reason (1–1,000 characters). Returns the report id; reporting the same thing again while it is open returns the same id. Errors: 22023 invalid_report_kind, invalid_reason, content_not_found, cannot_report_self; 42501 not_authenticated; P0001 rate_limited.';

-- The queue operators work in Studio: open reports, most-reported targets first.
create view admin.moderation_queue with (security_invoker = true) as
select r.id, r.kind, r.target_id, r.target_owner_id, owner.username as target_owner_username,
       count(*) over (partition by r.kind, r.target_id) as reports_on_target,
       r.reason, r.snapshot, r.reporter_id, reporter.username as reporter_username, r.created_at
  from private.content_reports r
  left join public.profiles owner on owner.id = r.target_owner_id
  left join public.profiles reporter on reporter.id = r.reporter_id
 where r.status = 'open'
 order by count(*) over (partition by r.kind, r.target_id) desc, r.created_at;
comment on view admin.moderation_queue is
  'Open content reports for operators, most-reported targets first, each with the reporter''s reason and a snapshot of the content. Resolve with admin.resolve_content_report().';

create or replace function admin.resolve_content_report(p_report_id uuid, p_status text, p_note text default null)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_report private.content_reports;
  v_count integer;
begin
  if p_status is null or p_status not in ('actioned', 'dismissed') then
    perform private.raise_error('22023', 'invalid_status', 'Resolve a report as actioned or dismissed.');
  end if;
  select * into v_report from private.content_reports where id = p_report_id;
  if v_report.id is null then
    perform private.raise_error('22023', 'report_not_found', 'No such report.');
  end if;
  -- Every open report on the same target is resolved together.
  update private.content_reports
     set status = p_status, resolved_at = now(), resolved_by = current_user, resolution_note = p_note
   where kind = v_report.kind and target_id = v_report.target_id and status = 'open';
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function admin.resolve_content_report(uuid, text, text) is
  'Operators: marks a report (and every other open report on the same target) actioned or dismissed; returns how many were closed. Acting on the content (delete_message as an admin, suspending a host, cancelling an event) is a separate step.';

revoke all on admin.moderation_queue from anon, authenticated, service_role;
grant execute on function private.block_user(uuid), private.unblock_user(uuid), private.report_content(text, uuid, text)
  to authenticated;
revoke execute on function public.block_user(uuid), public.unblock_user(uuid), public.report_content(text, uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.block_user(uuid), public.unblock_user(uuid), public.report_content(text, uuid, text)
  to anon, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC, and schema default privileges cannot
-- take that away: none of these is for everyone (the grants in this file name who calls what).
revoke execute on function
  admin.resolve_content_report(uuid,text,text),
  private.block_user(uuid),
  private.report_content(text,uuid,text),
  private.unblock_user(uuid)
  from public;
