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
