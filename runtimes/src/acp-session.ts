/**
 * The launcher the bridge types into the shell: `/app/bin/acp-session <agent command…>`.
 *
 * It runs the agent on pipes (not on the terminal, so nothing the agent prints can
 * be mangled or mixed with stderr) and speaks the framed mode with the bridge over
 * the PTY: every message in each direction is numbered and checksummed, each side
 * acknowledges what it received, and after a reattach each side resends exactly
 * what the other has not acknowledged. The bridge finds the launcher by a probe
 * (see shared/link/link-probe.ts), which the launcher answers with a hello frame.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import { LineSplitter, OVERFLOW_HEAD_BYTES } from '../../shared/line-splitter';
import { LinkEndpoint } from '../../shared/link/link-endpoint';
import { isLinkLine } from '../../shared/link/link-frame';
import { LINK_PROBE_METHOD, LINK_VERSION, MAX_LINK_MESSAGE_BYTES, probeLimit } from '../../shared/link/link-probe';
import { refuseOversize } from '../../shared/oversize';
import { agentSetupHooks } from './agent-setup';
import { TurnTracker } from './turn-tracker';
import { createLogger, type Logger } from './log';
import { spoolMetricLine } from './metrics-spool';
import { resolvePaths } from './paths';
import { adoptRuntimeEnv } from './runtime-env';

/** Unacknowledged output kept for a resend; above this the agent's output is paused. */
const MAX_UNACKED_BYTES = 64 * 1024 * 1024;

export interface LauncherHooks {
  /** Before the agent starts (state copied in, secrets read): extra env and the directory to start it in. */
  beforeStart?(): Promise<{ env: Record<string, string>; cwd?: string }>;
  /**
   * Whether the runtime is busy: true when a turn starts, false once none is in flight and
   * the last one's {@link afterTurn} is done. May be told true while already busy.
   */
  busyChanged?(busy: boolean): void;
  /** A turn ended and none is in flight: save what it changed while the runtime is still busy. */
  afterTurn?(): Promise<void>;
  /** After the agent exits or is stopped (state written back). */
  afterExit?(): Promise<void>;
}

