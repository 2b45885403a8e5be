/**
 * The coding agents a runtime image can carry, and what the constructs and the in-VM
 * programs both need to know about each: the image's build target in `runtimes/Dockerfile`,
 * the ACP command the bridge types into the shell, the environment variable the agent reads
 * its API key from, the JSON field of the key's secret, and how it can run without a key.
 * Pure data and lookups; where each agent keeps its state inside the microVM is the
 * in-VM programs' business (runtimes/src/agent-state.ts).
 */

/** One `runtimes/Dockerfile` build target per agent, named by the agent's id. */
export const RUNTIME_IMAGE_TARGETS = ['kiro', 'claude-code', 'codex'] as const;

export type AgentId = (typeof RUNTIME_IMAGE_TARGETS)[number];

/** Names the agent a runtime image carries (set by its Dockerfile target). */
export const ENV_AGENT = 'OPENAB_AGENT';

/** The agent of an image that names none (images built before there was a choice carry Kiro). */
export const DEFAULT_AGENT: AgentId = 'kiro';

export interface AgentFacts {
  readonly id: AgentId;
  /** For people: logs, /invocations, documentation. */
  readonly displayName: string;
  /** `docker build --target <imageTarget> runtimes/`. */
  readonly imageTarget: AgentId;
  /** The ACP command the bridge starts (after the launcher), found through the shell's standard PATH. */
  readonly shellCommand: string;
  /** The environment variable the agent reads its API key from. */
  readonly apiKeyEnv: string;
  /** The JSON field of the secret that holds the key, unless the deployment names another. */
  readonly apiKeyJsonField: string;
  /** How to sign the agent in by hand in a shell on the runtime, when it has no key. */
  readonly loginCommand?: string;
  /**
   * A variable that, when truthy in the runtime's environment, makes the agent reach its
   * models with the runtime's own AWS credentials: no API key is needed or fetched.
   */
  readonly keylessSwitch?: string;
}

export const AGENTS: { readonly [id in AgentId]: AgentFacts } = {
  kiro: {
    id: 'kiro',
    displayName: 'Kiro CLI',
    imageTarget: 'kiro',
    // Kiro's ACP mode asks no questions with --trust-all-tools; without it, tools wait for a terminal.
    shellCommand: 'kiro-cli acp --trust-all-tools',
    apiKeyEnv: 'KIRO_API_KEY',
    apiKeyJsonField: 'apiKey',
    loginCommand: 'kiro-cli login --use-device-flow',
  },
  'claude-code': {
    id: 'claude-code',
    displayName: 'Claude Code',
    imageTarget: 'claude-code',
    // Its default permission mode asks the client (session/request_permission) before edits and commands.
    shellCommand: 'claude-agent-acp',
    apiKeyEnv: 'ANTHROPIC_API_KEY',
    apiKeyJsonField: 'apiKey',
    keylessSwitch: 'CLAUDE_CODE_USE_BEDROCK',
  },
  codex: {
    id: 'codex',
    displayName: 'Codex',
    imageTarget: 'codex',
    // Approval policy and sandbox come from the config.toml the launcher renders (agent-state.ts).
    shellCommand: 'codex-acp',
    apiKeyEnv: 'OPENAI_API_KEY',
    apiKeyJsonField: 'apiKey',
  },
};

export function isAgentId(value: unknown): value is AgentId {
  return typeof value === 'string' && (RUNTIME_IMAGE_TARGETS as readonly string[]).includes(value);
}

/** The facts of an agent by id; throws naming the known ids for anything else. */
export function agentFacts(id: string): AgentFacts {
  if (!isAgentId(id)) throw new Error(`unknown agent "${id}": expected one of ${RUNTIME_IMAGE_TARGETS.join(', ')}`);
  return AGENTS[id];
}

/** The agent an environment names in {@link ENV_AGENT}, or {@link DEFAULT_AGENT} when it names none. */
export function agentOf(env: Record<string, string | undefined>): AgentFacts {
  const id = env[ENV_AGENT]?.trim();
  return agentFacts(id ? id : DEFAULT_AGENT);
}

/** The way the agent's own tools read a boolean switch (`1`, `true`, `yes`, `on`, any case). */
export function isTruthy(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

/** Whether the agent reaches its models with the runtime's AWS credentials, so it needs no API key. */
export function isKeyless(agent: AgentFacts, env: Record<string, string | undefined>): boolean {
  return agent.keylessSwitch !== undefined && isTruthy(env[agent.keylessSwitch]);
}
