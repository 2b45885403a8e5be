#!/usr/bin/env node
// `npm run bench`: the bridge under load on loopback, beside the official SDK and a direct pipe.
// See bench/README.md for what each figure means and how it is measured.
//
//   node bench/run.mjs [--reps 5] [--only plain,framed,sdk,direct] [--samples 300]
//                      [--bytes 10000000] [--burst 10000] [--settle-s 10] [--out bench/results.json]
//                      [--bridge-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"] [--bridge path/to/bridge.js]
//                      [--bridge-env NAME=VALUE ...] [--no-deployed-env]
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { transformSync } from 'esbuild';
import { startEmulator as startEmulatorProcess } from './lib/emulator.mjs';
import { Peer } from './lib/peer.mjs';

// ---------------------------------------------------------------- settings

const { values: opt } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    only: { type: 'string', default: 'plain,framed,sdk,direct' },
    samples: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '30' },
    'gap-ms': { type: 'string', default: '5' },
    bytes: { type: 'string', default: '10000000' },
    burst: { type: 'string', default: '10000' },
    'startup-trials': { type: 'string', default: '7' },
    'settle-s': { type: 'string', default: '10' },
    out: { type: 'string' },
    'bridge-node-args': { type: 'string', default: '' },
    'bridge-env': { type: 'string', multiple: true, default: [] },
    'no-deployed-env': { type: 'boolean', default: false },
    bridge: { type: 'string' },
    'keep-dir': { type: 'boolean', default: false },
  },
  strict: true,
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** `--bridge` runs another build of the bridge (an A/B of a proposed change) through the same bench. */
const BRIDGE = opt.bridge ? resolve(opt.bridge) : join(ROOT, 'dist', 'bridge.js');
const EMULATOR = join(ROOT, 'dist', 'test', 'emulator.js');
const AGENT = join(ROOT, 'dist', 'test', 'acp-agent.mjs');
const LAUNCHER = join(ROOT, 'runtimes', 'app', 'acp-session.js');
const SDK_RELAY = join(ROOT, 'bench', 'sdk-relay.mjs');
const OUT = opt.out ?? join(ROOT, 'bench', 'results.json');
const NODE = process.execPath;
const AGENT_COMMAND = `${NODE} ${AGENT}`;

const REPS = int(opt.reps, 1);
const SAMPLES = int(opt.samples, 10);
const WARMUP = int(opt.warmup, 0);
/** Idle time between latency samples, so a tight loop never meets the bridge's 200 frames/s pacing. */
const GAP_MS = int(opt['gap-ms'], 0);
const BYTES = int(opt.bytes, 1000);
const BURST = int(opt.burst, 1);
const STARTUP_TRIALS = int(opt['startup-trials'], 1);
/** Seconds of idleness after the transfers before memory is measured again (first repetition only). */
const SETTLE_S = int(opt['settle-s'], 0);
const TRANSPORTS = opt.only.split(',').map((s) => s.trim()).filter(Boolean);
for (const t of TRANSPORTS) if (!['plain', 'framed', 'sdk', 'direct'].includes(t)) die(`unknown transport ${t}`);
/**
 * The bridge runs with the environment and node options OabService deploys it with
 * (`BRIDGE_ENV`, `BRIDGE_NODE_OPTIONS` in lib/render/oab-command.ts), plus any `--bridge-env`
 * and `--bridge-node-args` (an A/B of allocator or runtime settings).
 */
const DEPLOYED = opt['no-deployed-env'] ? { BRIDGE_ENV: {}, BRIDGE_NODE_OPTIONS: [] } : await deployedBridgeSettings();
/** The node options the bridge is deployed with, then any `--bridge-node-args`. */
const BRIDGE_NODE_ARGS = [...DEPLOYED.BRIDGE_NODE_OPTIONS, ...opt['bridge-node-args'].split(' ').filter(Boolean)];
const BRIDGE_ENV = {
  ...DEPLOYED.BRIDGE_ENV,
  ...Object.fromEntries(
  opt['bridge-env'].map((kv) => {
    const at = kv.indexOf('=');
    if (at < 1) die(`--bridge-env expects NAME=VALUE, got ${kv}`);
    return [kv.slice(0, at), kv.slice(at + 1)];
  }),
  ),
};

/** What lib/render/oab-command.ts renders for every bridge: its environment and node options. */
async function deployedBridgeSettings() {
  return importLib('oab-command.ts');
}

