-- Supabase platform contract, part 3: a STAND-IN for pgjwt, one of a new project's default
-- extensions, which Debian does not package. Same schema, function names and signatures as
-- pgjwt 0.2 (HS256/HS384/HS512 tokens signed with pgcrypto's HMAC), owned by `postgres` as the
-- platform's are; unlike the platform there is no `pgjwt` row in pg_extension. Rally itself does
-- not call pgjwt; the stand-in exists so the schema matches what a project has.

set role postgres;

create or replace function extensions.url_encode(data bytea) returns text
language sql immutable
as $$
  select translate(encode(data, 'base64'), E'+/=\n', '-_');
$$;

create or replace function extensions.url_decode(data text) returns bytea
language sql immutable
as $$
  with unpadded as (select translate(data, '-_', '+/') as text),
       padded as (select text || repeat('=', (4 - length(text) % 4) % 4) as text from unpadded)
  select decode(text, 'base64') from padded;
$$;

create or replace function extensions.algorithm_sign(signables text, secret text, algorithm text) returns text
language sql immutable
as $$
  select extensions.url_encode(extensions.hmac(signables, secret,
    case algorithm when 'HS256' then 'sha256' when 'HS384' then 'sha384' when 'HS512' then 'sha512' end));
$$;

create or replace function extensions.sign(payload json, secret text, algorithm text default 'HS256') returns text
language sql immutable
as $$
  with header as (
         select extensions.url_encode(convert_to(json_build_object('alg', algorithm, 'typ', 'JWT')::text, 'utf8')) as data),
       body as (select extensions.url_encode(convert_to(payload::text, 'utf8')) as data),
       signables as (select header.data || '.' || body.data as data from header, body)
  select signables.data || '.' || extensions.algorithm_sign(signables.data, secret, algorithm) from signables;
$$;

create or replace function extensions.try_cast_double(inp text) returns double precision
language plpgsql immutable
as $$
begin
  return inp::double precision;
exception when others then
  return null;
end
$$;

create or replace function extensions.verify(token text, secret text, algorithm text default 'HS256')
returns table (header json, payload json, valid boolean)
language sql immutable
as $$
  select convert_from(extensions.url_decode(part[1]), 'utf8')::json,
         convert_from(extensions.url_decode(part[2]), 'utf8')::json,
         part[3] = extensions.algorithm_sign(part[1] || '.' || part[2], secret, algorithm)
           and coalesce(to_timestamp(extensions.try_cast_double(
                 convert_from(extensions.url_decode(part[2]), 'utf8')::json ->> 'exp')) > now(), true)
           and coalesce(to_timestamp(extensions.try_cast_double(
                 convert_from(extensions.url_decode(part[2]), 'utf8')::json ->> 'nbf')) <= now(), true)
  from (select regexp_split_to_array(token, '\.') as part) as parts;
$$;

reset role;
