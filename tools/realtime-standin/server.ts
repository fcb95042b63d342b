/**
 * STAND-IN for Supabase Realtime (Broadcast, Presence, private channels), for the local stack and
 * tests only. It is NOT Supabase Realtime; the status block and README name it a stand-in. It
 * speaks the Phoenix channel protocol as the pinned realtime-js does (vsn 2.0.0, and 1.0.0),
 * following the Realtime server's code (lib/realtime_web/channels/realtime_channel.ex and
 * friends) for what apps use:
 *
 * - Socket: `GET …/websocket?apikey=<jwt>&vsn=2.0.0` upgraded with `ws`; the apikey (or an
 *   `x-api-key` header) must be a project JWT with `role` and `exp`, else HTTP 401
 *   `{"error": …}` as Realtime's handshake answers. Heartbeats on topic `phoenix`; a socket
 *   silent for 60 s is closed (Phoenix's websocket timeout).
 * - Join `realtime:<topic>` with `config.private`, `config.broadcast.{self,ack}`,
 *   `config.presence.{key,enabled}`, `access_token`: the token is checked (expired, malformed,
 *   bad signature, missing claims: Realtime's texts); a private join is authorized by
 *   ./authorization.ts (RLS on realtime.messages), refused with
 *   "Unauthorized: You do not have permissions to read from this Channel topic: <topic>" after
 *   the platform's error back-off (CHANNEL_ERROR_BACKOFF_MS, 5 s by default). Success answers
 *   `{postgres_changes: []}`, then `presence_state` when presence is enabled and readable.
 * - Broadcast from Database: rows of realtime.messages from ./replication.ts, delivered in
 *   commit order to the channels on that topic (private rows to private channels) whose
 *   broadcast read was authorized, as binary user broadcasts with `meta.id`.
 * - Client broadcast: on a private channel only after the insert policy allows it (checked once
 *   per token, as Realtime caches it); refused ones are dropped silently, as Realtime does.
 * - Presence track/untrack (insert policy for `presence` on private channels; the client limit
 *   of 5 presence messages per 30 s), `presence_diff` to every channel allowed to read presence.
 * - `access_token`: a new token is verified and read access re-checked; if it was revoked the
 *   channel gets a `system` error ("You no longer have permission to read from this Channel
 *   topic: …") and `phx_close`. The token's expiry is re-checked every 5 minutes and at `exp`.
 *
 * Refused, not guessed: Postgres Changes (`config.postgres_changes`), broadcast replay and the
 * REST broadcast endpoint answer with an error naming the feature.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import pg from "pg";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { AuthorizationError, authorizeRead, authorizeWrite, emptyPolicies, type AuthorizationContext, type Extension, type Policies } from "./authorization.ts";
import { TopicPresence, type PresenceDiff } from "./presence.ts";
import {
  decodeFrame, encodeMessage, encodeReply, encodeUserBroadcast, isUserBroadcastPush, jsonBody, ProtocolError,
  type InboundMessage, type JsonObject, type UserBroadcast, type Vsn,
} from "./protocol.ts";
import { JANITOR_INTERVAL_MS, maintainMessagePartitions } from "./maintenance.ts";
import { startMessageStream, type MessageRow, type MessageStream } from "./replication.ts";
import { verifyToken, type TokenError } from "./tokens.ts";

export interface RealtimeStandinOptions {
  /** Postgres URL (role postgres) used for authorization checks and the replication slot. */
  dbUrl: string;
  /** As `supabase_admin`: with it, the stand-in keeps realtime.messages' daily partitions as
   *  Realtime's janitor does (./maintenance.ts); without it, whoever runs the database must. */
  adminDbUrl?: string;
  jwtSecret: string;
  /** 0 (default): a free port on 127.0.0.1. */
  port?: number;
  /** Sleep before a refused join is answered (Realtime's CHANNEL_ERROR_BACKOFF_MS, default 5000). */
  channelErrorBackoffMs?: number;
  /** Pause between reads of the replication slot (default 50 ms). */
  pollIntervalMs?: number;
  log?: (line: string) => void;
}

