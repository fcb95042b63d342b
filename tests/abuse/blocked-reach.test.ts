/**
 * Attack class: reaching someone who blocked you (issue 13, finding 6). A blocked person's
 * reminders reached the blocker through a shared group. Now nothing one person causes another to
 * get crosses a block, in either direction (private.notify_from): chat reminders, a guest's
 * cancellation telling the host, group invitations.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ownerQuery, closeTestPools, failure } from "../support/db.ts";
import { bookEvent, createHost, publishedEvent, rpc } from "../support/events.ts";
import { groupWithMembers } from "../support/groups.ts";
import { createUser, type TestUser } from "../support/users.ts";

afterAll(async () => {
  await closeTestPools();
});

const reminders = async (user: TestUser): Promise<number> =>
  Number((await ownerQuery<{ n: string }>(
    "select count(*) as n from public.notifications where user_id = $1 and type = 'message_reminder'", [user.id])).rows[0]?.n);

const groupOf = (admin: TestUser, members: TestUser[]): Promise<string> => groupWithMembers(admin, members, "Climbers");

async function fireReminder(setter: TestUser, groupId: string): Promise<void> {
  await rpc(setter, "select public.send_message($1, 'reminder', 'Bring the rope', null, null, now() + interval '1 hour')", [groupId]);
  await ownerQuery("update public.messages set remind_at = now() - interval '1 second' where conversation_id = $1 and kind = 'reminder'", [groupId]);
  await ownerQuery("select private.fire_due_reminders()");
}

describe("a shared group", () => {
  it("does not carry the blocked person's reminders to the blocker; the others still get them", async () => {
    const [admin, blocker, blocked, bystander] = [await createUser(), await createUser(), await createUser(), await createUser()];
    const group = await groupOf(admin, [blocker, blocked, bystander]);
    await rpc(blocker, "select public.block_user($1)", [blocked.id]);
    await fireReminder(blocked, group);
    expect(await reminders(blocker)).toBe(0);
    expect(await reminders(bystander)).toBe(1);
    expect(await reminders(admin)).toBe(1);
    expect(await reminders(blocked)).toBe(1);
  });

  it("nor the reminders of someone the member blocked from the other side", async () => {
    const [admin, member, setter] = [await createUser(), await createUser(), await createUser()];
    const group = await groupOf(admin, [member, setter]);
    await rpc(setter, "select public.block_user($1)", [member.id]);
    await fireReminder(setter, group);
    expect(await reminders(member)).toBe(0);
    expect(await reminders(admin)).toBe(1);
  });
});

describe("a host who blocked a guest", () => {
  it("is not told when that guest cancels, and the guest cannot invite the host to a group", async () => {
    const host = await createHost("blocker");
    const { event, ticketTypeId } = await publishedEvent(host);
    const guest = await createUser();
    const booking = await bookEvent(guest, event.id, ticketTypeId);
    await rpc(host, "select public.block_user($1)", [guest.id]);
    await rpc(guest, "select public.cancel_booking($1)", [booking.id]);
    expect((await ownerQuery("select status from public.bookings where id = $1", [booking.id])).rows).toEqual([{ status: "cancelled" }]);
    expect((await ownerQuery("select count(*)::int as n from public.notifications where user_id = $1 and type = 'guest_cancelled'", [host.id])).rows)
      .toEqual([{ n: 0 }]);
    expect(await failure(rpc(guest, "select public.create_group_conversation('Hi', $1::uuid[])", [[host.id]])))
      .toMatchObject({ code: "P0001", hint: "blocked" });
    expect((await ownerQuery("select count(*)::int as n from public.group_invitations where user_id = $1", [host.id])).rows).toEqual([{ n: 0 }]);
  });
});
