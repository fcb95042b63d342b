/**
 * Builds the API reference from a migrated database plus the repository (edge functions,
 * config.toml, the Realtime registry), and says what is wrong with it: an undocumented public
 * RPC or table, an error a function's comment documents but nothing it runs can raise, a
 * broadcast the registry does not list, an edge function the registry and config.toml disagree
 * about. `gen:api` writes the Markdown; `--check` compares it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../config.ts';
import { run } from '../process.ts';
import { readCatalog, type Catalog } from './catalog.ts';
import {
  FUNCTIONS, functionsInConfig, handlerSource, methodSource, readConfigToml, scanHandlerErrors, servedMethods, sortHttpErrors,
} from './edge-functions.ts';
import { checkRegistry, checkTopicAuthorizers, findBroadcasts, REALTIME_EVENTS, REALTIME_TOPICS } from './realtime.ts';
import { CAPABILITIES, capabilityIndex, readMigrations, type CapabilityIndex } from './capabilities.ts';
import { renderReference, type FunctionModel, type ReferenceModel } from './render.ts';
import { documentedButNeverRaised, documentedErrors, raisedErrors, sortErrors, type ApiError } from './sql-errors.ts';

export const REFERENCE_FILE = join(REPO_ROOT, 'docs', 'api-reference.md');
export const REFERENCE_PATH = 'docs/api-reference.md';

export interface GeneratedReference {
  markdown: string;
  problems: string[];
}

/** Every public RPC and relation must carry a `comment on` (the reference is built from them). */
export function missingComments(catalog: Catalog): string[] {
  const problems: string[] = [];
  for (const fn of catalog.functions) {
    if (fn.comment === null || fn.comment.trim() === '') problems.push(`comment missing: function public.${fn.signature} (add \`comment on function\` in a migration)`);
  }
  for (const relation of catalog.relations) {
    if (relation.comment === null || relation.comment.trim() === '') {
      problems.push(`comment missing: ${relation.kind} public.${relation.name} (add \`comment on ${relation.kind === 'view' ? 'view' : 'table'}\` in a migration)`);
    }
  }
  return problems;
}

/** The function whose errors every RPC that needs a signed-in user inherits. */
export const ACCOUNT_CHECK = 'private.require_user';

export function sqlModel(
  catalog: Catalog,
  capabilities: CapabilityIndex = capabilityIndex(readMigrations()),
): Pick<ReferenceModel, 'rpcs' | 'internalFunctions' | 'relations' | 'inherited'> {
  const raised = raisedErrors(catalog.bodies, catalog.tableTriggers);
  const rpcs = catalog.functions.map((fn) => ({
    fn,
    documented: documentedErrors(fn.comment),
    raised: raised.get(`public.${fn.name}`) ?? [],
    capability: capabilities.byObject.get(`public.${fn.name}`) ?? null,
  }));
  const relations = catalog.relations.map((relation) => {
    const errors: ApiError[] = [];
    for (const trigger of relation.triggers) errors.push(...(raised.get(trigger.function) ?? []));
    return { relation, writeErrors: sortErrors(errors), capability: capabilities.byObject.get(`public.${relation.name}`) ?? null };
  });
  return { rpcs, internalFunctions: catalog.internalFunctions, relations, inherited: raised.get(ACCOUNT_CHECK) ?? [] };
}

