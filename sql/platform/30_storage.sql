-- Supabase platform contract, part 7: the `storage` schema as the Storage API leaves it.
--
-- The end state of the image's storage init script and supabase/storage's
-- `migrations/tenant/0001…0063`, written as one file: the tables (buckets with versioning
-- status, objects with archived_at / is_delete_marker / is_versioned, the S3 multipart, analytics,
-- Iceberg and vector tables, migrations), their checks, indexes and foreign keys, the triggers
-- (delete guard, updated_at, bucket name length) and the functions, owned by
-- supabase_storage_admin, with RLS on and the platform's grants.
-- Locally the Storage API stand-in (tools/storage-standin/) writes these rows as the Storage API
-- does. The listing functions (search, search_v2, search_by_timestamp,
-- list_objects_with_delimiter, list_multipart_uploads_with_delimiter) have the platform's
-- signatures and results but plainer bodies than the Storage API's seek-optimised ones; Rally
-- calls none of them.

create schema if not exists storage authorization supabase_admin;
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant all on schema storage to supabase_storage_admin, dashboard_user;
-- The storage init script ran as `postgres` while it was a superuser.
alter default privileges for role postgres in schema storage grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema storage grant all on routines to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema storage grant all on sequences to postgres, anon, authenticated, service_role;

set role supabase_storage_admin;

do $types$
begin
  if to_regtype('storage.buckettype') is null then
    create type storage.buckettype as enum ('STANDARD', 'ANALYTICS', 'VECTOR');
  end if;
end
$types$;

create table if not exists storage.migrations (
  id integer not null,
  name varchar(100) not null,
  hash varchar(40) not null,
  executed_at timestamp without time zone default current_timestamp,
  constraint migrations_pkey primary key (id),
  constraint migrations_name_key unique (name)
);

create table if not exists storage.buckets (
  id text not null,
  name text not null,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text,
  type storage.buckettype not null default 'STANDARD',
  versioning_status text not null default 'DISABLED',
  constraint buckets_pkey primary key (id),
  constraint buckets_versioning_dark_check check (versioning_status = 'DISABLED'),
  constraint buckets_versioning_standard_only_check check (type = 'STANDARD' or versioning_status = 'DISABLED'),
  constraint buckets_versioning_status_check check (versioning_status = any (array['DISABLED', 'ENABLED', 'SUSPENDED']))
);
comment on column storage.buckets.file_size_limit is 'Largest object in bytes; the Storage API enforces it.';
create unique index if not exists bname on storage.buckets (name);

create table if not exists storage.objects (
  id uuid not null default gen_random_uuid(),
  bucket_id text,
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  owner_id text,
  user_metadata jsonb,
  archived_at timestamptz,
  is_delete_marker boolean not null default false,
  is_versioned boolean not null default false,
  constraint objects_pkey primary key (id),
  constraint "objects_bucketId_fkey" foreign key (bucket_id) references storage.buckets (id)
);
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists idx_objects_bucket_id_name on storage.objects (bucket_id, name collate "C");
create index if not exists idx_objects_bucket_id_name_lower on storage.objects (bucket_id, lower(name) collate "C");
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);

create table if not exists storage.s3_multipart_uploads (
  id text not null,
  in_progress_size bigint not null default 0,
  upload_signature text not null,
  bucket_id text not null,
  key text not null collate "C",
  version text not null,
  owner_id text,
  created_at timestamptz not null default now(),
  user_metadata jsonb,
  metadata jsonb,
  constraint s3_multipart_uploads_pkey primary key (id),
  constraint s3_multipart_uploads_bucket_id_fkey foreign key (bucket_id) references storage.buckets (id)
);
create index if not exists idx_multipart_uploads_list on storage.s3_multipart_uploads (bucket_id, key, created_at);

