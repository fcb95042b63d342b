/**
 * /functions/v1/contact-points (verify_jwt = true, signed-in users): the caller's phone number
 * for SMS and WhatsApp, validated and normalised with libphonenumber-js before the database
 * (which re-checks the E.164 format) stores it.
 *
 *   GET                                   → 200 the caller's settings
 *   POST { phone: "07400 123456", country?: "GB" }
 *                                         → 200 { phone_e164: "+447400123456", whatsapp_opt_in_at, … }
 *                                           400 invalid_phone / invalid_country / validation_failed
 *   DELETE                                → 200 settings without a phone (WhatsApp opt-in withdrawn)
 *
 * A new number withdraws the WhatsApp opt-in (consent was for the old number); opt in again with
 * the set_whatsapp_opt_in RPC.
 */
import { z } from "zod";
import { requireUser } from "../_shared/auth.ts";
import { withUserContext, type DbClient } from "../_shared/db.ts";
import { badRequest } from "../_shared/http-errors.ts";
import { json, readJson } from "../_shared/json.ts";
import { routeByMethod } from "../_shared/router.ts";
import { normalizePhone } from "../_shared/alerts/phone.ts";

export const bodySchema = z.strictObject({
  phone: z.string().min(1).max(40),
  country: z.string().length(2).optional(),
});

interface Settings {
  phone_e164: string | null;
  phone_updated_at: string | null;
  whatsapp_opt_in_at: string | null;
  quiet_hours_start: string | null;
  quiet_hours_end: string | null;
  email_suppressed_at: string | null;
}

const COLUMNS = "phone_e164, phone_updated_at, whatsapp_opt_in_at, quiet_hours_start::text, quiet_hours_end::text, email_suppressed_at";
const EMPTY: Settings = {
  phone_e164: null, phone_updated_at: null, whatsapp_opt_in_at: null, quiet_hours_start: null, quiet_hours_end: null,
  email_suppressed_at: null,
};

async function setPhone(db: DbClient, phone: string | null): Promise<Settings> {
  const { rows } = await db.query<Settings>(`select ${COLUMNS} from public.set_phone_number($1)`, [phone]);
  return rows[0] ?? EMPTY;
}

const noStore = { headers: { "Cache-Control": "no-store" } };

export const handler = routeByMethod({
  GET: async (req) => {
    const claims = await requireUser(req);
    const settings = await withUserContext(claims, async (db) => {
      const { rows } = await db.query<Settings>(`select ${COLUMNS} from public.notification_settings where user_id = $1`, [claims.sub]);
      return rows[0] ?? EMPTY;
    }, { readOnly: true });
    return json(settings, noStore);
  },
  POST: async (req) => {
    const claims = await requireUser(req);
    const body = await readJson(req, bodySchema);
    const result = normalizePhone(body.phone, body.country?.toUpperCase());
    if (!result.ok) throw badRequest(result.code, result.message);
    const settings = await withUserContext(claims, (db) => setPhone(db, result.e164));
    return json({ ...settings, country: result.country }, noStore);
  },
  DELETE: async (req) => {
    const claims = await requireUser(req);
    return json(await withUserContext(claims, (db) => setPhone(db, null)), noStore);
  },
});
