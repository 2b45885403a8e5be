import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createJsonLogger } from '../../shared/json-logger';
import { METRICS, METRICS_NAMESPACE, type MetricName, metricFields, RUNTIME_DIMENSION, runtimeDimension } from '../../shared/metrics';
import { turnOutcome, turnRecord } from '../../bridge/src/acp/turns';
import { emfProblems } from '../support/emf-spec';

/** One record as a program writes it: the logger's line, with `Runtime` among its base fields. */
function line(fields: Record<string, unknown>): string {
  let out = '';
  const log = createJsonLogger({ sink: (l) => (out = l), base: { pid: 42, [RUNTIME_DIMENSION]: 'kiro_agent' } });
  log.info('event', fields);
  return out;
}

const BREAKDOWN_VALUES = { Outcome: 'end_turn', Reason: 'dropped', Code: 'BRIDGE_AGENT_EXITED', Result: 'restarted' } as const;

describe('metricFields', () => {
  test.each(Object.keys(METRICS) as MetricName[])('a record carrying %s is a valid EMF document, with and without its breakdown', (name) => {
    for (const breakdown of [{}, BREAKDOWN_VALUES]) {
      const record = line(metricFields({ [name]: 7 }, breakdown, 1_700_000_000_000));
      expect(emfProblems(record)).toEqual([]);
      const doc = JSON.parse(record);
      expect(doc[name]).toBe(7);
      expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe(METRICS_NAMESPACE);
    }
  });

  test('each metric is published per runtime, and per runtime and its own breakdown only', () => {
    const doc = JSON.parse(line(metricFields({ Turns: 1, TurnDuration: 5, ReattachDelay: 9 }, { Outcome: 'cancelled', Reason: 'policy' })));
    const directives = doc._aws.CloudWatchMetrics as Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
    expect(directives).toHaveLength(2);
    const byOutcome = directives.find((d) => d.Dimensions.some((s) => s.includes('Outcome')))!;
    expect(byOutcome.Dimensions).toEqual([['Runtime'], ['Runtime', 'Outcome']]);
    expect(byOutcome.Metrics).toEqual([{ Name: 'Turns', Unit: 'Count' }, { Name: 'TurnDuration', Unit: 'Milliseconds' }]);
    const plain = directives.find((d) => d !== byOutcome)!;
    expect(plain.Dimensions).toEqual([['Runtime']]);
    expect(plain.Metrics).toEqual([{ Name: 'ReattachDelay', Unit: 'Milliseconds' }]);
    // A breakdown no metric of the record uses is not written.
    expect(doc.Reason).toBeUndefined();
    expect(doc.Outcome).toBe('cancelled');
  });

  test('values that are missing or not finite are left out, and no value leaves the record as it was', () => {
    expect(metricFields({ TurnTimeToFirstUpdate: undefined, TurnDuration: Number.NaN })).toEqual({});
    expect(Object.keys(metricFields({ Turns: 1, TurnTimeToFirstUpdate: undefined }))).not.toContain('TurnTimeToFirstUpdate');
  });

  test('the runtime dimension is the runtime name, without the suffix AgentCore adds', () => {
    expect(runtimeDimension('kiro_agent-AbCdE12345')).toBe('kiro_agent');
    expect(runtimeDimension('plain')).toBe('plain');
  });
});

describe('the EMF checker', () => {
  const valid = () => JSON.parse(line(metricFields({ Errors: 1 }, { Code: 'BRIDGE_INTERNAL' }))) as Record<string, any>;
  test('accepts what metricFields writes and refuses each broken variant', () => {
    expect(emfProblems(JSON.stringify(valid()))).toEqual([]);
    const cases: Array<[string, (d: Record<string, any>) => void, RegExp]> = [
      ['no target value', (d) => delete d.Errors, /target member "Errors" must be a number/],
      ['a string value', (d) => (d.Errors = '1'), /must be a number/],
      ['no dimension value', (d) => delete d.Runtime, /"Runtime" must be a string/],
      ['a blank dimension value', (d) => (d.Code = ' '), /printable ASCII/],
      ['ten dimension keys', (d) => (d._aws.CloudWatchMetrics[0].Dimensions = [['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']]), /more than 9/],
      ['an unknown unit', (d) => (d._aws.CloudWatchMetrics[0].Metrics[0].Unit = 'Turns'), /not a CloudWatch unit/],
      ['an extra directive member', (d) => (d._aws.CloudWatchMetrics[0].Extra = 1), /does not define: Extra/],
      ['a fractional timestamp', (d) => (d._aws.Timestamp = 1.5), /Timestamp/],
      ['no directives', (d) => delete d._aws.CloudWatchMetrics, /CloudWatchMetrics must be an array/],
      ['an empty namespace', (d) => (d._aws.CloudWatchMetrics[0].Namespace = ''), /Namespace must be a string/],
    ];
    for (const [what, breakIt, expected] of cases) {
      const doc = valid();
      breakIt(doc);
      expect({ what, problems: emfProblems(JSON.stringify(doc)).join('; ') }).toEqual({ what, problems: expect.stringMatching(expected) });
    }
    expect(emfProblems(`prefix ${JSON.stringify(valid())}`)).toContain('the event is not valid JSON');
  });
});

describe('the turn record', () => {
  test('outcomes: end_turn and cancelled by name, an error answer, anything else as other', () => {
    expect(turnOutcome({ result: { stopReason: 'end_turn' } })).toEqual({ outcome: 'end_turn', stopReason: 'end_turn' });
    expect(turnOutcome({ result: { stopReason: 'cancelled' } })).toEqual({ outcome: 'cancelled', stopReason: 'cancelled' });
    expect(turnOutcome({ result: { stopReason: 'max_tokens' } })).toEqual({ outcome: 'other', stopReason: 'max_tokens' });
    expect(turnOutcome({ error: { code: -32603, message: 'x' } })).toEqual({ outcome: 'error' });
    expect(turnOutcome({ result: null })).toEqual({ outcome: 'other' });
  });

  test('times the turn and its first update, as valid EMF', () => {
    const fields = turnRecord({ startedAt: 1_000, firstUpdateAt: 1_250 }, 'end_turn', 'end_turn', 3_000);
    expect(fields).toMatchObject({ outcome: 'end_turn', durationMs: 2_000, firstUpdateMs: 250, Turns: 1, TurnDuration: 2_000, TurnTimeToFirstUpdate: 250, Outcome: 'end_turn' });
    expect(emfProblems(line(fields))).toEqual([]);
    const silent = turnRecord({ startedAt: 1_000 }, 'error', undefined, 1_500);
    expect(silent.TurnTimeToFirstUpdate).toBeUndefined();
    expect(emfProblems(line(silent))).toEqual([]);
  });
});

test('the README lists every metric with its unit', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  for (const [name, spec] of Object.entries(METRICS)) {
    expect({ name, listed: new RegExp(`\\| \`${name}\` \\| ${spec.unit} \\|`).test(readme) }).toEqual({ name, listed: true });
  }
});
