/**
 * `npm run gen:types`: writes types/database.ts from a throwaway cluster with every migration
 * applied (or from SUPABASE_DB_URL when set). `--check` writes nothing and exits 1 on drift (CI).
 */
import { logLine, runMain } from './lib/cli.ts';
import { withThrowawayDb } from './lib/throwaway.ts';
import { compareWithCommitted, generateTypes, writeTypes } from './lib/types-gen.ts';

async function main(): Promise<number> {
  const check = process.argv.slice(2).includes('--check');
  const content = await typesFromDatabase();
  if (!check) {
    writeTypes(content);
    logLine('wrote types/database.ts');
    return 0;
  }
  const report = await compareWithCommitted(content);
  process.stdout.write(`${report.summary}\n`);
  return report.drifted ? 1 : 0;
}

async function typesFromDatabase(): Promise<string> {
  const given = process.env.SUPABASE_DB_URL;
  if (given) {
    logLine('gen:types: using SUPABASE_DB_URL as is (nothing applied)');
    return generateTypes(given);
  }
  return withThrowawayDb({ testHelpers: false, log: logLine }, (db) => generateTypes(db.appUrl));
}

runMain(main);
