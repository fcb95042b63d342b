/**
 * e2e suite (tests/e2e): the app's path through @supabase/supabase-js. Starts the API stack (the
 * gateway on one URL with the Auth, Data API, Storage and Realtime stand-ins and the edge
 * functions) and the Stripe stand-in against the throwaway database, then runs vitest over
 * tests/e2e with only what an app knows: SUPABASE_URL, SUPABASE_ANON_KEY and (for admin steps)
 * SUPABASE_SERVICE_ROLE_KEY. Counts come from vitest's JSON reporter.
 */
import { PATHS } from '../config.ts';
import { startApiStack } from '../api-stack.ts';
import { startStripeStandin } from '../../../tools/stripe-standin/server.ts';
import { STANDIN_CONNECT_WEBHOOK_SECRET, STANDIN_WEBHOOK_SECRET } from '../../../tools/stripe-standin/config.ts';
import { freePort } from '../ports.ts';
import { timed, type SuiteResult, type TestEnv } from './result.ts';
import { runVitestFiles } from './vitest.ts';

const NAME = 'e2e (tests/e2e through supabase-js)';

export async function runE2e(env: TestEnv): Promise<SuiteResult> {
  const start = Date.now();
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const stripe = await startStripeStandin({
    port: 0,
    platformWebhook: { url: `${apiUrl}/functions/v1/stripe-webhook`, secret: STANDIN_WEBHOOK_SECRET },
    connectWebhook: { url: `${apiUrl}/functions/v1/stripe-webhook/connect`, secret: STANDIN_CONNECT_WEBHOOK_SECRET },
  });
  const lines: string[] = [];
  // Realtime answers a refused join after a back-off (5 s on the platform); the suite asserts
  // several refusals, so the local stand-in waits 100 ms unless told otherwise.
  process.env.RALLY_REALTIME_ERROR_BACKOFF_MS ??= '100';
  try {
    const api = await startApiStack({
      dbUrl: env.appUrl, port, keys: env, log: (line) => lines.push(line),
      functionsEnv: { STRIPE_API_BASE: stripe.url, STRIPE_WEBHOOK_SECRET: STANDIN_WEBHOOK_SECRET, STRIPE_CONNECT_WEBHOOK_SECRET: STANDIN_CONNECT_WEBHOOK_SECRET },
    });
    try {
      const result = await runVitestFiles(NAME, PATHS.e2eVitestConfig, env.fileFilter, {
        ...process.env,
        SUPABASE_URL: api.url,
        SUPABASE_ANON_KEY: env.anonKey,
        SUPABASE_SERVICE_ROLE_KEY: env.serviceRoleKey,
      });
      if (result.failed > 0 && lines.length > 0) process.stderr.write(`stand-in log:\n${lines.slice(-40).join('\n')}\n`);
      return { ...result, durationMs: timed(start) };
    } finally {
      await api.close();
    }
  } finally {
    await stripe.close();
  }
}
