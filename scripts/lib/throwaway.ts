/**
 * A cluster that lives for one command (npm test, gen:types, CI checks): temp dir, free port,
 * durability off, full apply. It is stopped and deleted on every way out, Ctrl-C included.
 */
import { ADMIN_ROLE, APP_ROLE, dbUrl } from './config.ts';
import { applyAll } from './apply.ts';
import { makeThrowawayDir, removeDataDir, startCluster, stopCluster } from './cluster.ts';
import { freePort } from './ports.ts';
import { terminateActiveChildren } from './process.ts';

export interface ThrowawayDb {
  port: number;
  appUrl: string;
  adminUrl: string;
  dataDir: string;
}

export interface ThrowawayOptions {
  /** tests/support/db-helpers.sql (schema `tests`): test clusters only, never linted */
  testHelpers: boolean;
  log: (line: string) => void;
}

const INTERRUPTED_EXIT_CODE = 130;

export async function withThrowawayDb<T>(options: ThrowawayOptions, body: (db: ThrowawayDb) => Promise<T>): Promise<T> {
  const dir = await makeThrowawayDir();
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    try {
      await stopCluster(dir.dataDir);
    } finally {
      removeDataDir(dir.root);
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    options.log(`\n${signal}: stopping the test cluster and removing ${dir.root}`);
    terminateActiveChildren();
    void cleanup().finally(() => process.exit(INTERRUPTED_EXIT_CODE));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const port = await freePort();
    await startCluster({ dataDir: dir.dataDir, port, throwaway: true });
    options.log(`database: throwaway cluster on port ${port} in ${dir.root}`);
    await applyAll({ port, seed: true, testHelpers: options.testHelpers, log: options.log });
    return await body({ port, appUrl: dbUrl(APP_ROLE, port), adminUrl: dbUrl(ADMIN_ROLE, port), dataDir: dir.dataDir });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}
