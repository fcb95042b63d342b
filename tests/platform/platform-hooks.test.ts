/**
 * What rally_platform_hooks (the local stand-in for supautils) does that needs two roles to see:
 * an event trigger `postgres` creates fires for `postgres`'s own DDL but never for the platform's
 * superuser, so it cannot act with the superuser's privileges. The superuser side is the platform
 * itself, so it connects as `supabase_admin`.
 */
import { afterAll, describe, expect, it } from "vitest";
import { adminQuery, closeTestPools, ownerQuery } from "../support/db.ts";

afterAll(async () => {
  await ownerQuery("drop event trigger if exists hooks_probe");
  await ownerQuery("drop table if exists public.hooks_probe_log, public.hooks_probe_by_postgres");
  await adminQuery("drop table if exists public.hooks_probe_by_admin");
  await adminQuery("drop function if exists public.hooks_probe_admin_fn()");
  await ownerQuery("drop function if exists public.hooks_probe_record()");
  await closeTestPools();
});

describe("an event trigger created by postgres", () => {
  it("fires for postgres's DDL and is skipped for the superuser's", async () => {
    await ownerQuery("create table public.hooks_probe_log (tag text, by_role text)");
    await ownerQuery(`create function public.hooks_probe_record() returns event_trigger language plpgsql as $$
      begin insert into public.hooks_probe_log values (tg_tag, current_user); end $$`);
    await ownerQuery("create event trigger hooks_probe on ddl_command_end when tag in ('CREATE TABLE') execute function public.hooks_probe_record()");
    const { rows: owner } = await ownerQuery<{ owner: string }>(
      "select evtowner::regrole::text as owner from pg_event_trigger where evtname = 'hooks_probe'");
    expect(owner[0]?.owner).toBe("postgres");

    await ownerQuery("create table public.hooks_probe_by_postgres (id int)");
    await adminQuery("create table public.hooks_probe_by_admin (id int)");
    const { rows } = await ownerQuery<{ tag: string; by_role: string }>("select tag, by_role from public.hooks_probe_log");
    expect(rows).toEqual([{ tag: "CREATE TABLE", by_role: "postgres" }]);
  });

  it("cannot run a function the superuser owns", async () => {
    await adminQuery("create function public.hooks_probe_admin_fn() returns event_trigger language plpgsql as 'begin end'");
    await adminQuery("grant execute on function public.hooks_probe_admin_fn() to postgres");
    await expect(ownerQuery("create event trigger hooks_probe_su on ddl_command_end execute function public.hooks_probe_admin_fn()"))
      .rejects.toThrow("Non-superuser owned event trigger must execute a non-superuser owned function");
  });
});
