// Codex (`codex-acp`, pinned in devDependencies, its native binary from the per-platform
// optional dependency) as the codex runtime image runs it, against the OpenAI Responses API
// stand-in: CODEX_HOME on session storage (config.toml rendered at start, rollout JSONL files),
// its SQLite databases on the microVM's disk and copied to session storage after each turn.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'smol-toml';
import { imageAgentSuite, VAULT_KEY } from '../support/image-agent-suite';
import { OpenAiStandIn } from '../support/openai-stand-in';
import { codexAcpBinary, filesEndingIn, responsesModel } from '../support/real-agents';

jest.setTimeout(60_000);

imageAgentSuite({
  id: 'codex',
  via: 'with an OpenAI API key',
  executable: codexAcpBinary(),
  shellEnv: { RUST_LOG: 'warn' },
  async startModel() {
    const standIn = await OpenAiStandIn.start();
    const keySent = () => {
      const auth = standIn.requests.filter((r) => r.path.startsWith('/v1/responses')).map((r) => r.headers.authorization).pop() as string | undefined;
      return auth?.replace(/^Bearer /, '');
    };
    // A model Codex has metadata for: with an unknown one it warns inside the conversation itself.
    return { model: responsesModel(standIn), containerEnv: { OPENAI_BASE_URL: standIn.baseUrl, OPENAB_CODEX_MODEL: 'gpt-5.4-mini' }, keySent };
  },
  checkState({ storage, vm }, { baseUrl }) {
    const codexHome = path.join(storage, '.codex');
    expect(parse(readFileSync(path.join(codexHome, 'config.toml'), 'utf8'))).toMatchObject({
      model: 'gpt-5.4-mini',
      model_provider: 'openab',
      approval_policy: 'untrusted',
      model_providers: { openab: { base_url: baseUrl, env_key: 'OPENAI_API_KEY', wire_api: 'responses' } },
    });
    expect(readFileSync(path.join(codexHome, 'config.toml'), 'utf8')).not.toContain(VAULT_KEY);
    const rollouts = filesEndingIn(path.join(codexHome, 'sessions'), '.jsonl');
    expect(rollouts).toHaveLength(1);
    expect(readFileSync(path.join(codexHome, 'sessions', rollouts[0]), 'utf8')).toContain('hello from the image');
    // Its databases live on the microVM's disk, and a checked copy of each (not the logs) on session storage.
    const local = filesEndingIn(path.join(vm, 'data', 'codex'), '.sqlite');
    expect(local).toEqual(expect.arrayContaining([expect.stringMatching(/^state_\d+\.sqlite$/)]));
    const saved = filesEndingIn(path.join(codexHome, 'sqlite'), '.sqlite');
    expect(saved.sort()).toEqual(local.filter((f) => !f.startsWith('logs_')).sort());
    expect(filesEndingIn(codexHome, '.sqlite').filter((f) => !f.startsWith('sqlite/'))).toEqual([]);
  },
});
