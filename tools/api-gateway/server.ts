/**
 * The local API gateway: one URL for every service, as the platform's gateway (Kong in
 * `supabase start`) serves it. It checks the API key where Kong's key-auth plugin does, answers
 * CORS preflights, and hands each request to the service mounted under its prefix
 * (docs/local-stack.md). It never answers for a service itself.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ApiService } from './service.ts';

export interface ApiKeysAccepted {
  anonKey: string;
  serviceRoleKey: string;
}

export interface GatewayOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  keys: ApiKeysAccepted;
  services: readonly ApiService[];
  log?: (line: string) => void;
}

export interface ApiGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Prefixes behind Kong's key-auth in the CLI's gateway config; the paths under them that are open. */
const KEY_AUTH: readonly { prefix: string; open: readonly string[]; hideCredentials: boolean }[] = [
  { prefix: '/auth/v1', open: ['/verify', '/callback', '/authorize'], hideCredentials: false },
  { prefix: '/rest/v1', open: [], hideCredentials: true },
  { prefix: '/realtime/v1', open: [], hideCredentials: false },
];

export interface GatewayRefusal {
  status: number;
  body: { message: string };
}

/** Kong's key-auth: the `apikey` header, else query parameter, must be a consumer's key. */
export function checkApiKey(
  prefix: string, path: string, headerKey: string | undefined, query: URLSearchParams, keys: ApiKeysAccepted,
): GatewayRefusal | null {
  const rule = KEY_AUTH.find((r) => r.prefix === prefix);
  if (rule === undefined || rule.open.some((open) => path === open || path.startsWith(`${open}/`))) return null;
  const key = headerKey ?? query.get('apikey') ?? undefined;
  if (key === undefined || key === '') return { status: 401, body: { message: 'No API key found in request' } };
  if (key !== keys.anonKey && key !== keys.serviceRoleKey) {
    return { status: 401, body: { message: 'Invalid authentication credentials' } };
  }
  return null;
}

export function hidesCredentials(prefix: string): boolean {
  return KEY_AUTH.some((r) => r.prefix === prefix && r.hideCredentials);
}

/** The mounted service for a path, and the path below its prefix. */
export function routeRequest(
  services: readonly ApiService[], pathname: string,
): { service: ApiService; path: string } | null {
  for (const service of services) {
    if (pathname === service.prefix || pathname.startsWith(`${service.prefix}/`)) {
      return { service, path: pathname.slice(service.prefix.length) || '/' };
    }
  }
  return null;
}

const CORS_ALLOW_METHODS = 'GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export async function startApiGateway(options: GatewayOptions): Promise<ApiGateway> {
  const host = options.host ?? '127.0.0.1';
  const services = [...options.services].sort((a, b) => b.prefix.length - a.prefix.length);

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${host}`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.writeHead(200, {
        'Access-Control-Allow-Methods': CORS_ALLOW_METHODS,
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
        'Access-Control-Max-Age': '3600',
        'Content-Length': 0,
      });
      res.end();
      return;
    }
    const route = routeRequest(services, url.pathname);
    if (route === null) {
      sendJson(res, 404, { message: 'no Route matched with those values' });
      return;
    }
    const refusal = checkApiKey(route.service.prefix, route.path, firstHeader(req.headers.apikey), url.searchParams, options.keys);
    if (refusal !== null) {
      sendJson(res, refusal.status, refusal.body);
      return;
    }
    const query = new URLSearchParams(url.searchParams);
    if (hidesCredentials(route.service.prefix)) {
      delete req.headers.apikey;
      query.delete('apikey');
    }
    try {
      await route.service.handle({ req, res, path: route.path, query });
    } catch (error) {
      options.log?.(`gateway: ${route.service.prefix} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { message: 'An unexpected error occurred' });
      else res.destroy();
    }
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const route = routeRequest(services, url.pathname);
    const refuse = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Not Found'}\r\nContent-Type: application/json\r\n`
        + `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    };
    if (route === null || route.service.upgrade === undefined) {
      refuse(404, { message: 'no Route matched with those values' });
      return;
    }
    const refusal = checkApiKey(route.service.prefix, route.path, firstHeader(req.headers.apikey), url.searchParams, options.keys);
    if (refusal !== null) {
      refuse(refusal.status, refusal.body);
      return;
    }
    route.service.upgrade(req, socket, head, route.path, url.searchParams);
  }

  const server: Server = createServer((req, res) => void onRequest(req, res));
  server.on('upgrade', onUpgrade);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const service of services) await service.close();
    },
  };
}

/**
 * Mounts a server on an internal port under a prefix: requests and WebSocket upgrades are passed
 * through unchanged (full path and query, headers, body), as Kong passes them to an upstream.
 */
export function proxyService(prefix: string, upstream: string, description: string): ApiService {
  const target = new URL(upstream);
  return {
    prefix,
    description,
    handle: ({ req, res }) => new Promise<void>((resolve) => {
      const outgoing = httpRequest({
        host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host },
      }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', () => resolve());
      });
      outgoing.on('error', (error) => {
        if (!res.headersSent) sendJson(res, 502, { message: `An invalid response was received from the upstream server (${error.message})` });
        else res.destroy();
        resolve();
      });
      req.pipe(outgoing);
    }),
    upgrade(req, socket, head) {
      const upstreamSocket = connect(Number(target.port), target.hostname, () => {
        const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        upstreamSocket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length > 0) upstreamSocket.write(head);
        upstreamSocket.pipe(socket);
        socket.pipe(upstreamSocket);
      });
      const end = (): void => {
        upstreamSocket.destroy();
        socket.destroy();
      };
      upstreamSocket.on('error', end);
      socket.on('error', end);
    },
    close: async () => undefined,
  };
}
