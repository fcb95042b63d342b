/**
 * What Twilio's webhooks into Rally share (the status callback, twilio-status, and the
 * incoming-message webhook, twilio-inbound): the settings, and a form body read up to a bound,
 * checked against `X-Twilio-Signature` (HMAC-SHA1 with TWILIO_AUTH_TOKEN over the URL Twilio was
 * given — the configured public URL plus this request's query string — and the sorted fields)
 * and then against our AccountSid.
 */
import { NotConfiguredError, readEnv } from "../env.ts";
import { badRequest, forbidden } from "../http-errors.ts";
import { readBodyText, storableInPostgres } from "../json.ts";
import { verifyTwilioSignature } from "./signatures.ts";

export interface TwilioWebhookSettings {
  authToken: string;
  accountSid: string;
  /** The public URL Twilio calls (and signs). */
  url: string;
}

/** The URL Twilio was given (and signs): the configured URL with this request's query. */
export function signedUrl(configuredUrl: string, requestUrl: string): string {
  const base = configuredUrl.split("?")[0] ?? configuredUrl;
  return base + new URL(requestUrl).search;
}

/**
 * TWILIO_AUTH_TOKEN, TWILIO_ACCOUNT_SID and the webhook's public URL: `urlVariable` when set,
 * else $SUPABASE_URL/functions/v1/<functionName>. 503 not_configured names what is missing.
 */
export function twilioWebhookSettings(urlVariable: string, functionName: string): TwilioWebhookSettings {
  const authToken = readEnv("TWILIO_AUTH_TOKEN");
  const accountSid = readEnv("TWILIO_ACCOUNT_SID");
  const supabaseUrl = readEnv("SUPABASE_URL");
  const url = readEnv(urlVariable)
    ?? (supabaseUrl === undefined ? undefined : `${supabaseUrl.replace(/\/+$/, "")}/functions/v1/${functionName}`);
  const missing = [
    ...(authToken === undefined ? ["TWILIO_AUTH_TOKEN"] : []),
    ...(accountSid === undefined ? ["TWILIO_ACCOUNT_SID"] : []),
    ...(url === undefined ? [urlVariable] : []),
  ];
  if (authToken === undefined || accountSid === undefined || url === undefined) throw new NotConfiguredError(missing);
  return { authToken, accountSid, url };
}

/** The verified form fields of a Twilio webhook request (403 invalid_signature, 413 past maxBytes, 400 invalid_form). */
export async function verifiedTwilioForm(req: Request, settings: TwilioWebhookSettings, maxBytes: number): Promise<Record<string, string>> {
  const params = new URLSearchParams(await readBodyText(req, maxBytes));
  const valid = await verifyTwilioSignature(settings.authToken, signedUrl(settings.url, req.url), params.entries(),
    req.headers.get("X-Twilio-Signature"));
  if (!valid) throw forbidden("invalid_signature", "The X-Twilio-Signature does not match this request.");
  const fields = Object.fromEntries(params);
  if (!storableInPostgres(fields)) throw badRequest("invalid_form", "The webhook carries characters that cannot be stored.");
  return fields;
}

/** 403 wrong_account unless the (validated) AccountSid is ours. */
export function requireOurAccount(accountSid: string, settings: TwilioWebhookSettings): void {
  if (accountSid !== settings.accountSid) throw forbidden("wrong_account", "This webhook is for another Twilio account.");
}
