/**
 * STAND-IN for Firebase Cloud Messaging's HTTP v1 API and Google's OAuth 2.0 token endpoint,
 * for tests and benchmarks only (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send,
 * https://developers.google.com/identity/protocols/oauth2/service-account). It hands out a
 * service-account key file of its own (`serviceAccount`: a fresh RSA key, `token_uri` pointing
 * here), so the real adapter signs real JWTs:
 *
 *   POST /token  — form grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and assertion: a
 *     JWT verified with the account's public key (RS256, iss = client_email, aud = token_uri,
 *     scope containing firebase.messaging, exp at most an hour after iat and not past); answers
 *     `{access_token, expires_in: 3599, token_type: "Bearer"}`, else 400 `{error: "invalid_grant",
 *     error_description}` as Google does.
 *   POST /v1/projects/{project_id}/messages:send — Bearer access token (401 UNAUTHENTICATED), the
 *     account's own project (403 PERMISSION_DENIED), `{message}` with exactly a `token` target and
 *     only the fields of the v1 Message (400 INVALID_ARGUMENT with a google.rpc.BadRequest detail
 *     for an unknown field, a non-string data value, a non-integer badge); a token the stand-in
 *     never issued → 400 INVALID_ARGUMENT with an FcmError detail ("not a valid FCM registration
 *     token"); a token whose app was uninstalled (`uninstall`) → 404 NOT_FOUND with FcmError
 *     UNREGISTERED. 200 answers `{name: "projects/{id}/messages/{id}"}`.
 *
 * Devices come from `device(platform)` (a registration token as the Firebase SDK would give the
 * app). Errors use the google.rpc.Status shape. It can fail on demand (`failures`: 429
 * QUOTA_EXCEEDED with Retry-After, 503 UNAVAILABLE).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createPublicKey } from "node:crypto";
import { jwtVerify } from "jose";
import { FailureQueue, serve, type StandInRequest, type StandInResponse } from "./http.ts";
import type { ServiceAccount } from "../../../functions/_shared/alerts/providers/google-oauth.ts";

export interface PushedMessage {
  name: string;
  token: string;
  platform: "android" | "ios" | "web";
  /** The `message` object as FCM received it. */
  message: Record<string, unknown>;
}

export interface FcmStandIn {
  url: string;
  projectId: string;
  serviceAccount: ServiceAccount;
  /** Every message FCM accepted, in order. */
  messages: PushedMessage[];
  /** Access tokens issued by /token. */
  tokensIssued: number;
  failures: FailureQueue;
  /** A registration token for a new app install on `platform`. */
  device(platform?: "android" | "ios" | "web"): string;
  /** The app was uninstalled: FCM answers UNREGISTERED for its token from now on. */
  uninstall(token: string): void;
  close(): Promise<void>;
}

const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

function rpcError(status: number, code: string, message: string, details: unknown[] = [], headers?: Record<string, string>): StandInResponse {
  return { status, body: { error: { code: status, message, status: code, details } }, ...(headers === undefined ? {} : { headers }) };
}
const fcmError = (errorCode: string) => ({ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode });
const badRequest = (field: string, description: string): StandInResponse =>
  rpcError(400, "INVALID_ARGUMENT", description, [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field, description }] }]);

