// The API reference generator's pure parts: the SQL reader, error parsing and the transitive
// error scan, the broadcast scan and registry check, the handler error scan, JSON Schema rows,
// and the Markdown helpers. No database.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  findQualifiedCalls, splitCallArgs, stringLiteral, stringLiterals, stripSqlComments, topicPattern,
} from "../../scripts/lib/api-reference/sql-text.ts";
import { directErrors, documentedButNeverRaised, documentedErrors, raisedErrors, writesIn } from "../../scripts/lib/api-reference/sql-errors.ts";
import {
  checkRegistry, checkTopicAuthorizers, findBroadcasts, jsonbObjectKeys, topicWords, type EventSpec, type TopicSpec,
} from "../../scripts/lib/api-reference/realtime.ts";
import { functionsInConfig, methodSource, scanHandlerErrors } from "../../scripts/lib/api-reference/edge-functions.ts";
import { summarizeSchema } from "../../scripts/lib/api-reference/json-schema.ts";
import { cell, firstSentence } from "../../scripts/lib/api-reference/render.ts";
import { shownDefault } from "../../scripts/lib/api-reference/client-examples.ts";
import { decodeTriggerType, type Catalog, type CatalogFunction, type CatalogRelation } from "../../scripts/lib/api-reference/catalog.ts";
import { missingComments, sqlModel } from "../../scripts/lib/api-reference/generate.ts";
import { renderReference } from "../../scripts/lib/api-reference/render.ts";
import { capabilityIndex, type CapabilityIndex } from "../../scripts/lib/api-reference/capabilities.ts";

describe("reading SQL text", () => {
  it("drops -- and nested /* */ comments but keeps quotes, dollar quotes and comment-like text inside them", () => {
    const sql = "select 1 -- gone\n/* a /* nested */ still gone */ select '-- kept', $x$ /* kept */ $x$, E'it\\'s -- kept'";
    const stripped = stripSqlComments(sql);
    expect(stripped).not.toContain("gone");
    expect(stripped).toContain("'-- kept'");
    expect(stripped).toContain("$x$ /* kept */ $x$");
    expect(stripped).toContain("E'it\\'s -- kept'");
  });

  it("splits a call's arguments at the top level only", () => {
    const sql = "f(jsonb_build_object('a', g(1, 2)), 'x, y', 'it''s', array[1,2])";
    expect(splitCallArgs(sql, 1)).toEqual(["jsonb_build_object('a', g(1, 2))", "'x, y'", "'it''s'", "array[1,2]"]);
    expect(splitCallArgs("f()", 1)).toEqual([]);
    expect(splitCallArgs("f(1, 2", 1)).toBeNull();
  });

  it("finds schema-qualified calls, but not ones written inside strings or comments", () => {
    const sql = "perform private.a(1); -- private.b(2)\n select 'private.c(3)', Private . D ( 4 ), public.e()";
    expect(findQualifiedCalls(sql, ["private", "public"])).toEqual([
      { name: "private.a", args: ["1"] },
      { name: "private.d", args: ["4"] },
      { name: "public.e", args: [] },
    ]);
  });

  it("reads string literals, casts and E'' escapes, and nothing else", () => {
    expect(stringLiteral("'sold_out'")).toBe("sold_out");
    expect(stringLiteral(" 'it''s'::text ")).toBe("it's");
    expect(stringLiteral("E'a\\'b'")).toBe("a'b");
    expect(stringLiteral("p_event")).toBeNull();
    expect(stringLiteral("'a' || 'b'")).toBeNull();
    expect(stringLiterals("select 'a', x, 'b''c' -- 'd'")).toEqual(["a", "b'c"]);
  });

  it("turns topic expressions into patterns", () => {
    expect(topicPattern("'user:' || p_user_id::text")).toBe("user:<id>");
    expect(topicPattern("'event:' || v_event.id::text || ':staff'")).toBe("event:<id>:staff");
    expect(topicPattern("'conversation:' || (select c.id from x c)::text")).toBe("conversation:<id>");
  });
});

