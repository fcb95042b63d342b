/**
 * Re-maps a database error's HTTP status for one endpoint, keeping the code and message the
 * SQL chose: e.g. `booking_not_found` (22023 → 400 by default) is a 404 for checkout, and
 * `hold_expired` (P0001 → 422) a 409. Anything else is left to the shared mapping.
 */
import { HttpError, type HttpErrorStatus, toHttpError } from "./http-errors.ts";

export function remapDbError(err: unknown, statusByCode: Readonly<Record<string, HttpErrorStatus>>): unknown {
  const mapped = toHttpError(err);
  const status = statusByCode[mapped.code];
  if (status === undefined || status === mapped.status) return err;
  return new HttpError(status, mapped.code, mapped.message, { details: mapped.details, cause: err });
}
