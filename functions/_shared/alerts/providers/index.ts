/**
 * The provider for each channel, from the configuration (see ../config.ts): Resend, Twilio and
 * FCM when configured, else the sink.
 */
import type { AlertsConfig } from "../config.ts";
import type { ProviderSet } from "../types.ts";
import { createFcmProvider } from "./fcm.ts";
import { createAccessTokenSource } from "./google-oauth.ts";
import type { FetchLike } from "./http.ts";
import { createResendProvider } from "./resend.ts";
import { createSinkProvider, type SinkRecorder } from "./sink.ts";
import { createTwilioProvider } from "./twilio.ts";

export interface ProviderDeps {
  recordSink: SinkRecorder;
  fetch?: FetchLike;
}

export function buildProviders(config: AlertsConfig, deps: ProviderDeps): ProviderSet {
  const sink = createSinkProvider(deps.recordSink);
  const extra = deps.fetch === undefined ? {} : { fetch: deps.fetch };
  const email = config.resend === null ? sink : createResendProvider({ ...config.resend, ...extra });
  const text = config.twilio === null ? sink : createTwilioProvider({ ...config.twilio, ...extra });
  const push = config.fcm === null ? sink : createFcmProvider({
    projectId: config.fcm.projectId,
    baseUrl: config.fcm.baseUrl,
    tokens: createAccessTokenSource(config.fcm.serviceAccount, { ...extra, ...(config.fcm.timeoutMs === undefined ? {} : { timeoutMs: config.fcm.timeoutMs }) }),
    ...(config.fcm.timeoutMs === undefined ? {} : { timeoutMs: config.fcm.timeoutMs }),
    ...extra,
  });
  return { email, sms: text, whatsapp: text, push };
}