create table if not exists storage.s3_multipart_uploads_parts (
  id uuid not null default gen_random_uuid(),
  upload_id text not null,
  size bigint not null default 0,
  part_number integer not null,
  bucket_id text not null,
  key text not null collate "C",
  etag text not null,
  owner_id text,
  version text not null,
  created_at timestamptz not null default now(),
  constraint s3_multipart_uploads_parts_pkey primary key (id),
  constraint s3_multipart_uploads_parts_bucket_id_fkey foreign key (bucket_id) references storage.buckets (id),
  constraint s3_multipart_uploads_parts_upload_id_fkey foreign key (upload_id) references storage.s3_multipart_uploads (id) on delete cascade
);

create table if not exists storage.buckets_analytics (
  name text not null,
  type storage.buckettype not null default 'ANALYTICS',
  format text not null default 'ICEBERG',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  id uuid not null default gen_random_uuid(),
  deleted_at timestamptz,
  constraint buckets_analytics_pkey primary key (id)
);
create unique index if not exists buckets_analytics_unique_name_idx on storage.buckets_analytics (name) where deleted_at is null;

create table if not exists storage.iceberg_namespaces (
  id uuid not null default gen_random_uuid(),
  bucket_name text not null,
  name text not null collate "C",
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  metadata jsonb not null default '{}'::jsonb,
  catalog_id uuid not null,
  constraint iceberg_namespaces_pkey primary key (id),
  constraint iceberg_namespaces_catalog_id_fkey foreign key (catalog_id) references storage.buckets_analytics (id) on delete cascade
);
create unique index if not exists idx_iceberg_namespaces_bucket_id on storage.iceberg_namespaces (catalog_id, name);

create table if not exists storage.iceberg_tables (
  id uuid not null default gen_random_uuid(),
  namespace_id uuid not null,
  bucket_name text not null,
  name text not null collate "C",
  location text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  remote_table_id text,
  shard_key text,
  shard_id text,
  catalog_id uuid not null,
  constraint iceberg_tables_pkey primary key (id),
  constraint iceberg_tables_catalog_id_fkey foreign key (catalog_id) references storage.buckets_analytics (id) on delete cascade,
  constraint iceberg_tables_namespace_id_fkey foreign key (namespace_id) references storage.iceberg_namespaces (id) on delete cascade
);
create unique index if not exists idx_iceberg_tables_location on storage.iceberg_tables (location);
create unique index if not exists idx_iceberg_tables_namespace_id on storage.iceberg_tables (catalog_id, namespace_id, name);

create table if not exists storage.buckets_vectors (
  id text not null,
  type storage.buckettype not null default 'VECTOR',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint buckets_vectors_pkey primary key (id)
);

create table if not exists storage.vector_indexes (
  id text not null default gen_random_uuid(),
  name text not null collate "C",
  bucket_id text not null,
  data_type text not null,
  dimension integer not null,
  distance_metric text not null,
  metadata_configuration jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint vector_indexes_pkey primary key (id),
  constraint vector_indexes_bucket_id_fkey foreign key (bucket_id) references storage.buckets_vectors (id)
);
create unique index if not exists vector_indexes_name_bucket_id_idx on storage.vector_indexes (name, bucket_id);

alter table storage.migrations enable row level security;
alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;
alter table storage.s3_multipart_uploads enable row level security;
alter table storage.s3_multipart_uploads_parts enable row level security;
alter table storage.buckets_analytics enable row level security;
alter table storage.iceberg_namespaces enable row level security;
alter table storage.iceberg_tables enable row level security;
alter table storage.buckets_vectors enable row level security;
alter table storage.vector_indexes enable row level security;

-- ---------- path helpers (0002, 0036, 0060, 0061) ----------

create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
as $$
declare
  _parts text[] := string_to_array(name, '/');
begin
  return _parts[1 : array_length(_parts, 1) - 1];
end
$$;

create or replace function storage.filename(name text) returns text
language plpgsql immutable
as $$
declare
  _parts text[] := string_to_array(name, '/');
