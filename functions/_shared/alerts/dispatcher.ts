/**
 * The dispatch loop, free of I/O details so tests can drive it with stand-ins:
 *
 *   repeat (until the outbox is drained, `maxBatches` batches, or `budgetMs`):
 *     claim a batch (its own transaction; FOR UPDATE SKIP LOCKED, leased)
 *     render and send each delivery through its channel's provider, `concurrency` at a time,
 *       with the delivery id as idempotency key, outside any transaction
 *     record all outcomes in one call (only rows this claim still holds)
 *
 * A retryable failure is retried after exponential backoff with jitter (the SQL turns a retry
 * past max_attempts into a dead letter); a permanent one is dead at once.
 *
 * A send never starts unless it can finish inside the claim's lease: past the lease another
 * dispatcher may claim the same rows and send them again (Twilio has no idempotency key). With
 * a hanging provider a big batch would outlive its lease (100 messages, 10 at a time, 15 s
 * each = 150 s > 120 s); the messages it could not start are handed back as due again at once
 * (the attempt counts, so a provider that never answers still dead-letters them in bounded
 * attempts).
 */
import { retryDelayMs } from "./backoff.ts";
import { DEFAULT_TIMEOUT_MS } from "./providers/http.ts";
import { renderEmail, renderPush, renderText, renderWhatsAppTemplate } from "./templates.ts";
import type { Channel, ClaimedDelivery, DeliveryResult, OutboundMessage, ProviderSet, SendOutcome } from "./types.ts";

export interface DispatchDeps {
  claim(limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]>;
  complete(results: readonly DeliveryResult[]): Promise<number>;
  providers: ProviderSet;
  appUrl: string;
  now?: () => number;
  random?: () => number;
}

export interface DispatchOptions {
  batchSize: number;
  maxBatches: number;
  concurrency: number;
  budgetMs: number;
  leaseSeconds: number;
  /** The longest one provider call can take (the adapters' timeout); default 15 s. */
  sendTimeoutMs?: number;
}

/** What a message that could not be started inside its lease is handed back with. */
export const LEASE_TOO_SHORT = "not sent: the claim's lease would have run out before the provider answered";

export const DEFAULT_DISPATCH: DispatchOptions = { batchSize: 100, maxBatches: 20, concurrency: 10, budgetMs: 20_000, leaseSeconds: 120 };

export interface DispatchSummary {
  batches: number;
  claimed: number;
  sent: number;
  retried: number;
  dead: number;
  byChannel: Record<Channel, number>;
}

/** Renders a delivery for its channel; throws when it has no destination. */
export function outboundMessage(delivery: ClaimedDelivery, appUrl: string): OutboundMessage {
  const to = delivery.destination;
  if (to === null || to === "") throw new Error("the delivery has no destination");
  const deliveryId = delivery.id;
  switch (delivery.channel) {
    case "email":
      return { deliveryId, channel: "email", to, email: renderEmail(delivery, appUrl) };
    case "sms":
      return { deliveryId, channel: "sms", to, text: renderText(delivery, appUrl) };
    case "whatsapp":
      return { deliveryId, channel: "whatsapp", to, text: renderText(delivery, appUrl), template: renderWhatsAppTemplate(delivery, appUrl) };
    case "push":
      if (delivery.device_platform === null) throw new Error("the push delivery has no device platform");
      return { deliveryId, channel: "push", to, platform: delivery.device_platform, push: renderPush(delivery, appUrl) };
  }
}