export interface RealtimeStandin {
  /** Base URL; the socket is at `${url}/realtime/v1/websocket`. */
  url: string;
  /** For a gateway serving the API URL itself: hands an HTTP upgrade under /realtime/v1/ to the stand-in. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** For a gateway: plain HTTP requests under /realtime/v1/. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Resolves once every realtime.messages row committed before the call has been delivered. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const CONFIRM_TOKEN_INTERVAL_MS = 5 * 60_000;
const SOCKET_TIMEOUT_MS = 60_000;
const PRESENCE_CLIENT_LIMIT = { maxCalls: 5, windowMs: 30_000 };
const STANDIN_HEADER = { "Realtime-Standin": "true" };

type Reply = { status: "ok" | "error"; response: JsonObject } | null;

const UNAUTHORIZED = (topic: string): string => `You do not have permissions to read from this Channel topic: ${topic}`;

/** Subscriptions and presence per tenant topic (`private:` / `public:` + the channel name). */
class Hub {
  readonly subscribers = new Map<string, Set<Channel>>();
  readonly presences = new Map<string, TopicPresence<Channel>>();

  subscribe(channel: Channel): void {
    let set = this.subscribers.get(channel.key);
    if (set === undefined) this.subscribers.set(channel.key, (set = new Set()));
    set.add(channel);
  }

  unsubscribe(channel: Channel): void {
    const set = this.subscribers.get(channel.key);
    set?.delete(channel);
    if (set?.size === 0) this.subscribers.delete(channel.key);
    const diff = this.presences.get(channel.key)?.untrack(channel) ?? null;
    if (diff !== null) this.sendPresenceDiff(channel.key, diff);
  }

  presenceOf(key: string): TopicPresence<Channel> {
    let presence = this.presences.get(key);
    if (presence === undefined) this.presences.set(key, (presence = new TopicPresence()));
    return presence;
  }

  sendPresenceDiff(key: string, diff: PresenceDiff): void {
    for (const channel of this.subscribers.get(key) ?? []) {
      if (channel.canReadPresence()) channel.push("presence_diff", diff as unknown as JsonObject);
    }
  }

  /** A broadcast to every channel of the topic allowed to read broadcasts; `from` only with self. */
  broadcast(key: string, from: Channel | null, message: Omit<UserBroadcast, "topic">): void {
    for (const channel of this.subscribers.get(key) ?? []) {
      if (channel === from && !channel.selfBroadcast) continue;
      if (!channel.canReadBroadcast()) continue;
      channel.pushUserBroadcast(message);
    }
  }

  deliverRow(row: MessageRow): void {
    const key = `${row.private ? "private" : "public"}:${row.topic}`;
    this.broadcast(key, null, {
      userEvent: row.event,
      encoding: "json",
      body: new TextEncoder().encode(row.payloadJson),
      metadata: { id: row.id },
    });
  }
}

interface Services {
  pool: pg.Pool;
  secret: Uint8Array;
  hub: Hub;
  errorBackoffMs: number;
  log: (line: string) => void;
}

class Channel {
  readonly key: string;
  policies: Policies | null = null;
  claims: Record<string, unknown> = {};
  accessToken: string;
  selfBroadcast: boolean;
  readonly ackBroadcast: boolean;
  presenceEnabled: boolean;
  readonly presenceKey: string;
  private confirmTimer: NodeJS.Timeout | undefined;
  private presenceWindow = { count: 0, resetAt: 0 };
  closed = false;

  constructor(
    readonly session: Session,
    readonly topic: string,
    readonly subTopic: string,
    readonly joinRef: string | null,
    readonly isPrivate: boolean,
    config: JsonObject,
    accessToken: string,
  ) {
    this.key = `${isPrivate ? "private" : "public"}:${subTopic}`;
    const broadcast = objectOr(config.broadcast);
    const presence = objectOr(config.presence);
    this.selfBroadcast = broadcast.self === true;
    this.ackBroadcast = broadcast.ack === true;
    this.presenceEnabled = presence.enabled === true;
    this.presenceKey = typeof presence.key === "string" && presence.key !== "" ? presence.key : randomUUID();
    this.accessToken = accessToken;
  }

  get services(): Services {
    return this.session.services;
  }

  context(): AuthorizationContext {
    return {
      topic: this.subTopic,
      claims: this.claims,
      role: String(this.claims.role),
      sub: typeof this.claims.sub === "string" ? this.claims.sub : null,
      headers: this.session.headers,
    };
  }

  canReadBroadcast(): boolean {
    return this.policies === null || this.policies.broadcast.read === true;
  }

  canReadPresence(): boolean {
    return this.policies === null || this.policies.presence.read === true;
  }

