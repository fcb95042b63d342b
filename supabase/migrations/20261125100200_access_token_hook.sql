-- The custom access token hook: Supabase Auth calls it (as supabase_auth_admin) whenever it
-- issues a JWT, and Rally adds `user_role` = admin | host | guest so apps and edge functions can
-- branch on it without a query. Authorization in the database never trusts this claim alone:
-- policies read profiles and app_metadata themselves.
--
-- config.toml: [auth.hook.custom_access_token] uri = "pg-functions://postgres/public/custom_access_token_hook"

create or replace function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_claims jsonb := coalesce(event -> 'claims', '{}'::jsonb);
  v_user_id uuid := nullif(event ->> 'user_id', '')::uuid;
  v_is_host boolean;
  v_role text;
begin
  if coalesce(v_claims -> 'app_metadata' ->> 'role', '') = 'admin' then
    v_role := 'admin';
  else
    select p.is_host into v_is_host from public.profiles p where p.id = v_user_id;
    v_role := case when coalesce(v_is_host, false) then 'host' else 'guest' end;
  end if;
  return jsonb_build_object('claims', v_claims || jsonb_build_object('user_role', v_role));
end
$$;
comment on function public.custom_access_token_hook(jsonb) is
  'Supabase Auth hook: adds user_role (admin from app_metadata.role, host from profiles.is_host, else guest) to every access token. Executable by supabase_auth_admin only.';

-- Only Supabase Auth may call the hook (as the docs require); it reads profiles under RLS.
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook(jsonb) from public, anon, authenticated, service_role;
grant select (id, is_host) on public.profiles to supabase_auth_admin;

create policy "supabase auth reads host status for tokens" on public.profiles
  for select to supabase_auth_admin using (true);
