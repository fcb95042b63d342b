/**
 * GET /functions/v1/me (verify_jwt = true): the caller's own profile, read as the caller
 * (role `authenticated`, their claims) so RLS applies exactly as through the Data API, plus
 * their Rally role (`user_role`).
 *
 * 401 without a signed-in user's token; 404 `profile_not_found` when the user has no profile
 * row (e.g. deleted, or created before the profiles trigger existed).
 */
import { requireUser } from "../_shared/auth.ts";
import { withUserContext } from "../_shared/db.ts";
import { notFound } from "../_shared/http-errors.ts";
import { json } from "../_shared/json.ts";
import { effectiveUserRole, findProfile } from "../_shared/profiles.ts";
import { routeByMethod } from "../_shared/router.ts";

export const handler = routeByMethod({
  GET: async (req) => {
    const claims = await requireUser(req);
    const profile = await withUserContext(claims, (db) => findProfile(db, claims.sub), { readOnly: true });
    if (profile === null) throw notFound("profile_not_found", "There is no profile for this user.");
    return json({ ...profile, user_role: effectiveUserRole(claims, profile) }, {
      headers: { "Cache-Control": "no-store" },
    });
  },
});
