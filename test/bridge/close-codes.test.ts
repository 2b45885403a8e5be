import { classifyClose, classifyUpgradeFailure } from '../../bridge/src/shell/close-codes';

const ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a-AbCdE12345';

describe('close codes', () => {
  test.each([1001, 1006, 1008, 1009, 1011])('%i is reattached', (code) => {
    expect(classifyClose(code, '').action).toBe('reattach');
  });

  test('a frame-rate 1008 backs off before reattaching; the one-hour 1008 does not', () => {
    expect(classifyClose(1008, 'frame rate exceeded')).toMatchObject({ action: 'reattach', minDelayMs: 1000 });
    expect(classifyClose(1008, 'connection lifetime exceeded')).toMatchObject({ action: 'reattach', minDelayMs: 0 });
  });

  test('4000 and 1003 are final, with a message', () => {
    const replaced = classifyClose(4000, 'replaced');
    expect(replaced.action).toBe('fatal');
    expect(replaced.action === 'fatal' && replaced.error.code).toBe('BRIDGE_SHELL_REPLACED');
    expect(replaced.action === 'fatal' && replaced.error.message).toContain('another client attached');
    expect(classifyClose(1003, '').action).toBe('fatal');
  });

  test('1000 is the end of the stream', () => {
    expect(classifyClose(1000, '').action).toBe('ended');
  });
});

describe('upgrade failures', () => {
  test.each([
    [409, 'RetryableConflictException'],
    [409, 'ConflictException'],
    [429, 'ThrottlingException'],
    [424, 'RuntimeClientError'],
    [503, undefined],
  ])('%i %s is retried', (status, errorType) => {
    expect(classifyUpgradeFailure({ status, errorType }, ARN).retryable).toBe(true);
  });

  test('403 fails at once and names the IAM action and the runtime', () => {
    const e = classifyUpgradeFailure({ status: 403, errorType: 'AccessDeniedException', message: 'no' }, ARN);
    expect(e.retryable).toBe(false);
    expect(e.code).toBe('BRIDGE_ACCESS_DENIED');
    expect(e.message).toContain('bedrock-agentcore:InvokeAgentRuntimeCommandShell');
    expect(e.message).toContain(ARN);
  });

  test('404 and 400 fail at once with what to check', () => {
    const nf = classifyUpgradeFailure({ status: 404, errorType: 'ResourceNotFoundException' }, ARN);
    expect(nf).toMatchObject({ retryable: false, code: 'BRIDGE_RUNTIME_NOT_FOUND' });
    expect(nf.message).toContain('--runtime-arn');
    const bad = classifyUpgradeFailure({ status: 400, errorType: 'ValidationException', message: 'Session id too short' }, ARN);
    expect(bad).toMatchObject({ retryable: false, code: 'BRIDGE_INVALID_REQUEST' });
    expect(bad.message).toContain('Session id too short');
  });
});
