/**
 * The Auth stand-in's pure parts: GoTrue's error shapes per API version, its reading of
 * config.toml, ban durations, refresh-token format.
 */
import { describe, expect, it } from 'vitest';
import { AuthError, OAuthError, renderAuthError } from '../../tools/auth-standin/errors.ts';
import { newRefreshToken, parseBanDuration } from '../../tools/auth-standin/service.ts';
import { authSettings } from '../../tools/auth-standin/settings.ts';
import { readProjectConfig } from '../../scripts/lib/api-stack.ts';

describe('error bodies', () => {
  it('uses {code, message} for clients on API version 2024-01-01 and the legacy shape otherwise', () => {
    const error = new AuthError(400, 'invalid_credentials', 'Invalid login credentials');
    expect(renderAuthError(error, '2024-01-01')).toEqual({
      status: 400, headers: { 'x-sb-error-code': 'invalid_credentials', 'X-Supabase-Api-Version': '2024-01-01' },
      body: { code: 'invalid_credentials', message: 'Invalid login credentials' },
    });
    expect(renderAuthError(error, undefined).body).toEqual({ code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' });
    expect(renderAuthError(new AuthError(422, 'weak_password', 'too short', ['length']), '2024-01-01').body)
      .toEqual({ code: 'weak_password', message: 'too short', weak_password: { reasons: ['length'] } });
    expect(renderAuthError(new OAuthError('invalid_request', 'refresh_token required'), '2024-01-01'))
      .toEqual({ status: 400, headers: {}, body: { error: 'invalid_request', error_description: 'refresh_token required' } });
  });
});

describe('settings and formats', () => {
  it('reads the project\'s [auth] settings and the hook as GoTrue calls it', () => {
    expect(authSettings(readProjectConfig())).toMatchObject({
      jwtExpiry: 3600, refreshTokenRotation: true, refreshTokenReuseInterval: 10, signupEnabled: true,
      emailConfirmations: false, minimumPasswordLength: 6, accessTokenHook: '"public"."custom_access_token_hook"',
    });
    expect(authSettings({}).accessTokenHook).toBeNull();
    expect(() => authSettings({ auth: { hook: { custom_access_token: { enabled: true, uri: 'https://example.com/hook' } } } })).toThrow(/pg-functions/);
  });

  it('parses Go durations for ban_duration and refuses others', () => {
    expect(parseBanDuration('24h')).toBe(86_400_000);
    expect(parseBanDuration('1h30m')).toBe(5_400_000);
    expect(parseBanDuration('none')).toBeNull();
    expect(() => parseBanDuration('forever')).toThrow(AuthError);
    expect(() => parseBanDuration('10 days')).toThrow(AuthError);
  });

  it('issues v1 refresh tokens: 12 lower-case alphanumerics, unique', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => newRefreshToken()));
    expect(tokens.size).toBe(200);
    for (const token of tokens) expect(token).toMatch(/^[a-z0-9]{12}$/);
  });
});