/** The outcome to record for one delivery. */
export function resultFor(delivery: ClaimedDelivery, outcome: SendOutcome, provider: DeliveryResult["provider"], nowMs: number, random: () => number): DeliveryResult {
  const base = { id: delivery.id, claim_token: delivery.claim_token };
  switch (outcome.kind) {
    case "sent":
      return { ...base, outcome: "sent", ...(provider === undefined ? {} : { provider }), provider_message_id: outcome.providerMessageId };
    case "permanent":
      return { ...base, outcome: "dead", ...(provider === undefined ? {} : { provider }), error: outcome.error,
               ...(outcome.forgetDestination === true ? { forget_device: true } : {}) };
    case "retryable": {
      const delay = retryDelayMs(delivery.attempt, random, undefined, outcome.retryAfterMs);
      return { ...base, outcome: "retry", ...(provider === undefined ? {} : { provider }), error: outcome.error,
               retry_at: new Date(nowMs + delay).toISOString() };
    }
  }
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Renders and sends one claimed batch: providers with `sendBatch` (the sink) get their messages
 * in one call, the others one message at a time, `concurrency` at once.
 */
async function sendBatch(
  deps: DispatchDeps, claimed: readonly ClaimedDelivery[], concurrency: number, lastStartMs: number,
): Promise<DeliveryResult[]> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const results = new Array<DeliveryResult>(claimed.length);
  const ready: { index: number; delivery: ClaimedDelivery; message: OutboundMessage }[] = [];
  claimed.forEach((delivery, index) => {
    try {
      ready.push({ index, delivery, message: outboundMessage(delivery, deps.appUrl) });
    } catch (err) {
      results[index] = resultFor(delivery, { kind: "permanent", error: `cannot render: ${describe(err)}` }, undefined, now(), random);
    }
  });
  const providers = [...new Set(ready.map((item) => deps.providers[item.delivery.channel]))];
  for (const provider of providers) {
    const mine = ready.filter((item) => deps.providers[item.delivery.channel] === provider);
    if (provider.sendBatch !== undefined) {
      let outcomes: SendOutcome[];
      try {
        outcomes = await provider.sendBatch(mine.map((item) => item.message));
      } catch (err) {
        outcomes = mine.map((): SendOutcome => ({ kind: "retryable", error: `provider threw: ${describe(err)}` }));
      }
      mine.forEach((item, i) => {
        results[item.index] = resultFor(item.delivery, outcomes[i] ?? { kind: "retryable", error: "no outcome" }, provider.name, now(), random);
      });
    } else {
      await mapConcurrent(mine, concurrency, async (item) => {
        if (now() >= lastStartMs) {
          results[item.index] = { id: item.delivery.id, claim_token: item.delivery.claim_token, outcome: "retry", error: LEASE_TOO_SHORT,
                                  retry_at: new Date(now()).toISOString() };
          return;
        }
        let outcome: SendOutcome;
        try {
          outcome = await provider.send(item.message);
        } catch (err) {
          outcome = { kind: "retryable", error: `provider threw: ${describe(err)}` };
        }
        results[item.index] = resultFor(item.delivery, outcome, provider.name, now(), random);
      });
    }
  }
  return results;
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the input order in the output. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export async function runDispatch(deps: DispatchDeps, options: DispatchOptions = DEFAULT_DISPATCH): Promise<DispatchSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const summary: DispatchSummary = { batches: 0, claimed: 0, sent: 0, retried: 0, dead: 0, byChannel: { email: 0, sms: 0, whatsapp: 0, push: 0 } };
  const sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  while (summary.batches < options.maxBatches && now() - started < options.budgetMs) {
    // Taken before the claim, so never later than the lease the database grants.
    const leaseEndsMs = now() + options.leaseSeconds * 1000;
    const claimed = await deps.claim(options.batchSize, options.leaseSeconds);
    if (claimed.length === 0) break;
    summary.batches += 1;
    summary.claimed += claimed.length;
    const results = await sendBatch(deps, claimed, options.concurrency, leaseEndsMs - sendTimeoutMs);
    await deps.complete(results);
    for (const [index, result] of results.entries()) {
      const delivery = claimed[index];
      if (result.outcome === "sent") {
        summary.sent += 1;
        if (delivery !== undefined) summary.byChannel[delivery.channel] += 1;
      } else if (result.outcome === "retry" && delivery !== undefined && delivery.attempt < delivery.max_attempts) {
        summary.retried += 1;
      } else {
        // Permanent failures, and retries after the last attempt (the SQL dead-letters those).
        summary.dead += 1;
      }
    }
    // A short batch does not end the run: claiming may have queued an SMS in place of a WhatsApp
    // alert without a template, due at once; the run ends when a claim finds nothing.
  }
  return summary;
}
