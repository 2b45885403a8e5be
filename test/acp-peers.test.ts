// Proves the two ACP test peers (test agent + remote-controlled test client)
// work on their own, without the bridge: the client spawns the test agent
// directly as if it were the bridge.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as pty from 'node-pty';
import { AcpClientDriver, AcpError, ACP_AGENT_BUNDLE, ACP_CLIENT_BUNDLE, REPO_ROOT } from './support/acp-client-driver';
import { bigText, burstText, digestPrompt, digestReply, utf8Bytes } from './support/patterns';

jest.setTimeout(20_000);

/** (Re)bundles the two peers when missing or older than their sources (atomic rename: safe with parallel workers). */
function ensureBundles(): void {
  const sources = ['acp-agent.mts', 'acp-client.mts', 'patterns.ts'].map((f) => path.join(REPO_ROOT, 'test', 'support', f));
  const newest = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs));
  const stale = [
    ['test/support/acp-agent.mts', ACP_AGENT_BUNDLE],
    ['test/support/acp-client.mts', ACP_CLIENT_BUNDLE],
  ].filter(([, out]) => !fs.existsSync(out) || fs.statSync(out).mtimeMs < newest);
  if (stale.length === 0) return;
  const script = `
    import { build } from 'esbuild';
    import { renameSync } from 'node:fs';
    const entries = ${JSON.stringify(stale)};
    await Promise.all(entries.map(async ([entry, out]) => {
      const tmp = out + '.' + process.pid + '.tmp';
      await build({ entryPoints: [entry], outfile: tmp, bundle: true, platform: 'node', target: 'node20', format: 'esm',
        sourcemap: false, legalComments: 'none', logLevel: 'warning' });
      renameSync(tmp, out);
    }));`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: 'inherit' });
}

const tmpDirs: string[] = [];
function tempState(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'acp-peers-'));
  tmpDirs.push(d);
  return d;
}

