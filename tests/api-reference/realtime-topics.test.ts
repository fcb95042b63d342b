// The Realtime registry says, per topic, who may receive and send with which extension
// (broadcast, presence). This checks those claims against the real join checks (the RLS
// policies on realtime.messages, reproduced by tests.can_receive_on / can_send_on): the person
// the registry names gets exactly the listed extensions, and an outsider gets none.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REALTIME_TOPICS, type Extension } from "../../scripts/lib/api-reference/realtime.ts";
import { asAnon, asUser, closeTestPools, type TestClient } from "../support/db.ts";
import { bookEvent, createHost, publishedEvent, rpc } from "../support/events.ts";
import { createUser, type TestUser } from "../support/users.ts";

const EXTENSIONS: Extension[] = ["broadcast", "presence"];

interface Fixture {
  topic: string;
  /** the person the registry's "who" describes */
  member: TestUser;
  /** someone it does not describe; null = an anonymous client */
  outsider: TestUser | null;
}

let fixtures = new Map<string, Fixture>();

beforeAll(async () => {
  const alice = await createUser();
  const bob = await createUser();
  const stranger = await createUser();
  const host = await createHost();
  const guest = await createUser();
  const { event, ticketTypeId } = await publishedEvent(host);
  await bookEvent(guest, event.id, ticketTypeId);
  const [conversation] = await rpc<{ id: string }>(alice, "select id from public.start_direct_conversation($1)", [bob.id]);
  if (conversation === undefined) throw new Error("no direct conversation");
  fixtures = new Map<string, Fixture>([
    ["user:<id>", { topic: `user:${alice.id}`, member: alice, outsider: bob }],
    ["event:<id>", { topic: `event:${event.id}`, member: stranger, outsider: null }],
    ["event:<id>:staff", { topic: `event:${event.id}:staff`, member: host, outsider: guest }],
    ["conversation:<id>", { topic: `conversation:${conversation.id}`, member: bob, outsider: stranger }],
    ["conversation:<id>:typing", { topic: `conversation:${conversation.id}:typing`, member: alice, outsider: stranger }],
  ]);
});

afterAll(closeTestPools);

type Grants = Record<"receive" | "send", Extension[]>;

async function grantsOf(user: TestUser | null, topic: string): Promise<Grants> {
  const probe = async (fn: "can_receive_on" | "can_send_on", extension: Extension): Promise<boolean> => {
    const query = async (db: TestClient): Promise<boolean> =>
      (await db.query<{ ok: boolean }>(`select tests.${fn}($1, $2) as ok`, [topic, extension])).rows[0]?.ok === true;
    return user === null ? asAnon(query, { rollback: true }) : asUser(user.claims, query, { rollback: true });
  };
  const grants: Grants = { receive: [], send: [] };
  for (const extension of EXTENSIONS) {
    if (await probe("can_receive_on", extension)) grants.receive.push(extension);
    if (await probe("can_send_on", extension)) grants.send.push(extension);
  }
  return grants;
}

describe("Realtime topics in the API reference", () => {
  it("has a fixture here for every topic the registry lists", () => {
    expect([...fixtures.keys()].sort()).toEqual(REALTIME_TOPICS.map((t) => t.topic).sort());
  });

  for (const spec of REALTIME_TOPICS) {
    it(`${spec.topic}: ${spec.receive.who} receive ${spec.receive.extensions.join(" and ") || "nothing"}, send ${spec.send.extensions.join(" and ") || "nothing"}; an outsider gets nothing`, async () => {
      const fixture = fixtures.get(spec.topic);
      if (fixture === undefined) throw new Error(`no fixture for ${spec.topic}: add one to this test`);
      expect(await grantsOf(fixture.member, fixture.topic)).toEqual({ receive: spec.receive.extensions, send: spec.send.extensions });
      expect(await grantsOf(fixture.outsider, fixture.topic)).toEqual({ receive: [], send: [] });
    });
  }
});
