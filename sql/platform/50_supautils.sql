-- Supabase platform contract, part 6: what supautils lets `postgres` do on platform-owned tables.
--
-- On the platform `postgres` may create, alter and drop RLS policies (and, through the TRIGGER
-- privilege, triggers) on `storage.objects`, `storage.buckets` and `realtime.messages` although it
-- does not own them, and nothing else: no ALTER TABLE, no new objects in those schemas.
-- Plain PostgreSQL ties CREATE POLICY to ownership, so the contract makes `postgres` a member of
-- the owning roles and an event trigger refuses every other DDL statement it issues there.

grant supabase_storage_admin, supabase_realtime_admin to postgres;

create or replace function extensions.rally_guard_platform_schemas() returns event_trigger
language plpgsql
as $$
declare
  cmd record;
begin
  if (select rolsuper from pg_catalog.pg_roles where rolname = current_user)
     or (current_user = session_user
         and current_user in ('supabase_auth_admin', 'supabase_storage_admin', 'supabase_realtime_admin')) then
    return;
  end if;
  for cmd in select * from pg_catalog.pg_event_trigger_ddl_commands() loop
    if cmd.schema_name in ('auth', 'storage', 'realtime')
       and cmd.command_tag not in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY', 'CREATE TRIGGER', 'COMMENT') then
      raise exception 'permission denied: % on % is reserved to the Supabase platform', cmd.command_tag, cmd.object_identity
        using errcode = '42501';
    end if;
  end loop;
end
$$;

create or replace function extensions.rally_guard_platform_drops() returns event_trigger
language plpgsql
as $$
declare
  obj record;
begin
  if (select rolsuper from pg_catalog.pg_roles where rolname = current_user)
     or (current_user = session_user
         and current_user in ('supabase_auth_admin', 'supabase_storage_admin', 'supabase_realtime_admin')) then
    return;
  end if;
  for obj in select * from pg_catalog.pg_event_trigger_dropped_objects() loop
    if obj.schema_name in ('auth', 'storage', 'realtime')
       and obj.object_type not in ('policy', 'trigger') then
      raise exception 'permission denied: dropping % % is reserved to the Supabase platform', obj.object_type, obj.object_identity
        using errcode = '42501';
    end if;
  end loop;
end
$$;

revoke execute on function extensions.rally_guard_platform_schemas() from public, anon, authenticated, service_role, postgres;
revoke execute on function extensions.rally_guard_platform_drops() from public, anon, authenticated, service_role, postgres;

drop event trigger if exists rally_guard_platform_schemas;
create event trigger rally_guard_platform_schemas on ddl_command_end
  execute function extensions.rally_guard_platform_schemas();
drop event trigger if exists rally_guard_platform_drops;
create event trigger rally_guard_platform_drops on sql_drop
  execute function extensions.rally_guard_platform_drops();
