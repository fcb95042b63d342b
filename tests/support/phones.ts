/**
 * Phones as users confirm them: `set_phone_number`, the code the contact-points function would
 * text (private.issue_phone_verification, as the service role), then `verify_phone_number` with
 * it. Nothing is sent to an unconfirmed number, so tests that expect SMS or WhatsApp confirm first:
 *
 *   await confirmPhone(alice, "+447400123456");
 */
import { asServiceRole, asUser } from "./db.ts";
import type { TestUser } from "./users.ts";

export async function confirmPhone(user: TestUser, phone: string): Promise<void> {
  await asUser(user.claims, (db) => db.query("select public.set_phone_number($1)", [phone]));
  const code = await asServiceRole(async (db) =>
    (await db.query<{ code: string }>("select code from private.issue_phone_verification($1)", [user.id])).rows[0]!.code);
  const verified = await asUser(user.claims, async (db) =>
    (await db.query<{ verified: boolean }>("select verified from public.verify_phone_number($1)", [code])).rows[0]!.verified);
  if (!verified) throw new Error(`could not confirm ${phone}`);
}
