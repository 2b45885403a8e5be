import { agentFacts, agentOf, AGENTS, DEFAULT_AGENT, isAgentId, isKeyless, isTruthy, RUNTIME_IMAGE_TARGETS } from '../../shared/contract/agents';
import { DEFAULT_SHELL_COMMAND } from '../../shared/contract/bridge-cli';

describe('agent facts', () => {
  test('there is one image target per agent, named by the agent id, and every agent has its facts', () => {
    expect(RUNTIME_IMAGE_TARGETS).toEqual(['kiro', 'claude-code', 'codex']);
    for (const id of RUNTIME_IMAGE_TARGETS) expect(AGENTS[id]).toMatchObject({ id, imageTarget: id });
    expect(Object.keys(AGENTS).sort()).toEqual([...RUNTIME_IMAGE_TARGETS].sort());
  });

  test.each([
    ['kiro', 'kiro-cli acp --trust-all-tools', 'KIRO_API_KEY'],
    ['claude-code', 'claude-agent-acp', 'ANTHROPIC_API_KEY'],
    ['codex', 'codex-acp', 'OPENAI_API_KEY'],
  ])('%s starts with "%s" and reads its key from %s', (id, command, keyEnv) => {
    expect(agentFacts(id)).toMatchObject({ shellCommand: command, apiKeyEnv: keyEnv, apiKeyJsonField: 'apiKey' });
  });

  test("the bridge's default shell command is the default agent's (Kiro's)", () => {
    expect(DEFAULT_AGENT).toBe('kiro');
    expect(DEFAULT_SHELL_COMMAND).toBe(AGENTS.kiro.shellCommand);
  });

  test('an unknown agent is refused by name, with the known ones listed', () => {
    expect(isAgentId('codex')).toBe(true);
    expect(isAgentId('gemini')).toBe(false);
    expect(isAgentId(undefined)).toBe(false);
    expect(() => agentFacts('gemini')).toThrow('unknown agent "gemini": expected one of kiro, claude-code, codex');
  });

  test('OPENAB_AGENT names the agent; unset or empty means Kiro, and a bad name throws', () => {
    expect(agentOf({ OPENAB_AGENT: 'claude-code' }).id).toBe('claude-code');
    expect(agentOf({ OPENAB_AGENT: ' codex ' }).id).toBe('codex');
    expect(agentOf({}).id).toBe('kiro');
    expect(agentOf({ OPENAB_AGENT: '' }).id).toBe('kiro');
    expect(() => agentOf({ OPENAB_AGENT: 'Codex' })).toThrow('unknown agent "Codex"');
  });

  test('only Claude Code runs keyless, and only when CLAUDE_CODE_USE_BEDROCK is truthy', () => {
    expect(isKeyless(AGENTS['claude-code'], { CLAUDE_CODE_USE_BEDROCK: '1' })).toBe(true);
    expect(isKeyless(AGENTS['claude-code'], { CLAUDE_CODE_USE_BEDROCK: 'TRUE' })).toBe(true);
    expect(isKeyless(AGENTS['claude-code'], { CLAUDE_CODE_USE_BEDROCK: '0' })).toBe(false);
    expect(isKeyless(AGENTS['claude-code'], {})).toBe(false);
    expect(isKeyless(AGENTS.kiro, { CLAUDE_CODE_USE_BEDROCK: '1' })).toBe(false);
    expect(isKeyless(AGENTS.codex, { CLAUDE_CODE_USE_BEDROCK: '1' })).toBe(false);
  });

  test('a switch is truthy as 1, true, yes or on, in any case, and nothing else', () => {
    for (const v of ['1', 'true', 'Yes', ' on ']) expect(isTruthy(v)).toBe(true);
    for (const v of [undefined, '', '0', 'false', 'no', 'off', 'enabled']) expect(isTruthy(v)).toBe(false);
  });
});
