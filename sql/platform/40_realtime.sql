-- Supabase platform contract, part 8: the `realtime` objects Broadcast relies on, as the
-- Realtime server's tenant migrations leave them (supabase/realtime
-- lib/realtime/tenants/repo/migrations, through 20260707120000_restrict_realtime_schema).
--
-- Broadcast from Database writes rows into `realtime.messages`, exactly as on the platform, so
-- tests assert topic, event, payload and (by reproducing the server's join checks under RLS) who
-- may receive or send on a private topic. The table is range-partitioned by day with NO default
-- partition: the Realtime server creates a partition per day from yesterday to today + 3 and
-- drops those older than 72 hours; locally the Realtime stand-in's janitor
-- (tools/realtime-standin/maintenance.ts) does the same, after the contract is applied and while
-- `npm start` runs. An insert with no partition fails, and `realtime.send`
-- swallows that failure with a warning, as on the platform.
-- Not reproduced: the Postgres Changes objects (realtime.subscription, list_changes, apply_rls
-- and their types), which Rally does not use.

create schema if not exists realtime authorization supabase_admin;
grant usage on schema realtime to anon, authenticated, service_role;
grant usage on schema realtime to postgres with grant option;
revoke create on schema realtime from postgres;
grant all on schema realtime to supabase_realtime_admin;

set role supabase_realtime_admin;

create table if not exists realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  id uuid not null default gen_random_uuid(),
  binary_payload bytea,
  constraint messages_pkey primary key (id, inserted_at),
  constraint messages_payload_exclusive check (payload is null or binary_payload is null) not valid
) partition by range (inserted_at);
create index if not exists messages_inserted_at_topic_index on realtime.messages (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;
alter table realtime.messages enable row level security;

create or replace function realtime.topic() returns text
language sql stable
as $$
  select nullif(current_setting('realtime.topic', true), '')::text;
$$;

create or replace function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void
language plpgsql
as $$
declare
  generated_id uuid;
  final_payload jsonb;
begin
  begin
    generated_id := gen_random_uuid();
    if payload ? 'id' then
      final_payload := payload;
    else
      final_payload := jsonb_set(payload, '{id}', to_jsonb(generated_id));
    end if;
    execute format('set local realtime.topic to %L', topic);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (generated_id, final_payload, event, topic, private, 'broadcast');
  exception
    when others then
      -- A broadcast never aborts the caller's transaction; a missing partition ends here too.
      raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end
$$;

create or replace function realtime.send_binary(payload bytea, event text, topic text, private boolean default true)
returns void
language plpgsql
as $$
declare
  generated_id uuid;
begin
  begin
    generated_id := gen_random_uuid();
    execute format('set local realtime.topic to %L', topic);
    insert into realtime.messages (id, binary_payload, event, topic, private, extension)
    values (generated_id, payload, event, topic, private, 'broadcast');
  exception
    when others then
      raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end
$$;

create or replace function realtime.broadcast_changes(
  topic_name text, event_name text, operation text, table_name text, table_schema text,
  new record, old record, level text default 'ROW'
) returns void
language plpgsql
as $$
declare
  row_data jsonb := '{}'::jsonb;
begin
  if level = 'STATEMENT' then
    raise exception 'function can only be triggered for each row, not for each statement';
  end if;
  if operation = 'INSERT' or operation = 'UPDATE' or operation = 'DELETE' then
    row_data := jsonb_build_object('old_record', old, 'record', new, 'operation', operation,
                                   'table', table_name, 'schema', table_schema);
    perform realtime.send(row_data, event_name, topic_name);
  else
    raise exception 'Unexpected operation type: %', operation;
  end if;
exception
  when others then
    raise exception 'Failed to process the row: %', sqlerrm;
end
$$;

reset role;

grant select, insert, update on realtime.messages to postgres, anon, authenticated, service_role;
grant execute on all functions in schema realtime to postgres, anon, authenticated, service_role;

-- The publication Postgres Changes reads is created empty by the image and owned by `postgres`,
-- so `alter publication supabase_realtime add table …` works in a migration. The Realtime
-- server's migrations drop `supabase_realtime_messages_publication`
-- (20250123174212_remove_unused_publications); its replication connection creates it again when
-- it connects (tools/realtime-standin does the same), so the contract does not.
do $publications$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
  drop publication if exists supabase_realtime_messages_publication;
end
$publications$;
alter publication supabase_realtime owner to postgres;
