/**
 * One dispatcher run against the provider stand-ins a test started: the real dispatcher and the
 * real Resend, Twilio and FCM adapters, pointed at the stand-ins; a channel without a stand-in
 * goes to the sink provider (recorded in private.alert_sink, as with no credentials).
 */
import type pg from "pg";
import { runDispatch, type DispatchSummary } from "../../functions/_shared/alerts/dispatcher.ts";
import { claimDeliveries, completeDeliveries, recordSinkAlerts } from "../../functions/_shared/alerts/outbox.ts";
import { createFcmProvider } from "../../functions/_shared/alerts/providers/fcm.ts";
import { createAccessTokenSource } from "../../functions/_shared/alerts/providers/google-oauth.ts";
import { createResendProvider } from "../../functions/_shared/alerts/providers/resend.ts";
import { createSinkProvider } from "../../functions/_shared/alerts/providers/sink.ts";
import { createTwilioProvider } from "../../functions/_shared/alerts/providers/twilio.ts";
import { withServiceRole } from "../../functions/_shared/db.ts";
import type { FcmStandIn } from "./stand-ins/fcm.ts";
import type { ResendStandIn } from "./stand-ins/resend.ts";
import type { TwilioStandIn } from "./stand-ins/twilio.ts";

export interface AlertStandIns {
  resend?: ResendStandIn;
  twilio?: TwilioStandIn;
  fcm?: FcmStandIn;
}

export const APP_URL = "https://rally.example";

export function alertDispatcher(standIns: AlertStandIns, pool: pg.Pool): () => Promise<DispatchSummary> {
  const sink = createSinkProvider((records) => withServiceRole((db) => recordSinkAlerts(db, records), { pool }));
  const { resend, twilio, fcm } = standIns;
  const twilioProvider = twilio === undefined ? null : createTwilioProvider({
    accountSid: twilio.accountSid, authToken: twilio.authToken, baseUrl: twilio.url, smsFrom: "+15005550006",
    whatsappFrom: "+14155238886", statusCallbackUrl: `${APP_URL}/functions/v1/twilio-status`,
  });
  const providers = {
    email: resend === undefined ? sink : createResendProvider({ apiKey: resend.apiKey, baseUrl: resend.url, from: "Rally <alerts@rally.example>" }),
    sms: twilioProvider ?? sink,
    whatsapp: twilioProvider ?? sink,
    push: fcm === undefined ? sink
      : createFcmProvider({ projectId: fcm.projectId, baseUrl: fcm.url, tokens: createAccessTokenSource(fcm.serviceAccount) }),
  };
  return () => runDispatch({
    claim: (limit, lease) => withServiceRole((db) => claimDeliveries(db, limit, lease), { pool }),
    complete: (results) => withServiceRole((db) => completeDeliveries(db, results), { pool }),
    providers,
    appUrl: APP_URL,
  }, { batchSize: 50, maxBatches: 20, concurrency: 5, budgetMs: 20_000, leaseSeconds: 60 });
}
