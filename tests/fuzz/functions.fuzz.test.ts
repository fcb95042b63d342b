/**
 * Fuzzing gate for the edge functions: every function under functions/ (the directory is read,
 * so a new function is fuzzed without a list to update) is served exactly as deployed — the
 * handler imported through the local gateway, which applies config.toml's verify_jwt — and hit
 * with random methods, paths, headers (missing, garbage, expired, forged and other users' JWTs;
 * wrong, stale and valid webhook signatures), content types and bodies (invalid JSON, 1 MB,
 * deep nesting, hostile strings, wrong types, other users' ids, negative and overflowing
 * numbers). Every answer must be a success or a 4xx in the JSON error shape, never a 5xx, never
 * a stack trace or SQL (tests/support/fuzz/http.ts); and a refused request must have written
 * nothing to the database and made no side-effecting call to the Stripe, Twilio or Resend
 * stand-ins.
 *
 * Reproduce a failure: FUZZ_SEED=<seed> [FUZZ_FUNCTION=<name>] npm test -- --files fuzz/functions --only vitest
 */
import { readdirSync, existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { svixSignature, twilioSignature } from "../../functions/_shared/alerts/signatures.ts";
import { closePool } from "../../functions/_shared/db.ts";
import { createGateway, type Handler, loadFunctions, parseFunctionsConfig } from "../../scripts/functions-gateway.ts";
import { startStripeStandin, type StripeStandin } from "../../tools/stripe-standin/server.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { bookEvent } from "../support/events.ts";
import { judgeResponse } from "../support/fuzz/http.ts";
import { loadVocabulary } from "../support/fuzz/rpc-catalog.ts";
import { type DatabaseSnapshot, databaseSnapshot, diffSnapshots, pauseScheduler } from "../support/fuzz/snapshot.ts";
import { deepJson, hostileString, NIL_UUID, Raw, raw } from "../support/fuzz/values.ts";
import { buildWorld, type World } from "../support/fuzz/world.ts";
import { anonKey, serviceRoleKey, signJwt } from "../support/jwt.ts";
import { startResendStandIn, type ResendStandIn } from "../support/stand-ins/resend.ts";
import { startTwilioStandIn, type TwilioStandIn } from "../support/stand-ins/twilio.ts";
import { envOverride } from "../support/env.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const ONLY = process.env.FUZZ_FUNCTION;

const FUNCTIONS_DIR = new URL("../../functions/", import.meta.url);
const SUPABASE_DIR = new URL("../../supabase/", import.meta.url);
/** Every function directory (not _shared), as the deploy would find them. */
const names = readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith("_") && existsSync(new URL(`${d.name}/index.ts`, FUNCTIONS_DIR)))
  .map((d) => d.name).sort();
const specs = parseFunctionsConfig(readFileSync(new URL("config.toml", SUPABASE_DIR), "utf8"), SUPABASE_DIR);

/**
 * The fields a function reads, from its own source (zod object keys and query parameters), so
 * bodies carry names the function looks for.
 */
