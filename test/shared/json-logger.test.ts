import { createJsonLogger } from '../../shared/json-logger';

function capture(level: 'error' | 'warn' | 'info' | 'debug', base?: Record<string, unknown>) {
  const lines: string[] = [];
  const log = createJsonLogger({ level, base, sink: (l) => lines.push(l) });
  return { log, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), lines };
}

describe('createJsonLogger', () => {
  test('one JSON object per line: time, level, event, the base fields, then the event fields', () => {
    const c = capture('info', { component: 'acp-session' });
    c.log.info('agent-start', { pid: 42, skipped: undefined });
    expect(c.lines).toHaveLength(1);
    expect(c.lines[0].endsWith('}\n')).toBe(true);
    const [r] = c.records();
    expect(Object.keys(r)).toEqual(['time', 'level', 'event', 'component', 'pid']);
    expect(r).toMatchObject({ level: 'info', event: 'agent-start', component: 'acp-session', pid: 42 });
  });

  test('levels below the configured one are dropped', () => {
    const c = capture('warn');
    c.log.debug('d');
    c.log.info('i');
    c.log.warn('w');
    c.log.error('e');
    expect(c.records().map((r) => r.event)).toEqual(['w', 'e']);
  });

  test('values of keys that name a secret are redacted; names of things are not', () => {
    const c = capture('debug');
    c.log.info('api-key.fetched', {
      credentialProvider: 'kiro-key',
      workloadName: 'w',
      credentials: { secretAccessKey: 'x' },
      sessionToken: 't',
      clientSecret: 's',
      authorization: 'AWS4-HMAC-SHA256 …',
      apiKey: 'in KIRO_API_KEY',
    });
    expect(c.records()[0]).toMatchObject({
      credentialProvider: 'kiro-key',
      workloadName: 'w',
      credentials: '[redacted]',
      sessionToken: '[redacted]',
      clientSecret: '[redacted]',
      authorization: '[redacted]',
      apiKey: 'in KIRO_API_KEY',
    });
  });
});
