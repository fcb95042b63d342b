/**
 * The anon and service_role API keys: HS256 JWTs over the local JWT secret with the same claims
 * and expiry `supabase start` uses, so with the default secret they equal the CLI's well-known keys.
 */
import { SignJWT } from 'jose';
import { jwtSecret } from './config.ts';

/** 2032-11-12, the expiry baked into the CLI's local demo keys. */
const DEMO_KEY_EXPIRY = 1983812996;

export type ApiKeyRole = 'anon' | 'service_role';

export interface ApiKeys {
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
}

export async function mintApiKey(role: ApiKeyRole, secret: string): Promise<string> {
  return new SignJWT({ iss: 'supabase-demo', role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime(DEMO_KEY_EXPIRY)
    .sign(new TextEncoder().encode(secret));
}

export async function apiKeys(): Promise<ApiKeys> {
  const secret = jwtSecret();
  return {
    jwtSecret: secret,
    anonKey: await mintApiKey('anon', secret),
    serviceRoleKey: await mintApiKey('service_role', secret),
  };
}
