/**
 * `npm run db:start | db:stop | db:reset`: the dev database alone (.rally/db, RALLY_DB_PORT).
 * db:start leaves PostgreSQL running and prints `SUPABASE_DB_URL=<url>` as its last stdout line,
 * so `eval "$(npm run -s db:start | tail -1)"` works; progress goes to stderr.
 */
import { applyDevDb, assertNoStackRunning, resetDevDb, startDevCluster, stopDevDb } from './lib/dev-db.ts';
import { RallyError } from './lib/errors.ts';
import { logLine, runMain } from './lib/cli.ts';

const USAGE = 'usage: tsx scripts/db.ts start [--reset] | stop | reset';

async function main(): Promise<number> {
  const [command, ...flags] = process.argv.slice(2);
  switch (command) {
    case 'start':
      return start(flags.includes('--reset'));
    case 'stop':
      assertNoStackRunning();
      await stopDevDb(logLine);
      return 0;
    case 'reset':
      assertNoStackRunning();
      await resetDevDb(logLine);
      return start(false);
    default:
      throw new RallyError('USAGE', USAGE);
  }
}

async function start(reset: boolean): Promise<number> {
  if (reset) assertNoStackRunning();
  const db = await startDevCluster({ reset, log: logLine });
  // The database stays up even if applying fails, so the error can be inspected with psql.
  await applyDevDb(db, logLine);
  logLine(`database: ready; stop it with npm run db:stop`);
  process.stdout.write(`SUPABASE_DB_URL=${db.appUrl}\n`);
  return 0;
}

runMain(main);
