/**
 * The full chain the way OAB runs it, on loopback: an ACP client (official SDK)
 * spawns the built bridge, which signs its way into the local AgentCore emulator,
 * whose real PTY runs the ACP test agent (official SDK).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AcpClientDriver, ACP_AGENT_BUNDLE, REPO_ROOT, type SpawnOptions } from './acp-client-driver';
import { type ClientSessionId, decodeClientSessionId } from '../../bridge/src/acp/session-id';
import { AgentCoreEmulator, type EmulatorOptions, TEST_CREDENTIALS, TEST_REGION, TEST_RUNTIME_ARN } from './emulator';
import { BRIDGE_NODE_OPTIONS } from '../../lib/render/oab-command';

export const BRIDGE_BUNDLE = path.join(REPO_ROOT, 'dist', 'bridge.js');
export const AGENT_COMMAND = `${process.execPath} ${ACP_AGENT_BUNDLE}`;

export const LAUNCHER_BUNDLE = path.join(REPO_ROOT, 'runtimes', 'app', 'acp-session.js');

export interface HarnessOptions {
  readonly emulator?: EmulatorOptions;
  /** Run the agent under the runtime's launcher (framed mode), as the Kiro image does. */
  readonly framed?: boolean;
}

export interface BridgeSpawnOptions {
  readonly args?: string[];
  readonly env?: Record<string, string>;
  readonly shellCommand?: string;
  readonly quietUpdates?: boolean;
  readonly spawn?: SpawnOptions;
}

export class Harness {
  private constructor(
    readonly emulator: AgentCoreEmulator,
    readonly client: AcpClientDriver,
    readonly dir: string,
    /** `--launcher` for the bridge: a path in framed mode, `none` otherwise. */
    readonly launcher: string,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    if (!existsSync(BRIDGE_BUNDLE) || !existsSync(ACP_AGENT_BUNDLE)) {
      throw new Error('dist/ is missing: run `npm run build` first');
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'oab-e2e-'));
    const emulator = await AgentCoreEmulator.start({
      stateDir: path.join(dir, 'sessions'),
      ...options.emulator,
      // The launcher's runtime paths, kept inside this test's directory.
      shellEnv: {
        TMPDIR: dir, // where the launch line keeps the agent's stderr
        OPENAB_STATE_DIR: path.join(dir, 'runtime-state'),
        OPENAB_AGENT_LOG: path.join(dir, 'agent.log'),
        ...options.emulator?.shellEnv,
      },
    });
    const client = await AcpClientDriver.start();
    let launcher = 'none';
    if (options.framed) {
      // What the image installs as /app/bin/acp-session, pointing at this machine's node.
      launcher = path.join(dir, 'acp-session');
      writeFileSync(launcher, `#!/bin/sh\nexec ${process.execPath} ${LAUNCHER_BUNDLE} "$@"\n`, { mode: 0o755 });
    }
    return new Harness(emulator, client, dir, launcher);
  }

  get logFile(): string {
    return path.join(this.dir, 'bridge.log');
  }

  /** Node's arguments for the bridge as OAB's config would hold them; an option in `extra` replaces the harness's own. */
  bridgeArgs(extra: string[] = [], shellCommand = AGENT_COMMAND): string[] {
    const base: Array<[string, string]> = [
      ['--runtime-arn', TEST_RUNTIME_ARN],
      ['--endpoint-url', this.emulator.url],
      ['--shell-command', shellCommand],
      ['--log-file', this.logFile],
      ['--log-level', 'debug'],
      ['--launcher', this.launcher],
    ];
    const given = new Set(extra.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]));
    // Node runs it with the options the constructs deploy it with.
    return [...BRIDGE_NODE_OPTIONS, BRIDGE_BUNDLE, ...base.filter(([name]) => !given.has(name)).flat(), ...extra];
  }

  /** OAB clears the child's environment; only what inherit_env names gets through. */
  bridgeEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      HOME: this.dir,
      PATH: '/usr/local/bin:/usr/bin:/bin',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: TEST_REGION,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...extra,
    };
  }

  async spawnBridge(o: BridgeSpawnOptions = {}): Promise<{ pid: number }> {
    return this.client.spawn(process.execPath, this.bridgeArgs(o.args, o.shellCommand), {
      env: this.bridgeEnv(o.env),
      replaceEnv: true,
      quietUpdates: o.quietUpdates,
      ...o.spawn,
    });
  }

  /** Spawn, initialize and open a session: what OAB does for a new thread. */
  async newThread(o: BridgeSpawnOptions = {}): Promise<string> {
    await this.spawnBridge(o);
    // Bounded, so a broken start fails the test with a reason instead of hanging it.
    await this.client.initialize({ timeoutMs: 30_000 });
    return this.client.newSession('/tmp', { timeoutMs: 30_000 });
  }

  /** The bridge's structured log, parsed. */
  logEvents(): Array<Record<string, unknown>> {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Lines the test agent logged as received, in its state directory of a runtime session. */
  agentReceived(runtimeSessionId: string): Array<Record<string, unknown>> {
    const file = path.join(this.emulator.sessionDir(runtimeSessionId), '.acp-test-agent', 'received.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** A prompt, with every non-JSON-RPC line that reached the client counted (there must be none). */
  async promptCountingJunk(sessionId: string, text: string): Promise<{ text: string; junk: unknown[] }> {
    const junk: unknown[] = [];
    const onJunk = (j: unknown) => junk.push(j);
    this.client.events.on('junk', onJunk);
    try {
      return { text: (await this.client.prompt(sessionId, text)).text, junk };
    } finally {
      this.client.events.off('junk', onJunk);
    }
  }

  /** Waits until the agent has received `count` messages of `method` (a request is past the bridge). */
  async untilAgentReceived(sessionId: string, method: string, count = 1, timeoutMs = 15_000): Promise<void> {
    const { runtimeSessionId } = remoteOf(sessionId);
    const deadline = Date.now() + timeoutMs;
    while (this.agentReceived(runtimeSessionId).filter((r) => r.method === method).length < count) {
      if (Date.now() > deadline) throw new Error(`the agent did not receive ${count} × ${method} in time`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
    await this.emulator.stop();
    if (!process.env.KEEP_E2E_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The pid in an answer to the test agent's `pid` command. */
export function pidOf(text: string): number {
  const m = /^pid:(\d+)$/.exec(text);
  if (!m) throw new Error(`not a pid reply: ${text.slice(0, 200)}`);
  return Number(m[1]);
}

/** The most resident memory the process has had so far (VmHWM), in MiB: a peak no sampling misses. */
export function hwmMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for ${pid}`);
  return Number(m[1]) / 1024;
}

/** The runtime session a client session id maps to. */
export function remoteOf(sessionId: string): ClientSessionId {
  const ids = decodeClientSessionId(sessionId);
  if (!ids) throw new Error(`not a bridge session id: ${sessionId}`);
  return ids;
}

/** A fresh harness per test: `let h: Harness; useHarness((x) => (h = x));` */
export function useHarness(set: (h: Harness) => void, options?: HarnessOptions): void {
  let current: Harness | undefined;
  beforeEach(async () => {
    current = await Harness.start(options);
    set(current);
  });
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
}