describe("errors of an RPC", () => {
  it("reads the Errors: sentence of a comment in its usual shapes, and stops at the full stop", () => {
    const comment = "Books tickets. Errors: 22023 invalid_quantity / event_not_found; P0001 sold_out, already_booked or blocked; 42501 not_authenticated. Refresh later.";
    expect(documentedErrors(comment)).toEqual([
      { sqlstate: "22023", hint: "event_not_found" },
      { sqlstate: "22023", hint: "invalid_quantity" },
      { sqlstate: "42501", hint: "not_authenticated" },
      { sqlstate: "P0001", hint: "already_booked" },
      { sqlstate: "P0001", hint: "blocked" },
      { sqlstate: "P0001", hint: "sold_out" },
    ]);
    expect(documentedErrors("Errors: 22023 user_not_found, 42501 not_event_staff, P0001 not_pending.")).toHaveLength(3);
    expect(documentedErrors("Errors: P0001 critical_notification (email of payment types stays on); 42501 not_authenticated.")).toEqual([
      { sqlstate: "42501", hint: "not_authenticated" },
      { sqlstate: "P0001", hint: "critical_notification" },
    ]);
    expect(documentedErrors("No errors listed here.")).toEqual([]);
    expect(documentedErrors(null)).toEqual([]);
  });

  it("takes two words in a row for prose, not error codes (admin_delete_account listed `the` and `of`)", () => {
    expect(documentedErrors("Errors: 42501 admin_only, not_authenticated; 22023 user_not_found; P0001 account_already_deleted and the obstacles of delete_my_account."))
      .toEqual([
        { sqlstate: "22023", hint: "user_not_found" },
        { sqlstate: "42501", hint: "admin_only" },
        { sqlstate: "42501", hint: "not_authenticated" },
        { sqlstate: "P0001", hint: "account_already_deleted" },
      ]);
    expect(documentedErrors("Errors: P0001 sold_out or blocked; 42501 not_authenticated")).toHaveLength(3);
  });

  it("flags a documented error nothing raises, and accepts one a computed hint spells out", () => {
    const bodies = [
      { name: "public.book", source: "perform private.book()", comment: "Errors: P0001 sold_out, blocked." },
      { name: "private.book", source: "perform private.raise_error('P0001', 'sold_out', 'x')", comment: null },
      { name: "public.leave", source: "perform private.raise_error('P0001', v_obstacle.code, v_obstacle.message); perform private.obstacles()",
        comment: "Errors: P0001 has_upcoming_events, never_spelled." },
      { name: "private.obstacles", source: "return query select 'has_upcoming_events'::text, 1", comment: null },
      { name: "admin.retry", source: "perform admin.retry_command()", comment: "Errors: 22023 command_not_found." },
      { name: "admin.retry_command", source: "perform private.raise_error('22023', 'command_not_found', 'x')", comment: null },
    ];
    expect(documentedButNeverRaised(bodies)).toEqual([
      "public.book: its comment documents P0001 blocked, which neither it nor anything it calls raises",
      "public.leave: its comment documents P0001 never_spelled, which neither it nor anything it calls raises",
    ]);
  });

  it("collects literal raise_error calls and raise … using statements only, ignoring commented-out ones and computed codes", () => {
    const body = `
      perform private.raise_error('22023', 'bad_input', 'Bad.');
      -- perform private.raise_error('P0001', 'commented_out', 'No.');
      perform private.raise_error(
        'P0001',
        'multi_line', format('%s', 1));
      perform private.raise_error(v_state, v_code, 'computed');
      raise exception using errcode = 'P0001', hint = 'rate_limited', message = format('Too many %s.', v_label);
      -- raise exception using errcode = 'P0001', hint = 'commented_raise';
      raise exception using errcode = 'P0001', hint = v_code;`;
    expect(directErrors(body)).toEqual([
      { sqlstate: "22023", hint: "bad_input" },
      { sqlstate: "P0001", hint: "multi_line" },
      { sqlstate: "P0001", hint: "rate_limited" },
    ]);
  });

  it("follows calls transitively through every overload, and survives recursion", () => {
    const errors = raisedErrors([
      { name: "public.book", source: "begin perform private.require_user(); return private.book(p_id); end" },
      { name: "private.book", source: "begin perform private.raise_error('P0001', 'sold_out', 'x'); perform private.book(1); perform private.helper(); end" },
      { name: "private.helper", source: "select private.raise_error('22023', 'helper_error', 'x')" },
      { name: "private.helper", source: "select private.raise_error('22023', 'overload_error', 'x')" },
      { name: "private.require_user", source: "perform private.raise_error('42501', 'not_authenticated', 'x')" },
      { name: "private.unrelated", source: "perform private.raise_error('P0001', 'elsewhere', 'x')" },
    ]);
    expect(errors.get("public.book")).toEqual([
      { sqlstate: "22023", hint: "helper_error" },
      { sqlstate: "22023", hint: "overload_error" },
      { sqlstate: "42501", hint: "not_authenticated" },
      { sqlstate: "P0001", hint: "sold_out" },
    ]);
    expect(errors.get("private.unrelated")).toEqual([{ sqlstate: "P0001", hint: "elsewhere" }]);
  });

  it("follows an insert into the insert triggers of that table, one level deep, and not updates", () => {
    const errors = raisedErrors([
      { name: "private.follow", source: "insert into public.follows (a, b) values (1, 2); update public.profiles set n = n + 1;" },
      { name: "private.follows_check", source: "perform private.raise_error('P0001', 'blocked', 'x'); insert into public.audit values (1);" },
      { name: "private.profiles_validate", source: "perform private.raise_error('22023', 'invalid_username', 'x')" },
      { name: "private.audit_check", source: "perform private.raise_error('P0001', 'too_deep', 'x')" },
    ], [
      { table: "public.follows", function: "private.follows_check", events: ["insert"] },
      { table: "public.profiles", function: "private.profiles_validate", events: ["insert", "update"] },
      { table: "public.audit", function: "private.audit_check", events: ["insert"] },
    ]);
    expect(errors.get("private.follow")).toEqual([{ sqlstate: "P0001", hint: "blocked" }]);
    expect(writesIn("insert into public.x values (1); -- delete from public.y\n update only private.z set a = 1")).toEqual([
      { table: "public.x", event: "insert" },
      { table: "private.z", event: "update" },
    ]);
  });
});

