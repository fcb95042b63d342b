/**
 * The Phoenix channel wire format as Supabase Realtime speaks it (RealtimeWeb.Socket.V2Serializer,
 * a superset of Phoenix's V2 JSON serializer, and Phoenix's V1 JSON serializer), as pure
 * functions:
 *
 * - V2 text frames are arrays `[join_ref, ref, topic, event, payload]`; V1 frames are objects
 *   `{join_ref, ref, topic, event, payload}`.
 * - V2 binary frames from clients: kind 3 "user broadcast push" (realtime-js sends every
 *   `channel.send({type: 'broadcast', event, payload})` this way) — header of join_ref, ref,
 *   topic, user event and metadata sizes plus a payload encoding byte (0 binary, 1 JSON).
 * - V2 binary frames to clients: kind 4 "user broadcast" — topic, user event, metadata (JSON)
 *   and the payload, the way Realtime delivers Broadcast from Database and client broadcasts.
 */

export type Vsn = "1.0.0" | "2.0.0";

export type JsonObject = { [key: string]: unknown };

/** A decoded frame. `payload` is a JSON object, or a user broadcast push (binary kind 3). */
export interface InboundMessage {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: JsonObject | UserBroadcastPush;
}

/** What realtime-js sends as binary kind 3: one broadcast with its own event name. */
export interface UserBroadcastPush {
  kind: "user_broadcast_push";
  userEvent: string;
  encoding: "json" | "binary";
  /** The raw payload bytes (JSON text when encoding is "json"). */
  body: Uint8Array;
  metadata: JsonObject | null;
}

/** A broadcast as Realtime fans it out (RealtimeWeb.Socket.UserBroadcast). */
export interface UserBroadcast {
  topic: string;
  userEvent: string;
  encoding: "json" | "binary";
  body: Uint8Array;
  metadata: JsonObject | null;
}

export class ProtocolError extends Error {}

const USER_BROADCAST_PUSH = 3;
const USER_BROADCAST = 4;
const MAX_FIELD = 255;

