/**
 * The app-facing half of the local stack: the API gateway on one URL with every service mounted
 * (docs/local-stack.md). `npm start` and the e2e suite both start it this way, against a database
 * that already has the platform contract, migrations (and seed) applied.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseToml } from 'smol-toml';
import { createAuthService } from '../../tools/auth-standin/service.ts';
import { createRestService } from '../../tools/rest-standin/service.ts';
import { createRealtimeService } from '../../tools/realtime-standin/service.ts';
import { createStorageService } from '../../tools/storage-standin/service.ts';
import { proxyService, startApiGateway, type ApiGateway } from '../../tools/api-gateway/server.ts';
import type { ApiService, ServiceContext, ServiceFactory } from '../../tools/api-gateway/service.ts';
import { REPO_ROOT } from './config.ts';
import { RallyError } from './errors.ts';
import { startGateway as startFunctions, type Gateway as FunctionsServer } from './gateway.ts';
import type { ApiKeys } from './keys.ts';
import { freePort, isPortFree } from './ports.ts';

export interface ApiStackOptions {
  /** The project database as `postgres`. */
  dbUrl: string;
  /** The public API port (54321 by default); 0 picks a free one. */
  port: number;
  keys: ApiKeys;
  /** A Storage API on its own port to mount under /storage/v1 instead of the in-process stand-in. */
  storageUpstream?: string;
  /** More environment for the edge functions. */
  functionsEnv?: Record<string, string>;
  log: (line: string) => void;
}

export interface ApiStack {
  url: string;
  /** One line per mounted service, for the status block. */
  descriptions: string[];
  functions: FunctionsServer;
  close(): Promise<void>;
}

/** The in-process stand-ins, mounted in this order. */
const STANDINS: readonly ServiceFactory[] = [createAuthService, createRestService, createRealtimeService];

const FUNCTIONS_READY_TIMEOUT_MS = 60_000;

export function readProjectConfig(): Record<string, unknown> {
  return parseToml(readFileSync(join(REPO_ROOT, 'supabase', 'config.toml'), 'utf8')) as Record<string, unknown>;
}

async function waitForFunctions(url: string, functions: FunctionsServer): Promise<void> {
  const deadline = Date.now() + FUNCTIONS_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (functions.child.exitCode !== null) throw new RallyError('FUNCTIONS_EXITED', `the edge-functions server exited with ${functions.child.exitCode}`);
    try {
      const answer = await fetch(`${url}/functions/v1/health`);
      await answer.body?.cancel();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new RallyError('FUNCTIONS_TIMEOUT', `the edge-functions server did not answer within ${FUNCTIONS_READY_TIMEOUT_MS / 1000}s`);
}

export async function startApiStack(options: ApiStackOptions): Promise<ApiStack> {
  const port = options.port === 0 ? await freePort() : options.port;
  if (!(await isPortFree(port))) {
    throw new RallyError('PORT_IN_USE', `port ${port} on 127.0.0.1 is taken; set RALLY_FUNCTIONS_PORT`);
  }
  const apiUrl = `http://127.0.0.1:${port}`;
  const functionsPort = await freePort();
  const functions = await startFunctions({
    port: functionsPort, supabaseUrl: apiUrl, dbUrl: options.dbUrl,
    anonKey: options.keys.anonKey, serviceRoleKey: options.keys.serviceRoleKey, jwtSecret: options.keys.jwtSecret,
    ...(options.functionsEnv === undefined ? {} : { extraEnv: options.functionsEnv }),
  });
  const services: ApiService[] = [];
  try {
    const context: ServiceContext = {
      dbUrl: options.dbUrl, apiUrl, jwtSecret: options.keys.jwtSecret, anonKey: options.keys.anonKey,
      serviceRoleKey: options.keys.serviceRoleKey, config: readProjectConfig(), log: options.log,
    };
    for (const factory of STANDINS) services.push(await factory(context));
    const functionsUrl = `http://127.0.0.1:${functionsPort}`;
    services.push(proxyService('/functions/v1', functionsUrl, `Edge functions under Deno (scripts/functions-gateway.ts, ${functionsUrl})`));
    services.push(options.storageUpstream === undefined
      ? await createStorageService(context)
      : proxyService('/storage/v1', options.storageUpstream, `the Storage API at ${options.storageUpstream} (RALLY_STORAGE_UPSTREAM)`));
    await waitForFunctions(functionsUrl, functions);
    const gateway: ApiGateway = await startApiGateway({
      port, keys: options.keys, services, log: options.log,
    });
    return {
      url: gateway.url,
      descriptions: services.map((s) => `${s.prefix.padEnd(14)} ${s.description}`),
      functions,
      async close() {
        await gateway.close();
        await functions.stop();
      },
    };
  } catch (error) {
    for (const service of services) await service.close().catch(() => undefined);
    await functions.stop();
    throw error;
  }
}
