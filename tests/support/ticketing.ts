/**
 * Promo codes, invitations and transfers for tests, made the way hosts and guests make them
 * through the Data API (each call one PostgREST-like request via `asUser`):
 *
 *   const code = await addPromoCode(host, event.id, { code: "EARLY", percent_off: 20, max_redemptions: 15 });
 *   const booking = await bookWithCode(guest, event.id, ticketTypeId, 2, "early");
 *   const link = await createInviteLink(host, event.id, 5);
 */
import { asUser } from "./db.ts";
import type { BookingRow } from "./events.ts";
import type { TestUser } from "./users.ts";

export interface PromoCodeInput {
  code: string;
  percent_off?: number;
  amount_off_cents?: number;
  ticket_type_id?: string;
  max_redemptions?: number;
  per_guest_limit?: number;
}

/** The host (or a managing co-host) adds a promo code; returns its id. */
export async function addPromoCode(host: TestUser, eventId: string, input: PromoCodeInput): Promise<string> {
  const { rows } = await asUser(host.claims, (db) =>
    db.query<{ id: string }>(
      `insert into public.promo_codes (event_id, code, percent_off, amount_off_cents, ticket_type_id, max_redemptions, per_guest_limit)
       values ($1, $2, $3, $4, $5, $6, $7) returning id`,
      [eventId, input.code, input.percent_off ?? null, input.amount_off_cents ?? null, input.ticket_type_id ?? null,
       input.max_redemptions ?? null, input.per_guest_limit ?? null],
    ));
  const row = rows[0];
  if (row === undefined) throw new Error("adding the promo code returned no row");
  return row.id;
}

export interface PromoBookingRow extends BookingRow {
  list_amount_cents: string;
  discount_cents: string;
  promo_code_id: string | null;
}

/** book_event with a promo code (the trailing p_promo_code). */
export const BOOK_WITH_CODE_SQL = "select * from public.book_event($1, $2, $3, $4, null, $5)";

export async function bookWithCode(
  guest: TestUser, eventId: string, ticketTypeId: string, quantity: number, code: string, idempotencyKey: string | null = null,
): Promise<PromoBookingRow> {
  const { rows } = await asUser(guest.claims, (db) =>
    db.query<PromoBookingRow>(BOOK_WITH_CODE_SQL, [eventId, ticketTypeId, quantity, idempotencyKey, code]));
  const row = rows[0];
  if (row === undefined) throw new Error("book_event returned no row");
  return row;
}

/** The host makes an invite link; returns its id and token. */
export async function createInviteLink(host: TestUser, eventId: string, maxUses: number | null = null): Promise<{ id: string; token: string }> {
  const { rows } = await asUser(host.claims, (db) =>
    db.query<{ id: string; token: string }>("select id, token from public.create_invite_link($1, $2)", [eventId, maxUses]));
  const row = rows[0];
  if (row === undefined) throw new Error("create_invite_link returned no row");
  return row;
}