export function isUserBroadcastPush(payload: InboundMessage["payload"]): payload is UserBroadcastPush {
  return (payload as { kind?: unknown }).kind === "user_broadcast_push";
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const refOf = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** Decodes one WebSocket frame; throws ProtocolError for anything the serializer would reject. */
export function decodeFrame(vsn: Vsn, data: Uint8Array | string): InboundMessage {
  if (typeof data !== "string") {
    if (vsn === "1.0.0") throw new ProtocolError("binary frames need vsn 2.0.0");
    return decodeBinary(data);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new ProtocolError("frame is not JSON");
  }
  if (vsn === "2.0.0") {
    if (!Array.isArray(parsed) || parsed.length < 5) throw new ProtocolError("expected V2 array");
    const [joinRef, ref, topic, event, payload] = parsed as unknown[];
    if (typeof topic !== "string" || typeof event !== "string" || !isObject(payload)) {
      throw new ProtocolError("expected [join_ref, ref, topic, event, payload] with an object payload");
    }
    return { joinRef: refOf(joinRef), ref: refOf(ref), topic, event, payload };
  }
  if (!isObject(parsed)) throw new ProtocolError("expected a V1 message object");
  const { join_ref: joinRef, ref, topic, event, payload } = parsed;
  if (typeof topic !== "string" || typeof event !== "string" || !isObject(payload)) {
    throw new ProtocolError("expected {topic, event, payload} with an object payload");
  }
  return { joinRef: refOf(joinRef), ref: refOf(ref), topic, event, payload };
}

function decodeBinary(bytes: Uint8Array): InboundMessage {
  if (bytes[0] !== USER_BROADCAST_PUSH || bytes.length < 7) throw new ProtocolError("unsupported binary frame");
  const sizes = [bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]] as number[];
  const encodingByte = bytes[6];
  if (encodingByte !== 0 && encodingByte !== 1) throw new ProtocolError("unknown payload encoding");
  const text = new TextDecoder("utf-8", { fatal: true });
  let offset = 7;
  const fields: string[] = [];
  for (const size of sizes) {
    if (offset + size > bytes.length) throw new ProtocolError("truncated binary frame");
    fields.push(text.decode(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  const [joinRef, ref, topic, userEvent, metadataText] = fields as [string, string, string, string, string];
  let metadata: JsonObject | null = null;
  if (metadataText !== "") {
    const parsed: unknown = JSON.parse(metadataText);
    if (!isObject(parsed)) throw new ProtocolError("metadata must be a JSON object");
    metadata = parsed;
  }
  const body = bytes.slice(offset);
  if (encodingByte === 1) {
    try {
      JSON.parse(text.decode(body));
    } catch {
      throw new ProtocolError("JSON payload is not JSON");
    }
  }
  return {
    joinRef: joinRef === "" ? null : joinRef,
    ref: ref === "" ? null : ref,
    topic,
    event: "broadcast",
    payload: { kind: "user_broadcast_push", userEvent, encoding: encodingByte === 1 ? "json" : "binary", body, metadata },
  };
}

/** A push, reply or broadcast as JSON text in the socket's serializer format. */
export function encodeMessage(
  vsn: Vsn,
  message: { joinRef: string | null; ref: string | null; topic: string; event: string; payload: unknown },
): string {
  if (vsn === "2.0.0") return JSON.stringify([message.joinRef, message.ref, message.topic, message.event, message.payload]);
  return JSON.stringify({
    join_ref: message.joinRef, ref: message.ref, topic: message.topic, event: message.event, payload: message.payload,
  });
}

export function encodeReply(
  vsn: Vsn,
  request: { joinRef: string | null; ref: string | null; topic: string },
  status: "ok" | "error",
  response: JsonObject,
): string {
  return encodeMessage(vsn, { ...request, event: "phx_reply", payload: { status, response } });
}

const utf8 = new TextEncoder();

/**
 * A user broadcast for one subscriber: binary kind 4 on V2 (what realtime-js decodes into
 * `{type: 'broadcast', event, payload, meta}`), the same object as JSON text on V1 (binary
 * payloads cannot be represented there and are skipped: null).
 */
export function encodeUserBroadcast(vsn: Vsn, broadcast: UserBroadcast): Uint8Array | string | null {
  if (vsn === "1.0.0") {
    if (broadcast.encoding === "binary") return null;
    const payload: JsonObject = {
      type: "broadcast",
      event: broadcast.userEvent,
      payload: JSON.parse(new TextDecoder().decode(broadcast.body)) as unknown,
      ...(broadcast.metadata === null ? {} : { meta: broadcast.metadata }),
    };
    return encodeMessage(vsn, { joinRef: null, ref: null, topic: broadcast.topic, event: "broadcast", payload });
  }
  const topic = utf8.encode(broadcast.topic);
  const userEvent = utf8.encode(broadcast.userEvent);
  const metadata = broadcast.metadata === null ? new Uint8Array(0) : utf8.encode(JSON.stringify(broadcast.metadata));
  for (const [name, field] of [["topic", topic], ["user_event", userEvent], ["metadata", metadata]] as const) {
    if (field.length > MAX_FIELD) throw new ProtocolError(`${name} is longer than ${MAX_FIELD} bytes`);
  }
  const frame = new Uint8Array(5 + topic.length + userEvent.length + metadata.length + broadcast.body.length);
  frame.set([USER_BROADCAST, topic.length, userEvent.length, metadata.length, broadcast.encoding === "json" ? 1 : 0], 0);
  let offset = 5;
  for (const part of [topic, userEvent, metadata, broadcast.body]) {
    frame.set(part, offset);
    offset += part.length;
  }
  return frame;
}

/** The JSON body of a user broadcast built from a payload object. */
export function jsonBody(payload: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(payload ?? {}));
}
