/**
 * A fault-injecting TCP proxy for PostgreSQL, on 127.0.0.1, for the fault-injection gate
 * (tests/faults). Code under test (the edge functions' pool) connects to `proxy.url` instead of
 * the database; the proxy forwards bytes both ways and, when armed, cuts the connection at a
 * chosen query:
 *
 *   const proxy = await startPgFaultProxy(testEnv("SUPABASE_DB_URL"));
 *   proxy.arm({ atQuery: 3, when: "after_query" });   // the 3rd query from now
 *   …call the function…                                // it loses its connection there
 *   proxy.disarm();
 *
 * It reads the frontend protocol (the client → server stream) just enough to count queries: a
 * simple-protocol Query ('Q') is one, and so is each extended-protocol Sync ('S', which ends a
 * Parse/Bind/Describe/Execute group — node-postgres sends one per parameterised query). The
 * messages of an extended group are held back until its Sync, so a cut never leaves half a
 * group at the server.
 *
 *   when "before_query": the k-th query never reaches PostgreSQL; both sockets are destroyed.
 *     The server sees the client vanish and rolls back any open transaction.
 *   when "after_query":  the k-th query is forwarded and PostgreSQL runs it to the end (the
 *     proxy waits for its ReadyForQuery), but the answer is swallowed and both sockets are
 *     destroyed. For a COMMIT this is the indeterminate case: committed, yet the client only
 *     sees "Connection terminated".
 *
 * Counting is global across the proxy's connections (k counts from `arm()`), so a single
 * sequential caller is cut deterministically. `down()` refuses every connection (accepts and
 * drops it at once, as a restarting server does) until `up()`. It is a test stand-in for a
 * flaky network, nothing more: it never rewrites a byte it forwards.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface PgFault {
  /** 1-based: the k-th query through the proxy after `arm()`. */
  atQuery: number;
  when: "before_query" | "after_query";
}

export interface PgCut {
  query: number;
  when: PgFault["when"];
  /** The first characters of the SQL text of the cut query, when the proxy could read it. */
  sql: string;
}

export interface PgFaultProxy {
  /** The upstream URL with host and port replaced by the proxy's. */
  readonly url: string;
  readonly port: number;
  /** Queries counted since the last `arm()` / `resetCount()`. */
  readonly queries: number;
  /** Every cut made so far (oldest first). */
  readonly cuts: readonly PgCut[];
  /** SQL text of the queries counted since `arm()`, when `record` was asked for. */
  readonly log: readonly string[];
  arm(fault: PgFault, options?: { record?: boolean }): void;
  disarm(): void;
  /** Counts from zero without a fault (to learn how many queries a call makes). */
  resetCount(options?: { record?: boolean }): void;
  /** Cuts every open connection now. */
  cutAll(): void;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

/** How long `after_query` waits for PostgreSQL's answer before cutting anyway. */
const ANSWER_DEADLINE_MS = 5_000;

interface Message {
  type: string;
  bytes: Buffer;
}

/** The first complete message of `buffer` (untyped during startup), or null. */
function takeOne(buffer: Buffer, untyped: boolean): { message: Message; rest: Buffer } | null {
  if (untyped) {
    if (buffer.length < 4) return null;
    const length = buffer.readInt32BE(0);
    if (buffer.length < length) return null;
    return { message: { type: "", bytes: buffer.subarray(0, length) }, rest: buffer.subarray(length) };
  }
  if (buffer.length < 5) return null;
  const length = buffer.readInt32BE(1);
  if (buffer.length < length + 1) return null;
  const bytes = buffer.subarray(0, length + 1);
  return { message: { type: String.fromCharCode(bytes[0] ?? 0), bytes }, rest: buffer.subarray(length + 1) };
}

/** Every complete typed message of `buffer`. */
function takeMessages(buffer: Buffer): { messages: Message[]; rest: Buffer } {
  const messages: Message[] = [];
  let rest = buffer;
  for (let next = takeOne(rest, false); next !== null; next = takeOne(rest, false)) {
    messages.push(next.message);
    rest = next.rest;
  }
  return { messages, rest };
}

/** SSLRequest / GSSENCRequest: the client sends another untyped message after the answer. */
const isNegotiation = (bytes: Buffer): boolean =>
  bytes.length === 8 && [80877103, 80877104].includes(bytes.readInt32BE(4));

/** The SQL of a Query or Parse message (for logs and assertions), shortened. */
function sqlOf(messages: readonly Message[]): string {
  for (const m of messages) {
    if (m.type === "Q") return m.bytes.subarray(5, m.bytes.length - 1).toString("utf8").trim().slice(0, 120);
    if (m.type === "P") {
      const body = m.bytes.subarray(5);
      const nameEnd = body.indexOf(0);
      const queryEnd = body.indexOf(0, nameEnd + 1);
      return body.subarray(nameEnd + 1, queryEnd).toString("utf8").trim().slice(0, 120);
    }
  }
  return "";
}

export async function startPgFaultProxy(upstreamUrl: string): Promise<PgFaultProxy> {
  const upstream = new URL(upstreamUrl);
  const upstreamHost = upstream.hostname;
  const upstreamPort = Number(upstream.port === "" ? "5432" : upstream.port);
  const sockets = new Set<Socket>();
  const cuts: PgCut[] = [];
  let log: string[] = [];
  let record = false;
  let fault: PgFault | null = null;
  let counted = 0;
  let refusing = false;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };

