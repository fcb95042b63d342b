/**
 * The API gateway's own rules (tools/api-gateway/server.ts): Kong's key-auth on /auth, /rest and
 * /realtime with its open auth paths, routing by prefix, and that requests reach the service with
 * the credentials hidden where Kong hides them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkApiKey, startApiGateway, type ApiGateway } from '../../tools/api-gateway/server.ts';
import type { ApiService, ServiceRequest } from '../../tools/api-gateway/service.ts';

const keys = { anonKey: 'anon-key', serviceRoleKey: 'service-key' };

describe('checkApiKey', () => {
  it('requires a project key where Kong does, from the header or the query', () => {
    expect(checkApiKey('/rest/v1', '/profiles', undefined, new URLSearchParams(), keys)).toEqual({ status: 401, body: { message: 'No API key found in request' } });
    expect(checkApiKey('/rest/v1', '/profiles', 'nope', new URLSearchParams(), keys)).toEqual({ status: 401, body: { message: 'Invalid authentication credentials' } });
    expect(checkApiKey('/rest/v1', '/profiles', 'anon-key', new URLSearchParams(), keys)).toBeNull();
    expect(checkApiKey('/realtime/v1', '/websocket', undefined, new URLSearchParams('apikey=service-key'), keys)).toBeNull();
    expect(checkApiKey('/auth/v1', '/verify', undefined, new URLSearchParams(), keys)).toBeNull();
    expect(checkApiKey('/auth/v1', '/token', undefined, new URLSearchParams(), keys)?.status).toBe(401);
    expect(checkApiKey('/functions/v1', '/me', undefined, new URLSearchParams(), keys)).toBeNull();
    expect(checkApiKey('/storage/v1', '/object/x', undefined, new URLSearchParams(), keys)).toBeNull();
  });
});

describe('the gateway', () => {
  let gateway: ApiGateway;
  const seen: { prefix: string; path: string; apikey: string | undefined; query: string }[] = [];
  const echo = (prefix: string): ApiService => ({
    prefix,
    description: `echo ${prefix}`,
    handle: async ({ req, res, path, query }: ServiceRequest) => {
      seen.push({ prefix, path, apikey: req.headers.apikey as string | undefined, query: query.toString() });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(prefix);
    },
    close: async () => undefined,
  });

  beforeAll(async () => {
    gateway = await startApiGateway({ port: 0, keys, services: [echo('/rest/v1'), echo('/auth/v1'), echo('/functions/v1')] });
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('routes by prefix and hides the key from the Data API only', async () => {
    seen.length = 0;
    const rest = await fetch(`${gateway.url}/rest/v1/profiles?select=id&apikey=anon-key`);
    expect(await rest.text()).toBe('/rest/v1');
    const auth = await fetch(`${gateway.url}/auth/v1/user`, { headers: { apikey: 'anon-key' } });
    expect(await auth.text()).toBe('/auth/v1');
    expect(seen).toEqual([
      { prefix: '/rest/v1', path: '/profiles', apikey: undefined, query: 'select=id' },
      { prefix: '/auth/v1', path: '/user', apikey: 'anon-key', query: '' },
    ]);
  });

  it('answers without a key, unknown routes and CORS preflights as Kong does', async () => {
    seen.length = 0;
    const missing = await fetch(`${gateway.url}/rest/v1/profiles`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ message: 'No API key found in request' });
    const unknown = await fetch(`${gateway.url}/graphql/v1`, { headers: { apikey: 'anon-key' } });
    expect(unknown.status).toBe(404);
    const preflight = await fetch(`${gateway.url}/rest/v1/profiles`, { method: 'OPTIONS', headers: { Origin: 'http://app', 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'apikey, authorization' } });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('apikey, authorization');
    expect(seen).toEqual([]);
  });
});
