/**
 * Runs the Stripe stand-in on its own (the local stack starts it in-process instead):
 *
 *   tsx tools/stripe-standin/main.ts
 *
 * Environment: STRIPE_STANDIN_PORT (default 54350), STRIPE_STANDIN_WEBHOOK_URL (default
 * http://127.0.0.1:54321/functions/v1/stripe-webhook; the Connect endpoint is the same URL plus
 * /connect), STRIPE_WEBHOOK_SECRET and STRIPE_CONNECT_WEBHOOK_SECRET (defaults: the local
 * stand-in secrets), STRIPE_STANDIN_SETTLEMENT_CURRENCY (eur), STRIPE_STANDIN_DISORDER_SEED
 * (unset: orderly delivery). Point the functions at it with STRIPE_API_BASE=http://127.0.0.1:54350 and
 * no STRIPE_SECRET_KEY. Ctrl-C stops it.
 */
import { STANDIN_CONNECT_WEBHOOK_SECRET, STANDIN_DEFAULT_PORT, STANDIN_WEBHOOK_SECRET, standinEnvOptions } from "./config.ts";
import { startStripeStandin } from "./server.ts";

async function main(): Promise<void> {
  const port = Number(process.env.STRIPE_STANDIN_PORT ?? STANDIN_DEFAULT_PORT);
  const webhookUrl = process.env.STRIPE_STANDIN_WEBHOOK_URL ?? "http://127.0.0.1:54321/functions/v1/stripe-webhook";
  const standin = await startStripeStandin({
    port,
    platformWebhook: { url: webhookUrl, secret: process.env.STRIPE_WEBHOOK_SECRET ?? STANDIN_WEBHOOK_SECRET },
    connectWebhook: { url: `${webhookUrl}/connect`, secret: process.env.STRIPE_CONNECT_WEBHOOK_SECRET ?? STANDIN_CONNECT_WEBHOOK_SECRET },
    ...standinEnvOptions(process.env),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`stripe stand-in (not Stripe) ready on ${standin.url}; webhooks to ${webhookUrl}\n`);
  const stop = (): void => {
    void standin.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

await main();
