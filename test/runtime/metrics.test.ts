import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { markBusy } from '../../runtimes/src/busy';
import { PingState, startContractServer } from '../../runtimes/src/contract-server';
import { createLogger, UNNAMED_RUNTIME } from '../../runtimes/src/log';
import { drainMetricSpool, MAX_SPOOLED, MAX_SPOOLED_BYTES, spoolMetricLine } from '../../runtimes/src/metrics-spool';
import { resolvePaths } from '../../runtimes/src/paths';
import { StateSync } from '../../runtimes/src/state-sync';
import { fetchAgentApiKey } from '../../runtimes/src/token-vault';
import { ENV_RUNTIME_NAME } from '../../shared/contract/runtime-env';
import { scratchDir } from '../support/runtime/programs';
import { createDb, requireSqlite3 } from '../support/runtime/sqlite';
import { emfProblems } from '../support/emf-spec';

/** A logger as the image's programs make it, its lines kept. */
function capture(env: Record<string, string | undefined> = { [ENV_RUNTIME_NAME]: 'kiro_agent' }) {
  const lines: string[] = [];
  const log = createLogger('test', (l) => lines.push(l), env);
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  /** The line of the first record `pick` takes. */
  const lineOf = (pick: (r: Record<string, unknown>) => boolean) => lines[records().findIndex(pick)];
  return { log, lines, records, lineOf };
}

