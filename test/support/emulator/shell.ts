/**
 * One interactive shell as AgentCore runs it: a real bash in a real PTY that outlives
 * its WebSocket connections. Output is always read (so the shell never blocks on a full
 * PTY while nobody is attached) into a bounded replay ring, and forwarded to the attached
 * client's sink, if there is one.
 */
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as pty from 'node-pty';
import { ReplayBuffer, DEFAULT_REPLAY_BYTES, type ReplayMode, type ReplayResult } from './replay-buffer';

/** After the shell exits, output still arriving is sent first: until this long without any, */
const EXIT_QUIET_MS = 30;
/** or this long after the exit at most. */
const EXIT_QUIET_MAX_MS = 1_000;

export const DEFAULT_COLS = 80;
export const DEFAULT_ROWS = 24;
/** Grace between SIGHUP and SIGKILL when a shell is killed for good (as the service does on 0xFF). */
export const KILL_GRACE_MS = 2000;

export interface ShellOptions {
  /** Working directory and HOME (the session's persistent directory). */
  cwd: string;
  /** Extra environment on top of the minimal one. */
  env?: Record<string, string>;
  cols?: number;
  rows?: number;
  replayBytes?: number;
  /** Program and arguments; the default is what the emulator means by "the shell". */
  file?: string;
  args?: string[];
}

export interface ShellExit {
  exitCode: number;
  /** Signal name (e.g. 'SIGKILL') when the shell was killed by one, else null. */
  signal: string | null;
}

export type OutputSink = (chunk: Buffer) => void;

export class PtyShell extends EventEmitter {
  readonly pid: number;
  readonly exited: Promise<ShellExit>;
  private readonly pty: pty.IPty;
  private readonly replay: ReplayBuffer;
  private sink: OutputSink | undefined;
  private exitInfo: ShellExit | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private cols: number;
  private rows: number;

  constructor(options: ShellOptions) {
    super();
    this.cols = options.cols ?? DEFAULT_COLS;
    this.rows = options.rows ?? DEFAULT_ROWS;
    this.replay = new ReplayBuffer(options.replayBytes ?? DEFAULT_REPLAY_BYTES);
    // The service's shell does not inherit the container's environment (third-party
    // observation): give it only the basics, and a PATH without the container's extras.
    const env: Record<string, string> = {
      HOME: options.cwd,
      TERM: 'xterm-256color',
      PATH: '/usr/bin:/bin',
      ...options.env,
    };
    this.pty = pty.spawn(options.file ?? 'bash', options.args ?? ['--noprofile', '--norc', '-i'], {
      name: 'xterm-256color',
      cols: this.cols,
      rows: this.rows,
      cwd: options.cwd,
      env,
      // Raw bytes: output is forwarded verbatim, and UTF-8 may split across reads.
      encoding: null,
    });
    this.pid = this.pty.pid;
    // The replay ring starts "detached": output before the first attach is not lost.
    this.replay.markDetached();
    let lastDataAt = 0;
    this.pty.onData((data: string | Buffer) => {
      const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      if (chunk.length === 0) return;
      lastDataAt = Date.now();
      this.replay.append(chunk);
      this.sink?.(chunk);
    });
    this.exited = new Promise<ShellExit>((resolve) => {
      this.pty.onExit(({ exitCode, signal }) => {
        clearTimeout(this.killTimer);
        const info: ShellExit = { exitCode, signal: signal ? signalName(signal) : null };
        // node-pty may report the exit before the last output it read: the service sends all
        // of a shell's output before its exit, so wait until the PTY has been quiet a moment.
        const started = Date.now();
        const settle = () => {
          if (Date.now() - lastDataAt < EXIT_QUIET_MS && Date.now() - started < EXIT_QUIET_MAX_MS) {
            setTimeout(settle, EXIT_QUIET_MS);
            return;
          }
          this.exitInfo = info;
          this.sink = undefined;
          resolve(info);
          this.emit('exit', info);
        };
        setTimeout(settle, EXIT_QUIET_MS);
      });
    });
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get attached(): boolean {
    return this.sink !== undefined;
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.cols, rows: this.rows };
  }

  /** Starts forwarding output to `sink` and returns what to replay first. */
  attach(sink: OutputSink, mode: ReplayMode): ReplayResult {
    const result = this.replay.markAttached(mode);
    this.sink = sink;
    return result;
  }

  /** Stops forwarding; output keeps accumulating in the replay ring. */
  detach(): void {
    this.sink = undefined;
    this.replay.markDetached();
  }

  write(data: Uint8Array): void {
    if (this.alive && data.length > 0) this.pty.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  /** Input accepted but not yet written into the PTY (node-pty queues it while the PTY is full). */
  inputBacklog(): number {
    // node-pty exposes no public counter; read its write queue defensively.
    const queue = (this.pty as unknown as { _writeStream?: { _writeQueue?: Array<{ buffer: Buffer; offset: number }> } })
      ._writeStream?._writeQueue;
    if (!Array.isArray(queue)) return 0;
    let n = 0;
    for (const task of queue) n += task.buffer.length - task.offset;
    return n;
  }

  /** Resizes the PTY; the same size again is a no-op (no SIGWINCH), as observed on the service. */
  resize(cols: number, rows: number): void {
    if (!this.alive || (cols === this.cols && rows === this.rows)) return;
    this.cols = cols;
    this.rows = rows;
    this.pty.resize(cols, rows);
  }

  /** Sends one signal to the shell process (default SIGKILL). */
  signal(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.alive) return;
    try {
      this.pty.kill(signal);
    } catch {
      // Already gone between the check and the kill.
    }
  }

  /**
   * Kills the shell for good: SIGHUP, then SIGKILL to everything in its terminal session
   * if it is still alive after the grace period. Resolves once it has exited.
   */
  kill(graceMs: number = KILL_GRACE_MS): Promise<ShellExit> {
    if (this.alive && !this.killTimer) {
      this.signal('SIGHUP');
      this.killTimer = setTimeout(() => this.killSession('SIGKILL'), graceMs);
      this.killTimer.unref();
    }
    return this.exited;
  }

  /**
   * Signals every process in the shell's terminal session (the shell is its leader), so
   * jobs that ignore SIGHUP die too: what a microVM teardown does. Linux-only; elsewhere
   * only the shell itself is signalled.
   */
  killSession(signal: NodeJS.Signals = 'SIGKILL'): void {
    for (const pid of sessionMembers(this.pid)) {
      try {
        process.kill(pid, signal);
      } catch {
        // Exited meanwhile.
      }
    }
    this.signal(signal);
  }
}

function signalName(signal: number): string {
  for (const [name, num] of Object.entries(osConstants.signals)) if (num === signal) return name;
  return `SIG${signal}`;
}

/** Pids whose session id is `sid`, from /proc; empty where /proc is absent. */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp session ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[3]) === sid) out.push(Number(entry));
    } catch {
      // Process vanished while scanning.
    }
  }
  return out;
}
