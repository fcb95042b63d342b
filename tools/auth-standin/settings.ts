/** The `[auth]` settings of supabase/config.toml the Auth stand-in obeys, with the CLI's defaults. */
import { z } from 'zod';

export interface AuthSettings {
  jwtExpiry: number;
  refreshTokenRotation: boolean;
  refreshTokenReuseInterval: number;
  signupEnabled: boolean;
  emailConfirmations: boolean;
  minimumPasswordLength: number;
  /** The hook as GoTrue calls it: `"schema"."function"`, or null when disabled. */
  accessTokenHook: string | null;
  accessTokenHookUri: string;
  hookTimeoutMs: number;
}

const authTable = z.looseObject({
  jwt_expiry: z.number().int().positive().default(3600),
  enable_refresh_token_rotation: z.boolean().default(true),
  refresh_token_reuse_interval: z.number().int().nonnegative().default(10),
  enable_signup: z.boolean().default(true),
  minimum_password_length: z.number().int().positive().default(6),
  email: z.looseObject({ enable_signup: z.boolean().default(true), enable_confirmations: z.boolean().default(false) }).default({ enable_signup: true, enable_confirmations: false }),
  hook: z.looseObject({
    custom_access_token: z.looseObject({ enabled: z.boolean().default(false), uri: z.string().default('') }).optional(),
  }).default({}),
});

const PG_FUNCTION_URI = /^pg-functions:\/\/[^/]+\/([A-Za-z_][A-Za-z0-9_]*)\/([A-Za-z_][A-Za-z0-9_]*)$/;

export function authSettings(config: Record<string, unknown>): AuthSettings {
  const auth = authTable.parse(config.auth ?? {});
  const hook = auth.hook.custom_access_token;
  let accessTokenHook: string | null = null;
  if (hook?.enabled === true) {
    const match = PG_FUNCTION_URI.exec(hook.uri);
    if (match === null) throw new Error(`config.toml [auth.hook.custom_access_token] uri ${JSON.stringify(hook.uri)}: the Auth stand-in runs only pg-functions:// hooks`);
    accessTokenHook = `"${match[1]}"."${match[2]}"`;
  }
  return {
    jwtExpiry: auth.jwt_expiry,
    refreshTokenRotation: auth.enable_refresh_token_rotation,
    refreshTokenReuseInterval: auth.refresh_token_reuse_interval,
    signupEnabled: auth.enable_signup && auth.email.enable_signup,
    emailConfirmations: auth.email.enable_confirmations,
    minimumPasswordLength: auth.minimum_password_length,
    accessTokenHook,
    accessTokenHookUri: hook?.uri ?? '',
    hookTimeoutMs: 2000,
  };
}
