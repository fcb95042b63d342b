/**
 * Smoke test of the alert functions under Deno, end to end over HTTP through the local gateway:
 * libphonenumber-js (contact-points), the dispatcher writing to the sink (dispatch-alerts),
 * WebCrypto webhook verification (resend-webhook), and a clear 503 for an unconfigured Twilio
 * callback endpoint.
 *
 *   deno test --allow-all --config functions/deno.json tests/smoke/
 *
 * The gateway harness is tests/smoke/gateway.ts. Needs SUPABASE_DB_URL and RALLY_DB_URL (npm test provides them); without them the
 * steps that need users are skipped.
 */
import { assert, canCreateUsers, deno, jwtSecret, startGateway } from "./gateway.ts";
import { svixSignature } from "../../functions/_shared/alerts/signatures.ts";
import { ownerQuery, closeTestPools } from "../support/db.ts";
import { signJwt } from "../support/jwt.ts";
import { createUser } from "../support/users.ts";

const WEBHOOK_SECRET = `whsec_${btoa("smoke-test-webhook-secret-32byte")}`;

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

deno.test({
  name: "alert functions work under Deno through the gateway",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const env: Record<string, string> = { ...deno.env.toObject(), RALLY_FUNCTIONS_PORT: "0", SUPABASE_JWT_SECRET: jwtSecret,
                                          RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET };
    // Never reach a real provider from a test: alerts go to the sink.
    for (const name of ["RESEND_API_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_STATUS_CALLBACK_URL"]) delete env[name];
    const gateway = await startGateway(env);
    try {
      await t.step({
        name: "the gateway serves dispatch-alerts, contact-points, twilio-status and resend-webhook",
        fn: async () => {
          for (const name of ["dispatch-alerts", "contact-points", "twilio-status", "resend-webhook"]) {
            assert(gateway.names.includes(name), `ready line lists ${gateway.names.join(", ")}, missing ${name}`);
          }
        },
      });

      await t.step({
        name: "contact-points normalises a national number with libphonenumber-js",
        ignore: !canCreateUsers,
        fn: async () => {
          const user = await createUser();
          const { status, body } = await postJson(`${gateway.baseUrl}/contact-points`, { phone: "912 345 678", country: "PT" },
            { Authorization: `Bearer ${user.token}` });
          assert(status === 200, `contact-points answered ${status}: ${JSON.stringify(body)}`);
          assert((body as { phone_e164?: unknown }).phone_e164 === "+351912345678", `unexpected body ${JSON.stringify(body)}`);
        },
      });

      await t.step({
        name: "dispatch-alerts, called with the service-role key, sends a user's email to the sink",
        ignore: !canCreateUsers,
        fn: async () => {
          const user = await createUser();
          await ownerQuery("update private.alert_deliveries set status = 'skipped' where status in ('pending', 'sending')");
          await ownerQuery("select private.notify($1, 'welcome', 'Welcome to Rally', null, '{}')", [user.id]);
          const serviceKey = await signJwt({ role: "service_role", iss: "supabase-demo" }, { secret: jwtSecret });
          const { status, body } = await postJson(`${gateway.baseUrl}/dispatch-alerts`, {}, { Authorization: `Bearer ${serviceKey}` });
          assert(status === 200, `dispatch-alerts answered ${status}: ${JSON.stringify(body)}`);
          const result = body as { sent?: number; providers?: { email?: string } };
          assert(result.sent === 1 && result.providers?.email === "sink", `unexpected body ${JSON.stringify(body)}`);
          const { rows } = await ownerQuery<{ destination: string }>(
            "select s.destination from private.alert_sink s join private.alert_deliveries d on d.id = s.delivery_id where d.user_id = $1", [user.id]);
          assert(rows.length === 1 && rows[0]?.destination === user.email, `sink holds ${JSON.stringify(rows)}`);
        },
      });

      await t.step({
        name: "resend-webhook verifies a Svix signature with WebCrypto and refuses a wrong one",
        ignore: !canCreateUsers,
        fn: async () => {
          const payload = JSON.stringify({ type: "email.delivered", created_at: new Date().toISOString(), data: { email_id: crypto.randomUUID() } });
          const id = `msg_${crypto.randomUUID()}`;
          const timestamp = String(Math.floor(Date.now() / 1000));
          const send = async (signature: string) => {
            const res = await fetch(`${gateway.baseUrl}/resend-webhook`, {
              method: "POST",
              headers: { "Content-Type": "application/json", "svix-id": id, "svix-timestamp": timestamp, "svix-signature": signature },
              body: payload,
            });
            return { status: res.status, body: await res.json() as { outcome?: string; error?: { code?: string } } };
          };
          const forged = await send("v1,Zm9yZ2Vk");
          assert(forged.status === 401 && forged.body.error?.code === "invalid_signature", `forged: ${JSON.stringify(forged)}`);
          const genuine = await send(await svixSignature(WEBHOOK_SECRET, id, timestamp, payload));
          assert(genuine.status === 200 && genuine.body.outcome === "unmatched", `genuine: ${JSON.stringify(genuine)}`);
        },
      });

      await t.step({
        name: "twilio-status without Twilio settings answers 503 not_configured",
        fn: async () => {
          const res = await fetch(`${gateway.baseUrl}/twilio-status`, { method: "POST", body: "MessageSid=SM1" });
          const body = await res.json() as { error?: { code?: string } };
          assert(res.status === 503 && body.error?.code === "not_configured", `answered ${res.status} ${JSON.stringify(body)}`);
        },
      });
    } finally {
      const code = await gateway.stop();
      await closeTestPools();
      assert(code === 0, `the gateway exited with ${code}\n${gateway.output()}`);
    }
  },
});
