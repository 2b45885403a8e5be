/**
 * The container's environment, handed to the launcher. AgentCore's interactive shell may
 * not have the environment the container was started with (a third party saw it lack even
 * the image's PATH), yet the agent needs what the image and the constructs set there: which
 * agent this is (`OPENAB_AGENT`), its model settings (`CLAUDE_CODE_USE_BEDROCK`,
 * `AWS_REGION`, `ANTHROPIC_MODEL`, `OPENAI_BASE_URL`, …) and the AWS credential chain's
 * variables. The contract server, which has that environment, writes those variables to a
 * private file at start; the launcher adopts each one its own environment does not set.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from './fs-atomic';

/** Variables handed on: the programs' own and those the agents and the AWS SDKs read. */
const HANDED_ON = /^(OPENAB_|AGENTCORE_|AWS_|ANTHROPIC_|CLAUDE_|OPENAI_|CODEX_|KIRO_|DISABLE_)|^(HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/;

/** The variables of `env` the launcher is handed (pure). */
export function handedOn(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && HANDED_ON.test(e[0])).sort(([a], [b]) => a.localeCompare(b)));
}

/** Writes the handed-on variables (mode 0600: they may hold temporary AWS credentials). */
export async function writeRuntimeEnv(file: string, env: Record<string, string | undefined>): Promise<void> {
  await ensurePrivateDir(dirname(file));
  await writeFileAtomic(file, `${JSON.stringify(handedOn(env))}\n`, { mode: 0o600 });
}

/**
 * Sets in `target` each handed-on variable it lacks; returns their names. No file (no
 * contract server: a local run) or an unreadable one adopts nothing.
 */
export function adoptRuntimeEnv(target: Record<string, string | undefined>, file: string): string[] {
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  if (typeof saved !== 'object' || saved === null) return [];
  const adopted: string[] = [];
  for (const [name, value] of Object.entries(saved as Record<string, unknown>)) {
    if (typeof value !== 'string' || !HANDED_ON.test(name) || target[name] !== undefined) continue;
    target[name] = value;
    adopted.push(name);
  }
  return adopted;
}
