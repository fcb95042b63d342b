/**
 * Hostile and valid-looking values for the fuzzers, as JSON text (what a client puts in a
 * request body), so numbers beyond what a JavaScript number holds (2^63 − 1, 1e400) and
 * strings JSON can carry but PostgreSQL cannot (\u0000, lone surrogates) can be sent as is.
 *
 *   hostileString()                  // 100k characters, RTL overrides, zalgo, SQL injection…
 *   jsonForType(info, pools)         // an arbitrary JSON value for a PostgreSQL type
 *
 * Every generated value is a `Raw`, which prints abbreviated in fast-check's counterexamples
 * (a 100k-character string would otherwise drown the report).
 */
import fc from "fast-check";

/** A JSON text fragment; prints as at most ~120 characters. */
export class Raw {
  constructor(readonly json: string, readonly label?: string) {}
  [fc.toStringMethod](): string {
    if (this.label !== undefined) return this.label;
    return this.json.length <= 120 ? this.json : `${this.json.slice(0, 60)}…(${this.json.length} chars)…${this.json.slice(-20)}`;
  }
  toString(): string {
    return this[fc.toStringMethod]();
  }
}

export const raw = (value: unknown, label?: string): Raw => new Raw(JSON.stringify(value), label);

const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/** Strings that break naive code: sizes, Unicode edge cases, injection attempts. */
export const HOSTILE_STRINGS: readonly { value: string; label: string }[] = [
  { value: "", label: '""' },
  { value: " ", label: '" "' },
  { value: "a".repeat(100_000), label: '"a"×100000' },
  { value: "👩‍👩‍👧‍👦".repeat(10_000), label: "ZWJ family emoji ×10000" },
  { value: "x".repeat(10_001), label: '"x"×10001' },
  { value: "y".repeat(1_001), label: '"y"×1001' },
  { value: "\u202Egnp.exe\u202C", label: "RTL override" },
  { value: "مرحبا بالعالم שלום עולם", label: "Arabic + Hebrew" },
  { value: `Z${"\u0336\u0301\u0302\u0334".repeat(500)}`, label: "zalgo (2000 combining marks)" },
  { value: "👩🏽‍🚀🏳️‍🌈🧑‍🤝‍🧑", label: "emoji ZWJ sequences" },
  { value: "\uFEFFbom", label: "byte order mark" },
  { value: "\u200B\u200C\u200D\u2060", label: "zero-width characters" },
  { value: "\u00A0\u2003\u3000", label: "non-ASCII spaces" },
  { value: "\u0000", label: "NUL" },
  { value: "a\u0000b", label: "embedded NUL" },
  { value: "\uD800", label: "lone high surrogate" },
  { value: "\uDFFF", label: "lone low surrogate" },
  { value: "\uFFFF\uFFFE", label: "noncharacters" },
  { value: "𝕳𝖊𝖑𝖑𝖔 𐍈", label: "astral plane" },
  { value: "'; drop table public.profiles; --", label: "SQL injection: drop table" },
  { value: "' or '1'='1", label: "SQL injection: tautology" },
  { value: "1); select pg_sleep(5); --", label: "SQL injection: pg_sleep" },
  { value: "$$ || pg_sleep(5) || $$", label: "SQL injection: dollar quote" },
  { value: "\\", label: "backslash" },
  { value: "\\'\\\"", label: "escaped quotes" },
  { value: "%", label: "LIKE wildcard %" },
  { value: "_%_%\\%", label: "LIKE wildcards" },
  { value: "!&|:*<->()", label: "tsquery operators" },
  { value: "a & b | !c <-> d:*", label: "tsquery expression" },
  { value: "(((((", label: "unbalanced parentheses" },
  { value: ".*+?[](){}^$|", label: "regex metacharacters" },
  { value: "null", label: '"null"' },
  { value: "NaN", label: '"NaN"' },
  { value: "-1", label: '"-1"' },
  { value: '{"role":"service_role","sub":"00000000-0000-0000-0000-000000000000"}', label: "JSON injection: claims" },
  { value: '","p_user_id":"00000000-0000-0000-0000-000000000000', label: "JSON injection: extra key" },
  { value: "</script><script>alert(1)</script>", label: "HTML injection" },
  { value: "${jndi:ldap://127.0.0.1/x}", label: "template injection" },
  { value: "../../../../etc/passwd", label: "path traversal" },
  { value: "%s%s%s%n%x", label: "format string" },
  { value: "\r\nX-Injected: 1\r\n\r\n", label: "CRLF injection" },
  { value: NIL_UUID, label: "nil uuid" },
];

