-- Supabase platform contract: the two default extensions Rally's schedules use, as STAND-INS.
--
-- Every new hosted project has pg_net (async HTTP from SQL; pg_cron jobs call edge functions
-- with it) and supabase_vault (secrets such as the project URL and the service-role key).
-- Debian packages neither, so the contract reproduces the parts Rally uses with the same names
-- and signatures as supabase/pg_net `sql/pg_net.sql` and supabase/vault
-- `sql/supabase_vault--0.3.0.sql`:
--   net.http_post(url, body, params, headers, timeout_milliseconds) → request id, queued in
--   net.http_request_queue; responses land in net._http_response (the local stack's worker
--   plays pg_net's background worker).
--   vault.secrets, vault.decrypted_secrets, vault.create_secret(). Stand-in: secrets are stored
--   in clear text (the real vault encrypts them with pgsodium); never put a real secret here.

create schema if not exists net authorization supabase_admin;

do $types$
begin
  if to_regtype('net.http_method') is null then
    create domain net.http_method as text check (value ilike 'get' or value ilike 'post' or value ilike 'delete');
  end if;
end
$types$;

create unlogged table if not exists net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb,
  body bytea,
  timeout_milliseconds int not null
);

create unlogged table if not exists net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out bool,
  error_msg text,
  created timestamptz not null default now()
);
create index if not exists _http_response_created_idx on net._http_response (created);

create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds int default 5000
) returns bigint
language plpgsql
as $$
declare
  request_id bigint;
begin
  if url is null then
    raise exception 'null value in column "url" of relation "http_request_queue" violates not-null constraint'
      using errcode = '23502';
  end if;
  if coalesce(headers ->> 'Content-Type', 'application/json') <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('POST', url, coalesce(headers, '{}'::jsonb) || '{"Content-Type": "application/json"}'::jsonb,
          convert_to(body::text, 'UTF8'), timeout_milliseconds)
  returning id into request_id;
  return request_id;
end
$$;

grant usage on schema net to postgres, anon, authenticated, service_role;
revoke all on function net.http_post(text, jsonb, jsonb, jsonb, int) from public;
grant execute on function net.http_post(text, jsonb, jsonb, jsonb, int) to postgres, service_role;
grant all on net.http_request_queue, net._http_response to postgres;
grant usage on sequence net.http_request_queue_id_seq to postgres;

create schema if not exists vault authorization supabase_admin;

create table if not exists vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);
comment on table vault.secrets is 'Stand-in of supabase_vault: secrets kept in clear text locally.';
create unique index if not exists secrets_name_idx on vault.secrets (name) where name is not null;

create or replace view vault.decrypted_secrets as
select s.id, s.name, s.description, s.secret, s.secret as decrypted_secret, s.key_id, s.nonce, s.created_at, s.updated_at
  from vault.secrets s;

create or replace function vault.create_secret(new_secret text, new_name text = null, new_description text = '', new_key_id uuid = null)
returns uuid
security definer
language plpgsql
set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into vault.secrets (secret, name, description) values (new_secret, new_name, new_description)
  returning id into v_id;
  return v_id;
end
$$;
revoke all on function vault.create_secret(text, text, text, uuid) from public;

grant usage on schema vault to postgres, service_role;
grant select, insert, update, delete on vault.secrets to postgres, service_role;
grant select on vault.decrypted_secrets to postgres, service_role;
grant execute on function vault.create_secret(text, text, text, uuid) to postgres, service_role;