/** The fields the v1 Message, AndroidConfig, ApnsConfig and WebpushConfig accept (a subset is enough to catch typos). */
const MESSAGE_FIELDS = new Set(["name", "data", "notification", "android", "webpush", "apns", "fcm_options", "token", "topic", "condition"]);
const ANDROID_FIELDS = new Set(["collapse_key", "priority", "ttl", "restricted_package_name", "data", "notification", "fcm_options", "direct_boot_ok"]);
const APNS_FIELDS = new Set(["headers", "payload", "fcm_options"]);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Why FCM would refuse this message body (field, description), or null. */
function invalidField(message: Record<string, unknown>): [string, string] | null {
  for (const key of Object.keys(message)) {
    if (!MESSAGE_FIELDS.has(key)) return [`message.${key}`, `Invalid JSON payload received. Unknown name "${key}" at 'message': Cannot find field.`];
  }
  const targets = ["token", "topic", "condition"].filter((k) => message[k] !== undefined);
  if (targets.length !== 1) return ["message", "Exactly one of token, topic or condition must be set."];
  if (typeof message.token !== "string") return ["message.token", "Only token targets are served by this stand-in."];
  if (message.data !== undefined) {
    if (!isObject(message.data)) return ["message.data", "Invalid value at 'message.data' (type.googleapis.com/google.protobuf.Map)"];
    for (const [key, value] of Object.entries(message.data)) {
      if (typeof value !== "string") return [`message.data[${key}].value`, `Invalid value at 'message.data[${key}].value' (TYPE_STRING), ${JSON.stringify(value)}`];
    }
  }
  if (message.notification !== undefined) {
    if (!isObject(message.notification)) return ["message.notification", "Invalid value at 'message.notification'"];
    for (const key of ["title", "body"]) {
      const value = message.notification[key];
      if (value !== undefined && typeof value !== "string") return [`message.notification.${key}`, `Invalid value at 'message.notification.${key}' (TYPE_STRING)`];
    }
  }
  if (message.android !== undefined) {
    if (!isObject(message.android)) return ["message.android", "Invalid value at 'message.android'"];
    for (const key of Object.keys(message.android)) {
      if (!ANDROID_FIELDS.has(key)) return [`message.android.${key}`, `Invalid JSON payload received. Unknown name "${key}" at 'message.android': Cannot find field.`];
    }
    const priority = message.android.priority;
    if (priority !== undefined && priority !== "normal" && priority !== "high") return ["message.android.priority", `Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "${String(priority)}"`];
    const count = isObject(message.android.notification) ? message.android.notification.notification_count : undefined;
    if (count !== undefined && !Number.isInteger(count)) return ["message.android.notification.notification_count", "Invalid value at 'message.android.notification.notification_count' (TYPE_INT32)"];
  }
  if (message.apns !== undefined) {
    if (!isObject(message.apns)) return ["message.apns", "Invalid value at 'message.apns'"];
    for (const key of Object.keys(message.apns)) {
      if (!APNS_FIELDS.has(key)) return [`message.apns.${key}`, `Invalid JSON payload received. Unknown name "${key}" at 'message.apns': Cannot find field.`];
    }
    const headers = message.apns.headers;
    if (headers !== undefined && (!isObject(headers) || Object.values(headers).some((v) => typeof v !== "string"))) {
      return ["message.apns.headers", "APNs headers are strings."];
    }
    const aps = isObject(message.apns.payload) ? message.apns.payload.aps : undefined;
    if (isObject(aps) && aps.badge !== undefined && !Number.isInteger(aps.badge)) return ["message.apns.payload.aps.badge", "The badge is an integer."];
  }
  return null;
}

