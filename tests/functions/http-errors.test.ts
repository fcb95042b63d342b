import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  errorResponse,
  HttpError,
  methodNotAllowed,
  notConfigured,
  toHttpError,
  unauthorized,
} from "../../functions/_shared/http-errors.ts";
import { pgErrorToHttp } from "../../functions/_shared/pg-errors.ts";

const silent = (): void => {};

async function body(res: Response): Promise<unknown> {
  expect(res.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
  return res.json();
}

/** A Postgres error as node-postgres delivers it. */
const pgError = (code: string, message: string, hint?: string) =>
  Object.assign(new Error(message), { code, severity: "ERROR", ...(hint === undefined ? {} : { hint }) });

describe("errorResponse", () => {
  it("renders an HttpError as { error: { code, message, details } } with its status", async () => {
    const res = errorResponse(new HttpError(409, "already_booked", "You already booked this event.", { details: { id: 1 } }));
    expect(res.status).toBe(409);
    expect(await body(res)).toEqual({
      error: { code: "already_booked", message: "You already booked this event.", details: { id: 1 } },
    });
  });

  it("omits details when there are none", async () => {
    expect(await body(errorResponse(new HttpError(404, "not_found", "Nothing here.")))).toEqual({
      error: { code: "not_found", message: "Nothing here." },
    });
  });

  it("turns a zod error into a 400 validation_failed listing the issues, without echoing input", async () => {
    const parsed = z.object({ quantity: z.number().int().positive(), email: z.email() }).safeParse({
      quantity: -2,
      email: "secret-value",
    });
    if (parsed.success) throw new Error("expected a validation failure");
    const res = errorResponse(parsed.error);
    expect(res.status).toBe(400);
    const json = (await body(res)) as { error: { code: string; details: { path: string }[] } };
    expect(json.error.code).toBe("validation_failed");
    expect(json.error.details.map((d) => d.path).sort()).toEqual(["email", "quantity"]);
    expect(JSON.stringify(json)).not.toContain("secret-value");
  });

  it("answers an unknown exception with a 500 internal_error that leaks nothing", async () => {
    const log = vi.fn();
    const res = errorResponse(new TypeError("cannot read properties of undefined (reading 'password')"), { log });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: "internal_error", message: "Something went wrong on our side. Please try again later." },
    });
    expect(text).not.toContain("password");
    expect(log).toHaveBeenCalledOnce();
  });

  it("treats thrown non-errors (strings, null) as internal errors too", () => {
    expect(errorResponse("boom", { log: silent }).status).toBe(500);
    expect(errorResponse(null, { log: silent }).status).toBe(500);
  });

  it("keeps the caller's headers and adds the error's own (Allow on 405, WWW-Authenticate on 401)", () => {
    const res = errorResponse(methodNotAllowed("DELETE", ["GET", "OPTIONS"]), { headers: { "X-Test": "1" } });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("GET, OPTIONS");
    expect(res.headers.get("X-Test")).toBe("1");
    const unauth = errorResponse(unauthorized("invalid_jwt", "The access token is invalid."));
    expect(unauth.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_jwt"');
  });

  it("uses 503 not_configured for missing configuration", async () => {
    const res = errorResponse(notConfigured("Stripe is not configured."), { log: silent });
    expect(res.status).toBe(503);
    expect(await body(res)).toEqual({ error: { code: "not_configured", message: "Stripe is not configured." } });
  });
});

describe("database errors (Rally's SQL convention: SQLSTATE + hint code)", () => {
  it("maps 22023 to 400 with the hint as code and the sentence as message", () => {
    const err = toHttpError(pgError("22023", "A username has 3 to 30 characters.", "invalid_username"));
    expect([err.status, err.code, err.message]).toEqual([400, "invalid_username", "A username has 3 to 30 characters."]);
  });

  it("maps 42501 with a hint to 403 with that code", () => {
    const err = toHttpError(pgError("42501", "Only members can post here.", "not_a_member"));
    expect([err.status, err.code]).toEqual([403, "not_a_member"]);
  });

  it("maps a bare permission error (RLS, grants) to 403 forbidden without naming tables", () => {
    const err = toHttpError(pgError("42501", "permission denied for table ledger_entries"));
    expect([err.status, err.code]).toEqual([403, "forbidden"]);
    expect(err.message).not.toContain("ledger");
  });

  it("maps P0001 to 422 with the hint as code", () => {
    const err = toHttpError(pgError("P0001", "This event is sold out.", "sold_out"));
    expect([err.status, err.code, err.message]).toEqual([422, "sold_out", "This event is sold out."]);
  });

  it("does not use a free-text hint as a code", () => {
    const err = toHttpError(pgError("P0001", "Nope.", "Try again with fewer seats."));
    expect(err.code).toBe("business_rule_violated");
  });

  it("maps unique violations to 409 and serialization failures to a retryable 409", () => {
    expect(toHttpError(pgError("23505", 'duplicate key value violates unique constraint "x"')).status).toBe(409);
    expect(toHttpError(pgError("40001", "could not serialize access")).code).toBe("concurrent_update");
  });

  it("maps an unreachable database to 503 database_unavailable", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(pgErrorToHttp(refused)).toMatchObject({ status: 503, code: "database_unavailable" });
    expect(toHttpError(pgError("57P01", "terminating connection due to administrator command")).status).toBe(503);
  });

  it("hides other database errors (syntax, undefined column) behind internal_error", () => {
    const err = toHttpError(pgError("42703", 'column "secret" does not exist'));
    expect([err.status, err.code]).toEqual([500, "internal_error"]);
    expect(err.message).not.toContain("secret");
  });
});
