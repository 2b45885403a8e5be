// Codex's ACP agent (`@zed-industries/codex-acp`, pinned in devDependencies, its native binary
// from the per-platform optional dependency) against the OpenAI Responses API stand-in: the
// cases of real-agent-suite.ts.
import { realAgentSuite } from '../support/real-agent-suite';
import { codex } from '../support/real-agents';

realAgentSuite(codex, 'plain');
realAgentSuite(codex, 'framed');