export async function startFcmStandIn(projectId = `rally-test-${hex(4)}`): Promise<FcmStandIn> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const verifyKey = createPublicKey(publicKey.export({ type: "spki", format: "pem" }));
  const messages: PushedMessage[] = [];
  const devices = new Map<string, { platform: "android" | "ios" | "web"; installed: boolean }>();
  const accessTokens = new Map<string, number>();
  const failures = new FailureQueue();
  const state = { tokensIssued: 0, url: "" };
  const clientEmail = `rally-push@${projectId}.iam.gserviceaccount.com`;

  const issueToken = async (req: StandInRequest): Promise<StandInResponse> => {
    const form = new URLSearchParams(req.body);
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return { status: 400, body: { error: "unsupported_grant_type", error_description: "Invalid grant_type." } };
    }
    const assertion = form.get("assertion") ?? "";
    try {
      const { payload, protectedHeader } = await jwtVerify(assertion, verifyKey, {
        algorithms: ["RS256"], issuer: clientEmail, audience: `${state.url}/token`,
      });
      if (protectedHeader.kid !== undefined && protectedHeader.kid !== serviceAccount.private_key_id) throw new Error("Invalid key id.");
      if (typeof payload.iat !== "number" || typeof payload.exp !== "number" || payload.exp - payload.iat > 3600) {
        throw new Error("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
      }
      if (typeof payload.scope !== "string" || !payload.scope.split(" ").includes("https://www.googleapis.com/auth/firebase.messaging")) {
        throw new Error("Invalid OAuth scope or ID token audience provided.");
      }
    } catch (err) {
      return { status: 400, body: { error: "invalid_grant", error_description: err instanceof Error ? err.message : "Invalid JWT Signature." } };
    }
    const token = `ya29.stand-in.${hex(24)}`;
    accessTokens.set(token, Date.now() + 3599_000);
    state.tokensIssued += 1;
    return { status: 200, body: { access_token: token, expires_in: 3599, token_type: "Bearer" } };
  };

  const send = (req: StandInRequest, project: string): StandInResponse => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const expires = bearer === undefined ? undefined : accessTokens.get(bearer);
    if (expires === undefined || expires < Date.now()) {
      return rpcError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
    }
    if (project !== projectId) return rpcError(403, "PERMISSION_DENIED", `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${project}' (or it may not exist).`);
    const failure = failures.take();
    if (failure !== null) {
      return failure.status === 429
        ? rpcError(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", [fcmError("QUOTA_EXCEEDED")],
                   failure.retryAfterSeconds === undefined ? undefined : { "Retry-After": String(failure.retryAfterSeconds) })
        : rpcError(failure.status, "UNAVAILABLE", "The service is currently unavailable.", [fcmError("UNAVAILABLE")]);
    }
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return badRequest("", "Invalid JSON payload received.");
    }
    if (!isObject(body) || !isObject(body.message)) return badRequest("message", "The message is required.");
    for (const key of Object.keys(body)) {
      if (key !== "message" && key !== "validate_only") return badRequest(key, `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`);
    }
    const message = body.message;
    const invalid = invalidField(message);
    if (invalid !== null) return badRequest(invalid[0], invalid[1]);
    const token = message.token as string;
    const device = devices.get(token);
    if (device === undefined) {
      return rpcError(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", [fcmError("INVALID_ARGUMENT")]);
    }
    if (!device.installed) return rpcError(404, "NOT_FOUND", "Requested entity was not found.", [fcmError("UNREGISTERED")]);
    const name = `projects/${projectId}/messages/0:${Date.now()}%${hex(8)}`;
    messages.push({ name, token, platform: device.platform, message });
    return { status: 200, body: { name } };
  };

  const server = await serve(async (req) => {
    if (req.method === "POST" && req.path === "/token") return issueToken(req);
    const sendPath = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.path);
    if (req.method === "POST" && sendPath !== null) return send(req, decodeURIComponent(sendPath[1] ?? ""));
    return rpcError(404, "NOT_FOUND", `The requested URL ${req.path} was not found on this server.`);
  });
  state.url = server.url;
  const serviceAccount: ServiceAccount = {
    type: "service_account",
    project_id: projectId,
    private_key_id: hex(20),
    private_key: pem,
    client_email: clientEmail,
    token_uri: `${server.url}/token`,
  };
  return {
    url: server.url,
    projectId,
    serviceAccount,
    messages,
    get tokensIssued() {
      return state.tokensIssued;
    },
    failures,
    device(platform = "android") {
      // Registration tokens look like "<instance id>:APA91b<…>".
      const token = `${hex(11)}:APA91b${randomBytes(96).toString("base64url")}`;
      devices.set(token, { platform, installed: true });
      return token;
    },
    uninstall(token) {
      const device = devices.get(token);
      if (device !== undefined) device.installed = false;
    },
    close: server.close,
  };
}
