/**
 * The small world the fuzzers attack: five actors (the anon key, a plain guest, a host, an
 * admin, and a "ghost" — a valid token whose account no longer exists) and, owned by them and by a fifth user nobody acts as (the "victim"), one of each
 * thing the API works on — published free and paid events, a draft, an approval-required one,
 * bookings in several states, a waitlist entry, direct, group and event conversations with
 * messages, follows, a block, notifications, a share link and a report; a private event with an
 * invitation and an invite link, promo codes and a hidden tier, named seats and a transfer offer. Everything is made
 * through the API the way apps make it (asUser), except what only Stripe or an operator does.
 *
 *   const world = await buildWorld();
 *   world.actors            // [{ name: "anon", claims }, { name: "guest", … }, …, { name: "ghost", … }]
 *   world.pools.uuid        // every uuid the world's rows hold (other people's ids included)
 *   world.pools.text        // short text values of those rows (codes, usernames, statuses, …)
 *
 * The pools are harvested from the catalog, not listed by hand: every uuid and short text column
 * of every table in `public` and `private`, restricted to rows written while the world was built
 * (their `xmin` is at least the transaction id read before), so a table a later migration adds
 * contributes without a change here, and nothing outside the world (seed data, other suites) is
 * ever targeted.
 */
import type { RequestClaims } from "../../../functions/_shared/db.ts";
import { ownerQuery, asUser } from "../db.ts";
import { createHost, createEvent, addTicketType, publishEvent, bookEvent } from "../events.ts";
import { createUser, issueAccessToken, type TestUser, uniqueSuffix } from "../users.ts";

export type ActorName = "anon" | "guest" | "host" | "admin" | "ghost";

export interface Actor {
  name: ActorName;
  claims: RequestClaims;
  /** The user behind the actor (not for anon). */
  user: TestUser | null;
}

export interface Pools {
  /** Every uuid of the world. */
  uuid: string[];
  /** Every short text value of the world. */
  text: string[];
  /** The same, by the column they came from (see `Harvest`). */
  uuidByColumn: Map<string, string[]>;
  textByColumn: Map<string, string[]>;
  /** Cursors returned by list RPCs (added as the fuzzer sees them). */
  cursor: string[];
}