describe("Realtime broadcasts and the registry", () => {
  const topics: TopicSpec[] = [
    { topic: "user:<id>", receive: { who: "that user", extensions: ["broadcast"] }, send: { who: "nobody", extensions: [] } },
    { topic: "event:<id>:staff", receive: { who: "staff", extensions: ["broadcast"] }, send: { who: "nobody", extensions: [] } },
  ];
  const events: EventSpec[] = [
    { event: "check_in", topic: "event:<id>:staff", source: "database", when: "", payload: { booking_id: "", quantity: "" } },
    { event: "conversation_added", topic: "user:<id>", source: "database", when: "", payload: { conversation_id: "" } },
    { event: "notification_created", topic: "user:<id>", source: "database", when: "", payload: {}, rowOf: "notifications" },
  ];
  const functions = [
    {
      name: "private.check_in", argNames: ["p_code"],
      source: "perform realtime.send(jsonb_build_object('booking_id', v.id, 'quantity', v.quantity), 'check_in', 'event:' || v_event.id::text || ':staff', true);",
    },
    { name: "private.broadcast_to_user", argNames: ["p_user_id", "p_event", "p_payload"], source: "perform realtime.send(p_payload, p_event, 'user:' || p_user_id::text, true);" },
    { name: "private.start", argNames: [], source: "perform private.broadcast_to_user(v_uid, 'conversation_added', jsonb_build_object('conversation_id', v.id));" },
    { name: "private.notify", argNames: [], source: "perform realtime.send(to_jsonb(v_row), 'notification_created', 'user:' || p_user_id::text, true);" },
  ];

  it("finds direct sends and sends through wrappers that pass their event parameter on", () => {
    const { found, unreadable } = findBroadcasts(functions);
    expect(unreadable).toEqual([]);
    expect(found).toEqual([
      { function: "private.check_in", event: "check_in", topic: "event:<id>:staff", payloadKeys: ["booking_id", "quantity"] },
      { function: "private.start", event: "conversation_added", topic: "user:<id>", payloadKeys: ["conversation_id"] },
      { function: "private.notify", event: "notification_created", topic: "user:<id>", payloadKeys: null },
    ]);
    expect(checkRegistry(found, unreadable, events, topics, new Map())).toEqual([]);
  });

  it("fails when a migration broadcasts an event the registry does not list", () => {
    const { found, unreadable } = findBroadcasts([
      ...functions,
      { name: "private.sneaky", argNames: [], source: "perform private.broadcast_to_user(v_uid, 'brand_new_event', '{}'::jsonb);" },
    ]);
    expect(checkRegistry(found, unreadable, events, topics)).toEqual([
      "realtime: private.sneaky broadcasts 'brand_new_event' on user:<id>, which scripts/lib/api-reference/realtime.ts does not list",
    ]);
  });

  it("fails on an event name it cannot read, on a listed event nothing sends, and on unlisted payload fields", () => {
    const { found, unreadable } = findBroadcasts([
      { name: "private.check_in", argNames: [], source: "perform realtime.send(jsonb_build_object('booking_id', 1, 'secret', 2), 'check_in', 'event:' || x || ':staff', true);" },
      { name: "private.dynamic", argNames: [], source: "perform realtime.send('{}'::jsonb, v_event_name, 'user:' || x, true);" },
      { name: "private.notify", argNames: [], source: "perform realtime.send(jsonb_build_object('id', 1, 'password', 2), 'notification_created', 'user:' || x, true);" },
    ]);
    expect(checkRegistry(found, unreadable, events, topics, new Map([["notifications", ["id", "title"]]]))).toEqual([
      "realtime: a broadcast whose event name is not a literal (declare it or pass a literal): private.dynamic: v_event_name",
      "realtime: private.check_in sends 'check_in' with payload fields the registry does not list: secret",
      "realtime: private.notify sends 'notification_created' as a notifications row, but with fields that table does not have: password",
      "realtime registry: 'conversation_added' on user:<id> is listed but nothing in the database broadcasts it",
    ]);
  });

  it("reads jsonb_build_object keys only when every key is a literal", () => {
    expect(jsonbObjectKeys("jsonb_build_object('a', 1, 'b', f(2, 3))")).toEqual(["a", "b"]);
    expect(jsonbObjectKeys("jsonb_build_object(v_key, 1)")).toBeNull();
    expect(jsonbObjectKeys("to_jsonb(v_row)")).toBeNull();
  });

  it("compares the topics the authorization functions recognise with the registry's", () => {
    expect(topicWords("event:<id>:staff")).toEqual(["event", "staff"]);
    const authorizers = [
      { name: "private.realtime_can_receive", argNames: [], source: "if p_topic = 'user:' || v_uid::text then return true; end if; v := regexp_match(p_topic, '^event:([0-9a-f-]+)(:staff)?$');" },
      { name: "private.realtime_can_send", argNames: [], source: "v := regexp_match(p_topic, '^game:([0-9a-f-]+)$');" },
    ];
    expect(checkTopicAuthorizers(authorizers, topics)).toEqual([
      "realtime: the topic authorization functions recognise 'game:' / ':game' topics, which scripts/lib/api-reference/realtime.ts does not list",
    ]);
    expect(checkTopicAuthorizers(authorizers.slice(0, 1), topics)).toEqual([
      "realtime: private.realtime_can_send is missing, so topic authorization cannot be checked",
    ]);
  });
});

