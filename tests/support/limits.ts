/**
 * Helpers for the abuse suite's loops:
 *
 *   await withRateLimit("booking", 3, "1 hour", async () => { … });  // as an operator would set it
 *   const strangers = await bulkUsers(255);                             // users as GoTrue creates them
 *
 * `withRateLimit` changes the setting through admin.set_rate_limit and puts the old value back
 * afterwards, so files that run later see the defaults.
 */
import { ownerQuery } from "./db.ts";

export async function withRateLimit<T>(action: string, maxCalls: number, per: string, fn: () => Promise<T>): Promise<T> {
  const { rows } = await ownerQuery<{ max_calls: number; per: string }>(
    "select max_calls, per::text as per from private.rate_limits where action = $1", [action]);
  const saved = rows[0];
  if (saved === undefined) throw new Error(`no rate limit ${action}`);
  await ownerQuery("select admin.set_rate_limit($1, $2, $3::interval)", [action, maxCalls, per]);
  try {
    return await fn();
  } finally {
    await ownerQuery("select admin.set_rate_limit($1, $2, $3::interval)", [action, saved.max_calls, saved.per]);
  }
}

/**
 * `n` confirmed users inserted in one statement as GoTrue inserts them (the sign-up trigger makes
 * their profiles); returns their ids. For loops that need hundreds of targets.
 */
export async function bulkUsers(n: number, prefix = "bulk"): Promise<string[]> {
  const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
  const { rows } = await ownerQuery<{ id: string }>(
    `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                             raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
            $2 || '_' || $3 || '_' || g || '@example.test', '', now(), '{"provider":"email","providers":["email"]}',
            jsonb_build_object('username', $2 || '_' || $3 || '_' || g), now(), now()
       from generate_series(1, $1::int) g
     returning id`, [n, prefix, tag]);
  return rows.map((row) => row.id);
}