begin
  return _parts[array_length(_parts, 1)];
end
$$;

create or replace function storage.extension(name text) returns text
language plpgsql immutable
as $$
declare
  _parts text[] := string_to_array(name, '/');
begin
  return reverse(split_part(reverse(_parts[array_length(_parts, 1)]), '.', 1));
end
$$;

create or replace function storage.get_common_prefix(p_key text, p_prefix text, p_delimiter text) returns text
language sql immutable
as $$
  select case when position(p_delimiter in substring(p_key from length(p_prefix) + 1)) > 0
              then left(p_key, length(p_prefix) + position(p_delimiter in substring(p_key from length(p_prefix) + 1)))
         end;
$$;

-- ---------- the operation the Storage API is performing (0058) ----------

create or replace function storage.operation() returns text
language plpgsql stable
as $$
begin
  return current_setting('storage.operation', true);
end
$$;

-- `storage.` prefixes are optional on both sides of the comparison.
create or replace function storage.allow_only_operation(expected_operation text) returns boolean
language sql stable
as $$
  select coalesce(nullif(expected_operation, '') is not null
                  and regexp_replace(storage.operation(), '^storage\.', '') = regexp_replace(expected_operation, '^storage\.', ''),
                  false);
$$;

create or replace function storage.allow_any_operation(expected_operations text[]) returns boolean
language sql stable
as $$
  select exists (select 1 from unnest(expected_operations) as expected
                  where storage.allow_only_operation(expected));
$$;

-- ---------- what the Storage API calls ----------

-- Tells the Storage API whether RLS would let the caller insert this object, without keeping it.
create or replace function storage.can_insert_object(bucketid text, name text, owner uuid, metadata jsonb) returns void
language plpgsql
as $$
begin
  insert into storage.objects (bucket_id, name, owner, metadata) values (bucketid, name, owner, metadata);
  raise sqlstate 'PT200' using message = 'ROLLBACK', detail = 'rollback successful insert';
end
$$;

create or replace function storage.get_size_by_bucket() returns table (size bigint, bucket_id text)
language plpgsql stable
as $$
begin
  return query
    select sum((o.metadata ->> 'size')::bigint)::bigint, o.bucket_id from storage.objects as o group by o.bucket_id;
end
$$;

-- One level of a bucket below `prefix`: each sub-folder once (id and dates null), then files.
create or replace function storage.search(
  prefix text, bucketname text, limits integer default 100, levels integer default 1, offsets integer default 0,
  search text default '', sortcolumn text default 'name', sortorder text default 'asc'
) returns table (name text, id uuid, updated_at timestamptz, created_at timestamptz, last_accessed_at timestamptz, metadata jsonb)
language plpgsql stable
as $$
declare
  v_prefix text := coalesce(prefix, '');
  v_column text := case lower(coalesce(sortcolumn, 'name'))
                     when 'updated_at' then 'updated_at' when 'created_at' then 'created_at'
                     when 'last_accessed_at' then 'last_accessed_at' else 'name' end;
  v_order text := case when lower(coalesce(sortorder, 'asc')) = 'desc' then 'desc' else 'asc' end;
begin
  return query execute format($sql$
    with level as (
      select split_part(substring(o.name from length($1) + 1), '/', 1) as entry,
             position('/' in substring(o.name from length($1) + 1)) > 0 as is_folder, o.*
        from storage.objects as o
       where o.bucket_id = $2 and o.name ilike $1 || $3 || '%%')
    (select distinct entry, null::uuid, null::timestamptz, null::timestamptz, null::timestamptz, null::jsonb
       from level where is_folder order by 1 %2$s)
    union all
    (select entry, level.id, level.updated_at, level.created_at, level.last_accessed_at, level.metadata
       from level where not is_folder order by %1$I %2$s)
    limit $4 offset $5$sql$, v_column, v_order)
  using v_prefix, bucketname, coalesce(search, ''), least(coalesce(limits, 100), 1500), coalesce(offsets, 0);
