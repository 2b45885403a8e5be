/**
 * Every failure the bridge reports carries a stable `code` (in its log and in the
 * `data.code` of the JSON-RPC error the client gets; tests match it) and a message
 * written for the person who has to fix it. A bad command line is not among them: it
 * ends the process with exit status 2 and one line on stderr.
 */
export type BridgeErrorCode =
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
  /** Output the service dropped while the bridge was reconnecting, in plain mode (a pending request may have been answered in it). */
  | 'BRIDGE_OUTPUT_LOST'
  /** A fault of the bridge itself. */
  | 'BRIDGE_INTERNAL';

export interface BridgeErrorDetail {
  /** The service's clock minus ours, when a refusal showed they disagree (a signature is then out of date). */
  readonly clockSkewMs?: number;
  /** The service refused credentials that have expired: fetching them anew may help. */
  readonly credentialsExpired?: boolean;
}

export class BridgeError extends Error {
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
    /** Whether trying again (reconnecting) may succeed. */
    readonly retryable = false,
    readonly detail: BridgeErrorDetail = {},
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}

export function isBridgeError(e: unknown, code?: BridgeErrorCode): e is BridgeError {
  return e instanceof BridgeError && (code === undefined || e.code === code);
}
