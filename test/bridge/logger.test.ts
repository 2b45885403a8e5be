import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../bridge/src/logger';

describe('createLogger', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'logger-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const records = (file: string) => readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

  test('fields given as a function are made only when their level is logged', () => {
    const file = join(dir, 'info.log');
    const log = createLogger('info', file);
    let made = 0;
    const fields = () => {
      made++;
      return { message: 'contents' };
    };
    log.debug('client-message', fields);
    expect(made).toBe(0);
    log.info('shown', fields);
    expect(made).toBe(1);
    expect(records(file)).toEqual([expect.objectContaining({ level: 'info', event: 'shown', message: 'contents' })]);
  });

  test('secret-looking keys are redacted, from made fields too', () => {
    const file = join(dir, 'debug.log');
    const log = createLogger('debug', file);
    log.debug('a', () => ({ sessionToken: 'abc', bytes: 3 }));
    log.info('b', { authorization: 'AWS4-HMAC-SHA256 …' });
    expect(records(file).map(({ sessionToken, authorization, bytes }) => ({ sessionToken, authorization, bytes }))).toEqual([
      { sessionToken: '[redacted]', authorization: undefined, bytes: 3 },
      { sessionToken: undefined, authorization: '[redacted]', bytes: undefined },
    ]);
  });
});
