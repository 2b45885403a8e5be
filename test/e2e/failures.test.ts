import { spawnSync } from 'node:child_process';
import { AGENT_COMMAND, BRIDGE_BUNDLE, type Harness, remoteOf, useHarness } from '../support/bridge-harness';

describe('failure is an answer, never a hang', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  const exitOf = () => h.client.waitForEvent<{ code: number | null }>('exit', undefined, 15_000);

  test('the agent crashing mid-prompt fails the prompt with the exit code, and the bridge exits non-zero', async () => {
    const sessionId = await h.newThread();
    const exited = exitOf();
    const err = await h.client.prompt(sessionId, 'exit 3').catch((e) => e);
    expect(err.code).toBe(-32603);
    expect(err.data.code).toBe('BRIDGE_AGENT_EXITED');
    expect(err.message).toContain('exited with code 3');
    expect((await exited).code).toBe(1);
  });

  test('another client taking the shell (4000) fails the prompt with that reason and ends the bridge', async () => {
    const sessionId = await h.newThread();
    const turn = h.client.prompt(sessionId, 'slow 100 20').catch((e) => e);
    await new Promise((r) => setTimeout(r, 200));
    const exited = exitOf();
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'close', code: 4000, reason: 'replaced' });
    const err = await turn;
    expect(err.data.code).toBe('BRIDGE_SHELL_REPLACED');
    expect(err.message).toContain('another client attached to this shell');
    expect((await exited).code).toBe(1);
    // No reattach was tried: a second bridge on the shell would just evict the first again.
    expect(h.logEvents().some((e) => e.event === 'reattach')).toBe(false);
  });

  test('a 1003 close is final too', async () => {
    const sessionId = await h.newThread();
    const turn = h.client.prompt(sessionId, 'slow 100 20').catch((e) => e);
    await new Promise((r) => setTimeout(r, 200));
    h.emulator.dropConnections({}, { mode: 'close', code: 1003, reason: 'text frames' });
    const err = await turn;
    expect(err.data.code).toBe('BRIDGE_CONNECTION_CLOSED');
    expect(err.message).toContain('refused the connection');
  });

  test.each([
    [409, 'RetryableConflictException'],
    [429, 'ThrottlingException'],
    [424, 'RuntimeClientError'],
  ])('%i %s on upgrade is retried with backoff', async (status, type) => {
    h.emulator.failNextUpgrades(2, status, type, 'try again');
    const sessionId = await h.newThread();
    expect((await h.client.prompt(sessionId, 'ok')).text).toBe('echo: ok');
    expect(h.logEvents().filter((e) => e.event === 'connect-retry')).toHaveLength(2);
  });

  test('403 fails at once with what to fix', async () => {
    h.emulator.failNextUpgrades(1, 403, 'AccessDeniedException', 'User is not authorized');
    await h.spawnBridge();
    await h.client.initialize();
    const started = Date.now();
    const err = await h.client.newSession('/tmp').catch((e) => e);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(err.data.code).toBe('BRIDGE_ACCESS_DENIED');
    expect(err.message).toContain('access denied');
    expect(err.message).toContain('bedrock-agentcore:InvokeAgentRuntimeCommandShell');
    expect(h.logEvents().some((e) => e.event === 'connect-retry')).toBe(false);
  });

  test('wrong credentials are refused by the signature check and reported as access denied', async () => {
    await h.spawnBridge({ env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    await h.client.initialize();
    const err = await h.client.newSession('/tmp').catch((e) => e);
    expect(err.data.code).toBe('BRIDGE_ACCESS_DENIED');
    expect(err.message).toContain('InvalidSignatureException');
    // The secret never reaches the log.
    expect(JSON.stringify(h.logEvents())).not.toContain('not-the-secret');
  });

  test('an unreachable endpoint fails within the retry window with a clear message', async () => {
    await h.client.spawn(process.execPath, h.bridgeArgs(['--endpoint-url', 'http://127.0.0.1:9']), { env: h.bridgeEnv(), replaceEnv: true });
    await h.client.initialize();
    const err = await h.client.newSession('/tmp', { timeoutMs: 40_000 }).catch((e) => e);
    expect(err.data.code).toBe('BRIDGE_UNREACHABLE');
    expect(err.message).toContain('cannot reach AgentCore at 127.0.0.1:9');
  }, 45_000);

  test('an agent command that does not exist is reported with the shell\'s words', async () => {
    await h.spawnBridge({ shellCommand: 'no-such-agent-cli acp' });
    await h.client.initialize();
    const err = await h.client.newSession('/tmp').catch((e) => e);
    expect(err.data.code).toBe('BRIDGE_AGENT_EXITED');
    expect(err.message).toContain('exited with code 127');
    expect(err.message).toContain('no-such-agent-cli: not found');
  });

  test('bad input on stdin gets JSON-RPC errors and the bridge keeps serving', async () => {
    const sessionId = await h.newThread();
    for (const line of ['this is not json', '[1,2,3]', '42', '{"jsonrpc":"1.0","id":99,"method":"x"}', '{"id":5}']) {
      await h.client.write(`${line}\n`);
    }
    // stdin is read in order, so by the time this prompt is answered every bad line has been handled.
    expect((await h.client.prompt(sessionId, 'still serving')).text).toBe('echo: still serving');
    const bad = h.logEvents().filter((e) => e.event === 'client-bad-message');
    expect(bad.map((e) => e.code)).toEqual([-32700, -32600, -32600, -32600, -32600]);
  });

  test('agent noise on the terminal never reaches the client', async () => {
    const sessionId = await h.newThread({ spawn: { filter: 'none' } });
    const reply = await h.promptCountingJunk(sessionId, 'noise');
    expect(reply.text).toBe('noise done');
    expect(reply.junk).toEqual([]);
    expect(h.logEvents().filter((e) => e.event === 'agent-noise').length).toBeGreaterThanOrEqual(3);
  });

  test.each([
    ['its answer to initialize', 'initialize'],
    ['its answer to the probe', 'start'],
  ])('%s, written on the same line behind terminal queries, reaches the bridge, and the queries do not reach the client', async (_what, when) => {
    const sessionId = await h.newThread({ shellCommand: `ACP_TEST_AGENT_TERMINAL_QUERIES=${when} ${AGENT_COMMAND}`, spawn: { filter: 'none' } });
    // The probe was answered, not timed out (which would cost 5 s and leave the mode to a guess).
    expect(h.logEvents().some((e) => e.event === 'probe-timeout')).toBe(false);
    const reply = await h.promptCountingJunk(sessionId, 'hello');
    expect(reply.text).toBe('echo: hello');
    expect(reply.junk).toEqual([]);
    const events = h.logEvents();
    // Skipped in front of the answer to initialize; in front of the probe's answer the probe reads past them itself.
    expect(events.filter((e) => e.event === 'terminal-controls-skipped').map((e) => e.bytes)).toEqual(when === 'initialize' ? [20] : []);
    expect(events.filter((e) => e.event === 'agent-noise')).toEqual([]);
  });

  test('what the agent printed stays out of the error the client gets and of the error log, whatever it held', async () => {
    const sessionId = await h.newThread({ spawn: { filter: 'none' } });
    expect((await h.client.prompt(sessionId, 'noise')).text).toBe('noise done');
    const err = await h.client.prompt(sessionId, 'exit 3').catch((e) => e);
    expect(err.data.code).toBe('BRIDGE_AGENT_EXITED');
    expect(err.message).toContain('exited with code 3');
    expect(err.message).not.toContain('not JSON at all');
    const events = h.logEvents();
    const atWarnOrError = events.filter((e) => e.level === 'error' || e.level === 'warn');
    expect(JSON.stringify(atWarnOrError)).not.toContain('not JSON at all');
    // Kept for whoever debugs, at debug level.
    expect(JSON.stringify(events.filter((e) => e.event === 'agent-last-output'))).toContain('not JSON at all');
  });

  test('stdin EOF detaches the shell (the agent keeps running) and exits 0', async () => {
    const sessionId = await h.newThread();
    const { code } = await h.client.close();
    expect(code).toBe(0);
    const shells = h.emulator.stats().shells.filter((s) => s.sessionId === remoteOf(sessionId).runtimeSessionId);
    expect(shells.map((s) => s.alive)).toEqual([true]);
    expect(h.emulator.stats().connections.find((c) => c.sessionId === remoteOf(sessionId).runtimeSessionId)?.closeCode).toBe(1000);
  });

  test('heartbeats keep an idle connection alive and are answered', async () => {
    const sessionId = await h.newThread({ env: { OPENAB_BRIDGE_HEARTBEAT_MS: '100' } });
    await new Promise((r) => setTimeout(r, 700));
    const conn = h.emulator.stats().connections.find((c) => c.sessionId === remoteOf(sessionId).runtimeSessionId)!;
    expect(conn.open).toBe(true);
    expect(conn.framesReceived.HEARTBEAT ?? 0).toBeGreaterThanOrEqual(4);
    expect((await h.client.prompt(sessionId, 'awake')).text).toBe('echo: awake');
  });
});

describe('the command line', () => {
  test.each([
    [['--runtime-arn', 'nope'], '--runtime-arn must look like'],
    [['--runtime-arn', 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a_b-AbCdE12345', '--cancel-strategy', 'kill'], '--cancel-strategy must be "stop" or "noop"'],
    [['--runtime-arn', 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a_b-AbCdE12345', '--shell-command', 'a\nb'], 'single line'],
    [['--runtime-arn', 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a_b-AbCdE12345', '--log-file', '/nonexistent/dir/log'], '--log-file cannot be opened'],
  ])('%j exits 2 with one line before any network call', (args, message) => {
    const r = spawnSync(process.execPath, [BRIDGE_BUNDLE, ...args], { encoding: 'utf8', input: '', env: { PATH: process.env.PATH } });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });

  test('--help documents every flag', () => {
    const r = spawnSync(process.execPath, [BRIDGE_BUNDLE, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const flag of ['--runtime-arn', '--region', '--qualifier', '--shell-command', '--cancel-strategy', '--endpoint-url', '--log-level', '--log-file', '--help', '--version']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('kiro-cli acp --trust-all-tools');
  });
});
