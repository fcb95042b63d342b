/**
 * Presence per channel topic, in the shapes Phoenix.Presence sends: state
 * `{key: {metas: [{...payload, phx_ref}]}}` and diffs `{joins: {...}, leaves: {...}}`. An update
 * of a tracked presence leaves the old meta and joins the new one with `phx_ref_prev`, as
 * Phoenix.Tracker does.
 */
import { randomBytes } from "node:crypto";
import type { JsonObject } from "./protocol.ts";

export interface PresenceEntry {
  key: string;
  meta: JsonObject;
}

export interface PresenceDiff {
  joins: Record<string, { metas: JsonObject[] }>;
  leaves: Record<string, { metas: JsonObject[] }>;
}

const newRef = (): string => randomBytes(9).toString("base64url");

/** Presences of one topic, keyed by whoever tracks them (a channel). */
export class TopicPresence<Owner> {
  private readonly entries = new Map<Owner, PresenceEntry>();

  /** Tracks or updates; null when the payload is unchanged (no diff to send). */
  track(owner: Owner, key: string, payload: JsonObject): PresenceDiff | null {
    const previous = this.entries.get(owner);
    if (previous !== undefined && sameJson(withoutRefs(previous.meta), payload)) return null;
    const meta: JsonObject = { ...payload, phx_ref: newRef() };
    if (previous !== undefined) meta.phx_ref_prev = previous.meta.phx_ref;
    this.entries.set(owner, { key, meta });
    return {
      joins: { [key]: { metas: [meta] } },
      leaves: previous === undefined ? {} : { [previous.key]: { metas: [previous.meta] } },
    };
  }

  /** Untracks; null when the owner tracked nothing. */
  untrack(owner: Owner): PresenceDiff | null {
    const previous = this.entries.get(owner);
    if (previous === undefined) return null;
    this.entries.delete(owner);
    return { joins: {}, leaves: { [previous.key]: { metas: [previous.meta] } } };
  }

  state(): Record<string, { metas: JsonObject[] }> {
    const state: Record<string, { metas: JsonObject[] }> = {};
    for (const { key, meta } of this.entries.values()) (state[key] ??= { metas: [] }).metas.push(meta);
    return state;
  }

  get size(): number {
    return this.entries.size;
  }
}

function withoutRefs(meta: JsonObject): JsonObject {
  const { phx_ref: _ref, phx_ref_prev: _prev, ...rest } = meta;
  return rest;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
