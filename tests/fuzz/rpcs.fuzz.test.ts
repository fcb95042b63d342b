/**
 * Fuzzing gate for the Data API: every RPC in `public` that anon or authenticated may execute
 * (read from pg_catalog, so a new RPC is fuzzed automatically) is called the way PostgREST calls
 * it, by random actors (the anon key, a guest, a host, an admin) with arguments drawn from each
 * parameter's declared type: valid-looking values, other people's real ids, and hostile ones.
 * Every answer must be a success or a clear refusal (tests/support/fuzz/outcomes.ts), and a
 * refused call must leave the whole database as it was (tests/support/fuzz/snapshot.ts).
 *
 * Reproduce a failure: FUZZ_SEED=<seed printed by fast-check> [FUZZ_RPC=<name>] npm test -- --files fuzz/rpcs --only vitest
 * More runs: FUZZ_RUNS=<n> (default below). docs/fuzzing.md has the details.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asUser, closeTestPools } from "../support/db.ts";
import { judgeCallError, judgeCoercionError } from "../support/fuzz/outcomes.ts";
import { loadRpcs, loadVocabulary, type Rpc, type RpcParam } from "../support/fuzz/rpc-catalog.ts";
import { type DatabaseSnapshot, databaseSnapshot, diffSnapshots, pauseScheduler } from "../support/fuzz/snapshot.ts";
import {
  bigintValue, booleanValue, dateValue, floatValue, hostileText, integerValue, intervalValue, numericValue, Raw, raw,
  textValue, timestampValue, timeValue, uuidValue, wrongShape,
} from "../support/fuzz/values.ts";
import { type Actor, buildWorld, type World } from "../support/fuzz/world.ts";

/** Runs per RPC: ~50 RPCs × 50 runs take about 20 s on two cores (docs/fuzzing.md). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 50);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const ONLY = process.env.FUZZ_RPC;

const rpcs = await loadRpcs();
const vocabulary = await loadVocabulary();

let world: World;
let resumeScheduler: () => Promise<void> = async () => {};
let baseline: DatabaseSnapshot;

beforeAll(async () => {
  resumeScheduler = await pauseScheduler();
  world = await buildWorld();
  baseline = await databaseSnapshot();
  process.stdout.write(`rpcs.fuzz: seed ${SEED}, ${RUNS} runs per RPC, ${rpcs.length} RPCs\n`);
});

afterAll(async () => {
  if (process.env.FUZZ_REPORT !== undefined) {
    for (const [signature, counts] of outcomes) {
      process.stdout.write(`${signature}: ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(", ")}\n`);
    }
  }
  await resumeScheduler();
  await closeTestPools();
});

/**
 * One valid-looking or hostile JSON value for a parameter of an RPC with `arity` parameters.
 * A value of the wrong shape is drawn with a probability chosen so that about a quarter of the
 * requests fail coercion whatever the arity: the rest reach the function body.
 */
function valueFor(param: RpcParam, rows: string[], arity: number): fc.Arbitrary<Raw> {
  const t = param.type;
  const scalar = (): fc.Arbitrary<Raw> => {
    switch (t.kind) {
      case "uuid": return uuidValue(world.pools, param.name);
      case "text": return textValue(world.pools, vocabulary, param.name);
      case "int2": case "int4": return integerValue();
      case "int8": return bigintValue();
      case "numeric": return numericValue();
      case "float": return floatValue();
      case "bool": return booleanValue();
      case "timestamptz": return timestampValue(true);
      case "timestamp": return timestampValue(false);
      case "date": return dateValue();
      case "time": return timeValue();
      case "interval": return intervalValue();
      case "enum": return fc.constantFrom(...(t.labels.length > 0 ? t.labels : ["x"])).map((l) => raw(l));
      case "json": return fc.jsonValue({ maxDepth: 4 }).map((v) => raw(v));
      case "composite": return fc.constantFrom(...(rows.length > 0 ? rows : ["{}"])).map((j) => new Raw(j, "a row of the world"));
      case "other": return hostileText();
    }
  };
  const typed = t.array
    ? fc.oneof(
      { weight: 4, arbitrary: fc.array(scalar(), { maxLength: 5 }).map((items) => new Raw(`[${items.map((i) => i.json).join(",")}]`, `[${items.map(String).join(", ")}]`)) },
      { weight: 1, arbitrary: scalar().map((item) => new Raw(`[${Array.from({ length: 2000 }, () => item.json).join(",")}]`, `[${String(item)} ×2000]`)) },
      { weight: 1, arbitrary: scalar().map((item) => new Raw(`[[${item.json}],[${item.json}]]`, `[[${String(item)}], [${String(item)}]]`)) },
      { weight: 1, arbitrary: fc.constant(new Raw("[null]")) },
    )
    : scalar();
  const wrong = Math.round(1000 * (1 - 0.75 ** (1 / Math.max(arity, 1))));
  return fc.oneof(
    { weight: Math.round((1000 - wrong) * 0.9), arbitrary: typed },
    { weight: Math.round((1000 - wrong) * 0.1), arbitrary: fc.constant(new Raw("null")) },
    { weight: wrong, arbitrary: wrongShape() },
  );
}

const column = (p: RpcParam, i: number): string => `"${p.name ?? `arg${i + 1}`}"`;

/** The arguments a request sends: required ones always, defaulted ones sometimes. */
function argumentsFor(rpc: Rpc, rows: string[]): fc.Arbitrary<(Raw | undefined)[]> {
  return fc.tuple(...rpc.params.map((p) => {
    const value = valueFor(p, rows, rpc.params.length);
    return p.hasDefault && p.name !== null ? fc.option(value, { nil: undefined, freq: 3 }) : value;
  }));
}