export async function runLauncher(argv: string[], agentLog: AgentLog, hooks: LauncherHooks = {}): Promise<never> {
  const log = agentLog.logger;
  const command = argv[0] === '--' ? argv.slice(1) : argv;
  if (command.length === 0) {
    process.stderr.write('usage: acp-session <agent command> [args…]\n');
    process.exit(2);
  }
  const stdin = process.stdin as NodeJS.ReadStream;
  if (stdin.isTTY) stdin.setRawMode(true);

  // How long to wait for the bridge to acknowledge the agent's last output after it exits.
  const lingerMs = Number(process.env.OPENAB_LAUNCHER_LINGER_MS ?? 10_000);
  const setup = hooks.beforeStart
    ? await hooks.beforeStart().catch((e: Error) => {
      // Said on the terminal, where the bridge reports it as the reason the agent did not start.
      log.error('agent-setup-failed', { error: e.message });
      process.stdout.write(`acp-session: cannot set up the agent: ${e.message}\n`);
      process.exit(78);
    })
    : { env: {} };
  const cwd = setup.cwd ?? process.cwd();
  const agent = spawn(command[0], command.slice(1), {
    cwd,
    env: { ...process.env, ...setup.env },
    stdio: ['pipe', 'pipe', agentLog.fd],
  });
  const agentIn = agent.stdin!;
  const agentOut = agent.stdout!;
  log.info('agent-start', { command: command[0], pid: agent.pid });

  const out = process.stdout;
  let agentPaused = false;
  let exiting = false;
  let hangup = false;

  const write = (bytes: Buffer) => out.write(bytes);
  // The runtime is busy only while a turn is in flight, so an idle thread's microVM can be reaped.
  const turns = new TurnTracker();
  const reportBusy = (busy: boolean) => {
    log.info('busy', { busy });
    hooks.busyChanged?.(busy);
  };
  const link = new LinkEndpoint({
    write,
    deliver: (payload) => {
      if (turns.toAgent(payload) === 'busy') reportBusy(true);
      // Two writes, not a copy of a message that may be megabytes long.
      agentIn.write(payload);
      if (!agentIn.write(NEWLINE)) {
        stdin.pause();
        agentIn.once('drain', () => stdin.resume());
      }
    },
  });
  const relieve = () => {
    if (agentPaused && link.unackedBytes < MAX_UNACKED_BYTES / 2) {
      agentPaused = false;
      agentOut.resume();
    }
    if (exiting && link.unackedCount === 0) finish();
  };

  // Agent → bridge.
  // The bridge's own limit (from its probe) applies to what it is sent: a larger message is
  // refused here, whole, where its envelope can be read, instead of stalling the link.
  let maxMessageBytes = MAX_LINK_MESSAGE_BYTES;
  const refuse = (head: Buffer, bytes: number) => {
    const r = refuseOversize(head, bytes, maxMessageBytes);
    log.warn('agent-message-too-large', { bytes, limit: maxMessageBytes, method: r.method });
    if (r.inPlace) link.send(r.inPlace.subarray(0, r.inPlace.length - 1));
    if (r.toSender) agentIn.write(r.toSender);
  };
  const fromAgent = new LineSplitter(MAX_LINK_MESSAGE_BYTES);
  agentOut.on('data', (chunk: Buffer) => {
    for (const item of fromAgent.push(chunk)) {
      if (item.kind === 'overflow') refuse(item.head, item.bytes);
      else if (item.line.length > maxMessageBytes) refuse(item.line.subarray(0, OVERFLOW_HEAD_BYTES), item.line.length);
      else if (item.line.length > 0) {
        if (turns.fromAgent(item.line) === 'idle') onTurnsDone();
        link.send(item.line);
      }
    }
    if (link.unackedBytes > MAX_UNACKED_BYTES && !agentPaused) {
      agentPaused = true;
      agentOut.pause();
    }
  });

  // The runtime stays busy until the turn's state is saved: a microVM reaped right after an
  // answer must lose nothing.
  let saving = 0;
  const onTurnsDone = () => {
    saving++;
    void (hooks.afterTurn?.() ?? Promise.resolve())
      .catch((e: Error) => log.error('after-turn-failed', { error: e.message }))
      .then(() => {
        saving--;
        if (!turns.busy && saving === 0) reportBusy(false);
      });
  };

  // Bridge → agent.
  const fromBridge = new LineSplitter(MAX_LINK_MESSAGE_BYTES);
  stdin.on('data', (chunk: Buffer) => {
    for (const item of fromBridge.push(chunk)) {
      if (item.kind === 'overflow') log.error('bridge-line-too-long', { bytes: item.bytes, limit: MAX_LINK_MESSAGE_BYTES });
      else if (item.line.length > 0) onBridgeLine(item.line);
    }
  });
  const onBridgeLine = (line: Buffer) => {
    if (!isLinkLine(line)) {
      if (line.includes(LINK_PROBE_METHOD)) {
        maxMessageBytes = probeLimit(line) ?? MAX_LINK_MESSAGE_BYTES;
        link.greetNewPeer(LINK_VERSION);
        log.info('bridge-hello', { nextSeq: link.nextSequence, maxMessageBytes });
      }
      return;
    }
    const r = link.receive(line);
    if (r.type === 'control' && r.frame.kind === 'R') {
      // The bridge reattached: it has everything up to its ack; resend the rest.
      const resent = link.answerResume();
      log.info('bridge-resume', { delivered: r.frame.ack, resending: resent });
    }
    relieve();
  };

  const finish = (() => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      void (async () => {
        await hooks.afterExit?.().catch((e: Error) => log.error('after-exit-failed', { error: e.message }));
        log.info('exit', { code: exitCode, unacked: link.unackedCount });
        process.exit(exitCode);
      })();
    };
  })();
  let exitCode = 0;

  agent.on('exit', (code, signal) => {
    exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 15) : 1);
    log.info('agent-exit', { code, signal });
    if (turns.clear()) reportBusy(false);
    exiting = true;
    // Give the bridge time to acknowledge the agent's last words before the shell ends
    // (not when the shell itself is being closed: nobody is left to read them).
    if (link.unackedCount === 0 || hangup) finish();
    else setTimeout(finish, lingerMs).unref();
  });
  agent.on('error', (e) => {
    process.stdout.write(`acp-session: cannot start ${command[0]}: ${e.message}\n`);
    exitCode = 127;
    finish();
  });
  agentIn.on('error', () => undefined);

  // The shell is being closed (CLOSE frame → SIGHUP) or the runtime stops: end the agent, keep its state.
  for (const sig of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      hangup = true;
      log.info('signal', { signal: sig });
      agent.kill('SIGTERM');
      setTimeout(() => agent.kill('SIGKILL'), 3_000).unref();
    });
  }
  return new Promise<never>(() => undefined);
}

const NEWLINE = Buffer.from('\n');

export interface AgentLog {
  /** The agent's stderr goes here too. */
  readonly fd: number | 'ignore';
  readonly logger: Logger;
}

/** The agent log file (never the terminal: that is the protocol channel), private to the agent user. */
export function openAgentLog(path = resolvePaths(process.env).agentLog): AgentLog {
  let fd: number | 'ignore' = 'ignore';
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    fd = openSync(path, 'a', 0o600);
  } catch {
    fd = 'ignore';
  }
  const metricsDir = resolvePaths(process.env).metricsDir;
  const sink = (line: string) => {
    // A record with metrics also goes to the contract server, whose stdout reaches CloudWatch.
    spoolMetricLine(metricsDir, line);
    if (fd === 'ignore') return;
    try {
      writeSync(fd, line);
    } catch {
      // Logging never takes the relay down.
    }
  };
  return { fd, logger: createLogger('acp-session', sink) };
}

if (require.main === module) {
  // The shell may lack the container's environment: take what the contract server saw.
  const adopted = adoptRuntimeEnv(process.env, resolvePaths(process.env).runtimeEnvFile);
  const agentLog = openAgentLog();
  agentLog.logger.info('runtime-env', { adopted });
  void runLauncher(process.argv.slice(2), agentLog, agentSetupHooks(agentLog.logger));
}