  push(event: string, payload: JsonObject): void {
    this.session.send(encodeMessage(this.session.vsn, { joinRef: this.joinRef, ref: null, topic: this.topic, event, payload }));
  }

  pushUserBroadcast(message: Omit<UserBroadcast, "topic">): void {
    const frame = encodeUserBroadcast(this.session.vsn, { ...message, topic: this.topic });
    if (frame !== null) this.session.send(frame);
  }

  /** Verifies the current token; schedules the next confirmation (every 5 min, and at exp). */
  async confirmToken(): Promise<TokenError | null> {
    const result = await verifyToken(this.accessToken, this.services.secret);
    if (!result.ok) return result.error;
    this.claims = result.claims;
    clearTimeout(this.confirmTimer);
    const untilExpiry = result.exp * 1000 - Date.now();
    this.confirmTimer = setTimeout(() => void this.session.run(this.topic, () => this.onConfirmTimer()),
      Math.max(1, Math.min(CONFIRM_TOKEN_INTERVAL_MS, untilExpiry)));
    this.confirmTimer.unref();
    return null;
  }

  private async onConfirmTimer(): Promise<void> {
    if (this.closed) return;
    const error = await this.confirmToken();
    if (error !== null) this.shutdown(error.message);
  }

  /** Realtime's shutdown_response: a `system` error, then the channel closes. */
  shutdown(message: string): void {
    if (this.closed) return;
    this.push("system", { extension: "system", status: "error", message, channel: this.subTopic });
    this.session.closeChannel(this, true);
  }

  stop(): void {
    this.closed = true;
    clearTimeout(this.confirmTimer);
    this.services.hub.unsubscribe(this);
  }

  /** The client presence limit; false once exceeded in the current window. */
  takePresenceCall(): boolean {
    const now = Date.now();
    if (now > this.presenceWindow.resetAt) {
      this.presenceWindow = { count: 1, resetAt: now + PRESENCE_CLIENT_LIMIT.windowMs };
      return true;
    }
    if (this.presenceWindow.count >= PRESENCE_CLIENT_LIMIT.maxCalls) return false;
    this.presenceWindow.count += 1;
    return true;
  }
}

class Session {
  readonly channels = new Map<string, Channel>();
  private readonly queues = new Map<string, Promise<void>>();
  private lastSeen = Date.now();
  private readonly idleTimer: NodeJS.Timeout;

