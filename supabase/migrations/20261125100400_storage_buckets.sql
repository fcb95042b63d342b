-- Storage buckets and the avatar upload rules.
--
-- The buckets and their limits mirror supabase/config.toml ([storage.buckets.*]); a test keeps the
-- two in step. On a hosted project this migration creates them; locally the Storage API is a
-- stand-in, so these rows are the buckets.
--   avatars       public read (public URL), owners write under `<user id>/`
--   event-covers  public read; the host and managing co-hosts write under `<event id>/` (rules: 20261125110200_events)
--   chat-media    private; members only, under `<conversation id>/<user id>/` (rules come with chat)

insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('avatars', 'avatars', true, 2 * 1024 * 1024, array['image/png', 'image/jpeg', 'image/webp']),
  ('event-covers', 'event-covers', true, 5 * 1024 * 1024, array['image/png', 'image/jpeg', 'image/webp']),
  ('chat-media', 'chat-media', false, 10 * 1024 * 1024,
   array['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'audio/webm', 'audio/ogg', 'audio/mp4', 'audio/mpeg'])
on conflict (id) do update
  set public = excluded.public,
      file_size_limit = excluded.file_size_limit,
      allowed_mime_types = excluded.allowed_mime_types;

-- Public buckets are read through public URLs, which need no SELECT policy; owners still need
-- SELECT on their own folder for upserts and listing, and nobody can list someone else's folder.
create policy "avatars: owners read their folder" on storage.objects
  for select to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "avatars: owners upload into their folder" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "avatars: owners replace their files" on storage.objects
  for update to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text)
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "avatars: owners delete their files" on storage.objects
  for delete to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);
