/**
 * The Data API stand-in's SQLSTATE → HTTP status table (tools/rest-standin/errors.ts), as
 * PostgREST documents it (docs.postgrest.org, "Errors": HTTP status codes). Rally's own errors
 * never reach the 23xxx rows (tests/abuse/error-contract), but a raw constraint violation from
 * any other code must still answer what PostgREST would.
 */
import { describe, expect, it } from 'vitest';
import { httpStatusOf } from '../../tools/rest-standin/errors.ts';

describe('SQLSTATE → HTTP status', () => {
  it.each([
    ['23505', true, 409], ['23503', true, 409], ['25006', true, 405], ['P0001', true, 400], ['42883', true, 404],
    ['42P01', true, 404], ['42501', true, 403], ['42501', false, 401], ['22023', true, 400], ['23514', true, 400],
    ['08006', true, 503], ['53300', true, 503], ['40001', true, 500], ['P0002', true, 500], ['XX000', true, 500], ['PT418', true, 418],
  ] as const)('%s (signed in: %s) → %i', (sqlstate, authenticated, status) => {
    expect(httpStatusOf(sqlstate, authenticated)).toBe(status);
  });
});
