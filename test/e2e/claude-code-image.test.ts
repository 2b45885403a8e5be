// Claude Code (`claude-agent-acp`, pinned in devDependencies) as the claude-code runtime image
// runs it, against the Anthropic Messages API stand-in: HOME on session storage, where its
// conversations are append-only JSONL files.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AnthropicStandIn } from '../support/anthropic-stand-in';
import { filesEndingIn, imageAgentSuite } from '../support/image-agent-suite';
import { anthropicModel, CLAUDE_AGENT_ACP } from '../support/real-agents';

jest.setTimeout(60_000);

imageAgentSuite({
  id: 'claude-code',
  executable: CLAUDE_AGENT_ACP,
  async startModel() {
    const standIn = await AnthropicStandIn.start();
    const keySent = () => standIn.requests.filter((r) => r.path.startsWith('/v1/messages')).map((r) => r.headers['x-api-key']).pop() as string | undefined;
    return { model: anthropicModel(standIn), containerEnv: { ANTHROPIC_BASE_URL: standIn.url, DISABLE_TELEMETRY: '1' }, keySent };
  },
  checkState({ storage, vm }) {
    const conversations = filesEndingIn(path.join(storage, '.claude', 'projects'), '.jsonl');
    expect(conversations).toHaveLength(1);
    expect(readFileSync(path.join(storage, '.claude', 'projects', conversations[0]), 'utf8')).toContain('hello from the image');
    expect(filesEndingIn(storage, '.claude.json')).toContain('.claude.json');
    // Nothing of the conversation is left only on the microVM's disk.
    expect(filesEndingIn(vm, '.jsonl')).toEqual([]);
  },
});