end
$$;

create or replace function storage.search_by_timestamp(
  p_prefix text, p_bucket_id text, p_limit integer, p_level integer, p_start_after text, p_sort_order text,
  p_sort_column text, p_sort_column_after text
) returns table (key text, name text, id uuid, updated_at timestamptz, created_at timestamptz, last_accessed_at timestamptz, metadata jsonb)
language sql stable
as $$
  with entries as (
    select coalesce(storage.get_common_prefix(o.name, coalesce(p_prefix, ''), '/'), o.name) as key, o.*
      from storage.objects as o
     where o.bucket_id = p_bucket_id and o.name collate "C" like coalesce(p_prefix, '') || '%'),
  grouped as (
    select e.key, min(e.name) as name,
           case when count(*) = 1 and bool_and(e.key = e.name) then min(e.id::text)::uuid end as id,
           max(e.updated_at) as updated_at, min(e.created_at) as created_at,
           max(e.last_accessed_at) as last_accessed_at,
           case when bool_and(e.key = e.name) then (array_agg(e.metadata))[1] end as metadata
      from entries as e group by e.key)
  select g.key, g.name, g.id, g.updated_at, g.created_at, g.last_accessed_at, g.metadata
    from grouped as g
   where coalesce(p_start_after, '') = ''
      or (lower(coalesce(p_sort_order, 'asc')) = 'asc' and g.key collate "C" > p_start_after)
      or (lower(coalesce(p_sort_order, 'asc')) = 'desc' and g.key collate "C" < p_start_after)
   order by case when lower(coalesce(p_sort_order, 'asc')) = 'asc' then g.key end collate "C" asc,
            g.key collate "C" desc
   limit least(coalesce(p_limit, 100), 1500);
$$;

-- Keyset listing (Storage API v2): `key` is the full path of a file, or of a folder ending in '/'.
create or replace function storage.search_v2(
  prefix text, bucket_name text, limits integer default 100, levels integer default 1, start_after text default '',
  sort_order text default 'asc', sort_column text default 'name', sort_column_after text default ''
) returns table (key text, name text, id uuid, updated_at timestamptz, created_at timestamptz, last_accessed_at timestamptz, metadata jsonb)
language sql stable
as $$
  select * from storage.search_by_timestamp(prefix, bucket_name, limits, levels, start_after, sort_order, sort_column, sort_column_after);
$$;

create or replace function storage.list_objects_with_delimiter(
  _bucket_id text, prefix_param text, delimiter_param text, max_keys integer default 100,
  start_after text default '', next_token text default '', sort_order text default 'asc'
) returns table (name text, id uuid, metadata jsonb, updated_at timestamptz, created_at timestamptz, last_accessed_at timestamptz)
language sql stable
as $$
  with entries as (
    select coalesce(rtrim(storage.get_common_prefix(o.name, coalesce(prefix_param, ''), delimiter_param), delimiter_param), o.name) as entry,
           storage.get_common_prefix(o.name, coalesce(prefix_param, ''), delimiter_param) is not null as is_folder, o.*
      from storage.objects as o
     where o.bucket_id = _bucket_id and o.name collate "C" like coalesce(prefix_param, '') || '%'),
  listed as (
    select distinct on (e.entry collate "C") e.entry,
           case when e.is_folder then null else e.id end as id,
           case when e.is_folder then null else e.metadata end as metadata,
           case when e.is_folder then null else e.updated_at end as updated_at,
           case when e.is_folder then null else e.created_at end as created_at,
           case when e.is_folder then null else e.last_accessed_at end as last_accessed_at
      from entries as e order by e.entry collate "C")
  select l.entry, l.id, l.metadata, l.updated_at, l.created_at, l.last_accessed_at
    from listed as l
   where coalesce(nullif(next_token, ''), start_after, '') = ''
      or (lower(coalesce(sort_order, 'asc')) = 'asc' and l.entry collate "C" > coalesce(nullif(next_token, ''), start_after))
      or (lower(coalesce(sort_order, 'asc')) = 'desc' and l.entry collate "C" < coalesce(nullif(next_token, ''), start_after))
   order by case when lower(coalesce(sort_order, 'asc')) = 'asc' then l.entry end collate "C" asc,
            l.entry collate "C" desc
   limit max_keys;
