// A minimal ACP relay on the OFFICIAL AgentCore TypeScript SDK (bedrock-agentcore, ESM-only),
// the comparison point for the bridge: it opens a shell with RuntimeClient.openShell, puts
// the PTY in raw mode (`stty raw -echo`), execs the agent, and then pipes bytes both ways:
//   stdin → STDIN frames: one send in flight; what queues meanwhile is coalesced into frames of
//           at most 65,535 payload bytes, and a frame that is not full is only sent when the
//           queue ends at a line boundary (the traffic is JSON lines: the rest of a line is coming);
//   STDOUT frames → stdout, unchanged.
// The SDK has no rate limiting of its own, so the relay keeps at most SDK_RELAY_MAX_FPS (default
// 240; 0 = off) frames in any sliding second, or AgentCore closes the connection with 1008.
// No parsing, no reconnect logic. It speaks on stdin/stdout like the bridge, so the benchmark
// drives both the same way.
//
// Env: BEDROCK_AGENTCORE_DATA_PLANE_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// RUNTIME_ARN, SESSION_ID, SHELL_ID, AGENT_COMMAND, SDK_RELAY_MAX_FPS, SDK_RELAY_NAIVE=1 (send each
// stdin chunk as it comes, split at 65,535 bytes: what a first attempt looks like).
// Diagnostics go to stderr.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { RuntimeClient, ShellChannel } from 'bedrock-agentcore/runtime';

const MAX_PAYLOAD = 65_535; // the SDK refuses more (64 KB frame including the channel byte)
const MAX_QUEUED = 4 * 1024 * 1024;

const { RUNTIME_ARN: runtimeArn, SESSION_ID: sessionId, SHELL_ID: shellId, AGENT_COMMAND: agentCommand } = process.env;
const fail = (msg) => {
  process.stderr.write(`sdk-relay: ${msg}\n`);
  process.exit(1);
};
if (!runtimeArn || !sessionId || !shellId || !agentCommand) fail('RUNTIME_ARN, SESSION_ID, SHELL_ID and AGENT_COMMAND are required');

const client = new RuntimeClient({ region: process.env.AWS_REGION });
const shell = await client.openShell({ runtimeArn, sessionId, shellId });
await shell.resize(500, 50);

// The marker is printed from two halves so the echo of the typed line never matches it.
const ready = Buffer.from(`SDK_RELAY_READY_${randomBytes(6).toString('hex')}`);
const half = ready.length >> 1;
const a = ready.subarray(0, half).toString();
const b = ready.subarray(half).toString();
await shell.send(`stty raw -echo && printf '%s%s\\n' '${a}' '${b}' && exec ${agentCommand}\r`);

// ---- stdin → shell
const queue = [];
let queued = 0;
let sending = false;
let inputEnded = false;
const stats = { frames: 0, bytes: 0, partialFrames: 0, paceWaits: 0, paceWaitMs: 0 };
const maxFps = Number(process.env.SDK_RELAY_MAX_FPS ?? 240);
const naive = process.env.SDK_RELAY_NAIVE === '1';
const sentAt = []; // send times within the last second

function take(max) {
  const parts = [];
  let size = 0;
  while (queue.length > 0 && size < max) {
    const head = queue[0];
    const room = max - size;
    if (head.length <= room) {
      parts.push(queue.shift());
      size += head.length;
    } else {
      parts.push(head.subarray(0, room));
      queue[0] = head.subarray(room);
      size += room;
    }
  }
  queued -= size;
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
}

/** Whether to send now: a full frame's worth, or everything up to the end of a line. */
function shouldSend() {
  if (queued >= MAX_PAYLOAD || naive) return queued > 0;
  const last = queue[queue.length - 1];
  return queued > 0 && last[last.length - 1] === 0x0a;
}

async function pace() {
  if (maxFps <= 0) return;
  for (;;) {
    const now = performance.now();
    while (sentAt.length > 0 && sentAt[0] <= now - 1000) sentAt.shift();
    if (sentAt.length < maxFps) {
      sentAt.push(now);
      return;
    }
    const wait = Math.max(1, sentAt[0] + 1000 - now);
    stats.paceWaits++;
    stats.paceWaitMs += wait;
    await new Promise((r) => setTimeout(r, wait));
  }
}

async function pump() {
  if (sending) return;
  sending = true;
  try {
    while (shouldSend()) {
      await pace();
      const frame = take(MAX_PAYLOAD);
      if (frame.length < MAX_PAYLOAD) stats.partialFrames++;
      await shell.send(frame);
      stats.frames++;
      stats.bytes += frame.length;
      if (queued < MAX_QUEUED / 2 && process.stdin.isPaused()) process.stdin.resume();
    }
  } catch (e) {
    fail(`send failed: ${e.message}`);
  }
  sending = false;
  if (inputEnded) finish();
}

function startInput() {
  process.stdin.on('data', (chunk) => {
    if (naive) {
      // One send per chunk as it comes (split at the SDK's limit), no coalescing, no waiting.
      for (let off = 0; off < chunk.length; off += MAX_PAYLOAD) {
        stats.frames++;
        void shell.send(chunk.subarray(off, off + MAX_PAYLOAD)).catch((e) => fail(`send failed: ${e.message}`));
      }
      return;
    }
    queue.push(chunk);
    queued += chunk.length;
    if (queued > MAX_QUEUED) process.stdin.pause();
    void pump();
  });
  process.stdin.on('end', () => {
    inputEnded = true;
    if (!sending) finish();
  });
}

let finishing = false;
async function finish() {
  if (finishing) return;
  finishing = true;
  // The client went away: end the shell (0xFF), as the bridge's stop() would.
  await shell.close().catch(() => undefined);
  process.stderr.write(`sdk-relay: done ${JSON.stringify(stats)}\n`);
  process.exit(0);
}

// ---- shell → stdout: drop the preamble (prompt, echo) up to the marker line, then pass bytes through.
let preamble = Buffer.alloc(0);
let started = false;
const watchdog = setTimeout(() => fail(`agent did not start: ${preamble.toString('utf8').slice(-300)}`), 20_000);
for await (const frame of shell) {
  if (frame.channel !== ShellChannel.STDOUT) continue;
  let data = frame.payload;
  if (!started) {
    preamble = Buffer.concat([preamble, data]);
    const at = preamble.indexOf(ready);
    const nl = at < 0 ? -1 : preamble.indexOf(0x0a, at + ready.length);
    if (nl < 0) continue;
    started = true;
    clearTimeout(watchdog);
    data = preamble.subarray(nl + 1);
    preamble = undefined;
    startInput();
    if (data.length === 0) continue;
  }
  if (!process.stdout.write(data)) await once(process.stdout, 'drain');
}
process.stderr.write(`sdk-relay: shell ended (exitCode ${shell.exitCode}, kicked ${shell.kicked}) ${JSON.stringify(stats)}\n`);
process.exit(shell.exitCode ?? 1);
