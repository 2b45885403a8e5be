/**
 * The emulator against real peers: a `ws` client signed like the SDK, real bash in real PTYs.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShellChannel } from '../../bridge/src/shell/shell-frame';
import {
  AgentCoreEmulator,
  TEST_CREDENTIALS,
  TEST_RUNTIME_ARN,
  TEST_TEMPORARY_CREDENTIALS,
  type EmulatorOptions,
} from '../support/emulator/emulator';
import { TestShellClient, type ConnectResult } from '../support/emulator/test-client';
import type { SignShellOptions } from '../support/emulator/sign-for-test';

const newSessionId = (): string => `emulator-test-${randomUUID()}`;

/** Resolves once `check` holds, polling; rejects after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function expectFailure(result: ConnectResult): Extract<ConnectResult, { ok: false }>['failure'] {
  if (result.ok) {
    result.client.terminate();
    throw new Error('expected the upgrade to be refused');
  }
  return result.failure;
}

describe('AgentCoreEmulator', () => {
  let emulator: AgentCoreEmulator;
  const clients: TestShellClient[] = [];
  const opts = (extra: Partial<SignShellOptions> = {}): SignShellOptions => ({
    endpoint: emulator.url, shellId: 'main', sessionId: newSessionId(), ...extra,
  });
  const connect = async (o: SignShellOptions): Promise<TestShellClient> => {
    const c = await TestShellClient.connect(o);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    emulator = await AgentCoreEmulator.start();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.terminate();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('attaches a real bash in a PTY, in the session directory, with the minimal PATH', async () => {
    const o = opts();
    const client = await connect(o);
    expect(client.upgradeHeaders['x-amzn-bedrock-agentcore-runtime-session-id']).toBe(o.sessionId);
    expect(client.upgradeHeaders['x-amzn-bedrock-agentcore-shell-id']).toBe('main');
    await expect(client.confirmation()).resolves.toEqual({ type: 'attached', shellId: 'main', reconnected: false, bytesDropped: 0 });
    expect(client.frames[0].channel).toBe(ShellChannel.STATUS);

    client.sendLine('echo "out:$((6*7)):$PWD:$PATH:$TERM"; echo hello');
    const out = await client.waitForOutput(/out:42:[^\r\n]*\r\nhello\r\n/);
    const dir = emulator.sessionDir(o.sessionId!);
    expect(out).toContain(`out:42:${dir}:/usr/bin:/bin:xterm-256color`);
    expect(existsSync(dir)).toBe(true);
    // bash 5.2 turns bracketed paste on at its prompt; the bridge has to cope with it.
    expect(out).toContain('\u001b[?2004h');
    // No frame is ever empty, and every one fits the 65 536-byte message limit.
    expect(client.frames.every((f) => f.payload.length > 0 || f.channel === ShellChannel.HEARTBEAT)).toBe(true);
  });

  it('reattaches: confirmation reconnected:true first, then the replay including what the client already saw', async () => {
    const o = opts();
    const first = await connect(o);
    await first.confirmation();
    first.sendLine('echo first-$((1+1))');
    await first.waitForOutput('first-2');
    // Output made while detached must reach the replay too: the shell runs on.
    first.sendLine('sleep 0.3; echo during-$((2+2)); touch flag');
    await first.waitForOutput('touch flag');
    const detached = emulator.waitFor('detach', (e) => e.sessionId === o.sessionId);
    first.terminate();
    await detached;
    await until(() => existsSync(join(emulator.sessionDir(o.sessionId!), 'flag')), 5000, 'the detached command');

    const second = await connect(o);
    expect(await second.confirmation()).toEqual({ type: 'attached', shellId: 'main', reconnected: true, bytesDropped: 0 });
    expect(second.frames[0].channel).toBe(ShellChannel.STATUS);
    const replay = await second.waitForOutput('during-4');
    expect(replay).toContain('first-2');
  });

  it('a dropped socket (no close frame) only detaches; the client sees 1006 and the shell survives', async () => {
    const o = opts();
    const client = await connect(o);
    await client.confirmation();
    client.sendLine('export KEEP=kept-$((5*5))');
    await client.waitForOutput('export KEEP');
    expect(emulator.dropConnections({ sessionId: o.sessionId }, { mode: 'destroy' })).toBe(1);
    expect((await client.waitForClose()).code).toBe(1006);
    const shell = emulator.stats().shells.find((s) => s.sessionId === o.sessionId)!;
    expect(shell).toMatchObject({ alive: true, attached: false });

    const again = await connect(o);
    expect((await again.confirmation()).reconnected).toBe(true);
    again.sendLine('echo "$KEEP"');
    await again.waitForOutput('kept-25');
  });

  it('dropConnections close mode sends the requested code', async () => {
    const o = opts();
    const client = await connect(o);
    await client.confirmation();
    expect(emulator.dropConnections({ sessionId: o.sessionId, shellId: 'other' }, { mode: 'close', code: 1001 })).toBe(0);
    expect(emulator.dropConnections({ sessionId: o.sessionId, shellId: 'main' }, { mode: 'close', code: 1001, reason: 'deploy' })).toBe(1);
    expect(await client.waitForClose()).toEqual({ code: 1001, reason: 'deploy' });
  });

  it('a second client on the same shell closes the first with 4000', async () => {
    const o = opts();
    const first = await connect(o);
    await first.confirmation();
    const second = await connect(o);
    expect((await first.waitForClose()).code).toBe(4000);
    expect((await second.confirmation()).reconnected).toBe(true);
    second.sendLine('echo second-$((3*3))');
    await second.waitForOutput('second-9');
    expect(first.output()).not.toContain('second-9');
  });

  it('closes with 1003 after 5 consecutive text frames, and only consecutive ones count', async () => {
    const client = await connect(opts());
    await client.confirmation();
    const heartbeats = (): number => client.frames.filter((f) => f.channel === ShellChannel.HEARTBEAT).length;
    for (let round = 1; round <= 2; round++) {
      for (let i = 0; i < 4; i++) client.ws.send('text');
      client.send(ShellChannel.HEARTBEAT);
      await client.waitUntil(() => heartbeats() === round, 5000, 'heartbeat echo');
    }
    expect(client.closed).toBeUndefined();
    for (let i = 0; i < 5; i++) client.ws.send('text');
    expect((await client.waitForClose()).code).toBe(1003);
  });

  it('echoes HEARTBEAT with an empty HEARTBEAT, and ignores unknown channels and empty messages', async () => {
    const client = await connect(opts());
    await client.confirmation();
    client.ws.send(Buffer.alloc(0));
    client.send(0x07, Buffer.alloc(65_535, 1)); // largest allowed message, on an unknown channel
    client.send(ShellChannel.HEARTBEAT);
    await client.waitUntil(() => client.frames.some((f) => f.channel === ShellChannel.HEARTBEAT), 5000, 'heartbeat echo');
    const echo = client.frames.find((f) => f.channel === ShellChannel.HEARTBEAT)!;
    expect(echo.payload.length).toBe(0);
    expect(client.closed).toBeUndefined();
    const conn = emulator.stats().connections.find((c) => c.sessionId === client.upgradeHeaders['x-amzn-bedrock-agentcore-runtime-session-id'])!;
    expect(conn.framesReceived).toMatchObject({ EMPTY: 1, 'UNKNOWN(0x07)': 1, HEARTBEAT: 1 });
  });

  it('closes with 1009 on a 70 000-byte message; the shell stays alive', async () => {
    const o = opts();
    const client = await connect(o);
    await client.confirmation();
    client.send(ShellChannel.STDIN, Buffer.alloc(69_999, 0x61));
    expect((await client.waitForClose()).code).toBe(1009);
    await until(() => emulator.stats().connections.some((c) => c.sessionId === o.sessionId && !c.open));
    const shell = emulator.stats().shells.find((s) => s.sessionId === o.sessionId)!;
    expect(shell.alive).toBe(true);
    const again = await connect(o);
    expect((await again.confirmation()).reconnected).toBe(true);
  });

  it('closes with 1008 when a client sends more than 250 frames within a second', async () => {
    const o = opts();
    const client = await connect(o);
    await client.confirmation();
    for (let i = 0; i < 300; i++) client.send(ShellChannel.HEARTBEAT);
    const closed = await client.waitForClose();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/rate/);
    const conn = emulator.stats().connections.find((c) => c.sessionId === o.sessionId)!;
    expect(conn.maxFramesPerSecond).toBe(251);
    expect(conn.framesReceived.HEARTBEAT).toBe(250);
  });

  it('CLOSE (0xFF) kills the shell for good: echo 0xFF, close 1000, next attach is a new shell', async () => {
    const o = opts();
    const client = await connect(o);
    await client.confirmation();
    const pid = emulator.stats().shells.find((s) => s.sessionId === o.sessionId)!.pid;
    const exited = emulator.waitFor('shell-exit', (e) => e.pid === pid);
    client.send(ShellChannel.CLOSE);
    expect((await client.waitForClose()).code).toBe(1000);
    expect(client.frames.at(-1)).toEqual({ channel: ShellChannel.CLOSE, payload: Buffer.alloc(0) });
    // No exit STATUS after a client CLOSE: only the confirmation was sent.
    expect(client.statuses).toHaveLength(1);
    expect((await exited).reported).toBe(false);

    const again = await connect(o);
    expect((await again.confirmation()).reconnected).toBe(false);
    expect(emulator.stats().shells.find((s) => s.sessionId === o.sessionId && s.alive)!.pid).not.toBe(pid);
  });

  it('a shell that exits with 3 sends the Failure STATUS with ExitCode "3", then closes 1000', async () => {
    const o = opts();
    const client = await connect(o);
    await client.confirmation();
    client.sendLine('echo bye-$((7*6)); exit 3');
    expect((await client.waitForClose()).code).toBe(1000);
    expect(client.output()).toContain('bye-42');
    const last = client.frames.at(-1)!;
    expect(last.channel).toBe(ShellChannel.STATUS);
    expect(JSON.parse(last.payload.toString())).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    // Gone for good: the next attach gets a new shell.
    const again = await connect(o);
    expect((await again.confirmation()).reconnected).toBe(false);
  });

  it('killShell reports the signal in the exit STATUS', async () => {
    const o = opts();
    const client = await connect(o);
    await client.confirmation();
    expect(emulator.killShell(o.sessionId!, 'main', 'SIGKILL')).toBe(true);
    expect((await client.waitForClose()).code).toBe(1000);
    expect(client.statuses.at(-1)).toEqual({ type: 'exited', exitCode: null, signal: 'SIGKILL', reason: 'killed by signal SIGKILL' });
    expect(emulator.killShell(o.sessionId!, 'main')).toBe(false);
  });

  it('idleOutSession kills the shells but keeps the session directory', async () => {
    const o = opts();
    const client = await connect(o);
    await client.confirmation();
    client.sendLine('echo persisted > note.txt; echo written-$((2*2))');
    await client.waitForOutput('written-4');
    const dir = emulator.sessionDir(o.sessionId!);
    expect(emulator.idleOutSession(o.sessionId!)).toBe(1);
    expect((await client.waitForClose()).code).toBe(1006);
    expect(readFileSync(join(dir, 'note.txt'), 'utf8')).toBe('persisted\n');

    const again = await connect(o);
    expect((await again.confirmation()).reconnected).toBe(false);
    again.sendLine('cat note.txt');
    await again.waitForOutput(/[\r\n]persisted\r\n/);
  });

  it('refuses a bad signature with 403 InvalidSignatureException', async () => {
    const failure = expectFailure(await TestShellClient.tryConnect(opts({ credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'wrong' } })));
    expect(failure.status).toBe(403);
    expect(failure.errorType).toBe('InvalidSignatureException');
    expect(JSON.parse(failure.body).message).toMatch(/signature/);
  });

  it('accepts temporary credentials with their session token', async () => {
    const client = await connect(opts({ credentials: TEST_TEMPORARY_CREDENTIALS }));
    expect((await client.confirmation()).reconnected).toBe(false);
  });

  it('refuses an unknown runtime ARN with 404 and a qualifier other than DEFAULT with 404', async () => {
    const unknown = expectFailure(await TestShellClient.tryConnect(opts({ runtimeArn: TEST_RUNTIME_ARN.replace('AbCdEf1234', 'Nope000000') })));
    expect(unknown).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
    const qualifier = expectFailure(await TestShellClient.tryConnect(opts({ qualifier: 'beta' })));
    expect(qualifier).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
    const dflt = await connect(opts({ qualifier: 'DEFAULT' }));
    expect((await dflt.confirmation()).reconnected).toBe(false);
  });

  it('refuses a session id shorter than 33 characters with 400, and makes one up when none is sent', async () => {
    const short = expectFailure(await TestShellClient.tryConnect(opts({ sessionId: 'x'.repeat(32) })));
    expect(short).toMatchObject({ status: 400, errorType: 'ValidationException' });
    const none = await connect(opts({ sessionId: undefined }));
    await none.confirmation();
    const made = none.upgradeHeaders['x-amzn-bedrock-agentcore-runtime-session-id'];
    expect(typeof made).toBe('string');
    expect((made as string).length).toBeGreaterThanOrEqual(33);
  });

  it('refuses a bad shellId with 424 RuntimeClientError', async () => {
    const failure = expectFailure(await TestShellClient.tryConnect(opts({ shellId: '-starts-with-dash' })));
    expect(failure).toMatchObject({ status: 424, errorType: 'RuntimeClientError' });
    expect(JSON.parse(failure.body)).toMatchObject({ error: 'InvalidShellId', message: expect.any(String) });
  });

  it('refuses an 11th live shell in a runtime session with 424, counting detached shells', async () => {
    const sessionId = newSessionId();
    for (let i = 0; i < 10; i++) {
      const c = await connect(opts({ sessionId, shellId: `s${i}` }));
      await c.confirmation();
      c.terminate(); // detached, still counts
    }
    const failure = expectFailure(await TestShellClient.tryConnect(opts({ sessionId, shellId: 's10' })));
    expect(failure).toMatchObject({ status: 424, errorType: 'RuntimeClientError' });
    expect(JSON.parse(failure.body).error).toBe('ShellLimitExceeded');
    // Reattaching to an existing one is still allowed, and closing one frees a slot.
    const existing = await connect(opts({ sessionId, shellId: 's0' }));
    expect((await existing.confirmation()).reconnected).toBe(true);
    existing.send(ShellChannel.CLOSE);
    await existing.waitForClose();
    const eleventh = await connect(opts({ sessionId, shellId: 's10' }));
    expect((await eleventh.confirmation()).reconnected).toBe(false);
  });

  it('injected failures (429, 409) come first and then stop', async () => {
    emulator.failNextUpgrades(1, 429, 'ThrottlingException', 'Rate exceeded');
    emulator.failNextUpgrades(1, 409, 'RetryableConflictException', 'Session operation in progress, please retry');
    const o = opts();
    const throttled = expectFailure(await TestShellClient.tryConnect(o));
    expect(throttled).toMatchObject({ status: 429, errorType: 'ThrottlingException' });
    expect(JSON.parse(throttled.body)).toEqual({ message: 'Rate exceeded' });
    const conflict = expectFailure(await TestShellClient.tryConnect(o));
    expect(conflict).toMatchObject({ status: 409, errorType: 'RetryableConflictException' });
    const ok = await connect(o);
    expect((await ok.confirmation()).reconnected).toBe(false);
  });

  it('delivers every STDIN byte to a program that reads slowly (input backpressure, nothing dropped)', async () => {
    const client = await connect(opts());
    await client.confirmation();
    const total = 96 * 32 * 1024; // 3 MiB, far more than the PTY and the input backlog hold
    client.sendLine(`stty raw -echo; echo raw-$((1+1)); sleep 0.5; head -c ${total} | wc -c; stty sane; echo input-done-$((1+1))`);
    await client.waitForOutput('raw-2'); // raw mode is on: no line limit, no echo
    const chunk = Buffer.alloc(32 * 1024, 0x61);
    for (let i = 0; i < total / chunk.length; i++) {
      client.send(ShellChannel.STDIN, chunk);
      await new Promise((r) => setTimeout(r, 5)); // stay well under 250 frames/s
    }
    const out = await client.waitForOutput('input-done-2', 15_000);
    expect(out).toContain(`raw-2\n${total}\n`);
    // The input backlog stayed bounded: the emulator stopped reading the socket at least once.
    const sessionId = client.upgradeHeaders['x-amzn-bedrock-agentcore-runtime-session-id'];
    expect(emulator.stats().connections.find((c) => c.sessionId === sessionId)!.inputPauses).toBeGreaterThan(0);
  }, 20_000);

  it('resizes the PTY on RESIZE', async () => {
    const client = await connect(opts());
    await client.confirmation();
    client.resize(132, 40);
    client.sendLine('stty size; echo size-done-$((1+1))');
    await client.waitForOutput('size-done-2');
    expect(client.output()).toContain('40 132');
  });

  it('serves the same controls over HTTP', async () => {
    const o = opts();
    const client = await connect(o);
    await client.confirmation();
    const stats = (await (await fetch(`${emulator.url}/_emulator/stats`)).json()) as ReturnType<AgentCoreEmulator['stats']>;
    expect(stats.connections.some((c) => c.sessionId === o.sessionId && c.open)).toBe(true);
    const drop = await fetch(`${emulator.url}/_emulator/drop`, {
      method: 'POST', body: JSON.stringify({ sessionId: o.sessionId, mode: 'close', code: 1001 }),
    });
    expect(await drop.json()).toEqual({ dropped: 1 });
    expect((await client.waitForClose()).code).toBe(1001);

    await fetch(`${emulator.url}/_emulator/fail-upgrades`, {
      method: 'POST', body: JSON.stringify({ count: 1, status: 503, errorType: 'ServiceUnavailableException' }),
    });
    expect(expectFailure(await TestShellClient.tryConnect(o)).status).toBe(503);
    const idle = await fetch(`${emulator.url}/_emulator/idle-out`, { method: 'POST', body: JSON.stringify({ sessionId: o.sessionId }) });
    expect(await idle.json()).toEqual({ killed: 1 });
  });
});

describe('AgentCoreEmulator with non-default options', () => {
  let emulator: AgentCoreEmulator | undefined;
  const clients: TestShellClient[] = [];
  const start = async (options: EmulatorOptions): Promise<AgentCoreEmulator> => {
    emulator = await AgentCoreEmulator.start(options);
    return emulator;
  };
  const connect = async (o: SignShellOptions): Promise<TestShellClient> => {
    const c = await TestShellClient.connect(o);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await emulator?.stop();
    emulator = undefined;
  });

  it("replayMode 'since-detach' replays only output made while detached, and reports bytesDropped", async () => {
    const emu = await start({ replayMode: 'since-detach', replayBytes: 4096 });
    const o = { endpoint: emu.url, shellId: 'main', sessionId: newSessionId() };
    const first = await connect(o);
    await first.confirmation();
    first.sendLine('echo before-$((3+3))');
    await first.waitForOutput('before-6');
    first.sendLine('sleep 0.3; echo after-$((4+4)); touch flag1');
    await first.waitForOutput('touch flag1');
    first.terminate();
    await until(() => existsSync(join(emu.sessionDir(o.sessionId), 'flag1')), 5000, 'the detached command');

    const second = await connect(o);
    expect(await second.confirmation()).toMatchObject({ reconnected: true, bytesDropped: 0 });
    await second.waitForOutput('after-8');
    expect(second.output()).not.toContain('before-6');

    // 10 000 bytes while detached overflow a 4 KiB ring: the confirmation says how much was lost.
    second.sendLine("sleep 0.3; head -c 10000 /dev/zero | tr '\\0' x; touch flag2");
    await second.waitForOutput('touch flag2');
    second.terminate();
    await until(() => existsSync(join(emu.sessionDir(o.sessionId), 'flag2')), 5000, 'the detached output');
    const third = await connect(o);
    const conf = await third.confirmation();
    expect(conf.bytesDropped).toBeGreaterThanOrEqual(10_000 - 4096);
    await third.waitUntil(() => Buffer.byteLength(third.output()) >= 4096, 5000, 'the replay');
    expect(third.output()).toMatch(/^x{100}/);
  });

  it('closes a connection that outlives connectionTtlMs with 1008', async () => {
    const emu = await start({ connectionTtlMs: 300 });
    const client = await connect({ endpoint: emu.url, shellId: 'main', sessionId: newSessionId() });
    await client.confirmation();
    expect(await client.waitForClose(5000)).toEqual({ code: 1008, reason: 'connection lifetime exceeded' });
  });

  it("closes a client that does not read with 1008 'write buffer full'", async () => {
    const emu = await start({ maxBufferedBytes: 256 * 1024 });
    const sessionId = newSessionId();
    const client = await connect({ endpoint: emu.url, shellId: 'main', sessionId });
    await client.confirmation();
    const detached = emu.waitFor('detach', (e) => e.sessionId === sessionId, 20_000);
    client.sendLine('head -c 100000000 /dev/zero | tr "\\0" y');
    // Wait until output flows, then stop reading: the kernel buffers fill, then the server's.
    await client.waitForOutput('yyyy');
    client.ws.pause();
    const e = await detached;
    expect(e).toMatchObject({ code: 1008, reason: 'write buffer full' });
    expect(emu.stats().shells.find((s) => s.sessionId === sessionId)!.alive).toBe(true);
  }, 30_000);

  it('a session id directory with unsafe characters gets a safe, distinct name', async () => {
    const emu = await start({});
    const a = `unsafe/../../id with spaces ${'a'.repeat(20)}`;
    const client = await connect({ endpoint: emu.url, shellId: 'main', sessionId: a });
    await client.confirmation();
    const dir = emu.sessionDir(a);
    expect(dir.startsWith(emu.stateDir + '/')).toBe(true);
    expect(dir.slice(emu.stateDir.length + 1)).not.toContain('/');
    expect(existsSync(dir)).toBe(true);
  });

  it('stop() kills every shell, including jobs that ignore SIGHUP', async () => {
    const emu = await start({});
    const sessionId = newSessionId();
    const client = await connect({ endpoint: emu.url, shellId: 'main', sessionId });
    await client.confirmation();
    client.sendLine('nohup sleep 300 >/dev/null 2>&1 & echo "job=$!"');
    const out = await client.waitForOutput(/job=(\d+)/);
    const jobPid = Number(/job=(\d+)/.exec(out)![1]);
    const shellPid = emu.stats().shells[0].pid;
    const closed = client.waitForClose();
    await emu.stop();
    expect((await closed).code).toBe(1001);
    expect(isAlive(shellPid)).toBe(false);
    await until(() => !isAlive(jobPid), 3000, 'the nohup job to die');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; it is dead for our purposes.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return false;
  }
}

describe('AgentCoreEmulator runtime session lifecycle', () => {
  let emulator: AgentCoreEmulator | undefined;
  const clients: TestShellClient[] = [];
  const busy = new Set<string>();
  const start = async (o: EmulatorOptions) => {
    emulator = await AgentCoreEmulator.start({ isBusy: (s) => busy.has(s.sessionId), vmEnv: (d) => ({ VM_DIR: d.vmDir }), ...o });
    return emulator;
  };
  const connect = async (sessionId: string): Promise<TestShellClient> => {
    const c = await TestShellClient.connect({ endpoint: emulator!.url, shellId: 'main', sessionId });
    clients.push(c);
    return c;
  };
  const lifetimeOf = (sessionId: string) => emulator!.stats().lifetimes.filter((l) => l.sessionId === sessionId);
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    busy.clear();
    await emulator?.stop();
    emulator = undefined;
  });

  it('reaps a session idle for the idle timeout: its shells die, its microVM disk goes, its session storage stays', async () => {
    const em = await start({ idleTimeoutMs: 600 });
    const sessionId = newSessionId();
    const client = await connect(sessionId);
    // The quotes keep the echoed command line from matching what it prints.
    client.sendLine('echo kept > kept.txt; echo scratch > "$VM_DIR/scratch.txt"; echo wri""tten');
    await client.waitForOutput('written\r\n');
    const { dir, vmDir } = em.stats().sessions.find((s) => s.sessionId === sessionId)!;
    expect(existsSync(join(vmDir, 'scratch.txt'))).toBe(true);
    // Attached, the session is active however long it waits.
    await new Promise((r) => setTimeout(r, 900));
    expect(lifetimeOf(sessionId)[0].endedAt).toBeNull();
    await client.close();
    await until(() => lifetimeOf(sessionId)[0].endedAt !== null, 3_000, 'the reap');
    const [life] = lifetimeOf(sessionId);
    expect(life.reason).toBe('idle-timeout');
    // SIGKILLed at the reap; gone once the PTY reports the exit.
    await until(() => em.stats().shells.filter((s) => s.sessionId === sessionId).every((s) => !s.alive), 3_000, 'the shell to die');
    expect(em.stats().shells.filter((s) => s.sessionId === sessionId)).toHaveLength(1);
    expect(existsSync(vmDir)).toBe(false);
    expect(readFileSync(join(dir, 'kept.txt'), 'utf8')).toBe('kept\n');
    // The next connection starts a new microVM on the same session storage.
    const again = await connect(sessionId);
    expect(again.statuses[0]).toMatchObject({ type: 'attached', reconnected: false });
    expect(lifetimeOf(sessionId)).toHaveLength(2);
  });

  it('does not reap a session while its runtime reports busy, and does once it stops', async () => {
    await start({ idleTimeoutMs: 400 });
    const sessionId = newSessionId();
    const client = await connect(sessionId);
    busy.add(sessionId);
    await client.close();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(lifetimeOf(sessionId)[0].endedAt).toBeNull();
    busy.delete(sessionId);
    const stoppedAt = Date.now();
    await until(() => lifetimeOf(sessionId)[0].endedAt !== null, 3_000, 'the reap');
    expect(lifetimeOf(sessionId)[0].endedAt! - stoppedAt).toBeGreaterThanOrEqual(350);
  });

  it('reaps at the maximum lifetime, busy and attached or not', async () => {
    await start({ idleTimeoutMs: 60_000, maxLifetimeMs: 800 });
    const sessionId = newSessionId();
    const client = await connect(sessionId);
    busy.add(sessionId);
    await until(() => lifetimeOf(sessionId)[0]?.endedAt != null, 3_000, 'the reap');
    const [life] = lifetimeOf(sessionId);
    expect(life.reason).toBe('max-lifetime');
    expect(life.endedAt! - life.startedAt).toBeGreaterThanOrEqual(800);
    await until(() => client.closed !== undefined, 3_000, 'the connection to drop');
  });
});
