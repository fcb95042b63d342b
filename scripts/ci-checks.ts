/**
 * Database checks that need a migrated database but are not tests, on ONE throwaway cluster
 * (without the test helpers, so only what ships is judged):
 *   lint  — `supabase db lint` and `supabase db advisors`, failing at warning level (npm run lint:db)
 *   all   — lint, plus types/database.ts drift, docs/api-reference.md drift and the notification
 *           catalogue (what .ci/run runs)
 * With SUPABASE_DB_URL set, that database is checked instead and nothing is applied.
 */
import pg from 'pg';
import { logLine, runMain } from './lib/cli.ts';
import { REPO_ROOT } from './lib/config.ts';
import { dbAdvisors, dbLint, type CheckResult } from './lib/db-lint.ts';
import { RallyError } from './lib/errors.ts';
import { withThrowawayDb } from './lib/throwaway.ts';
import { compareWithCommitted, generateTypes } from './lib/types-gen.ts';
import { compareReference, generateReference, REFERENCE_PATH } from './lib/api-reference/generate.ts';
import { catalogueInput, catalogueProblems } from './lib/notification-catalogue.ts';

type Mode = 'lint' | 'all';

async function main(): Promise<number> {
  const mode = parseMode(process.argv[2]);
  const given = process.env.SUPABASE_DB_URL;
  const results = given
    ? await runChecks(mode, given)
    : await withThrowawayDb({ testHelpers: false, log: logLine }, (db) => runChecks(mode, db.appUrl));
  process.stdout.write('\n');
  for (const result of results) process.stdout.write(`${result.ok ? 'ok  ' : 'FAIL'} ${result.name}\n`);
  return results.every((result) => result.ok) ? 0 : 1;
}

function parseMode(arg: string | undefined): Mode {
  if (arg === 'lint' || arg === 'all') return arg;
  throw new RallyError('USAGE', 'usage: tsx scripts/ci-checks.ts lint|all');
}

async function runChecks(mode: Mode, dbUrl: string): Promise<CheckResult[]> {
  const results = [await dbLint(dbUrl), await dbAdvisors(dbUrl)];
  if (mode === 'all') results.push(await typesCheck(dbUrl), await apiReferenceCheck(dbUrl), await catalogueCheck(dbUrl));
  return results;
}

async function typesCheck(dbUrl: string): Promise<CheckResult> {
  logLine('\n=== types/database.ts drift ===');
  const report = await compareWithCommitted(await generateTypes(dbUrl));
  logLine(report.summary);
  return { name: 'types/database.ts matches the migrated schema (npm run gen:types)', ok: !report.drifted };
}

async function apiReferenceCheck(dbUrl: string): Promise<CheckResult> {
  logLine(`\n=== ${REFERENCE_PATH} drift ===`);
  const reference = await generateReference(dbUrl);
  for (const problem of reference.problems) logLine(`problem: ${problem}`);
  const drift = await compareReference(reference.markdown);
  logLine(drift.summary);
  return {
    name: `${REFERENCE_PATH} matches the schema, functions and Realtime registry (npm run gen:api)`,
    ok: !drift.drifted && reference.problems.length === 0,
  };
}

/** Every notification type code sends is registered and templated in every locale, and every registered type is sent. */
async function catalogueCheck(dbUrl: string): Promise<CheckResult> {
  logLine('\n=== notification catalogue ===');
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const input = await catalogueInput(client, REPO_ROOT);
    const problems = catalogueProblems(input);
    for (const problem of problems) logLine(`problem: ${problem}`);
    logLine(`${input.registered.length} types registered, ${input.sent.length} sends read, ${problems.length} problems`);
    return { name: 'the notification catalogue agrees with the code and the templates (docs/social-and-alerts.md)', ok: problems.length === 0 };
  } finally {
    await client.end();
  }
}

runMain(main);
