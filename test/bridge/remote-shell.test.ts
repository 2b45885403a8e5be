import { RemoteShell } from '../../bridge/src/shell/remote-shell';
import { createJsonLogger } from '../../shared/json-logger';
import { AgentCoreEmulator, TEST_CREDENTIALS, TEST_REGION, TEST_RUNTIME_ARN } from '../support/emulator';

describe('RemoteShell against the emulator', () => {
  let emulator: AgentCoreEmulator;
  beforeAll(async () => {
    emulator = await AgentCoreEmulator.start();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  test('a credential provider that fails during a reattach is asked again within the reconnect window', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createJsonLogger({ level: 'debug', sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    let failuresLeft = 0;
    const credentials = () => (failuresLeft-- > 0 ? Promise.reject(new Error('the credential service is unavailable')) : Promise.resolve(TEST_CREDENTIALS));
    const sessionId = `remote-shell-test-${'x'.repeat(20)}`;
    const shell = new RemoteShell({
      target: { endpointUrl: emulator.url, region: TEST_REGION, runtimeArn: TEST_RUNTIME_ARN, runtimeSessionId: sessionId, shellId: 'main' },
      credentials,
      logger,
    });
    const lost: unknown[] = [];
    shell.on('lost', (e) => lost.push(e));
    try {
      expect(await shell.attach()).toEqual({ reconnected: false });
      failuresLeft = 2;
      const resumed = new Promise((resolve, reject) => {
        shell.once('resumed', resolve);
        shell.once('lost', reject);
      });
      emulator.dropConnections({ sessionId }, { mode: 'destroy' });
      await resumed;
      expect(lost).toEqual([]);
      const failed = lines.filter((l) => l.event === 'reattach-failed');
      expect(failed).toHaveLength(2);
      expect(String(failed[0].error)).toContain('no usable AWS credentials: the credential service is unavailable');
    } finally {
      await shell.kill();
    }
  }, 30_000);

  test('a first attach without credentials fails at once: that is a setup problem, not a hiccup', async () => {
    const shell = new RemoteShell({
      target: { endpointUrl: emulator.url, region: TEST_REGION, runtimeArn: TEST_RUNTIME_ARN, runtimeSessionId: `remote-shell-test-${'y'.repeat(20)}`, shellId: 'main' },
      credentials: () => Promise.reject(new Error('no credentials configured')),
      logger: createJsonLogger({ level: 'error', sink: () => undefined }),
    });
    const started = Date.now();
    await expect(shell.attach()).rejects.toMatchObject({ code: 'BRIDGE_NO_CREDENTIALS' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
