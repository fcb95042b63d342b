-- Social graph: people follow and unfollow each other (idempotently, never themselves, never
-- across a block), page through followers and following lists that hide blocked people, and see
-- which friends are going to an event unless those friends hide their attendance.
-- Also tells: 20261125110100_follows_and_blocks
begin;
select plan(44);

-- Ada's followers in list order, read past RLS (the truth the pages are checked against).
create function pg_temp.expected_followers(p_offset integer, p_limit integer) returns text[] language sql security definer as $$
  select array_agg(p.username order by f.created_at desc, f.follower_id)
    from (select * from public.follows where followee_id = tests.get_supabase_uid('ada')
           order by created_at desc, follower_id offset p_offset limit p_limit) f
    join public.profiles p on p.id = f.follower_id
$$;
create function pg_temp.counts(p_name text) returns text language sql security definer as $$
  select followers_count || '/' || following_count from public.profiles where id = tests.get_supabase_uid(p_name)
$$;

select tests.create_supabase_user('ada', 'ada@example.test', '{"username":"ada_hosts","display_name":"Ada"}');
select tests.create_supabase_user('ben', 'ben@example.test', '{"username":"ben_b","display_name":"Ben"}');
select tests.create_supabase_user('cat', 'cat@example.test', '{"username":"cat_c","display_name":"Cat"}');
select tests.create_supabase_user('dan', 'dan@example.test', '{"username":"dan_d","display_name":"Dan"}');
select tests.create_supabase_user('eve', 'eve@example.test', '{"username":"eve_e","display_name":"Eve"}');
select tests.create_supabase_user('fay', 'fay@example.test', '{"username":"fay_f","display_name":"Fay"}');
update public.profiles set is_host = true, host_status = 'active' where id = tests.get_supabase_uid('ada');

-- Following
select tests.authenticate_as('ben');
select is((select followee_id from public.follow_user(tests.get_supabase_uid('ada'))), tests.get_supabase_uid('ada'), 'Ben follows Ada');
select is((select created_at from public.follow_user(tests.get_supabase_uid('ada'))),
          (select created_at from public.follows where follower_id = tests.get_supabase_uid('ben') and followee_id = tests.get_supabase_uid('ada')),
          'following Ada again returns the same follow');
select is(pg_temp.counts('ada'), '1/0', 'Ada has exactly one follower after Ben followed twice');
select is(pg_temp.counts('ben'), '0/1', 'and Ben follows exactly one person');
select tests.authenticate_as('ada');
select is((select count(*)::int from public.notifications where type = 'new_follower' and data ->> 'follower_id' = tests.get_supabase_uid('ben')::text),
          1, 'Ada is told once that Ben followed her');

select tests.authenticate_as('ben');
select tests.raises_hint($$select public.follow_user(tests.get_supabase_uid('ben'))$$, 'cannot_follow_self', 'Ben cannot follow himself');
select tests.raises_hint($$select public.follow_user(gen_random_uuid())$$, 'user_not_found', 'following an unknown user is bad input');
select tests.raises_hint($$select public.follow_user(null)$$, 'invalid_argument', 'following nobody is bad input');
select is((select count(*)::int from public.follows where follower_id = tests.get_supabase_uid('ben')), 1, 'and none of these wrote a follow');
select is(pg_temp.counts('ben'), '0/1', 'or changed Ben''s counts');

select ok(public.unfollow_user(tests.get_supabase_uid('ada')), 'Ben unfollows Ada');
select ok(not public.unfollow_user(tests.get_supabase_uid('ada')), 'unfollowing again changes nothing and says so');
select is(pg_temp.counts('ada'), '0/0', 'Ada''s follower count is back to zero');
select public.follow_user(tests.get_supabase_uid('ada'));
select tests.authenticate_as('ada');
select is((select count(*)::int from public.notifications where type = 'new_follower'), 1,
          'following again the same day does not notify Ada a second time');

