/**
 * The supabase-js examples docs/api-reference.md shows are calls that work: every RPC example
 * type-checks against types/database.ts (with only its required arguments, and with every
 * optional one too), and reaches its function through supabase-js on the Data API stand-in
 * (`npm start`'s /rest/v1): the function is found by its argument names and every example value
 * casts to its SQL type, so what comes back is the function's own answer (as anon, mostly Rally's
 * 42501 not_authenticated), never "no such function" or a bad literal. Every table's read runs as
 * the roles it names.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalog, type Catalog } from '../../scripts/lib/api-reference/catalog.ts';
import { requiredArgumentsObject, rpcExample } from '../../scripts/lib/api-reference/client-examples.ts';
import { readProjectConfig } from '../../scripts/lib/api-stack.ts';
import { apiKeys, type ApiKeys } from '../../scripts/lib/keys.ts';
import { startApiGateway, type ApiGateway } from '../../tools/api-gateway/server.ts';
import { createRestService } from '../../tools/rest-standin/service.ts';
import type { Database } from '../../types/database.ts';
import { closeTestPools } from '../support/db.ts';
import { testEnv } from '../support/env.ts';
import { createUser } from '../support/users.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');

let catalog: Catalog;
let gateway: ApiGateway;
let keys: ApiKeys;

beforeAll(async () => {
  catalog = await readCatalog(testEnv('SUPABASE_DB_URL'));
  keys = await apiKeys();
  const service = await createRestService({
    dbUrl: testEnv('SUPABASE_DB_URL'), apiUrl: 'http://127.0.0.1', jwtSecret: keys.jwtSecret,
    anonKey: keys.anonKey, serviceRoleKey: keys.serviceRoleKey, config: readProjectConfig(), log: () => undefined,
  });
  gateway = await startApiGateway({ port: 0, keys, services: [service] });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await closeTestPools();
});

const rpcs = (): Catalog['functions'] => catalog.functions.filter((fn) => fn.computedFieldOf === null);

function client(token?: string): SupabaseClient<Database> {
  return createClient<Database>(gateway.url, keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    ...(token === undefined ? {} : { global: { headers: { Authorization: `Bearer ${token}` } } }),
  });
}

/** Type errors of a module that makes every example call on a typed client. */
function typeErrors(source: string): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(repoRoot, 'tsconfig.json'), {}, {
    ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  });
  if (parsed === undefined) throw new Error('tsconfig.json did not parse');
  const file = join(here, 'rpc-examples.generated.ts');
  const host = ts.createCompilerHost(parsed.options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => name === file || ts.sys.fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  host.getSourceFile = (name, version, onError, create) =>
    name === file ? ts.createSourceFile(name, source, version, true) : getSourceFile(name, version, onError, create);
  const program = ts.createProgram([file], parsed.options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => {
    const at = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `line ${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('RPC examples', () => {
  it('type-check against types/database.ts, with the required arguments and with every optional one', () => {
    const blocks = rpcs().flatMap((fn) => [rpcExample(fn), rpcExample(fn, { uncommentOptional: true })])
      .map((example) => `  {\n${example.split('\n').map((line) => `    ${line}`).join('\n')}\n    void data; void error;\n  }`);
    const source = [
      "import type { SupabaseClient } from '@supabase/supabase-js';",
      "import type { Database } from '../../types/database.ts';",
      'declare const supabase: SupabaseClient<Database>;',
      'export async function examples(): Promise<void> {',
      ...blocks,
      '}',
      '',
    ].join('\n');
    expect(rpcs().length).toBeGreaterThan(50);
    expect(typeErrors(source)).toEqual([]);
  }, 120_000);

  it('reach their function through supabase-js on the Data API: found by name and arguments, every value cast', async () => {
    const anon = client();
    const answers: string[] = [];
    for (const fn of rpcs()) {
      const { error } = await anon.rpc(fn.name as never, requiredArgumentsObject(fn) as never);
      answers.push(`${fn.name}: ${error === null ? 'ok' : `${error.code}${error.hint ? ` ${error.hint}` : ''}`}`);
    }
    // What a caller without a session may get from Rally itself: a refusal, a rule, bad input
    // it checked, or an answer. Never PGRST202/203 (no such function / ambiguous), 22P02 or
    // 22007/22008 (an example value that does not cast), 42883 or PGRST501.
    const unexpected = answers.filter((answer) => !/: (ok|42501( \w+)?|22023 \w+|P0001 \w+)$/.test(answer));
    expect(unexpected).toEqual([]);
    expect(answers.filter((answer) => answer.endsWith(': 42501 not_authenticated')).length).toBeGreaterThan(40);
  }, 60_000);
});

describe('table examples', () => {
  it('read every table and view the reference says an app may read, as each of those roles', async () => {
    const user = await createUser();
    const clients = { anon: client(), authenticated: client(user.token) } as const;
    const failures: string[] = [];
    for (const relation of catalog.relations) {
      for (const role of ['anon', 'authenticated'] as const) {
        const access = relation.access[role].select;
        if (access.kind === 'none') continue;
        const columns = access.kind === 'all' ? '*' : access.columns.join(', ');
        const { error } = await clients[role].from(relation.name as never).select(columns).limit(1);
        if (error !== null) failures.push(`${relation.name} as ${role}: ${error.code} ${error.message}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
