// The whole chain on this machine, no AWS account needed: starts the local AgentCore
// emulator, spawns the bundled bridge the way OAB does, and drives one thread through
// initialize → session/new → a streamed prompt → session/load from a second bridge.
// Then, when the npm-published Codex agent is installed (a devDependency), one turn of
// the real agent through the same chain, against a local stand-in for its model API.
//
//   npm run demo                      (after npm ci)
//   npm run demo -- "your prompt"
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => join(root, 'dist', p);
const work = mkdtempSync(join(tmpdir(), 'openab-agentcore-demo-'));
const promptText = process.argv[2] ?? 'What does this bridge do?';
const dim = (s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const children = [];
const cleanup = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
process.on('exit', cleanup);

function step(text) {
  process.stdout.write(`${bold('▶')} ${text}\n`);
}

async function startEmulator() {
  const emu = spawn(process.execPath, [dist('test/emulator.js'), '--port', '0', '--state-dir', join(work, 'runtime-sessions')], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(emu);
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: emu.stdout }).once('line', resolve);
    emu.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return JSON.parse(line);
}

/** One bridge process, spoken to with newline-delimited JSON-RPC exactly as OAB does. */
function startBridge(emulator, logFile, shellCommand = `${process.execPath} ${dist('test/acp-agent.mjs')}`) {
  const bridge = spawn(
    process.execPath,
    [
      dist('bridge.js'),
      '--runtime-arn', emulator.runtimeArn,
      '--endpoint-url', emulator.url,
      '--shell-command', shellCommand,
      '--log-file', logFile,
    ],
    {
      // OAB clears the environment; these are what its inherit_env would pass.
      env: {
        PATH: process.env.PATH,
        HOME: work,
        AWS_ACCESS_KEY_ID: emulator.accessKeyId,
        AWS_SECRET_ACCESS_KEY: emulator.secretAccessKey,
        AWS_REGION: emulator.region,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  children.push(bridge);
  const waiting = new Map();
  let nextId = 1;
  let onUpdate = () => undefined;
  createInterface({ input: bridge.stdout }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.method === 'session/update') onUpdate(msg.params.update);
    else if (msg.id !== undefined && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  });
  const request = (method, params) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const started = Date.now();
      waiting.set(id, (msg) => (msg.error ? reject(new Error(msg.error.message)) : resolve({ result: msg.result, ms: Date.now() - started })));
      bridge.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  return {
    request,
    onUpdate: (fn) => (onUpdate = fn),
    end: () => new Promise((resolve) => {
      bridge.once('exit', resolve);
      bridge.stdin.end();
    }),
  };
}

const initParams = { protocolVersion: 1, clientCapabilities: {}, clientInfo: { name: 'openab', version: '0.1.0' } };

/**
 * One turn of the real Codex agent (codex-acp, installed as a devDependency) in the emulator's
 * shell, its model API a local stand-in that streams an echo of the prompt: nothing leaves
 * this machine. Skipped, saying why, when the agent has no binary for this platform.
 */
async function realAgentTurn(emulator, logFile) {
  const { codex } = createRequire(import.meta.url)(dist('test/real-agents.js'));
  let started;
  try {
    started = await codex.start({ dir: work });
  } catch (e) {
    console.log(dim(`  skipped: ${e.message}`));
    return;
  }
  const { model, shellCommand } = started;
  try {
    const bridge = startBridge(emulator, logFile, shellCommand);
    await bridge.request('initialize', initParams);
    const created = await bridge.request('session/new', { cwd: work, mcpServers: [] });
    console.log(`  session/new ${dim(`${created.ms} ms`)}: Codex started in a new shell`);
    const text = 'Say hello from AgentCore';
    process.stdout.write(`  prompt: "${text}"\n  codex: `);
    bridge.onUpdate((u) => {
      if (u.sessionUpdate === 'agent_message_chunk' && u.content?.type === 'text') process.stdout.write(u.content.text);
    });
    const answer = await bridge.request('session/prompt', { sessionId: created.result.sessionId, prompt: [{ type: 'text', text }] });
    console.log(`\n  stopReason=${answer.result.stopReason} ${dim(`(${answer.ms} ms)`)}`);
    console.log(dim(`  the model stand-in received the prompt: "${model.lastPrompt()}"`));
    await bridge.end();
  } finally {
    await model.stop();
  }
}

try {
  const emulator = await startEmulator();
  step(`AgentCore emulator on ${emulator.url}`);
  console.log(dim(`  runtime ${emulator.runtimeArn}`));

  const logFile = join(work, 'bridge.log');
  const first = startBridge(emulator, logFile);
  step('OAB spawns the bridge for a new chat thread');
  const init = await first.request('initialize', initParams);
  console.log(`  initialize ${dim(`${init.ms} ms`)}: loadSession=${init.result.agentCapabilities.loadSession}`);
  const created = await first.request('session/new', { cwd: '/tmp', mcpServers: [] });
  const sessionId = created.result.sessionId;
  console.log(`  session/new ${dim(`${created.ms} ms`)}: ${sessionId}`);
  console.log(dim('  (opened a SigV4-signed shell, put its PTY in raw mode, started the agent in it)'));

  step(`prompt: "${promptText}"`);
  let chunks = 0;
  process.stdout.write('  agent: ');
  first.onUpdate((u) => {
    if (u.sessionUpdate === 'agent_message_chunk' && u.content?.type === 'text') {
      chunks++;
      process.stdout.write(u.content.text);
    }
  });
  const answer = await first.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: promptText }] });
  console.log(`\n  stopReason=${answer.result.stopReason} ${dim(`(${chunks} streamed chunks, ${answer.ms} ms)`)}`);

  step('OAB evicts the thread (the bridge exits) and later resumes it with a new bridge');
  await first.end();
  const second = startBridge(emulator, logFile);
  await second.request('initialize', initParams);
  const loaded = await second.request('session/load', { sessionId, cwd: '/tmp', mcpServers: [] });
  console.log(`  session/load ${dim(`${loaded.ms} ms`)}: reattached to the same shell and the same running agent`);
  let text = '';
  second.onUpdate((u) => {
    if (u.sessionUpdate === 'agent_message_chunk') text += u.content?.text ?? '';
  });
  await second.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'history' }] });
  console.log(`  the agent still remembers the thread: ${text}`);
  await second.end();

  step('a real agent: Codex (codex-acp), its model API a local stand-in that echoes (no model is called)');
  await realAgentTurn(emulator, join(work, 'codex-bridge.log'));

  const events = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l).event);
  step(`done. The bridge's structured log (${events.length} events) is in ${logFile}`);
  console.log(dim(`  ${[...new Set(events)].join(', ')}`));
  cleanup();
  process.exit(0);
} catch (e) {
  console.error(`\ndemo failed: ${e.message}\nsee ${join(work, 'bridge.log')}`);
  cleanup();
  process.exit(1);
}
