/**
 * Attack class: reaching strangers through groups (issue 13, finding 7). The review created
 * groups of 255 strangers without consent or limit (20 in a second), and 30 reminders in them
 * made 7,680 notifications. Now a stranger is only invited (in-app, once a day per group at
 * most), becomes a member only by accepting, and group creation, people added and reminders are
 * rate limited — so reminders reach only people who chose to be there.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools, failure } from "../support/db.ts";
import { rpc } from "../support/events.ts";
import { bulkUsers } from "../support/limits.ts";
import { createUser } from "../support/users.ts";

afterAll(async () => {
  await closeTestPools();
});

const count = async (sql: string, params: unknown[] = []): Promise<number> =>
  Number((await ownerQuery<{ n: string }>(sql, params)).rows[0]?.n ?? NaN);

describe("a group of 255 strangers", () => {
  it("makes no members, only invitations, told in-app only, and 20 such groups in a row make one", async () => {
    const spammer = await createUser();
    const strangers = await bulkUsers(255, "stranger");
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      try {
        await rpc(spammer, "select public.create_group_conversation($1, $2::uuid[])", [`Deals ${i}`, strangers]);
        outcomes.push("created");
      } catch (err) {
        outcomes.push((err as { hint?: string }).hint ?? "error");
      }
    }
    expect(outcomes).toEqual(["created", ...Array(19).fill("rate_limited")]);
    const [group] = (await ownerQuery<{ id: string }>("select id from public.conversations where created_by = $1", [spammer.id])).rows;
    expect(await count("select count(*) as n from public.conversation_members where conversation_id = $1", [group!.id])).toBe(1);
    expect(await count("select count(*) as n from public.group_invitations where conversation_id = $1 and status = 'pending'", [group!.id])).toBe(255);
    expect(await count("select count(*) as n from public.notifications where type = 'group_invitation' and user_id = any ($1::uuid[])", [strangers])).toBe(255);
    expect(await count("select count(*) as n from private.alert_deliveries where type = 'group_invitation'")).toBe(0);
    expect(await count("select count(*) as n from realtime.messages where event = 'conversation_added' and topic = any ($1::text[])",
      [strangers.map((id) => `user:${id}`)])).toBe(0);
  });

  it("30 reminders: ten are accepted, and they reach only those who joined", async () => {
    const organiser = await createUser();
    const [friend, stranger] = [await createUser(), await createUser()];
    await rpc(friend, "select public.follow_user($1)", [organiser.id]);
    const [group] = await rpc<{ id: string }>(organiser, "select id from public.create_group_conversation('Picnic', $1::uuid[])",
      [[friend.id, stranger.id]]);
    const reminders: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      try {
        await rpc(organiser, "select public.send_message($1, 'reminder', $2, null, null, now() + interval '1 hour')", [group!.id, `Reminder ${i}`]);
        reminders.push("sent");
      } catch (err) {
        reminders.push((err as { hint?: string }).hint ?? "error");
      }
    }
    expect(reminders.filter((r) => r === "sent")).toHaveLength(10);
    expect(reminders.slice(10)).toEqual(Array(20).fill("rate_limited"));
    await ownerQuery("update public.messages set remind_at = now() - interval '1 second' where conversation_id = $1 and kind = 'reminder'", [group!.id]);
    await ownerQuery("select private.fire_due_reminders()");
    const told = "select count(*) as n from public.notifications where user_id = $1 and type = 'message_reminder'";
    expect(await count(told, [friend.id])).toBe(10);
    expect(await count(told, [organiser.id])).toBe(10);
    expect(await count(told, [stranger.id])).toBe(0);
  });

  it("an invite-and-withdraw loop tells the invitee once a day, and their no is final", async () => {
    const admin = await createUser();
    const target = await createUser();
    const [group] = await rpc<{ id: string }>(admin, "select id from public.create_group_conversation('Loop')");
    for (let i = 0; i < 10; i += 1) {
      await rpc(admin, "select public.add_conversation_members($1, $2::uuid[])", [group!.id, [target.id]]);
      await rpc(admin, "select public.remove_conversation_member($1, $2)", [group!.id, target.id]);
    }
    await rpc(admin, "select public.add_conversation_members($1, $2::uuid[])", [group!.id, [target.id]]);
    expect(await count("select count(*) as n from public.notifications where user_id = $1 and type = 'group_invitation'", [target.id])).toBe(1);
    const [invitation] = await rpc<{ id: string }>(target, "select id from public.my_group_invitations()");
    await rpc(target, "select public.decline_group_invitation($1)", [invitation!.id]);
    await rpc(admin, "select public.add_conversation_members($1, $2::uuid[])", [group!.id, [target.id]]);
    expect(await rpc(target, "select id from public.my_group_invitations()")).toEqual([]);
    expect(await count("select count(*) as n from public.conversation_members where conversation_id = $1 and user_id = $2", [group!.id, target.id])).toBe(0);
  });

  it("nobody joins a group by answering someone else's invitation, and anonymous callers answer nothing", async () => {
    const admin = await createUser();
    const [invitee, intruder] = [await createUser(), await createUser()];
    const [group] = await rpc<{ id: string }>(admin, "select id from public.create_group_conversation('Private', $1::uuid[])", [[invitee.id]]);
    const [invitation] = await rpc<{ id: string }>(invitee, "select id from public.my_group_invitations()");
    expect(await failure(rpc(intruder, "select public.accept_group_invitation($1)", [invitation!.id]))).toMatchObject({ code: "22023", hint: "invitation_not_found" });
    expect(await rpc(intruder, "select id from public.group_invitations")).toEqual([]);
    expect(await count("select count(*) as n from public.conversation_members where conversation_id = $1", [group!.id])).toBe(1);
  });
});
