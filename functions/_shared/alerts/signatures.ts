/**
 * Webhook signatures, with WebCrypto only (runs under Deno and Node alike):
 *
 * - Twilio (`X-Twilio-Signature`): base64 HMAC-SHA1, keyed with the account's auth token, of
 *   the full URL Twilio called followed by every POST parameter as name + value, sorted by name.
 * - Resend, delivered by Svix (`svix-id`, `svix-timestamp`, `svix-signature`): base64
 *   HMAC-SHA256, keyed with the base64 secret after `whsec_`, of `${id}.${timestamp}.${body}`;
 *   the header holds space-separated `v1,<signature>` entries (several during key rotation).
 *   A timestamp more than five minutes away is refused, so a captured request cannot be replayed
 *   later.
 */

const encoder = new TextEncoder();

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function hmacBase64(hash: "SHA-1" | "SHA-256", key: Uint8Array, message: string): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash }, false, ["sign"]);
  return bytesToBase64(new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message) as BufferSource)));
}

/** Compares two strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  let diff = left.length ^ right.length;
  for (let i = 0; i < Math.max(left.length, right.length); i++) diff |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return diff === 0;
}

/** Twilio's request signature for a form POST to `url`. */
export async function twilioSignature(authToken: string, url: string, params: Iterable<[string, string]>): Promise<string> {
  const sorted = [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const payload = url + sorted.map(([name, value]) => name + value).join("");
  return hmacBase64("SHA-1", encoder.encode(authToken), payload);
}

export async function verifyTwilioSignature(
  authToken: string, url: string, params: Iterable<[string, string]>, signature: string | null,
): Promise<boolean> {
  if (signature === null || signature === "") return false;
  return constantTimeEqual(await twilioSignature(authToken, url, params), signature);
}

export const SVIX_TOLERANCE_SECONDS = 5 * 60;

function svixKey(secret: string): Uint8Array {
  return base64ToBytes(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
}

/** The `v1,<base64>` signature Svix sends for this message. */
export async function svixSignature(secret: string, id: string, timestamp: string, body: string): Promise<string> {
  return `v1,${await hmacBase64("SHA-256", svixKey(secret), `${id}.${timestamp}.${body}`)}`;
}

export type SvixVerdict = "valid" | "missing_headers" | "stale_timestamp" | "bad_signature";

export async function verifySvixSignature(
  secret: string,
  headers: { id: string | null; timestamp: string | null; signature: string | null },
  body: string,
  nowSeconds: number,
): Promise<SvixVerdict> {
  const { id, timestamp, signature } = headers;
  if (id === null || timestamp === null || signature === null || id === "" || signature === "") return "missing_headers";
  const sent = Number(timestamp);
  if (!Number.isInteger(sent) || Math.abs(nowSeconds - sent) > SVIX_TOLERANCE_SECONDS) return "stale_timestamp";
  const expected = await svixSignature(secret, id, timestamp, body);
  const offered = signature.split(" ").filter((entry) => entry.startsWith("v1,"));
  return offered.some((entry) => constantTimeEqual(entry, expected)) ? "valid" : "bad_signature";
}
