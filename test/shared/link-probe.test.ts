import { LINK_PROBE_METHOD, MAX_LINK_MESSAGE_BYTES, probeLimit } from '../../shared/link/link-probe';

const probe = (params: unknown) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'oab-1', method: LINK_PROBE_METHOD, params }));

describe('probeLimit', () => {
  test('is the limit the probing bridge announces', () => {
    expect(probeLimit(probe({ framedVersion: 1, maxMessageBytes: 1_048_576 }))).toBe(1_048_576);
    expect(probeLimit(probe({ maxMessageBytes: MAX_LINK_MESSAGE_BYTES }))).toBe(MAX_LINK_MESSAGE_BYTES);
  });

  test('is nothing for a probe that does not say, or says something the link cannot carry', () => {
    expect(probeLimit(probe({ framedVersion: 1 }))).toBeUndefined();
    expect(probeLimit(probe({ maxMessageBytes: MAX_LINK_MESSAGE_BYTES + 1 }))).toBeUndefined();
    expect(probeLimit(probe({ maxMessageBytes: 0 }))).toBeUndefined();
    expect(probeLimit(probe({ maxMessageBytes: '1048576' }))).toBeUndefined();
    expect(probeLimit(Buffer.from(`{"method":"${LINK_PROBE_METHOD}"`))).toBeUndefined();
  });
});
