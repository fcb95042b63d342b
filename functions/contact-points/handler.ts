/**
 * /functions/v1/contact-points (verify_jwt = true, signed-in users): the caller's phone number
 * for SMS and WhatsApp, validated and normalised with libphonenumber-js before the database
 * (which re-checks the E.164 format) stores it, and proved theirs with a code texted to it.
 *
 *   GET                                   → 200 the caller's settings
 *   POST { phone: "07400 123456", country?: "GB" }
 *                                         → 200 { phone_e164: "+447400123456", phone_verified_at: null,
 *                                                 whatsapp_opt_in_at, whatsapp_fallback, …, country, verification_sent: true,
 *                                                 verification_expires_at }
 *                                           400 invalid_phone / invalid_country / validation_failed
 *                                           429 rate_limited (codes per user per hour, per number per day)
 *                                           503 sms_unavailable (the code could not be texted)
 *   DELETE                                → 200 settings without a phone (WhatsApp opt-in withdrawn)
 *
 * Consent (issue 13): nothing is sent to a number until its owner proves it is theirs. POST
 * stores the number unverified and texts a 6-digit code (private.issue_phone_verification: hashed,
 * 10 minutes, 5 attempts) through the SMS provider — Twilio when configured, else the local sink;
 * the app then calls the verify_phone_number RPC with it. POSTing the same unverified number again
 * sends a new code; a verified number is not texted again. A new number withdraws the WhatsApp
 * opt-in and is unverified. The body is capped at 4 KiB (413 payload_too_large).
 */
import { z } from "zod";
import { requireUser } from "../_shared/auth.ts";
import { withServiceRole, withUserContext, type DbClient } from "../_shared/db.ts";
import { badRequest, HttpError } from "../_shared/http-errors.ts";
import { json, readJson } from "../_shared/json.ts";
import { requireAccount } from "../_shared/profiles.ts";
import { routeByMethod } from "../_shared/router.ts";
import { alertsConfig } from "../_shared/alerts/config.ts";
import { recordSinkAlerts } from "../_shared/alerts/outbox.ts";
import { normalizePhone } from "../_shared/alerts/phone.ts";
import { buildProviders } from "../_shared/alerts/providers/index.ts";

export const bodySchema = z.strictObject({
  phone: z.string().min(1).max(40),
  country: z.string().length(2).optional(),
});

interface Settings {
  phone_e164: string | null;
  phone_updated_at: string | null;
  phone_verified_at: string | null;
  whatsapp_opt_in_at: string | null;
  whatsapp_fallback: "sms" | "none";
  quiet_hours_start: string | null;
  quiet_hours_end: string | null;
  email_suppressed_at: string | null;
}

interface IssuedCode {
  code: string;
  phone_e164: string;
  expires_at: Date;
}

const COLUMNS = "phone_e164, phone_updated_at, phone_verified_at, whatsapp_opt_in_at, whatsapp_fallback, quiet_hours_start::text, quiet_hours_end::text, email_suppressed_at";
// No settings row yet: the column defaults (notification_preferences migration).
const EMPTY: Settings = {
  phone_e164: null, phone_updated_at: null, phone_verified_at: null, whatsapp_opt_in_at: null, whatsapp_fallback: "sms",
  quiet_hours_start: null, quiet_hours_end: null, email_suppressed_at: null,
};

async function setPhone(db: DbClient, phone: string | null): Promise<Settings> {
  const { rows } = await db.query<Settings>(`select ${COLUMNS} from public.set_phone_number($1)`, [phone]);
  return rows[0] ?? EMPTY;
}

/** The text of the verification SMS. */
export function verificationText(code: string): string {
  return `Your Rally code is ${code}. It expires in 10 minutes. Never share it: Rally will never ask you for it.`;
}

/** Texts the code through the SMS provider (Twilio, or the sink locally); 503 when it could not. */
async function textCode(issued: IssuedCode): Promise<void> {
  const providers = buildProviders(alertsConfig(), { recordSink: (records) => withServiceRole((db) => recordSinkAlerts(db, records)) });
  const outcome = await providers.sms.send({
    deliveryId: crypto.randomUUID(), channel: "sms", to: issued.phone_e164, text: verificationText(issued.code),
  });
  if (outcome.kind !== "sent") {
    throw new HttpError(503, "sms_unavailable", "We could not text you the code right now. Please try again in a minute.",
      { details: { provider_error: outcome.error } });
  }
}

const noStore = { headers: { "Cache-Control": "no-store" } };

export const handler = routeByMethod({
  GET: async (req) => {
    const claims = await requireUser(req);
    const settings = await withUserContext(claims, async (db) => {
      await requireAccount(db, claims.sub);
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
    let expiresAt: string | null = null;
    if (settings.phone_verified_at === null) {
      // Its own transaction (the rate limits count it), committed before the SMS goes out.
      const issued = await withServiceRole(async (db) => {
        const { rows } = await db.query<IssuedCode>("select code, phone_e164, expires_at from private.issue_phone_verification($1)", [claims.sub]);
        const row = rows[0];
        if (row === undefined) throw new Error("issue_phone_verification returned no row");
        return row;
      });
      await textCode(issued);
      expiresAt = new Date(issued.expires_at).toISOString();
    }
    return json({ ...settings, country: result.country, verification_sent: expiresAt !== null, verification_expires_at: expiresAt }, noStore);
  },
  DELETE: async (req) => {
    const claims = await requireUser(req);
    return json(await withUserContext(claims, (db) => setPhone(db, null)), noStore);
  },
});