describe('runtime metrics', () => {
  let scratch: ReturnType<typeof scratchDir>;
  beforeEach(() => (scratch = scratchDir('runtime-metrics')));
  afterEach(() => scratch.remove());

  test('every record names the runtime from OPENAB_RUNTIME_NAME, or says it is unnamed', () => {
    const named = capture();
    named.log.info('x');
    expect(named.records()[0].Runtime).toBe('kiro_agent');
    const unnamed = capture({});
    unnamed.log.info('x');
    expect(unnamed.records()[0].Runtime).toBe(UNNAMED_RUNTIME);
  });

  test('a busy stretch that ends is measured by the pings that saw it', () => {
    const s = new PingState(0);
    expect(s.observe(true, 10_000).busyMs).toBeUndefined();
    expect(s.observe(true, 20_000).busyMs).toBeUndefined();
    expect(s.observe(false, 32_500).busyMs).toBe(22_500);
    expect(s.observe(false, 40_000).busyMs).toBeUndefined();
  });

  test('the key fetch records its outcome as a metric', async () => {
    const { log, records, lineOf } = capture();
    const status = await fetchAgentApiKey({ env: {}, log, keyFile: join(scratch.dir, 'k'), statusFile: join(scratch.dir, 's.json') });
    expect(status.state).toBe('not-configured');
    const rec = records().find((r) => r.event === 'api-key.not-configured')!;
    expect(rec).toMatchObject({ ApiKeyFetches: 1, Outcome: 'not_configured' });
    expect(emfProblems(lineOf((r) => r.event === 'api-key.not-configured'))).toEqual([]);
  });

  describe('the metric spool', () => {
    test('takes only records with metrics, hands them on oldest first and deletes them', () => {
      const dir = join(scratch.dir, 'metrics');
      expect(spoolMetricLine(dir, '{"event":"plain"}\n')).toBe(false);
      expect(spoolMetricLine(dir, '{"_aws":{},"n":2,"Runtime":"unnamed"}\n', 2_000)).toBe(true);
      expect(spoolMetricLine(dir, '{"_aws":{},"n":1}\n', 1_000)).toBe(true);
      expect(spoolMetricLine(dir, '"_aws" but not an object\n', 3_000)).toBe(true);
      const out: string[] = [];
      // The server names the runtime: the launcher's shell may not know it.
      expect(drainMetricSpool(dir, (l) => out.push(l), { Runtime: 'kiro_agent' })).toBe(2);
      expect(out).toEqual(['{"_aws":{},"n":1,"Runtime":"kiro_agent"}\n', '{"_aws":{},"n":2,"Runtime":"kiro_agent"}\n']);
      expect(readdirSync(dir)).toEqual([]);
      expect(drainMetricSpool(join(scratch.dir, 'missing'), () => undefined)).toBe(0);
    });

    test(`holds at most ${MAX_SPOOLED} records and no record longer than its limit`, () => {
      const dir = join(scratch.dir, 'metrics');
      for (let i = 0; i < MAX_SPOOLED; i++) expect(spoolMetricLine(dir, `{"_aws":{},"i":${i}}\n`)).toBe(true);
      expect(spoolMetricLine(dir, '{"_aws":{},"i":"one too many"}\n')).toBe(false);
      expect(readdirSync(dir)).toHaveLength(MAX_SPOOLED);
      expect(spoolMetricLine(join(scratch.dir, 'other'), `{"_aws":{},"pad":"${'x'.repeat(10_000)}"}\n`)).toBe(false);
      // The limit itself is a whole record's bytes, newline included.
      const padded = (bytes: number) => `{"_aws":{},"pad":"${'x'.repeat(bytes - '{"_aws":{},"pad":""}\n'.length)}"}\n`;
      expect(spoolMetricLine(join(scratch.dir, 'at-limit'), padded(MAX_SPOOLED_BYTES))).toBe(true);
      expect(spoolMetricLine(join(scratch.dir, 'over-limit'), padded(MAX_SPOOLED_BYTES + 1))).toBe(false);
    });
  });

  test('the contract server writes the busy time of each stretch and moves spooled records to its output', async () => {
    const env = { OPENAB_STATE_DIR: join(scratch.dir, 'state'), [ENV_RUNTIME_NAME]: 'kiro_agent' };
    const paths = resolvePaths(env);
    const { log, records, lineOf } = capture();
    const moved: string[] = [];
    const server = await startContractServer({ host: '127.0.0.1', port: 0, log, paths, env, fetchApiKey: false, metricSink: (l) => moved.push(l) });
    const agent = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const ping = async () => ((await (await fetch(`http://127.0.0.1:${server.port}/ping`)).json()) as { status: string }).status;
      const clear = markBusy(agent.pid, paths.busyDir);
      expect(await ping()).toBe('HealthyBusy');
      await new Promise((r) => setTimeout(r, 120));
      clear();
      spoolMetricLine(paths.metricsDir, '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"event":"state-sync.write-back","Runtime":"unnamed"}\n');
      expect(await ping()).toBe('Healthy');
      const ended = records().find((r) => r.event === 'ping.status-changed' && r.status === 'Healthy')!;
      expect(ended.BusyTime).toBeGreaterThanOrEqual(0.1);
      expect(emfProblems(lineOf((r) => r.event === 'ping.status-changed' && r.status === 'Healthy'))).toEqual([]);
      expect(moved).toEqual(['{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"event":"state-sync.write-back","Runtime":"kiro_agent"}\n']);
    } finally {
      agent.kill('SIGKILL');
      await server.close();
    }
  });

  test('the contract server moves what is still spooled when it closes', async () => {
    const env = { OPENAB_STATE_DIR: join(scratch.dir, 'state'), [ENV_RUNTIME_NAME]: 'kiro_agent' };
    const paths = resolvePaths(env);
    const moved: string[] = [];
    const server = await startContractServer({ host: '127.0.0.1', port: 0, log: capture().log, paths, env, fetchApiKey: false, metricSink: (l) => moved.push(l) });
    spoolMetricLine(paths.metricsDir, '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"event":"state-sync.write-back"}\n');
    expect(moved).toEqual([]);
    await server.close();
    expect(moved).toEqual(['{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"event":"state-sync.write-back","Runtime":"kiro_agent"}\n']);
    expect(readdirSync(paths.metricsDir)).toEqual([]);
  });

  test('a write-back that saves something is recorded with its outcome and duration; one that finds nothing new is not', async () => {
    const sqlite3 = requireSqlite3();
    const { log, records, lineOf } = capture();
    const local = join(scratch.dir, 'tmp', 'data.sqlite3');
    const sync = new StateSync({ persistentPath: join(scratch.dir, 'mnt', 'data.sqlite3'), localPath: local, sqlite3, log });
    await sync.copyIn();
    createDb(local, 3, 'delete');
    expect((await sync.writeBack()).outcome).toBe('written');
    expect((await sync.writeBack()).outcome).toBe('unchanged');
    const measured = records().filter((r) => r.event === 'state-sync.write-back');
    expect(measured).toHaveLength(1);
    expect(measured[0]).toMatchObject({ outcome: 'written', Outcome: 'written', StateWriteBacks: 1 });
    expect(measured[0].StateWriteBackDuration).toEqual(measured[0].durationMs);
    expect(emfProblems(lineOf((r) => r.event === 'state-sync.write-back'))).toEqual([]);
  });
});