function receivedLog(stateDir: string): Array<{ pid: number; method: string | null; id: unknown; sessionId: string | null; bytes: number }> {
  return fs
    .readFileSync(path.join(stateDir, 'received.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

beforeAll(() => ensureBundles(), 60_000);

afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('one agent process, driven like OpenAB', () => {
  let d: AcpClientDriver;
  let stateDir: string;
  let agentPid: number;
  let sessionId: string;

  beforeAll(async () => {
    stateDir = tempState();
    d = await AcpClientDriver.start();
    ({ pid: agentPid } = await d.spawn(process.execPath, [ACP_AGENT_BUNDLE], {
      env: { ACP_TEST_AGENT_STATE: stateDir },
      quietUpdates: true,
      stderr: 'pipe',
    }));
  });
  afterAll(() => d.dispose());

  test('initialize advertises loadSession and identifies the agent', async () => {
    const init = await d.initialize({ timeoutMs: 5000 });
    expect(init).toEqual({
      protocolVersion: 1,
      agentCapabilities: { loadSession: true, promptCapabilities: { image: true, embeddedContext: true } },
      agentInfo: { name: 'acp-test-agent', version: '1.0.0' },
      authMethods: [],
    });
  });

  test('session/new then a prompt is echoed in three streamed chunks', async () => {
    sessionId = await d.newSession(stateDir);
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const r = await d.prompt(sessionId, 'hello wörld 😀', { collect: true });
    expect(r.result).toEqual({ stopReason: 'end_turn' });
    expect(r.text).toBe('echo: hello wörld 😀');
    expect(r.updates).toBe(3);
    expect(r.collected!.map((u) => u.sessionUpdate)).toEqual(['agent_message_chunk', 'agent_message_chunk', 'agent_message_chunk']);
    expect(r.collected!.every((u) => u.content.text.length > 0)).toBe(true);
  });

  test('prompt text blocks are concatenated and an OpenAB sender_context is skipped', async () => {
    const r = await d.prompt(sessionId, [
      { type: 'text', text: '<sender_context>\n{"schema":"openab.sender.v1","sender_id":"1"}\n</sender_context>' },
      { type: 'text', text: 'pid' },
    ]);
    expect(r.text).toBe(`pid:${agentPid}`);
  });

  test('burst 5000: every chunk arrives, in order', async () => {
    const r = await d.prompt(sessionId, 'burst 5000', { collect: true });
    expect(r.result.stopReason).toBe('end_turn');
    expect(r.updates).toBe(5000);
    expect(r.text).toBe(burstText(5000));
    expect(r.collected!.map((u) => u.content.text)).toEqual(burstText(5000).split(/(?<=\n)/));
  });

  test('big 5_000_000: one 5 MB multi-byte chunk arrives intact', async () => {
    const r = await d.prompt(sessionId, 'big 5000000');
    expect(r.updates).toBe(1);
    expect(utf8Bytes(r.text)).toBe(5_000_000);
    expect(r.text === bigText(5_000_000)).toBe(true);
  });

  test('digest: a 5 MB prompt reaches the agent intact', async () => {
    const prompt = digestPrompt(5_000_000);
    const r = await d.prompt(sessionId, prompt);
    expect(r.text).toBe(digestReply(prompt));
    expect(r.text).toMatch(/ bytes:5000000$/);
  });

  test('noise: junk on stdout is reported and the prompt still completes', async () => {
    const junk: Array<{ reason: string; line: string }> = [];
    const onJunk = (ev: { reason: string; line: string }) => junk.push(ev);
    d.events.on('junk', onJunk);
    const r = await d.prompt(sessionId, 'noise');
    d.events.off('junk', onJunk);
    expect(r.text).toBe('noise done');
    expect(junk.map((j) => j.reason)).toEqual(['not-json', 'not-json', 'not-jsonrpc']);
    expect(junk[2].line).toBe('{"hello":1}\n');
    // The SDK answered the junk with -32700/-32600 (id null) and the connection survived.
    expect((await d.prompt(sessionId, 'still alive')).text).toBe('echo: still alive');
  });

  test('stderr: a line on stderr, the reply on stdout', async () => {
    const line = d.waitForEvent<{ text: string }>('stderr', (ev) => ev.text.includes('a line on stderr'), 5000);
    const r = await d.prompt(sessionId, 'stderr');
    expect(r.text).toBe('stderr done');
    await line;
  });

  test('permission: answered like OpenAB (allow_always)', async () => {
    const asked = d.waitForEvent<{ params: { options: Array<{ optionId: string }> } }>('permission', () => true, 5000);
    const r = await d.prompt(sessionId, 'permission');
    expect(r.text).toBe('permission:allow_always');
    expect((await asked).params.options.map((o) => o.optionId)).toEqual(['allow_once', 'allow_always', 'reject_once']);
  });

  test('received.log lists every request once', () => {
    const mine = receivedLog(stateDir).filter((e) => e.pid === agentPid && e.method !== null);
    const ids = mine.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(mine[0].method).toBe('initialize');
    expect(mine.filter((e) => e.method === 'session/prompt').length).toBe(9);
    expect(Math.max(...mine.map((e) => e.bytes))).toBeGreaterThan(5_000_000);
  });

  test('exit 3: the in-flight prompt fails, the exit is reported', async () => {
    const exited = d.waitForEvent<{ pid: number; code: number }>('exit', () => true, 5000);
    const err = await d.prompt(sessionId, 'exit 3').catch((e) => e);
    expect(err).toBeInstanceOf(AcpError);
    expect(err.code).toBe(-1);
    expect(await exited).toMatchObject({ pid: agentPid, code: 3 });
    await expect(d.prompt(sessionId, 'anyone?')).rejects.toMatchObject({ code: -1 });
  });
});

describe('sessions across agent processes, load modes, cancel', () => {
  let d: AcpClientDriver;
  let stateDir: string;
  const spawnAgent = async (env: Record<string, string> = {}, quietUpdates = false) => {
    const { pid } = await d.spawn(process.execPath, [ACP_AGENT_BUNDLE], { env: { ACP_TEST_AGENT_STATE: stateDir, ...env }, quietUpdates });
    await d.initialize({ timeoutMs: 5000 });
    return pid;
  };

  beforeAll(async () => {
    stateDir = tempState();
    d = await AcpClientDriver.start();
  });
  afterAll(() => d.dispose());

  test('a NEW agent process loads the session: history replayed, conversation continues', async () => {
    const pidA = await spawnAgent();
    const sid = await d.newSession('/tmp');
    await d.prompt(sid, 'first');
    await d.prompt(sid, 'second');
    expect(await d.close({ timeoutMs: 5000 })).toMatchObject({ pid: pidA, code: 0 });

    const pidB = await spawnAgent();
    expect(pidB).not.toBe(pidA);
    const replay: Array<{ sessionUpdate: string; content: { text: string } }> = [];
    const onUpdate = (ev: { sessionId: string; update: any }) => ev.sessionId === sid && replay.push(ev.update);
    d.events.on('update', onUpdate);
    expect(await d.loadSession(sid, '/tmp', { timeoutMs: 5000 })).toEqual({});
    d.events.off('update', onUpdate);
    expect(replay.map((u) => [u.sessionUpdate, u.content.text])).toEqual([
      ['user_message_chunk', 'first'],
      ['agent_message_chunk', 'echo: first'],
      ['user_message_chunk', 'second'],
      ['agent_message_chunk', 'echo: second'],
    ]);
    expect((await d.prompt(sid, 'history')).text).toBe('["first","second"]');
    expect((await d.prompt(sid, 'pid')).text).toBe(`pid:${pidB}`);

    // Prompting a session this process never created nor loaded is an error.
    await expect(d.prompt('00000000-0000-0000-0000-000000000000', 'hi')).rejects.toMatchObject({ code: -32002 });
    await expect(d.loadSession('00000000-0000-0000-0000-000000000000', '/tmp')).rejects.toMatchObject({ code: -32002 });
    const log = receivedLog(stateDir).filter((e) => e.pid === pidB && e.method !== null);
    expect(log.map((e) => e.method)).toEqual(['initialize', 'session/load', 'session/prompt', 'session/prompt', 'session/prompt', 'session/load']);
    await d.kill('SIGKILL');
  });

  test('ACP_TEST_AGENT_LOAD=error|exit|hang', async () => {
    await spawnAgent({ ACP_TEST_AGENT_LOAD: 'error' });
    await expect(d.loadSession('x', '/tmp', { timeoutMs: 3000 })).rejects.toMatchObject({ code: -32603 });
    await d.kill();

    const pidExit = await spawnAgent({ ACP_TEST_AGENT_LOAD: 'exit' });
    const exited = d.waitForEvent('exit', (ev: { pid: number }) => ev.pid === pidExit, 5000);
    await expect(d.loadSession('x', '/tmp', { timeoutMs: 3000 })).rejects.toMatchObject({ code: -1 });
    expect(await exited).toMatchObject({ code: 0, signal: null });

    await spawnAgent({ ACP_TEST_AGENT_LOAD: 'hang' });
    await expect(d.loadSession('x', '/tmp', { timeoutMs: 500 })).rejects.toMatchObject({ code: -1, message: 'timeout' });
    // OpenAB's eviction: SIGTERM to the group; Node dies on SIGTERM.
    expect(await d.kill('SIGTERM', { group: true, escalateMs: 1500 })).toMatchObject({ signal: 'SIGTERM' });
  });

  test('session/cancel during `slow 100 50` stops the turn with stopReason cancelled', async () => {
    await spawnAgent();
    const sid = await d.newSession('/tmp');
    const firstChunk = d.waitForEvent('update', (ev: { sessionId: string }) => ev.sessionId === sid, 5000);
    const turn = d.prompt(sid, 'slow 100 50');
    await firstChunk;
    d.cancel(sid);
    const r = await turn;
    expect(r.result.stopReason).toBe('cancelled');
    expect(r.updates).toBeGreaterThan(0);
    expect(r.updates).toBeLessThan(100);
    expect(r.text).toBe(burstText(r.updates));
    await d.close();
  });
});

describe('inside a real PTY in raw mode', () => {
  test('answers JSON lines, including one longer than the 4095-byte canonical limit', async () => {
    const stateDir = tempState();
    const term = pty.spawn('bash', ['--noprofile', '--norc', '-i'], {
      cols: 200,
      rows: 50,
      cwd: stateDir,
      env: { ...process.env, TERM: 'dumb', ACP_TEST_AGENT_STATE: stateDir, ACP_TEST_AGENT_BANNER: 'ACP-AGENT-READY' },
    });
    let output = '';
    const waiters: Array<() => void> = [];
    term.onData((data) => {
      output += data;
      for (const w of waiters.splice(0)) w();
    });
    const waitFor = (pred: () => boolean, what: string, ms = 8000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timeout waiting for ${what}; output: ${JSON.stringify(output.slice(-500))}`)), ms);
        const check = () => (pred() ? (clearTimeout(timer), resolve()) : waiters.push(check));
        check();
      });
    const jsonLines = () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{"jsonrpc"'))
        .map((l) => JSON.parse(l));
    const response = (id: number) => jsonLines().find((m) => m.id === id && ('result' in m || 'error' in m));
    try {
      term.write(`stty raw -echo; exec ${process.execPath} ${ACP_AGENT_BUNDLE}\r`);
      await waitFor(() => output.includes('ACP-AGENT-READY\n'), 'banner');
      const send = (msg: object) => term.write(JSON.stringify({ jsonrpc: '2.0', ...msg }) + '\n');

      send({ id: 1, method: 'initialize', params: { protocolVersion: 1, clientCapabilities: {}, clientInfo: { name: 'openab', version: '0.1.0' } } });
      await waitFor(() => !!response(1), 'initialize response');
      expect(response(1).result.agentInfo.name).toBe('acp-test-agent');
      // Raw mode: no output post-processing, so lines end in \n, not \r\n.
      expect(output).not.toMatch(/"id":1,[^\n]*\r\n/);

      send({ id: 2, method: 'session/new', params: { cwd: stateDir, mcpServers: [] } });
      await waitFor(() => !!response(2), 'session/new response');
      const sessionId = response(2).result.sessionId;

      const prompt = digestPrompt(10_000);
      send({ id: 3, method: 'session/prompt', params: { sessionId, prompt: [{ type: 'text', text: prompt }] } });
      await waitFor(() => !!response(3), 'prompt response');
      expect(response(3).result).toEqual({ stopReason: 'end_turn' });
      const chunk = jsonLines().find((m) => m.method === 'session/update');
      expect(chunk.params.update.content.text).toBe(digestReply(prompt));
    } finally {
      term.kill();
    }
  });
});
