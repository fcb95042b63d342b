/**
 * The contract between the local API gateway (one URL, as `supabase start` serves at
 * http://127.0.0.1:54321) and the stand-ins it mounts. docs/local-stack.md explains it.
 *
 * A stand-in is a factory `(context) => Promise<ApiService>`; the gateway owns the listening
 * socket, the API-key check of the platform's gateway (Kong's key-auth + ACL) and CORS, and hands
 * each request under the service's prefix to `handle` (WebSocket upgrades to `upgrade`).
 * `proxyService` mounts a server on an internal port instead (the Deno edge-functions server).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** What every stand-in receives from the stack that starts it. */
export interface ServiceContext {
  /** Superuser-free URL of the project database as role `postgres`; stand-ins connect as the
   *  role their real service uses (swap the user in this URL: authenticator, supabase_auth_admin,
   *  supabase_storage_admin, supabase_realtime_admin; local password `postgres`). */
  dbUrl: string;
  /** The public API URL (the gateway), e.g. http://127.0.0.1:54321. */
  apiUrl: string;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  /** supabase/config.toml, parsed (smol-toml). Each stand-in validates the tables it reads. */
  config: Record<string, unknown>;
  log: (line: string) => void;
}

/** A request as the gateway hands it over. */
export interface ServiceRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** The path after the prefix, starting with `/` (`/token` for `/auth/v1/token`). */
  path: string;
  /** The query string parsed (`apikey` already removed when the gateway hides credentials). */
  query: URLSearchParams;
}

export interface ApiService {
  /** Mount point, e.g. `/auth/v1` (no trailing slash). */
  prefix: string;
  /** Shown in the status block: what this is and that it is a stand-in. */
  description: string;
  handle(request: ServiceRequest): Promise<void>;
  /** WebSocket upgrade under the prefix (Realtime). Without it the gateway answers 404. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, query: URLSearchParams): void;
  close(): Promise<void>;
}

export type ServiceFactory = (context: ServiceContext) => Promise<ApiService>;
