/**
 * A cluster that lives for one command (npm test, gen:types, CI checks): temp dir, free port,
 * durability off, full apply. It is stopped and deleted on every way out, Ctrl-C included.
 */
import { ADMIN_ROLE, APP_ROLE, dbUrl, type ApiExposure } from './config.ts';
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
  /** tests/db/000-setup-tests-helpers.test.sql (pgTAP, schema `tests`): test clusters only, never linted */
  testHelpers: boolean;
  /** the platform's new-entity default privileges; RALLY_API_AUTO_EXPOSE when absent */
  apiExposure?: ApiExposure;
  log: (line: string) => void;
}

const INTERRUPTED_EXIT_CODE = 130;

let interrupted = false;

/** True once Ctrl-C/SIGTERM arrived: callers start no new work while the cleanup runs. */
export function wasInterrupted(): boolean {
  return interrupted;
}

export async function withThrowawayDb<T>(options: ThrowawayOptions, body: (db: ThrowawayDb) => Promise<T>): Promise<T> {
  const dir = await makeThrowawayDir();
  // One cleanup, shared: a signal during the normal cleanup waits for it instead of racing it.
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= stopCluster(dir.dataDir)
      .then(() => undefined)
      .finally(() => removeDataDir(dir.root));
    return cleaning;
  };
  // `process.on`, not `once`: npm and tsx both forward Ctrl-C, and a second signal must not
  // kill us (default action) halfway through the cleanup.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    options.log(`\n${signal}: stopping the test cluster and removing ${dir.root}`);
    // Interrupt the running suite, but never the cleanup's own pg_ctl.
    if (!cleaning) terminateActiveChildren();
    void cleanup().finally(() => {
      terminateActiveChildren();
      process.exit(INTERRUPTED_EXIT_CODE);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const port = await freePort();
    await startCluster({ dataDir: dir.dataDir, port, throwaway: true });
    options.log(`database: throwaway cluster on port ${port} in ${dir.root}`);
    await applyAll({
      port, seed: true, testHelpers: options.testHelpers, log: options.log,
      ...(options.apiExposure ? { apiExposure: options.apiExposure } : {}),
    });
    return await body({ port, appUrl: dbUrl(APP_ROLE, port), adminUrl: dbUrl(ADMIN_ROLE, port), dataDir: dir.dataDir });
  } finally {
    // Handlers stay on until the cluster is gone, so a late Ctrl-C cannot cut the cleanup short.
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
