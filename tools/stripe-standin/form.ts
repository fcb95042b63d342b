/**
 * Stripe's request encoding, read back: `application/x-www-form-urlencoded` with bracket paths,
 * as stripe-node writes them (`metadata[booking_id]=…`, `controller[fees][payer]=application`,
 * `expand[0]=latest_charge`). Values stay strings, as Stripe receives them; handlers convert.
 */

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

/** `a[b][0]` → ["a", "b", "0"]. */
export function keyPath(key: string): string[] {
  const first = key.indexOf("[");
  if (first === -1) return [key];
  const path = [key.slice(0, first)];
  for (const match of key.slice(first).matchAll(/\[([^\]]*)\]/g)) path.push(match[1] ?? "");
  return path;
}

function isIndex(segment: string): boolean {
  return /^\d+$/.test(segment) || segment === "";
}

function assign(target: FormObject | FormValue[], path: string[], value: string): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (Array.isArray(target)) {
    const index = head === "" ? target.length : Number(head);
    if (rest.length === 0) {
      target[index] = value;
      return;
    }
    const existing = target[index];
    const child = existing !== undefined && typeof existing === "object" ? existing : isIndex(rest[0] ?? "") ? [] : {};
    target[index] = child;
    assign(child, rest, value);
    return;
  }
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const existing = target[head];
  const child = existing !== undefined && typeof existing === "object" ? existing : isIndex(rest[0] ?? "") ? [] : {};
  target[head] = child;
  assign(child, rest, value);
}

/** Parses a form body (or a query string) into nested objects and arrays. */
export function parseForm(body: string): FormObject {
  const out: FormObject = {};
  if (body.trim() === "") return out;
  for (const pair of body.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? "" : pair.slice(eq + 1);
    const key = decodeURIComponent(rawKey.replace(/\+/g, " "));
    const value = decodeURIComponent(rawValue.replace(/\+/g, " "));
    assign(out, keyPath(key), value);
  }
  return out;
}

/** Canonical JSON (sorted keys) to compare the parameters of two requests. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
