/**
 * The Data API stand-in's request contract, against the real database: each request is one
 * transaction as PostgREST runs it (role from the JWT, the role's own settings, request.* GUCs),
 * errors carry PostgREST's body, and what it does not serve answers 501 PGRST501 naming it.
 */
import pg from 'pg';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiGateway, type ApiGateway } from '../../tools/api-gateway/server.ts';
import { createRestService } from '../../tools/rest-standin/service.ts';
import { readProjectConfig } from '../../scripts/lib/api-stack.ts';
import { testEnv } from '../support/env.ts';

const ANON_KEY = 'anon-key-for-this-test';
let gateway: ApiGateway;
let admin: pg.Client;
let userToken: string;
const secret = () => new TextEncoder().encode(testEnv('SUPABASE_JWT_SECRET'));

async function rest(path: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers = new Headers(init.headers);
  headers.set('apikey', ANON_KEY);
  if (init.token !== undefined) headers.set('Authorization', `Bearer ${init.token}`);
  const answer = await fetch(`${gateway.url}/rest/v1${path}`, { ...init, headers });
  const text = await answer.text();
  return { status: answer.status, body: text === '' ? null : JSON.parse(text), headers: answer.headers };
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: testEnv('SUPABASE_DB_URL') });
  await admin.connect();
  await admin.query(`create or replace function public.standin_request_context() returns jsonb language sql stable as $$
    select jsonb_build_object('role', current_user, 'timeout', current_setting('statement_timeout'),
      'method', current_setting('request.method', true), 'path', current_setting('request.path', true),
      'header', current_setting('request.headers', true)::jsonb ->> 'x-probe', 'sub', auth.uid(),
      'read_only', current_setting('transaction_read_only'))
  $$;
  grant execute on function public.standin_request_context() to anon, authenticated;`);
  const config = readProjectConfig();
  const service = await createRestService({
    dbUrl: testEnv('SUPABASE_DB_URL'), apiUrl: 'http://127.0.0.1', jwtSecret: testEnv('SUPABASE_JWT_SECRET'),
    anonKey: ANON_KEY, serviceRoleKey: 'unused', config, log: () => undefined,
  });
  gateway = await startApiGateway({ port: 0, keys: { anonKey: ANON_KEY, serviceRoleKey: 'unused-service-key' }, services: [service] });
  userToken = await new SignJWT({ role: 'authenticated', sub: '00000000-0000-4000-8000-0000000000aa', aud: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secret());
});

afterAll(async () => {
  await gateway?.close();
  await admin?.query('drop function if exists public.standin_request_context()');
  await admin?.end();
});

describe('each request runs as PostgREST runs it', () => {
  it('sets the role, its statement_timeout, request.method/path/headers and the claims', async () => {
    const asUser = await rest('/rpc/standin_request_context', { method: 'POST', token: userToken, headers: { 'Content-Type': 'application/json', 'X-Probe': 'p1' }, body: '{}' });
    expect(asUser.status).toBe(200);
    expect(asUser.body).toEqual({ role: 'authenticated', timeout: '8s', method: 'POST', path: '/rpc/standin_request_context', header: 'p1', sub: '00000000-0000-4000-8000-0000000000aa', read_only: 'off' });
    const asAnon = await rest('/rpc/standin_request_context', { method: 'GET' });
    expect(asAnon.body).toMatchObject({ role: 'anon', timeout: '3s', method: 'GET', sub: null, read_only: 'on' });
  });

  it('refuses a JWT with a bad signature or past its expiry with 401 and PostgREST\'s codes', async () => {
    const forged = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(40)));
    const bad = await rest('/profiles?select=id', { token: forged });
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ code: 'PGRST301' });
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    const old = await new SignJWT({ role: 'authenticated' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(secret());
    const expired = await rest('/profiles?select=id', { token: old });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ code: 'PGRST303', message: 'JWT expired' });
  });

  it('maps SQLSTATEs to PostgREST\'s statuses with its body', async () => {
    const unknownColumn = await rest('/profiles?select=no_such_column');
    expect(unknownColumn.status).toBe(400);
    expect(unknownColumn.body).toMatchObject({ code: '42703', details: null });
    const forbidden = await rest('/bookings?select=id');
    expect(forbidden.status).toBe(401);
    const forbiddenUser = await rest('/currencies?code=eq.XXX', { method: 'DELETE', token: userToken });
    expect(forbiddenUser.status).toBe(403);
  });

  it('sends Content-Range and honours Range and count=exact', async () => {
    const counted = await rest('/currencies?select=code&order=code', { headers: { Range: '0-1', Prefer: 'count=exact' } });
    expect(counted.status).toBe(206);
    expect(counted.headers.get('content-range')).toMatch(/^0-1\/\d+$/);
    expect(counted.body).toHaveLength(2);
  });
});

describe('what the stand-in does not serve answers 501 naming it', () => {
  it.each([
    ['/profiles?username=fts.jazz', 'full-text search filters (fts)'],
    ['/profiles?select=profiles(follows(*))', 'nested embedding'],
    ['/profiles?select=id&follows.follower_id=eq.x', 'filters on embedded resources'],
    ['/', 'the OpenAPI root'],
  ])('%s', async (path, feature) => {
    const answer = await rest(path);
    expect(answer.status).toBe(501);
    expect(answer.body).toMatchObject({ code: 'PGRST501' });
    expect((answer.body as { message: string }).message).toContain(feature);
  });

  it('Accept: text/csv and Prefer: tx=rollback', async () => {
    expect((await rest('/currencies', { headers: { Accept: 'text/csv' } })).status).toBe(501);
    expect((await rest('/currencies', { headers: { Prefer: 'tx=rollback' } })).status).toBe(501);
  });
});

describe('the schema cache', () => {
  it('reloads on NOTIFY pgrst, as PostgREST does', async () => {
    // Served before the function exists: PGRST202, and the cache now knows no such function.
    const before = await rest('/rpc/standin_reloaded', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(before.body).toMatchObject({ code: 'PGRST202' });
    await admin.query(`create function public.standin_reloaded() returns int language sql stable as 'select 7';
      grant execute on function public.standin_reloaded() to anon;
      notify pgrst, 'reload schema';`);
    try {
      let after = await rest('/rpc/standin_reloaded', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      for (let i = 0; i < 20 && after.status !== 200; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        after = await rest('/rpc/standin_reloaded', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      }
      expect(after).toMatchObject({ status: 200, body: 7 });
    } finally {
      await admin.query('drop function public.standin_reloaded()');
    }
  });
});
