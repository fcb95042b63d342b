-- Supabase platform contract, part 5: a STAND-IN for supabase_vault 0.3, a default extension of
-- every new project, which Debian does not package. Same schema, table, view, function
-- signatures and grants as the platform: `vault.create_secret(new_secret, new_name,
-- new_description, new_key_id) returns uuid`, `vault.update_secret(…)`, `vault.secrets`
-- (ciphertext, base64) and `vault.decrypted_secrets` (adds `decrypted_secret`).
-- Vault encrypts with libsodium's deterministic AEAD under a root key read from a file; the
-- stand-in uses pgcrypto (AES-256 keyed from a random root key, an HMAC-SHA256 tag over nonce,
-- associated data and ciphertext) under a root key kept in `vault.stand_in_root_key`, a table
-- only the platform's superuser can read; it and `vault.stand_in_cipher_key()` are the two
-- objects the platform does not have.

create schema if not exists vault;

create table if not exists vault.stand_in_root_key (
  key bytea not null check (octet_length(key) = 32),
  singleton boolean primary key default true check (singleton)
);
comment on table vault.stand_in_root_key is
  'Local stand-in only (sql/platform/13_vault_standin.sql): the root key the Vault stand-in encrypts with.';
revoke all on vault.stand_in_root_key from public;
insert into vault.stand_in_root_key (key) values (extensions.gen_random_bytes(32)) on conflict do nothing;

create or replace function vault._crypto_aead_det_noncegen() returns bytea
language sql
as $$
  select extensions.gen_random_bytes(24);
$$;

-- Stand-in only: the AES key for (context, key_id) and the IV for a nonce, from the root key.
create or replace function vault.stand_in_cipher_key(context bytea, key_id bigint, nonce bytea, out key bytea, out iv bytea)
language sql stable
set search_path = ''
as $$
  select extensions.hmac(context || int8send(key_id), (select k.key from vault.stand_in_root_key as k), 'sha256'),
         substring(extensions.digest(nonce, 'sha256') from 1 for 16);
$$;
revoke all on function vault.stand_in_cipher_key(bytea, bigint, bytea) from public;

create or replace function vault._crypto_aead_det_encrypt(
  message bytea, additional bytea, key_id bigint, context bytea default 'pgsodium', nonce bytea default null
) returns bytea
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cipher_key record := vault.stand_in_cipher_key(context, key_id, nonce);
  v_cipher bytea := extensions.encrypt_iv(message, v_cipher_key.key, v_cipher_key.iv, 'aes-cbc/pad:pkcs');
begin
  return v_cipher || extensions.hmac(nonce || additional || v_cipher, v_cipher_key.key, 'sha256');
end
$$;

create or replace function vault._crypto_aead_det_decrypt(
  message bytea, additional bytea, key_id bigint, context bytea default 'pgsodium', nonce bytea default null
) returns bytea
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cipher_key record := vault.stand_in_cipher_key(context, key_id, nonce);
  v_cipher bytea := substring(message from 1 for octet_length(message) - 32);
begin
  if octet_length(message) < 32
     or substring(message from octet_length(message) - 31) <> extensions.hmac(nonce || additional || v_cipher, v_cipher_key.key, 'sha256') then
    raise exception 'pgsodium_crypto_aead_det_decrypt_by_id: invalid ciphertext';
  end if;
  return extensions.decrypt_iv(v_cipher, v_cipher_key.key, v_cipher_key.iv, 'aes-cbc/pad:pkcs');
end
$$;

create table if not exists vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea default vault._crypto_aead_det_noncegen(),
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);
comment on table vault.secrets is 'Table with encrypted `secret` column for storing sensitive information on disk.';
create unique index if not exists secrets_name_idx on vault.secrets (name) where name is not null;

create or replace view vault.decrypted_secrets as
select s.id, s.name, s.description, s.secret,
       convert_from(vault._crypto_aead_det_decrypt(
         message := decode(s.secret, 'base64'), additional := convert_to(s.id::text, 'utf8'),
         key_id := 0, context := 'pgsodium'::bytea, nonce := s.nonce), 'utf8') as decrypted_secret,
       s.key_id, s.nonce, s.created_at, s.updated_at
  from vault.secrets as s;

create or replace function vault.create_secret(
  new_secret text, new_name text default null, new_description text default '', new_key_id uuid default null
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  rec record;
begin
  insert into vault.secrets (secret, name, description)
  values (new_secret, new_name, new_description)
  returning * into rec;
  update vault.secrets as s
     set secret = encode(vault._crypto_aead_det_encrypt(
           message := convert_to(rec.secret, 'utf8'), additional := convert_to(s.id::text, 'utf8'),
           key_id := 0, context := 'pgsodium'::bytea, nonce := rec.nonce), 'base64')
   where s.id = rec.id;
  return rec.id;
end
$$;

create or replace function vault.update_secret(
  secret_id uuid, new_secret text default null, new_name text default null,
  new_description text default null, new_key_id uuid default null
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update vault.secrets as s
     set secret = case when new_secret is null then s.secret
                       else encode(vault._crypto_aead_det_encrypt(
                              message := convert_to(new_secret, 'utf8'), additional := convert_to(s.id::text, 'utf8'),
                              key_id := 0, context := 'pgsodium'::bytea, nonce := s.nonce), 'base64') end,
         name = coalesce(new_name, s.name),
         description = coalesce(new_description, s.description),
         updated_at = now()
   where s.id = secret_id;
end
$$;

revoke all on function vault._crypto_aead_det_encrypt(bytea, bytea, bigint, bytea, bytea),
  vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea), vault._crypto_aead_det_noncegen(),
  vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid)
  from public;

-- The platform's grants once Vault 0.3 is installed.
grant usage on schema vault to postgres with grant option;
grant select, delete, truncate, references on vault.secrets, vault.decrypted_secrets to postgres with grant option;
grant execute on function vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid),
  vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea) to postgres with grant option;
grant usage on schema vault to service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to service_role;
grant execute on function vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid),
  vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea) to service_role;
