import { bridgePeakMiB, requiredTaskMemoryMiB } from '../../lib/render/task-memory';

const MiB = 1024 * 1024;

describe('task memory', () => {
  test('a bridge at its peak grows with the largest message it accepts', () => {
    expect(bridgePeakMiB(16 * MiB)).toBe(120);
    expect(bridgePeakMiB(1 * MiB)).toBe(45);
    expect(bridgePeakMiB(64 * MiB)).toBe(360);
  });

  test('the task holds every session at its peak plus OAB', () => {
    // The defaults: 10 sessions of 16 MiB messages need more than 1 GiB.
    expect(requiredTaskMemoryMiB(10, 16 * MiB)).toBe(128 + 48 + 1200);
    expect(requiredTaskMemoryMiB(1, 16 * MiB)).toBe(128 + 48 + 120);
  });
});
