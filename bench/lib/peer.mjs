// The benchmark's ACP client side: newline-delimited JSON-RPC over a child process's
// stdin/stdout, exactly what OpenAB writes and reads. Every line is timestamped when
// the chunk that completes it arrives (before it is parsed), so a 10 MB line's parse
// time in this process is not counted against the transport.
import { performance } from 'node:perf_hooks';

export class Peer {
  /**
   * @param {string} name
   * @param {import('node:child_process').ChildProcess} child
   */
  constructor(name, child) {
    this.name = name;
    this.child = child;
    this.pending = new Map();
    this.nextId = 1;
    /** @type {((msg: any, t: number, bytes: number) => void) | undefined} */
    this.onNotification = undefined;
    this.junkLines = 0;
    this.exit = undefined;
    this.parts = [];
    child.stdout.on('data', (chunk) => this.onData(chunk, performance.now()));
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const p of this.pending.values()) p.reject(new Error(`${name} exited (code ${code}, signal ${signal}) before answering ${p.method}`));
        this.pending.clear();
        resolve(this.exit);
      });
    });
  }

  get pid() {
    return this.child.pid;
  }

  onData(chunk, t) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) {
        if (start < chunk.length) this.parts.push(chunk.subarray(start));
        return;
      }
      let line;
      if (this.parts.length > 0) {
        this.parts.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.parts);
        this.parts = [];
      } else {
        line = chunk.subarray(start, nl);
      }
      start = nl + 1;
      this.onLine(line, t);
    }
  }

  onLine(line, t) {
    if (line.length === 0) return;
    let msg;
    try {
      msg = JSON.parse(line.toString('utf8'));
    } catch {
      this.junkLines++;
      return;
    }
    if (msg && msg.method === undefined && msg.id !== undefined && msg.id !== null) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      p.resolve({ msg, t0: p.t0, t1: t, bytes: line.length });
      return;
    }
    if (msg && typeof msg.method === 'string' && msg.id === undefined) {
      this.onNotification?.(msg, t, line.length);
      return;
    }
    if (msg && typeof msg.method === 'string') {
      // A request from the agent: none of the benchmark's commands send one; refuse politely.
      this.writeLine(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'not supported by the benchmark client' } }));
    }
  }

  writeLine(text) {
    return this.child.stdin.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Sends a request; resolves with the response message and when it was sent and answered (ms). */
  request(method, params, timeoutMs = 30_000) {
    const id = this.nextId++;
    const line = `${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`;
    return new Promise((resolve, reject) => {
      if (this.exit) return reject(new Error(`${this.name} has exited`));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const t0 = performance.now();
      this.pending.set(id, { resolve, reject, timer, method, t0 });
      this.child.stdin.write(line);
    }).then((r) => {
      if (r.msg.error) throw new Error(`${this.name}: ${method} failed: ${JSON.stringify(r.msg.error).slice(0, 300)}`);
      return r;
    });
  }

  /** Closes stdin (OpenAB evicting the thread) and waits for the exit; SIGKILL after `ms`. */
  async close(ms = 5_000) {
    if (this.exit) return this.exit;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}