function fieldsOf(name: string): string[] {
  const source = readFileSync(new URL(`${name}/handler.ts`, FUNCTIONS_DIR), "utf8");
  const fields = new Set<string>();
  for (const m of source.matchAll(/^\s+([A-Za-z_][A-Za-z0-9_]*): z\./gm)) if (m[1] !== undefined) fields.add(m[1]);
  for (const m of source.matchAll(/searchParams\.get\("([^"]+)"\)/g)) if (m[1] !== undefined) fields.add(m[1]);
  return [...fields];
}

/** The methods a function serves (its routeByMethod keys). */
function methodsOf(name: string): string[] {
  const source = readFileSync(new URL(`${name}/handler.ts`, FUNCTIONS_DIR), "utf8");
  return [...source.matchAll(/^\s+(GET|POST|PUT|PATCH|DELETE):/gm)].map((m) => m[1] ?? "POST");
}

/** Tokens a real caller has; the rest of `authorizations` are forged, expired or malformed. */
const GENUINE = ["guest", "host", "admin", "victim", "anon key", "service_role key"];

const WEBHOOK_SECRET = "whsec_fuzz_platform_secret";
const CONNECT_WEBHOOK_SECRET = "whsec_fuzz_connect_secret";
const SVIX_SECRET = `whsec_${Buffer.from("resend-webhook-secret-for-fuzz!!").toString("base64")}`;
const CALLBACK_URL = "https://rally.example/functions/v1/twilio-status";
const ENV_NAMES = ["STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET", "STRIPE_TIMEOUT_MS",
  "STRIPE_MAX_NETWORK_RETRIES", "RESEND_API_KEY", "RESEND_FROM", "RESEND_API_BASE", "RESEND_WEBHOOK_SECRET", "TWILIO_ACCOUNT_SID",
  "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE", "TWILIO_SMS_FROM", "TWILIO_WHATSAPP_FROM", "TWILIO_STATUS_CALLBACK_URL"] as const;

let world: World;
let gateway: Handler;
let stripe: StripeStandin;
let twilio: TwilioStandIn;
let resend: ResendStandIn;
let resumeScheduler: () => Promise<void> = async () => {};
let baseline: DatabaseSnapshot;
let eventTypes: string[] = [];
const env = envOverride();
/** Authorization header values, by label (the label is what a counterexample prints). */
const authorizations = new Map<string, string | null>();

beforeAll(async () => {
  resumeScheduler = await pauseScheduler();
  stripe = await startStripeStandin({ delivery: "manual" });
  twilio = await startTwilioStandIn();
  resend = await startResendStandIn();
  // Every name in ENV_NAMES, set or unset on purpose.
  const values: Record<(typeof ENV_NAMES)[number], string | undefined> = {
    STRIPE_SECRET_KEY: undefined, STRIPE_API_BASE: stripe.url, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_WEBHOOK_SECRET, STRIPE_TIMEOUT_MS: "2000", STRIPE_MAX_NETWORK_RETRIES: "0",
    RESEND_API_KEY: resend.apiKey, RESEND_FROM: "Rally <alerts@rally.example>", RESEND_API_BASE: resend.url, RESEND_WEBHOOK_SECRET: SVIX_SECRET,
    TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: twilio.authToken, TWILIO_API_BASE: twilio.url,
    TWILIO_SMS_FROM: "+15005550006", TWILIO_WHATSAPP_FROM: "whatsapp:+15005550006", TWILIO_STATUS_CALLBACK_URL: CALLBACK_URL,
  };
  env.set(values);
  gateway = createGateway(await loadFunctions(specs.filter((s) => names.includes(s.name))));
  world = await buildWorld();
  // The guest holds seats on the paid event, so checkout can get as far as Stripe.
  const { rows: [paid] } = await ownerQuery<{ event_id: string; id: string }>(
    `select t.event_id, t.id from public.ticket_types t join public.events e on e.id = t.event_id
      where e.host_id = $1 and t.price_cents > 0 and e.status = 'published' limit 1`, [world.host.id]);
  if (paid !== undefined) world.learn([{ id: (await bookEvent(world.guest, paid.event_id, paid.id, 1)).id }]);
  eventTypes = (await loadVocabulary()).filter((w) => /^[a-z_]+\.[a-z_.]+$/.test(w));
  const claims = world.guest.claims;
  authorizations.set("none", null);
  authorizations.set("guest", `Bearer ${world.guest.token}`);
  authorizations.set("host", `Bearer ${world.host.token}`);
  authorizations.set("admin", `Bearer ${world.admin.token}`);
  authorizations.set("victim", `Bearer ${world.victim.token}`);
  authorizations.set("anon key", `Bearer ${await anonKey()}`);
  authorizations.set("service_role key", `Bearer ${await serviceRoleKey()}`);
  authorizations.set("expired guest token", `Bearer ${await signJwt({ ...claims, exp: undefined }, { expiresIn: -60 })}`);
  authorizations.set("guest claims, wrong secret", `Bearer ${await signJwt({ ...claims, exp: undefined }, { secret: "not-the-project-secret-but-32-chars-long!!" })}`);
  authorizations.set("role postgres", `Bearer ${await signJwt({ ...claims, exp: undefined, role: "postgres" })}`);
  authorizations.set("role supabase_admin", `Bearer ${await signJwt({ role: "supabase_admin", iss: "supabase-demo" })}`);
  authorizations.set("user that does not exist", `Bearer ${await signJwt({ ...claims, exp: undefined, sub: crypto.randomUUID() })}`);
  authorizations.set("sub not a uuid", `Bearer ${await signJwt({ ...claims, exp: undefined, sub: "' or 1=1 --" })}`);
  authorizations.set("no aud", `Bearer ${await signJwt({ ...claims, exp: undefined, aud: undefined })}`);
  authorizations.set("alg none", `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from(JSON.stringify({ ...claims, role: "service_role" })).toString("base64url")}.`);
  authorizations.set("garbage bearer", "Bearer abc.def.ghi");
  authorizations.set("basic auth", "Basic dXNlcjpwYXNz");
  authorizations.set("bearer without token", "Bearer ");
  authorizations.set("8 KB bearer", `Bearer ${"a".repeat(8192)}`);
  await stripe.idle();
  baseline = await databaseSnapshot();
  process.stdout.write(`functions.fuzz: seed ${SEED}, ${RUNS} runs per function, functions ${names.join(", ")}\n`);
}, 120_000);

afterAll(async () => {
  if (process.env.FUZZ_REPORT !== undefined) {
    for (const [name, counts] of outcomes) {
      process.stdout.write(`${name}: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(", ")}\n`);
    }
  }
  env.restore();
  await Promise.all([stripe?.close(), twilio?.close(), resend?.close()]);
  await resumeScheduler();
  await closePool();
  await closeTestPools();
});

/**
 * Writes a refusal may make by design. stripe-webhook notes a validly signed event it could not
 * apply in private.stripe_event_failures (in its own transaction, after the event's own
 * transaction rolled back) for operators and the reconciliation report, whatever the answer:
 * Stripe retries any non-2xx for three days. Nothing else is allowed.
 */
const WRITES_ON_REFUSAL: readonly { fn: string; signature: FuzzRequest["signature"]; table: string }[] = [
  { fn: "stripe-webhook", signature: "valid", table: "private.stripe_event_failures" },
];

/** Counts of everything the stand-ins hold or were asked to do; a refused request changes none. */
function sideEffects(): string {
  const s = stripe.store;
  return JSON.stringify({
    stripe: [s.accounts.size, s.paymentIntents.size, s.charges.size, s.refunds.size, s.transfers.size, s.payouts.size, s.disputes.size, s.events.length],
    twilio: [twilio.messages.length, twilio.requests],
    resend: [resend.emails.length, resend.requests],
  });
}

interface FuzzRequest {
  method: string;
  path: string;
  auth: string;
  contentType: string | null;
  body: Raw | null;
  /** How the body is signed for the webhook functions. */
  signature: "none" | "garbage" | "valid" | "wrong secret" | "stale";
}

/** A JSON value for a field: other people's ids, hostile strings, numbers at the edges, wrong types. */
function fieldValue(): fc.Arbitrary<Raw> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.nat().map((i) => raw(world.pools.uuid.length === 0 ? NIL_UUID : world.pools.uuid[i % world.pools.uuid.length])) },
    { weight: 3, arbitrary: hostileString().map((s) => raw(s)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        new Raw("-1"), new Raw("0"), new Raw("1"), new Raw("100"), new Raw("1000"), new Raw("55000"), new Raw("2147483648"),
        new Raw("9223372036854775807"), new Raw("1e400"), new Raw("-1e400"), new Raw("1.5"), new Raw("true"), new Raw("null"),
        new Raw("[]"), new Raw("{}"), raw("GB"), raw("gb"), raw("+447400123456"), raw("07400 123456"), raw("http://127.0.0.1:3000/host/payouts"),
        raw("https://evil.example/phish"), raw("javascript:alert(1)"), raw("true"), raw("delivered"), raw("failed"), raw("undelivered"),
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(deepJson(1_000, "array"), deepJson(5_000, "object")) },
  );
}