export interface World {
  actors: Actor[];
  guest: TestUser;
  host: TestUser;
  admin: TestUser;
  victim: TestUser;
  pools: Pools;
  /** Rows of a composite type (a table's or view's row type) as JSON, for row-typed parameters. */
  rowsOf(typeOid: number): Promise<string[]>;
  /** Adds what a successful call returned to the pools (uuids, cursors, short codes). */
  learn(rows: Record<string, unknown>[]): void;
  /**
   * Lifts a suspension the fuzzer itself imposed on the guest or host (admin_suspend_user with a
   * real id is a legitimate success), through admin_unsuspend_user as the admin; otherwise every
   * later request of that actor would stop at account_suspended and never reach the code under
   * test. True when it changed anything.
   */
  restoreActors(): Promise<boolean>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const POOL_LIMIT = 400;

const call = <T extends Record<string, unknown>>(user: TestUser, sql: string, params: unknown[] = []): Promise<T[]> =>
  asUser(user.claims, async (db) => (await db.query<T>(sql, params)).rows);

async function currentXid(): Promise<string> {
  const { rows } = await ownerQuery<{ x: string }>("select (pg_catalog.txid_current() % 4294967296)::text as x");
  return rows[0]?.x ?? "0";
}

async function makeThings(guest: TestUser, host: TestUser, admin: TestUser, victim: TestUser): Promise<void> {
  const day = 24 * 3600 * 1000;
  // Events: a free one and a paid one (published), a draft, and one needing approval.
  const free = await createEvent(host, { title: "Fuzz free night" });
  const freeTicket = await addTicketType(host, free.id, { capacity: 50, max_per_booking: 5 });
  await publishEvent(host, free.id);
  const paid = await createEvent(host, { title: "Fuzz paid night", refund_policy: "flexible" });
  const paidTicket = await addTicketType(host, paid.id, { price_cents: 2500, currency: "EUR", capacity: 20, max_per_booking: 4 });
  await publishEvent(host, paid.id);
  const draft = await createEvent(host, { title: "Fuzz draft", starts_at: new Date(Date.now() + 60 * day) });
  await addTicketType(host, draft.id, { capacity: 5 });
  const approval = await createEvent(host, { title: "Fuzz approval", requires_approval: true });
  const approvalTicket = await addTicketType(host, approval.id, { capacity: 5 });
  await publishEvent(host, approval.id);
  const tiny = await createEvent(host, { title: "Fuzz sold out" });
  const tinyTicket = await addTicketType(host, tiny.id, { capacity: 1, max_per_booking: 1 });
  await publishEvent(host, tiny.id);

  // A weekly series of three dates (what the event-series function makes), a calendar feed, a
  // payout schedule.
  const series = await createEvent(host, { title: "Fuzz series", starts_at: new Date(Date.now() + 20 * day) });
  await addTicketType(host, series.id, { capacity: 10 });
  await publishEvent(host, series.id);
  await call(host, `select * from private.create_event_series($1, 'FREQ=WEEKLY;COUNT=3',
                      (select array[l, l + interval '7 days', l + interval '14 days'] from (select starts_at_local as l from private.events where id = $1) x), false)`,
    [series.id]);
  await call(guest, "select * from public.create_calendar_feed()");
  await call(host, "select * from public.set_payout_schedule('manual')");

  // Bookings: confirmed, held (paid), pending approval, cancelled; a sold-out event's waitlist.
  await bookEvent(victim, free.id, freeTicket, 2, `fuzz-${uniqueSuffix()}`);
  await bookEvent(guest, free.id, freeTicket, 1);
  await bookEvent(victim, paid.id, paidTicket, 1);
  await bookEvent(victim, approval.id, approvalTicket, 1);
  const cancelled = await bookEvent(guest, approval.id, approvalTicket, 1);
  await call(guest, "select public.cancel_booking($1)", [cancelled.id]);
  await bookEvent(victim, tiny.id, tinyTicket, 1);
  await call(guest, "select public.join_waitlist($1, $2, 1)", [tiny.id, tinyTicket]);

  // Ticketing: a private event the guest is invited to, with an invite link; a promo code and a
  // hidden tier with its code on the paid event; a party booking with named seats, one of them
  // offered to the guest.
  const secret = await createEvent(host, { title: "Fuzz private", visibility: "private" });
  await addTicketType(host, secret.id, { capacity: 10 });
  await publishEvent(host, secret.id);
  await call(host, "select * from public.invite_to_event($1, $2::uuid[])", [secret.id, [guest.id]]);
  await call(host, "select * from public.create_invite_link($1, 5)", [secret.id]);
  const [crew] = await call<{ id: string }>(host,
    "insert into public.ticket_types (event_id, name, price_cents, currency, capacity, hidden) values ($1, 'Fuzz crew', 1000, 'EUR', 5, true) returning id",
    [paid.id]);
  await call(host, "insert into public.promo_codes (event_id, code, percent_off, max_redemptions) values ($1, 'FUZZ20', 20, 10)", [paid.id]);
  await call(host, "insert into public.promo_codes (event_id, code, percent_off, ticket_type_id) values ($1, 'FUZZCREW', 0, $2)", [paid.id, crew?.id]);
  const party = await createEvent(host, { title: "Fuzz party" });
  const partyTicket = await addTicketType(host, party.id, { capacity: 10, max_per_booking: 3 });
  await publishEvent(host, party.id);
  const seats = await bookEvent(victim, party.id, partyTicket, 3);
  await call(victim, "select * from public.name_attendees($1, $2::jsonb)", [seats.id, JSON.stringify(["Vic", "Val", "Vera"])]);
  await call(victim, "select * from public.transfer_booking($1, $2, 2)", [seats.id, guest.id]);

  // Social: follows (which notify), a block, a share link, a report.
  await call(victim, "select public.follow_user($1)", [host.id]);
  await call(guest, "select public.follow_user($1)", [victim.id]);
  await call(host, "select public.follow_user($1)", [guest.id]);
  await call(host, "select public.follow_user($1)", [victim.id]); // so the victim may put the host in a group
  await call(admin, "select public.follow_user($1)", [victim.id]);
  await call(victim, "select public.block_user($1)", [admin.id]);
  await call(host, "select * from public.create_share_link($1)", [free.id]);

  // Chat: a direct conversation and a group the guest is not in, with messages; event chat.
  const [dm] = await call<{ id: string }>(victim, "select id from public.start_direct_conversation($1)", [host.id]);
  const [group] = await call<{ id: string }>(victim, "select id from public.create_group_conversation('Fuzz group', $1::uuid[])", [[host.id]]);
  for (const conversation of [dm?.id, group?.id]) {
    const [first] = await call<{ id: string }>(victim, "select id from public.send_message($1, 'text', 'hello there')", [conversation]);
    await call(host, "select id from public.send_message($1, 'text', 'hi back', null, null, null, $2)", [conversation, first?.id]);
    await call(victim, "select id from public.send_message($1, 'event', null, null, $2)", [conversation, free.id]);
  }
  const [guestDm] = await call<{ id: string }>(guest, "select id from public.start_direct_conversation($1)", [host.id]);
  await call(guest, "select id from public.send_message($1, 'text', 'is there parking?')", [guestDm?.id]);
  const [message] = await call<{ id: string }>(victim, "select id from public.messages order by created_at desc limit 1");
  await call(guest, "select public.report_content('user', $1, 'spam')", [victim.id]);
  if (message !== undefined) await call(host, "select public.report_content('message', $1, 'rude')", [message.id]);
}

/** Harvested values, by the column they came from (a table's own `id` counts as `<table minus s>_id`). */
export interface Harvest {
  uuid: Map<string, string[]>;
  text: Map<string, string[]>;
}

function put(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key) ?? [];
  if (!list.includes(value)) list.push(value);
  map.set(key, list);
}

