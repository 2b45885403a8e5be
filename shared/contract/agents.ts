/**
 * The coding agents the runtime images carry, and what the constructs and the in-VM
 * programs agree on about each: the image's build target in runtimes/Dockerfile, the ACP
 * command the bridge types into the shell, and the variable the agent reads its API key
 * from (with the JSON field of the key's secret that holds it). Pure constants.
 */

export const AGENT_IDS = ['kiro', 'claude-code', 'codex'] as const;
export type AgentId = (typeof AGENT_IDS)[number];

export interface AgentFacts {
  readonly id: AgentId;
  /** The final build stage of runtimes/Dockerfile that holds this agent. */
  readonly imageTarget: string;
  /** The ACP command the bridge runs in the runtime's shell. */
  readonly shellCommand: string;
  /** The environment variable the agent reads its API key from. */
  readonly apiKeyEnv: string;
  /** The JSON field of the key's secret that holds the key, unless told otherwise. */
  readonly apiKeyJsonField: string;
}

export const AGENTS: Readonly<Record<AgentId, AgentFacts>> = {
  kiro: { id: 'kiro', imageTarget: 'kiro', shellCommand: 'kiro-cli acp --trust-all-tools', apiKeyEnv: 'KIRO_API_KEY', apiKeyJsonField: 'apiKey' },
  'claude-code': { id: 'claude-code', imageTarget: 'claude-code', shellCommand: 'claude-agent-acp', apiKeyEnv: 'ANTHROPIC_API_KEY', apiKeyJsonField: 'apiKey' },
  codex: { id: 'codex', imageTarget: 'codex', shellCommand: 'codex-acp', apiKeyEnv: 'OPENAI_API_KEY', apiKeyJsonField: 'apiKey' },
};

export function isAgentId(value: unknown): value is AgentId {
  return typeof value === 'string' && (AGENT_IDS as readonly string[]).includes(value);
}
