// Claude Code (`claude-agent-acp`, pinned in devDependencies) as the claude-code runtime image
// runs it: HOME on session storage, where its conversations are append-only JSONL files;
// against the Anthropic Messages API stand-in with an API key, and keyless against the same
// stand-in speaking Amazon Bedrock's runtime API (AWS event stream encoding).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AnthropicStandIn, bedrockModelOf } from '../support/anthropic-stand-in';
import { imageAgentSuite } from '../support/image-agent-suite';
import { anthropicModel, CLAUDE_AGENT_ACP, filesEndingIn } from '../support/real-agents';

jest.setTimeout(60_000);

function checkClaudeState({ storage, vm }: { storage: string; vm: string }): void {
  const conversations = filesEndingIn(path.join(storage, '.claude', 'projects'), '.jsonl');
  expect(conversations).toHaveLength(1);
  expect(readFileSync(path.join(storage, '.claude', 'projects', conversations[0]), 'utf8')).toContain('hello from the image');
  expect(filesEndingIn(storage, '.claude.json')).toContain('.claude.json');
  // Nothing of the conversation is left only on the microVM's disk.
  expect(filesEndingIn(vm, '.jsonl')).toEqual([]);
}

/** The key a request carried, either way the Anthropic SDKs send one. */
function keyOf(standIn: AnthropicStandIn): string | undefined {
  const r = standIn.requests.filter((q) => q.method === 'POST').pop();
  return (r?.headers['x-api-key'] ?? (r?.headers.authorization as string | undefined)?.replace(/^Bearer /, '')) as string | undefined;
}

imageAgentSuite({
  id: 'claude-code',
  via: 'with an Anthropic API key',
  executable: CLAUDE_AGENT_ACP,
  async startModel() {
    const standIn = await AnthropicStandIn.start();
    return { model: anthropicModel(standIn), containerEnv: { ANTHROPIC_BASE_URL: standIn.url, DISABLE_TELEMETRY: '1' }, keySent: () => keyOf(standIn) };
  },
  checkState: checkClaudeState,
});

const BEDROCK_MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
let bedrock: AnthropicStandIn | undefined;

imageAgentSuite({
  id: 'claude-code',
  via: 'keyless on Amazon Bedrock',
  keyless: true,
  executable: CLAUDE_AGENT_ACP,
  async startModel() {
    bedrock = await AnthropicStandIn.start();
    const containerEnv = {
      // What a keyless deployment sets on the runtime.
      CLAUDE_CODE_USE_BEDROCK: '1',
      AWS_REGION: 'us-west-2',
      ANTHROPIC_MODEL: BEDROCK_MODEL,
      // The stand-in instead of bedrock-runtime, unsigned (there are no credentials here), and
      // every other AWS or HTTPS call refused on loopback.
      ANTHROPIC_BEDROCK_BASE_URL: bedrock.url,
      CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '127.0.0.1,localhost',
      DISABLE_TELEMETRY: '1',
    };
    return { model: anthropicModel(bedrock), containerEnv, keySent: () => keyOf(bedrock!) };
  },
  checkState(dirs) {
    checkClaudeState(dirs);
    const turns = bedrock!.requests.filter((r) => r.method === 'POST').map((r) => bedrockModelOf(r.path));
    expect(turns).toContainEqual({ model: BEDROCK_MODEL, stream: true });
    expect(bedrock!.requests.filter((r) => r.path.startsWith('/v1/'))).toEqual([]);
  },
});