-- Blocks
select tests.authenticate_as('ada');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('ada'), tests.get_supabase_uid('eve'));
select tests.authenticate_as('eve');
select tests.raises_hint($$select public.follow_user(tests.get_supabase_uid('ada'))$$, 'blocked', 'Eve cannot follow Ada, who blocked her');
select is(pg_temp.counts('ada'), '1/0', 'and Ada''s count is unchanged');
select tests.authenticate_as('ada');
select tests.raises_hint($$select public.follow_user(tests.get_supabase_uid('eve'))$$, 'blocked', 'Ada cannot follow Eve either while she blocks her');

-- Lists: Ben, Cat, Dan and Fay follow Ada, one after another.
select tests.as_superuser();
insert into public.follows (follower_id, followee_id, created_at)
values (tests.get_supabase_uid('cat'), tests.get_supabase_uid('ada'), now() - interval '3 minutes'),
       (tests.get_supabase_uid('dan'), tests.get_supabase_uid('ada'), now() - interval '2 minutes'),
       (tests.get_supabase_uid('fay'), tests.get_supabase_uid('ada'), now() - interval '2 minutes'),
       (tests.get_supabase_uid('cat'), tests.get_supabase_uid('ben'), now() - interval '1 minute'),
       (tests.get_supabase_uid('cat'), tests.get_supabase_uid('dan'), now() - interval '90 seconds'),
       (tests.get_supabase_uid('cat'), tests.get_supabase_uid('fay'), now() - interval '5 minutes');
select is(pg_temp.counts('ada'), '4/0', 'Ada has four followers');
select is(pg_temp.counts('cat'), '0/4', 'Cat follows four people');

select tests.authenticate_as('cat');
create temp table page1 as select * from public.followers_of(tests.get_supabase_uid('ada'), null, 2);
grant all on page1 to public;
select is((select array_agg(username order by followed_at desc, user_id) from page1), pg_temp.expected_followers(0, 2),
          'the first page of Ada''s followers holds the two newest');
select is((select user_id from page1 where username = 'ben_b'), tests.get_supabase_uid('ben'), 'Ben, the newest follower, comes first');
select is((select array_agg(username order by followed_at desc, user_id)
             from public.followers_of(tests.get_supabase_uid('ada'), (select cursor from page1 order by followed_at, user_id desc limit 1), 2)),
          pg_temp.expected_followers(2, 2),
          'the next page continues exactly where the first ended, across a tie in follow time');
select is((select count(*)::int from public.followers_of(tests.get_supabase_uid('ada'), null, 100)), 4, 'all four followers over the pages');
select ok((select followed_by_me from public.followers_of(tests.get_supabase_uid('ada'), null, 100) where username = 'ben_b'),
          'Cat sees that she follows Ben, one of Ada''s followers');
select is((select array_agg(username order by followed_at desc, user_id) from public.following_of(tests.get_supabase_uid('cat'), null, 10)),
          array['ben_b', 'dan_d', 'ada_hosts', 'fay_f'], 'Cat''s following list is newest first');
select tests.raises_hint($$select public.followers_of(tests.get_supabase_uid('ada'), 'not-a-cursor', 10)$$, 'invalid_cursor', 'a made-up cursor is bad input');
select tests.raises_hint($$select public.followers_of(tests.get_supabase_uid('ada'), null, 0)$$, 'invalid_limit', 'an empty page is bad input');
select tests.raises_hint($$select public.following_of(gen_random_uuid(), null, 10)$$, 'user_not_found', 'an unknown user''s list is bad input');

-- Dan blocks Cat: each disappears from the other's view of lists.
select tests.authenticate_as('dan');
insert into public.blocks (blocker_id, blocked_id) values (tests.get_supabase_uid('dan'), tests.get_supabase_uid('cat'));
select is(pg_temp.counts('dan'), '0/1', 'blocking Cat removed her follow of Dan (Dan still follows Ada)');
select ok(not exists (select 1 from public.followers_of(tests.get_supabase_uid('ada'), null, 100) where username = 'cat_c'),
          'Dan does not see Cat among Ada''s followers');
select tests.authenticate_as('cat');
select ok(not exists (select 1 from public.followers_of(tests.get_supabase_uid('ada'), null, 100) where username = 'dan_d'),
          'and Cat does not see Dan there');
