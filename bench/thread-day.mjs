#!/usr/bin/env node
// A scripted thread-day on a compressed clock: what an idle thread costs in microVM time.
// See bench/README.md ("Thread-day").
//
//   node bench/thread-day.mjs [--threads 2] [--prompts 8] [--hours 4] [--hour-ms 12000]
//                             [--vm-gb 1] [--out bench/thread-day.json]
//
// Two AgentCore emulators run side by side with AgentCore's default lifecycle scaled down
// (idle timeout 15 minutes, maximum lifetime 8 hours): one as the runtime behaved before
// (busy whenever the agent's shell lives; the bridge never lets go), one as it does now
// (busy only while a turn is in flight; the bridge lets go of an idle shell). The same
// threads run against both: a bridge per thread, framed mode under the runtime's launcher,
// `--prompts` prompts spread evenly over `--hours`. Each runtime session's microVM time is
// measured from the emulator's start and reap times, until every microVM is gone.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulator as startEmulatorProcess } from './lib/emulator.mjs';
import { Peer } from './lib/peer.mjs';

const { values: opt } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    prompts: { type: 'string', default: '8' },
    hours: { type: 'string', default: '4' },
    'hour-ms': { type: 'string', default: '12000' },
    'vm-gb': { type: 'string', default: '1' },
    out: { type: 'string' },
  },
  strict: true,
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = process.execPath;
const BRIDGE = join(ROOT, 'dist', 'bridge.js');
const EMULATOR = join(ROOT, 'dist', 'test', 'emulator.js');
const AGENT = join(ROOT, 'dist', 'test', 'acp-agent.mjs');
const LAUNCHER = join(ROOT, 'runtimes', 'app', 'acp-session.js');
const OUT = opt.out ?? join(ROOT, 'bench', 'thread-day.json');

const THREADS = positive('threads');
const PROMPTS = positive('prompts');
const HOURS = positive('hours');
/** Real milliseconds per simulated hour. */
const HOUR_MS = positive('hour-ms');
/** Memory billed for an idle microVM, for the cost estimate (the agent's resident set). */
const VM_GB = Number(opt['vm-gb']);
/** Published AgentCore Runtime prices (us-east-1): memory per GB-hour, CPU per vCPU-hour. */
const PRICE_GB_HOUR = 0.00945;
const PRICE_VCPU_HOUR = 0.0895;

const sim = (minutes) => Math.round((minutes / 60) * HOUR_MS);
/** AgentCore's defaults: idle timeout 15 minutes, maximum lifetime 8 hours. */
const IDLE_TIMEOUT_MS = sim(15);
const MAX_LIFETIME_MS = sim(8 * 60);
/** One turn of the agent: two simulated minutes. */
const TURN_MS = sim(2);
/** The bridge's --idle-detach takes whole seconds: the shortest it can be here. */
const IDLE_DETACH_S = 1;

const work = mkdtempSync(join(tmpdir(), 'openab-thread-day-'));
/** What the runtime image installs as /app/bin/acp-session, pointing at this node. */
const launcher = join(work, 'acp-session');
writeFileSync(launcher, `#!/bin/sh\nexec ${NODE} ${LAUNCHER} "$@"\n`, { mode: 0o755 });
const children = new Set();
const log = (s) => process.stderr.write(`${s}\n`);

