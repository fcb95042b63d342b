/**
 * Events, ticket types and bookings for tests, made the way a host and guests make them through
 * the Data API (every call below is one PostgREST-like request via `asUser`):
 *
 *   const host = await createHost();
 *   const event = await createEvent(host, { refund_policy: "strict" });
 *   const tt = await addTicketType(host, event.id, { price_cents: 1500, capacity: 20 });
 *   await publishEvent(host, event.id);
 *   const booking = await bookEvent(guest, event.id, tt, 2, "key-1");
 *   const err = await failure(bookEvent(other, event.id, tt, 1));   // failure() from ./db.ts
 *
 * Races need real parallel connections: `racingClients(n)` opens its own pool of n connections
 * (warmed up, so the race is not a race to connect) and runs requests on it exactly as asUser
 * does. End it with `.end()`.
 */
import pg from "pg";
import type { RequestClaims } from "../../functions/_shared/db.ts";
import { asUser, authAdminPool, ownerQuery, requestOn, transaction } from "./db.ts";
import { type GoTrueClaims, signJwt, userClaims } from "./jwt.ts";
import { testEnv } from "./env.ts";
import { createUser, type TestUser, uniqueSuffix } from "./users.ts";

/** A host whose Stripe account can receive payouts (so paid events can be published). */
export async function createHost(prefix = "host"): Promise<TestUser> {
  const host = await createUser({ username: `${prefix}_${uniqueSuffix()}` });
  await ownerQuery(
    "update public.profiles set is_host = true, host_status = 'active', payouts_enabled = true where id = $1",
    [host.id],
  );
  return host;
}

/**
 * `n` guests with unique usernames `<prefix>_<run>_<i>`, made as `createUser` makes them (auth
 * user + email identity, profile from the sign-up trigger, claims through the access-token
 * hook) but in a few bulk statements instead of three round trips per user.
 */
export async function createGuests(n: number, prefix = "guest"): Promise<TestUser[]> {
  const run = uniqueSuffix().slice(0, 8);
  const people = Array.from({ length: n }, (_, i) => {
    const id = crypto.randomUUID();
    const username = `${prefix}_${run}_${i}`;
    return { id, username, email: `${username}@example.test` };
  });
  // Sign-up costs tens of milliseconds of CPU per user (the profile trigger checks the time
  // zone against pg_timezone_names), so spread the work over the pool's connections.
  const chunk = Math.ceil(n / 4);
  const chunks = Array.from({ length: Math.ceil(n / chunk) }, (_, k) => people.slice(k * chunk, (k + 1) * chunk));
  return (await Promise.all(chunks.map(signUp))).flat();
}

async function signUp(people: { id: string; username: string; email: string }[]): Promise<TestUser[]> {
  const appMetadata = { provider: "email", providers: ["email"] };
  const base = people.map((p) =>
    userClaims({ id: p.id, email: p.email, app_metadata: appMetadata, user_metadata: { username: p.username } }));
  // As GoTrue: connected as supabase_auth_admin, it inserts the users and runs the hook.
  const rows = await transaction(authAdminPool(), async (client) => {
    await client.query(
      `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                               raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at)
       select '00000000-0000-0000-0000-000000000000', p.id, 'authenticated', 'authenticated', p.email, '', now(),
              $4::jsonb, jsonb_build_object('username', p.username), now(), now(), now()
         from unnest($1::uuid[], $2::text[], $3::text[]) as p (id, email, username)`,
      [people.map((p) => p.id), people.map((p) => p.email), people.map((p) => p.username), JSON.stringify(appMetadata)],
    );
    await client.query(
      `insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
       select p.id::text, p.id, jsonb_build_object('sub', p.id, 'email', p.email, 'email_verified', true, 'phone_verified', false),
              'email', now(), now(), now()
         from unnest($1::uuid[], $2::text[]) as p (id, email)`,
      [people.map((p) => p.id), people.map((p) => p.email)],
    );
    const { rows } = await client.query<{ out: { claims?: GoTrueClaims } }>(
      `select public.custom_access_token_hook(jsonb_build_object('user_id', c ->> 'sub', 'claims', c,
                                                                 'authentication_method', 'password')) as out
         from jsonb_array_elements($1::jsonb) with ordinality as t (c, n) order by n`,
      [JSON.stringify(base)],
    );
    return rows;
  });
  return Promise.all(people.map(async (p, i) => {
    const claims = rows[i]?.out.claims ?? base[i]!;
    return { id: p.id, email: p.email, username: p.username, claims, token: await signJwt(claims) };
  }));
}