export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS.map((s) => s.value)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  );

const labelOf = (value: string): string | undefined => HOSTILE_STRINGS.find((s) => s.value === value)?.label;

/** A hostile string as a JSON string value. */
export const hostileText = (): fc.Arbitrary<Raw> => hostileString().map((s) => raw(s, labelOf(s)));

/** JSON nested `depth` deep: arrays or objects. */
export function deepJson(depth: number, kind: "array" | "object"): Raw {
  const text = kind === "array" ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
  return new Raw(text, `${kind} nested ${depth} deep`);
}

/**
 * Values of the wrong JSON type or shape, for any parameter. Nesting stays at most 5,000 deep:
 * deeper than PostgreSQL's max_stack_depth allows (about 50,000 levels with the default 2 MB)
 * its JSON parser refuses the body with 54001 before any Rally code runs — a platform limit,
 * documented in docs/fuzzing.md.
 */
export const wrongShape = (): fc.Arbitrary<Raw> =>
  fc.oneof(
    fc.constantFrom(
      new Raw("null"), new Raw("true"), new Raw("false"), new Raw("0"), new Raw("-1"), new Raw("1.5"),
      new Raw("9223372036854775807"), new Raw("-9223372036854775808"), new Raw("1e400"), new Raw("-1e400"),
      new Raw("[]"), new Raw("{}"), new Raw('[1,"a",null]'), new Raw('{"id":"x"}'),
      deepJson(1_000, "array"), deepJson(5_000, "array"), deepJson(1_000, "object"), deepJson(5_000, "object"),
      new Raw(`[${Array.from({ length: 10_000 }, () => "0").join(",")}]`, "array of 10000 zeros"),
    ),
    hostileText(),
  );

/** What a generator may draw from besides its own literals. */
export interface ValuePools {
  uuid: readonly string[];
  text: readonly string[];
  uuidByColumn: ReadonlyMap<string, readonly string[]>;
  textByColumn: ReadonlyMap<string, readonly string[]>;
  cursor: readonly string[];
}

/**
 * The values of the columns a parameter names: `p_booking_id` draws from columns `booking_id`,
 * `*_booking_id` and the bookings' own ids; `p_share_code` from `code` columns; `p_user_ids`
 * from `user_id` columns. No such column: null (the caller falls back to every value).
 */
export function related(byColumn: ReadonlyMap<string, readonly string[]>, parameter: string | null): string[] | null {
  if (parameter === null) return null;
  const base = parameter.replace(/^p_/, "").replace(/_ids$/, "_id");
  const values = new Set<string>();
  for (const [column, list] of byColumn) {
    if (column === base || column.endsWith(`_${base}`) || base.endsWith(`_${column}`)) for (const v of list) values.add(v);
  }
  return values.size === 0 ? null : [...values];
}

/** A value from a pool that may grow while the fuzzer runs (read at generation time). */
const fromPool = (pool: readonly string[], fallback: string): fc.Arbitrary<Raw> =>
  fc.nat().map((i) => raw(pool.length === 0 ? fallback : pool[i % pool.length]));

export const uuidValue = (pools: ValuePools, parameter: string | null = null): fc.Arbitrary<Raw> =>
  fc.oneof(
    { weight: 8, arbitrary: fromPool(related(pools.uuidByColumn, parameter) ?? pools.uuid, NIL_UUID) },
    { weight: 3, arbitrary: fromPool(pools.uuid, NIL_UUID) },
    { weight: 2, arbitrary: fc.uuid().map((u) => raw(u)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(NIL_UUID, "ffffffff-ffff-ffff-ffff-ffffffffffff").map((u) => raw(u)),
    },
    {
      weight: 1,
      // Spellings PostgreSQL also accepts: upper case, braces, no dashes.
      arbitrary: fromPool(pools.uuid, NIL_UUID).map((r) => {
        const u = JSON.parse(r.json) as string;
        return raw([u.toUpperCase(), `{${u}}`, u.replaceAll("-", "")][u.charCodeAt(0) % 3]);
      }),
    },
  );

const MAX_INT = 2147483647;

export const integerValue = (): fc.Arbitrary<Raw> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -3, max: 12 }).map((n) => raw(n)) },
    { weight: 2, arbitrary: fc.integer().map((n) => raw(n)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        raw(MAX_INT), raw(-MAX_INT - 1), new Raw("2147483648"), new Raw("-2147483649"), new Raw("9223372036854775807"),
        new Raw("1e10"), new Raw("2.5"), raw("7"), raw("  3  "), raw("0x10"),
      ),
    },
  );