function positive(name) {
  const n = Number(opt[name]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${opt[name]}`);
  return n;
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function startEmulator(name, busy) {
  const args = ['--idle-timeout-ms', String(IDLE_TIMEOUT_MS), '--max-lifetime-ms', String(MAX_LIFETIME_MS), '--busy', busy];
  return { name, ...(await startEmulatorProcess({ node: NODE, emulator: EMULATOR, stateDir: join(work, name), home: work, args, track })) };
}

function spawnBridge(emu, mode, n) {
  const child = track(
    spawn(NODE, [
      BRIDGE,
      '--runtime-arn', emu.runtimeArn,
      '--endpoint-url', emu.url,
      '--shell-command', `OPENAB_AGENT_LOG=${join(work, `${mode}-launcher.log`)} ${NODE} ${AGENT}`,
      '--launcher', launcher,
      '--log-file', join(work, `${mode}-bridge-${n}.log`),
      '--idle-detach', mode === 'before' ? '0' : String(IDLE_DETACH_S),
    ], {
      env: { HOME: work, PATH: '/usr/local/bin:/usr/bin:/bin', AWS_ACCESS_KEY_ID: emu.accessKeyId, AWS_SECRET_ACCESS_KEY: emu.secretAccessKey, AWS_REGION: emu.region },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  child.stderr.resume();
  return new Peer(`${mode}-${n}`, child);
}

/** One thread: a session, then PROMPTS turns evenly spread over HOURS, starting `offsetMs` in. */
async function runThread(emu, mode, n, offsetMs) {
  const spacing = (HOURS * HOUR_MS) / PROMPTS;
  const peer = spawnBridge(emu, mode, n);
  const answers = [];
  await sleep(offsetMs);
  await peer.request('initialize', { protocolVersion: 1, clientCapabilities: {} });
  const { msg } = await peer.request('session/new', { cwd: '/tmp', mcpServers: [] }, 60_000);
  const sessionId = msg.result.sessionId;
  const start = performance.now();
  for (let i = 0; i < PROMPTS; i++) {
    await sleep(Math.max(0, start + i * spacing - performance.now()));
    const t0 = performance.now();
    const r = await peer.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: `sleep ${TURN_MS}` }] }, 60_000);
    answers.push({ ms: Math.round(performance.now() - t0), stopReason: r.msg.result?.stopReason });
  }
  // OAB keeps the bridge process for the thread until its session TTL: it stays, idle.
  return { peer, runtimeSessionId: `openab-agentcore-${sessionId.split('.')[1]}`, answers };
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function untilAllReaped(emu, deadlineMs) {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const s = await emu.stats();
    if (s.lifetimes.length > 0 && s.lifetimes.every((l) => l.endedAt !== null)) return s;
    if (performance.now() > deadline) return s;
    await sleep(250);
  }
}

async function runMode(mode) {
  const emu = await startEmulator(mode, mode === 'before' ? 'shells' : 'turns');
  const threads = await Promise.all(Array.from({ length: THREADS }, (_, n) => runThread(emu, mode, n, n * sim(7))));
  const stats = await untilAllReaped(emu, MAX_LIFETIME_MS + 15_000);
  const now = Date.now();
  const perThread = threads.map((t) => {
    const lives = stats.lifetimes.filter((l) => l.sessionId === t.runtimeSessionId);
    const ms = lives.reduce((sum, l) => sum + ((l.endedAt ?? now) - l.startedAt), 0);
    const answerMs = t.answers.map((a) => a.ms - TURN_MS);
    return {
      microVms: lives.length,
      microVmHours: ms / HOUR_MS,
      stillRunning: lives.some((l) => l.endedAt === null),
      turnsOk: t.answers.filter((a) => a.stopReason === 'end_turn').length,
      // What the user waits beyond the turn itself (start-up after a reap, reattach), real ms.
      overheadMs: { first: answerMs[0], medianLater: median(answerMs.slice(1)), maxLater: Math.max(...answerMs.slice(1)) },
    };
  });
  await Promise.all(threads.map((t) => t.peer.close()));
  await emu.stop();
  return { mode, perThread };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

function cost(hours) {
  return hours * VM_GB * PRICE_GB_HOUR;
}

async function main() {
  const started = performance.now();
  log(`thread-day: ${THREADS} thread(s) × ${PROMPTS} prompts over ${HOURS} h; 1 h = ${HOUR_MS} ms; idle timeout 15 min = ${IDLE_TIMEOUT_MS} ms, max lifetime 8 h = ${MAX_LIFETIME_MS} ms`);
  const [before, after] = await Promise.all([runMode('before'), runMode('after')]);
  const avg = (r, f) => r.perThread.reduce((s, t) => s + f(t), 0) / r.perThread.length;
  const rows = [before, after].map((r) => ({
    mode: r.mode,
    microVmHoursPerThread: round(avg(r, (t) => t.microVmHours), 2),
    microVmsPerThread: round(avg(r, (t) => t.microVms), 1),
    turnsOk: r.perThread.reduce((s, t) => s + t.turnsOk, 0),
    turns: THREADS * PROMPTS,
    firstAnswerOverheadMs: Math.round(avg(r, (t) => t.overheadMs.first)),
    laterAnswerOverheadMedianMs: Math.round(avg(r, (t) => t.overheadMs.medianLater)),
    laterAnswerOverheadMaxMs: Math.max(...r.perThread.map((t) => t.overheadMs.maxLater)),
    idleMemoryCostPerThreadDayUsd: round(cost(avg(r, (t) => t.microVmHours)), 4),
  }));
  const result = {
    when: new Date().toISOString(),
    durationS: round((performance.now() - started) / 1000, 1),
    settings: { threads: THREADS, prompts: PROMPTS, hours: HOURS, hourMs: HOUR_MS, idleTimeoutMinutes: 15, maxLifetimeHours: 8, idleDetachSimMinutes: round((IDLE_DETACH_S * 1000 * 60) / HOUR_MS, 1), turnMinutes: 2, vmGb: VM_GB, priceGbHour: PRICE_GB_HOUR, priceVcpuHour: PRICE_VCPU_HOUR },
    rows,
    detail: { before, after },
  };
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  const [b, a] = rows;
  const lines = [
    `thread-day (${THREADS} threads, ${PROMPTS} prompts over ${HOURS} h, turns of 2 min; AgentCore defaults: idle timeout 15 min, max lifetime 8 h)`,
    `                                   before        after`,
    `microVM hours per thread-day   ${fmtN(b.microVmHoursPerThread, 13)}${fmtN(a.microVmHoursPerThread, 13)}`,
    `microVMs started per thread    ${fmtN(b.microVmsPerThread, 13)}${fmtN(a.microVmsPerThread, 13)}`,
    `turns answered                 ${fmtN(`${b.turnsOk}/${b.turns}`, 13)}${fmtN(`${a.turnsOk}/${a.turns}`, 13)}`,
    `first answer overhead (ms)     ${fmtN(b.firstAnswerOverheadMs, 13)}${fmtN(a.firstAnswerOverheadMs, 13)}`,
    `later answers: median / max    ${fmtN(`${b.laterAnswerOverheadMedianMs} / ${b.laterAnswerOverheadMaxMs}`, 13)}${fmtN(`${a.laterAnswerOverheadMedianMs} / ${a.laterAnswerOverheadMaxMs}`, 13)}`,
    `memory cost per thread-day     ${fmtN(`$${b.idleMemoryCostPerThreadDayUsd}`, 13)}${fmtN(`$${a.idleMemoryCostPerThreadDayUsd}`, 13)}   (at ${VM_GB} GB, $${PRICE_GB_HOUR}/GB-hour)`,
    `100 threads a day, per month   ${fmtN(`$${round(b.idleMemoryCostPerThreadDayUsd * 100 * 30, 0)}`, 13)}${fmtN(`$${round(a.idleMemoryCostPerThreadDayUsd * 100 * 30, 0)}`, 13)}`,
    '',
    `results: ${OUT} (${round((performance.now() - started) / 1000, 0)} s)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const failed = rows.some((r) => r.turnsOk !== r.turns);
  process.exitCode = failed ? 1 : 0;
}

function round(x, d) {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function fmtN(v, w) {
  return String(v).padStart(w);
}

main()
  .catch((e) => {
    process.stderr.write(`thread-day: ${e.stack ?? e.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });
