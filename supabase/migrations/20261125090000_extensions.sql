-- The extensions Rally needs beyond what every new Supabase project already has.
--
-- A new hosted project comes with pgcrypto and uuid-ossp (schema `extensions`),
-- pg_stat_statements, pg_net, supabase_vault and pgjwt; nothing else. Everything else is
-- created here, by `postgres`, which supautils allows for its privileged (allow-listed)
-- extensions: they are created as the platform's superuser.
--   postgis  distance search (events.location, search_events)
--   pg_cron  every recurring job (hold expiry, completion, earnings release, reminders, …);
--            supautils pins its schema to pg_catalog, its own objects live in `cron`.

create extension if not exists postgis with schema extensions;
create extension if not exists pg_cron with schema pg_catalog;
