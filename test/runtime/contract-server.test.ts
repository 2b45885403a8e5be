import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PingState } from '../../runtimes/src/contract-server';
import { cleanEnv, deadPid, type RunningProgram, runProgram, scratchDir, stageBundles } from '../support/runtime/programs';

const PKG_VERSION = (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('PingState', () => {
  it('moves time_of_last_update only when the status changes', () => {
    const s = new PingState(1_000_000);
    expect(s.observe(false, 1_005_000)).toEqual({ status: 'Healthy', time_of_last_update: 1000, changed: false });
    expect(s.observe(true, 1_007_900)).toEqual({ status: 'HealthyBusy', time_of_last_update: 1007, changed: true });
    expect(s.observe(true, 1_020_000)).toEqual({ status: 'HealthyBusy', time_of_last_update: 1007, changed: false });
    expect(s.observe(false, 1_030_000)).toEqual({ status: 'Healthy', time_of_last_update: 1030, changed: true, busyMs: 22_100 });
  });
});

describe('contract server (bundled, as a local process)', () => {
  jest.setTimeout(20_000);
  let staged: ReturnType<typeof stageBundles>;
  let scratch: ReturnType<typeof scratchDir>;
  let server: RunningProgram;
  let base: string;
  let busyDir: string;
  const children: ChildProcess[] = [];

  const start = async (extra: Record<string, string> = {}) => {
    server = runProgram(join(staged.dir, 'contract-server.js'), [], cleanEnv(scratch.dir, {
      PORT: '0',
      HOST: '127.0.0.1',
      OPENAB_STATE_DIR: join(scratch.dir, 'state'),
      OPENAB_AGENT_HOME: join(scratch.dir, 'agent-home'),
      OPENAB_AGENT_CLI_VERSION: '2.13.0',
      ...extra,
    }));
    const listening = await server.waitForLine((l) => l.event === 'listening');
    base = `http://127.0.0.1:${listening.port as number}`;
  };

  beforeAll(() => {
    staged = stageBundles(['contract-server.js']);
  });
  afterAll(() => staged.remove());
  beforeEach(() => {
    scratch = scratchDir('contract-server');
    busyDir = join(scratch.dir, 'state', 'busy');
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    for (const c of children.splice(0)) c.kill('SIGKILL');
    scratch.remove();
  });

  it('answers GET /ping with Healthy and a unix-seconds time_of_last_update', async () => {
    const before = Math.floor(Date.now() / 1000);
    await start();
    const res = await fetch(`${base}/ping`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await res.json() as { status: string; time_of_last_update: number };
    expect(body.status).toBe('Healthy');
    expect(Number.isInteger(body.time_of_last_update)).toBe(true);
    expect(body.time_of_last_update).toBeGreaterThanOrEqual(before);
    expect(body.time_of_last_update).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('is HealthyBusy while a launcher marker names a live process, and Healthy again once it is gone', async () => {
    await start();
    const agent = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(agent);
    mkdirSync(busyDir, { recursive: true });
    writeFileSync(join(busyDir, String(agent.pid)), '{}');
    const busy = await (await fetch(`${base}/ping`)).json() as { status: string };
    expect(busy.status).toBe('HealthyBusy');
    const status = await (await fetch(`${base}/invocations`, { method: 'POST', body: '{}' })).json() as { agent: { busy: boolean; launcherPids: number[] } };
    expect(status.agent).toMatchObject({ busy: true, launcherPids: [agent.pid] });

    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    const idle = await (await fetch(`${base}/ping`)).json() as { status: string };
    expect(idle.status).toBe('Healthy');
    // The dead launcher's marker is swept, not left to confuse the next look.
    expect(existsSync(join(busyDir, String(agent.pid)))).toBe(false);
    const changes = server.lines.filter((l) => l.event === 'ping.status-changed').map((l) => l.status);
    expect(changes).toEqual(['HealthyBusy', 'Healthy']);
  });

  it('reports Healthy once a busy stretch outlasts OPENAB_MAX_BUSY_SECONDS, and says so once', async () => {
    await start({ OPENAB_MAX_BUSY_SECONDS: '600' });
    const stuck = spawn('sleep', ['30'], { stdio: 'ignore' });
    const fresh = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(stuck, fresh);
    mkdirSync(busyDir, { recursive: true });
    writeFileSync(join(busyDir, String(stuck.pid)), '{}');
    const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000);
    utimesSync(join(busyDir, String(stuck.pid)), elevenMinutesAgo, elevenMinutesAgo);
    for (let i = 0; i < 2; i++) {
      expect((await (await fetch(`${base}/ping`)).json() as { status: string }).status).toBe('Healthy');
    }
    expect(server.lines.filter((l) => l.event === 'ping.busy-ceiling').map((l) => l.launcherPid)).toEqual([stuck.pid]);
    // A stretch that began within the ceiling still counts.
    writeFileSync(join(busyDir, String(fresh.pid)), '{}');
    expect((await (await fetch(`${base}/ping`)).json() as { status: string }).status).toBe('HealthyBusy');
  });

  it('does not count the marker of a launcher that was killed', async () => {
    await start();
    const pid = await deadPid();
    mkdirSync(busyDir, { recursive: true });
    writeFileSync(join(busyDir, String(pid)), '{}');
    writeFileSync(join(busyDir, 'not-a-pid'), '{}');
    const body = await (await fetch(`${base}/ping`)).json() as { status: string };
    expect(body.status).toBe('Healthy');
    expect(existsSync(join(busyDir, String(pid)))).toBe(false);
  });

  it('answers POST /invocations with the runtime status and how to connect', async () => {
    await start();
    await server.waitForLine((l) => l.event === 'api-key.not-configured');
    const res = await fetch(`${base}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amzn-bedrock-agentcore-runtime-session-id': 'session-0123456789-0123456789-0123456789' },
      body: JSON.stringify({ prompt: 'hello' }),
    });
    expect(res.status).toBe(200);
    const body = await res.json() as Record<string, unknown>;
    expect(body).toMatchObject({
      runtime: 'openab-agentcore',
      version: PKG_VERSION,
      status: 'Healthy',
      sessionId: 'session-0123456789-0123456789-0123456789',
      agent: { name: 'kiro-cli', version: '2.13.0', busy: false, launcherPids: [] },
      apiKey: { state: 'not-configured', fetched: false, envName: 'KIRO_API_KEY', missing: ['AGENTCORE_WORKLOAD_NAME', 'AGENTCORE_CREDENTIAL_PROVIDER'] },
      sessionStorage: { path: join(scratch.dir, 'agent-home'), mounted: false },
    });
    expect(body.howToConnect).toMatch(/interactive shell.*bridge/);
  });

  it('names the agent OPENAB_AGENT selects in /invocations: its id, its command, and the variable its key goes in', async () => {
    await start({ OPENAB_AGENT: 'codex' });
    const body = await (await fetch(`${base}/invocations`, { method: 'POST', body: '{}' })).json() as Record<string, unknown>;
    expect(body).toMatchObject({ agent: { id: 'codex', name: 'codex-acp' }, apiKey: { envName: 'OPENAI_API_KEY' } });
  });

  it("hands the container's agent settings to the launcher in a private file, before it answers /ping", async () => {
    await start({ OPENAB_AGENT: 'claude-code', CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'us-east-1' });
    const file = join(scratch.dir, 'state', 'runtime-env.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const handed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    expect(handed).toMatchObject({ OPENAB_AGENT: 'claude-code', CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'us-east-1', OPENAB_AGENT_CLI_VERSION: '2.13.0' });
    expect(Object.keys(handed).filter((k) => k === 'PATH' || k === 'HOME' || k === 'TMPDIR')).toEqual([]);
  });

  it('reports session storage as mounted when the agent home is a mount point', async () => {
    await start({ OPENAB_AGENT_HOME: '/proc' });
    const body = await (await fetch(`${base}/invocations`, { method: 'POST' })).json() as { sessionStorage: unknown };
    expect(body.sessionStorage).toEqual({ path: '/proc', mounted: true });
  });

  it('answers JSON 404 for unknown paths and 405 with Allow for a known path with the wrong method', async () => {
    await start();
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'NotFound', message: 'no route for GET /nope' });
    const wrong = await fetch(`${base}/ping`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(await wrong.json()).toMatchObject({ error: 'MethodNotAllowed' });
    const getInvocations = await fetch(`${base}/invocations`);
    expect(getInvocations.status).toBe(405);
    expect(getInvocations.headers.get('allow')).toBe('POST');
  });

  it('refuses an /invocations body over 1 MiB with 413', async () => {
    await start();
    const res = await fetch(`${base}/invocations`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'PayloadTooLarge' });
  });

  it('logs one JSON object per line and exits 0 on SIGTERM', async () => {
    await start();
    await fetch(`${base}/nope`);
    const started = Date.now();
    const { code, signal } = await server.stop('SIGTERM');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(server.lines.length).toBeGreaterThanOrEqual(4);
    for (const l of server.lines) {
      expect(l).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.any(String), component: 'contract-server', event: expect.any(String) }));
    }
    expect(server.lines.map((l) => l.event)).toEqual(expect.arrayContaining(['listening', 'api-key.not-configured', 'http.request', 'shutdown', 'stopped']));
  });
});