select is((select count(*)::int from public.following_of(tests.get_supabase_uid('dan'), null, 100)), 0,
          'Cat sees an empty list when she looks at whom Dan follows');
select tests.authenticate_as('ben');
select is((select count(*)::int from public.followers_of(tests.get_supabase_uid('ada'), null, 100)), 4, 'Ben, blocked by nobody, still sees all four');
select tests.clear_authentication();
select throws_ok($$select public.followers_of(tests.get_supabase_uid('ada'))$$, '42501', 'You need to sign in to do this.',
                 'anonymous visitors cannot list followers');

-- Friends going: Ada hosts an event; Ben, Dan and Fay book it. Cat follows Ben, Dan (blocked now) and Fay.
select tests.authenticate_as('ada');
create temp table ev as
with e as (insert into public.events (title, starts_at, ends_at, timezone) values ('Rooftop run', now() + interval '4 days', now() + interval '4 days 2 hours', 'Europe/London') returning id)
select id from e;
grant all on ev to public;
insert into public.ticket_types (event_id, name, price_cents, currency, capacity) select id, 'Runner', 0, 'GBP', 20 from ev;
select public.publish_event(id) from ev;
select tests.authenticate_as('ben');
select public.book_event((select id from ev), (select t.id from public.ticket_types t where t.event_id = (select id from ev)));
select tests.authenticate_as('dan');
select public.book_event((select id from ev), (select t.id from public.ticket_types t where t.event_id = (select id from ev)));
select tests.authenticate_as('fay');
select public.book_event((select id from ev), (select t.id from public.ticket_types t where t.event_id = (select id from ev)));
select tests.authenticate_as('cat');
select is((select array_agg(username order by username) from public.friends_going((select id from ev))), array['ben_b', 'fay_f'],
          'Cat sees Ben and Fay going (Dan blocked her)');
select tests.authenticate_as('fay');
update public.profiles set hide_attendance = true where id = tests.get_supabase_uid('fay');
select tests.authenticate_as('cat');
select is((select array_agg(username order by username) from public.friends_going((select id from ev))), array['ben_b'],
          'once Fay hides her attendance, Cat sees only Ben');
select is((select friends_going from public.event_feed() where id = (select id from ev)), 1,
          'and Cat''s feed counts one friend going, not Fay');
select tests.authenticate_as('ben');
select public.cancel_booking((select id from public.bookings where guest_id = tests.get_supabase_uid('ben')));
select tests.authenticate_as('cat');
select is((select count(*)::int from public.friends_going((select id from ev))), 0, 'a friend who cancels is no longer listed');
select is((select reason || ':' || friends_going from public.event_feed() where id = (select id from ev)), 'following_host:0',
          'and Cat''s feed shows the event only because she follows Ada, with no friends going');
select tests.authenticate_as('eve');
select tests.raises_hint($$select public.friends_going((select id from ev))$$, 'event_not_found',
          'Eve, blocked by the host, cannot see who goes to Ada''s event');
select tests.raises_hint($$select public.friends_going(gen_random_uuid())$$, 'event_not_found', 'nor can anyone ask about an unknown event');

-- Follow and block cannot race into a follow across a block: both take the pair lock.
select tests.as_superuser();
select ok(exists (select 1 from pg_trigger t where t.tgrelid = 'public.blocks'::regclass and not t.tgisinternal
                   and pg_get_functiondef(t.tgfoid) like '%private.lock_user_pair(new.blocker_id, new.blocked_id)%'),
          'blocking takes the same pair lock as following');
select is((select count(*)::int from public.follows f where exists (
             select 1 from public.blocks b where (b.blocker_id, b.blocked_id) in ((f.follower_id, f.followee_id), (f.followee_id, f.follower_id)))),
          0, 'no follow exists across a block');
select is((select count(*)::int from public.profiles p where p.followers_count <> (select count(*) from public.follows f where f.followee_id = p.id)
             or p.following_count <> (select count(*) from public.follows f where f.follower_id = p.id)),
          0, 'every follower and following count matches the follows');

select * from finish();
rollback;