/** A JSON object with some of the function's own field names (and a few it does not know). */
function objectBody(fields: string[]): fc.Arbitrary<Raw> {
  const keys = [...fields, "id", "type", "object", "data", "__proto__", "constructor", "role"];
  return fc.array(fc.tuple(fc.constantFrom(...keys), fieldValue()), { maxLength: 6 }).map((entries) =>
    new Raw(`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v.json}`).join(",")}}`,
      `{${entries.map(([k, v]) => `${k}: ${String(v)}`).join(", ")}}`));
}

/** A Stripe event of a type Rally handles, about the world's objects or nobody's, with hostile parts. */
function stripeEventBody(): fc.Arbitrary<Raw> {
  const keys = ["id", "object", "amount", "amount_received", "currency", "status", "metadata", "payment_intent", "charge", "account",
    "transfer_group", "destination", "reason", "created", "livemode"];
  return fc.record({
    type: fc.constantFrom(...(eventTypes.length > 0 ? eventTypes : ["payment_intent.succeeded"]), "invoice.paid"),
    id: fc.oneof({ weight: 3, arbitrary: fc.uuid().map((u) => raw(`evt_fuzz${u.replaceAll("-", "")}`)) }, { weight: 1, arbitrary: fieldValue() }),
    created: fc.oneof({ weight: 3, arbitrary: fc.constant(new Raw(String(Math.floor(Date.now() / 1000)))) }, { weight: 1, arbitrary: fieldValue() }),
    livemode: fc.oneof({ weight: 3, arbitrary: fc.constant(new Raw("false")) }, { weight: 1, arbitrary: fieldValue() }),
    object: fc.uniqueArray(fc.tuple(fc.constantFrom(...keys), fieldValue()), { maxLength: 6, selector: ([k]) => k }),
  }).map(({ type, id, created, livemode, object }) => {
    const data = `{${object.map(([k, v]) => `${JSON.stringify(k)}:${v.json}`).join(",")}}`;
    return new Raw(`{"id":${id.json},"object":"event","type":${JSON.stringify(type)},"created":${created.json},"livemode":${livemode.json},` +
      `"api_version":"2026-10-28.endive","data":{"object":${data}}}`,
      `stripe event ${type} id=${String(id)} created=${String(created)} livemode=${String(livemode)} object={${object.map(([k, v]) => `${k}: ${String(v)}`).join(", ")}}`);
  });
}

function bodyFor(fields: string[], webhook: boolean): fc.Arbitrary<Raw | null> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: objectBody(fields) },
    { weight: webhook ? 8 : 0, arbitrary: stripeEventBody() },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        new Raw(""), new Raw("{"), new Raw("null"), new Raw("[]"), new Raw('"a string"'), new Raw("42"), new Raw("{}"),
        new Raw('{"booking_id": "' + "a".repeat(1_000_000) + '"}', "1 MB booking_id"), new Raw(`[${"0,".repeat(200_000)}0]`, "200k-element array"),
        deepJson(5_000, "array"), deepJson(5_000, "object"), new Raw("\u0000\u0001\u0002", "control bytes"), new Raw("\uFEFF{}", "BOM then {}"),
        new Raw("MessageSid=SM123&MessageStatus=delivered&AccountSid=AC123", "form body"),
      ),
    },
    { weight: 1, arbitrary: fieldValue() },
  );
}

function requestFor(name: string): fc.Arbitrary<FuzzRequest> {
  const fields = fieldsOf(name);
  const webhook = name === "stripe-webhook";
  const own = methodsOf(name);
  const forged = [...authorizations.keys()].filter((k) => !GENUINE.includes(k));
  return fc.record({
    method: fc.oneof({ weight: 7, arbitrary: fc.constantFrom(...(own.length > 0 ? own : ["POST"])) },
      { weight: 3, arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD") }),
    path: fc.oneof({ weight: 6, arbitrary: fc.constant("") }, {
      weight: 4,
      arbitrary: fc.constantFrom("/connect", "/x/../../admin", "?refresh=true", "?refresh=maybe&refresh=true",
        `?delivery_id=${world.pools.uuid[0] ?? NIL_UUID}`, "?delivery_id=' or 1=1 --", "/%00", "?a=" + "b".repeat(5000)),
    }),
    auth: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...GENUINE) }, { weight: 4, arbitrary: fc.constantFrom(...forged) }),
    contentType: fc.constantFrom("application/json", "application/json", "application/json", "text/plain", "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x", "application/json; charset=utf-16", null),
    body: bodyFor(fields, webhook),
    signature: fc.oneof({ weight: 5, arbitrary: fc.constant("valid" as const) },
      { weight: 5, arbitrary: fc.constantFrom("none" as const, "garbage" as const, "wrong secret" as const, "stale" as const) }),
  }).map((r) => Object.assign(r, {
    [fc.toStringMethod]: () => `${r.method} ${name}${r.path.slice(0, 80)} auth=${r.auth} type=${r.contentType ?? "none"} sig=${r.signature} body=${r.body === null ? "none" : String(r.body)}`,
  }));
}

/** The signature headers a webhook sender would add, honest or not. */
async function signatureHeaders(name: string, r: FuzzRequest, body: string, url: string): Promise<Record<string, string>> {
  if (r.signature === "none") return {};
  const now = Math.floor(Date.now() / 1000);
  const when = r.signature === "stale" ? now - 3600 : now;
  if (name === "stripe-webhook") {
    if (r.signature === "garbage") return { "Stripe-Signature": "t=1,v1=deadbeef" };
    const secret = r.signature === "wrong secret" ? "whsec_wrong" : r.path.startsWith("/connect") ? CONNECT_WEBHOOK_SECRET : WEBHOOK_SECRET;
    return { "Stripe-Signature": await Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret, timestamp: when }) };
  }
  if (name === "resend-webhook") {
    const id = `msg_${crypto.randomUUID()}`;
    if (r.signature === "garbage") return { "svix-id": id, "svix-timestamp": String(when), "svix-signature": "v1,AAAA" };
    const secret = r.signature === "wrong secret" ? `whsec_${Buffer.from("another-secret-another-secret!!!").toString("base64")}` : SVIX_SECRET;
    return { "svix-id": id, "svix-timestamp": String(when), "svix-signature": await svixSignature(secret, id, String(when), body) };
  }
  if (name === "twilio-status") {
    if (r.signature === "garbage") return { "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl" };
    const token = r.signature === "wrong secret" ? "0".repeat(32) : twilio.authToken;
    const signedUrl = CALLBACK_URL + new URL(url).search;
    return { "X-Twilio-Signature": await twilioSignature(token, signedUrl, new URLSearchParams(body).entries()) };
  }
  return {};
}

/** What each function answered, by status and code (FUZZ_REPORT=1 prints it). */
const outcomes = new Map<string, Map<string, number>>();

function tally(name: string, status: number, text: string): void {
  let code = "";
  try {
    code = String((JSON.parse(text) as { error?: { code?: unknown } }).error?.code ?? "");
  } catch {
    // not JSON: the status says enough
  }
  const counts = outcomes.get(name) ?? new Map<string, number>();
  const key = `${status}${code === "" ? "" : ` ${code}`}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  outcomes.set(name, counts);
}

