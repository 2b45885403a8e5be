import { BridgeLogLevel, CancelStrategy } from '../../lib';
import { CANCEL_STRATEGIES, LOG_LEVELS } from '../../shared/contract/bridge-cli';

describe('the bridge option enums', () => {
  test('name exactly the cancel strategies the bridge accepts', () => {
    expect(Object.values(CancelStrategy).sort()).toEqual([...CANCEL_STRATEGIES].sort());
  });

  test('name exactly the log levels the bridge accepts', () => {
    expect(Object.values(BridgeLogLevel).sort()).toEqual([...LOG_LEVELS].sort());
  });
});
