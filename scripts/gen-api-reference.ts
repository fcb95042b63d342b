/**
 * `npm run gen:api`: writes docs/api-reference.md from a throwaway cluster with every migration
 * applied (or from SUPABASE_DB_URL when set), the edge functions' zod schemas and config.toml,
 * and the Realtime registry. `--check` writes nothing and exits 1 when the committed file differs
 * (CI, via `tsx scripts/ci-checks.ts all`). Either way it exits 1 when the reference has
 * problems: an RPC or table without a comment, a broadcast the Realtime registry does not list,
 * an edge function the registry does not describe.
 */
import { logLine, runMain } from './lib/cli.ts';
import { withThrowawayDb } from './lib/throwaway.ts';
import { compareReference, generateReference, REFERENCE_PATH, writeReference, type GeneratedReference } from './lib/api-reference/generate.ts';

async function main(): Promise<number> {
  const check = process.argv.slice(2).includes('--check');
  const reference = await referenceFromDatabase();
  for (const problem of reference.problems) logLine(`problem: ${problem}`);
  if (!check) {
    writeReference(reference.markdown);
    logLine(`wrote ${REFERENCE_PATH}`);
    return reference.problems.length === 0 ? 0 : 1;
  }
  const drift = await compareReference(reference.markdown);
  process.stdout.write(`${drift.summary}\n`);
  return drift.drifted || reference.problems.length > 0 ? 1 : 0;
}

async function referenceFromDatabase(): Promise<GeneratedReference> {
  const given = process.env.SUPABASE_DB_URL;
  if (given) {
    logLine('gen:api: using SUPABASE_DB_URL as is (nothing applied)');
    return generateReference(given);
  }
  return withThrowawayDb({ testHelpers: false, log: logLine }, (db) => generateReference(db.appUrl));
}

runMain(main);
