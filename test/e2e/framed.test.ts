import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bigText, burstText } from '../support/patterns';
import { type Harness, remoteOf, useHarness, pidOf } from '../support/bridge-harness';
import type { DropHow } from '../support/emulator';


/** Deterministic payload of a given size for message n. */
function dataFor(n: number, bytes: number): string {
  return `${n}:${'x'.repeat(Math.max(0, bytes - String(n).length - 1))}`;
}

describe('framed mode (the agent runs under the runtime launcher)', () => {
  let h: Harness;
  useHarness((x) => (h = x), { framed: true });

  test('the bridge finds the launcher and relays through it', async () => {
    const sessionId = await h.newThread();
    expect((await h.client.prompt(sessionId, 'through the launcher')).text).toBe('echo: through the launcher');
    expect(h.logEvents().find((e) => e.event === 'channel')).toMatchObject({ mode: 'framed' });
  });

  test('5,000 small and 16 one-megabyte client messages in one burst, with the connection cut in the middle, arrive once each, whole and in order', async () => {
    const sessionId = await h.newThread();
    const { runtimeSessionId } = remoteOf(sessionId);
    // The burst that lost messages in plain mode when the service closed over its frame limit.
    expect(h.emulator.dropAfterInput({ sessionId: runtimeSessionId }, 6_000_000, { mode: 'close', code: 1008, reason: 'frame rate limit exceeded' })).toBe(1);
    for (let i = 0; i < 5000; i++) void h.client.notify('_test/ping', { sessionId, n: i, data: '' });
    for (let i = 5000; i < 5016; i++) void h.client.notify('_test/ping', { sessionId, n: i, data: dataFor(i, 1_000_000) });
    const reply = await h.client.prompt(sessionId, 'after the burst', { timeoutMs: 60_000 });
    expect(reply.text).toBe('echo: after the burst');
    await h.untilAgentReceived(sessionId, '_test/ping', 5016);
    const pings = h.agentReceived(runtimeSessionId).filter((r) => r.method === '_test/ping');
    expect(pings.map((p) => p.n)).toEqual(Array.from({ length: 5016 }, (_, i) => i));
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(pings.slice(5000).filter((p) => p.sha256 !== sha(dataFor(p.n as number, 1_000_000))).map((p) => p.n)).toEqual([]);
    expect(h.emulator.stats().connections.filter((c) => c.sessionId === runtimeSessionId).map((c) => c.closeCode)).toEqual([1008, null]);
  });

  test('a killed bridge is replaced by a new one that reattaches to the same agent; nothing old is replayed', async () => {
    const sessionId = await h.newThread();
    await h.client.prompt(sessionId, 'first');
    const before = pidOf((await h.client.prompt(sessionId, 'pid')).text);
    await h.client.kill('SIGKILL', { group: true });
    await h.spawnBridge();
    await h.client.initialize();
    expect(await h.client.loadSession(sessionId, '/tmp')).toEqual({});
    const after = await h.client.prompt(sessionId, 'pid');
    expect(pidOf(after.text)).toBe(before);
    expect(after.updates).toBe(1);
    expect(JSON.parse((await h.client.prompt(sessionId, 'history')).text)).toEqual(['first', 'pid', 'pid']);
  });

  test('200+ connection drops at random points lose and repeat nothing, in either direction, multi-megabyte messages included', async () => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const { runtimeSessionId } = remoteOf(sessionId);
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const hows: DropHow[] = [
      { mode: 'destroy' },
      { mode: 'close', code: 1001, reason: 'going away' },
      { mode: 'close', code: 1008, reason: 'connection lifetime exceeded' },
      { mode: 'close', code: 1011, reason: 'internal error' },
    ];

    let drops = 0;
    let stop = false;
    const dropper = (async () => {
      while (!stop) {
        // Mostly short gaps (mid-frame cuts), sometimes long ones so multi-megabyte frames can get through.
        const wait = random() < 0.75 ? 10 + random() * 50 : 250 + random() * 300;
        await new Promise((r) => setTimeout(r, wait));
        if (stop) break;
        drops += h.emulator.dropConnections({ sessionId: runtimeSessionId }, hows[Math.floor(random() * hows.length)]);
      }
    })();

    // Client → agent: numbered notifications, some of them megabytes long.
    const sizes: number[] = [];
    const sending = (async () => {
      for (let n = 0; n < 300; n++) {
        const size = n % 60 === 30 ? 1_500_000 : 20 + Math.floor(random() * 3000);
        sizes.push(size);
        await h.client.notify('_test/ping', { sessionId, n, data: dataFor(n, size) });
        if (n % 10 === 0) await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // Agent → client: streamed and multi-megabyte answers, each checked whole.
    const prompts: Array<[string, string]> = [];
    while (drops < 200) {
      const kind = prompts.length % 3;
      const [text, expected] =
        kind === 0 ? ['big 1500000', bigText(1_500_000)] : kind === 1 ? ['burst 300', burstText(300)] : ['slow 40 5', burstText(40)];
      const reply = await h.client.prompt(sessionId, text, { timeoutMs: 120_000 });
      expect(reply.result.stopReason).toBe('end_turn');
      expect(reply.text === expected).toBe(true);
      prompts.push([text, expected]);
    }
    await sending;
    stop = true;
    await dropper;
    // One more exchange after the storm, so everything sent before it has been handled.
    expect((await h.client.prompt(sessionId, 'done')).text).toBe('echo: done');

    expect(drops).toBeGreaterThanOrEqual(200);
    const received = h.agentReceived(runtimeSessionId);
    const pings = received.filter((r) => r.method === '_test/ping');
    expect(pings.map((p) => p.n)).toEqual(sizes.map((_, n) => n));
    pings.forEach((p, n) => expect(p.sha256).toBe(createHash('sha256').update(dataFor(n, sizes[n])).digest('hex')));
    // Every prompt reached the agent exactly once.
    const promptIds = received.filter((r) => r.method === 'session/prompt').map((r) => r.id);
    expect(new Set(promptIds).size).toBe(promptIds.length);
    expect(promptIds).toHaveLength(prompts.length + 1);
    // One agent process the whole time.
    expect(new Set(received.map((r) => r.pid)).size).toBe(1);
  }, 180_000);
});

describe('the launcher\'s setup in the runtime image', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'oab-runtime-'));
  const home = path.join(root, 'mnt-agent');
  const state = path.join(root, 'state');
  const key = 'kiro-test-key-0123456789';
  mkdirSync(home);
  mkdirSync(state, { mode: 0o700 });
  writeFileSync(path.join(state, 'api-key'), key, { mode: 0o600 });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  let h: Harness;
  useHarness((x) => (h = x), {
    framed: true,
    emulator: { shellEnv: { OPENAB_AGENT_HOME: home, OPENAB_STATE_DIR: state, OPENAB_AGENT_LOG: path.join(root, 'agent.log') } },
  });

  test('the agent starts at home in session storage, in its workspace, with the boot-time API key in its own environment only', async () => {
    const sessionId = await h.newThread();
    expect((await h.client.prompt(sessionId, 'cwd')).text).toBe(`cwd:${path.join(home, 'workspace')} home:${home}`);
    const digest = createHash('sha256').update(key).digest('hex').slice(0, 16);
    expect((await h.client.prompt(sessionId, 'env KIRO_API_KEY')).text).toBe(`env:KIRO_API_KEY:${digest}`);
    expect(readFileSync(path.join(root, 'agent.log'), 'utf8')).not.toContain(key);
    expect(JSON.stringify(h.logEvents())).not.toContain(key);
    expect(readFileSync(path.join(root, 'agent.log'), 'utf8')).toContain('"apiKey":"in KIRO_API_KEY"');
  });
});