describe("edge function errors from handler source", () => {
  const source = `
const STATUS_BY_CODE = {
  booking_not_found: 404,
  hold_expired: 409,
} as const;

function check(url: string): string {
  if (url === "") throw badRequest("redirect_not_allowed", "No.");
  return url;
}

export const handler = routeByMethod({
  GET: async (req) => {
    const claims = await requireUser(req);
    return json({});
  },
  POST: async (req) => {
    const input = await readJson(req, body);
    check(input.url);
    try { await withServiceRole(fn); } catch (err) { throw remapDbError(err, STATUS_BY_CODE); }
    throw new HttpError(503, "stripe_unavailable", "Later.");
  },
});`;

  it("gives each method the errors of its own block and the helpers it reaches", () => {
    const codes = (method: string): string[] => scanHandlerErrors(methodSource(source, method), source).map((e) => `${e.status} ${e.code}`);
    expect(codes("GET")).toEqual(["401 invalid_jwt", "401 missing_authorization", "405 method_not_allowed"]);
    expect(codes("POST")).toEqual([
      "400 invalid_json", "400 redirect_not_allowed", "400 validation_failed", "404 booking_not_found", "405 method_not_allowed",
      "409 already_exists", "409 concurrent_update", "409 hold_expired", "409 reference_conflict", "413 payload_too_large",
      "503 database_timeout", "503 database_unavailable", "503 stripe_unavailable",
    ]);
  });

  it("reads function names and verify_jwt from config.toml, skipping disabled ones", () => {
    const toml = "[functions.b]\nverify_jwt = false\n[functions.a]\nentrypoint = 'x'\n[functions.c]\nenabled = false\n";
    expect(functionsInConfig(toml)).toEqual([{ name: "a", verifyJwt: true }, { name: "b", verifyJwt: false }]);
  });
});

