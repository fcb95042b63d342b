/** Defaults of the Stripe stand-in as the local stack runs it (not secrets: local-only values). */
export const STANDIN_DEFAULT_PORT = 54350;
export const STANDIN_WEBHOOK_SECRET = "whsec_rally_standin_platform";
export const STANDIN_CONNECT_WEBHOOK_SECRET = "whsec_rally_standin_connect";