export const bigintValue = (): fc.Arbitrary<Raw> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -1000, max: 1_000_000 }).map((n) => raw(n)) },
    { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => new Raw(n.toString())) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        new Raw("9223372036854775807"), new Raw("-9223372036854775808"), new Raw("9223372036854775806"),
        new Raw("4611686018427387904"), new Raw("9223372036854775808"), new Raw("99999999999999999999"),
        raw(Number.MAX_SAFE_INTEGER), raw(-1), raw(0), raw(1), new Raw("1.5"), raw("100"),
      ),
    },
  );

export const floatValue = (): fc.Arbitrary<Raw> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.double({ min: -200, max: 200, noNaN: true }).map((n) => raw(n)) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => raw(n)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        raw("NaN"), raw("Infinity"), raw("-Infinity"), new Raw("1e308"), new Raw("-1e308"), new Raw("5e-324"),
        new Raw("1e400"), raw(0), raw(-0.0), raw(90), raw(-90), raw(180), raw(-180), raw(90.000001), raw(20_000),
      ),
    },
  );

export const numericValue = (): fc.Arbitrary<Raw> =>
  fc.oneof(floatValue(), bigintValue(), fc.constantFrom(new Raw("1e1000"), new Raw("0.000000000000000000001")));

export const booleanValue = (): fc.Arbitrary<Raw> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.boolean().map((b) => raw(b)) },
    { weight: 1, arbitrary: fc.constantFrom(raw("yes"), raw("off"), raw("t"), raw(1), raw("maybe"), raw("")) },
  );

const DAY = 24 * 3600 * 1000;

export const timestampValue = (withZone: boolean): fc.Arbitrary<Raw> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.integer({ min: -400, max: 400 }).map((days) => {
        const iso = new Date(Date.now() + days * DAY).toISOString();
        return raw(withZone ? iso : iso.replace("Z", ""));
      }),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        raw("infinity"), raw("-infinity"), raw("epoch"), raw("now"), raw("today"), raw("4713-01-01 00:00:00 BC"),
        raw("294276-12-31 23:59:59"), raw("294277-01-01 00:00:00"), raw("0001-01-01T00:00:00Z"), raw("9999-12-31T23:59:59+14:00"),
        raw("2026-02-30T10:00:00Z"), raw("2026-13-01"), raw("yesterday"), raw("1970-01-01T00:00:00-12:00"), raw(0),
      ),
    },
  );

export const dateValue = (): fc.Arbitrary<Raw> =>
  fc.oneof(timestampValue(false).map((r) => r), fc.constantFrom(raw("2026-12-31"), raw("0001-01-01"), raw("5874897-12-31")));

export const timeValue = (): fc.Arbitrary<Raw> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) =>
      raw(`${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`)) },
    { weight: 2, arbitrary: fc.constantFrom(raw("00:00"), raw("24:00:00"), raw("23:59:59.999999"), raw("25:00"), raw("allballs"), raw("12:00+05")) },
  );

export const intervalValue = (): fc.Arbitrary<Raw> =>
  fc.constantFrom(raw("1 hour"), raw("-1 day"), raw("178000000 years"), raw("P1D"), raw("forever"));

/** Text: the world's own values (codes, usernames, statuses…), check-constraint words, cursors, or hostile. */
export const textValue = (pools: ValuePools, vocabulary: readonly string[], parameter: string | null = null): fc.Arbitrary<Raw> =>
  fc.oneof(
    { weight: 6, arbitrary: fromPool(related(pools.textByColumn, parameter) ?? vocabulary, "x") },
    { weight: 4, arbitrary: fc.constantFrom(...(vocabulary.length > 0 ? vocabulary : ["x"])).map((s) => raw(s)) },
    { weight: 3, arbitrary: fromPool(pools.text, "x") },
    { weight: 2, arbitrary: fromPool(pools.cursor, "eyJ0IjoiMjAyNi0wMS0wMSJ9") },
    { weight: 4, arbitrary: hostileText() },
    {
      weight: 1,
      // Cursors tampered with: base64 of hostile JSON, truncated, or not base64 at all.
      arbitrary: fc.oneof(
        fc.constantFrom('{"t":"2026-01-01","id":"x"}', '{"t":"infinity"}', "[1,2,3]", "null", '{"t":1e400}', "{}")
          .map((s) => raw(Buffer.from(s).toString("base64"), `base64(${s})`)),
        fromPool(pools.cursor, "abc").map((r) => raw((JSON.parse(r.json) as string).slice(0, 7))),
        fc.constantFrom(raw("!!!notbase64!!!"), raw("====")),
      ),
    },
  );

export { NIL_UUID };
