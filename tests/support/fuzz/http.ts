/**
 * What the edge-function fuzzer checks on every answer, and the request pieces it draws from.
 *
 *   judgeResponse(status, headers, text)   // null when acceptable, else why not
 *
 * Acceptable: any 2xx/3xx (the function's documented success), 204 for a preflight, or a 4xx
 * in the one error shape of functions/_shared/http-errors.ts — `{ "error": { "code", "message",
 * "details"? } }`, JSON, a snake_case code, a non-empty message. Never a 5xx (the environment
 * is fully configured, so even 503 not_configured would be a finding), and never, in any body,
 * something that looks like a stack trace, a file path or SQL.
 */
import { HINT_CODE } from "./outcomes.ts";

/** Text that must never reach a client: stack frames, source paths, SQL and database internals. */
export const LEAKS: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /\bat [\w$.<>]+ \(?(file:|\/|node:)/, what: "a stack frame" },
  { pattern: /\.(ts|js|mjs):\d+:\d+/, what: "a source position" },
  { pattern: /node_modules|\/work\/|functions\/_shared/, what: "a file path" },
  { pattern: /\b(select|insert|update|delete)\b[\s\S]{0,200}\b(from|into|set)\b/i, what: "SQL text" },
  { pattern: /\b(private|auth|storage|realtime)\.[a-z_]+\b/, what: "an internal schema name" },
  { pattern: /\b(SQLSTATE|syntax error at|violates (check|foreign key|not-null|unique) constraint|relation "|column "|permission denied for)/i, what: "a database error" },
  { pattern: /\b(TypeError|ReferenceError|RangeError|SyntaxError)\b/, what: "a JavaScript error" },
];

export function leakIn(text: string): string | null {
  for (const { pattern, what } of LEAKS) {
    const m = pattern.exec(text);
    if (m !== null) return `${what}: ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 80))}`;
  }
  return null;
}

export function judgeResponse(method: string, status: number, headers: Headers, text: string): string | null {
  if (status >= 500) return `answered ${status}: ${text.slice(0, 300)}`;
  if (method === "OPTIONS" && (status === 200 || status === 204)) return null;
  const leak = leakIn(text);
  if (leak !== null) return `the body contains ${leak}`;
  if (status < 400) return null;
  if (!(headers.get("Content-Type") ?? "").startsWith("application/json")) return `a ${status} that is not JSON`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `a ${status} whose body is not JSON: ${text.slice(0, 200)}`;
  }
  const error = (body as { error?: unknown } | null)?.error as { code?: unknown; message?: unknown } | undefined;
  if (typeof error !== "object" || error === null) return `a ${status} without an "error" object`;
  if (typeof error.code !== "string" || !HINT_CODE.test(error.code)) return `a ${status} whose error code is not snake_case: ${JSON.stringify(error.code)}`;
  if (typeof error.message !== "string" || error.message.trim() === "") return `a ${status} without an error message`;
  const keys = Object.keys(body as object);
  if (keys.length !== 1) return `a ${status} with extra top-level keys ${JSON.stringify(keys)}`;
  return null;
}
