/**
 * Profiles as the functions see them: the public-contract columns of `public.profiles`
 * (ARCHITECTURE §4) and the caller's effective Rally role.
 */
import type { UserClaims, UserRole } from "./auth.ts";
import type { DbClient } from "./db.ts";

export interface Profile {
  id: string;
  username: string;
  display_name: string | null;
  avatar_path: string | null;
  bio: string | null;
  city: string | null;
  timezone: string | null;
  locale: string | null;
  is_host: boolean;
  host_status: string | null;
  followers_count: number;
  following_count: number;
}

/**
 * The contract columns. Counts are cast to int4 because node-postgres returns int8 as a string;
 * enum-typed columns come back as text either way.
 */
const PROFILE_SELECT = `
  select id, username, display_name, avatar_path, bio, city, timezone, locale,
         is_host, host_status::text as host_status,
         followers_count::int4 as followers_count, following_count::int4 as following_count
    from public.profiles`;

/**
 * One profile by id, read with whatever role and claims the client's transaction has (so RLS
 * decides what is visible), or null when there is no visible row.
 */
export async function findProfile(client: DbClient, id: string): Promise<Profile | null> {
  const { rows } = await client.query<Profile>(`${PROFILE_SELECT} where id = $1`, [id]);
  return rows[0] ?? null;
}

/**
 * The caller's own profile, after the check every RPC makes (private.require_user): a token
 * whose account no longer exists, was deleted or is suspended is refused with 403
 * `account_not_found` / `account_deleted` / `account_suspended`, whichever function is called.
 * `client` must be in the caller's request context (withUserContext) and `id` their `sub`.
 */
export async function requireAccount(client: DbClient, id: string): Promise<Profile> {
  await client.query("select private.require_user()");
  const profile = await findProfile(client, id);
  if (profile === null) throw new Error("require_user passed but the profile is not readable");
  return profile;
}

/**
 * The caller's Rally role. The access-token hook puts it in the JWT as `user_role`; a token
 * issued without the hook (older sessions, hand-signed test tokens) falls back to the same
 * rule the hook applies: admin from `app_metadata.role`, else host when the profile is one.
 */
export function effectiveUserRole(claims: Pick<UserClaims, "user_role" | "app_metadata">, profile: Profile): UserRole {
  if (claims.user_role !== undefined) return claims.user_role;
  if (claims.app_metadata.role === "admin") return "admin";
  return profile.is_host ? "host" : "guest";
}
