/**
 * Starts the edge-functions gateway (scripts/functions-gateway.ts) under the Deno binary from the
 * npm package, with the same environment the Edge Runtime gives functions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PATHS, REPO_ROOT } from './config.ts';
import { RallyError } from './errors.ts';
import { isPortFree } from './ports.ts';

export interface GatewayEnv {
  port: number;
  supabaseUrl: string;
  dbUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  jwtSecret: string;
  /** More variables for the functions (the Stripe stand-in's address and webhook secrets). */
  extraEnv?: Record<string, string>;
}

export interface Gateway {
  child: ChildProcess;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;

export function gatewayAvailable(): boolean {
  return existsSync(PATHS.gateway);
}

export function functionsEnv(env: GatewayEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...env.extraEnv,
    RALLY_FUNCTIONS_PORT: String(env.port),
    SUPABASE_URL: env.supabaseUrl,
    SUPABASE_DB_URL: env.dbUrl,
    SUPABASE_ANON_KEY: env.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: env.serviceRoleKey,
    SUPABASE_JWT_SECRET: env.jwtSecret,
  };
}

export async function startGateway(env: GatewayEnv): Promise<Gateway> {
  if (!(await isPortFree(env.port))) {
    throw new RallyError('PORT_IN_USE', `port ${env.port} on 127.0.0.1 is taken; set RALLY_FUNCTIONS_PORT`);
  }
  const args = [
    'run',
    '--allow-net', '--allow-env', '--allow-read', '--allow-sys',
    // The import map lets functions (loaded by the gateway) resolve bare specifiers like "zod".
    '--config', PATHS.denoConfig,
    PATHS.gateway,
  ];
  const child = spawn(PATHS.denoBin, args, { cwd: REPO_ROOT, env: functionsEnv(env), stdio: ['ignore', 'inherit', 'inherit'] });
  return { child, stop: () => stopChild(child) };
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(STOP_GRACE_MS).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}