  constructor(
    readonly ws: WebSocket,
    readonly vsn: Vsn,
    readonly tenantToken: string,
    readonly headers: Record<string, string>,
    readonly services: Services,
  ) {
    ws.on("message", (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on("close", () => this.onClose());
    ws.on("error", () => undefined);
    this.idleTimer = setInterval(() => {
      if (Date.now() - this.lastSeen > SOCKET_TIMEOUT_MS) ws.terminate();
    }, 5_000);
    this.idleTimer.unref();
  }

  send(frame: string | Uint8Array): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(frame);
  }

  /** Work for one topic runs in order (a Phoenix channel is one process); topics run side by side. */
  run(topic: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(topic) ?? Promise.resolve()).then(work).catch((error: unknown) => {
      this.services.log(`realtime stand-in: ${topic}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    });
    this.queues.set(topic, next);
    void next.then(() => {
      if (this.queues.get(topic) === next) this.queues.delete(topic);
    });
    return next;
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    this.lastSeen = Date.now();
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    let message: InboundMessage;
    try {
      message = decodeFrame(this.vsn, isBinary ? new Uint8Array(raw) : raw.toString("utf8"));
    } catch (error) {
      // Phoenix closes a socket that sends what its serializer cannot decode.
      this.services.log(`realtime stand-in: closing a socket that sent an invalid frame: ${error instanceof ProtocolError ? error.message : String(error)}`);
      this.ws.close(1003, "invalid frame");
      return;
    }
    if (message.topic === "phoenix" && message.event === "heartbeat") {
      this.reply(message, { status: "ok", response: {} });
      return;
    }
    void this.run(message.topic, async () => this.reply(message, await this.dispatch(message)));
  }

  private reply(message: InboundMessage, reply: Reply): void {
    if (reply === null || message.ref === null) return;
    this.send(encodeReply(this.vsn, { joinRef: message.joinRef, ref: message.ref, topic: message.topic }, reply.status, reply.response));
  }

  private async dispatch(message: InboundMessage): Promise<Reply> {
    if (message.event === "phx_join") return this.join(message);
    const channel = this.channels.get(message.topic);
    if (channel === undefined || channel.joinRef !== message.joinRef) {
      return { status: "error", response: { reason: "unmatched topic" } };
    }
    switch (message.event) {
      case "phx_leave":
        this.closeChannel(channel, false);
        return { status: "ok", response: {} };
      case "access_token":
        await this.refreshToken(channel, message.payload as JsonObject);
        return null;
      case "broadcast":
        return this.clientBroadcast(channel, message.payload);
      case "presence":
        return this.presence(channel, message.payload as JsonObject);
      default:
        return null; // Realtime logs and ignores unknown events.
    }
  }

  private async joinError(code: string, message: string): Promise<Reply> {
    await sleep(this.services.errorBackoffMs);
    return { status: "error", response: { reason: `${code}: ${message}` } };
  }

  private async join(message: InboundMessage): Promise<Reply> {
    if (!message.topic.startsWith("realtime:")) return { status: "error", response: { reason: "unmatched topic" } };
    const subTopic = message.topic.slice("realtime:".length);
    if (subTopic === "") return this.joinError("TopicNameRequired", "You must provide a topic name");
    const existing = this.channels.get(message.topic);
    if (existing !== undefined) this.closeChannel(existing, true); // Phoenix closes the previous join.
    const params = message.payload as JsonObject;
    const config = objectOr(params.config);
    const requested = typeof params.access_token === "string" ? params.access_token
      : typeof params.user_token === "string" ? params.user_token : this.tenantToken;
    const token = requested.startsWith("sb_") ? this.tenantToken : requested;
    const channel = new Channel(this, message.topic, subTopic, message.joinRef, config.private === true, config, token);

    const tokenError = await channel.confirmToken();
    if (tokenError !== null) {
      channel.stop();
      return this.joinError(tokenError.code, tokenError.message);
    }
    const refusal = unsupportedConfig(config);
    if (refusal !== null) {
      channel.stop();
      return this.joinError("StandinUnsupported", refusal);
    }
    if (channel.isPrivate) {
      try {
        channel.policies = await authorizeRead(this.services.pool, channel.context(), emptyPolicies(), readExtensions(channel));
      } catch (error) {
        channel.stop();
        return this.authorizationJoinError(error, subTopic);
      }
      if (channel.policies.broadcast.read !== true && channel.policies.presence.read !== true) {
        channel.stop();
        return this.joinError("Unauthorized", UNAUTHORIZED(subTopic));
      }
    }
    this.channels.set(message.topic, channel);
    this.services.hub.subscribe(channel);
    // The reply goes first; presence_state follows it (Realtime sends :sync_presence to itself).
    this.reply(message, { status: "ok", response: { postgres_changes: [] } });
    if (channel.presenceEnabled && channel.canReadPresence()) {
      channel.push("presence_state", this.services.hub.presenceOf(channel.key).state());
    }
    return null;
  }

  private authorizationJoinError(error: unknown, subTopic: string): Promise<Reply> {
    if (error instanceof AuthorizationError) {
      if (error.reason === "missing_partition") {
        return this.joinError("MissingPartition", "Realtime was unable to find the expected messages partition");
      }
      if (error.reason === "query_canceled") return this.joinError("QueryCanceled", error.message);
      this.services.log(`realtime stand-in: RlsPolicyError on ${subTopic}: ${error.message}`);
      return this.joinError("Unauthorized", UNAUTHORIZED(subTopic));
    }
    throw error;
  }

  private async refreshToken(channel: Channel, payload: JsonObject): Promise<void> {
    const token = payload.access_token;
    if (typeof token !== "string" || token.startsWith("sb_") || token === channel.accessToken) return;
    const previous = channel.policies;
    channel.accessToken = token;
    channel.policies = null;
    const tokenError = await channel.confirmToken();
    if (tokenError !== null) {
      channel.shutdown(tokenError.message);
      return;
    }
    if (!channel.isPrivate) return;
    try {
      channel.policies = await authorizeRead(this.services.pool, channel.context(), emptyPolicies(), readExtensions(channel));
    } catch (error) {
      channel.policies = previous;
      if (error instanceof AuthorizationError && error.reason === "rls_policy_error") channel.shutdown(UNAUTHORIZED(channel.subTopic));
      else if (error instanceof AuthorizationError && error.reason === "query_canceled") channel.shutdown("Query was cancelled, please try again");
      else channel.shutdown("Realtime was unable to connect to the project database");
      return;
    }
    const now = channel.policies;
    if (now.broadcast.read !== true && now.presence.read !== true) {
      channel.shutdown(UNAUTHORIZED(channel.subTopic));
      return;
    }
    const revoked = (before: boolean | null | undefined, after: boolean | null): boolean => before === true && after === false;
    if (previous !== null && (revoked(previous.broadcast.read, now.broadcast.read) || revoked(previous.presence.read, now.presence.read))) {
      channel.shutdown(`You no longer have permission to read from this Channel topic: ${channel.subTopic}`);
    }
  }

  private async clientBroadcast(channel: Channel, payload: InboundMessage["payload"]): Promise<Reply> {
    if (channel.isPrivate) {
      const policies = channel.policies ?? emptyPolicies();
      if (policies.broadcast.write === null) {
        try {
          channel.policies = await authorizeWrite(this.services.pool, channel.context(), policies, ["broadcast", "presence"]);
        } catch (error) {
          this.services.log(`realtime stand-in: broadcast write check on ${channel.subTopic} failed: ${error instanceof Error ? error.message : String(error)}`);
          return null;
        }
      }
      if (channel.policies?.broadcast.write !== true) return null; // dropped, as Realtime does
    }
    const message: Omit<UserBroadcast, "topic"> = isUserBroadcastPush(payload)
      ? { userEvent: payload.userEvent, encoding: payload.encoding, body: payload.body, metadata: null }
      : { userEvent: typeof payload.event === "string" ? payload.event : "", encoding: "json", body: jsonBody(payload.payload), metadata: null };
    if (isUserBroadcastPush(payload) || typeof payload.event === "string") {
      this.services.hub.broadcast(channel.key, channel, message);
    }
    return channel.ackBroadcast ? { status: "ok", response: {} } : null;
  }

  private async presence(channel: Channel, payload: JsonObject): Promise<Reply> {
    if (typeof payload.event !== "string") return { status: "ok", response: {} };
    if (!channel.takePresenceCall()) {
      channel.shutdown("Client presence rate limit exceeded");
      return null;
    }
    const event = payload.event.toLowerCase();
    const hub = this.services.hub;
    if (event === "untrack") {
      const diff = hub.presenceOf(channel.key).untrack(channel);
      if (diff !== null) hub.sendPresenceDiff(channel.key, diff);
      return { status: "ok", response: {} };
    }
    if (event !== "track") return { status: "error", response: {} };
    if (channel.isPrivate) {
      let policies = channel.policies ?? emptyPolicies();
      if (policies.presence.write === null) {
        try {
          if (policies.presence.read === null) policies = await authorizeRead(this.services.pool, channel.context(), policies, ["broadcast", "presence"]);
          policies = await authorizeWrite(this.services.pool, channel.context(), policies, ["broadcast", "presence"]);
          channel.policies = policies;
        } catch {
          return { status: "error", response: {} };
        }
      }
      if (policies.presence.write !== true) return { status: "error", response: {} };
    }
    const meta = payload.payload ?? {};
    if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
      return { status: "error", response: { reason: "Presence track payload must be a map" } };
    }
    const diff = hub.presenceOf(channel.key).track(channel, channel.presenceKey, meta as JsonObject);
    channel.presenceEnabled = true;
    if (diff !== null) hub.sendPresenceDiff(channel.key, diff);
    return { status: "ok", response: {} };
  }

  /** Stops a channel; with `notify` the client gets `phx_close` (Phoenix does so on a channel exit). */
  closeChannel(channel: Channel, notify: boolean): void {
    if (this.channels.get(channel.topic) === channel) this.channels.delete(channel.topic);
    if (channel.closed) return;
    channel.stop();
    if (notify) {
      this.send(encodeMessage(this.vsn, { joinRef: channel.joinRef, ref: channel.joinRef, topic: channel.topic, event: "phx_close", payload: {} }));
    }
  }

  private onClose(): void {
    clearInterval(this.idleTimer);
    for (const channel of this.channels.values()) channel.stop();
    this.channels.clear();
  }
}

/** Presence is read-checked only when the client enabled it, as Realtime does. */
function readExtensions(channel: Channel): Extension[] {
  return channel.presenceEnabled ? ["broadcast", "presence"] : ["broadcast"];
}

/** What the stand-in refuses rather than silently ignoring. */
function unsupportedConfig(config: JsonObject): string | null {
  if (Array.isArray(config.postgres_changes) && config.postgres_changes.length > 0) {
    return "the Realtime stand-in does not support Postgres Changes; use Broadcast from Database (realtime.send / realtime.broadcast_changes)";
  }
  if (objectOr(config.broadcast).replay !== undefined) return "the Realtime stand-in does not support broadcast replay";
  return null;
}

function objectOr(value: unknown): JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function jsonResponse(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json", ...STANDIN_HEADER });
  res.end(JSON.stringify(body));
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  const reason = status === 401 ? "Unauthorized" : status === 404 ? "Not Found" : "Bad Request";
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Realtime-Standin: true\r\nConnection: close\r\n\r\n${body}`);
}

/** The stand-in without a listening socket: a gateway mounts its handlers (tools/realtime-standin/service.ts). */
export async function createRealtimeCore(options: Omit<RealtimeStandinOptions, "port">): Promise<Omit<RealtimeStandin, "url">> {
  const log = options.log ?? (() => undefined);
  const pool = new pg.Pool({ connectionString: options.dbUrl, max: 6, application_name: "rally-realtime-standin" });
  pool.on("error", (error) => log(`realtime stand-in: connection error: ${error.message}`));
  const hub = new Hub();
  const services: Services = {
    pool, hub, log,
    secret: new TextEncoder().encode(options.jwtSecret),
    errorBackoffMs: options.channelErrorBackoffMs ?? 5_000,
  };
  let janitor: NodeJS.Timeout | undefined;
  if (options.adminDbUrl !== undefined) {
    const adminDbUrl = options.adminDbUrl;
    await maintainMessagePartitions(adminDbUrl, log);
    janitor = setInterval(() => void maintainMessagePartitions(adminDbUrl, log).catch((error: unknown) =>
      log(`realtime stand-in: janitor failed: ${error instanceof Error ? error.message : String(error)}`)), JANITOR_INTERVAL_MS);
    janitor.unref();
  }
  let stream: MessageStream;
  try {
    stream = await startMessageStream({
      dbUrl: options.dbUrl, log, onRow: (row) => hub.deliverRow(row),
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    });
  } catch (error) {
    clearInterval(janitor);
    await pool.end();
    throw error;
  }
  const wss = new WebSocketServer({ noServer: true });

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://standin.local");
    if (!url.pathname.endsWith("/websocket")) {
      rejectUpgrade(socket, 404, "Not Found");
      return;
    }
    const vsnParam = url.searchParams.get("vsn") ?? "1.0.0";
    if (vsnParam !== "1.0.0" && vsnParam !== "2.0.0") {
      rejectUpgrade(socket, 400, `unsupported vsn ${vsnParam}`);
      return;
    }
    const headerKey = req.headers["x-api-key"];
    const token = typeof headerKey === "string" ? headerKey : url.searchParams.get("apikey");
    if (token === null || token === "") {
      rejectUpgrade(socket, 401, "API key is missing");
      return;
    }
    void verifyToken(token, services.secret).then((result) => {
      if (!result.ok) {
        const message = result.error.reason === "expired_token" ? "Token has expired" : result.error.message;
        rejectUpgrade(socket, 401, message);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (name.startsWith("x-") && typeof value === "string") headers[name] = value;
      }
      wss.handleUpgrade(req, socket, head, (ws) => new Session(ws, vsnParam, token, headers, services));
    });
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const url = new URL(req.url ?? "/", "http://standin.local");
    if (url.pathname.endsWith("/api/broadcast")) {
      jsonResponse(res, 501, { message: "the Realtime stand-in does not serve the REST broadcast endpoint (/api/broadcast); send on a joined channel" });
      return;
    }
    jsonResponse(res, 404, { message: "Not Found" });
  }

  return {
    handleUpgrade,
    handleRequest,
    flush: () => stream.flush(),
    async close() {
      clearInterval(janitor);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await stream.close();
      await pool.end();
    },
  };
}

/** The stand-in on its own port (tests, or a gateway that proxies). */
export async function startRealtimeStandin(options: RealtimeStandinOptions): Promise<RealtimeStandin> {
  const core = await createRealtimeCore(options);
  const server: Server = createServer(core.handleRequest);
  server.on("upgrade", core.handleUpgrade);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", resolve);
    });
  } catch (error) {
    await core.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    ...core,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await core.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