/**
 * The two statements PostgREST runs for `POST /rpc/<name>` with a JSON object body (or a GET,
 * for a stable or immutable function, in a read-only transaction: a "stable" function that
 * writes fails there with 25006, a finding): coerce the body into typed arguments, then call
 * with named arguments (positional when a parameter has no name). Only the arguments the
 * request carries are passed, so defaults apply to the others.
 */
function statements(rpc: Rpc, args: (Raw | undefined)[]): { body: string; coerce: string; call: string } {
  const present = rpc.params.map((p, i) => ({ p, i, v: args[i] })).filter((x) => x.v !== undefined);
  const body = `{${present.map((x) => `${column(x.p, x.i)}:${x.v?.json ?? "null"}`).join(",")}}`;
  const defs = present.map((x) => `${column(x.p, x.i)} ${x.p.type.sql}`).join(", ");
  const from = present.length === 0 ? "" : `from json_to_record($1::json) as _ (${defs})`;
  const positional = rpc.params.some((p) => p.name === null);
  const callArgs = present.map((x) => (positional ? `_.${column(x.p, x.i)}` : `${column(x.p, x.i)} := _.${column(x.p, x.i)}`)).join(", ");
  const fn = `public."${rpc.name}"(${callArgs})`;
  return {
    body,
    coerce: present.length === 0 ? "select 1" : `select 1 ${from}`,
    call: present.length === 0 ? `select * from ${fn} as r` : `select r.* ${from} cross join lateral ${fn} as r`,
  };
}

function actorNamed(name: string): Actor {
  const actor = world.actors.find((a) => a.name === name);
  if (actor === undefined) throw new Error(`no actor ${name}`);
  return actor;
}

function mayExecute(rpc: Rpc, actor: Actor): boolean {
  return actor.name === "anon" ? rpc.executableBy.anon : rpc.executableBy.authenticated;
}

/** What each RPC answered, by outcome (printed after the run; also proves the bodies were reached). */
const outcomes = new Map<string, Map<string, number>>();

function tally(rpc: Rpc, outcome: string): void {
  const counts = outcomes.get(rpc.signature) ?? new Map<string, number>();
  counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  outcomes.set(rpc.signature, counts);
}

/** One request; throws (failing the property) on a rejected outcome or a partial write. */
async function request(rpc: Rpc, actor: Actor, args: (Raw | undefined)[], get: boolean): Promise<void> {
  const { body, coerce, call } = statements(rpc, args);
  const params = coerce === "select 1" ? [] : [body];
  try {
    await asUser(actor.claims, (db) => db.query(coerce, params), { rollback: true });
  } catch (err) {
    const verdict = judgeCoercionError(err);
    if (!verdict.accepted) throw new Error(`${rpc.name} as ${actor.name}: ${verdict.why}`);
    tally(rpc, verdict.as);
    return;
  }
  let rows: Record<string, unknown>[] | null = null;
  let failure: unknown = null;
  try {
    rows = (await asUser(actor.claims, (db) => db.query<Record<string, unknown>>(call, call.includes("$1") ? [body] : []),
      { readOnly: get })).rows;
  } catch (err) {
    failure = err;
  }
  // Snapshot after every call that ran, whatever the verdict, so the next call is compared with
  // what this one left behind.
  const after = await databaseSnapshot();
  const written = diffSnapshots(baseline, after);
  baseline = after;
  if (rows !== null) {
    world.learn(rows);
    tally(rpc, "success");
    if (await world.restoreActors()) baseline = await databaseSnapshot();
    return;
  }
  const verdict = judgeCallError(failure, mayExecute(rpc, actor));
  if (!verdict.accepted) throw new Error(`${rpc.name} as ${actor.name}: ${verdict.why}`);
  tally(rpc, verdict.as);
  if (written.length > 0) throw new Error(`${rpc.name} as ${actor.name} was refused (${verdict.as}) but wrote: ${written.join(", ")}`);
}

describe("every public RPC answers random and hostile input with a success or a clear refusal, and a refusal writes nothing", () => {
  it("finds the API's RPCs in the catalog (so new ones are fuzzed without a list to update)", () => {
    const names = rpcs.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["book_event", "send_message", "request_payout", "search_events", "cancel_booking"]));
    expect(rpcs.length).toBeGreaterThan(40);
    expect(rpcs.every((r) => r.params.every((p) => p.type.kind !== "other"))).toBe(true);
  });

  for (const rpc of rpcs.filter((r) => (ONLY === undefined || ONLY.split(",").includes(r.name)) && !(process.env.FUZZ_SKIP ?? "").split(",").includes(r.name))) {
    it(`${rpc.signature}`, async () => {
      const rows = (await Promise.all(rpc.params.filter((p) => p.type.kind === "composite").map((p) => world.rowsOf(p.type.oid)))).flat();
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...world.actors.map((a) => a.name)), argumentsFor(rpc, rows), fc.boolean(),
          (name, args, get) => request(rpc, actorNamed(name), args, get && rpc.readOnly)),
        { numRuns: RUNS, seed: SEED, endOnFailure: false, interruptAfterTimeLimit: 60_000 },
      );
      // A run in which every request died in coercion would prove nothing about the function.
      const reached = [...(outcomes.get(rpc.signature) ?? new Map<string, number>())]
        .filter(([outcome]) => !outcome.startsWith("coercion") && !outcome.startsWith("platform limit"))
        .reduce((sum, [, n]) => sum + n, 0);
      expect(reached, "requests that reached the function body").toBeGreaterThan(RUNS / 3);
    }, 120_000);
  }
});
