import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bearerToken, requireServiceRole, requireUser, verifyBearer, verifyJwt } from "../../functions/_shared/auth.ts";
import { HttpError } from "../../functions/_shared/http-errors.ts";
import { anonKey, serviceRoleKey, signJwt, userClaims } from "../support/jwt.ts";

const SECRET = "unit-test-secret-with-at-least-32-characters!!";
const alice = { id: "5b0c6c1e-3f43-4a0e-9a53-0c2f1c3c8d11", email: "alice@example.test" };

const request = (authorization?: string): Request =>
  new Request("http://localhost/me", authorization === undefined ? {} : { headers: { Authorization: authorization } });

/** Awaits a promise that must reject with an HttpError and returns that error. */
async function httpError(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error("expected an HttpError");
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("requireUser", () => {
  it("accepts a valid user token and returns typed claims", async () => {
    const token = await signJwt(userClaims(alice, { user_role: "host" }), { secret: SECRET });
    const claims = await requireUser(request(`Bearer ${token}`), { secret: SECRET });
    expect(claims).toMatchObject({
      sub: alice.id,
      role: "authenticated",
      email: alice.email,
      app_metadata: { provider: "email", providers: ["email"] },
      user_role: "host",
    });
    // Every other claim is kept, because request.jwt.claims must carry the whole token.
    expect(claims.session_id).toEqual(expect.any(String));
  });

  it("reads the secret from SUPABASE_JWT_SECRET by default", async () => {
    vi.stubEnv("SUPABASE_JWT_SECRET", SECRET);
    const token = await signJwt(userClaims(alice), { secret: SECRET });
    expect((await requireUser(request(`Bearer ${token}`))).sub).toBe(alice.id);
  });

  it("rejects an expired token with 401 invalid_jwt", async () => {
    const token = await signJwt(userClaims(alice), { secret: SECRET, expiresIn: -60 });
    const err = await httpError(requireUser(request(`Bearer ${token}`), { secret: SECRET }));
    expect([err.status, err.code, err.message]).toEqual([401, "invalid_jwt", "The access token has expired."]);
  });

  it("rejects a token signed with another secret", async () => {
    const token = await signJwt(userClaims(alice), { secret: "another-secret-another-secret-another-secret" });
    const err = await httpError(requireUser(request(`Bearer ${token}`), { secret: SECRET }));
    expect([err.status, err.code]).toEqual([401, "invalid_jwt"]);
  });

  it("rejects a missing Authorization header with 401 missing_authorization", async () => {
    const err = await httpError(requireUser(request(), { secret: SECRET }));
    expect([err.status, err.code]).toEqual([401, "missing_authorization"]);
  });

  it("rejects a header that is not `Bearer <jwt>`", async () => {
    const err = await httpError(requireUser(request("Basic YWxpY2U6cHc="), { secret: SECRET }));
    expect([err.status, err.code]).toEqual([401, "invalid_jwt"]);
    expect(() => bearerToken(request("Bearer"))).toThrow(HttpError);
  });

  it("rejects garbage that is not a JWT", async () => {
    const err = await httpError(requireUser(request("Bearer not.a.jwt"), { secret: SECRET }));
    expect(err.code).toBe("invalid_jwt");
  });

  it("rejects the anon and service_role keys: they are valid JWTs but not a signed-in user", async () => {
    for (const key of [await anonKey(SECRET), await serviceRoleKey(SECRET)]) {
      const err = await httpError(requireUser(request(`Bearer ${key}`), { secret: SECRET }));
      expect([err.status, err.code, err.message]).toEqual([401, "invalid_jwt", "This needs a signed-in user's access token."]);
    }
  });

  it("rejects a user token for another audience", async () => {
    const token = await signJwt(userClaims(alice, { aud: "some-other-app" }), { secret: SECRET });
    const err = await httpError(requireUser(request(`Bearer ${token}`), { secret: SECRET }));
    expect(err.message).toBe("The access token was not issued for this audience.");
  });

  it("rejects a token whose sub is not a user id", async () => {
    const token = await signJwt(userClaims({ ...alice, id: "not-a-uuid" }), { secret: SECRET });
    expect((await httpError(requireUser(request(`Bearer ${token}`), { secret: SECRET }))).code).toBe("invalid_jwt");
  });

  it("reports a missing secret as 503 not_configured, not as the caller's fault", async () => {
    vi.stubEnv("SUPABASE_JWT_SECRET", "");
    const token = await signJwt(userClaims(alice), { secret: SECRET });
    const err = await httpError(requireUser(request(`Bearer ${token}`)));
    expect([err.status, err.code]).toEqual([503, "not_configured"]);
  });
});

describe("verifyJwt / verifyBearer (the verify_jwt gate: any project role)", () => {
  it("accepts the anon key, the service_role key and user tokens", async () => {
    expect((await verifyBearer(request(`Bearer ${await anonKey(SECRET)}`), { secret: SECRET })).role).toBe("anon");
    expect((await verifyJwt(await serviceRoleKey(SECRET), { secret: SECRET })).role).toBe("service_role");
    expect((await verifyJwt(await signJwt(userClaims(alice), { secret: SECRET }), { secret: SECRET })).sub).toBe(alice.id);
  });

  it("rejects a token claiming a database role other than anon/authenticated/service_role", async () => {
    const token = await signJwt({ role: "postgres" }, { secret: SECRET });
    expect((await httpError(verifyJwt(token, { secret: SECRET }))).code).toBe("invalid_jwt");
  });

  it("rejects tokens not signed with HS256, including alg none", async () => {
    const hs512 = await new SignJWT({ role: "anon" })
      .setProtectedHeader({ alg: "HS512" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    expect((await httpError(verifyJwt(hs512, { secret: SECRET }))).code).toBe("invalid_jwt");
    const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString("base64url");
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({ role: "service_role" })}.`;
    expect((await httpError(verifyJwt(unsigned, { secret: SECRET }))).code).toBe("invalid_jwt");
  });
});

describe("requireServiceRole (the scheduled workers' gate)", () => {
  it("accepts the service_role key", async () => {
    vi.stubEnv("SUPABASE_JWT_SECRET", SECRET);
    const req = request(`Bearer ${await serviceRoleKey(SECRET)}`);
    expect((await requireServiceRole(req, "the payments worker")).role).toBe("service_role");
  });

  it("refuses the anon key and a user's token with 403 service_role_only, naming the worker", async () => {
    vi.stubEnv("SUPABASE_JWT_SECRET", SECRET);
    for (const token of [await anonKey(SECRET), await signJwt(userClaims(alice), { secret: SECRET })]) {
      const err = await httpError(requireServiceRole(request(`Bearer ${token}`), "the storage purge"));
      expect([err.status, err.code, err.message]).toEqual([403, "service_role_only", "Only the service role runs the storage purge."]);
    }
  });

  it("answers 401 before 403: no token, or a token that does not verify", async () => {
    vi.stubEnv("SUPABASE_JWT_SECRET", SECRET);
    expect((await httpError(requireServiceRole(request(), "the alert dispatcher"))).status).toBe(401);
    expect((await httpError(requireServiceRole(request("Bearer not.a.jwt"), "the alert dispatcher"))).status).toBe(401);
  });
});