async function send(name: string, r: FuzzRequest): Promise<void> {
  const url = `http://127.0.0.1:54321/functions/v1/${name}${r.path}`;
  const body = r.body === null ? "" : r.body.json;
  const headers: Record<string, string> = { ...(await signatureHeaders(name, r, body, url)) };
  const auth = authorizations.get(r.auth) ?? null;
  if (auth !== null) headers.Authorization = auth;
  if (r.contentType !== null) headers["Content-Type"] = r.contentType;
  const hasBody = r.body !== null && r.method !== "GET" && r.method !== "HEAD";
  const before = sideEffects();
  const response = await gateway(new Request(url, { method: r.method, headers, ...(hasBody ? { body } : {}) }));
  const text = await response.text();
  await stripe.idle();
  // Snapshot after every request, whatever the verdict, so the next request is compared with
  // what this one left behind.
  const after = await databaseSnapshot();
  const written = diffSnapshots(baseline, after);
  baseline = after;
  tally(name, response.status, text);
  const verdict = judgeResponse(r.method, response.status, response.headers, text);
  if (verdict !== null) throw new Error(`${r.method} ${name}: ${verdict}`);
  if (response.status < 400) {
    if (response.status === 200) {
      try {
        world.learn([JSON.parse(text) as Record<string, unknown>]);
      } catch {
        // a non-JSON success (there is none today) teaches nothing
      }
    }
    return;
  }
  const allowed = WRITES_ON_REFUSAL.filter((w) => w.fn === name && w.signature === r.signature).map((w) => `${w.table} `);
  const changed = written.filter((c) => !allowed.some((prefix) => c.startsWith(prefix)));
  if (changed.length > 0) throw new Error(`${r.method} ${name} was refused (${response.status} ${text.slice(0, 200)}) but wrote: ${changed.join(", ")}`);
  const effects = sideEffects();
  if (effects !== before) throw new Error(`${r.method} ${name} was refused (${response.status}) but called a provider: ${before} → ${effects}`);
}

describe("every edge function answers random and hostile requests with a success or a clean 4xx, and a refusal writes nothing", () => {
  it("serves every function directory, each declared in supabase/config.toml", () => {
    expect(names).toEqual(expect.arrayContaining(["checkout", "stripe-webhook", "health", "me"]));
    expect(names.filter((n) => !specs.some((s) => s.name === n))).toEqual([]);
  });

  for (const name of names.filter((n) => ONLY === undefined || ONLY.split(",").includes(n))) {
    it(name, async () => {
      await fc.assert(fc.asyncProperty(requestFor(name), (r) => send(name, r)),
        { numRuns: RUNS, seed: SEED, endOnFailure: false, interruptAfterTimeLimit: 60_000 });
    }, 120_000);
  }
});
