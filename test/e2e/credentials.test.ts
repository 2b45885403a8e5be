import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Harness, useHarness, remoteOf } from '../support/bridge-harness';
import { TEST_REGION, TEST_TEMPORARY_CREDENTIALS } from '../support/emulator';

describe('credentials', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test('come from the standard provider chain (here a credential_process profile) and are refreshed before they expire', async () => {
    const counter = path.join(h.dir, 'credential-calls');
    const script = path.join(h.dir, 'creds.sh');
    // Temporary credentials that expire in two minutes: inside the SDK's refresh window, so every signing fetches anew.
    writeFileSync(
      script,
      `#!/bin/sh\necho x >> ${counter}\nexp=$(date -u -d '+2 minutes' +%Y-%m-%dT%H:%M:%SZ)\n` +
        `printf '{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"%s","SessionToken":"%s","Expiration":"%s"}' ` +
        `'${TEST_TEMPORARY_CREDENTIALS.accessKeyId}' '${TEST_TEMPORARY_CREDENTIALS.secretAccessKey}' '${TEST_TEMPORARY_CREDENTIALS.sessionToken}' "$exp"\n`,
      { mode: 0o755 },
    );
    const config = path.join(h.dir, 'aws-config');
    writeFileSync(config, `[profile bridge]\ncredential_process = ${script}\nregion = ${TEST_REGION}\n`);
    const env = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'bridge', AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: path.join(h.dir, 'none') };

    const sessionId = await h.newThread({ env });
    expect((await h.client.prompt(sessionId, 'signed')).text).toBe('echo: signed');
    for (let i = 0; i < 2; i++) {
      const reattached = h.emulator.waitFor('attach', (e) => e.reconnected);
      h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'destroy' });
      // In plain mode a prompt written into a connection that is already dead is lost: wait for the reattach.
      await reattached;
      expect((await h.client.prompt(sessionId, `after drop ${i}`)).text).toBe(`echo: after drop ${i}`);
    }
    const calls = readFileSync(counter, 'utf8').trim().split('\n').length;
    const connections = h.emulator.stats().connections.filter((c) => c.sessionId === remoteOf(sessionId).runtimeSessionId).length;
    expect(connections).toBe(3);
    // Credentials that expire within the SDK's refresh window are fetched again (a static provider
    // would run the process once); the SDK may share one refresh between connections close together.
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(connections);
    expect(JSON.stringify(h.logEvents())).not.toContain(TEST_TEMPORARY_CREDENTIALS.secretAccessKey);
    expect(JSON.stringify(h.logEvents())).not.toContain(TEST_TEMPORARY_CREDENTIALS.sessionToken!);
  });
});

describe('a clock that disagrees with the service', () => {
  let h: Harness;
  // The service's clock runs 10 minutes ahead of this machine's: every signature looks stale to it.
  useHarness((x) => (h = x), { emulator: { clockOffsetMs: 10 * 60_000 } });

  test('is corrected once from the refusal\'s Date header, and the thread works', async () => {
    const sessionId = await h.newThread();
    expect((await h.client.prompt(sessionId, 'on time')).text).toBe('echo: on time');
    const fixes = h.logEvents().filter((e) => e.event === 'clock-skew-corrected');
    expect(fixes).toHaveLength(1);
    expect(Math.abs((fixes[0].offsetMs as number) - 10 * 60_000)).toBeLessThan(5_000);
    // Later connections are signed with the corrected clock from the start.
    const reattached = h.emulator.waitFor('attach', (e) => e.reconnected);
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'destroy' });
    await reattached;
    expect((await h.client.prompt(sessionId, 'still on time')).text).toBe('echo: still on time');
    expect(h.logEvents().filter((e) => e.event === 'clock-skew-corrected')).toHaveLength(1);
  });
});

describe('credentials that expire under a routine reattach', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test('are fetched anew and the reattach goes on; the thread keeps working', async () => {
    const sessionId = await h.newThread();
    expect((await h.client.prompt(sessionId, 'before')).text).toBe('echo: before');
    h.emulator.failNextUpgrades(1, 403, 'ExpiredTokenException', 'The security token included in the request is expired');
    const reattached = h.emulator.waitFor('attach', (e) => e.reconnected);
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'destroy' });
    await reattached;
    expect((await h.client.prompt(sessionId, 'after')).text).toBe('echo: after');
    expect(h.logEvents().filter((e) => e.event === 'credentials-refreshed')).toHaveLength(1);
  });

  test('an expiry that persists after one refresh ends the thread with access denied, not a loop', async () => {
    const sessionId = await h.newThread();
    const turn = h.client.prompt(sessionId, 'slow 100 20').catch((e) => e);
    await h.untilAgentReceived(sessionId, 'session/prompt');
    h.emulator.failNextUpgrades(5, 403, 'ExpiredTokenException', 'The security token included in the request is expired');
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'destroy' });
    const err = await turn;
    expect(err.data.code).toBe('BRIDGE_ACCESS_DENIED');
    expect(h.logEvents().filter((e) => e.event === 'credentials-refreshed')).toHaveLength(1);
  });
});

