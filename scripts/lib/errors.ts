/**
 * Typed errors for the local stack runner. Every failure a user can hit carries a stable `code`
 * so callers (and the top-level `main` wrappers) can switch on it instead of parsing messages.
 */

export type RallyErrorCode =
  | 'PG_BINARIES_MISSING'
  | 'PG_TOOL_MISSING'
  | 'OS_USER'
  | 'PATH_NOT_REACHABLE'
  | 'PORT_FORBIDDEN'
  | 'PORT_IN_USE'
  | 'CLUSTER_INIT'
  | 'CLUSTER_START'
  | 'CLUSTER_STOP'
  | 'CLUSTER_NOT_READY'
  | 'APPLY_PLATFORM'
  | 'APPLY_MIGRATIONS'
  | 'APPLY_SEED'
  | 'APPLY_TEST_HELPERS'
  | 'COMMAND_FAILED'
  | 'STACK_RUNNING'
  | 'GEN_TYPES'
  | 'TYPES_DRIFT'
  | 'FUNCTIONS_EXITED'
  | 'FUNCTIONS_TIMEOUT'
  | 'USAGE';

export class RallyError extends Error {
  readonly code: RallyErrorCode;

  constructor(code: RallyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RallyError';
    this.code = code;
  }
}

export function isRallyError(value: unknown): value is RallyError {
  return value instanceof RallyError;
}

/** Renders any thrown value as one readable line, keeping the code when there is one. */
export function describeError(value: unknown): string {
  if (isRallyError(value)) return `[${value.code}] ${value.message}`;
  if (value instanceof Error) return value.message;
  return String(value);
}
