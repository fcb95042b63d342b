/**
 * GET /functions/v1/me (verify_jwt = true): the caller's own profile, read as the caller
 * (role `authenticated`, their claims) so RLS applies exactly as through the Data API, plus
 * their Rally role (`user_role`).
 *
 * 401 without a signed-in user's token; 403 `account_not_found` when the token's account no
 * longer exists, `account_deleted` / `account_suspended` — the codes every RPC and function
 * answers (private.require_user), so an app handles a vanished account in one place.
 */
import { requireUser } from "../_shared/auth.ts";
import { withUserContext } from "../_shared/db.ts";
import { json } from "../_shared/json.ts";
import { effectiveUserRole, requireAccount } from "../_shared/profiles.ts";
import { routeByMethod } from "../_shared/router.ts";

export const handler = routeByMethod({
  GET: async (req) => {
    const claims = await requireUser(req);
    const profile = await withUserContext(claims, (db) => requireAccount(db, claims.sub), { readOnly: true });
    return json({ ...profile, user_role: effectiveUserRole(claims, profile) }, {
      headers: { "Cache-Control": "no-store" },
    });
  },
});
