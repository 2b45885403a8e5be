/**
 * Every failure the bridge reports carries a stable `code` (for logs and tests)
 * and a message written for the person who has to fix it.
 */
export type BridgeErrorCode =
  | 'BRIDGE_BAD_ARGUMENT'
  | 'BRIDGE_NO_CREDENTIALS'
  | 'BRIDGE_ACCESS_DENIED'
  | 'BRIDGE_RUNTIME_NOT_FOUND'
  | 'BRIDGE_INVALID_REQUEST'
  | 'BRIDGE_UNREACHABLE'
  | 'BRIDGE_SHELL_REPLACED'
  | 'BRIDGE_CONNECTION_CLOSED'
  | 'BRIDGE_AGENT_EXITED'
  | 'BRIDGE_AGENT_START_FAILED'
  | 'BRIDGE_AGENT_TIMEOUT'
  | 'BRIDGE_OUTPUT_LOST'
  | 'BRIDGE_SHUTTING_DOWN';

export class BridgeError extends Error {
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
    /** Whether trying again (reconnecting) may succeed. */
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}

export function isBridgeError(e: unknown, code?: BridgeErrorCode): e is BridgeError {
  return e instanceof BridgeError && (code === undefined || e.code === code);
}
