import { RUNTIME_IMAGE_TARGETS, AGENTS, type AgentFacts, isAgentId } from '../shared/contract/agents';

/**
 * Which coding agent a runtime carries. One choice picks the image's build target in this
 * package's `runtimes/Dockerfile`, the ACP command the bridge runs, the variable the agent
 * reads its API key from and the grants the runtime needs (Amazon Bedrock for keyless
 * Claude Code). An enum-like class, so every CDK language sees the same three values.
 */
export class CodingAgent {
  /** Kiro CLI (`kiro-cli acp --trust-all-tools`); its key goes in `KIRO_API_KEY`. */
  static readonly KIRO = new CodingAgent(AGENTS.kiro);
  /** Claude Code through its ACP adapter (`claude-agent-acp`); its key goes in `ANTHROPIC_API_KEY`, or no key with Amazon Bedrock. */
  static readonly CLAUDE_CODE = new CodingAgent(AGENTS['claude-code']);
  /** Codex through its ACP adapter (`codex-acp`); its key goes in `OPENAI_API_KEY`. */
  static readonly CODEX = new CodingAgent(AGENTS.codex);

  /** Every agent this package has an image for. */
  static all(): CodingAgent[] {
    return [CodingAgent.KIRO, CodingAgent.CLAUDE_CODE, CodingAgent.CODEX];
  }

  /**
   * The agent with this id (`kiro`, `claude-code` or `codex`), as a config file names it.
   * Throws naming the ids there are; use {@link CodingAgent.isId} to check first.
   */
  static fromId(id: string): CodingAgent {
    if (!isAgentId(id)) throw new Error(`agent must be ${RUNTIME_IMAGE_TARGETS.map((a) => `"${a}"`).join(', ')}, got "${id}"`);
    return CodingAgent.all().find((a) => a.id === id)!;
  }

  /** True when `id` names an agent {@link CodingAgent.fromId} knows. */
  static isId(id: string): boolean {
    return isAgentId(id);
  }

  /** The agent's id: `kiro`, `claude-code` or `codex`. */
  readonly id: string;
  /** The build target of this package's `runtimes/Dockerfile` that holds the agent. */
  readonly imageTarget: string;
  /** The ACP command the bridge types into the runtime's shell unless told otherwise. */
  readonly shellCommand: string;
  /** The environment variable the agent reads its API key from (the runtime puts the Token Vault key there). */
  readonly apiKeyEnvironmentVariable: string;
  /** The JSON field of the key's secret read unless told otherwise. */
  readonly apiKeyJsonField: string;

  private constructor(facts: AgentFacts) {
    this.id = facts.id;
    this.imageTarget = facts.imageTarget;
    this.shellCommand = facts.shellCommand;
    this.apiKeyEnvironmentVariable = facts.apiKeyEnv;
    this.apiKeyJsonField = facts.apiKeyJsonField;
  }
}
