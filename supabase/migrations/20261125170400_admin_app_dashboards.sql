-- Operations, step 5: the Studio dashboards for the admin app.
--
-- The admin schema is not exposed to the Data API, so an admin app (supabase-js, signed in as
-- an admin) cannot select from admin.moderation_queue or admin.payment_dead_letters — yet it
-- needs them to choose which report to resolve or which dead letter to retry. Rather than
-- exposing the schema (every view would then need its own RLS story and matrix section), two
-- RPCs read the views for a current admin:
--   public.admin_dashboards()                 the views there are, with the comment Studio shows
--   public.admin_dashboard(p_view, p_limit)    up to p_limit rows of one view, as a JSON array
-- Only views in the admin schema can be named (looked up in the catalog, then quoted), so the
-- argument can never reach another relation; new admin views are available without a change.

create or replace function private.admin_dashboards() returns table (name text, description text)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_admin();
  return query
    select c.relname::text, obj_description(c.oid, 'pg_class')
      from pg_catalog.pg_class c
     where c.relnamespace = 'admin'::regnamespace and c.relkind = 'v'
     order by c.relname;
end
$$;
comment on function private.admin_dashboards() is 'Admins: the admin views with their descriptions.';

create or replace function public.admin_dashboards() returns table (name text, description text)
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return query select * from private.admin_dashboards();
end
$$;
comment on function public.admin_dashboards() is
  'Admins only: the operator dashboards (views of the admin schema Studio shows) with what each shows; read one with admin_dashboard(name). Errors: 42501 not_authenticated / admin_only.';

create or replace function private.admin_dashboard(p_view text, p_limit integer) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_view text;
  v_rows jsonb;
begin
  perform private.require_admin();
  select c.relname::text into v_view
    from pg_catalog.pg_class c
   where c.relnamespace = 'admin'::regnamespace and c.relkind = 'v' and c.relname::text = p_view;
  if v_view is null then
    perform private.raise_error('22023', 'dashboard_not_found', 'No admin dashboard has this name; admin_dashboards() lists them.');
  end if;
  if p_limit is null or p_limit not between 1 and 1000 then
    perform private.raise_error('22023', 'invalid_limit', 'Ask for 1 to 1,000 rows.');
  end if;
  execute format('select coalesce(jsonb_agg(to_jsonb(v)), ''[]''::jsonb) from (select * from admin.%I limit %s) as v', v_view, p_limit)
    into v_rows;
  return v_rows;
end
$$;
comment on function private.admin_dashboard(text, integer) is 'Admins: up to p_limit rows of one admin view as a JSON array.';

create or replace function public.admin_dashboard(p_view text, p_limit integer default 100) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform private.require_user();
  return private.admin_dashboard(p_view, p_limit);
end
$$;
comment on function public.admin_dashboard(text, integer) is
  'Admins only: the first p_limit (1–1,000, default 100) rows of one operator dashboard as a JSON array of objects, in the dashboard''s own order — e.g. moderation_queue, open_disputes, payment_dead_letters, alert_dead_letters, ledger_health (empty = healthy), stuck_holds, daily_revenue, audit_log. Errors: 42501 not_authenticated / admin_only; 22023 dashboard_not_found / invalid_limit.';

revoke execute on function private.admin_dashboards(), private.admin_dashboard(text, integer) from public;
grant execute on function private.admin_dashboards(), private.admin_dashboard(text, integer) to authenticated;
revoke execute on function public.admin_dashboards(), public.admin_dashboard(text, integer) from public, anon, authenticated, service_role;
grant execute on function public.admin_dashboards(), public.admin_dashboard(text, integer) to anon, authenticated;
