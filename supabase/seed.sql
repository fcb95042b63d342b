-- A believable demo community for local development (`npm start`, `npm run db:start`) and
-- `supabase db reset`. Users are inserted the way Supabase Auth inserts them; the sign-up
-- trigger creates their profiles. Every password is "password123".
-- Later capabilities extend this file with events, bookings, conversations and wallets.

insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_sso_user, is_anonymous
)
select '00000000-0000-0000-0000-000000000000', u.id, 'authenticated', 'authenticated', u.email,
       extensions.crypt('password123', extensions.gen_salt('bf', 6)), now(),
       jsonb_build_object('provider', 'email', 'providers', jsonb_build_array('email')) || u.app_meta,
       u.user_meta, now() - u.age, now() - u.age, false, false
from (values
  ('11111111-1111-4111-8111-111111111111'::uuid, 'maya@rally.example',
   '{"username":"maya_runs","display_name":"Maya Okafor","timezone":"Europe/London","locale":"en-GB"}'::jsonb, '{}'::jsonb, interval '400 days'),
  ('22222222-2222-4222-8222-222222222222'::uuid, 'leo@rally.example',
   '{"username":"leo_jazz","display_name":"Leo Ferreira","timezone":"Europe/Lisbon","locale":"pt-PT"}'::jsonb, '{}'::jsonb, interval '250 days'),
  ('33333333-3333-4333-8333-333333333333'::uuid, 'sam@rally.example',
   '{"username":"sam","display_name":"Sam Lee","timezone":"America/New_York"}'::jsonb, '{}'::jsonb, interval '90 days'),
  ('44444444-4444-4444-8444-444444444444'::uuid, 'priya@rally.example',
   '{"username":"priya_k","display_name":"Priya Kumar","timezone":"Asia/Kolkata"}'::jsonb, '{}'::jsonb, interval '60 days'),
  ('55555555-5555-4555-8555-555555555555'::uuid, 'tom@rally.example',
   '{"display_name":"Tom Becker","timezone":"Europe/Berlin","locale":"de"}'::jsonb, '{}'::jsonb, interval '20 days'),
  ('66666666-6666-4666-8666-666666666666'::uuid, 'ops@rally.example',
   '{"username":"rally_ops","display_name":"Rally Operations"}'::jsonb, '{"role":"admin"}'::jsonb, interval '500 days')
) as u(id, email, user_meta, app_meta, age)
on conflict (id) do nothing;

insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at, last_sign_in_at)
select u.id::text, u.id, jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true), 'email', now(), now(), now()
from auth.users u
where u.email like '%@rally.example'
on conflict (provider_id, provider) do nothing;

-- Maya runs community 10Ks in London; Leo hosts jazz nights in Lisbon.
update public.profiles
   set is_host = true, host_status = 'active',
       bio = case id
               when '11111111-1111-4111-8111-111111111111' then 'Community runs and post-run brunches around London.'
               else 'Live jazz in small rooms. Bring a friend.'
             end,
       city = case id when '11111111-1111-4111-8111-111111111111' then 'London' else 'Lisbon' end
 where id in ('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222');

update public.profiles set city = 'New York', bio = 'Always up for a gig.' where id = '33333333-3333-4333-8333-333333333333';
update public.profiles set city = 'Bengaluru' where id = '44444444-4444-4444-8444-444444444444';

select private.notify(id, 'welcome', 'Welcome to Rally', 'Find events near you and follow hosts you like.', '{}'::jsonb)
  from public.profiles
 where not exists (select 1 from public.notifications n where n.user_id = profiles.id and n.type = 'welcome');