/**
 * Every uuid and short text value of the rows written since `xid` in `public` and `private`
 * tables; text also from small reference tables (under 100 rows: currencies, notification
 * types…) whoever wrote them; and the words check constraints allow, by column.
 */
async function harvest(xid: string): Promise<Harvest> {
  const { rows: columns } = await ownerQuery<{ rel: string; table: string; col: string; name: string; kind: string }>(
    `select format('%I.%I', n.nspname, c.relname) as rel, c.relname as table, format('%I', a.attname) as col, a.attname as name,
            case when a.atttypid = 'uuid'::regtype then 'uuid' else 'text' end as kind
       from pg_catalog.pg_attribute a
       join pg_catalog.pg_class c on c.oid = a.attrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('public', 'private') and c.relkind in ('r', 'p') and not c.relispartition
        and a.attnum > 0 and not a.attisdropped
        and (a.atttypid in ('uuid'::regtype, 'text'::regtype, 'character varying'::regtype)
             or a.atttypid = to_regtype('extensions.citext'))`,
  );
  const found: Harvest = { uuid: new Map(), text: new Map() };
  const tables = [...new Set(columns.map((c) => c.rel))];
  const { rows: sizes } = await ownerQuery<{ rel: string; n: number }>(
    tables.map((t) => `select '${t}' as rel, (select count(*) from (select 1 from ${t} limit 100) y)::int as n`).join(" union all "));
  const small = new Set(sizes.filter((r) => r.n < 100).map((r) => r.rel));
  const parts = columns.map((c, i) => {
    const recent = `x.xmin::text::bigint >= ${Number(xid)}`;
    const where = c.kind === "uuid" ? recent : `length(${c.col}::text) <= 80${small.has(c.rel) ? "" : ` and ${recent}`}`;
    return `(select ${i} as i, ${c.col}::text as v from ${c.rel} x where ${c.col} is not null and ${where} limit 40)`;
  });
  for (let i = 0; i < parts.length; i += 40) {
    const { rows } = await ownerQuery<{ i: number; v: string }>(parts.slice(i, i + 40).join(" union all "));
    for (const row of rows) {
      const c = columns[row.i];
      if (c === undefined) continue;
      const key = c.name === "id" ? `${c.table.replace(/s$/, "")}_id` : c.name;
      put(c.kind === "uuid" ? found.uuid : found.text, key, row.v);
    }
  }
  const { rows: checks } = await ownerQuery<{ def: string }>(
    `select pg_catalog.pg_get_constraintdef(c.oid) as def from pg_catalog.pg_constraint c
      where c.contype = 'c' and c.connamespace in ('public'::regnamespace, 'private'::regnamespace)`,
  );
  for (const { def } of checks) {
    for (const m of def.matchAll(/\((\w+) = ANY \(ARRAY\[([^\]]*)\]\)\)/g)) {
      for (const w of (m[2] ?? "").matchAll(/'([^']*)'::text/g)) put(found.text, m[1] ?? "", w[1] ?? "");
    }
  }
  return found;
}

