/**
 * Webhook delivery, as Stripe does it: every event signed with the endpoint's secret (a real
 * `Stripe-Signature`, stripe-node's generateTestHeaderStringAsync, re-signed on each attempt)
 * and POSTed to the platform endpoint, or the Connect endpoint for a connected account's event;
 * a delivery that does not get a 2xx is retried later.
 *
 * Two modes. Orderly (the default): one delivery at a time, in creation order, retries after
 * the others. Disorderly, under a seed: what Stripe documents it may do — "Stripe does not
 * guarantee delivery of events in the order in which they are generated", endpoints "might
 * occasionally receive the same event more than once" (docs.stripe.com/webhooks) — each event
 * is delivered after a random delay (so deliveries overlap and arrive in any order), some twice,
 * some held back much longer, and retried after a failure with a random backoff. The seed fixes
 * every decision (delays, duplicates), so a failing run can be replayed; the interleaving of
 * concurrent deliveries inside the receiver is the real one.
 * In manual mode events wait in a queue until deliverQueued() (orderly or disorderly).
 */
import Stripe from "stripe";
import type { StripeEvent } from "./state.ts";

export interface WebhookTarget {
  url: string;
  secret: string;
}

export type Endpoint = "platform" | "connect";

export interface Delivery {
  eventId: string;
  type: string;
  endpoint: Endpoint;
  status: number | null;
  attempt: number;
}

export interface DisorderSpec {
  seed: number;
  /** Each delivery waits a random 0..maxDelayMs first (default 40). */
  maxDelayMs?: number;
  /** Share of events delivered twice (default 0.25). */
  duplicateRate?: number;
  /** Share of deliveries held back delayedMs more (default 0.15, 250 ms). */
  delayedRate?: number;
  delayedMs?: number;
}

interface Item {
  event: StripeEvent;
  endpoint: Endpoint;
  attempt: number;
}

/** mulberry32: a small seeded generator (reproducible decisions). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const endpointOf = (event: StripeEvent): Endpoint => (typeof event.account === "string" ? "connect" : "platform");

export class WebhookDelivery {
  readonly deliveries: Delivery[] = [];
  private readonly queue: Item[] = [];
  private webhooks: Record<Endpoint, WebhookTarget | null>;
  private mode: "auto" | "manual";
  private disorder: { spec: Required<DisorderSpec>; random: () => number } | null = null;
  private draining = false;
  private closed = false;

  constructor(
    platform: WebhookTarget | null,
    connect: WebhookTarget | null,
    mode: "auto" | "manual",
    private readonly retryDelaysMs: number[],
    private readonly track: <T>(promise: Promise<T>) => Promise<T>,
    private readonly log: (line: string) => void,
  ) {
    this.webhooks = { platform, connect };
    this.mode = mode;
  }

  setWebhooks(platform: WebhookTarget | null, connect: WebhookTarget | null): void {
    this.webhooks = { platform, connect };
  }

  /** Where events go (the URLs, never the secrets). */
  webhookUrls(): Record<Endpoint, string | null> {
    return { platform: this.webhooks.platform?.url ?? null, connect: this.webhooks.connect?.url ?? null };
  }

  setMode(mode: "auto" | "manual"): void {
    this.mode = mode;
    if (mode === "auto") void this.flush();
  }

  get currentMode(): "auto" | "manual" {
    return this.mode;
  }

  setDisorder(spec: DisorderSpec | null): void {
    this.disorder = spec === null ? null : {
      spec: { maxDelayMs: 40, duplicateRate: 0.25, delayedRate: 0.15, delayedMs: 250, ...spec },
      random: seededRandom(spec.seed),
    };
  }

  queued(): StripeEvent[] {
    return this.queue.map((item) => item.event);
  }

  get queueLength(): number {
    return this.queue.length;
  }

  close(): void {
    this.closed = true;
  }

  /** A new event from the store. */
  enqueue(event: StripeEvent): void {
    const endpoint = endpointOf(event);
    if (this.webhooks[endpoint] === null) return;
    this.queue.push({ event, endpoint, attempt: 1 });
    if (this.mode === "auto") void this.flush();
  }

  /** Delivers what is queued (manual mode), orderly or disorderly, and waits for every attempt. */
  async deliverQueued(): Promise<void> {
    await this.track(this.flush());
  }

  private flush(): Promise<void> {
    if (this.disorder === null) return this.track(this.drainInOrder());
    const items = this.queue.splice(0, this.queue.length);
    return this.track(Promise.all(items.map((item) => this.scatter(item))).then(() => undefined));
  }

  /** Signs and POSTs one event now (tests replaying events); returns the HTTP status. */
  async deliverNow(event: StripeEvent): Promise<number | null> {
    const endpoint = endpointOf(event);
    const status = await this.post(event, endpoint);
    this.deliveries.push({ eventId: event.id, type: event.type, endpoint, status, attempt: 0 });
    return status;
  }

  private async post(event: StripeEvent, endpoint: Endpoint): Promise<number | null> {
    const target = this.webhooks[endpoint];
    if (target === null || this.closed) return null;
    const payload = JSON.stringify(event);
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: target.secret });
    try {
      const res = await fetch(target.url, {
        method: "POST",
        headers: { "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature, "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) stand-in" },
        body: payload,
      });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return null;
    }
  }

  private async attempt(item: Item): Promise<boolean> {
    const status = await this.post(item.event, item.endpoint);
    this.deliveries.push({ eventId: item.event.id, type: item.event.type, endpoint: item.endpoint, status, attempt: item.attempt });
    return status !== null && status >= 200 && status < 300;
  }

  private canRetry(item: Item): boolean {
    return this.webhooks[item.endpoint] !== null && !this.closed && item.attempt <= this.retryDelaysMs.length;
  }

  private async drainInOrder(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue.shift();
        if (item === undefined) break;
        if (await this.attempt(item)) continue;
        if (!this.canRetry(item)) continue;
        const delay = this.retryDelaysMs[item.attempt - 1] ?? 1000;
        this.log(`stripe stand-in: ${item.event.type} ${item.event.id} not accepted; retry in ${delay} ms`);
        void this.track(sleep(delay).then(() => {
          this.queue.push({ ...item, attempt: item.attempt + 1 });
          return this.mode === "auto" || this.draining ? this.drainInOrder() : undefined;
        }));
      }
    } finally {
      this.draining = false;
    }
  }

  /** Disorderly: each copy after its own random delay, concurrently; retried with a random backoff. */
  private async scatter(item: Item): Promise<void> {
    const disorder = this.disorder;
    if (disorder === null) return;
    const { spec, random } = disorder;
    const copies = random() < spec.duplicateRate ? 2 : 1;
    const plans: number[] = [];
    for (let i = 0; i < copies; i += 1) {
      plans.push(Math.floor(random() * spec.maxDelayMs) + (random() < spec.delayedRate ? spec.delayedMs : 0));
    }
    await Promise.all(plans.map(async (delay) => {
      let current = item;
      await sleep(delay);
      while (!(await this.attempt(current)) && this.canRetry(current)) {
        const base = this.retryDelaysMs[current.attempt - 1] ?? 1000;
        await sleep(Math.floor(base * (0.5 + random())));
        current = { ...current, attempt: current.attempt + 1 };
      }
    }));
  }
}
