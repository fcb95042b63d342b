/**
 * Bench users, created the way Supabase Auth creates them (a row in auth.users; the sign-up
 * trigger creates the profile), in bulk, and the claims their access tokens would carry (GoTrue's
 * claims passed through public.custom_access_token_hook, as supabase_auth_admin, like GoTrue).
 */
import { adminPool, adminQuery } from '../../tests/support/db.ts';
import { type GoTrueClaims, userClaims } from '../../tests/support/jwt.ts';

export interface BenchUser {
  id: string;
  email: string;
  claims: GoTrueClaims;
}

interface NewUserRow {
  id: string;
  email: string;
  raw_app_meta_data: Record<string, unknown>;
  raw_user_meta_data: Record<string, unknown>;
}

/**
 * Inserts `count` confirmed email users named `<prefix>_<n>` in `chunks` statements run side by
 * side (each one `insert … select … generate_series`), then issues their claims.
 */
export async function createBenchUsers(prefix: string, count: number, chunks = 2): Promise<BenchUser[]> {
  const size = Math.ceil(count / chunks);
  const ranges: [number, number][] = [];
  for (let from = 1; from <= count; from += size) ranges.push([from, Math.min(count, from + size - 1)]);
  const parts = await Promise.all(
    ranges.map(([from, to]) =>
      adminQuery<NewUserRow>(
        `insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data,
                                 raw_user_meta_data, created_at, updated_at, is_sso_user, is_anonymous)
         select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
                $1 || '_' || g || '@bench.example', now(),
                '{"provider":"email","providers":["email"]}'::jsonb,
                jsonb_build_object('username', $1 || '_' || g, 'display_name', 'Bench ' || $1 || ' ' || g),
                now(), now(), false, false
           from generate_series($2::int, $3::int) as g
         returning id, email, raw_app_meta_data, raw_user_meta_data`,
        [prefix, from, to],
      ),
    ),
  );
  const rows = parts.flatMap((part) => part.rows);
  return issueClaims(rows);
}

/** GoTrue's claims for each user, through the access-token hook in one statement. */
async function issueClaims(rows: readonly NewUserRow[]): Promise<BenchUser[]> {
  const base = rows.map((row) =>
    userClaims({ id: row.id, email: row.email, app_metadata: row.raw_app_meta_data, user_metadata: row.raw_user_meta_data }),
  );
  const client = await adminPool().connect();
  try {
    await client.query('begin');
    await client.query('set local role supabase_auth_admin');
    const events = base.map((claims) => ({ user_id: claims.sub, claims, authentication_method: 'password' }));
    const { rows: hooked } = await client.query<{ ord: string; claims: GoTrueClaims }>(
      `select x.ord, public.custom_access_token_hook(x.ev) -> 'claims' as claims
         from jsonb_array_elements($1::jsonb) with ordinality as x(ev, ord)`,
      [JSON.stringify(events)],
    );
    await client.query('commit');
    const byOrd = new Map(hooked.map((row) => [Number(row.ord), row.claims]));
    return rows.map((row, i) => {
      const claims = byOrd.get(i + 1) ?? base[i];
      if (claims === undefined) throw new Error(`no claims for bench user ${row.id}`);
      return { id: row.id, email: row.email, claims };
    });
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Makes users active hosts with payouts enabled, as the superuser (what onboarding would do). */
export async function makeHosts(ids: readonly string[]): Promise<void> {
  await adminQuery(
    `update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = any($1::uuid[])`,
    [ids],
  );
}