describe("schemas as field tables", () => {
  it("lists fields with types, requiredness and rules, nested objects as dotted paths", () => {
    const schema = z.strictObject({
      id: z.uuid(),
      count: z.number().int().min(1).max(5).optional(),
      mode: z.enum(["a", "b"]).default("a"),
      owner: z.object({ name: z.string().max(10) }),
      tags: z.array(z.string()),
    });
    const summary = summarizeSchema(schema, "input");
    expect(summary.extra).toBe("refused");
    expect(summary.optional).toBe(false);
    expect(summary.fields.map((f) => [f.field, f.type, f.required, f.rules])).toEqual([
      ["id", "uuid", true, ""],
      ["count", "integer", false, "1–5"],
      ["mode", "\"a\" \\| \"b\"", false, "default \"a\""],
      ["owner", "object", true, ""],
      ["owner.name", "string", true, "length ≤ 10"],
      ["tags", "string[]", true, ""],
    ]);
    expect(summarizeSchema(z.object({ a: z.string() }).optional(), "input").optional).toBe(true);
    expect(summarizeSchema(z.looseObject({ a: z.string() }), "input").extra).toBe("allowed");
  });
});

describe("markdown helpers", () => {
  it("keeps table cells on one line with pipes escaped", () => {
    expect(cell("a | b\n   c")).toBe("a \\| b c");
    expect(cell(null)).toBe("");
  });

  it("takes the first sentence of a comment for summaries", () => {
    expect(firstSentence("Books tickets. Free → confirmed.")).toBe("Books tickets.");
    expect(firstSentence("p_limit 1–100 (20). p_cursor: next.")).toBe("p_limit 1–100 (20). p_cursor: next.");
  });

  it("shows NULL::<type> defaults as null and every other default as written", () => {
    expect(shownDefault("NULL::timestamp without time zone")).toBe("null");
    expect(shownDefault("NULL::uuid[]")).toBe("null");
    expect(shownDefault("'{}'::jsonb")).toBe("'{}'::jsonb");
    expect(shownDefault("20")).toBe("20");
  });

  it("decodes trigger types", () => {
    expect(decodeTriggerType(4 | 16 | 2)).toEqual({ events: ["insert", "update"], timing: "before" });
    expect(decodeTriggerType(8 | 64)).toEqual({ events: ["delete"], timing: "instead of" });
  });
});

