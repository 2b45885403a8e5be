import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { markBusy, busyPids } from '../../runtimes/src/busy';
import { hasSessionStorage, parseMountPoints } from '../../runtimes/src/mounts';
import { contractPort, resolvePaths } from '../../runtimes/src/paths';
import { deadPid, scratchDir } from '../support/runtime/programs';

describe('runtime paths', () => {
  it('defaults to the microVM layout: scratch in /tmp/openab-agent, state and workspace in /mnt/agent', () => {
    expect(resolvePaths({})).toEqual({
      stateDir: '/tmp/openab-agent',
      apiKeyFile: '/tmp/openab-agent/api-key',
      apiKeyStatusFile: '/tmp/openab-agent/api-key.status.json',
      runtimeEnvFile: '/tmp/openab-agent/runtime-env.json',
      busyDir: '/tmp/openab-agent/busy',
      agentLog: '/tmp/openab-agent/agent.log',
      metricsDir: '/tmp/openab-agent/metrics',
      agentHome: '/mnt/agent',
      workspaceDir: '/mnt/agent/workspace',
      localDataHome: '/tmp/openab-agent/data',
      localStateDb: '/tmp/openab-agent/data/kiro-cli/data.sqlite3',
      persistentStateDb: '/mnt/agent/.local/share/kiro-cli/data.sqlite3',
      sqlite3: '/usr/bin/sqlite3',
      agentBin: '/usr/local/bin/kiro-cli',
    });
  });

  it('moves everything under a different state directory and agent home, and honours single overrides', () => {
    const p = resolvePaths({ OPENAB_STATE_DIR: '/s', OPENAB_AGENT_HOME: '/h', OPENAB_API_KEY_FILE: '/k', OPENAB_AGENT_CWD: '' });
    expect(p).toMatchObject({ apiKeyFile: '/k', busyDir: '/s/busy', metricsDir: '/s/metrics', workspaceDir: '/h/workspace', localStateDb: '/s/data/kiro-cli/data.sqlite3', persistentStateDb: '/h/.local/share/kiro-cli/data.sqlite3' });
  });

  it('reads PORT strictly', () => {
    expect(contractPort({})).toBe(8080);
    expect(contractPort({ PORT: '0' })).toBe(0);
    expect(() => contractPort({ PORT: '80a' })).toThrow('PORT must be an integer 0-65535, got "80a"');
    expect(() => contractPort({ PORT: '70000' })).toThrow(/got "70000"/);
  });
});

describe('mount points', () => {
  it('reads mount points from mountinfo, decoding escaped spaces', () => {
    const info = [
      '22 1 0:21 / / rw,relatime - overlay overlay rw',
      '36 22 0:32 / /mnt/agent rw,relatime - nfs4 fs:/ rw',
      '37 22 0:33 / /mnt/with\\040space rw - tmpfs tmpfs rw',
      '',
    ].join('\n');
    expect(parseMountPoints(info)).toEqual(['/', '/mnt/agent', '/mnt/with space']);
  });

  it('session storage is the default home only when it is a mount; an explicit home when it exists', () => {
    const scratch = scratchDir('session-storage');
    try {
      const asked: string[] = [];
      const mountedIf = (answer: boolean) => (p: string) => (asked.push(p), answer);
      // The image's own /mnt/agent directory is there either way: only a mount counts.
      expect(hasSessionStorage('/mnt/agent', {}, mountedIf(false))).toBe(false);
      expect(hasSessionStorage('/mnt/agent', {}, mountedIf(true))).toBe(true);
      expect(asked).toEqual(['/mnt/agent', '/mnt/agent']);
      // An explicit home (another layout, a local run) is taken when it exists, mounted or not.
      expect(hasSessionStorage(scratch.dir, { OPENAB_AGENT_HOME: scratch.dir }, mountedIf(false))).toBe(true);
      expect(hasSessionStorage(join(scratch.dir, 'absent'), { OPENAB_AGENT_HOME: join(scratch.dir, 'absent') }, mountedIf(true))).toBe(false);
      expect(asked).toHaveLength(2);
    } finally {
      scratch.remove();
    }
  });
});

describe('busy markers', () => {
  let scratch: ReturnType<typeof scratchDir>;
  beforeEach(() => {
    scratch = scratchDir('busy');
  });
  afterEach(() => scratch.remove());

  it('count a live launcher until it clears its marker, and sweep markers of dead ones', async () => {
    const dir = join(scratch.dir, 'busy');
    const live = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const clear = markBusy(live.pid, dir, { command: 'kiro-cli' });
      const dead = await deadPid();
      markBusy(dead, dir);
      expect(busyPids(dir)).toEqual([live.pid]);
      expect(readdirSync(dir)).toEqual([String(live.pid)]);
      clear();
      expect(busyPids(dir)).toEqual([]);
      expect(existsSync(join(dir, String(live.pid)))).toBe(false);
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('report nothing when the directory does not exist', () => {
    expect(busyPids(join(scratch.dir, 'absent'))).toEqual([]);
  });
});