  const server: Server = createServer((client) => {
    track(client);
    client.on("error", () => undefined);
    if (refusing) {
      client.destroy();
      return;
    }
    const backend = connect({ host: upstreamHost, port: upstreamPort });
    track(backend);
    backend.on("error", () => client.destroy());
    client.on("close", () => backend.destroy());
    backend.on("close", () => client.destroy());

    let fromClient: Buffer = Buffer.alloc(0);
    let startup = true; // until the StartupMessage: messages carry no type byte
    let held: Message[] = []; // an extended-protocol group waiting for its Sync
    let swallowing = false;
    let fromServer: Buffer = Buffer.alloc(0);
    let deadline: ReturnType<typeof setTimeout> | undefined;

    const cutNow = (): void => {
      if (deadline !== undefined) clearTimeout(deadline);
      client.destroy();
      backend.destroy();
    };

    backend.on("data", (chunk: Buffer) => {
      if (!swallowing) {
        client.write(chunk);
        return;
      }
      // Swallow the answer to the cut query; cut once PostgreSQL says it is done (ReadyForQuery).
      fromServer = Buffer.concat([fromServer, chunk]);
      const { messages, rest } = takeMessages(fromServer);
      fromServer = rest;
      if (messages.some((m) => m.type === "Z")) cutNow();
    });

    const forward = (messages: readonly Message[]): void => {
      if (messages.length > 0) backend.write(Buffer.concat(messages.map((m) => m.bytes)));
    };

    /** A query boundary (Q, or the Sync ending a group): count it, maybe cut. */
    const boundary = (group: Message[]): void => {
      counted += 1;
      const sql = sqlOf(group);
      if (record) log.push(sql);
      const armed = fault;
      if (armed === null || counted !== armed.atQuery) {
        forward(group);
        return;
      }
      fault = null; // one cut per arm()
      cuts.push({ query: counted, when: armed.when, sql });
      if (armed.when === "before_query") {
        cutNow();
        return;
      }
      swallowing = true;
      forward(group);
      deadline = setTimeout(cutNow, ANSWER_DEADLINE_MS);
    };

    client.on("data", (chunk: Buffer) => {
      if (swallowing) return; // the client is being cut; nothing more goes through
      fromClient = Buffer.concat([fromClient, chunk]);
      // One message at a time: the startup phase ends mid-chunk, and changes how messages look.
      for (;;) {
        if (client.destroyed || swallowing) return;
        const next = takeOne(fromClient, startup);
        if (next === null) return;
        fromClient = next.rest;
        if (startup) {
          backend.write(next.message.bytes);
          if (!isNegotiation(next.message.bytes)) startup = false;
        } else {
          handleTyped(next.message);
        }
      }
    });

    const handleTyped = (message: Message): void => {
      if (client.destroyed || swallowing) return;
      switch (message.type) {
        case "P": case "B": case "D": case "E": case "C":
          held.push(message);
          return;
        case "S": {
          const group = [...held, message];
          held = [];
          boundary(group);
          return;
        }
        case "Q":
          boundary([message]);
          return;
        default:
          // Flush, Terminate, password/SASL messages, …: pass through with anything held.
          forward([...held, message]);
          held = [];
      }
    };
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const proxied = new URL(upstreamUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(port);

  const cutAll = (): void => {
    for (const socket of sockets) socket.destroy();
  };

  return {
    url: proxied.toString(),
    port,
    get queries() {
      return counted;
    },
    cuts,
    get log() {
      return log;
    },
    arm(next, options = {}) {
      fault = next;
      counted = 0;
      record = options.record ?? false;
      log = [];
    },
    disarm() {
      fault = null;
      record = false;
    },
    resetCount(options = {}) {
      counted = 0;
      record = options.record ?? false;
      log = [];
    },
    cutAll,
    down() {
      refusing = true;
      cutAll();
    },
    up() {
      refusing = false;
    },
    close: () => new Promise<void>((resolve) => {
      cutAll();
      server.close(() => resolve());
    }),
  };
}