async function functionModels(problems: string[], capabilities: CapabilityIndex): Promise<FunctionModel[]> {
  const configured = functionsInConfig(readConfigToml());
  const declared = new Map(FUNCTIONS.map((fn) => [fn.name, fn]));
  for (const fn of FUNCTIONS) {
    if (!configured.some((c) => c.name === fn.name)) problems.push(`edge functions: ${fn.name} is described in scripts/lib/api-reference/edge-functions.ts but has no [functions.${fn.name}] in supabase/config.toml`);
  }
  const models: FunctionModel[] = [];
  for (const config of configured) {
    const spec = declared.get(config.name);
    if (spec === undefined) {
      problems.push(`edge functions: functions/${config.name} is not described in scripts/lib/api-reference/edge-functions.ts (FUNCTIONS)`);
      continue;
    }
    const methods = await servedMethods(config.name);
    const declaredMethods = [...new Set(spec.endpoints.map((e) => e.method))].sort();
    if (declaredMethods.join() !== methods.join()) {
      problems.push(`edge functions: ${config.name} serves ${methods.join(', ')} but the reference describes ${declaredMethods.join(', ')}`);
    }
    const source = handlerSource(config.name);
    const capability = capabilities.byFunction.get(config.name) ?? null;
    if (capability === null) problems.push(`capabilities: the edge function ${config.name} belongs to no capability in scripts/lib/api-reference/capabilities.ts`);
    models.push({
      capability,
      name: config.name,
      verifyJwt: config.verifyJwt,
      methods,
      endpoints: spec.endpoints.map((endpoint) => ({
        spec: endpoint,
        errors: sortHttpErrors([...scanHandlerErrors(methodSource(source, endpoint.method), source), ...(endpoint.extraErrors ?? [])]),
      })),
    });
  }
  return models;
}

export async function generateReference(dbUrl: string): Promise<GeneratedReference> {
  const catalog = await readCatalog(dbUrl);
  const problems = missingComments(catalog);
  const broadcasts = findBroadcasts(catalog.bodies);
  const columnsOf = new Map(catalog.relations.map((relation) => [relation.name, relation.columns.map((column) => column.name)]));
  problems.push(...checkRegistry(broadcasts.found, broadcasts.unreadable, REALTIME_EVENTS, REALTIME_TOPICS, columnsOf));
  problems.push(...checkTopicAuthorizers(catalog.bodies));
  problems.push(...documentedButNeverRaised(catalog.bodies, catalog.tableTriggers));
  const capabilities = capabilityIndex(readMigrations());
  problems.push(...capabilities.problems);
  const model: ReferenceModel = {
    capabilities: CAPABILITIES,
    ...sqlModel(catalog, capabilities),
    functions: await functionModels(problems, capabilities),
    topics: REALTIME_TOPICS,
    events: REALTIME_EVENTS,
  };
  return { markdown: renderReference(model), problems };
}

export function writeReference(markdown: string): void {
  writeFileSync(REFERENCE_FILE, markdown);
}

export interface ReferenceDrift {
  drifted: boolean;
  summary: string;
}

/** Compares a fresh reference with the committed file; the summary is a trimmed unified diff. */
export async function compareReference(markdown: string): Promise<ReferenceDrift> {
  const committed = existsSync(REFERENCE_FILE) ? readFileSync(REFERENCE_FILE, 'utf8') : '';
  if (committed === markdown) return { drifted: false, summary: `${REFERENCE_PATH} is up to date` };
  const dir = mkdtempSync(join(tmpdir(), 'rally-api-'));
  try {
    const fresh = join(dir, 'api-reference.md');
    const old = join(dir, 'committed.md');
    writeFileSync(fresh, markdown);
    writeFileSync(old, committed);
    const diff = await run('diff', ['-u', '--label', `${REFERENCE_PATH} (committed)`, '--label', `${REFERENCE_PATH} (generated)`, old, fresh], {
      output: 'capture',
    }).catch(() => undefined);
    const lines = (diff?.stdout ?? '').split('\n');
    const changed = lines.filter((line) => /^[-+][^-+]/.test(line)).length;
    const shown = lines.slice(0, 60).join('\n');
    const more = lines.length > 60 ? `\n… ${lines.length - 60} more diff lines` : '';
    const state = committed === '' ? 'is missing' : `is stale (${changed} changed lines)`;
    return { drifted: true, summary: `${REFERENCE_PATH} ${state}; run \`npm run gen:api\` and commit the result.\n${shown}${more}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
