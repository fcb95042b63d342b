/**
 * The provider for each channel, from the configuration (see ../config.ts): Resend or Twilio
 * when configured, else the sink.
 */
import type { AlertsConfig } from "../config.ts";
import type { ProviderSet } from "../types.ts";
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
  return { email, sms: text, whatsapp: text };
}
