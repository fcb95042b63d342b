/**
 * The CI check that the notification catalogue and the code agree (scripts/lib/notification-catalogue.ts):
 * every type a migration or edge function sends is registered in private.notification_types
 * with a template in every locale, and every registered type is sent by something. It passes on
 * the repository as it is, and fails — naming the type — when a type is added without a
 * template, sent without being registered, registered without a sender, or computed so it
 * cannot be checked.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { catalogueInput, catalogueProblems, sentTypesIn, type CatalogueInput } from "../../scripts/lib/notification-catalogue.ts";
import { closeTestPools, ownerPool } from "../support/db.ts";

const ROOT = join(import.meta.dirname, "..", "..");

afterAll(closeTestPools);

/** The check's input: the repository's sends, the migrated catalogue (inside `sql`'s transaction), the templates. */
async function inputWith(sql?: string): Promise<CatalogueInput> {
  const client = await ownerPool().connect();
  try {
    await client.query("begin");
    if (sql !== undefined) await client.query(sql);
    return await catalogueInput(client, ROOT);
  } finally {
    await client.query("rollback");
    client.release();
  }
}

describe("the notification catalogue", () => {
  it("agrees with the code: every sent type registered and templated in every locale, every registered type sent", async () => {
    const input = await inputWith();
    expect(input.sent.length).toBeGreaterThan(40);
    expect(catalogueProblems(input)).toEqual([]);
  });

  it("fails when a type is registered without a template", async () => {
    const input = await inputWith(`insert into private.notification_types (type, category, in_app, description)
                                   values ('poll_closed', 'social', true, 'A poll you voted in closed')`);
    const withSender = { ...input, sent: [...input.sent, { type: "poll_closed", where: "supabase/migrations/2027_polls.sql:12" }] };
    expect(catalogueProblems(withSender)).toEqual(["poll_closed has no template in en, pt, es"]);
  });

  it("fails when a template is missing in one locale", async () => {
    const input = await inputWith();
    const templates = { ...input.templates, welcome: ["en", "pt"] };
    expect(catalogueProblems({ ...input, templates })).toEqual(["welcome has no template in es"]);
  });

  it("fails when code sends a type nobody registered, or a registered type has no sender", async () => {
    const input = await inputWith();
    const migration = `create function private.close_polls() returns void language plpgsql as $$
begin
  -- private.notify(x, 'not_a_call', …) in a comment is not a call
  perform private.notify(v_voter, 'poll_closed', 'Your poll closed');
end $$;`;
    const extra = sentTypesIn(migration, "supabase/migrations/20270101000000_polls.sql");
    expect(extra).toEqual({ sent: [{ type: "poll_closed", where: "supabase/migrations/20270101000000_polls.sql:4" }], unknowable: [] });
    const problems = catalogueProblems({ ...input, sent: [...input.sent.filter((s) => s.type !== "dispute_won"), ...extra.sent] });
    expect(problems).toEqual([
      "poll_closed is sent (supabase/migrations/20270101000000_polls.sql:4) but not registered in private.notification_types",
      "dispute_won is registered but nothing sends it",
    ]);
  });

  it("reads every way code sends one, and refuses a type it cannot read", () => {
    const sql = `select private.notify_from(p_actor, v_user, 'group_invitation', v_title);
select private.notify_admins('refund_unmatched', 'A refund', null, '{}');
insert into public.notifications (user_id, type, title) select f.follower_id, 'event_published', v_title from followers f;
insert into public.notifications (user_id, type, title) values (v_user, 'welcome', 'Hi');
select private.notify(v_user, 'payout_' || v_kind, 'Computed');
revoke execute on function private.notify(uuid, text, text, text, jsonb) from public;`;
    const found = sentTypesIn(sql, "x.sql");
    expect(found.sent.map((s) => s.type)).toEqual(["group_invitation", "refund_unmatched", "event_published", "welcome"]);
    expect(found.unknowable).toEqual(["x.sql:5: private.notify(v_user, 'payout_' || v_kind…"]);
    expect(catalogueProblems({ sent: found.sent, unknowable: found.unknowable, registered: [], templates: {}, locales: ["en"] })[0])
      .toBe("x.sql:5: private.notify(v_user, 'payout_' || v_kind… sends a notification type that is not a literal, so the catalogue cannot be checked");
  });
});