/** A pure module of lib/render/, run from its source. */
async function importLib(file) {
  const source = readFileSync(join(ROOT, 'lib', 'render', file), 'utf8');
  const { code } = transformSync(source, { loader: 'ts', format: 'esm' });
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

/** The peak per bridge the constructs size the OAB task for (lib/render/task-memory.ts). */
const { bridgePeakMiB } = await importLib('task-memory.ts');

/** AgentCore's limits: 250 client frames/s of at most 64 KiB (channel byte included). */
const SERVICE_FRAMES_PER_SECOND = 250;
const SERVICE_FRAME_BYTES = 65_536;
const CEILING_MBPS = (SERVICE_FRAMES_PER_SECOND * SERVICE_FRAME_BYTES) / 1e6; // 16.384 MB/s
const TARGETS = {
  /** Relay overhead p50 over a direct pipe, per mode: framed mode's launcher hop buys exactly-once delivery. */
  overheadP50Ms: { plain: 1, framed: 1.5 },
  throughputShareOfCeiling: 0.6,
  maxFramesPerSecond: SERVICE_FRAMES_PER_SECOND,
  startupMs: 150,
  /** Memory is counted per bridge as private memory (RssAnon): what each further thread adds. */
  idleAnonMiB: 12,
  /** After a 10 MB message each way, private memory back within this factor of idle, `--settle-s` later. */
  settledAnonFactor: 1.5,
  /** "No worse than the SDK on latency": within this relative noise band. */
  latencyTolerance: 0.05,
};
const INIT_PARAMS = { protocolVersion: 1, clientCapabilities: {}, clientInfo: { name: 'openab', version: '0.1.0' } };
/** Everything in the benchmark is bounded; this is the outermost bound. */
const GLOBAL_TIMEOUT_MS = 12 * 60_000;

for (const f of [BRIDGE, EMULATOR, AGENT, LAUNCHER]) if (!existsSync(f)) die(`${f} is missing: run \`npm run build\` first`);

// ---------------------------------------------------------------- process hygiene

const children = new Set();
const work = mkdtempSync(join(tmpdir(), 'oab-bench-'));
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function killAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', () => {
  killAll();
  if (!opt['keep-dir']) rmSync(work, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    process.stderr.write(`bench: ${sig}, cleaning up\n`);
    process.exit(130);
  });
}
setTimeout(() => {
  process.stderr.write(`bench: gave up after ${GLOBAL_TIMEOUT_MS / 1000} s\n`);
  process.exit(3);
}, GLOBAL_TIMEOUT_MS).unref();

// ---------------------------------------------------------------- helpers

function int(s, min) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) die(`expected an integer >= ${min}, got ${s}`);
  return n;
}
function die(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`${msg}\n`);

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
function round(x, d = 2) {
  return x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d;
}

/**
 * VmRSS, its private part (RssAnon: what each extra bridge process really adds; the rest is
 * mostly the node executable's pages, shared by every node process) and VmHWM, in MiB.
 */
function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, anonMiB: kb('RssAnon') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMiB: null, anonMiB: null, hwmMiB: null };
  }
}

/** Exactly `bytes` UTF-8 bytes mixing 1- to 4-byte characters (the test agent's `big` pattern). */
function bigText(bytes) {
  return 'aé€😀'.repeat(Math.floor(bytes / 10)) + 'a'.repeat(bytes % 10);
}

// ---------------------------------------------------------------- the emulator

function startEmulator() {
  return startEmulatorProcess({ node: NODE, emulator: EMULATOR, stateDir: join(work, 'sessions'), home: work, track });
}

// ---------------------------------------------------------------- transports

