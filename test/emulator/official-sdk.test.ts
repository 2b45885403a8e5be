/**
 * Honesty check: the official AgentCore TypeScript SDK (bedrock-agentcore 0.4.4) talks to
 * the emulator. The SDK is ESM-only, so it runs in its own node process.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { AgentCoreEmulator, TEST_CREDENTIALS, TEST_REGION, TEST_RUNTIME_ARN, type UpgradeEvent } from '../support/emulator/emulator';

const SCRIPT = join(__dirname, '..', 'support', 'emulator', 'official-sdk-client.mjs');

function runSdkClient(env: Record<string, string>, timeoutMs = 25_000): Promise<{ code: number | null; steps: Array<Record<string, unknown>>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], {
      cwd: join(__dirname, '..', '..'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const steps = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, steps, stderr });
    });
  });
}

describe('official bedrock-agentcore SDK against the emulator', () => {
  let emulator: AgentCoreEmulator;
  beforeAll(async () => {
    emulator = await AgentCoreEmulator.start();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('signs, attaches, runs commands, reattaches with replay, sees the exit code and closes', async () => {
    const sessionId = `official-sdk-${randomUUID()}`;
    const upgrades: UpgradeEvent[] = [];
    emulator.on('upgrade', (e) => upgrades.push(e));
    const { code, steps, stderr } = await runSdkClient({
      BEDROCK_AGENTCORE_DATA_PLANE_ENDPOINT: emulator.url,
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      RUNTIME_ARN: TEST_RUNTIME_ARN,
      SESSION_ID: sessionId,
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(steps).toEqual([
      { step: 'open', shellId: 'sdk-shell', sessionId, reconnected: false },
      { step: 'output', sawMarker: true },
      { step: 'reattach', reconnected: true, firstKicked: true, bytesDropped: 0 },
      { step: 'replay', sawMarker: true },
      { step: 'exit', exitCode: 7 },
      { step: 'third', reconnected: false },
      { step: 'closed', sawMarker: true },
    ]);
    // Every upgrade passed signature verification.
    expect(upgrades.map((u) => u.status)).toEqual([101, 101, 101]);

    const stats = emulator.stats();
    const conns = stats.connections.filter((c) => c.sessionId === sessionId);
    expect(conns.map((c) => c.closeCode)).toEqual([4000, 1000, 1000]);
    expect(conns[0].framesReceived).toMatchObject({ RESIZE: 1, STDIN: 1 });
    expect(conns[2].framesReceived).toMatchObject({ STDIN: 1, CLOSE: 1 });
    // `exit 7` ended the first shell; close() (0xFF) killed the third with SIGHUP.
    const shells = (): Array<[string, boolean, number | null, string | null]> => emulator.stats().shells
      .filter((s) => s.sessionId === sessionId)
      .map((s) => [s.shellId, s.alive, s.exitCode, s.signal]);
    for (const deadline = Date.now() + 5000; shells().some(([, alive]) => alive) && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(shells()).toEqual([
      ['sdk-shell', false, 7, null],
      // Killed for good: SIGHUP, or the SIGKILL that follows 2 s later on a loaded machine.
      ['sdk-closed', false, expect.any(Number), expect.stringMatching(/^SIG(HUP|KILL)$/)],
    ]);
  }, 30_000);
});
