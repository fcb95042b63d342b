/** Defaults of the Stripe stand-in as the local stack runs it (not secrets: local-only values). */
export const STANDIN_DEFAULT_PORT = 54350;
export const STANDIN_WEBHOOK_SECRET = "whsec_rally_standin_platform";
export const STANDIN_CONNECT_WEBHOOK_SECRET = "whsec_rally_standin_connect";

/**
 * How `npm start` and `tsx tools/stripe-standin/main.ts` configure the stand-in beyond ports and
 * secrets: STRIPE_STANDIN_SETTLEMENT_CURRENCY (default eur) and STRIPE_STANDIN_DISORDER_SEED (an
 * integer: deliver webhooks disorderly under that seed; unset: orderly).
 */
export function standinEnvOptions(env: NodeJS.ProcessEnv): { settlementCurrency: string; disorder: { seed: number } | null } {
  const seed = env.STRIPE_STANDIN_DISORDER_SEED;
  if (seed !== undefined && !/^\d{1,10}$/.test(seed)) throw new Error("STRIPE_STANDIN_DISORDER_SEED must be a whole number");
  const currency = (env.STRIPE_STANDIN_SETTLEMENT_CURRENCY ?? "eur").toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw new Error("STRIPE_STANDIN_SETTLEMENT_CURRENCY must be a three-letter currency code");
  return { settlementCurrency: currency, disorder: seed === undefined ? null : { seed: Number(seed) } };
}