let launcherWrapper;
function bridgeArgs(emu, kind, logFile) {
  if (kind === 'framed' && !launcherWrapper) {
    // What the runtime image installs as /app/bin/acp-session, pointing at this node.
    launcherWrapper = join(work, 'acp-session');
    writeFileSync(launcherWrapper, `#!/bin/sh\nexec ${NODE} ${LAUNCHER} "$@"\n`, { mode: 0o755 });
  }
  return [
    ...BRIDGE_NODE_ARGS,
    BRIDGE,
    '--runtime-arn', emu.runtimeArn,
    '--endpoint-url', emu.url,
    // The launcher logs where OPENAB_AGENT_LOG says (inside this run's directory).
    '--shell-command', `OPENAB_AGENT_LOG=${join(work, 'launcher.log')} ${AGENT_COMMAND}`,
    '--log-file', logFile,
    '--log-level', 'info',
    '--launcher', kind === 'framed' ? launcherWrapper : 'none',
  ];
}
function bridgeEnv(emu) {
  // OpenAB clears the environment; these are what its inherit_env would pass.
  return {
    HOME: join(work, 'home'),
    PATH: '/usr/local/bin:/usr/bin:/bin',
    AWS_ACCESS_KEY_ID: emu.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emu.secretAccessKey,
    AWS_REGION: emu.region,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

let spawned = 0;
/** Spawns one transport process; the benchmark then speaks ACP to it on stdin/stdout. */
function spawnTransport(emu, kind, extraEnv = {}) {
  const n = ++spawned;
  mkdirSync(join(work, 'home'), { recursive: true });
  let child;
  let logFile;
  if (kind === 'plain' || kind === 'framed') {
    logFile = join(work, `bridge-${n}-${kind}.log`);
    child = spawn(NODE, bridgeArgs(emu, kind, logFile), { env: { ...bridgeEnv(emu), ...BRIDGE_ENV }, stdio: ['pipe', 'pipe', 'pipe'] });
  } else if (kind === 'sdk') {
    child = spawn(NODE, [SDK_RELAY], {
      cwd: ROOT,
      env: {
        ...bridgeEnv(emu),
        BEDROCK_AGENTCORE_DATA_PLANE_ENDPOINT: emu.url,
        RUNTIME_ARN: emu.runtimeArn,
        SESSION_ID: `bench-sdk-${randomUUID()}`,
        SHELL_ID: `bench-sdk-${n}`,
        AGENT_COMMAND,
        ...extraEnv,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } else {
    const home = join(work, `direct-${n}`);
    mkdirSync(home, { recursive: true });
    child = spawn(NODE, [AGENT], { cwd: home, env: { HOME: home, PATH: '/usr/local/bin:/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'] });
  }
  track(child);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-4000)));
  const peer = new Peer(kind, child);
  peer.stderr = () => stderr;
  peer.logFile = logFile;
  return peer;
}

// ---------------------------------------------------------------- one session per transport and repetition

const BIG = bigText(BYTES);
const BIG_JSON = JSON.stringify(BIG);
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');

let uploads = 0;
async function runSession(emu, kind, rep) {
  const r = { kind, rep };
  const before = await emu.stats();
  const firstConn = Math.max(0, ...before.connections.map((c) => c.id)) + 1;
  const ourConnections = async () => (await emu.stats()).connections.filter((c) => c.id >= firstConn);

  const tSpawn = performance.now();
  const peer = spawnTransport(emu, kind);
  let phase = 'initialize';
  try {
    // initialize written at spawn: for the bridge this is its start-up time; for the others it
    // includes opening the shell and starting the agent, since they cannot answer it themselves.
    const init = await peer.request('initialize', INIT_PARAMS, 60_000);
    r.initializeMs = init.t1 - tSpawn;
    const created = await peer.request('session/new', { cwd: '/tmp', mcpServers: [] }, 60_000);
    r.sessionNewMs = created.t1 - created.t0;
    const sessionId = created.msg.result.sessionId;
    const prompt = (text, timeoutMs = 60_000) =>
      peer.request('session/prompt', { sessionId, prompt: [{ type: 'text', text }] }, timeoutMs);

    phase = 'first prompts';
    for (let i = 0; i < 3; i++) await prompt('pid');
    await sleep(300);
    if (kind !== 'direct') Object.assign(r, prefix('idle', memory(peer.pid)));

    phase = 'latency';
    // ---- relay latency: one small prompt at a time; answered by one chunk and the response.
    for (let i = 0; i < WARMUP; i++) await prompt('pid');
    const rtts = [];
    for (let i = 0; i < SAMPLES; i++) {
      if (GAP_MS > 0) await sleep(GAP_MS);
      const x = await prompt('pid');
      rtts.push(x.t1 - x.t0);
    }
    rtts.sort((a, b) => a - b);
    r.latencyP50Ms = quantile(rtts, 0.5);
    r.latencyP99Ms = quantile(rtts, 0.99);
    r.latencyMeanMs = rtts.reduce((a, b) => a + b, 0) / rtts.length;

    phase = 'burst';
    // ---- burst: N small streaming notifications.
    const sentBefore = await serverFrames(ourConnections);
    const clientBefore = kind === 'direct' ? 0 : await clientFrames(ourConnections);
    let count = 0;
    let last;
    let maxGap = 0;
    peer.onNotification = (msg, t) => {
      if (msg.params?.update?.sessionUpdate !== 'agent_message_chunk') return;
      count++;
      if (last !== undefined && t - last > maxGap) maxGap = t - last;
      last = t;
    };
    const burst = await prompt(`burst ${BURST}`, 120_000);
    peer.onNotification = undefined;
    r.burstMs = burst.t1 - burst.t0;
    r.burstMaxGapMs = maxGap;
    r.burstCount = count;
    if (count !== BURST) throw new Error(`burst: received ${count} of ${BURST} notifications`);
    if (kind !== 'direct') {
      const sentAfter = await serverFrames(ourConnections);
      r.burstServerFrames = sentAfter - sentBefore;
      r.burstServerFramesPerSecond = (sentAfter - sentBefore) / (r.burstMs / 1000);
      r.burstClientFramesPerSecond = ((await clientFrames(ourConnections)) - clientBefore) / (r.burstMs / 1000);
    }

    phase = 'upload';
    // ---- client → agent: one `_test/` notification of BYTES, then a small prompt that is
    // answered only after the agent has taken it in (messages are handled in order).
    // Unique per upload in this run (the agent's received log is shared by all sessions).
    const nonce = ++uploads;
    const bigLine = Buffer.from(`{"jsonrpc":"2.0","method":"_test/bench","params":{"n":${nonce},"data":${BIG_JSON}}}\n`);
    const up0 = performance.now();
    peer.child.stdin.write(bigLine);
    const upDone = await prompt('pid', 120_000);
    r.upMs = upDone.t1 - up0;
    r.upBytes = bigLine.length;
    r.upMBps = r.upBytes / 1e6 / (r.upMs / 1000);
    r.upVerified = verifyReceived(nonce);
    if (!r.upVerified) throw new Error('upload: the agent did not record the expected sha256');

    phase = 'download';
    // ---- agent → client: `big BYTES`, timed until the whole message has arrived.
    let bigAt;
    let bigBytes = 0;
    let bigMsg;
    peer.onNotification = (msg, t, bytes) => {
      if (bytes > BYTES / 2) {
        bigAt = t;
        bigBytes = bytes;
        bigMsg = msg;
      }
    };
    const framesBeforeDown = kind === 'direct' ? 0 : await serverFrames(ourConnections);
    const down = await prompt(`big ${BYTES}`, 120_000);
    peer.onNotification = undefined;
    if (bigAt === undefined) throw new Error('download: the big message never arrived');
    r.downMs = bigAt - down.t0;
    r.downBytes = bigBytes;
    r.downMBps = bigBytes / 1e6 / (r.downMs / 1000);
    const text = bigMsg.params?.update?.content?.text ?? '';
    r.downVerified = text.length === BIG.length && createHash('sha256').update(text).digest('hex') === BIG_SHA;
    if (!r.downVerified) throw new Error('download: content differs');
    if (kind !== 'direct') {
      Object.assign(r, prefix('after', memory(peer.pid)));
      // The peak of the private part: the peak VmRSS less what was shared when idle.
      if (r.afterHwmMiB !== null && r.idleRssMiB != null) r.peakAnonMiB = r.afterHwmMiB - (r.idleRssMiB - r.idleAnonMiB);
      if (rep === 0 && SETTLE_S > 0) {
        // Buffers of a large transfer are freed when V8 next collects, which an idle process
        // leaves to its memory reducer (a few seconds later): what stays is measured here.
        phase = 'settle';
        await sleep(SETTLE_S * 1000);
        Object.assign(r, prefix('settled', memory(peer.pid)));
      }
      r.downServerFrames = (await serverFrames(ourConnections)) - framesBeforeDown;
      r.downServerFramesPerSecond = r.downServerFrames / (r.downMs / 1000);
    }
    // Every line a client reads must be JSON-RPC: anything else is a relay defect, not a figure.
    if (peer.junkLines > 0) throw new Error(`${peer.junkLines} lines on stdout were not JSON`);
  } catch (e) {
    r.error = `[${phase}] ${e.message}${peer.stderr() ? ` | stderr: ${peer.stderr().slice(-500)}` : ''}`;
  } finally {
    await peer.close();
  }

  if (kind !== 'direct') {
    const conns = await ourConnections();
    r.connections = conns.length;
    r.maxClientFramesPerSecond = Math.max(0, ...conns.map((c) => c.maxFramesPerSecond));
    r.clientFrames = conns.reduce((a, c) => a + Object.values(c.framesReceived).reduce((x, y) => x + y, 0), 0);
    r.closeCodes = conns.map((c) => c.closeCode);
    if (r.error) r.error += ` | connections closed: ${JSON.stringify(conns.map((c) => [c.closeCode, c.closeReason, c.maxFramesPerSecond]))}`;
    r.rateLimitCloses = conns.filter((c) => c.closeCode === 1008).length;
    // The bridge leaves its agent running for a later bridge (OpenAB semantics): end it here.
    const alive = (await emu.stats()).shells.filter((s) => s.alive && conns.some((c) => c.sessionId === s.sessionId && c.shellId === s.shellId));
    for (const s of alive) await emu.killShell(s.sessionId, s.shellId);
    // The bridge's launch line sends the agent's stderr to /tmp/openab-agent-<shellId>.log (the
    // emulator's shells have no TMPDIR); those shell ids are this run's own, so remove the files.
    for (const id of new Set(conns.map((c) => c.shellId))) {
      if (/^[A-Za-z0-9_-]+$/.test(id)) rmSync(join('/tmp', `openab-agent-${id}.log`), { force: true });
    }
  }
  if (kind === 'sdk') {
    const m = /sdk-relay: (?:done|shell ended[^{]*) (\{.*\})/.exec(peer.stderr());
    if (m) r.sdkRelay = JSON.parse(m[1]);
  }
  if (peer.logFile && existsSync(peer.logFile)) {
    const events = readFileSync(peer.logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const paced = events.filter((e) => e.event === 'frames-paced');
    r.pacedBursts = paced.length;
    r.pacedWaitMs = paced.reduce((a, e) => a + e.waitedMs, 0);
    const errors = events.filter((e) => e.level === 'error' || e.level === 'warn').map((e) => e.event);
    if (errors.length) r.bridgeWarnings = [...new Set(errors)];
  }
  return r;
}

function prefix(p, o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${p}${k[0].toUpperCase()}${k.slice(1)}`, v]));
}

async function serverFrames(ourConnections) {
  return (await ourConnections()).reduce((a, c) => a + c.framesSent, 0);
}

async function clientFrames(ourConnections) {
  return (await ourConnections()).reduce((a, c) => a + Object.values(c.framesReceived).reduce((x, y) => x + y, 0), 0);
}

/** Finds the agent's received.log entry for `nonce` (in the emulator's session dirs or a direct agent's HOME). */
function verifyReceived(nonce) {
  for (const f of readdirSync(work, { recursive: true })) {
    if (!String(f).endsWith('received.log')) continue;
    for (const line of readFileSync(join(work, String(f)), 'utf8').split('\n')) {
      if (!line.includes(`"n":${nonce}`)) continue;
      const e = JSON.parse(line);
      if (e.n === nonce) return e.sha256 === BIG_SHA;
    }
  }
  return false;
}

/**
 * What a first attempt on the SDK does with a 10 MB message: each 64 KiB stdin chunk sent as it
 * comes, split at the SDK's 65,535-byte limit, with no pacing. Informative, not a target.
 */
async function naiveSdkCheck(emu) {
  const before = await emu.stats();
  const firstConn = Math.max(0, ...before.connections.map((c) => c.id)) + 1;
  const peer = spawnTransport(emu, 'sdk', { SDK_RELAY_NAIVE: '1', SDK_RELAY_MAX_FPS: '0' });
  const r = {};
  try {
    await peer.request('initialize', INIT_PARAMS, 60_000);
    const { msg } = await peer.request('session/new', { cwd: '/tmp', mcpServers: [] }, 60_000);
    const bigLine = Buffer.from(`{"jsonrpc":"2.0","method":"_test/bench","params":{"n":1,"data":${BIG_JSON}}}\n`);
    const t0 = performance.now();
    peer.child.stdin.write(bigLine);
    const done = await peer.request('session/prompt', { sessionId: msg.result.sessionId, prompt: [{ type: 'text', text: 'pid' }] }, 60_000);
    r.upMBps = bigLine.length / 1e6 / ((done.t1 - t0) / 1000);
    r.survived = true;
  } catch (e) {
    r.survived = false;
    r.error = e.message;
  } finally {
    await peer.close();
  }
  const conns = (await emu.stats()).connections.filter((c) => c.id >= firstConn);
  r.maxClientFramesPerSecond = Math.max(0, ...conns.map((c) => c.maxFramesPerSecond));
  r.clientFrames = conns.reduce((a, c) => a + Object.values(c.framesReceived).reduce((x, y) => x + y, 0), 0);
  r.closes = conns.map((c) => `${c.closeCode} ${c.closeReason ?? ''}`.trim());
  for (const s of (await emu.stats()).shells.filter((s) => s.alive && conns.some((c) => c.sessionId === s.sessionId))) {
    await emu.killShell(s.sessionId, s.shellId);
  }
  return r;
}

// ---------------------------------------------------------------- start-up

async function startupTrial(emu) {
  const t0 = performance.now();
  const peer = spawnTransport(emu, 'plain');
  // spawnTransport returns right after spawn(): the request goes out "immediately at spawn".
  const init = await peer.request('initialize', INIT_PARAMS, 10_000);
  const ms = init.t1 - t0;
  const mem = memory(peer.pid);
  await peer.close();
  return { ms, rssMiB: mem.rssMiB, anonMiB: mem.anonMiB };
}

/** The floor: a node process that answers the first line it reads. */
async function nodeFloorTrial() {
  const t0 = performance.now();
  // Answers the first line, then stays until stdin closes (so its memory can be read).
  const child = track(
    spawn(NODE, ['-e', "process.stdin.once('data',()=>process.stdout.write('{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\\n')).resume()"], {
      stdio: ['pipe', 'pipe', 'ignore'],
    }),
  );
  const peer = new Peer('node-floor', child);
  const r = await peer.request('initialize', INIT_PARAMS, 10_000);
  const mem = memory(peer.pid);
  await peer.close();
  return { ms: r.t1 - t0, rssMiB: mem.rssMiB, anonMiB: mem.anonMiB };
}

function wallMs(args) {
  const t0 = performance.now();
  const r = spawnSync(NODE, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

async function measureStartup(emu) {
  const rows = [];
  for (let i = 0; i < STARTUP_TRIALS; i++) {
    // Interleaved so drift on the machine hits each figure alike.
    const s = await startupTrial(emu);
    const f = await nodeFloorTrial();
    rows.push({
      bridgeInitializeMs: s.ms,
      bridgeRssAtInitializeMiB: s.rssMiB,
      bridgeAnonAtInitializeMiB: s.anonMiB,
      bridgeVersionMs: wallMs([BRIDGE, '--version']),
      nodeFloorInitializeMs: f.ms,
      nodeFloorRssMiB: f.rssMiB,
      nodeFloorAnonMiB: f.anonMiB,
      nodeEmptyMs: wallMs(['-e', '0']),
    });
  }
  const m = {};
  for (const k of Object.keys(rows[0])) m[k] = median(rows.map((r) => r[k]));
  return { trials: rows, median: m };
}

// ---------------------------------------------------------------- machine

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(cpus().length);
  return { nproc: Number(nproc), cpuModel: model, node: process.version, platform: `${process.platform} ${process.arch}` };
}

/** Other busy processes right now (CPU over the last second, from /proc), to say what else ran. */
async function othersBusy() {
  const parent = new Map();
  const snap = () => {
    const m = new Map();
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        parent.set(Number(pid), Number(f[1]));
        m.set(pid, Number(f[11]) + Number(f[12]));
      } catch {
        /* gone */
      }
    }
    return m;
  };
  // Ours: this process and everything below it (bridges, emulator, the agents in its PTYs).
  const ours = (pid) => {
    for (let p = pid, i = 0; p > 1 && i < 64; p = parent.get(p) ?? 0, i++) if (p === process.pid) return true;
    return false;
  };
  const a = snap();
  await sleep(1000);
  const b = snap();
  const busy = [];
  for (const [pid, t] of b) {
    const d = t - (a.get(pid) ?? t);
    if (d < 5 || ours(Number(pid))) continue; // < 5% of a core (clock ticks are 1/100 s)
    let cmd;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 120);
    } catch {
      continue;
    }
    busy.push({ pid: Number(pid), cpuPercent: d, cmd });
  }
  return { loadavg: loadavg().map((x) => round(x)), busy: busy.sort((x, y) => y.cpuPercent - x.cpuPercent).slice(0, 8) };
}

// ---------------------------------------------------------------- report

const COLUMNS = ['plain', 'framed', 'sdk', 'direct'];
const LABEL = { plain: 'bridge plain', framed: 'bridge framed', sdk: 'SDK relay', direct: 'direct pipe' };

function summarize(sessions) {
  const byKind = {};
  for (const kind of TRANSPORTS) {
    const ok = sessions.filter((s) => s.kind === kind && !s.error);
    const keys = [...new Set(ok.flatMap((s) => Object.keys(s)))].filter((k) => typeof ok.find((s) => k in s)?.[k] === 'number');
    const med = {};
    for (const k of keys) if (k !== 'rep') med[k] = median(ok.map((s) => s[k]));
    med.runs = ok.length;
    med.failed = sessions.filter((s) => s.kind === kind && s.error).length;
    byKind[kind] = med;
  }
  const direct = byKind.direct;
  for (const kind of ['plain', 'framed', 'sdk']) {
    const k = byKind[kind];
    if (!k || !direct) continue;
    // Per repetition (like with like, adjacent in time), then the median.
    const pairs = (f) =>
      sessions
        .filter((s) => s.kind === kind && !s.error)
        .map((s) => {
          const d = sessions.find((x) => x.kind === 'direct' && x.rep === s.rep && !x.error);
          return d ? f(s, d) : null;
        });
    k.overheadP50Ms = median(pairs((s, d) => s.latencyP50Ms - d.latencyP50Ms));
    k.overheadRatioP50 = median(pairs((s, d) => s.latencyP50Ms / d.latencyP50Ms));
  }
  for (const kind of Object.keys(byKind)) {
    const k = byKind[kind];
    if (k.upMBps !== undefined) k.upShareOfCeiling = k.upMBps / CEILING_MBPS;
    if (k.downMBps !== undefined) k.downShareOfCeiling = k.downMBps / CEILING_MBPS;
  }
  return byKind;
}

function fmt(v, d = 2) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return v.toFixed(d);
}

function table(byKind) {
  const cols = COLUMNS.filter((c) => byKind[c]);
  const rows = [
    ['relay latency p50 (ms)', 'latencyP50Ms', 2],
    ['relay latency p99 (ms)', 'latencyP99Ms', 2],
    ['overhead p50 vs direct (ms)', 'overheadP50Ms', 2],
    ['overhead ratio p50 (× direct)', 'overheadRatioP50', 2],
    [`client→agent ${BYTES / 1e6} MB (MB/s)`, 'upMBps', 2],
    ['  share of 16.384 MB/s ceiling', 'upShareOfCeiling', 2],
    [`agent→client ${BYTES / 1e6} MB (MB/s)`, 'downMBps', 2],
    ['  share of 16.384 MB/s ceiling', 'downShareOfCeiling', 2],
    [`burst ${BURST} total (ms)`, 'burstMs', 0],
    ['burst largest gap (ms)', 'burstMaxGapMs', 1],
    ['burst server→client frames/s (mean)', 'burstServerFramesPerSecond', 0],
    ['burst client→server frames/s (mean)', 'burstClientFramesPerSecond', 0],
    ['agent→client 10 MB server frames/s (mean)', 'downServerFramesPerSecond', 0],
    ['client→server max frames/s (any 1 s)', 'maxClientFramesPerSecond', 0],
    ['client→server frames per session', 'clientFrames', 0],
    ['paced bursts / waited (ms)', null, 0, (k) => (k.pacedBursts === undefined ? '–' : `${fmt(k.pacedBursts, 0)} / ${fmt(k.pacedWaitMs, 0)}`)],
    ['initialize at spawn → answer (ms)', 'initializeMs', 0],
    ['session/new (ms)', 'sessionNewMs', 0],
    ['VmRSS idle (MiB)', 'idleRssMiB', 1],
    ['  private part, RssAnon (MiB)', 'idleAnonMiB', 1],
    [`VmRSS after ${BYTES / 1e6} MB each way (MiB)`, 'afterRssMiB', 1],
    ['  private part, RssAnon (MiB)', 'afterAnonMiB', 1],
    [`VmRSS ${SETTLE_S} s later, first session (MiB)`, 'settledRssMiB', 1],
    ['  private part, RssAnon (MiB)', 'settledAnonMiB', 1],
    ['peak VmHWM (MiB)', 'afterHwmMiB', 1],
    ['  private part at the peak (MiB)', 'peakAnonMiB', 1],
    ['runs ok / failed', null, 0, (k) => `${k.runs} / ${k.failed}`],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length)) + 2;
  const w = 15;
  const out = [`${''.padEnd(w0)}${cols.map((c) => LABEL[c].padStart(w)).join('')}`];
  for (const [label, key, d, f] of rows) {
    out.push(`${label.padEnd(w0)}${cols.map((c) => (f ? f(byKind[c]) : fmt(byKind[c][key], d)).padStart(w)).join('')}`);
  }
  return out.join('\n');
}

function verdicts(byKind, startup, sessions) {
  const v = [];
  const add = (target, measured, pass) => v.push({ target, measured, result: pass === null ? 'N/A' : pass ? 'PASS' : 'MISS' });
  const bridges = ['plain', 'framed'].filter((k) => byKind[k]);
  for (const k of bridges) {
    const o = byKind[k].overheadP50Ms;
    const limit = TARGETS.overheadP50Ms[k];
    add(`overhead p50 < ${limit} ms (${LABEL[k]})`, `${fmt(o)} ms (${fmt(byKind[k].overheadRatioP50)}× direct)`, o === null ? null : o < limit);
  }
  for (const k of bridges) {
    for (const dir of ['up', 'down']) {
      const share = byKind[k][`${dir}ShareOfCeiling`];
      add(
        `${dir === 'up' ? 'client→agent' : 'agent→client'} ≥ ${TARGETS.throughputShareOfCeiling * 100}% of ${CEILING_MBPS} MB/s (${LABEL[k]})`,
        `${fmt(byKind[k][`${dir}MBps`])} MB/s = ${fmt(share * 100, 0)}%`,
        share === undefined || share === null ? null : share >= TARGETS.throughputShareOfCeiling,
      );
    }
  }
  const bridgeSessions = sessions.filter((s) => s.kind === 'plain' || s.kind === 'framed');
  const maxFps = Math.max(0, ...bridgeSessions.map((s) => s.maxClientFramesPerSecond ?? 0));
  const closes = bridgeSessions.reduce((a, s) => a + (s.rateLimitCloses ?? 0), 0);
  add(`bridge never over ${TARGETS.maxFramesPerSecond} frames/s`, `max ${maxFps} in any 1 s window, ${closes} closes 1008`, bridgeSessions.length ? maxFps < TARGETS.maxFramesPerSecond && closes === 0 : null);
  const s = startup?.median;
  add(`start-up < ${TARGETS.startupMs} ms (spawn → initialize answered)`, s ? `${fmt(s.bridgeInitializeMs, 0)} ms (--version ${fmt(s.bridgeVersionMs, 0)} ms; node floor ${fmt(s.nodeFloorInitializeMs, 0)} ms)` : '–', s ? s.bridgeInitializeMs < TARGETS.startupMs : null);
  for (const k of bridges) {
    const idle = byKind[k].idleAnonMiB;
    add(
      `idle private memory ≤ ${TARGETS.idleAnonMiB} MiB (${LABEL[k]})`,
      `${fmt(idle, 1)} MiB RssAnon (VmRSS ${fmt(byKind[k].idleRssMiB, 1)} MiB; a bare node process: ${fmt(startup?.median?.nodeFloorRssMiB, 1)} MiB)`,
      idle === undefined || idle === null ? null : idle <= TARGETS.idleAnonMiB,
    );
    const settled = byKind[k].settledAnonMiB;
    add(
      `private memory ≤ ${TARGETS.settledAnonFactor}× idle ${SETTLE_S} s after 10 MB each way (${LABEL[k]})`,
      `${fmt(settled, 1)} MiB (${fmt(settled / idle, 2)}× idle)`,
      settled === undefined || settled === null || !SETTLE_S ? null : settled <= idle * TARGETS.settledAnonFactor,
    );
    // The task is sized for every bridge at this peak with the largest message it accepts; a
    // message of BYTES must stay within the bound for BYTES.
    const peak = byKind[k].peakAnonMiB;
    const bound = bridgePeakMiB(BYTES);
    add(
      `peak private memory ≤ ${bound} MiB with ${BYTES / 1e6} MB each way (${LABEL[k]}; the constructs' sizing)`,
      `${fmt(peak, 1)} MiB`,
      peak === undefined || peak === null ? null : peak <= bound,
    );
  }
  if (byKind.sdk) {
    for (const k of bridges) {
      const b = byKind[k];
      const sdk = byKind.sdk;
      const faster = b.upMBps > sdk.upMBps && b.downMBps > sdk.downMBps;
      add(`throughput better than SDK (${LABEL[k]})`, `up ${fmt(b.upMBps)} vs ${fmt(sdk.upMBps)}, down ${fmt(b.downMBps)} vs ${fmt(sdk.downMBps)} MB/s`, sdk.upMBps === undefined ? null : faster);
      const ok = b.latencyP50Ms <= sdk.latencyP50Ms * (1 + TARGETS.latencyTolerance);
      add(`latency p50 no worse than SDK, ±${TARGETS.latencyTolerance * 100}% (${LABEL[k]})`, `${fmt(b.latencyP50Ms)} vs ${fmt(sdk.latencyP50Ms)} ms (p99 ${fmt(b.latencyP99Ms)} vs ${fmt(sdk.latencyP99Ms)})`, sdk.latencyP50Ms === undefined ? null : ok);
    }
  }
  return v;
}

// ---------------------------------------------------------------- main

async function main() {
  const started = performance.now();
  const mach = machine();
  log(`bench: ${mach.nproc} CPU(s), ${mach.cpuModel}, node ${mach.node}; bridge ${BRIDGE}; work dir ${work}`);
  const loadBefore = await othersBusy();
  const emu = await startEmulator();
  log(`bench: emulator on ${emu.url}`);

  const sessions = [];
  let startup;
  const loadDuring = [];
  let naive;
  try {
    log(`bench: start-up, ${STARTUP_TRIALS} trials`);
    startup = await measureStartup(emu);
    // One unrecorded session first, so no transport meets a cold emulator.
    log('bench: warm-up session (not recorded)');
    const warm = await runSession(emu, TRANSPORTS.find((t) => t !== 'direct') ?? TRANSPORTS[0], -1);
    if (warm.error) throw new Error(`the warm-up session failed: ${warm.error}`);
    for (let rep = 0; rep < REPS; rep++) {
      // Interleaved, and rotated each repetition, so slow phases of the machine hit all alike.
      const order = TRANSPORTS.map((_, i) => TRANSPORTS[(i + rep) % TRANSPORTS.length]);
      for (const kind of order) {
        const t0 = performance.now();
        const r = await runSession(emu, kind, rep);
        sessions.push(r);
        log(
          `bench: rep ${rep + 1}/${REPS} ${LABEL[kind].padEnd(13)} ${r.error ? `FAILED: ${r.error}` : `p50 ${fmt(r.latencyP50Ms)} ms, up ${fmt(r.upMBps)} MB/s, down ${fmt(r.downMBps)} MB/s, burst ${fmt(r.burstMs, 0)} ms`} (${fmt((performance.now() - t0) / 1000, 1)} s)`,
        );
      }
      // Between repetitions, never during one: what else is using the CPU.
      loadDuring.push(await othersBusy());
    }
    if (TRANSPORTS.includes('sdk')) {
      log('bench: naive SDK relay (no coalescing, no pacing), one 10 MB upload');
      naive = await naiveSdkCheck(emu);
    }
  } finally {
    await emu.stop();
  }
  const loadAfter = await othersBusy();

  const byKind = summarize(sessions);
  const v = verdicts(byKind, startup, sessions);
  const result = {
    when: new Date().toISOString(),
    durationS: round((performance.now() - started) / 1000, 1),
    machine: { ...mach, othersBefore: loadBefore, othersDuring: loadDuring, othersAfter: loadAfter },
    settings: { bridge: BRIDGE, bridgeEnv: BRIDGE_ENV, bridgeNodeArgs: BRIDGE_NODE_ARGS, reps: REPS, samples: SAMPLES, warmup: WARMUP, bytes: BYTES, burst: BURST, startupTrials: STARTUP_TRIALS, transports: TRANSPORTS, ceilingMBps: CEILING_MBPS, targets: TARGETS },
    startup,
    naiveSdkRelay: naive,
    medians: byKind,
    targets: v,
    sessions,
  };
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);

  const lines = [];
  lines.push(`machine: nproc ${mach.nproc}, ${mach.cpuModel}, node ${mach.node}, ${mach.platform}`);
  lines.push(`load: before ${loadBefore.loadavg.join(' ')}, after ${loadAfter.loadavg.join(' ')}; other busy processes: ${describeOthers([loadBefore, ...loadDuring, loadAfter])}`);
  lines.push(`medians of ${REPS} interleaved repetitions; latency over ${SAMPLES} round trips each (after ${WARMUP} warm-up, ${GAP_MS} ms apart)`);
  lines.push('');
  lines.push(table(byKind));
  lines.push('');
  const sm = startup.median;
  lines.push(
    `start-up (median of ${STARTUP_TRIALS}): spawn → initialize answered ${fmt(sm.bridgeInitializeMs, 0)} ms ` +
      `(VmRSS then ${fmt(sm.bridgeRssAtInitializeMiB, 1)} MiB, private ${fmt(sm.bridgeAnonAtInitializeMiB, 1)}); bridge --version ${fmt(sm.bridgeVersionMs, 0)} ms\n` +
      `  floor: a bare node answering its first line ${fmt(sm.nodeFloorInitializeMs, 0)} ms (VmRSS ${fmt(sm.nodeFloorRssMiB, 1)} MiB, private ${fmt(sm.nodeFloorAnonMiB, 1)}); node -e 0 ${fmt(sm.nodeEmptyMs, 0)} ms`,
  );
  if (naive) {
    lines.push(
      `naive SDK relay (each stdin chunk sent at once, no pacing), ${BYTES / 1e6} MB up: ${naive.survived ? `survived, ${fmt(naive.upMBps)} MB/s` : 'FAILED'}; ` +
        `${naive.clientFrames} frames, max ${naive.maxClientFramesPerSecond}/s; closes: ${naive.closes.join(', ')}`,
    );
  }
  lines.push('');
  const wT = Math.max(...v.map((x) => x.target.length)) + 2;
  for (const x of v) lines.push(`${x.result.padEnd(5)} ${x.target.padEnd(wT)}${x.measured}`);
  const failures = sessions.filter((s) => s.error);
  if (failures.length) {
    lines.push('');
    for (const f of failures) lines.push(`FAILED ${LABEL[f.kind]} rep ${f.rep + 1}: ${f.error}`);
  }
  lines.push('');
  lines.push(`results: ${OUT} (${round((performance.now() - started) / 1000, 0)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exitCode = failures.length ? 1 : 0;
}

function describeOthers(samples) {
  const seen = new Map();
  for (const s of samples) {
    for (const b of s?.busy ?? []) {
      const key = b.cmd.split(' ').slice(0, 3).join(' ');
      seen.set(key, Math.max(b.cpuPercent, seen.get(key) ?? 0));
    }
  }
  if (seen.size === 0) return 'none over 5% of a core';
  return [...seen].map(([cmd, cpu]) => `${cmd} (${cpu}%)`).join('; ');
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
}).finally(() => {
  killAll();
});
