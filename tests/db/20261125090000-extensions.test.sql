-- Extensions: the two Rally adds to a new project are there, where the platform puts them and
-- owned as the platform owns them (supautils creates privileged extensions as its superuser),
-- and they do what Rally uses them for: distances on the globe, and schedules.
begin;
select plan(6);

select is((select extnamespace::regnamespace::text from pg_extension where extname = 'postgis'), 'extensions',
          'PostGIS lives in the extensions schema, out of the Data API');
select is((select extnamespace::regnamespace::text from pg_extension where extname = 'pg_cron'), 'pg_catalog',
          'pg_cron lives where supautils pins it');
select is((select array_agg(extowner::regrole::text order by extname) from pg_extension where extname in ('pg_cron', 'postgis')),
          array['supabase_admin', 'supabase_admin'], 'both were created as the platform''s superuser, not as postgres');
select has_table('cron', 'job', 'pg_cron''s own tables are in schema cron');
select ok(extensions.st_distance(extensions.st_makepoint(-0.1276, 51.5072)::extensions.geography,
                                 extensions.st_makepoint(2.3522, 48.8566)::extensions.geography) / 1000 between 340 and 350,
          'London to Paris is about 344 km on the globe');
select ok(has_function_privilege('postgres', 'cron.schedule(text, text, text)', 'execute'), 'postgres may schedule jobs');

select * from finish();
rollback;
