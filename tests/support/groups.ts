/**
 * Group chats for tests. People who do not follow the admin adding them are only invited
 * (docs/chat.md, "Consent"), so a test that needs members makes them follow the owner first —
 * as the platform would record it — and then creates the group as the owner:
 *
 *   const groupId = await groupWithMembers(maya, [tom, sam], "Climbers");
 */
import { ownerQuery, asUser } from "./db.ts";
import type { TestUser } from "./users.ts";

export async function groupWithMembers(owner: TestUser, members: readonly TestUser[], title = "Test group"): Promise<string> {
  await ownerQuery(
    "insert into public.follows (follower_id, followee_id) select unnest($1::uuid[]), $2 on conflict do nothing",
    [members.map((m) => m.id), owner.id]);
  return asUser(owner.claims, async (db) =>
    (await db.query<{ id: string }>("select id from public.create_group_conversation($1, $2::uuid[])",
      [title, members.map((m) => m.id)])).rows[0]!.id);
}