/**
 * Rows of the relation behind a composite type, as JSON (for row-typed parameters such as a
 * computed field's): the world's rows for a table, any rows for a view.
 */
async function rowSamples(typeOid: number, xid: string): Promise<string[]> {
  const { rows: [rel] } = await ownerQuery<{ name: string; kind: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name, c.relkind::text as kind
       from pg_catalog.pg_type t join pg_catalog.pg_class c on c.oid = t.typrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace where t.oid = $1`, [typeOid]);
  if (rel === undefined) return [];
  const filter = rel.kind === "r" || rel.kind === "p" ? `where x.xmin::text::bigint >= ${Number(xid)}` : "";
  const { rows } = await ownerQuery<{ j: string }>(`select to_jsonb(x)::text as j from ${rel.name} x ${filter} limit 5`);
  return rows.map((r) => r.j);
}

export async function buildWorld(): Promise<World> {
  const xid = await currentXid();
  const suffix = uniqueSuffix().slice(0, 8);
  const guest = await createUser({ username: `fz_guest_${suffix}` });
  const victim = await createUser({ username: `fz_victim_${suffix}` });
  const hostUser = await createHost(`fz_host`);
  const host = { ...hostUser, ...(await issueAccessToken(hostUser.id)) };
  const admin = await createUser({ username: `fz_admin_${suffix}`, appMetadata: { role: "admin" } });
  await makeThings(guest, host, admin, victim);
  const harvested = await harvest(xid);
  const pools: Pools = {
    uuid: [...new Set([...harvested.uuid.values()].flat())],
    text: [...new Set([...harvested.text.values()].flat())],
    uuidByColumn: harvested.uuid,
    textByColumn: harvested.text,
    cursor: [],
  };
  const add = (pool: string[], value: string): void => {
    if (pool.includes(value)) return;
    if (pool.length >= POOL_LIMIT) pool.splice(Math.floor(pool.length / 2), 1);
    pool.push(value);
  };
  return {
    actors: [
      { name: "anon", claims: { role: "anon", iss: "supabase-demo" }, user: null },
      { name: "guest", claims: guest.claims, user: guest },
      { name: "host", claims: host.claims, user: host },
      { name: "admin", claims: admin.claims, user: admin },
      // A signed-in user whose account is gone: access tokens outlive a deleted account by up
      // to an hour, so every RPC must refuse such a caller cleanly.
      { name: "ghost", claims: { ...guest.claims, sub: crypto.randomUUID(), email: "ghost@example.test" }, user: null },
    ],
    guest, host, admin, victim, pools,
    rowsOf: (typeOid) => rowSamples(typeOid, xid),
    async restoreActors() {
      const { rows } = await ownerQuery<{ user_id: string }>(
        "select user_id from private.user_suspensions where lifted_at is null and user_id = any($1::uuid[])", [[guest.id, host.id]]);
      for (const row of rows) {
        await call(admin, "select * from public.admin_unsuspend_user($1, 'fuzz: keep the actors able to act')", [row.user_id]);
      }
      return rows.length > 0;
    },
    learn(resultRows) {
      for (const row of resultRows.slice(0, 20)) {
        for (const [column, value] of Object.entries(row)) {
          if (typeof value !== "string") continue;
          if (column === "cursor" || column.endsWith("_cursor")) add(pools.cursor, value);
          else if (UUID.test(value)) add(pools.uuid, value);
          else if (column === "code" && value.length <= 80) add(pools.text, value);
        }
      }
    },
  };
}
