/**
 * What each way a shell connection can end means for the bridge: reattach (with
 * or without backing off first) or give up with a message that says what to fix.
 */
import { BridgeError } from '../errors';

/** Why a connection was reattached, from a short fixed list (the `Reason` of the `Reattaches` metric). */
export type ReattachReason = 'going_away' | 'dropped' | 'policy' | 'too_large' | 'server_error' | 'restarting' | 'other';

export type CloseDecision =
  | { action: 'reattach'; reason: string; minDelayMs: number; metricReason: ReattachReason }
  | { action: 'fatal'; error: BridgeError }
  | { action: 'ended'; reason: string };

export function classifyClose(code: number, reason: string): CloseDecision {
  const why = reason ? `${code} ${reason}` : String(code);
  switch (code) {
    case 1000:
      return { action: 'ended', reason: `connection closed normally (${why})` };
    case 1001:
      return { action: 'reattach', reason: `service going away (${why})`, minDelayMs: 0, metricReason: 'going_away' };
    case 1006:
      return { action: 'reattach', reason: `connection dropped without a close frame (${why})`, minDelayMs: 0, metricReason: 'dropped' };
    case 1008:
      // The routine one-hour limit, a slow reader, or a rate violation: back off a little first.
      return { action: 'reattach', reason: `policy close (${why})`, minDelayMs: /rate|frame/i.test(reason) ? 1_000 : 0, metricReason: 'policy' };
    case 1009:
      return { action: 'reattach', reason: `frame too large (${why})`, minDelayMs: 0, metricReason: 'too_large' };
    case 1011:
      return { action: 'reattach', reason: `internal error on the service (${why})`, minDelayMs: 500, metricReason: 'server_error' };
    case 1003:
      return {
        action: 'fatal',
        error: new BridgeError('BRIDGE_CONNECTION_CLOSED', `the shell service refused the connection's frames (${why})`),
      };
    case 4000:
      return {
        action: 'fatal',
        error: new BridgeError(
          'BRIDGE_SHELL_REPLACED',
          `another client attached to this shell (${why}); only one bridge may serve a session at a time`,
        ),
      };
    default:
      if (code >= 1012 && code <= 1014) return { action: 'reattach', reason: `service restarting (${why})`, minDelayMs: 500, metricReason: 'restarting' };
      return { action: 'reattach', reason: `connection closed (${why})`, minDelayMs: 500, metricReason: 'other' };
  }
}

export interface UpgradeFailure {
  readonly status: number;
  readonly errorType?: string;
  readonly message?: string;
  /** The response's `Date`, in ms, when it had one. */
  readonly serverTime?: number;
}

/** Clocks this far apart make a signature out of date (SigV4 allows 5 minutes). */
const SKEW_THRESHOLD_MS = 60_000;

/** Maps a refused WebSocket upgrade to a retryable or a final error. */
export function classifyUpgradeFailure(f: UpgradeFailure, runtimeArn: string, now: number = Date.now()): BridgeError {
  const type = (f.errorType ?? '').split(':')[0];
  const detail = f.message ? `: ${f.message}` : '';
  const seen = `HTTP ${f.status}${type ? ` ${type}` : ''}${detail}`;
  if (f.status === 403 || /AccessDenied|InvalidSignature|UnrecognizedClient|ExpiredToken/i.test(type)) {
    const skew = f.serverTime !== undefined && Math.abs(f.serverTime - now) > SKEW_THRESHOLD_MS ? f.serverTime - now : undefined;
    return new BridgeError(
      'BRIDGE_ACCESS_DENIED',
      `access denied by AgentCore (${seen}). The bridge's AWS credentials need ` +
        `bedrock-agentcore:InvokeAgentRuntimeCommandShell on ${runtimeArn}; check the credentials, their Region and the clock.`,
      false,
      { clockSkewMs: skew, credentialsExpired: /ExpiredToken/i.test(type) || undefined },
    );
  }
  if (f.status === 404 || /ResourceNotFound/i.test(type)) {
    return new BridgeError(
      'BRIDGE_RUNTIME_NOT_FOUND',
      `AgentCore runtime not found (${seen}). Check --runtime-arn ${runtimeArn}, --qualifier and the Region.`,
    );
  }
  if (f.status === 409 || f.status === 429 || f.status === 424 || f.status >= 500 || /Throttling|Conflict|RuntimeClientError/i.test(type)) {
    return new BridgeError('BRIDGE_UNREACHABLE', `AgentCore is busy or the runtime is unreachable (${seen})`, true);
  }
  if (f.status === 400 || /Validation/i.test(type)) {
    return new BridgeError(
      'BRIDGE_INVALID_REQUEST',
      `AgentCore rejected the shell request (${seen}). Is the runtime READY, and was it created or updated after interactive shells became available?`,
    );
  }
  return new BridgeError('BRIDGE_UNREACHABLE', `unexpected answer from AgentCore (${seen})`, f.status >= 500);
}
