// Claude Code's ACP agent (`@zed-industries/claude-agent-acp`, pinned in devDependencies) against
// the Anthropic Messages API stand-in: the cases of real-agent-suite.ts.
import { realAgentSuite } from '../support/real-agent-suite';
import { claudeCode } from '../support/real-agents';

realAgentSuite(claudeCode, 'plain');
realAgentSuite(claudeCode, 'framed');
