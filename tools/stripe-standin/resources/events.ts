/** Events: list (newest first, `type` with `*` wildcards, `types[]`, `starting_after`, `limit` 1–100) and retrieve. */
import type { JsonObject } from "../json.ts";
import type { FormObject } from "../form.ts";
import { validationError } from "../errors.ts";
import { int, nested, str } from "../params.ts";
import type { StandinState, StripeEvent } from "../state.ts";
import { implemented } from "./payment-intents.ts";

export function retrieveEvent(state: StandinState, id: string): StripeEvent {
  const event = state.events.find((e) => e.id === id);
  if (event === undefined) return state.require(new Map<string, StripeEvent>(), id, "event");
  return event;
}

const pattern = (type: string): RegExp => new RegExp(`^${type.replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`);

export function listEvents(state: StandinState, params: FormObject): JsonObject {
  implemented(params, ["limit", "type", "types", "starting_after", "expand"], "GET /v1/events");
  const limit = int(params, "limit") ?? 10;
  if (limit < 1 || limit > 100) throw validationError("This value must be between 1 and 100.", "limit", "parameter_invalid_integer");
  const type = str(params, "type");
  const types = nested(params, "types");
  const startingAfter = str(params, "starting_after");
  let list = [...state.events].reverse();
  if (type !== undefined) list = list.filter((e) => pattern(type).test(e.type));
  if (Array.isArray(types)) {
    const wanted = types.filter((t): t is string => typeof t === "string");
    list = list.filter((e) => wanted.includes(e.type));
  }
  if (startingAfter !== undefined) {
    const index = list.findIndex((e) => e.id === startingAfter);
    list = index === -1 ? [] : list.slice(index + 1);
  }
  return { object: "list", url: "/v1/events", has_more: list.length > limit, data: list.slice(0, limit) };
}