$$;

create or replace function storage.list_multipart_uploads_with_delimiter(
  bucket_id text, prefix_param text, delimiter_param text, max_keys integer default 100,
  next_key_token text default '', next_upload_token text default ''
) returns table (key text, id text, created_at timestamptz)
language sql stable
as $$
  select distinct on (listed.key collate "C") listed.key, listed.id, listed.created_at
    from (select coalesce(storage.get_common_prefix(u.key, prefix_param, delimiter_param), u.key) as key, u.id, u.created_at
            from storage.s3_multipart_uploads as u
           where u.bucket_id = list_multipart_uploads_with_delimiter.bucket_id and u.key ilike prefix_param || '%'
             and (next_upload_token = '' or u.id collate "C" > next_upload_token)) as listed
   where next_key_token = '' or next_upload_token <> '' or listed.key collate "C" > next_key_token
   order by listed.key collate "C", listed.created_at
   limit max_keys;
$$;

-- ---------- triggers (0055 delete guard, 0048 bucket names, updated_at) ----------

-- Deleting rows directly would orphan the stored files, so the Storage API guards it; cleanup SQL
-- must opt in with `set local storage.allow_delete_query = 'true'`.
create or replace function storage.protect_delete() returns trigger
language plpgsql
as $$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using hint = 'This prevents accidental data loss from orphaned objects.', errcode = '42501';
  end if;
  return null;
end
$$;

create or replace function storage.update_updated_at_column() returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end
$$;

create or replace function storage.enforce_bucket_name_length() returns trigger
language plpgsql
as $$
begin
  if length(new.name) > 100 then
    raise exception 'bucket name "%" is too long (% characters). Max is 100.', new.name, length(new.name);
  end if;
  return new;
end
$$;

drop trigger if exists protect_buckets_delete on storage.buckets;
create trigger protect_buckets_delete before delete on storage.buckets
  for each statement execute function storage.protect_delete();
drop trigger if exists protect_objects_delete on storage.objects;
create trigger protect_objects_delete before delete on storage.objects
  for each statement execute function storage.protect_delete();
drop trigger if exists update_objects_updated_at on storage.objects;
create trigger update_objects_updated_at before update on storage.objects
  for each row execute function storage.update_updated_at_column();
drop trigger if exists enforce_bucket_name_length_trigger on storage.buckets;
create trigger enforce_bucket_name_length_trigger before insert or update of name on storage.buckets
  for each row execute function storage.enforce_bucket_name_length();

reset role;

-- ---------- grants ----------

grant all on storage.buckets, storage.objects, storage.migrations to anon, authenticated, service_role;
grant all on storage.buckets, storage.objects to postgres with grant option;
grant all on storage.migrations to postgres;
grant all on storage.buckets_analytics to anon, authenticated, service_role;
grant select on storage.buckets_vectors, storage.vector_indexes to anon, authenticated, service_role;
grant select on storage.iceberg_namespaces, storage.iceberg_tables, storage.s3_multipart_uploads,
  storage.s3_multipart_uploads_parts to anon, authenticated;
grant all on storage.iceberg_namespaces, storage.iceberg_tables, storage.s3_multipart_uploads,
  storage.s3_multipart_uploads_parts to service_role;
grant all on function storage.foldername(text), storage.filename(text), storage.extension(text)
  to anon, authenticated, service_role;