export interface EventInput {
  title?: string;
  starts_at?: Date;
  ends_at?: Date;
  timezone?: string;
  visibility?: "public" | "unlisted" | "followers" | "private";
  requires_approval?: boolean;
  refund_policy?: "flexible" | "moderate" | "strict" | "none";
}

export interface EventRow {
  id: string;
  host_id: string;
  status: string;
  starts_at: Date;
  ends_at: Date;
  refund_policy: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** A draft event, by default a public one in Lisbon starting in 30 days and lasting 3 hours. */
export async function createEvent(host: TestUser, input: EventInput = {}): Promise<EventRow> {
  const startsAt = input.starts_at ?? new Date(Date.now() + 30 * DAY_MS);
  const endsAt = input.ends_at ?? new Date(startsAt.getTime() + 3 * 3600 * 1000);
  const { rows } = await asUser(host.claims, (db) =>
    db.query<EventRow>(
      `insert into public.events (title, starts_at, ends_at, timezone, venue_name, address, city, location,
                                  visibility, requires_approval, refund_policy)
       values ($1, $2, $3, $4, 'Musicbox', 'Rua Nova do Carvalho 24', 'Lisboa', 'POINT(-9.1446 38.7069)', $5, $6, $7)
       returning id, host_id, status, starts_at, ends_at, refund_policy`,
      [
        input.title ?? `Night market ${uniqueSuffix()}`,
        startsAt,
        endsAt,
        input.timezone ?? "Europe/Lisbon",
        input.visibility ?? "public",
        input.requires_approval ?? false,
        input.refund_policy ?? "moderate",
      ],
    ));
  const row = rows[0];
  if (row === undefined) throw new Error("creating the event returned no row");
  return row;
}

export interface TicketTypeInput {
  name?: string;
  price_cents?: number;
  currency?: string;
  capacity?: number;
  max_per_booking?: number;
}

/** Adds a ticket type (default: free, EUR, 10 seats, 10 per booking); returns its id. */
export async function addTicketType(host: TestUser, eventId: string, input: TicketTypeInput = {}): Promise<string> {
  const { rows } = await asUser(host.claims, (db) =>
    db.query<{ id: string }>(
      `insert into public.ticket_types (event_id, name, price_cents, currency, capacity, max_per_booking)
       values ($1, $2, $3, $4, $5, $6) returning id`,
      [
        eventId,
        input.name ?? "General admission",
        input.price_cents ?? 0,
        input.currency ?? "EUR",
        input.capacity ?? 10,
        input.max_per_booking ?? Math.min(10, input.capacity ?? 10),
      ],
    ));
  const row = rows[0];
  if (row === undefined) throw new Error("adding the ticket type returned no row");
  return row.id;
}

export async function publishEvent(host: TestUser, eventId: string): Promise<void> {
  await asUser(host.claims, (db) => db.query("select * from public.publish_event($1)", [eventId]));
}

/** A published event with one ticket type. */
export async function publishedEvent(
  host: TestUser,
  event: EventInput = {},
  ticket: TicketTypeInput = {},
): Promise<{ event: EventRow; ticketTypeId: string }> {
  const row = await createEvent(host, event);
  const ticketTypeId = await addTicketType(host, row.id, ticket);
  await publishEvent(host, row.id);
  return { event: row, ticketTypeId };
}

export interface BookingRow {
  id: string;
  event_id: string;
  ticket_type_id: string;
  guest_id: string;
  quantity: number;
  status: string;
  amount_cents: string;
  currency: string;
  hold_expires_at: Date | null;
  check_in_code: string;
}

export const BOOK_SQL = "select * from public.book_event($1, $2, $3, $4)";

/** book_event as `guest` in its own request. */
export async function bookEvent(
  guest: TestUser,
  eventId: string,
  ticketTypeId: string,
  quantity = 1,
  idempotencyKey: string | null = null,
): Promise<BookingRow> {
  const { rows } = await asUser(guest.claims, (db) =>
    db.query<BookingRow>(BOOK_SQL, [eventId, ticketTypeId, quantity, idempotencyKey]));
  const row = rows[0];
  if (row === undefined) throw new Error("book_event returned no row");
  return row;
}

/** Calls an RPC as `user` and returns its rows. */
export async function rpc<R extends pg.QueryResultRow = pg.QueryResultRow>(
  user: TestUser,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  return (await asUser(user.claims, (db) => db.query<R>(sql, params))).rows;
}

/** Seats left of a ticket type, as the Data API computes it. */
export async function seatsLeft(ticketTypeId: string): Promise<number> {
  const { rows } = await ownerQuery<{ n: number }>("select private.seats_left($1) as n", [ticketTypeId]);
  return rows[0]?.n ?? Number.NaN;
}

export interface InventoryState {
  slots: { slot: number; capacity: number; taken: number }[];
  taken: number;
  capacity: number;
  allocated: number;
}

/** The inventory slots of a ticket type and the seats recorded against its bookings. */
export async function inventory(ticketTypeId: string): Promise<InventoryState> {
  const slots = (await ownerQuery<{ slot: number; capacity: number; taken: number }>(
    "select slot, capacity, taken from private.ticket_inventory where ticket_type_id = $1 order by slot",
    [ticketTypeId],
  )).rows;
  const { rows } = await ownerQuery<{ allocated: number }>(
    "select coalesce(sum(quantity), 0)::int as allocated from private.booking_allocations where ticket_type_id = $1",
    [ticketTypeId],
  );
  return {
    slots,
    taken: slots.reduce((sum, s) => sum + s.taken, 0),
    capacity: slots.reduce((sum, s) => sum + s.capacity, 0),
    allocated: rows[0]?.allocated ?? Number.NaN,
  };
}

/** Makes a held or pending booking's deadline pass (the expiry job then picks it up). */
export async function expireHold(bookingId: string): Promise<void> {
  await ownerQuery("update public.bookings set hold_expires_at = now() - interval '1 minute' where id = $1", [bookingId]);
}

/** Runs the hold-expiry job once; returns how many bookings it expired (pg_cron also runs it every minute). */
export async function runExpiryJob(): Promise<number> {
  const { rows } = await ownerQuery<{ n: number }>("select private.expire_stale_bookings() as n");
  return rows[0]?.n ?? 0;
}

/** What the payments capability calls when a held booking's payment succeeded. */
export async function confirmPayment(bookingId: string): Promise<boolean> {
  const { rows } = await ownerQuery<{ ok: boolean }>("select private.confirm_booking_payment($1) as ok", [bookingId]);
  return rows[0]?.ok ?? false;
}

export interface RacingClients {
  /** One request as the JWT's user on a connection of this pool (what asUser does). */
  asUser<T>(claims: RequestClaims, fn: (db: pg.PoolClient) => Promise<T>): Promise<T>;
  end(): Promise<void>;
}

/** A pool of `size` already-open connections for concurrent requests. */
export async function racingClients(size: number): Promise<RacingClients> {
  const pool = new pg.Pool({ connectionString: testEnv("SUPABASE_DB_URL"), max: size, application_name: "rally-tests-race" });
  const warm = await Promise.all(Array.from({ length: size }, () => pool.connect()));
  for (const client of warm) client.release();
  return {
    asUser: (claims, fn) => requestOn(pool, claims, fn),
    end: () => pool.end(),
  };
}
