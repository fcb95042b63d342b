/**
 * Which provider serves each channel, from the environment:
 *
 *   email     Resend when RESEND_API_KEY is set (then RESEND_FROM is required), else the sink
 *   sms       Twilio when TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set (then TWILIO_SMS_FROM
 *             or TWILIO_MESSAGING_SERVICE_SID is required), else the sink
 *   whatsapp  Twilio likewise (then TWILIO_WHATSAPP_FROM is required), else the sink
 *   push      FCM HTTP v1 when FCM_SERVICE_ACCOUNT_JSON is set (a service-account key file's
 *             JSON, raw or base64; FCM_PROJECT_ID overrides its project_id, FCM_API_BASE the
 *             API's base URL), else the sink
 *
 * ALERT_PROVIDER_TIMEOUT_MS (100–60000, default 15000) bounds each call to Resend or Twilio;
 * a provider that answers later is treated as a timeout (retried with backoff).
 *
 * A half-configured provider (a key without its sender, a SID without a token) is a deployment
 * error: 503 not_configured naming the variables, rather than alerts silently going to the sink.
 */
import { NotConfiguredError, readEnv } from "../env.ts";
import { FCM_DEFAULT_BASE } from "./providers/fcm.ts";
import { serviceAccountSchema, type ServiceAccount } from "./providers/google-oauth.ts";
import { RESEND_DEFAULT_BASE } from "./providers/resend.ts";
import { TWILIO_DEFAULT_BASE } from "./providers/twilio.ts";
import type { Channel, ProviderName } from "./types.ts";

export interface ResendSettings { apiKey: string; baseUrl: string; from: string; timeoutMs?: number }
export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  baseUrl: string;
  smsFrom?: string;
  messagingServiceSid?: string;
  whatsappFrom?: string;
  statusCallbackUrl?: string;
  timeoutMs?: number;
}

export interface FcmSettings {
  serviceAccount: ServiceAccount;
  projectId: string;
  baseUrl: string;
  timeoutMs?: number;
}

export interface AlertsConfig {
  resend: ResendSettings | null;
  twilio: TwilioSettings | null;
  fcm: FcmSettings | null;
  /** Base URL of the app, for links in alerts. */
  appUrl: string;
  /** ALERT_PROVIDER_TIMEOUT_MS when set (the adapters' default otherwise). */
  providerTimeoutMs?: number;
  choice: Record<Channel, ProviderName>;
}

export const DEFAULT_APP_URL = "http://127.0.0.1:3000";

type Read = (name: string) => string | undefined;

/** `base` plus the entries of `extras` that are set (optional properties stay absent, not undefined). */
function withOptional<T extends object>(base: T, extras: Partial<Record<keyof T, string | undefined>>): T {
  const out = { ...base };
  for (const [key, value] of Object.entries(extras) as [keyof T, string | undefined][]) {
    if (value !== undefined) Object.assign(out, { [key]: value });
  }
  return out;
}

/** The key file as given: its JSON, or the same in base64 (what fits a one-line secret). */
export function parseServiceAccount(raw: string): ServiceAccount | null {
  const candidates = [raw.trim()];
  try {
    candidates.push(atob(raw.trim()));
  } catch {
    // not base64
  }
  for (const text of candidates) {
    try {
      const parsed = serviceAccountSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // not JSON
    }
  }
  return null;
}

function fcmSettings(read: Read, missing: string[], timeout: { timeoutMs?: number }): FcmSettings | null {
  const raw = read("FCM_SERVICE_ACCOUNT_JSON");
  if (raw === undefined) {
    if (read("FCM_PROJECT_ID") !== undefined || read("FCM_API_BASE") !== undefined) missing.push("FCM_SERVICE_ACCOUNT_JSON");
    return null;
  }
  const serviceAccount = parseServiceAccount(raw);
  if (serviceAccount === null) {
    missing.push("FCM_SERVICE_ACCOUNT_JSON");
    return null;
  }
  return { serviceAccount, projectId: read("FCM_PROJECT_ID") ?? serviceAccount.project_id,
           baseUrl: read("FCM_API_BASE") ?? FCM_DEFAULT_BASE, ...timeout };
}

/** Reads the alert providers' configuration; throws NotConfiguredError (503) when incomplete. */
export function alertsConfig(read: Read = readEnv): AlertsConfig {
  const missing: string[] = [];
  const rawTimeout = read("ALERT_PROVIDER_TIMEOUT_MS");
  const timeoutMs = rawTimeout === undefined ? undefined : Number(rawTimeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs >= 100 && timeoutMs <= 60_000)) {
    missing.push("ALERT_PROVIDER_TIMEOUT_MS");
  }
  const timeout = timeoutMs === undefined ? {} : { timeoutMs };
  let resend: ResendSettings | null = null;
  const apiKey = read("RESEND_API_KEY");
  if (apiKey !== undefined) {
    const from = read("RESEND_FROM");
    if (from === undefined) missing.push("RESEND_FROM");
    else resend = { apiKey, from, baseUrl: read("RESEND_API_BASE") ?? RESEND_DEFAULT_BASE, ...timeout };
  }

  let twilio: TwilioSettings | null = null;
  const sid = read("TWILIO_ACCOUNT_SID");
  const token = read("TWILIO_AUTH_TOKEN");
  if (sid !== undefined || token !== undefined) {
    if (sid === undefined) missing.push("TWILIO_ACCOUNT_SID");
    if (token === undefined) missing.push("TWILIO_AUTH_TOKEN");
    const smsFrom = read("TWILIO_SMS_FROM");
    const messagingServiceSid = read("TWILIO_MESSAGING_SERVICE_SID");
    const whatsappFrom = read("TWILIO_WHATSAPP_FROM");
    if (smsFrom === undefined && messagingServiceSid === undefined) missing.push("TWILIO_SMS_FROM");
    if (whatsappFrom === undefined) missing.push("TWILIO_WHATSAPP_FROM");
    const supabaseUrl = read("SUPABASE_URL");
    const statusCallbackUrl = read("TWILIO_STATUS_CALLBACK_URL")
      ?? (supabaseUrl === undefined ? undefined : `${supabaseUrl.replace(/\/+$/, "")}/functions/v1/twilio-status`);
    if (sid !== undefined && token !== undefined) {
      twilio = withOptional<TwilioSettings>({ accountSid: sid, authToken: token, baseUrl: read("TWILIO_API_BASE") ?? TWILIO_DEFAULT_BASE, ...timeout },
        { smsFrom, messagingServiceSid, whatsappFrom, statusCallbackUrl });
    }
  }
  const fcm = fcmSettings(read, missing, timeout);
  if (missing.length > 0) throw new NotConfiguredError(missing);
  return {
    resend,
    twilio,
    fcm,
    ...(timeoutMs === undefined ? {} : { providerTimeoutMs: timeoutMs }),
    appUrl: read("RALLY_APP_URL") ?? DEFAULT_APP_URL,
    choice: {
      email: resend === null ? "sink" : "resend",
      sms: twilio === null ? "sink" : "twilio",
      whatsapp: twilio === null ? "sink" : "twilio",
      push: fcm === null ? "sink" : "fcm",
    },
  };
}
