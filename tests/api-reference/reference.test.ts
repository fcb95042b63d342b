// The API reference against the real migrated database: every broadcast a migration makes is in
// the Realtime registry, every public RPC and table is documented, every edge function is
// described with the methods it really serves, declared response shapes match real answers, and
// generating twice gives the same bytes.
import { afterAll, describe, expect, it } from "vitest";
import { closePool } from "../../functions/_shared/db.ts";
import { handler as contactPoints } from "../../functions/contact-points/handler.ts";
import { handler as health } from "../../functions/health/handler.ts";
import { handler as me } from "../../functions/me/handler.ts";
import { readCatalog } from "../../scripts/lib/api-reference/catalog.ts";
import {
  FUNCTIONS, functionsInConfig, readConfigToml, RESPONSES, servedMethods,
} from "../../scripts/lib/api-reference/edge-functions.ts";
import { generateReference, missingComments, sqlModel } from "../../scripts/lib/api-reference/generate.ts";
import { documentedButNeverRaised } from "../../scripts/lib/api-reference/sql-errors.ts";
import { checkRegistry, checkTopicAuthorizers, findBroadcasts, REALTIME_EVENTS, REALTIME_TOPICS } from "../../scripts/lib/api-reference/realtime.ts";
import { closeTestPools } from "../support/db.ts";
import { testEnv } from "../support/env.ts";
import { createUser } from "../support/users.ts";

const dbUrl = (): string => testEnv("SUPABASE_DB_URL");

afterAll(async () => {
  await closePool();
  await closeTestPools();
});

describe("the Realtime registry", () => {
  it("lists every event a function in the database broadcasts, on the topic it goes to, with its payload fields", async () => {
    const catalog = await readCatalog(dbUrl());
    const { found, unreadable } = findBroadcasts(catalog.bodies);
    expect(found.length).toBeGreaterThan(15);
    const columnsOf = new Map(catalog.relations.map((r) => [r.name, r.columns.map((c) => c.name)]));
    expect(checkRegistry(found, unreadable, REALTIME_EVENTS, REALTIME_TOPICS, columnsOf)).toEqual([]);
  });

  it("lists exactly the topics the realtime.messages policies authorize", async () => {
    const catalog = await readCatalog(dbUrl());
    expect(checkTopicAuthorizers(catalog.bodies)).toEqual([]);
  });
});

describe("the SQL part of the reference", () => {
  it("has a comment for every RPC, table and view apps can reach", async () => {
    const catalog = await readCatalog(dbUrl());
    expect(catalog.functions.length).toBeGreaterThan(40);
    expect(missingComments(catalog)).toEqual([]);
  });

  it("documents no error a function cannot raise: every code in a comment's Errors: is raised by it or what it calls", async () => {
    const catalog = await readCatalog(dbUrl());
    expect(documentedButNeverRaised(catalog.bodies, catalog.tableTriggers)).toEqual([]);
  });

  it("shows book_event with its arguments, who may call it, and the errors its comment and code name", async () => {
    const { rpcs } = sqlModel(await readCatalog(dbUrl()));
    const book = rpcs.find((rpc) => rpc.fn.name === "book_event");
    expect(book?.fn.callers).toEqual(["anon", "authenticated"]);
    expect(book?.fn.arguments.map((a) => a.name).slice(0, 3)).toEqual(["p_event_id", "p_ticket_type_id", "p_quantity"]);
    expect(book?.fn.arguments.find((a) => a.name === "p_quantity")?.default).toBe("1");
    expect(book?.raised).toContainEqual({ sqlstate: "P0001", hint: "sold_out" });
    expect(book?.raised).toContainEqual({ sqlstate: "42501", hint: "not_authenticated" });
    expect(book?.documented).toContainEqual({ sqlstate: "P0001", hint: "sold_out" });
  });

  it("shows that the owner may update only some profile columns, and which policies apply", async () => {
    const { relations } = sqlModel(await readCatalog(dbUrl()));
    const profiles = relations.find((r) => r.relation.name === "profiles")?.relation;
    expect(profiles?.access.anon.select).toEqual({ kind: "all" });
    expect(profiles?.access.anon.update).toEqual({ kind: "none" });
    const update = profiles?.access.authenticated.update;
    expect(update?.kind).toBe("columns");
    expect(update?.kind === "columns" ? update.columns : []).toContain("display_name");
    expect(update?.kind === "columns" ? update.columns : []).not.toContain("is_host");
    expect(profiles?.policies.map((p) => p.name)).toContain("owners update their own profile");
  });
});

describe("the edge-function part of the reference", () => {
  it("describes every function in config.toml, and each serves exactly the methods described", async () => {
    const configured = functionsInConfig(readConfigToml()).map((fn) => fn.name);
    expect(FUNCTIONS.map((fn) => fn.name).sort()).toEqual(configured);
    for (const fn of FUNCTIONS) {
      const described = [...new Set(fn.endpoints.map((e) => e.method))].sort();
      expect({ name: fn.name, methods: await servedMethods(fn.name) }).toEqual({ name: fn.name, methods: described });
    }
  });

  it("declares health's, me's and contact-points' answers exactly as a signed-in user gets them", async () => {
    const user = await createUser();
    const auth = { Authorization: `Bearer ${user.token}` };
    const healthy = await health(new Request("http://127.0.0.1/health"));
    expect(RESPONSES.health.safeParse(await healthy.json()).error).toBeUndefined();
    const profile = await me(new Request("http://127.0.0.1/me", { headers: auth }));
    expect(RESPONSES.me.safeParse(await profile.json()).error).toBeUndefined();
    const settings = await contactPoints(new Request("http://127.0.0.1/contact-points", { headers: auth }));
    expect(RESPONSES.contactPoints.safeParse(await settings.json()).error).toBeUndefined();
    const set = await contactPoints(new Request("http://127.0.0.1/contact-points", {
      method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ phone: "07400 123456", country: "GB" }),
    }));
    expect(set.status).toBe(200);
    expect(RESPONSES.contactPointsPost.safeParse(await set.json()).error).toBeUndefined();
    const cleared = await contactPoints(new Request("http://127.0.0.1/contact-points", { method: "DELETE", headers: auth }));
    expect(RESPONSES.contactPoints.safeParse(await cleared.json()).error).toBeUndefined();
  });
});

describe("the whole reference", () => {
  it("has no problems and is the same bytes when generated twice", async () => {
    const first = await generateReference(dbUrl());
    const second = await generateReference(dbUrl());
    expect(first.problems).toEqual([]);
    expect(second.markdown).toBe(first.markdown);
    expect(first.markdown).toContain("### `book_event`");
    expect(first.markdown).toContain("#### `POST /functions/v1/checkout`");
    expect(first.markdown).toContain("### `conversation:<id>:typing`");
  });
});
