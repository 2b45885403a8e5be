/**
 * The ACP session id the bridge hands out is the only thing OAB keeps for a thread
 * (it comes back in `session/load`, possibly to another bridge process), so the
 * remote runtime session and shell are derived from it, and it also carries the
 * agent's own session id so the conversation can be reloaded after a restart.
 *
 *   oab1.<32 hex token>.<agent session id>
 */
import { randomBytes } from 'node:crypto';

export interface RemoteIds {
  /** Random per thread; everything remote is derived from it. */
  readonly token: string;
  /** AgentCore `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id` (33–256 characters): one microVM. */
  readonly runtimeSessionId: string;
  /** The shell in that microVM that runs the agent. */
  readonly shellId: string;
}

export interface ClientSessionId extends RemoteIds {
  /** The id as the ACP client sees it. */
  readonly id: string;
  /** The remote agent's own ACP session id. */
  readonly agentSessionId: string;
}

const PREFIX = 'oab1';
const TOKEN = /^[0-9a-f]{32}$/;
/** AgentCore's shellId pattern (official SDK). */
export const SHELL_ID = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,127}$/;
const MAX_AGENT_SESSION_ID = 1024;

export function newToken(): string {
  return randomBytes(16).toString('hex');
}

export function remoteIds(token: string): RemoteIds {
  if (!TOKEN.test(token)) throw new Error(`invalid session token "${token}"`);
  return {
    token,
    runtimeSessionId: `openab-agentcore-${token}`,
    shellId: `acp-${token}`,
  };
}

export function encodeClientSessionId(token: string, agentSessionId: string): ClientSessionId {
  if (agentSessionId.length === 0 || agentSessionId.length > MAX_AGENT_SESSION_ID) {
    throw new Error(`agent session id must be 1–${MAX_AGENT_SESSION_ID} characters`);
  }
  return { ...remoteIds(token), id: `${PREFIX}.${token}.${agentSessionId}`, agentSessionId };
}

/** Parses an id this bridge handed out; `undefined` for anything else. */
export function decodeClientSessionId(id: unknown): ClientSessionId | undefined {
  if (typeof id !== 'string') return undefined;
  const first = id.indexOf('.');
  const second = id.indexOf('.', first + 1);
  if (first < 0 || second < 0) return undefined;
  const prefix = id.slice(0, first);
  const token = id.slice(first + 1, second);
  const agentSessionId = id.slice(second + 1);
  if (prefix !== PREFIX || !TOKEN.test(token)) return undefined;
  if (agentSessionId.length === 0 || agentSessionId.length > MAX_AGENT_SESSION_ID) return undefined;
  return { ...remoteIds(token), id, agentSessionId };
}
