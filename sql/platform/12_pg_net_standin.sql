-- Supabase platform contract, part 4: a STAND-IN for pg_net, a default extension of every new
-- project (image migration `20240822021428_enable_webhooks_by_default`), which Debian does not
-- package. The objects Rally relies on have pg_net 0.20's shapes: `net.http_post(url, body,
-- params, headers, timeout_milliseconds) returns bigint` queues a row in the unlogged
-- `net.http_request_queue`; a worker sends it and stores the answer in `net._http_response` under
-- the same id (status_code, content_type, headers, content, timed_out, error_msg, created).
-- On the platform pg_net's background worker does that; here it is scripts/lib/net-worker.ts,
-- which `npm start` runs (claim queued rows, POST them, record the response the same way).
-- The grants are the extension's own plus what the platform's `issue_pg_net_access` event
-- trigger adds. Unlike the platform there is no `pg_net` row in pg_extension.

create schema if not exists net;
grant usage on schema net to public;
grant usage on schema net to supabase_functions_admin, postgres, anon, authenticated, service_role;

do $types$
begin
  if to_regtype('net.http_method') is null then
    create domain net.http_method as text
      check (value ilike 'get' or value ilike 'post' or value ilike 'delete');
  end if;
  if to_regtype('net.request_status') is null then
    create type net.request_status as enum ('PENDING', 'SUCCESS', 'ERROR');
  end if;
  if to_regtype('net.http_response') is null then
    create type net.http_response as (status_code integer, headers jsonb, body text);
  end if;
  if to_regtype('net.http_response_result') is null then
    create type net.http_response_result as (status net.request_status, message text, response net.http_response);
  end if;
end
$types$;

create unlogged table if not exists net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb,
  body bytea,
  timeout_milliseconds integer not null
);

create unlogged table if not exists net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);
create index if not exists _http_response_created_idx on net._http_response (created);

grant all on all tables in schema net to public;
grant all on all sequences in schema net to public;

-- pg_net's own functions are C; these are SQL with the same names and signatures.
create or replace function net._urlencode_string(string varchar) returns text
language sql immutable
as $$
  select string_agg(
           case when ch ~ '^[A-Za-z0-9_.~-]$' then ch
                else upper(regexp_replace(encode(convert_to(ch, 'utf8'), 'hex'), '(..)', '%\1', 'g')) end,
           '' order by position)
    from regexp_split_to_table(string, '') with ordinality as chars(ch, position);
$$;

create or replace function net._encode_url_with_params_array(url text, params_array text[]) returns text
language sql immutable
as $$
  select case when coalesce(array_length(params_array, 1), 0) = 0 then url
              else url || case when url like '%?%' then '&' else '?' end || array_to_string(params_array, '&') end;
$$;

-- The worker LISTENs on this channel, as pg_net's worker waits on its latch.
create or replace function net.wake() returns void
language sql
as $$
  select pg_notify('pg_net_standin_wake', '');
$$;

create or replace function net.check_worker_is_up() returns void
language plpgsql
as $$
begin
  if not exists (select 1 from pg_stat_activity where application_name = 'pg_net stand-in worker') then
    raise exception using
      message = 'the pg_net background worker is not up',
      detail = 'the pg_net stand-in worker (scripts/lib/net-worker.ts) runs only under npm start',
      hint = 'start the local stack with npm start';
  end if;
end
$$;

create or replace function net.wait_until_running() returns void
language plpgsql
as $$
begin
  while not exists (select 1 from pg_stat_activity where application_name = 'pg_net stand-in worker') loop
    perform pg_sleep(0.1);
  end loop;
end
$$;

create or replace function net.worker_restart() returns boolean
language plpgsql
as $$
begin
  perform pg_terminate_backend(pid) from pg_stat_activity where application_name = 'pg_net stand-in worker';
  return true;
end
$$;

create or replace function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('GET', net._encode_url_with_params_array(url, (select coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
                                                 from jsonb_each_text(coalesce(params, '{}'::jsonb)))), headers, timeout_milliseconds)
  returning id into request_id;
  perform net.wake();
  return request_id;
end
$$;

create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql
as $$
declare
  request_id bigint;
  content_type text;
begin
  select value into content_type
    from jsonb_each_text(coalesce(headers, '{}'::jsonb))
   where lower(key) = 'content-type'
   limit 1;
  if content_type is null then
    headers := headers || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('POST', net._encode_url_with_params_array(url, (select coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
                                                 from jsonb_each_text(coalesce(params, '{}'::jsonb)))), headers,
          convert_to(body::text, 'UTF8'), timeout_milliseconds)
  returning id into request_id;
  perform net.wake();
  return request_id;
end
$$;

create or replace function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000,
  body jsonb default null
) returns bigint
language plpgsql
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('DELETE', net._encode_url_with_params_array(url, (select coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
                                                 from jsonb_each_text(coalesce(params, '{}'::jsonb)))), headers,
          convert_to(body::text, 'UTF8'), timeout_milliseconds)
  returning id into request_id;
  perform net.wake();
  return request_id;
end
$$;

create or replace function net._http_collect_response(request_id bigint, async boolean default true)
returns net.http_response_result
language plpgsql
as $$
declare
  rec net._http_response;
begin
  if not async then
    while not exists (select 1 from net._http_response r where r.id = request_id) loop
      perform pg_sleep(0.05);
    end loop;
  end if;
  select * into rec from net._http_response r where r.id = request_id;
  if rec is null or rec.error_msg is not null then
    return ('ERROR', coalesce(rec.error_msg, 'request matching request_id not found'), null)::net.http_response_result;
  end if;
  return ('SUCCESS', 'ok', (rec.status_code, rec.headers, rec.content)::net.http_response)::net.http_response_result;
end
$$;

-- What the platform's `issue_pg_net_access` event trigger does once pg_net is created.
alter function net.http_get(text, jsonb, jsonb, integer) security definer set search_path = net;
alter function net.http_post(text, jsonb, jsonb, jsonb, integer) security definer set search_path = net;
revoke all on function net.http_get(text, jsonb, jsonb, integer) from public;
revoke all on function net.http_post(text, jsonb, jsonb, jsonb, integer) from public;
grant execute on function net.http_get(text, jsonb, jsonb, integer)
  to supabase_functions_admin, postgres, anon, authenticated, service_role;
grant execute on function net.http_post(text, jsonb, jsonb, jsonb, integer)
  to supabase_functions_admin, postgres, anon, authenticated, service_role;