describe("the reference from a small catalog", () => {
  const none = { kind: "none" } as const;
  const fn = (name: string, comment: string | null): CatalogFunction => ({
    name, signature: `${name}(p_id uuid)`, comment, returns: "boolean", returnsSet: false, volatility: "volatile",
    securityDefiner: false, callers: ["anon", "authenticated"], computedFieldOf: null,
    arguments: [{ name: "p_id", type: "uuid", mode: "in", default: null }, { name: "p_limit", type: "integer", mode: "in", default: "20" }],
  });
  const relation = (name: string, comment: string | null): CatalogRelation => ({
    name, kind: "table", comment, rowSecurity: true, securityInvoker: false, triggers: [], primaryKey: ["id"],
    columns: [{ name: "id", type: "uuid", nullable: false, default: "gen_random_uuid()", generated: false, comment: "The id | key." }],
    policies: [{ name: "owners read their rows", command: "select", roles: ["authenticated"], permissive: true }],
    access: {
      anon: { select: none, insert: none, update: none, delete: none },
      authenticated: { select: { kind: "all" }, insert: none, update: { kind: "columns", columns: ["note"] }, delete: none },
      service_role: { select: { kind: "all" }, insert: { kind: "all" }, update: { kind: "all" }, delete: { kind: "all" } },
    },
  });
  const catalog: Catalog = {
    functions: [fn("follow", "Follows someone. Errors: P0001 blocked; 42501 not_authenticated."), fn("undocumented", null)],
    internalFunctions: ["hook(event jsonb)"],
    relations: [relation("notes", "Notes."), relation("secrets", " ")],
    bodies: [
      { name: "public.follow", source: "perform private.follow(p_id)", argNames: ["p_id"], comment: null },
      { name: "private.follow", source: "perform private.raise_error('P0001', 'blocked', 'x'); perform private.raise_error('22023', 'user_not_found', 'x');", argNames: ["p_id"], comment: null },
    ],
    tableTriggers: [],
  };

  // Everything filed under one capability, as the migrations would file it.
  const index: CapabilityIndex = {
    byObject: new Map([["public.follow", "Social"], ["public.undocumented", "Social"], ["public.note_of", "Social"], ["public.notes", "Social"], ["public.secrets", "Social"]]),
    byFunction: new Map(),
    problems: [],
  };
  const shell = { capabilities: [{ title: "Social", doc: "social-and-alerts.md" }], functions: [], topics: [], events: [] };

  it("names every RPC and table without a comment", () => {
    expect(missingComments(catalog)).toEqual([
      "comment missing: function public.undocumented(p_id uuid) (add `comment on function` in a migration)",
      "comment missing: table public.secrets (add `comment on table` in a migration)",
    ]);
  });

  it("renders arguments, callers, both error columns, grants with RLS and escaped cells", () => {
    const markdown = renderReference({ ...shell, ...sqlModel(catalog, index) });
    const unaligned = markdown.replace(/ +\/\/ /g, "  // ");
    expect(unaligned).toContain([
      "```ts",
      "const { data, error } = await supabase.rpc('follow', {",
      "  p_id: '00000000-0000-0000-0000-000000000000',  // uuid",
      "  // p_limit: 20,  // integer, optional (default 20)",
      "});",
      "```",
      "",
      "`data`: `boolean`.",
    ].join("\n"));
    expect(unaligned).toContain([
      "await supabase.from('notes').select('*');  // authenticated (RLS)",
      "await supabase.from('notes').update({ note }).eq('id', id);  // authenticated (RLS: no rows)",
      "// service_role only (server side, never in an app): insert, delete",
    ].join("\n"));
    const withRow = renderReference({ ...shell, ...sqlModel({ ...catalog, functions: [{ ...fn("note_of", "A note."), returns: "notes" }] }, index) });
    expect(withRow).toContain("`data`: one [`notes`](#notes) row (an object).");
    expect(markdown).toContain("| `p_id` | `uuid` | required |");
    expect(markdown).toContain("| `p_limit` | `integer` | `20` |");
    expect(markdown).toContain("| `22023` | `user_not_found` |  | ✓ |");
    expect(markdown).toContain("| `42501` | `not_authenticated` | ✓ |  |");
    expect(markdown).toContain("| `P0001` | `blocked` | ✓ | ✓ |");
    expect(markdown).toContain("| `authenticated` | ✓ (RLS) | — | columns: `note` (RLS: no rows) | — |");
    expect(markdown).toContain("| `id` | `uuid` | no | `gen_random_uuid()` | The id \\| key. |");
    expect(markdown).toContain("Not callable by any API role (hooks and internals): `hook(event jsonb)`.");
    expect(markdown.endsWith("\n")).toBe(true);
    expect(renderReference({ ...shell, ...sqlModel(catalog, index) })).toBe(markdown);
  });

  it("files each RPC and table under its capability, and states require_user's errors once instead of in every table", () => {
    const signedIn: Catalog = {
      ...catalog,
      bodies: [
        ...catalog.bodies,
        { name: "public.follow", source: "perform private.require_user(); perform private.follow(p_id)", argNames: ["p_id"], comment: null },
        { name: "private.require_user", source: "perform private.raise_error('42501', 'not_authenticated', 'x'); perform private.raise_error('42501', 'account_deleted', 'x')", argNames: [], comment: null },
      ],
    };
    const markdown = renderReference({ ...shell, ...sqlModel(signedIn, index) });
    expect(markdown).toContain("## Social\n\nExplained in [social-and-alerts.md](social-and-alerts.md).");
    expect(markdown).toContain("Contents: [Conventions](#conventions) · [Social](#social) (2 RPCs, 2 tables) · [Realtime](#realtime)");
    expect(markdown).toContain("so it can also raise `42501 account_deleted`, `42501 not_authenticated`.");
    expect(markdown).toContain("Needs a signed-in user: also the account errors of `require_user`");
    expect(markdown).not.toContain("| `42501` | `not_authenticated` |");
    expect(markdown).not.toContain("| `42501` | `account_deleted` |");
    expect(markdown).toContain("| `P0001` | `blocked` | ✓ | ✓ |");
    const unfiled = renderReference({ ...shell, ...sqlModel(catalog, { ...index, byObject: new Map() }) });
    expect(unfiled).toContain("## Not filed under a capability");
  });

  it("files what the migrations define under the capability that lists the migration, and names what belongs to none", () => {
    const capabilities = [{ title: "Social", doc: "social-and-alerts.md", migrations: ["20260101000000_follows"], functions: ["contact-points"] }];
    const found = capabilityIndex([
      { file: "20260101000000_follows.sql", sql: "create table public.follows (a int);\ncreate or replace function public.follow_user() returns void language sql as $$ select 1 $$;" },
      { file: "20260101000100_orphan.sql", sql: "create function public.orphan() returns void language sql as $$ select 1 $$;" },
      { file: "20260101000200_internal.sql", sql: "create function private.helper() returns void language sql as $$ select 1 $$;" },
    ], capabilities);
    expect([...found.byObject].sort()).toEqual([["public.follow_user", "Social"], ["public.follows", "Social"]]);
    expect(found.byFunction.get("contact-points")).toBe("Social");
    expect(found.problems).toEqual([
      "capabilities: supabase/migrations/20260101000100_orphan.sql defines public.orphan but belongs to no capability in scripts/lib/api-reference/capabilities.ts",
    ]);
  });
});
